// The SOA and NS bindsight synthesizes for a zone apex when no zone file
// supplies one (RFC 1035 §3.3.13; RFC 2308 §4 for the minimum field).
import type { RR } from './records.js';

export interface AuthorityOptions {
  origin: string;
  /** The name server's own name, e.g. `<hostname>.svc.local`. */
  nsName: string;
  serial: number;
  ttl: number;
  negativeTtl: number;
}

export function synthesizeSoa(o: AuthorityOptions): RR {
  return {
    name: o.origin,
    ttl: o.ttl,
    data: {
      type: 'SOA', mname: o.nsName, rname: `hostmaster.${o.origin}`, serial: o.serial >>> 0,
      refresh: 3600, retry: 600, expire: 86400, minimum: o.negativeTtl,
    },
  };
}

export function synthesizeNs(o: AuthorityOptions): RR[] {
  return [{ name: o.origin, ttl: o.ttl, data: { type: 'NS', target: o.nsName } }];
}
