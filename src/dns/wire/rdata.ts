// RDATA encoders for the record types bindsight serves. Every value is
// validated here, so a bad record becomes a WireError (and a SERVFAIL for
// that query) instead of a malformed packet or an exception in a socket
// handler. This replaces dns2's encoder, which writes TXT strings over 255
// bytes, `::ffff:a.b.c.d` and SRV targets wrongly and throws on bad input.
import { isIPv4, isIPv6 } from 'node:net';
import type { RRData } from '../records.js';
import { WireError } from './name.js';
import type { Writer } from './writer.js';

/** RFC 1035 §3.3: a <character-string> is one length byte and up to 255 bytes. */
const MAX_CHARSTRING = 255;

export function writeRdata(w: Writer, d: RRData): void {
  switch (d.type) {
    case 'A': w.bytes(ipv4Bytes(d.address)); return;
    case 'AAAA': w.bytes(ipv6Bytes(d.address)); return;
    // RFC 3597 §4: NS, CNAME, PTR, MX and SOA names may be compressed.
    case 'NS': case 'CNAME': case 'PTR': w.name(d.target, true); return;
    case 'MX': w.u16(u16(d.preference, 'mx-preference')); w.name(d.exchange, true); return;
    case 'SOA':
      w.name(d.mname, true);
      w.name(d.rname, true);
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(u32(v, 'soa-field'));
      return;
    case 'SRV':
      w.u16(u16(d.priority, 'srv-priority'));
      w.u16(u16(d.weight, 'srv-weight'));
      w.u16(u16(d.port, 'srv-port'));
      // RFC 2782: "name compression is not to be used for this field".
      w.name(d.target, false);
      return;
    case 'TXT': {
      // RFC 1035 §3.3.14: one or more strings. A Buffer longer than 255 bytes
      // is split into 255-byte strings, which readers join back (RFC 7208
      // §3.3, RFC 6763 §6.1 keys are short anyway); none is ever truncated.
      const parts = d.strings.length === 0 ? [Buffer.alloc(0)] : d.strings;
      for (const s of parts) {
        if (!Buffer.isBuffer(s)) throw new WireError('txt-not-buffer');
        if (s.length === 0) { w.u8(0); continue; }
        for (let i = 0; i < s.length; i += MAX_CHARSTRING) charString(w, s.subarray(i, i + MAX_CHARSTRING));
      }
      return;
    }
    case 'HINFO':
      // RFC 8482 §4.2 synthesizes HINFO; long text is an error, not split.
      charString(w, Buffer.from(String(d.cpu), 'utf8'));
      charString(w, Buffer.from(String(d.os), 'utf8'));
      return;
    case 'UNKNOWN':
      if (!Buffer.isBuffer(d.rdata)) throw new WireError('unknown-rdata');
      w.bytes(d.rdata);
      return;
    default:
      throw new WireError('rr-type-unsupported', (d as { type?: unknown }).type as string);
  }
}

function charString(w: Writer, b: Buffer): void {
  if (b.length > MAX_CHARSTRING) throw new WireError('charstring-too-long');
  w.u8(b.length);
  w.bytes(b);
}

export function u16(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new WireError('bad-' + what, String(v));
  return v;
}

export function u32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new WireError('bad-' + what, String(v));
  return v;
}

export function ipv4Bytes(a: unknown): Buffer {
  if (typeof a !== 'string' || !isIPv4(a)) throw new WireError('bad-ipv4', String(a));
  return Buffer.from(a.split('.').map(Number));
}

/** RFC 4291 §2.2 text, including `::` and a trailing dotted quad (§2.2 form 3). */
export function ipv6Bytes(a: unknown): Buffer {
  if (typeof a !== 'string' || !isIPv6(a) || a.includes('%')) throw new WireError('bad-ipv6', String(a));
  let text = a;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // Rewrite the dotted quad as two hex groups, then parse uniformly.
    const q = ipv4Bytes(last);
    text = text.slice(0, lastColon + 1) + q.readUInt16BE(0).toString(16) + ':' + q.readUInt16BE(2).toString(16);
  }
  const [head, rest] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (rest === undefined && fill !== 0)) throw new WireError('bad-ipv6', a);
  const groups = [...left, ...new Array<number>(rest === undefined ? 0 : fill).fill(0), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
