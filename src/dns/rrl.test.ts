// Token-bucket response rate limiting with a fake clock.
import { describe, expect, it } from 'vitest';
import { RateLimiter, isLoopback, prefixKey } from './rrl.js';

const at = (): { now: () => number; advance: (ms: number) => void } => {
  let t = 0;
  return { now: () => t, advance: (ms) => { t += ms; } };
};

describe('RateLimiter', () => {
  it('allows the burst, then slips every 2nd limited reply and drops the rest', () => {
    const c = at();
    const l = new RateLimiter({ enabled: true, responsesPerSecond: 20, exemptLoopback: true }, c.now);
    const got = Array.from({ length: 30 }, () => l.check('192.0.2.1'));
    expect(got.slice(0, 20).every((d) => d === 'ok')).toBe(true);
    expect(got.slice(20)).toEqual(['drop', 'slip', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip']);
  });

  it('refills at the configured rate', () => {
    const c = at();
    const l = new RateLimiter({ enabled: true, responsesPerSecond: 10, exemptLoopback: false, slip: 0 }, c.now);
    for (let i = 0; i < 10; i++) l.check('192.0.2.1');
    expect(l.check('192.0.2.1')).toBe('drop');
    c.advance(500);
    const ok = Array.from({ length: 10 }, () => l.check('192.0.2.1')).filter((d) => d === 'ok').length;
    expect(ok).toBe(5);
  });

  it('shares a bucket per /24 and per /56, separate otherwise', () => {
    const c = at();
    const l = new RateLimiter({ enabled: true, responsesPerSecond: 1, exemptLoopback: false, slip: 0 }, c.now);
    expect(l.check('192.0.2.1')).toBe('ok');
    expect(l.check('192.0.2.200')).toBe('drop');
    expect(l.check('192.0.3.1')).toBe('ok');
    expect(l.check('2001:db8:0:ff::1')).toBe('ok');
    expect(l.check('2001:db8:0:1::2')).toBe('drop');
    expect(l.check('2001:db8:0:100::1')).toBe('ok');
  });

  it('exempts loopback when asked, and does nothing when disabled', () => {
    const c = at();
    const ex = new RateLimiter({ enabled: true, responsesPerSecond: 1, exemptLoopback: true }, c.now);
    for (let i = 0; i < 10; i++) expect(ex.check('127.0.0.1')).toBe('ok');
    for (let i = 0; i < 10; i++) expect(ex.check('::1')).toBe('ok');
    const off = new RateLimiter({ enabled: false, responsesPerSecond: 1, exemptLoopback: false }, c.now);
    for (let i = 0; i < 10; i++) expect(off.check('192.0.2.1')).toBe('ok');
  });

  it('keeps memory bounded under a spoofed-source flood', () => {
    const c = at();
    const l = new RateLimiter({ enabled: true, responsesPerSecond: 5, exemptLoopback: false }, c.now);
    for (let i = 0; i < 300_000; i++) l.check(`${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}.1`);
    expect(l.size).toBeLessThanOrEqual(100_000);
  });
});

describe('prefixes', () => {
  it('maps addresses to their client networks', () => {
    expect(prefixKey('192.0.2.77')).toBe('192.0.2');
    expect(prefixKey('::ffff:192.0.2.77')).toBe('192.0.2');
    expect(prefixKey('2001:db8:1:2300::1')).toBe('20010db8000123');
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });
});
