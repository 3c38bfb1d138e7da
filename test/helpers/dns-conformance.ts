// Runs test/fixtures/dns/conformance.ts cases against any DNS server address
// over real UDP and TCP sockets, and also hosts the small exchange helpers
// the DNS tests share. Replies are decoded with dns-packet (an independent
// decoder); header bits are read straight from the bytes.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { TYPE } from '../../src/dns/records.js';
import type { ConformanceCase, Expect } from '../fixtures/dns/conformance.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dns');

/** A fixture's bytes: hex with '#' comment lines and whitespace ignored. */
export function loadHex(stem: string): Buffer {
  const text = fs.readFileSync(path.join(FIXTURES, `${stem}.hex`), 'utf8');
  return Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, ''), 'hex');
}

export interface QueryOpts { id?: number; flags?: number; edns?: { size: number; version?: number; do?: boolean } }

/** A query built byte by byte: header, one question, optional OPT (RFC 1035 §4.1, RFC 6891 §6.1.2). */
export function buildQuery(name: string, type: keyof typeof TYPE, o: QueryOpts = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0xb51d, 0);
  h.writeUInt16BE(o.flags ?? 0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(o.edns ? 1 : 0, 10);
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const opt = o.edns
    ? Buffer.from([0, 0, 41, o.edns.size >> 8, o.edns.size & 255, 0, o.edns.version ?? 0, o.edns.do ? 0x80 : 0, 0, 0, 0])
    : Buffer.alloc(0);
  return Buffer.concat([h, ...labels, Buffer.from([0, 0, TYPE[type], 0, 1]), opt]);
}

export interface Target { host: string; port: number }

/** One UDP exchange; null when nothing came back within `waitMs`. */
export function exchangeUdp(t: Target, query: Buffer, waitMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(net.isIPv6(t.host) ? 'udp6' : 'udp4');
    const done = (r: Buffer | null): void => { clearTimeout(timer); s.close(); resolve(r); };
    const timer = setTimeout(() => done(null), waitMs);
    s.on('message', (m) => done(m));
    s.on('error', () => done(null));
    s.send(query, t.port, t.host);
  });
}

/** Frame a message for TCP (RFC 1035 §4.2.2). */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Collects length-prefixed frames from a TCP socket. */
export class TcpClient {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const n = this.buf.readUInt16BE(0);
        this.frames.push(this.buf.subarray(2, 2 + n));
        this.buf = this.buf.subarray(2 + n);
      }
      this.wake();
    });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => undefined);
  }

  static connect(t: Target): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: t.host, port: t.port }, () => resolve(new TcpClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  /** Next frame, or null after `waitMs` or when the peer closed. */
  async next(waitMs = 2000): Promise<Buffer | null> {
    const deadline = Date.now() + waitMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return this.frames.shift()!;
  }

  /** Resolves when the server closes the connection (or after waitMs with false). */
  async waitClosed(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => { const t = setTimeout(r, deadline - Date.now()); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return this.closed;
  }

  close(): void { this.sock.destroy(); }
}

export async function exchangeTcp(t: Target, query: Buffer, waitMs = 1000): Promise<Buffer | null> {
  const c = await TcpClient.connect(t);
  try {
    c.sock.write(frame(query));
    return await c.next(waitMs);
  } finally {
    c.close();
  }
}

export interface ReplyView {
  id: number; qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean;
  z: boolean; ad: boolean; cd: boolean; rcode: number;
  qd: number; an: number; ns: number; ar: number;
  packet: dnsPacket.Packet;
}

/** Header from the bytes, sections from dns-packet; rcode includes OPT's extended bits. */
export function viewReply(reply: Buffer): ReplyView {
  const f = reply.readUInt16BE(2);
  const packet = dnsPacket.decode(reply);
  const opt = (packet.additionals ?? []).find((r) => r.type === 'OPT') as { extendedRcode?: number } | undefined;
  return {
    id: reply.readUInt16BE(0), qr: !!(f & 0x8000), opcode: (f >> 11) & 0xf, aa: !!(f & 0x400),
    tc: !!(f & 0x200), rd: !!(f & 0x100), ra: !!(f & 0x80), z: !!(f & 0x40), ad: !!(f & 0x20), cd: !!(f & 0x10),
    rcode: (f & 0xf) | ((opt?.extendedRcode ?? 0) << 4),
    qd: reply.readUInt16BE(4), an: reply.readUInt16BE(6), ns: reply.readUInt16BE(8), ar: reply.readUInt16BE(10),
    packet,
  };
}

/** Checks a reply against a case's expectations; returns problems (empty = pass). */
export function checkReply(query: Buffer, reply: Buffer | null, e: Expect): string[] {
  const p: string[] = [];
  if (e.noReply) {
    if (reply) p.push(`expected no reply, got ${reply.length} bytes`);
    return p;
  }
  if (!reply) return ['no reply'];
  let v: ReplyView;
  try { v = viewReply(reply); } catch (err) { return [`reply does not decode: ${(err as Error).message}`]; }
  const want = <K extends keyof ReplyView>(k: K, val: ReplyView[K] | undefined): void => {
    if (val !== undefined && v[k] !== val) p.push(`${k}: want ${String(val)}, got ${String(v[k])}`);
  };
  if (v.id !== query.readUInt16BE(0)) p.push('id not echoed');
  if (!v.qr) p.push('QR not set');
  if (v.z) p.push('Z set');
  if (v.ra) p.push('RA set');
  if (v.ad) p.push('AD set');
  want('rcode', e.rcode); want('opcode', e.opcode); want('aa', e.aa); want('tc', e.tc); want('rd', e.rd);
  want('qd', e.qd); want('an', e.an); want('ns', e.ns); want('ar', e.ar);
  if (e.maxSize !== undefined && reply.length > e.maxSize) p.push(`size ${reply.length} > ${e.maxSize}`);
  const opts = (v.packet.additionals ?? []).filter((r) => r.type === 'OPT') as unknown as Array<{
    name: string; ednsVersion: number; flags: number; options: unknown[];
  }>;
  if (e.opt !== undefined) {
    if (e.opt !== (opts.length === 1)) p.push(`OPT: want ${e.opt}, got ${opts.length}`);
    const o = opts[0];
    if (o && e.opt) {
      if (o.ednsVersion !== 0) p.push(`OPT version ${o.ednsVersion}`);
      if (o.options.length) p.push('OPT echoes options');
      if (o.flags & 0x7fff) p.push(`OPT echoes flags ${o.flags}`);
      if (e.optDo !== undefined && e.optDo !== !!(o.flags & 0x8000)) p.push(`DO: want ${e.optDo}`);
    }
  }
  if (e.questionEcho) {
    const qlen = questionLength(query);
    if (qlen < 0 || !reply.subarray(12, 12 + qlen).equals(query.subarray(12, 12 + qlen))) p.push('question not echoed byte for byte');
  }
  if (e.ownerCase) {
    const qname = v.packet.questions?.[0]?.name;
    for (const a of v.packet.answers ?? []) if (a.name !== qname) p.push(`owner ${a.name} != question ${qname}`);
  }
  return p;
}

/** Bytes of an uncompressed question at offset 12, or -1. */
function questionLength(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) { if (msg[i]! >= 0x40) return -1; i += msg[i]! + 1; }
  return i + 5 - 12;
}

/** Run one case over one transport; returns problems (empty = pass). */
export async function runCase(c: ConformanceCase, t: Target, transport: 'udp' | 'tcp'): Promise<string[]> {
  const query = loadHex(c.fixture);
  const e = transport === 'tcp' && c.tcp ? c.tcp : c.expect;
  const wait = e.noReply ? 300 : 2000;
  const reply = transport === 'udp' ? await exchangeUdp(t, query, wait) : await exchangeTcp(t, query, wait);
  return checkReply(query, reply, e);
}

// ---- A tiny stand-in for the answer builder, serving CONFORMANCE_ZONE ----

type AnswerFn = import('../../src/dns/message.js').AnswerFn;
type RR = import('../../src/dns/records.js').RR;

const ORIGIN = 'conformance.test';
const SOA: RR = {
  name: ORIGIN, ttl: 60,
  data: { type: 'SOA', mname: 'ns.conformance.test', rname: 'hostmaster.conformance.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 },
};

/**
 * Serves the conformance zone, plus `extra` names (lowercase key to RRs),
 * keeping the asker's case on owner names. Not the real answer builder:
 * the transport is what the tests check.
 */
export function conformanceAnswer(extra: Record<string, RR[]> = {}): AnswerFn {
  const zone = new Map<string, RR[]>();
  const add = (rr: RR): void => { const k = rr.name.toLowerCase(); zone.set(k, [...(zone.get(k) ?? []), rr]); };
  add(SOA);
  add({ name: ORIGIN, ttl: 3600, data: { type: 'NS', target: 'ns.conformance.test' } });
  add({ name: 'ns.conformance.test', ttl: 300, data: { type: 'A', address: '192.0.2.53' } });
  add({ name: 'www.conformance.test', ttl: 300, data: { type: 'A', address: '192.0.2.1' } });
  add({ name: 'www.conformance.test', ttl: 300, data: { type: 'AAAA', address: '2001:db8::1' } });
  for (let i = 0; i < 40; i++) {
    add({ name: 'big.conformance.test', ttl: 300, data: { type: 'TXT', strings: [Buffer.from(String(i).padStart(2, '0') + 'x'.repeat(198))] } });
  }
  for (const [k, rrs] of Object.entries(extra)) zone.set(k, rrs);
  const typeOf = (rr: RR): number => (rr.data.type === 'UNKNOWN' ? rr.data.typeCode : TYPES[rr.data.type]);
  return (q) => {
    const key = q.name.toLowerCase();
    const here = zone.get(key);
    if (!here) {
      if (!key.endsWith(ORIGIN) && !(key in extra)) return { rcode: 5, aa: false, answer: [], authority: [], additional: [] };
      return { rcode: 3, aa: true, answer: [], authority: [SOA], additional: [] };
    }
    const hits = here.filter((rr) => typeOf(rr) === q.type || q.type === 255);
    if (hits.length === 0) return { rcode: 0, aa: true, answer: [], authority: [SOA], additional: [] };
    return { rcode: 0, aa: true, answer: hits.map((rr) => ({ ...rr, name: q.name })), authority: [], additional: [] };
  };
}

const TYPES: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33,
};
