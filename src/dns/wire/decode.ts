// Query decoder: bytes in, a verdict out. No I/O and no exceptions: every
// malformed input maps to a stable reason code. Written for hostile input
// rather than on dns2's lenient Packet.parse, which hands malformed queries
// to the handler (see docs/dns-conformance.md).
import type { Question } from '../message.js';
import {
  C_IN, FLAG, HEADER_SIZE, OPCODE_QUERY, T_AXFR, T_IXFR, T_OPT,
} from './constants.js';
import { parseOpt, type Edns } from './edns.js';
import { WireError, readName } from './name.js';
import { RCODE } from '../records.js';

export interface QueryHeader {
  id: number;
  opcode: number;
  rd: boolean;
}

export type Decoded =
  /** No reply at all: too short for a header, or a response (QR=1). */
  | { kind: 'ignore'; reason: string }
  /** Reply with this rcode; question and edns are set only if they parsed. */
  | {
      kind: 'error'; header: QueryHeader; rcode: number; reason: string;
      /** True when the packet itself is malformed (counted for metrics). */
      malformed: boolean;
      question?: Question; edns?: Edns;
    }
  | { kind: 'query'; header: QueryHeader; question: Question; edns: Edns | null };

export function decodeQuery(buf: Buffer): Decoded {
  if (buf.length < HEADER_SIZE) return { kind: 'ignore', reason: 'short-header' };
  const flags = buf.readUInt16BE(2);
  // RFC 1035 §4.1.1: QR=1 is a response; answering it invites reflection loops.
  if (flags & FLAG.QR) return { kind: 'ignore', reason: 'qr-set' };
  const header: QueryHeader = {
    id: buf.readUInt16BE(0),
    opcode: (flags >>> 11) & 0xf,
    rd: (flags & FLAG.RD) !== 0,
  };
  if (header.opcode !== OPCODE_QUERY) {
    // RFC 1035 §4.1.1 / RFC 6895 §2.2: NOTIMP; the body of an unknown opcode
    // is not parsed, so nothing of it is echoed.
    return { kind: 'error', header, rcode: RCODE.NOTIMP, reason: 'opcode', malformed: false };
  }
  // RFC 1035 §4.1.1: a truncated query cannot be answered (NSD: FORMERR).
  if (flags & FLAG.TC) return { kind: 'error', header, rcode: RCODE.FORMERR, reason: 'tc-set', malformed: true };
  const formerr = (reason: string, question?: Question): Decoded => ({
    kind: 'error', header, rcode: RCODE.FORMERR, reason, malformed: true, ...(question ? { question } : {}),
  });
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (qd !== 1) return formerr(qd === 0 ? 'qdcount-zero' : 'qdcount-many');

  let question: Question;
  let pos: number;
  try {
    const n = readName(buf, HEADER_SIZE);
    if (n.end + 4 > buf.length) return formerr('question-truncated');
    question = { name: n.name, type: buf.readUInt16BE(n.end), class: buf.readUInt16BE(n.end + 2) };
    pos = n.end + 4;
  } catch (e) {
    return formerr(e instanceof WireError ? e.reason : 'question');
  }

  // As NSD (query.c): no records in the answer or authority section of a
  // query (IXFR carries the client's SOA in authority), and nothing in the
  // additional section but one OPT (RFC 6891 §6.1.1: root owner, at most one).
  if (an !== 0) return formerr('answer-section', question);
  if (ns !== 0 && question.type !== T_IXFR) return formerr('authority-section', question);
  let edns: Edns | null = null;
  try {
    for (let i = 0; i < ns + ar; i++) {
      const rr = readRR(buf, pos);
      pos = rr.end;
      if (i < ns) continue;
      if (rr.type !== T_OPT) return formerr('additional-not-opt', question);
      if (rr.name !== '') return formerr('opt-name', question);
      if (edns) return formerr('opt-duplicate', question);
      edns = parseOpt(rr.cls, rr.ttl, buf.subarray(rr.rdStart, rr.end));
    }
  } catch (e) {
    return formerr(e instanceof WireError ? e.reason : 'rr', question);
  }
  // RFC 1035 §4.1 has no room for trailing bytes; dnspython rejects them too.
  if (pos !== buf.length) return formerr('trailing-bytes', question);

  const withQ = { kind: 'error' as const, header, question, ...(edns ? { edns } : {}), malformed: false };
  // RFC 6891 §6.1.3: we speak version 0 only.
  if (edns && edns.version > 0) return { ...withQ, rcode: RCODE.BADVERS, reason: 'edns-version' };
  // Only IN is served; CHAOS (version.bind) and other classes are refused,
  // as are zone transfers (RFC 5936 §4.2, RFC 1995): there is no zone to give.
  if (question.class !== C_IN) return { ...withQ, rcode: RCODE.REFUSED, reason: 'class' };
  if (question.type === T_AXFR || question.type === T_IXFR) return { ...withQ, rcode: RCODE.REFUSED, reason: 'xfr' };
  return { kind: 'query', header, question, edns };
}

function readRR(buf: Buffer, at: number): { name: string; type: number; cls: number; ttl: number; rdStart: number; end: number } {
  const n = readName(buf, at);
  if (n.end + 10 > buf.length) throw new WireError('rr-truncated');
  const rdlen = buf.readUInt16BE(n.end + 8);
  const rdStart = n.end + 10;
  if (rdStart + rdlen > buf.length) throw new WireError('rr-overrun');
  return {
    name: n.name,
    type: buf.readUInt16BE(n.end),
    cls: buf.readUInt16BE(n.end + 2),
    ttl: buf.readUInt32BE(n.end + 4),
    rdStart,
    end: rdStart + rdlen,
  };
}
