// The ring-buffer record of bpf/bindsight.h (struct bs_event) as TypeScript:
// the one place that knows its layout on this side. Pure: bytes in, events
// out; a short or unknown record is counted as malformed, never thrown.
import { compress6 } from './proc-net.js';
import type { Family, Proto } from './socket.js';

/** sizeof(struct bs_event); native/src/bpf_event.h static_asserts the same. */
export const EVENT_SIZE = 112;

/** Offsets of struct bs_event (bpf/bindsight.h). */
const OFF = {
  tsNs: 0, cookie: 8, cgroupId: 16, netnsCookie: 24, tgid: 32, tid: 36, uid: 40, netns: 44,
  family: 48, port: 50, peerPort: 52, protocol: 56, transition: 57, hook: 58, flags: 59,
  state: 60, addr: 64, peerAddr: 80, comm: 96,
} as const;

/** enum bs_transition */
export const TRANSITIONS = {
  1: 'bind', 2: 'listen', 3: 'close', 4: 'release', 5: 'accepted', 6: 'initiated',
} as const;
export type Transition = (typeof TRANSITIONS)[keyof typeof TRANSITIONS];

/** enum bs_hook: the user-facing hook names (docs/kernel-support.md). */
export const HOOK_IDS = {
  1: 'bind_tp', 2: 'sockops', 3: 'set_state', 4: 'post_bind', 5: 'sock_release',
} as const;
export type HookName = (typeof HOOK_IDS)[keyof typeof HOOK_IDS];
export const HOOK_NAMES: readonly HookName[] = Object.values(HOOK_IDS);

const F_V6ONLY = 0x01;
const F_V6ONLY_KNOWN = 0x02;
const F_NO_TASK = 0x04;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

export interface BpfEvent {
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC, comparable to process.hrtime.bigint(). */
  tsNs: bigint;
  /** Socket cookie as a decimal string; '0' when the hook could not read it. */
  cookie: string;
  cgroupId: bigint;
  netnsCookie: string;
  tgid: number;
  tid: number;
  uid: number;
  netns: number;
  family: Family;
  proto: Proto;
  port: number;
  address: string;
  peerPort: number;
  peerAddress: string;
  transition: Transition;
  hook: HookName;
  /** IPV6_V6ONLY, when the hook could read it. */
  v6only?: boolean;
  /** Softirq context: tgid/comm/uid do not name the socket's owner. */
  noTask: boolean;
  state: number;
  comm: string;
}

export function formatAddress(family: Family, b: Uint8Array): string {
  if (family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const view = Buffer.from(b.buffer, b.byteOffset, 16);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(view.readUInt16BE(i).toString(16));
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  return compress6(groups);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
}

/** Decodes one record; null when a field holds a value the ABI never writes. */
export function decodeEvent(buf: Buffer, at = 0): BpfEvent | null {
  if (buf.length - at < EVENT_SIZE) return null;
  const r = buf.subarray(at, at + EVENT_SIZE);
  const transition = TRANSITIONS[r[OFF.transition] as keyof typeof TRANSITIONS];
  const hook = HOOK_IDS[r[OFF.hook] as keyof typeof HOOK_IDS];
  const af = r.readUInt16LE(OFF.family);
  const family: Family | null = af === AF_INET ? 4 : af === AF_INET6 ? 6 : null;
  const ipp = r[OFF.protocol];
  const proto: Proto | null = ipp === IPPROTO_TCP ? 'tcp' : ipp === IPPROTO_UDP ? 'udp' : null;
  if (!transition || !hook || !family || !proto) return null;
  const flags = r[OFF.flags];
  const len = family === 4 ? 4 : 16;
  return {
    tsNs: r.readBigUInt64LE(OFF.tsNs),
    cookie: r.readBigUInt64LE(OFF.cookie).toString(),
    cgroupId: r.readBigUInt64LE(OFF.cgroupId),
    netnsCookie: r.readBigUInt64LE(OFF.netnsCookie).toString(),
    tgid: r.readUInt32LE(OFF.tgid),
    tid: r.readUInt32LE(OFF.tid),
    uid: r.readUInt32LE(OFF.uid),
    netns: r.readUInt32LE(OFF.netns),
    family,
    proto,
    port: r.readUInt16LE(OFF.port),
    address: formatAddress(family, r.subarray(OFF.addr, OFF.addr + len)),
    peerPort: r.readUInt16LE(OFF.peerPort),
    peerAddress: formatAddress(family, r.subarray(OFF.peerAddr, OFF.peerAddr + len)),
    transition,
    hook,
    ...(flags & F_V6ONLY_KNOWN ? { v6only: (flags & F_V6ONLY) !== 0 } : {}),
    noTask: (flags & F_NO_TASK) !== 0,
    state: r[OFF.state],
    comm: cString(r.subarray(OFF.comm, OFF.comm + 16)),
  };
}

/** Decodes a batch of concatenated records (one reader-thread wake-up). */
export function decodeEvents(buf: Buffer): { events: BpfEvent[]; malformed: number } {
  const events: BpfEvent[] = [];
  let malformed = buf.length % EVENT_SIZE === 0 ? 0 : 1;
  for (let at = 0; at + EVENT_SIZE <= buf.length; at += EVENT_SIZE) {
    const e = decodeEvent(buf, at);
    if (e) events.push(e);
    else malformed++;
  }
  return { events, malformed };
}
