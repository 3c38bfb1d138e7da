import { describe, expect, it } from 'vitest';
import { DEFAULTS, mergeConfig, parseHostPort } from './config.js';
import { parseDuration } from './duration.js';

describe('config', () => {
  it.each([
    ['250ms', 250], ['1s', 1000], ['1.5s', 1500], ['5m', 300_000], ['1h', 3_600_000], ['2', 2000], [3, 3000], ['soon', null], ['-1s', null],
  ] as const)('duration %j → %j', (v, ms) => expect(parseDuration(v)).toBe(ms));

  it.each([
    ['127.0.0.1:53', { address: '127.0.0.1', port: 53 }],
    ['[::1]:5353', { address: '::1', port: 5353 }],
    ['localhost:0', { address: '127.0.0.1', port: 0 }],
  ])('host:port %s', (s, want) => expect(parseHostPort(s, 'listen')).toEqual(want));

  it.each([
    [{ listen: ['nope'] }, /listen "nope" is not ADDRESS:PORT/],
    [{ listen: ['1.2.3.4:70000'] }, /not ADDRESS:PORT/],
    [{ zone: 'local' }, /reserved for mDNS/],
    [{ source: 'magic' }, /source must be one of/],
    [{ interval: '0s' }, /interval must be a duration/],
    [{ interval: '30d' }, /at most 24d/],
    [{ reconcile: 3_600_000 }, /at most 24d/],
    [{ ttl: -1 }, /ttl must be an integer/],
    [{ rrl: { responsesPerSecond: 0 } }, /rrl.responsesPerSecond/],
    [{ ebpf: { hooks: 'all' } }, /ebpf.hooks must be a list/],
    [{ colour: 'blue' }, /unknown config key "colour"/],
  ])('rejects %j', (over, msg) => {
    expect(() => mergeConfig(DEFAULTS, over)).toThrow(msg);
  });

  it('merges without touching the defaults', () => {
    const c = mergeConfig(DEFAULTS, { listen: ['[::1]:53'], rrl: { enabled: false }, interval: '1h' });
    expect(c.listen).toEqual(['[::1]:53']);
    expect(c.rrl).toEqual({ ...DEFAULTS.rrl, enabled: false });
    expect(c.intervalMs).toBe(3_600_000);
    expect(DEFAULTS.rrl.enabled).toBe(true);
  });
});
