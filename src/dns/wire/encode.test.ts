// Encoder round trips: encode with ours, decode with dns-packet (an
// independent decoder) and compare, including the cases dns2 gets wrong.
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { RR, RRData } from '../records.js';
import { encodeReply, type ReplySpec } from './encode.js';
import { decodeQuery } from './decode.js';
import { WireError } from './name.js';

const Q = { name: 'Svc.Example', type: 255, class: 1 };
const base: ReplySpec = { id: 99, opcode: 0, rd: true, aa: true, rcode: 0, question: Q, edns: null };
const rr = (data: RRData, name = 'Svc.Example'): RR => ({ name, ttl: 300, data });
const enc = (answer: RR[], limit = 65535, extra: Partial<ReplySpec> = {}) => encodeReply({ ...base, answer, ...extra }, limit);
const decode = (b: Buffer) => dnsPacket.decode(b) as dnsPacket.Packet & { answers: Array<{ type: string; name: string; data: unknown; ttl: number }> };

describe('encodeReply round trip through dns-packet', () => {
  const cases: Array<[RRData, string, unknown]> = [
    [{ type: 'A', address: '192.0.2.1' }, 'A', '192.0.2.1'],
    [{ type: 'AAAA', address: '2001:db8::1' }, 'AAAA', '2001:db8::1'],
    [{ type: 'AAAA', address: '::ffff:192.0.2.7' }, 'AAAA', '::ffff:c000:207'],
    [{ type: 'AAAA', address: '::' }, 'AAAA', '::'],
    [{ type: 'AAAA', address: '1:2:3:4:5:6:7:8' }, 'AAAA', '1:2:3:4:5:6:7:8'],
    [{ type: 'NS', target: 'ns1.Example' }, 'NS', 'ns1.Example'],
    [{ type: 'CNAME', target: 'other.Svc.Example' }, 'CNAME', 'other.Svc.Example'],
    [{ type: 'PTR', target: 'host.example' }, 'PTR', 'host.example'],
    [{ type: 'MX', preference: 10, exchange: 'mx.example' }, 'MX', { preference: 10, exchange: 'mx.example' }],
    [{ type: 'SRV', priority: 0, weight: 5, port: 443, target: 'svc.example' }, 'SRV', { priority: 0, weight: 5, port: 443, target: 'svc.example' }],
    [{ type: 'TXT', strings: [Buffer.from('k=v'), Buffer.alloc(0)] }, 'TXT', [Buffer.from('k=v'), Buffer.alloc(0)]],
    [{ type: 'HINFO', cpu: 'RFC8482', os: '' }, 'HINFO', { cpu: 'RFC8482', os: '' }],
    [{ type: 'SOA', mname: 'ns.example', rname: 'h.example', serial: 4294967295, refresh: 1, retry: 2, expire: 3, minimum: 4 }, 'SOA',
      { mname: 'ns.example', rname: 'h.example', serial: 4294967295, refresh: 1, retry: 2, expire: 3, minimum: 4 }],
    [{ type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.from('0102', 'hex') }, 'UNKNOWN_65280', Buffer.from('0102', 'hex')],
  ];
  for (const [data, type, want] of cases) {
    it(`${data.type} ${JSON.stringify(want)}`, () => {
      const p = decode(enc([rr(data)]).bytes);
      expect(p.answers).toHaveLength(1);
      expect(p.answers[0]!.type).toBe(type);
      expect(p.answers[0]!.name).toBe('Svc.Example');
      expect(p.answers[0]!.ttl).toBe(300);
      expect(p.answers[0]!.data).toEqual(want);
    });
  }

  it('sets header bits: QR, AA as given, RD echoed, RA/Z/AD/CD clear', () => {
    const b = enc([]).bytes;
    expect(b.readUInt16BE(2)).toBe(0x8000 | 0x0400 | 0x0100);
    expect(enc([], 65535, { aa: false, rd: false }).bytes.readUInt16BE(2)).toBe(0x8000);
  });

  it('splits a TXT string over 255 bytes into 255-byte strings (dns2 writes it malformed)', () => {
    const long = Buffer.alloc(600, 0x41);
    const p = decode(enc([rr({ type: 'TXT', strings: [long] })]).bytes);
    const parts = p.answers[0]!.data as Buffer[];
    expect(parts.map((x) => x.length)).toEqual([255, 255, 90]);
    expect(Buffer.concat(parts).equals(long)).toBe(true);
  });

  it('writes ::ffff:a.b.c.d as the mapped address (dns2 writes it wrong)', () => {
    const b = enc([rr({ type: 'AAAA', address: '::ffff:10.1.2.3' })]).bytes;
    expect(b.subarray(b.length - 16).toString('hex')).toBe('00000000000000000000ffff0a010203');
  });

  it('never compresses SRV targets (RFC 2782) but does compress CNAME/MX targets', () => {
    const srv = enc([rr({ type: 'SRV', priority: 1, weight: 1, port: 1, target: 'Svc.Example' })]).bytes;
    // target written in full at the end of the message
    expect(srv.subarray(srv.length - 13).toString('hex')).toBe(Buffer.from('03537663074578616d706c6500', 'hex').toString('hex'));
    const cname = enc([rr({ type: 'CNAME', target: 'Svc.Example' })]).bytes;
    expect(cname.subarray(cname.length - 2).toString('hex')).toBe('c00c');
  });

  it('compresses owner names case-sensitively, so 0x20 case survives', () => {
    const b = enc([rr({ type: 'A', address: '1.2.3.4' }), rr({ type: 'A', address: '1.2.3.5' }, 'svc.example')]).bytes;
    const p = decode(b);
    expect(p.answers.map((a) => a.name)).toEqual(['Svc.Example', 'svc.example']);
  });

  it('round-trips escaped names (dots and odd bytes inside labels)', () => {
    const name = 'a\\.b\\000\\255.Example';
    const wire = enc([], 65535, { question: { name, type: 1, class: 1 } }).bytes;
    wire.writeUInt16BE(0, 2); // make it a query
    const d = decodeQuery(wire);
    expect(d.kind === 'query' && d.question.name).toBe(name);
  });

  it('adds an OPT with our size, extended rcode and DO', () => {
    const p = decode(enc([], 65535, { rcode: 16, edns: { udpSize: 1232, do: true } }).bytes) as unknown as {
      additionals: Array<{ type: string; udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flags: number }>;
    };
    expect(p.additionals[0]).toMatchObject({ type: 'OPT', udpPayloadSize: 1232, extendedRcode: 1, ednsVersion: 0, flags: 0x8000 });
  });
});

describe('truncation', () => {
  const txt = (i: number): RR => rr({ type: 'TXT', strings: [Buffer.alloc(100, 0x30 + (i % 10))] });
  const spec = (): Partial<ReplySpec> => ({
    answer: [txt(0), txt(1), txt(2)], authority: [txt(3), txt(4)], additional: [txt(5), txt(6)],
  });

  it('drops additional records first without TC (RFC 2181 §9)', () => {
    const full = encodeReply({ ...base, ...spec() }, 65535);
    const e = encodeReply({ ...base, ...spec() }, full.bytes.length - 1);
    expect(e.counts).toEqual([3, 2, 1]);
    expect(e.truncated).toBe(false);
  });

  it('then authority, then answers, with TC, never the question, keeping OPT', () => {
    for (const [limit, counts] of [[700, [3, 2, 0]], [600, [3, 1, 0]], [400, [3, 0, 0]], [300, [2, 0, 0]], [150, [0, 0, 0]]] as const) {
      const e = encodeReply({ ...base, ...spec(), edns: { udpSize: 1232, do: false } }, limit);
      expect(e.bytes.length).toBeLessThanOrEqual(limit);
      expect(e.counts).toEqual(counts);
      const p = decode(e.bytes);
      expect(p.questions).toHaveLength(1);
      expect((p.additionals ?? []).filter((a) => a.type === 'OPT')).toHaveLength(1);
      if (counts[1] < 2) expect(p.flags! & 0x200).toBe(0x200);
    }
  });

  it('trims a TCP reply over 65535 bytes with TC instead of failing', () => {
    const many = Array.from({ length: 600 }, (_, i) => txt(i));
    const e = encodeReply({ ...base, answer: many }, 65535);
    expect(e.truncated).toBe(true);
    expect(e.bytes.length).toBeLessThanOrEqual(65535);
    expect(decode(e.bytes).answers.length).toBe(e.counts[0]);
  });
});

describe('invalid records throw WireError (the caller answers SERVFAIL)', () => {
  const bad: Array<[string, RR]> = [
    ['bad ipv4', rr({ type: 'A', address: '1.2.3.256' })],
    ['ipv6 in A', rr({ type: 'A', address: '::1' })],
    ['bad ipv6', rr({ type: 'AAAA', address: '1::2::3' })],
    ['zone id', rr({ type: 'AAAA', address: 'fe80::1%eth0' })],
    ['label > 63', rr({ type: 'CNAME', target: `${'a'.repeat(64)}.example` })],
    ['name > 255', rr({ type: 'A', address: '1.1.1.1' }, Array(5).fill('a'.repeat(60)).join('.'))],
    ['empty label', rr({ type: 'NS', target: 'a..b' })],
    ['port out of range', rr({ type: 'SRV', priority: 0, weight: 0, port: 70000, target: 'x' })],
    ['negative ttl', { name: 'x', ttl: -1, data: { type: 'A', address: '1.1.1.1' } }],
    ['HINFO > 255', rr({ type: 'HINFO', cpu: 'x'.repeat(256), os: '' })],
    ['huge rdata', rr({ type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.alloc(70000) })],
  ];
  for (const [what, r] of bad) {
    it(what, () => expect(() => enc([r])).toThrow(WireError));
  }

  it('validates records even past the truncation point', () => {
    const big = Array.from({ length: 20 }, () => rr({ type: 'TXT', strings: [Buffer.alloc(200)] }));
    expect(() => enc([...big, rr({ type: 'A', address: 'nope' })], 512)).toThrow(WireError);
  });
});
