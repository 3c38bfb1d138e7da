// An immutable index over the zones bindsight is authoritative for, built
// once per registry change so the answer path is only map lookups.
import { nameKey, TYPE, typeCode, type RR } from './records.js';
import { inZone, labelDots } from './names.js';

export interface Zone {
  origin: string;
  /** Lowercased origin. */
  key: string;
  soa: RR;
  ns: RR[];
  /** name key → records at that name. */
  nodes: Map<string, RR[]>;
  /** Names with no records but with records below them (RFC 8020 ENTs). */
  empty: Set<string>;
  /** Name keys whose data failed to load: they answer SERVFAIL, any type. */
  broken: Set<string>;
}

export interface ZoneSet {
  zones: Zone[]; // longest origin first
  /** Reverse names we can answer (not authoritative for the arpa zones). */
  reverse: Map<string, RR[]>;
}

export interface ZoneInput {
  origin: string;
  records: RR[];
  /** When the records hold no SOA for the apex, this one is used. */
  soa: RR;
  ns: RR[];
  /** Names with a bad record (zone-file line that did not parse). */
  broken?: readonly string[];
}

function parentKeys(key: string, apex: string): string[] {
  const out: string[] = [];
  for (const dot of labelDots(key)) {
    const k = key.slice(dot + 1);
    if (k.length <= apex.length) break;
    out.push(k);
  }
  return out;
}

export function buildZone(z: ZoneInput): Zone {
  const key = nameKey(z.origin);
  const nodes = new Map<string, RR[]>();
  const add = (rr: RR) => {
    const k = nameKey(rr.name);
    const list = nodes.get(k);
    if (list) list.push(rr);
    else nodes.set(k, [rr]);
  };
  let soa = z.soa;
  let ns = z.ns;
  const own = z.records.filter((rr) => inZone(nameKey(rr.name), key));
  const apexSoa = own.find((rr) => rr.data.type === 'SOA' && nameKey(rr.name) === key);
  if (apexSoa) soa = apexSoa;
  const apexNs = own.filter((rr) => rr.data.type === 'NS' && nameKey(rr.name) === key);
  if (apexNs.length) ns = apexNs;
  for (const rr of own) {
    if (nameKey(rr.name) === key && (rr.data.type === 'SOA' || rr.data.type === 'NS')) continue;
    add(rr);
  }
  add(soa);
  for (const rr of ns) add(rr);
  const broken = new Set((z.broken ?? []).map(nameKey).filter((k) => inZone(k, key)));
  const empty = new Set<string>();
  // A broken name exists (its data is just unusable), so its parents are ENTs.
  for (const k of [...nodes.keys(), ...broken]) {
    for (const p of parentKeys(k, key)) if (!nodes.has(p) && !broken.has(p)) empty.add(p);
  }
  return { origin: z.origin, key, soa, ns, nodes, empty, broken };
}

export function buildZoneSet(zones: ZoneInput[], reverse: RR[]): ZoneSet {
  const built = zones.map(buildZone).sort((a, b) => b.key.length - a.key.length);
  const rev = new Map<string, RR[]>();
  for (const rr of reverse) {
    const k = nameKey(rr.name);
    rev.set(k, [...(rev.get(k) ?? []), rr]);
  }
  return { zones: built, reverse: rev };
}

export function findZone(zs: ZoneSet, key: string): Zone | undefined {
  return zs.zones.find((z) => inZone(key, z.key));
}

export function recordsOfType(rrs: readonly RR[] | undefined, type: number): RR[] {
  return rrs ? rrs.filter((rr) => typeCode(rr.data) === type) : [];
}

export const ADDRESS_TYPES = [TYPE.A, TYPE.AAAA];
