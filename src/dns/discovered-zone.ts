// Renders the registry as DNS records (docs/naming.md, "DNS names"): the
// instance names, per-type SRV names, unicast DNS-SD browsing (RFC 6763) and
// reverse PTRs. Pure.
import type { Registry, Service } from '../registry/registry.js';
import { endpointAddresses } from '../registry/registry.js';
import { toLabel } from '../naming/label.js';
import type { RR } from './records.js';

export interface RenderOptions {
  /** The zone discovered services live in, e.g. 'svc.local'. */
  origin: string;
  ttl: number;
}

export interface Rendered {
  records: RR[];
  /** Reverse names (in-addr.arpa / ip6.arpa) → PTR records. */
  reverse: RR[];
}

const isV4 = (a: string) => !a.includes(':');

export function reverseName(address: string): string {
  if (isV4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = expand6(address);
  return `${groups.join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** Full 8×4 hex digits of an IPv6 address (no embedded IPv4 expected here). */
function expand6(address: string): string[] {
  let a = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    a = a.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = a.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0').toLowerCase());
}

function serviceRecords(s: Service, r: Registry, o: RenderOptions, out: RR[], types: Map<string, string[]>) {
  const fqdn = `${s.name}.${o.origin}`;
  for (const address of s.addresses) {
    out.push({ name: fqdn, ttl: o.ttl, data: isV4(address) ? { type: 'A', address } : { type: 'AAAA', address } });
  }
  const ports = new Map<string, { proto: string; port: number; type?: string }>();
  for (const e of s.endpoints) {
    if (endpointAddresses(e, r.host).length === 0) continue; // unreachable from here
    ports.set(`${e.proto}/${e.port}`, { proto: e.proto, port: e.port, type: e.type });
  }
  const srvPorts = new Set<number>();
  for (const p of ports.values()) {
    // RFC 2782: the target is the instance's own name, whose A/AAAA are glue.
    const srv = { type: 'SRV', priority: 0, weight: 0, port: p.port, target: fqdn } as const;
    // TCP and UDP on one port give the same SRV: once (RFC 2181 §5, no duplicate RRs).
    if (!srvPorts.has(p.port)) out.push({ name: fqdn, ttl: o.ttl, data: srv });
    srvPorts.add(p.port);
    if (!p.type) continue;
    const svc = `_${p.type}._${p.proto}`;
    out.push({ name: `${svc}.${fqdn}`, ttl: o.ttl, data: srv });
    // RFC 6763 §4.1: <Instance>.<Service>.<Domain> has SRV and TXT.
    const instance = `${s.name}.${svc}.${o.origin}`;
    out.push({ name: instance, ttl: o.ttl, data: srv });
    const list = types.get(svc) ?? [];
    if (!list.includes(s.name)) {
      list.push(s.name);
      out.push({ name: instance, ttl: o.ttl, data: { type: 'TXT', strings: txt(s) } });
    }
    types.set(svc, list);
  }
}

/** RFC 6763 §6: key=value strings; never empty (§6.1 wants one empty string then). */
function txt(s: Service): Buffer[] {
  const pids = [...new Set(s.endpoints.flatMap((e) => e.pids))].sort((a, b) => a - b);
  const comm = s.endpoints[0]?.comm ?? '';
  return [`txtvers=1`, `comm=${comm}`, `uid=${s.uid}`, `pids=${pids.slice(0, 16).join(',')}`]
    .map((x) => Buffer.from(x.slice(0, 255), 'utf8').subarray(0, 255));
}

export function renderRegistry(r: Registry, o: RenderOptions): Rendered {
  const records: RR[] = [];
  const types = new Map<string, string[]>();
  const names = new Set(r.services.map((s) => s.name));
  for (const s of r.services) serviceRecords(s, r, o, records, types);

  // DNS-SD browsing (RFC 6763 §9 service enumeration, §4 instance PTRs).
  for (const [svc, instances] of [...types].sort(([a], [b]) => a.localeCompare(b))) {
    records.push({ name: `_services._dns-sd._udp.${o.origin}`, ttl: o.ttl, data: { type: 'PTR', target: `${svc}.${o.origin}` } });
    for (const name of instances.sort()) {
      records.push({ name: `${svc}.${o.origin}`, ttl: o.ttl, data: { type: 'PTR', target: `${name}.${svc}.${o.origin}` } });
    }
  }

  // The host itself, unless a service already took its name.
  const hostLabel = toLabel(r.host.hostname);
  const hostFqdn = `${hostLabel}.${o.origin}`;
  const hostAddrs = r.host.ipv4.length || r.host.ipv6.length ? [...r.host.ipv4, ...r.host.ipv6] : ['127.0.0.1', '::1'];
  if (!names.has(hostLabel)) {
    for (const address of hostAddrs) {
      records.push({ name: hostFqdn, ttl: o.ttl, data: isV4(address) ? { type: 'A', address } : { type: 'AAAA', address } });
    }
  }

  // Reverse: an address owned by exactly one instance names it; an address
  // shared by several (the host's own, loopback) names the host.
  const owners = new Map<string, Set<string>>();
  for (const a of hostAddrs) owners.set(a, new Set([hostLabel]));
  for (const s of r.services) {
    for (const a of s.addresses) owners.set(a, new Set([...(owners.get(a) ?? []), s.name]));
  }
  const reverse: RR[] = [];
  for (const [address, who] of [...owners].sort(([a], [b]) => a.localeCompare(b))) {
    const target = who.size === 1 ? `${[...who][0]}.${o.origin}` : hostFqdn;
    reverse.push({ name: reverseName(address), ttl: o.ttl, data: { type: 'PTR', target } });
  }
  return { records, reverse };
}

/**
 * Service enumeration (RFC 6763 §9) for DNS-SD types that zone files define:
 * a PTR `_services._dns-sd._udp.<origin>` → `_type._proto.<origin>` for each
 * such type that `existing` does not list yet.
 */
export function enumerateStaticTypes(staticRecords: readonly RR[], existing: readonly RR[], origin: string, ttl: number): RR[] {
  const enumName = `_services._dns-sd._udp.${origin}`;
  const key = (n: string) => n.toLowerCase();
  const listed = new Set(existing.filter((r) => key(r.name) === key(enumName) && r.data.type === 'PTR')
    .map((r) => (r.data.type === 'PTR' ? key(r.data.target) : '')));
  const type = new RegExp(`^_[a-z0-9-]{1,15}\\._(tcp|udp)\\.${key(origin).replace(/[.]/g, '\\.')}$`);
  const out: RR[] = [];
  for (const r of staticRecords) {
    if (r.data.type !== 'PTR' || !type.test(key(r.name)) || listed.has(key(r.name))) continue;
    listed.add(key(r.name));
    out.push({ name: enumName, ttl, data: { type: 'PTR', target: r.name } });
  }
  return out;
}
