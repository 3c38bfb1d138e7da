// One packet in, at most one packet out: the whole DNS wire pipeline between
// the socket and the pure answer builder, without I/O so that it can be
// tested and fuzzed directly. The transport (../server.ts) only moves bytes.
import type { Answer, AnswerFn, Client } from '../message.js';
import { RCODE } from '../records.js';
import { TCP_MAX_SIZE, UDP_MIN_SIZE } from './constants.js';
import { decodeQuery, type Decoded } from './decode.js';
import type { Edns } from './edns.js';
import { encodeReply, type ReplySpec } from './encode.js';
import { WireError } from './name.js';

export type RateDecision = 'ok' | 'drop' | 'slip';

export interface RespondContext {
  client: Client;
  answer: AnswerFn;
  /** Our EDNS buffer size and UDP ceiling (RFC 6891 §6.2.5). */
  udpMaxSize: number;
  /** Response rate limiting, asked once per reply that would be sent. */
  rateLimit?: () => RateDecision;
}

export interface Outcome {
  reply: Buffer | null;
  /** Full rcode of the reply (extended bits included), or -1 without reply. */
  rcode: number;
  qtype: number | null;
  truncated: boolean;
  /** Stable reason when the packet itself was malformed. */
  malformed?: string;
  /** Why the reply became SERVFAIL (bad record, answer function threw). */
  failure?: string;
  rateLimited?: 'drop' | 'slip';
}

export function respond(packet: Buffer, ctx: RespondContext): Outcome {
  const d = decodeQuery(packet);
  if (d.kind === 'ignore') return { reply: null, rcode: -1, qtype: null, truncated: false, malformed: d.reason };
  const malformed = d.kind === 'error' && d.malformed ? d.reason : undefined;
  const question = d.question;
  const qtype = question ? question.type : null;
  const edns = d.kind === 'query' ? d.edns : d.edns ?? null;
  const limit = sizeLimit(ctx, edns);
  const ours = edns ? { udpSize: Math.max(ctx.udpMaxSize, UDP_MIN_SIZE), do: edns.do } : null;
  const base = { id: d.header.id, opcode: d.header.opcode, rd: d.header.rd, aa: false, question, edns: ours };
  const tag = malformed ? { malformed } : {};

  const decision = ctx.rateLimit ? ctx.rateLimit() : 'ok';
  if (decision === 'drop') return { reply: null, rcode: -1, qtype, truncated: false, rateLimited: 'drop', ...tag };
  if (decision === 'slip') {
    // RRL slip: an empty TC=1 reply lets a real client retry over TCP.
    const rcode = d.kind === 'query' ? RCODE.NOERROR : d.rcode;
    const e = encodeReply({ ...base, ...errorShape(d), rcode, tc: true }, limit);
    return { reply: e.bytes, rcode, qtype, truncated: true, rateLimited: 'slip', ...tag };
  }

  if (d.kind === 'error') {
    const e = encodeReply({ ...base, ...errorShape(d), rcode: d.rcode }, limit);
    return { reply: e.bytes, rcode: d.rcode, qtype, truncated: e.truncated, ...tag };
  }

  let spec: ReplySpec;
  try {
    const a = ctx.answer(d.question, ctx.client);
    checkAnswer(a, edns);
    spec = { ...base, aa: a.aa, rcode: a.rcode, answer: a.answer, authority: a.authority, additional: a.additional };
  } catch (err) {
    return servfail(base, limit, qtype, `answer: ${(err as Error)?.message ?? String(err)}`);
  }
  try {
    const e = encodeReply(spec, limit);
    return { reply: e.bytes, rcode: spec.rcode, qtype, truncated: e.truncated };
  } catch (err) {
    const reason = err instanceof WireError ? err.message : `encode: ${(err as Error)?.message ?? String(err)}`;
    return servfail(base, limit, qtype, reason);
  }
}

/** UDP: min(client size, ours), or 512 without EDNS (RFC 1035 §4.2.1, RFC 6891 §7). TCP: 65535. */
function sizeLimit(ctx: RespondContext, edns: Edns | null): number {
  if (ctx.client.transport === 'tcp') return TCP_MAX_SIZE;
  if (!edns) return UDP_MIN_SIZE;
  return Math.max(UDP_MIN_SIZE, Math.min(edns.udpSize, ctx.udpMaxSize));
}

/** NOTIMP carries no RD (the opcode's body was never read) and no OPT. */
function errorShape(d: Decoded): Partial<ReplySpec> {
  if (d.kind === 'error' && d.rcode === RCODE.NOTIMP) return { rd: false, question: undefined, edns: null };
  return {};
}

function checkAnswer(a: Answer, edns: Edns | null): void {
  if (a === null || typeof a !== 'object') throw new Error('answer is not an object');
  if (!Number.isInteger(a.rcode) || a.rcode < 0 || a.rcode > 0xfff) throw new Error(`bad rcode ${a.rcode}`);
  // Extended rcodes exist only with an OPT to carry the high bits.
  if (a.rcode > 15 && !edns) throw new Error(`rcode ${a.rcode} needs EDNS`);
  for (const s of [a.answer, a.authority, a.additional]) if (!Array.isArray(s)) throw new Error('section is not an array');
}

function servfail(base: Omit<ReplySpec, 'rcode'>, limit: number, qtype: number | null, failure: string): Outcome {
  const e = encodeReply({ ...base, aa: false, rcode: RCODE.SERVFAIL }, limit);
  return { reply: e.bytes, rcode: RCODE.SERVFAIL, qtype, truncated: false, failure };
}
