// The interface every discovery source implements (one file per source in
// this folder), in the spirit of CoreDNS's plugin.go: small and documented.
import type { SocketRecord } from './socket.js';

export type SourceName = 'ebpf' | 'sockdiag' | 'procfs';

export interface SourceEvent {
  /** 'snapshot' replaces everything; 'add'/'remove' are incremental. */
  kind: 'snapshot' | 'add' | 'remove';
  sockets: SocketRecord[];
}

export interface DiscoverySource {
  readonly name: SourceName;
  /**
   * Check that this source can work here. Resolves, or rejects with a
   * BindsightError whose message says why not (used by --source auto).
   */
  probe(): Promise<void>;
  /** One full scan of the host's sockets (all of them, not just services). */
  scan(): Promise<SocketRecord[]>;
  /**
   * Begin pushing events. Polling sources emit a 'snapshot' every interval;
   * event sources emit a first snapshot, then add/remove. A failure after
   * start (a scan that threw) goes to onError; the source keeps running.
   */
  start(onEvent: (e: SourceEvent) => void, onError?: (err: Error) => void): Promise<void>;
  stop(): Promise<void>;
}
