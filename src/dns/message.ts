// What the pure answer builder consumes and produces. The wire layer
// (src/dns/wire/) turns packets into a Question and an Answer into packets,
// adding header bits, EDNS and truncation; nothing here knows about bytes.
import type { RR } from './records.js';

export interface Question {
  /** As the asker wrote it (case kept, RFC 4343 / 0x20), no trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface Answer {
  rcode: number;
  /** Authoritative: set for answers from our own zones (RFC 1035 §4.1.1). */
  aa: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
}

export interface Client {
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
}

/** The one function the DNS transport calls for each well-formed query. */
export type AnswerFn = (q: Question, client: Client) => Answer;
