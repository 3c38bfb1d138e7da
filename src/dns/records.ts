// Structured DNS data shared by the zone parser, the answer builder and the
// wire codec. Names are absolute, without the trailing dot ('' is the root),
// and keep the case they were written with.

/** RR type numbers (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 6891, RFC 8482). */
export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16,
  AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255,
} as const;

export const CLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const RCODE = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5,
  BADVERS: 16,
} as const;

export type RRData =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'NS'; target: string }
  | { type: 'CNAME'; target: string }
  | { type: 'PTR'; target: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'TXT'; strings: Buffer[] }
  | { type: 'HINFO'; cpu: string; os: string }
  | {
      type: 'SOA'; mname: string; rname: string; serial: number; refresh: number;
      retry: number; expire: number; minimum: number;
    }
  /** RFC 3597 unknown type: TYPEnnn \# len hex. */
  | { type: 'UNKNOWN'; typeCode: number; rdata: Buffer };

export type RRTypeName = RRData['type'];

export interface RR {
  name: string;
  ttl: number;
  /** Class, IN unless stated. */
  class?: number;
  data: RRData;
}

export function typeCode(d: RRData): number {
  return d.type === 'UNKNOWN' ? d.typeCode : TYPE[d.type];
}

const typeNames = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
export function typeName(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}

/** Canonical lookup key for a name: lowercase ASCII only (RFC 4343). */
export function nameKey(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/\.$/, '');
}
