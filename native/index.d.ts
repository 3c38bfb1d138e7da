// Type declarations of build/Release/bindsight_native.node (target
// bindsight_native in binding.gyp). Every function is synchronous. Failures are
// thrown as a plain Error with `code` set to an errno name ('ENOENT', 'EPERM',
// 'EINVAL' for bad arguments, 'ENOMEM'); no C++ exception ever reaches JS.
// Load it through src/native/binding.ts, which validates arguments first.

/** One socket of a NETLINK_SOCK_DIAG dump (struct inet_diag_msg + attributes). */
export interface RawSocket {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  /** Kernel state (include/net/tcp_states.h): 10 LISTEN, 7 CLOSE, 1 ESTABLISHED. */
  state: number;
  /** Local address as inet_ntop prints it: '0.0.0.0', '::', '::ffff:127.0.0.1'. */
  address: string;
  port: number;
  remoteAddress: string;
  /** 0 for unconnected sockets. */
  remotePort: number;
  /** Socket inode (idiag_inode), the N of the socket:[N] fd link. */
  inode: number;
  /** idiag_uid: the uid that created the socket. */
  uid: number;
  /** INET_DIAG_SKV6ONLY (IPV6_V6ONLY); present for AF_INET6 sockets only. */
  v6only?: boolean;
  /** idiag_cookie as a decimal u64 (stable id of the socket for its lifetime). */
  cookie: string;
}

export interface SockDiagOptions {
  /**
   * Dump this network namespace instead of the caller's, e.g. /proc/<pid>/ns/net
   * or /run/netns/<name>. The dump runs on a short-lived thread that calls
   * setns(CLONE_NEWNET); the calling thread never changes namespace.
   */
  netnsPath?: string;
  /** Bitmask of (1 << state) for TCP; default 1 << 10 (LISTEN only); 0 = no TCP. */
  tcpStates?: number;
  /** Dump UDP sockets (all states); default true. */
  udp?: boolean;
}

/**
 * The same dump as sockDiag, packed: `records` holds one 32-byte record per
 * socket in host byte order, `strings` the distinct addresses they point at.
 * Record layout (offsets in bytes): u32 cookieLo @0, u32 cookieHi @4,
 * u32 inode @8, u32 uid @12, u32 addressIndex @16, u32 remoteAddressIndex @20,
 * u16 port @24, u16 remotePort @26, u8 protocol (6 TCP, 17 UDP) @28,
 * u8 family (4|6) @29, u8 state @30, i8 v6only (-1 absent, 0, 1) @31.
 * Building 20k JS objects in C++ costs ~4 us each; decoding this in JS is
 * ~20x cheaper (src/native/binding.ts does it).
 */
export interface PackedSockets {
  records: ArrayBuffer;
  strings: string[];
}

/** NETLINK_SOCK_DIAG dump: TCP (states per mask) and UDP, AF_INET and AF_INET6. */
export function sockDiag(options?: SockDiagOptions): RawSocket[];
/** sockDiag in packed form (see PackedSockets). */
export function sockDiagPacked(options?: SockDiagOptions): PackedSockets;
/**
 * Walk of /proc/[0-9]*\/fd (thread-group leaders only): one [inode, pid] pair
 * per socket:[inode] link and process, sorted by inode then pid, no repeats.
 * Vanished or unreadable processes and fds are skipped; throws only when
 * /proc itself is unreadable. Runs on up to 4 threads (each readlinkat costs
 * microseconds of kernel time).
 */
export function socketOwners(): Array<[inode: number, pid: number]>;
/** socketOwners flattened: [inode0, pid0, inode1, pid1, ...]. */
export function socketOwnersPacked(): Uint32Array;
/** Inode of a namespace file (stat st_ino); default /proc/self/ns/net. */
export function netnsInode(path?: string): number;
