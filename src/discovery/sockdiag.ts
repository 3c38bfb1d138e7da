// The `sockdiag` discovery source: polls NETLINK_SOCK_DIAG through the native
// addon (native/src/sock_diag.cc) in every network namespace it can see, and
// names each socket's processes from one owner walk per scan: the BPF socket
// owner iterator where it loads, else /proc/*/fd (owner-walk.ts).
import { readdirSync } from 'node:fs';
import { BindsightError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  PackedView, errnoOf, loadNative, netnsInode, sockDiag, sockDiagPacked, socketOwnerPairs, type RawSocket,
} from '../native/binding.js';
import { holdOwnerWalk, ownerPairs, releaseOwnerWalk, type OwnerPairs, type OwnerWalkMethod } from './owner-walk.js';
import { readProcess } from './process-info.js';
import { TCP_LISTEN, type ProcessInfo, type SocketRecord } from './socket.js';
import type { DiscoverySource, SourceEvent } from './source.js';

export interface DumpOptions {
  /** 'all' (default): every namespace seen in /proc/*\/ns/net and /run/netns; 'self': ours. */
  namespaces?: 'all' | 'self';
  /** TCP states as a bitmask of 1 << state; default LISTEN only. */
  tcpStates?: number;
  /** Include UDP sockets (all states); default true. */
  udp?: boolean;
  /** Fill `processes` (default true); false skips the owner walk. */
  processes?: boolean;
  /** Told which owner walk served this dump (not called when processes is false). */
  onOwnerWalk?: (walk: Omit<OwnerPairs, 'pairs'>) => void;
}

/** A network namespace to dump: `path` undefined means our own. */
export interface NetnsTarget {
  inode: number;
  path?: string;
}

function tryInode(path: string): number | undefined {
  try {
    return netnsInode(path);
  } catch {
    return undefined; // process gone, not ours to inspect, or not a namespace
  }
}

function numericEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Distinct network namespaces: ours first, then /run/netns/* (ip-netns(8)),
 * then those of processes (/proc/<pid>/ns/net). One path per inode.
 */
export function listNamespaces(): NetnsTarget[] {
  const self = netnsInode();
  const seen = new Map<number, NetnsTarget>([[self, { inode: self }]]);
  const add = (path: string): void => {
    const inode = tryInode(path);
    if (inode !== undefined && !seen.has(inode)) seen.set(inode, { inode, path });
  };
  let named: string[] = [];
  try {
    named = readdirSync('/run/netns');
  } catch { /* no named namespaces */ }
  for (const name of named) add(`/run/netns/${name}`);
  for (const pid of numericEntries('/proc')) add(`/proc/${pid}/ns/net`);
  return [...seen.values()];
}

/** Socket inode -> sorted distinct pids holding it. */
export type OwnerMap = ReadonlyMap<number, readonly number[]>;

/** Owners of one inode: a pid, several pids, or none. */
type OwnersOf = (inode: number) => number | readonly number[] | undefined;

/**
 * Owners by binary search in the native pairs, which come sorted by inode
 * then pid (native/index.d.ts): no 20k-entry Map to build and collect.
 */
export function sortedPairsLookup(pairs: Uint32Array): OwnersOf {
  const n = pairs.length >> 1;
  return (inode) => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[mid * 2]! < inode) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= n || pairs[lo * 2] !== inode) return undefined;
    if (lo + 1 >= n || pairs[lo * 2 + 2] !== inode) return pairs[lo * 2 + 1]!;
    const pids: number[] = [];
    for (let i = lo; i < n && pairs[i * 2] === inode; i++) pids.push(pairs[i * 2 + 1]!);
    return pids;
  };
}

const NO_PROCESSES: ProcessInfo[] = Object.freeze([]) as unknown as ProcessInfo[];

/**
 * The processes array of each owner set, one per distinct set and scan:
 * sockets of one process share it (20k sockets, 4 arrays, little GC). The
 * arrays are handed out empty while records are built, then filled once the
 * owners' ProcessInfo is known, then frozen, so a consumer that mutates one
 * fails loudly instead of changing other records.
 */
class ProcessLists {
  private readonly lists = new Map<number | string, { pids: readonly number[]; list: ProcessInfo[] }>();
  private lastKey: number | string | undefined;
  private lastList: ProcessInfo[] = NO_PROCESSES;
  constructor(private readonly owners: OwnersOf) {}

  of(inode: number): ProcessInfo[] {
    const pids = inode ? this.owners(inode) : undefined;
    if (pids === undefined) return NO_PROCESSES;
    const key = typeof pids === 'number' ? pids : pids.join(',');
    // Consecutive sockets usually belong to the same process.
    if (key === this.lastKey) return this.lastList;
    let entry = this.lists.get(key);
    if (!entry) {
      entry = { pids: typeof pids === 'number' ? [pids] : pids, list: [] };
      this.lists.set(key, entry);
    }
    this.lastKey = key;
    this.lastList = entry.list;
    return entry.list;
  }

  /** Every pid that owns a socket handed out so far. */
  pids(): Set<number> {
    const out = new Set<number>();
    for (const { pids } of this.lists.values()) for (const pid of pids) out.add(pid);
    return out;
  }

  fill(infos: ReadonlyMap<number, ProcessInfo | null>): void {
    for (const { pids, list } of this.lists.values()) {
      for (const pid of pids) {
        const info = infos.get(pid);
        if (info) list.push(info);
      }
      Object.freeze(list);
    }
  }
}

/** Pure: raw sockets of one namespace + owners + process table -> records. */
export function toRecords(
  raw: readonly RawSocket[],
  netns: number,
  owners: OwnerMap,
  infos: ReadonlyMap<number, ProcessInfo | null>,
): SocketRecord[] {
  const lists = new ProcessLists((inode) => owners.get(inode));
  const records = raw.map((s) => {
    const r: SocketRecord = {
      proto: s.proto, family: s.family, address: s.address, port: s.port,
      remoteAddress: s.remoteAddress, remotePort: s.remotePort, state: s.state,
      inode: s.inode, uid: s.uid, netns, cookie: s.cookie,
      processes: lists.of(s.inode),
    };
    if (s.v6only !== undefined) r.v6only = s.v6only;
    return r;
  });
  lists.fill(infos);
  return records;
}

/** toRecords straight from the packed dump: no intermediate RawSocket objects. */
function viewToRecords(v: PackedView, netns: number, lists: ProcessLists, out: SocketRecord[]): void {
  for (let i = 0; i < v.count; i++) {
    const inode = v.inode(i);
    const r: SocketRecord = {
      proto: v.proto(i), family: v.family(i), address: v.address(i), port: v.port(i),
      remoteAddress: v.remoteAddress(i), remotePort: v.remotePort(i), state: v.state(i),
      inode, uid: v.uid(i), netns, cookie: v.cookie(i),
      processes: lists.of(inode),
    };
    const v6only = v.v6only(i);
    if (v6only !== undefined) r.v6only = v6only;
    out.push(r);
  }
}

/** ProcessInfo of each pid, read once (null for processes that exited). */
export async function readProcesses(pids: Iterable<number>): Promise<Map<number, ProcessInfo | null>> {
  const list = [...new Set(pids)];
  const infos = await Promise.all(list.map((pid) => readProcess(pid)));
  return new Map(list.map((pid, i) => [pid, infos[i] ?? null]));
}

const NAMESPACE_GONE = new Set(['ENOENT', 'ESRCH', 'EINVAL', 'EPERM', 'EACCES']);

/**
 * One dump per distinct network namespace, with owners. A namespace that
 * vanishes between listing and dumping is skipped; failing to dump our own
 * namespace throws BS_SOCKDIAG_FAILED.
 */
export async function dumpSockets(options: DumpOptions = {}): Promise<SocketRecord[]> {
  const diag = { tcpStates: options.tcpStates ?? 1 << TCP_LISTEN, udp: options.udp ?? true };
  const targets = options.namespaces === 'self' ? [{ inode: netnsInode() }] : listNamespaces();
  const dumps: Array<{ netns: number; view: PackedView }> = [];
  for (const t of targets) {
    try {
      const packed = sockDiagPacked(t.path === undefined ? diag : { ...diag, netnsPath: t.path });
      dumps.push({ netns: t.inode, view: new PackedView(packed) });
    } catch (err) {
      // Another namespace may vanish (its last process exited) or be closed
      // to us; ours must work.
      if (t.path === undefined || !NAMESPACE_GONE.has(errnoOf((err as { cause?: unknown }).cause))) throw err;
    }
  }
  // Inodes are global (sockfs), so one walk serves every namespace.
  let owners: OwnersOf = () => undefined;
  if (options.processes !== false) {
    const { pairs, method, reason } = ownerPairs();
    options.onOwnerWalk?.(reason === undefined ? { method } : { method, reason });
    owners = sortedPairsLookup(pairs);
  }
  const lists = new ProcessLists(owners);
  const records: SocketRecord[] = [];
  for (const d of dumps) viewToRecords(d.view, d.netns, lists, records);
  lists.fill(await readProcesses(lists.pids()));
  return records;
}

export interface SockDiagSourceOptions extends Omit<DumpOptions, 'processes' | 'onOwnerWalk'> {
  /** Polling period; default 1000 ms. */
  intervalMs?: number;
  /** Says (debug) which owner walk is used, when it changes. */
  log?: Logger;
}

export interface SockDiagStats {
  scans: number;
  /** How the last scan found socket owners; null before the first scan. */
  ownerWalk: OwnerWalkMethod | null;
  /** Why the BPF iterator was not used, when ownerWalk is 'proc-walk'. */
  ownerWalkReason: string | null;
}

export class SockDiagSource implements DiscoverySource {
  readonly name = 'sockdiag' as const;
  private readonly intervalMs: number;
  private readonly dump: DumpOptions;
  private readonly log: Logger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private holding = false;
  private counts: SockDiagStats = { scans: 0, ownerWalk: null, ownerWalkReason: null };

  constructor(opts: SockDiagSourceOptions = {}) {
    const { intervalMs = 1000, log, ...dump } = opts;
    if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
      throw new BindsightError('BS_CONFIG_INVALID', `sockdiag intervalMs must be > 0, got ${intervalMs}`);
    }
    this.intervalMs = intervalMs;
    this.log = log;
    this.dump = { ...dump, onOwnerWalk: (w) => this.noteOwnerWalk(w.method, w.reason ?? null) };
  }

  private noteOwnerWalk(method: OwnerWalkMethod, reason: string | null): void {
    if (method !== this.counts.ownerWalk || reason !== this.counts.ownerWalkReason) {
      if (method === 'bpf-iter') this.log?.debug('sockdiag: socket owners from the BPF task_file iterator');
      else this.log?.debug({ reason }, 'sockdiag: socket owners from the /proc fd walk');
    }
    this.counts = { scans: this.counts.scans + 1, ownerWalk: method, ownerWalkReason: reason };
  }

  stats(): SockDiagStats {
    return { ...this.counts };
  }

  async probe(): Promise<void> {
    loadNative(); // BS_NATIVE_DISABLED / BS_NATIVE_UNAVAILABLE say why and how to fix
    sockDiag({ tcpStates: 1 << TCP_LISTEN, udp: true }); // BS_SOCKDIAG_FAILED
    socketOwnerPairs();
  }

  scan(): Promise<SocketRecord[]> {
    return dumpSockets(this.dump);
  }

  /** Emits a snapshot now, then every intervalMs (a scan never overlaps another). */
  async start(onEvent: (e: SourceEvent) => void, onError?: (err: Error) => void): Promise<void> {
    await this.stop();
    this.stopped = false;
    holdOwnerWalk(); // the iterator stays attached while we poll
    this.holding = true;
    try {
      onEvent({ kind: 'snapshot', sockets: await this.scan() });
    } catch (err) {
      await this.stop();
      throw err;
    }
    const tick = (): void => {
      this.running = this.scan().then(
        (sockets) => { if (!this.stopped) onEvent({ kind: 'snapshot', sockets }); },
        (err: unknown) => { onError?.(err instanceof Error ? err : new Error(String(err))); },
      ).finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(tick);
      });
    };
    if (!this.stopped) this.schedule(tick);
  }

  private schedule(tick: () => void): void {
    this.timer = setTimeout(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.holding) {
      this.holding = false;
      releaseOwnerWalk(); // detaches the iterator when no other source polls
    }
  }
}
