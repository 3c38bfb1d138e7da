// The pure core of the ebpf source: which sockets it tracks, what a kernel
// event does to them, and the connection facts sockops reports. No I/O.
import type { BpfEvent } from './bpf-event.js';
import type { ProcessInfo, SocketRecord } from './socket.js';
import { TCP_LISTEN } from './socket.js';

/** Peers remembered per service (the rest are only counted). */
export const PEER_CAP = 32;

/**
 * Sockets the event stream can keep current: TCP listeners (LISTEN/CLOSE
 * events) and unconnected UDP sockets (bind/release events). Established TCP
 * sockets never get a close event from the default hooks, so a snapshot's
 * copy of them would only go stale.
 */
export function isTracked(s: SocketRecord): boolean {
  return s.proto === 'tcp' ? s.state === TCP_LISTEN : s.remotePort === 0;
}

export { socketKey } from './socket.js';

export type Effect = 'add' | 'remove' | 'connection' | 'ignore';

/** What an event means for the socket table. */
export function effectOf(e: BpfEvent): Effect {
  if (e.cookie === '0') return 'ignore'; // bind_tp without post_bind: no identity
  switch (e.transition) {
    case 'listen': return e.proto === 'tcp' ? 'add' : 'ignore';
    case 'bind': return e.proto === 'udp' ? 'add' : 'ignore'; // TCP counts at listen()
    case 'close': return e.proto === 'tcp' ? 'remove' : 'ignore';
    case 'release': return e.proto === 'udp' ? 'remove' : 'ignore';
    case 'accepted':
    case 'initiated': return 'connection';
  }
}

/** ProcessInfo from the event alone, for a process that is already gone. */
export function processFromEvent(e: BpfEvent): ProcessInfo {
  return { pid: e.tgid, comm: e.comm, exe: '', cmdline: [], uid: e.uid, cgroup: '', netns: e.netns };
}

export function recordFromEvent(e: BpfEvent, processes: ProcessInfo[]): SocketRecord {
  const any = e.family === 4 ? '0.0.0.0' : '::';
  return {
    proto: e.proto,
    family: e.family,
    address: e.address,
    port: e.port,
    remoteAddress: any,
    remotePort: 0,
    state: e.proto === 'tcp' ? TCP_LISTEN : 7,
    inode: 0,
    uid: e.uid,
    netns: e.netns,
    ...(e.v6only === undefined ? {} : { v6only: e.v6only }),
    cookie: e.cookie,
    processes,
  };
}

export interface ConnectionFacts {
  /** Passive opens completed on this listener (peer connected to us). */
  accepted: number;
  /** Active opens completed by a process that owns this service. */
  initiated: number;
  /** Distinct peer addresses that connected, at most PEER_CAP. */
  peers: string[];
}

function wildcard(a: string): boolean {
  return a === '0.0.0.0' || a === '::';
}

/** Does listener `s` own the local side of connection event `e`? */
function accepts(s: SocketRecord, e: BpfEvent, netns: number): boolean {
  if (s.proto !== 'tcp' || s.state !== TCP_LISTEN || s.port !== e.port) return false;
  if (netns !== 0 && s.netns !== 0 && s.netns !== netns) return false;
  if (wildcard(s.address)) return s.family === 6 || e.family === 4 || e.address.startsWith('::ffff:');
  return s.address === e.address || e.address === `::ffff:${s.address}`;
}

/**
 * Per-service connection facts keyed by the listener's socket key. Netns
 * inodes of connection events (softirq: no task) come from the netns cookie
 * seen on the same namespace's listen events.
 */
export class ConnectionTable {
  private readonly facts = new Map<string, ConnectionFacts>();
  private readonly netnsByCookie = new Map<string, number>();

  learnNetns(e: BpfEvent): void {
    if (e.netns !== 0 && e.netnsCookie !== '0' && this.netnsByCookie.size < 4096) {
      this.netnsByCookie.set(e.netnsCookie, e.netns);
    }
  }

  apply(e: BpfEvent, sockets: ReadonlyMap<string, SocketRecord>): void {
    const netns = e.netns || this.netnsByCookie.get(e.netnsCookie) || 0;
    for (const [key, s] of sockets) {
      const hit = e.transition === 'accepted'
        ? accepts(s, e, netns)
        : e.tgid !== 0 && s.proto === 'tcp' && s.processes.some((p) => p.pid === e.tgid);
      if (!hit) continue;
      const f = this.facts.get(key) ?? { accepted: 0, initiated: 0, peers: [] };
      if (e.transition === 'accepted') {
        f.accepted++;
        if (f.peers.length < PEER_CAP && !f.peers.includes(e.peerAddress)) f.peers.push(e.peerAddress);
      } else {
        f.initiated++;
      }
      this.facts.set(key, f);
      if (e.transition === 'accepted') return; // one listener per connection
    }
  }

  /** Drops facts of services that are gone. */
  retain(sockets: ReadonlyMap<string, SocketRecord>): void {
    for (const key of this.facts.keys()) if (!sockets.has(key)) this.facts.delete(key);
  }

  snapshot(): Map<string, ConnectionFacts> {
    return new Map([...this.facts].map(([k, f]) => [k, { ...f, peers: [...f.peers] }]));
  }
}
