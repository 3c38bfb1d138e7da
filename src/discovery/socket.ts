// The one shape every discovery source produces, and the written rule of what
// counts as a service (docs/naming.md, "What counts as a service").

export type Proto = 'tcp' | 'udp';
export type Family = 4 | 6;

/** A process that holds a socket open (one socket may be held by many). */
export interface ProcessInfo {
  pid: number;
  /** /proc/<pid>/comm, raw (may hold any byte the kernel allows). */
  comm: string;
  /** readlink /proc/<pid>/exe, '' when unreadable. */
  exe: string;
  /** /proc/<pid>/cmdline split on NUL. */
  cmdline: string[];
  /** Real uid of the process. */
  uid: number;
  /** Cgroup path from /proc/<pid>/cgroup (the v2 "0::" line, else the first). */
  cgroup: string;
  /** Network namespace inode of the process, 0 when unknown. */
  netns: number;
}

/** A socket as the kernel reports it, before the service rule is applied. */
export interface SocketRecord {
  proto: Proto;
  family: Family;
  /** Local address, textual: '0.0.0.0', '::', '127.0.0.1', 'fd00::2'. */
  address: string;
  port: number;
  /** Remote address/port; '0.0.0.0'/'::' and 0 for unconnected sockets. */
  remoteAddress: string;
  remotePort: number;
  /** Kernel TCP state number (include/net/tcp_states.h): 10 = LISTEN, 7 = CLOSE. */
  state: number;
  /** Socket inode, 0 when unknown. */
  inode: number;
  /** Socket owner uid (idiag_uid / the uid column of /proc/net/*). */
  uid: number;
  /** Network namespace inode the socket lives in, 0 when unknown. */
  netns: number;
  /** IPV6_V6ONLY for AF_INET6 sockets; undefined when the source cannot tell. */
  v6only?: boolean;
  /** Kernel socket cookie (decimal string), when the source knows it. */
  cookie?: string;
  /** Every process that holds the socket; empty if none could be found. */
  processes: ProcessInfo[];
}

export const TCP_LISTEN = 10;
export const TCP_CLOSE = 7;

export interface PortRange { low: number; high: number }

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * The service rule (docs/naming.md): TCP sockets in LISTEN; UDP sockets that
 * are unconnected and either bound to a specific address or bound to a port
 * outside ip_local_port_range. Everything else is a client socket.
 */
export function isService(s: SocketRecord, ephemeral: PortRange): boolean {
  if (s.proto === 'tcp') return s.state === TCP_LISTEN;
  if (s.remotePort !== 0) return false; // connected UDP = client
  if (s.port === 0) return false;
  if (!isWildcard(s.address)) return true;
  return s.port < ephemeral.low || s.port > ephemeral.high;
}

/**
 * Identity of a socket across snapshots and events: the kernel's socket
 * cookie when the source knows it, else the socket's own coordinates.
 */
export function socketKey(s: SocketRecord): string {
  return s.cookie && s.cookie !== '0'
    ? s.cookie
    : `${s.netns}|${s.proto}|${s.family}|${s.address}|${s.port}|${s.remoteAddress}|${s.remotePort}|${s.inode}`;
}
