// The service registry: a pure function from the sockets the kernel reports
// to named services (docs/naming.md is the contract this implements).
import { isService, socketKey, type Family, type Proto, type SocketRecord } from '../discovery/socket.js';
import { toLabel } from '../naming/label.js';
import { applyRules, type CompiledRule } from '../naming/rules.js';
import { lookupType, type TypeTable } from '../naming/service-types.js';
import type { HostInfo } from './host.js';

export interface Endpoint {
  proto: Proto;
  family: Family;
  address: string;
  port: number;
  /** DNS-SD type, when the port has one. */
  type?: string;
  /** Socket owner. */
  uid: number;
  netns: number;
  inode: number;
  cookie?: string;
  v6only?: boolean;
  /** Every pid holding the socket, sorted. */
  pids: number[];
  comm: string;
  exe: string;
  /** From sockops, when the eBPF source tracks connections (docs/configuration.md). */
  connections?: ConnectionCounts;
}

export interface ConnectionCounts {
  /** Connections this listener accepted. */
  accepted: number;
  /** Connections its processes initiated. */
  initiated: number;
  /** Distinct peers that connected (capped). */
  peers: string[];
}

export interface Service {
  /** DNS label, unique in the registry. */
  name: string;
  uid: number;
  endpoints: Endpoint[];
  /** The addresses A/AAAA answer with, sorted, IPv4 first. */
  addresses: string[];
  /** Sum over the endpoints, when connections are tracked. */
  connections?: ConnectionCounts;
}

export interface Registry {
  host: HostInfo;
  services: Service[];
}

export interface RegistryOptions {
  rules: readonly CompiledRule[];
  types: TypeTable;
  /**
   * Labels that discovered services may not take: the host's own name and
   * every name an operator's zone file defines in the service zone. A process
   * named like one of them gets `<name>-u<uid>` instead (docs/naming.md).
   */
  reserved?: ReadonlySet<string>;
}

const isV4 = (a: string) => a.includes('.') && !a.includes(':');

/** `::ffff:a.b.c.d` → `a.b.c.d`; other addresses unchanged. */
export function unmapV4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * Addresses a client can use to reach one endpoint (docs/naming.md,
 * "Addresses"). Sockets in another network namespace answer only with the
 * specific address they bound; their wildcards mean nothing on this host.
 */
export function endpointAddresses(e: Endpoint, host: HostInfo): string[] {
  const foreign = e.netns !== 0 && host.netns !== 0 && e.netns !== host.netns;
  const v4 = host.ipv4.length ? host.ipv4 : ['127.0.0.1'];
  const v6 = host.ipv6.length ? host.ipv6 : host.ipv4.length ? [] : ['::1'];
  if (e.address === '0.0.0.0') return foreign ? [] : v4;
  if (e.address === '::') {
    if (foreign) return [];
    // IPV6_V6ONLY off (the Linux default, net.ipv6.bindv6only=0): the socket
    // takes IPv4 too (RFC 3493 §5.3).
    return e.v6only === true ? v6 : [...v4, ...v6];
  }
  return [unmapV4(e.address)];
}

/** `<label>-u<uid>`, cut so that the whole stays a 63-byte label. */
function withUid(label: string, uid: number): string {
  const suffix = `-u${uid}`;
  return `${label.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function sortAddresses(a: Iterable<string>): string[] {
  return [...new Set(a)].sort((x, y) => Number(isV4(y)) - Number(isV4(x)) || x.localeCompare(y));
}


/** The primary process of a socket: the lowest pid (a master before its workers). */
function primary(s: SocketRecord) {
  return [...s.processes].sort((a, b) => a.pid - b.pid)[0];
}

export function buildRegistry(sockets: readonly SocketRecord[], host: HostInfo, opts: RegistryOptions): Registry {
  // label → uid → endpoints; `pinned` labels came from a rule and skip the uid split.
  const groups = new Map<string, Map<number, Endpoint[]>>();
  const pinned = new Set<string>();
  const seen = new Map<string, Endpoint>();

  for (const s of sockets) {
    if (!isService(s, host.ephemeral)) continue;
    const p = primary(s);
    const comm = p?.comm ?? '';
    const exe = p?.exe ?? '';
    const outcome = applyRules(opts.rules, { comm, exe, port: s.port, proto: s.proto, uid: s.uid });
    if (outcome.ignore) continue;
    // A socket whose holder we cannot see (another pid namespace, a kernel
    // socket) is still a service; it is named after its port.
    const label = outcome.name ?? (p ? toLabel(comm) : `port-${s.port}`);
    if (outcome.name) pinned.add(label);
    const e: Endpoint = {
      proto: s.proto,
      family: s.family,
      address: s.address,
      port: s.port,
      type: outcome.type ?? lookupType(opts.types, s.proto, s.port),
      uid: s.uid,
      netns: s.netns,
      inode: s.inode,
      cookie: s.cookie,
      v6only: s.v6only,
      pids: [...new Set(s.processes.map((x) => x.pid))].sort((a, b) => a - b),
      comm,
      exe,
    };
    if (e.type === undefined) delete e.type;
    // The same socket reported twice (two sources, or a table read across a
    // change): one endpoint, every pid.
    const k = socketKey(s);
    const dup = seen.get(k);
    if (dup) {
      dup.pids = [...new Set([...dup.pids, ...e.pids])].sort((a, b) => a - b);
      continue;
    }
    seen.set(k, e);
    const byUid = groups.get(label) ?? new Map<number, Endpoint[]>();
    groups.set(label, byUid);
    const uid = pinned.has(label) ? -1 : e.uid;
    byUid.set(uid, [...(byUid.get(uid) ?? []), e]);
  }

  // Name assignment: per label, the lowest uid keeps the name and the others
  // become <label>-u<uid>, so a user cannot join (or hijack) another user's
  // service by naming a process after it.
  const taken = new Set<string>(opts.reserved ?? []);
  const pending: Array<{ name: string; uid: number; endpoints: Endpoint[] }> = [];
  for (const label of [...groups.keys()].sort()) {
    const byUid = groups.get(label)!;
    const uids = [...byUid.keys()].sort((a, b) => a - b);
    uids.forEach((uid, i) => {
      const endpoints = byUid.get(uid)!;
      const owner = uid === -1 ? Math.min(...endpoints.map((e) => e.uid)) : uid;
      pending.push({ name: i === 0 ? label : withUid(label, uid), uid: owner, endpoints });
    });
  }
  const services: Service[] = [];
  for (const p of pending.sort((a, b) => a.name.localeCompare(b.name))) {
    let name = p.name;
    while (taken.has(name)) name = withUid(name, p.uid);
    taken.add(name);
    const endpoints = p.endpoints.sort(
      (a, b) => a.proto.localeCompare(b.proto) || a.port - b.port || a.address.localeCompare(b.address),
    );
    services.push({
      name,
      uid: p.uid,
      endpoints,
      addresses: sortAddresses(endpoints.flatMap((e) => endpointAddresses(e, host))),
    });
  }
  services.sort((a, b) => a.name.localeCompare(b.name));
  return { host, services };
}

const PEERS_SHOWN = 32;

/**
 * Adds connection facts (keyed by socket cookie) to a registry: per endpoint,
 * and summed per service. Returns a new registry; pure.
 */
export function withConnections(r: Registry, facts: ReadonlyMap<string, ConnectionCounts>): Registry {
  return {
    ...r,
    services: r.services.map((s) => {
      let total: ConnectionCounts | undefined;
      const endpoints = s.endpoints.map((e) => {
        const f = e.cookie ? facts.get(e.cookie) : undefined;
        if (!f) return e;
        total ??= { accepted: 0, initiated: 0, peers: [] };
        total.accepted += f.accepted;
        total.initiated += f.initiated;
        total.peers = [...new Set([...total.peers, ...f.peers])].slice(0, PEERS_SHOWN);
        return { ...e, connections: { accepted: f.accepted, initiated: f.initiated, peers: [...f.peers] } };
      });
      return total ? { ...s, endpoints, connections: total } : { ...s, endpoints };
    }),
  };
}
