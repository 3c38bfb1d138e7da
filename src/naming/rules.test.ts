import { describe, expect, it } from 'vitest';
import { applyRules, compileRules } from './rules.js';

const subject = { comm: 'nginx', exe: '/usr/sbin/nginx', port: 80, proto: 'tcp' as const, uid: 33 };

describe('rules', () => {
  it('first matching rule wins per field', () => {
    const rules = compileRules([
      { match: { comm: 'ngi*' }, name: 'web' },
      { match: { port: 80 }, name: 'other', type: 'http-alt' },
      { match: { uid: 0 }, ignore: true },
    ]);
    expect(applyRules(rules, subject)).toEqual({ name: 'web', type: 'http-alt', ignore: false });
    expect(applyRules(rules, { ...subject, uid: 0, comm: 'x', port: 1 })).toEqual({ ignore: true });
  });

  it('matches exe globs, proto and uid exactly', () => {
    const rules = compileRules([{ match: { exe: '/usr/sbin/*', proto: 'udp' }, ignore: true }]);
    expect(applyRules(rules, subject).ignore).toBe(false);
    expect(applyRules(rules, { ...subject, proto: 'udp' }).ignore).toBe(true);
  });

  it('globs are anchored and escape regex characters', () => {
    const rules = compileRules([{ match: { comm: 'a.b' }, name: 'x' }]);
    expect(applyRules(rules, { ...subject, comm: 'axb' }).name).toBeUndefined();
    expect(applyRules(rules, { ...subject, comm: 'a.b' }).name).toBe('x');
  });

  it.each([
    [{ match: {}, name: 'Bad Name' }, /not a DNS label/],
    [{ match: {}, type: 'way-too-long-type-name' }, /not a service type/],
    [{ name: 'x' }, /needs a "match" object/],
  ])('rejects %j with a coded error', (rule, msg) => {
    expect(() => compileRules([rule as never])).toThrow(msg);
    try { compileRules([rule as never]); } catch (e) { expect((e as { code: string }).code).toBe('BS_CONFIG_INVALID'); }
  });
});
