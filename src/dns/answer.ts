// The pure answer builder: Question + ZoneSet → Answer. Everything a resolver
// can observe about rcodes and sections is decided here (docs/dns-conformance.md).
import type { Answer, Question } from './message.js';
import { CLASS, nameKey, RCODE, TYPE, typeCode, type RR } from './records.js';
import { ADDRESS_TYPES, findZone, recordsOfType, type Zone, type ZoneSet } from './zone-set.js';

const MAX_CNAME_CHAIN = 8;

const empty = (rcode: number, aa = false): Answer => ({ rcode, aa, answer: [], authority: [], additional: [] });

/** RFC 2308 §3: the SOA in a negative answer has TTL = min(SOA TTL, SOA minimum). */
function negativeSoa(z: Zone): RR {
  const minimum = z.soa.data.type === 'SOA' ? z.soa.data.minimum : z.soa.ttl;
  return { ...z.soa, ttl: Math.min(z.soa.ttl, minimum) };
}

/** Owner names keep the asker's case (0x20 resolvers compare them). */
const asAsked = (rrs: RR[], name: string): RR[] => rrs.map((rr) => ({ ...rr, name }));

function lookup(zs: ZoneSet, key: string): RR[] | undefined {
  return findZone(zs, key)?.nodes.get(key);
}

/** Additional-section processing (RFC 1035 §4.3.2 step 6, RFC 2782, RFC 6763 §12). */
function additionalFor(zs: ZoneSet, answer: RR[]): RR[] {
  const out: RR[] = [];
  const seen = new Set<string>();
  const addAddresses = (target: string) => {
    const k = nameKey(target);
    if (seen.has(`a|${k}`)) return;
    seen.add(`a|${k}`);
    for (const t of ADDRESS_TYPES) out.push(...recordsOfType(lookup(zs, k), t));
  };
  for (const rr of answer) {
    const d = rr.data;
    if (d.type === 'SRV' || d.type === 'MX' || d.type === 'NS') {
      addAddresses(d.type === 'SRV' ? d.target : d.type === 'MX' ? d.exchange : d.target);
    } else if (d.type === 'PTR' && /(^|\.)_(tcp|udp)(\.|$)/i.test(rr.name)) {
      // DNS-SD browse: the instance's SRV and TXT, then its target's addresses.
      const k = nameKey(d.target);
      if (seen.has(`i|${k}`)) continue;
      seen.add(`i|${k}`);
      const at = lookup(zs, k);
      const srv = recordsOfType(at, TYPE.SRV);
      out.push(...srv, ...recordsOfType(at, TYPE.TXT));
      for (const s of srv) if (s.data.type === 'SRV') addAddresses(s.data.target);
    }
  }
  return out;
}

function reverseAnswer(zs: ZoneSet, q: Question, key: string): Answer {
  const rrs = zs.reverse.get(key);
  // We are not authoritative for the arpa trees: names we don't own are not
  // ours to deny (REFUSED until forwarding exists).
  if (!rrs) return empty(RCODE.REFUSED);
  const hit = q.type === TYPE.ANY ? rrs : recordsOfType(rrs, q.type);
  return { rcode: RCODE.NOERROR, aa: true, answer: asAsked(hit, q.name), authority: [], additional: [] };
}

export function answer(zs: ZoneSet, q: Question): Answer {
  if (q.class !== CLASS.IN) return empty(RCODE.REFUSED);
  if (q.type === TYPE.AXFR || q.type === TYPE.IXFR) return empty(RCODE.REFUSED);
  const key = nameKey(q.name);
  const zone = findZone(zs, key);
  if (!zone) {
    if (key.endsWith('.in-addr.arpa') || key.endsWith('.ip6.arpa')) return reverseAnswer(zs, q, key);
    return empty(RCODE.REFUSED);
  }

  const chain: RR[] = [];
  let owner = q.name;
  let k = key;
  for (let hops = 0; ; hops++) {
    const z = findZone(zs, k);
    // A name whose zone-file data did not load: SERVFAIL for any type
    // (RFC 1035 §4.1.1 "a problem with the name server"), never a denial.
    if (z?.broken.has(k)) return empty(RCODE.SERVFAIL);
    const rrs = z?.nodes.get(k);
    if (!z || !rrs) {
      if (chain.length) {
        // A CNAME that leaves our data: the chain is the answer (RFC 1034 §4.3.2).
        return { rcode: z && !z.empty.has(k) ? RCODE.NXDOMAIN : RCODE.NOERROR, aa: true, answer: chain, authority: z ? [negativeSoa(z)] : [], additional: [] };
      }
      // RFC 8020: an empty non-terminal exists; only names with nothing at or
      // below them are NXDOMAIN.
      const rcode = zone.empty.has(k) ? RCODE.NOERROR : RCODE.NXDOMAIN;
      return { rcode, aa: true, answer: [], authority: [negativeSoa(zone)], additional: [] };
    }
    const cname = recordsOfType(rrs, TYPE.CNAME);
    if (cname.length && q.type !== TYPE.CNAME && q.type !== TYPE.ANY && hops < MAX_CNAME_CHAIN) {
      chain.push(...asAsked(cname, owner));
      const target = cname[0]!.data.type === 'CNAME' ? cname[0]!.data.target : '';
      owner = target;
      k = nameKey(target);
      continue;
    }
    // RFC 8482 §4.2: ANY may be answered with the RRsets at the name.
    const hit = q.type === TYPE.ANY ? rrs : rrs.filter((rr) => typeCode(rr.data) === q.type);
    const answerRrs = [...chain, ...asAsked(hit, owner)];
    if (!hit.length) {
      return { rcode: RCODE.NOERROR, aa: true, answer: chain, authority: [negativeSoa(z)], additional: [] };
    }
    return { rcode: RCODE.NOERROR, aa: true, answer: answerRrs, authority: [], additional: additionalFor(zs, hit) };
  }
}
