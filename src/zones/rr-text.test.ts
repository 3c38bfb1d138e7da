import { describe, expect, it } from 'vitest';
import { BindsightError } from '../errors.js';
import type { RR } from '../dns/records.js';
import { formatRR, nameToLabels, rr, ZoneParseError } from './rr-text.js';

const txt = (...s: string[]) => ({ type: 'TXT' as const, strings: s.map((x) => Buffer.from(x, 'latin1')) });

describe('rr(): one record per zone-file line', () => {
  const cases: [string, RR][] = [
    ['api.svc.local. 5 IN SRV 0 0 8080 api.svc.local.',
      { name: 'api.svc.local', ttl: 5, data: { type: 'SRV', priority: 0, weight: 0, port: 8080, target: 'api.svc.local' } }],
    ['a.example.org. 5 IN A 10.0.0.1', { name: 'a.example.org', ttl: 5, data: { type: 'A', address: '10.0.0.1' } }],
    ['a. 5 IN AAAA 2001:DB8:0:0:0:0:0:1', { name: 'a', ttl: 5, data: { type: 'AAAA', address: '2001:db8::1' } }],
    ['a. 5 IN AAAA ::ffff:1.2.3.4', { name: 'a', ttl: 5, data: { type: 'AAAA', address: '::ffff:102:304' } }],
    ['Mixed.Case. 1 NS ns.Example.', { name: 'Mixed.Case', ttl: 1, data: { type: 'NS', target: 'ns.Example' } }],
    ['a. 1 CNAME b.', { name: 'a', ttl: 1, data: { type: 'CNAME', target: 'b' } }],
    ['1.0.0.127.in-addr.arpa. 1 PTR localhost.', { name: '1.0.0.127.in-addr.arpa', ttl: 1, data: { type: 'PTR', target: 'localhost' } }],
    ['a. 1 MX 10 mail.a.', { name: 'a', ttl: 1, data: { type: 'MX', preference: 10, exchange: 'mail.a' } }],
    ['a. 1 TXT "x y" z', { name: 'a', ttl: 1, data: txt('x y', 'z') }],
    ['a. 1 TXT "say \\"hi\\"" \\065\\066 "\\;" ""', { name: 'a', ttl: 1, data: txt('say "hi"', 'AB', ';', '') }],
    ['a. 1 TXT "\\255\\000"', { name: 'a', ttl: 1, data: txt('\xff\x00') }],
    ['a. 1 HINFO "ARM" Linux', { name: 'a', ttl: 1, data: { type: 'HINFO', cpu: 'ARM', os: 'Linux' } }],
    ['a. 1 SOA ns.a. host.a. 2024010101 1h 15m 1w 1d',
      { name: 'a', ttl: 1, data: { type: 'SOA', mname: 'ns.a', rname: 'host.a', serial: 2024010101, refresh: 3600, retry: 900, expire: 604800, minimum: 86400 } }],
    ['a. 1 TYPE65280 \\# 3 abcdef', { name: 'a', ttl: 1, data: { type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.from('abcdef', 'hex') } }],
    ['a. 1 TYPE65280 \\# 4 ab cd ( ef 01 )', { name: 'a', ttl: 1, data: { type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.from('abcdef01', 'hex') } }],
    ['a. 1 TYPE65280 \\# 0', { name: 'a', ttl: 1, data: { type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.alloc(0) } }],
    // RFC 3597 §5: a known type in generic form is the same record.
    ['a. 1 TYPE1 \\# 4 0a000001', { name: 'a', ttl: 1, data: { type: 'A', address: '10.0.0.1' } }],
    ['a. 1 A \\# 4 0a000001', { name: 'a', ttl: 1, data: { type: 'A', address: '10.0.0.1' } }],
    ['a. 1 TYPE1 10.0.0.1', { name: 'a', ttl: 1, data: { type: 'A', address: '10.0.0.1' } }],
    ['a. 1 MX \\# 6 000a 026d7800',
      { name: 'a', ttl: 1, data: { type: 'MX', preference: 10, exchange: 'mx' } }],
    ['a. 1 TXT \\# 6 02686902796f', { name: 'a', ttl: 1, data: txt('hi', 'yo') }],
    ['a. 1 AAAA \\# 16 20010db8000000000000000000000001', { name: 'a', ttl: 1, data: { type: 'AAAA', address: '2001:db8::1' } }],
    // TTL and class in either order, optional; CLASSn.
    ['a. IN 7 A 1.2.3.4', { name: 'a', ttl: 7, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. 7 CLASS1 A 1.2.3.4', { name: 'a', ttl: 7, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. 7 CH A 1.2.3.4', { name: 'a', ttl: 7, class: 3, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. CLASS9 7 A 1.2.3.4', { name: 'a', ttl: 7, class: 9, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. A 1.2.3.4', { name: 'a', ttl: 3600, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. 1h30m A 1.2.3.4', { name: 'a', ttl: 5400, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. 1W2D3H4M5S A 1.2.3.4', { name: 'a', ttl: 788645, data: { type: 'A', address: '1.2.3.4' } }],
    ['a. 2147483647 A 1.2.3.4', { name: 'a', ttl: 2147483647, data: { type: 'A', address: '1.2.3.4' } }],
    // Escapes in names: kept, canonicalized.
    ['a\\.b.c. 1 A 1.2.3.4', { name: 'a\\.b.c', ttl: 1, data: { type: 'A', address: '1.2.3.4' } }],
    ['\\065\\.x. 1 A 1.2.3.4', { name: 'A\\.x', ttl: 1, data: { type: 'A', address: '1.2.3.4' } }],
    ['sp\\ ace\\007. 1 A 1.2.3.4', { name: 'sp\\032ace\\007', ttl: 1, data: { type: 'A', address: '1.2.3.4' } }],
    ['*.w. 1 A 1.2.3.4', { name: '*.w', ttl: 1, data: { type: 'A', address: '1.2.3.4' } }],
    ['. 1 NS a.root.', { name: '', ttl: 1, data: { type: 'NS', target: 'a.root' } }],
  ];
  it.each(cases)('%s', (line, want) => {
    expect(rr(line)).toEqual(want);
  });

  it('relative names and @ use the origin option; the TTL option fills a missing TTL', () => {
    expect(rr('api IN SRV 0 0 80 @', { origin: 'svc.local', ttl: 9 })).toEqual(
      { name: 'api.svc.local', ttl: 9, data: { type: 'SRV', priority: 0, weight: 0, port: 80, target: 'svc.local' } });
  });

  it('nameToLabels recovers the label bytes of escaped text', () => {
    expect(nameToLabels('a\\.b.c\\255').map((l) => [...l])).toEqual([[0x61, 0x2e, 0x62], [0x63, 0xff]]);
    expect(nameToLabels('')).toEqual([]);
  });
});

describe('rr(): errors name the line and the reason', () => {
  const long63 = 'x'.repeat(63);
  const cases: [string, RegExp][] = [
    ['a. 1 A 1.2.3', /bad IPv4 address "1.2.3"/],
    ['a. 1 A 256.1.1.1', /bad IPv4/],
    ['a. 1 A 01.2.3.4', /bad IPv4/],
    ['a. 1 A "1.2.3.4"', /bad IPv4/],
    ['a. 1 AAAA 1::2::3', /bad IPv6 address/],
    ['a. 1 AAAA fe80::1%eth0', /bad IPv6 address/],
    ['a. 1 AAAA 1.2.3.4', /bad IPv6 address/],
    [`${'x'.repeat(64)}. 1 A 1.2.3.4`, /label over 63 bytes/],
    [`a. 1 CNAME ${'y'.repeat(64)}.`, /label over 63 bytes/],
    [`${Array(4).fill(long63).join('.')}. 1 A 1.2.3.4`, /over 255 bytes/],
    ['a..b. 1 A 1.2.3.4', /empty label/],
    ['a. 1 FOO 1.2.3.4', /unknown type "FOO"/],
    ['a. 1 CAA 0 issue "x"', /unknown type "CAA".*TYPEnnn/],
    ['a. 1 IN', /missing type/],
    ['a. 1 A', /missing address in A record/],
    ['a. 1 MX 10', /missing exchange in MX record/],
    ['a. 1 SRV 0 0 80', /missing target in SRV record/],
    ['a. 1 SOA a. b. 1 2 3 4', /missing minimum in SOA/],
    ['a. 1 TXT', /missing text in TXT/],
    ['a. 1 HINFO "x"', /missing os in HINFO/],
    ['a. 1 A 1.2.3.4 extra', /unexpected "extra" after A data/],
    ['a. 1 MX 65536 b.', /MX preference 65536 out of range \(0\.\.65535\)/],
    ['a. 1 SRV 0 0 -1 b.', /SRV port "-1" is not a number/],
    ['a. 1 SOA a. b. 4294967296 1 1 1 1', /SOA serial 4294967296 out of range/],
    ['a. 2147483648 A 1.2.3.4', /TTL "2147483648" out of range/],
    ['a. 1h30 A 1.2.3.4', /bad TTL "1h30"/],
    ['a. 1 2 A 1.2.3.4', /second TTL/],
    ['a. IN CH A 1.2.3.4', /second class/],
    ['a. 1 CLASS0 A 1.2.3.4', /class CLASS0 out of range/],
    ['a. 1 ANY A 1.2.3.4', /class ANY is not allowed/],
    ['a. 1 TYPE65536 \\# 0', /type TYPE65536 out of range/],
    ['a. 1 TYPE255 \\# 0', /not allowed in zone data/],
    ['a. 1 OPT \\# 0', /unknown type "OPT"/],
    ['a. 1 TYPE65280 abc', /TYPE65280 needs RFC 3597 generic data/],
    ['a. 1 TYPE65280 \\# 2 abcdef', /3 bytes but length says 2/],
    ['a. 1 TYPE65280 \\# 1 xyz', /bad hex/],
    ['a. 1 TYPE65280 \\# 2 abc', /bad hex/],
    ['a. 1 A \\# 3 0a0000', /generic A data: too short/],
    ['a. 1 A \\# 5 0a00000101', /1 bytes left over/],
    ['a. 1 NS \\# 2 c00c', /compressed or bad label/],
    [`a. 1 TXT "${'z'.repeat(256)}"`, /character-string is 256 bytes, over 255/],
    [`a. 1 TXT "${'\\255'.repeat(256)}"`, /256 bytes, over 255/],
    ['a. 1 TXT "abc', /unterminated quoted string/],
    ['a. 1 TXT "\\25"', /\\DDD needs three digits/],
    ['a. 1 TXT "\\256"', /over 255/],
    ['a. 1 HINFO "\\255" x', /HINFO cpu is not valid UTF-8/],
    ['a. 1 TXT ( "x"', /"\(" never closed/],
    ['a. 1 TXT "x" )', /"\)" without "\("/],
    ['a. 1 TXT ( ( "x" ) )', /nested/],
    ['rel 1 A 1.2.3.4', /relative name "rel" but no origin/],
    ['@ 1 A 1.2.3.4', /"@" but no origin/],
    ['   1 A 1.2.3.4', /missing owner/],
    ['a. 1 A 1.2.3.4\nb. 1 A 1.2.3.4', /expected one record, got 2/],
  ];
  it.each(cases)('%s', (line, want) => {
    let err: unknown;
    try { rr(line); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ZoneParseError);
    expect(err).toBeInstanceOf(BindsightError);
    expect((err as BindsightError).code).toBe('BS_ZONE_PARSE');
    expect((err as ZoneParseError).reason).toMatch(want);
    expect((err as Error).message).toMatch(/^zone file could not be parsed: <text>:\d+: /);
  });

  it('points at the physical line inside parentheses', () => {
    let err: ZoneParseError | undefined;
    try { rr('a. 1 SRV ( 0\n 0\n 99999\n b. )'); } catch (e) { err = e as ZoneParseError; }
    expect(err?.line).toBe(3);
  });
});

describe('formatRR', () => {
  const lines = [
    'api.svc.local. 5 IN SRV 0 0 8080 api.svc.local.',
    'a. 1 IN TXT "say \\"hi\\"" "\\\\" "\\255\\000;x"',
    'a\\.b.c\\255. 1 IN A 1.2.3.4',
    'a. 1 CH HINFO "ARM" "Linux 6"',
    'a. 1 CLASS9 TYPE65280 \\# 2 abcd',
    'a. 1 IN TYPE65280 \\# 0',
    '. 1 IN SOA ns. host. 1 2 3 4 5',
    'x. 0 IN MX 0 .',
  ];
  it.each(lines)('%s is printed back as written', (line) => {
    expect(formatRR(rr(line))).toBe(line);
  });
});
