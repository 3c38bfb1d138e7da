// Reply encoder with size limits (RFC 1035 §4.2.1, RFC 6891 §7, RFC 2181 §9).
// Records are written in section order and each end offset is kept, so
// trimming to a size limit drops whole RRs from the end: additional first,
// then authority, then answers; the question and our OPT always stay.
import type { Question } from '../message.js';
import { CLASS, typeCode, type RR } from '../records.js';
import { FLAG, TCP_MAX_SIZE } from './constants.js';
import { OPT_SIZE, writeOpt } from './edns.js';
import { WireError } from './name.js';
import { u16, u32, writeRdata } from './rdata.js';
import { CAPACITY, Writer } from './writer.js';

// Reused by every (synchronous) encodeReply call; see Writer.
const MAIN = Buffer.allocUnsafe(CAPACITY);
const SCRATCH = Buffer.allocUnsafe(CAPACITY);

/**
 * RFC 2181 §9: TC is not set "merely because some extra information could
 * have been included"; dropping additional records alone leaves TC clear
 * (NSD and Knot behave the same). Dropping answer or authority sets TC.
 */
const TC_WHEN_ONLY_ADDITIONAL_DROPPED = false;

export interface ReplySpec {
  id: number;
  opcode: number;
  rd: boolean;
  aa: boolean;
  /** Full rcode; bits above 4 go into the OPT (RFC 6891 §6.1.3). */
  rcode: number;
  /** Force TC (RRL slip replies). */
  tc?: boolean;
  question?: Question | undefined;
  answer?: RR[];
  authority?: RR[];
  additional?: RR[];
  /** Add our OPT; null when the query had none. */
  edns: { udpSize: number; do: boolean } | null;
}

export interface Encoded {
  bytes: Buffer;
  truncated: boolean;
  counts: [number, number, number];
}

/** Encode, trimming to `limit` bytes. Throws WireError for a record it cannot encode. */
export function encodeReply(spec: ReplySpec, limit: number): Encoded {
  const w = new Writer(MAIN);
  const max = Math.min(limit, TCP_MAX_SIZE);
  w.u16(spec.id);
  w.u16(0); // flags, patched below
  w.u16(spec.question ? 1 : 0);
  w.u16(0); w.u16(0); w.u16(0);
  if (spec.question) {
    w.name(spec.question.name, true);
    w.u16(spec.question.type);
    w.u16(spec.question.class);
  }
  const sections = [spec.answer ?? [], spec.authority ?? [], spec.additional ?? []];
  const all = sections.flat();
  const optLen = spec.edns ? OPT_SIZE : 0;
  if (w.pos + optLen > max) throw new WireError('question-exceeds-limit');

  // Write RRs while they fit; validate the rest so that a bad record is a
  // SERVFAIL whatever the transport, not only when it happens to fit.
  let kept = 0;
  for (; kept < all.length; kept++) {
    const start = w.pos;
    let overflow = false;
    try {
      writeRR(w, all[kept]!);
    } catch (e) {
      if (!(e instanceof WireError) || e.reason !== 'message-too-large') throw e;
      overflow = true;
    }
    if (overflow || w.pos + optLen > max) { w.truncateTo(start); break; }
  }
  if (kept < all.length) {
    const scratch = new Writer(SCRATCH);
    for (let i = kept; i < all.length; i++) { scratch.truncateTo(0); writeRR(scratch, all[i]!); }
  }

  const [an, ns] = [sections[0]!.length, sections[1]!.length];
  const counts: [number, number, number] = [
    Math.min(kept, an), Math.min(Math.max(kept - an, 0), ns), Math.max(kept - an - ns, 0),
  ];
  const droppedCore = kept < an + ns;
  const dropped = kept < all.length;
  const truncated = spec.tc === true || droppedCore || (dropped && TC_WHEN_ONLY_ADDITIONAL_DROPPED);
  let arCount = counts[2];
  if (spec.edns) {
    writeOpt(w, { udpSize: spec.edns.udpSize, rcode: spec.rcode, do: spec.edns.do });
    arCount++;
  }
  const out = w.result();
  const flags = FLAG.QR | ((spec.opcode & 0xf) << 11) | (spec.aa ? FLAG.AA : 0)
    | (truncated ? FLAG.TC : 0) | (spec.rd ? FLAG.RD : 0) | (spec.rcode & 0xf);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(counts[0], 6);
  out.writeUInt16BE(counts[1], 8);
  out.writeUInt16BE(arCount, 10);
  return { bytes: out, truncated, counts };
}

function writeRR(w: Writer, rr: RR): void {
  if (rr === null || typeof rr !== 'object' || rr.data === null || typeof rr.data !== 'object') {
    throw new WireError('rr-invalid');
  }
  w.name(rr.name, true);
  const t = typeCode(rr.data);
  if (!Number.isInteger(t) || t < 0 || t > 0xffff || t === 41) throw new WireError('rr-type-invalid', String(t));
  w.u16(t);
  w.u16(u16(rr.class ?? CLASS.IN, 'class'));
  w.u32(u32(rr.ttl, 'ttl'));
  const lenAt = w.pos;
  w.u16(0);
  writeRdata(w, rr.data);
  const rdlen = w.pos - lenAt - 2;
  if (rdlen > 0xffff) throw new WireError('rdata-too-long');
  w.setU16(lenAt, rdlen);
}
