// The last N registry-relevant socket events, for the control endpoint
// (GET /events): short-lived listeners are visible here even when they were
// gone before anyone queried DNS.
import type { SocketRecord } from '../discovery/socket.js';

export interface RecordedEvent {
  at: string;
  kind: 'add' | 'remove';
  proto: string;
  address: string;
  port: number;
  pid: number | null;
  comm: string | null;
  netns: number;
  cookie?: string;
}

export class EventRecord {
  private readonly items: RecordedEvent[] = [];
  constructor(private readonly capacity = 1024) {}

  push(kind: 'add' | 'remove', s: SocketRecord): RecordedEvent {
    const p = s.processes[0];
    const e: RecordedEvent = {
      at: new Date().toISOString(), kind, proto: s.proto, address: s.address, port: s.port,
      pid: p?.pid ?? null, comm: p?.comm ?? null, netns: s.netns, ...(s.cookie ? { cookie: s.cookie } : {}),
    };
    this.items.push(e);
    if (this.items.length > this.capacity) this.items.shift();
    return e;
  }

  list(): RecordedEvent[] {
    return [...this.items];
  }
}
