// The daemon's view of the kernel's service sockets: snapshots replace it,
// add/remove events edit it. Client sockets (a resolver's ephemeral UDP
// socket, say) are dropped at the door, so they never cost a rebuild or move
// the SOA serial. Pure apart from holding state.
import { socketKey, type SocketRecord } from '../discovery/socket.js';
import type { SourceEvent } from '../discovery/source.js';

export class SocketTable {
  private sockets = new Map<string, SocketRecord>();

  /** @param counts the service rule (isService with the host's ephemeral range). */
  constructor(private readonly counts: (s: SocketRecord) => boolean) {}

  /** True when an event holds a socket this table would keep or drop. */
  relevant(e: SourceEvent): boolean {
    return e.kind === 'snapshot' || e.sockets.some((s) => (e.kind === 'add' ? this.counts(s) : this.sockets.has(socketKey(s))));
  }

  /** Applies an event; returns true when the table changed. */
  apply(e: SourceEvent): boolean {
    if (e.kind === 'snapshot') {
      const next = new Map(e.sockets.filter(this.counts).map((s) => [socketKey(s), s] as const));
      const changed = !sameTable(this.sockets, next);
      this.sockets = next;
      return changed;
    }
    let changed = false;
    for (const s of e.sockets) {
      const k = socketKey(s);
      if (e.kind === 'add') {
        if (!this.counts(s)) continue;
        changed = !sameSocket(this.sockets.get(k), s) || changed;
        this.sockets.set(k, s);
      } else {
        // By identity: a closing socket no longer looks like a service.
        changed = this.sockets.delete(k) || changed;
      }
    }
    return changed;
  }

  all(): SocketRecord[] {
    return [...this.sockets.values()];
  }
}

function sameSocket(a: SocketRecord | undefined, b: SocketRecord): boolean {
  if (!a) return false;
  const pids = (s: SocketRecord) => s.processes.map((p) => `${p.pid}:${p.comm}`).join(',');
  return a.state === b.state && a.uid === b.uid && a.remotePort === b.remotePort && pids(a) === pids(b);
}

function sameTable(a: Map<string, SocketRecord>, b: Map<string, SocketRecord>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, s] of b) if (!sameSocket(a.get(k), s)) return false;
  return true;
}
