// The `ebpf` source: kernel events (bpf/bindsight.bpf.c) keep the socket set
// current within milliseconds. Attach first, then snapshot with sock_diag,
// then apply events, so a listener born between the two is not lost. A
// growing drop counter means lost events: full resync. A slow reconcile
// re-scans as a safety net and counts what it had to correct (should be 0).
import { readFileSync } from 'node:fs';
import { BindsightError } from '../errors.js';
import type { Logger } from '../log.js';
import { openBpfSession, type BpfSessionHandle } from '../native/bpf-binding.js';
import { decodeEvents, HOOK_NAMES, type BpfEvent } from './bpf-event.js';
import {
  ConnectionTable, effectOf, isTracked, processFromEvent, recordFromEvent, socketKey,
  type ConnectionFacts,
} from './ebpf-state.js';
import type { ProcessInfo, SocketRecord } from './socket.js';
import type { DiscoverySource, SourceEvent } from './source.js';

/**
 * The cheapest hooks that see TCP and UDP servers come and go, including
 * those that existed before we attached: no syscall tracepoint (it taxes
 * every syscall) and no sockops (it runs several times per TCP connection
 * and only sees closes of listeners born after attach). Add 'sockops' for
 * connection facts. Measured in docs/kernel-support.md.
 */
export const DEFAULT_HOOKS = ['set_state', 'post_bind', 'sock_release'] as const;
/** The default hooks plus sockops, for connection facts. */
export const CONNECTION_HOOKS = [...DEFAULT_HOOKS, 'sockops'] as const;
const DEFAULT_RING_BYTES = 1 << 20;
const DROP_POLL_MS = 1000;
/**
 * A scan reflects every event older than its start minus this margin: the
 * margin covers tp_btf/inet_sock_set_state firing just before the listener
 * is hashed (inet_csk_listen_start, net/ipv4/inet_connection_sock.c).
 */
const SCAN_MARGIN_NS = 5_000_000n;
/** Events still in flight when a reconcile scan ends get this long to land. */
const RECONCILE_SETTLE_MS = 100;

export interface EbpfOptions {
  hooks?: string[];
  ringBufferBytes?: number;
  /** Safety-net rescan period; default 30 s. 0 disables it. */
  reconcileMs?: number;
  log: Logger;
  /** Where snapshots come from; default the sockdiag source. */
  snapshot?: Pick<DiscoverySource, 'scan'>;
  /** Default /proc/self/mountinfo's cgroup2 mount. */
  cgroupPath?: string;
  /** Size of the add/remove event record. */
  recordSize?: number;
}

export interface EbpfStats {
  events: number;
  drops: number;
  resyncs: number;
  reconcileCorrections: number;
  hooks: string[];
}

export interface EbpfRecordedEvent {
  at: string;
  kind: 'add' | 'remove';
  hook: string;
  cookie: string;
  proto: string;
  address: string;
  port: number;
  pid: number;
  comm: string;
  netns: number;
}

/** The cgroup v2 mount point from mountinfo text (proc(5)), or null. */
export function findCgroup2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup2') return line.slice(0, sep).split(' ')[4]?.replace(/\\040/g, ' ') ?? null;
  }
  return null;
}

function cgroupRoot(): string {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch { /* reported below */ }
  const path = findCgroup2Mount(text);
  if (!path) throw new BindsightError('BS_BPF_LOAD', 'no cgroup2 mount in /proc/self/mountinfo (cgroup hooks need one)');
  return path;
}

async function defaultSnapshot(): Promise<Pick<DiscoverySource, 'scan'>> {
  const { SockDiagSource } = await import('./sockdiag.js');
  return new SockDiagSource({ intervalMs: 3_600_000 });
}

type ReadProcess = (pid: number) => Promise<ProcessInfo | null>;
let readProcessFn: Promise<ReadProcess> | null = null;

/**
 * /proc/<pid> reads cost about a millisecond through the libuv pool, and a
 * server often opens several sockets at once: cache per pid briefly, and
 * re-read when the comm the kernel reports differs (exec, reused pid).
 */
class ProcessCache {
  private readonly items = new Map<number, { at: number; info: Promise<ProcessInfo | null> }>();
  constructor(private readonly ttlMs = 2000) {}

  get(e: BpfEvent): Promise<ProcessInfo | null> {
    const now = Date.now();
    const hit = this.items.get(e.tgid);
    if (hit && now - hit.at < this.ttlMs) return hit.info;
    readProcessFn ??= import('./process-info.js').then((m) => m.readProcess);
    const info = readProcessFn.then((read) => read(e.tgid)).catch(() => null);
    if (this.items.size > 1024) this.items.clear();
    this.items.set(e.tgid, { at: now, info });
    return info;
  }

  async processOf(e: BpfEvent): Promise<ProcessInfo> {
    let info = await this.get(e);
    if (info && info.comm !== e.comm) {
      this.items.delete(e.tgid);
      info = await this.get(e);
    }
    // A thread may carry its own comm (prctl PR_SET_NAME): after one fresh
    // read, /proc/<tgid> is the truth.
    return info ?? processFromEvent(e);
  }
}

export class EbpfSource implements DiscoverySource {
  readonly name = 'ebpf' as const;
  private readonly hooks: string[];
  private readonly ringBytes: number;
  private readonly reconcileMs: number;
  private readonly log: Logger;
  private session: BpfSessionHandle | null = null;
  private snap: Pick<DiscoverySource, 'scan'> | null;
  private emit: ((e: SourceEvent) => void) | null = null;
  private readonly sockets = new Map<string, SocketRecord>();
  private readonly conns = new ConnectionTable();
  private readonly procs = new ProcessCache();
  /** Keys changed by events since the running reconcile scan began. */
  private touched: Set<string> | null = null;
  /**
   * Events stamped before this are already reflected in the last snapshot.
   * After a drop they must be skipped: an add whose remove was lost would
   * bring a closed socket back.
   */
  private horizonNs = 0n;
  /** Every event, resync and reconcile runs in order on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly record: EbpfRecordedEvent[] = [];
  private readonly recordSize: number;
  private counts = { events: 0, drops: 0, resyncs: 0, reconcileCorrections: 0, malformed: 0 };

  constructor(private readonly opts: EbpfOptions) {
    this.hooks = [...(opts.hooks ?? DEFAULT_HOOKS)];
    this.ringBytes = opts.ringBufferBytes ?? DEFAULT_RING_BYTES;
    // setInterval takes at most 2^31-1 ms (longer fires after 1 ms).
    this.reconcileMs = Math.min(opts.reconcileMs ?? 30_000, 2 ** 31 - 1);
    this.log = opts.log;
    this.snap = opts.snapshot ?? null;
    this.recordSize = opts.recordSize ?? 1024;
    const bad = this.hooks.filter((h) => !(HOOK_NAMES as readonly string[]).includes(h));
    if (bad.length > 0 || this.hooks.length === 0) {
      throw new BindsightError('BS_CONFIG_INVALID', `unknown ebpf hooks: ${bad.join(', ') || '(none given)'}; known: ${HOOK_NAMES.join(', ')}`);
    }
  }

  private open(onEvents: (b: Buffer) => void): BpfSessionHandle {
    const libbpf = this.log.child({ component: 'libbpf' });
    return openBpfSession({
      hooks: this.hooks,
      cgroupPath: this.opts.cgroupPath ?? cgroupRoot(),
      ringBufferBytes: this.ringBytes,
      onEvents,
      onLog: (level, msg) => {
        if (level === 'warn') libbpf.warn(msg);
        else if (level === 'info') libbpf.info(msg);
        else libbpf.debug(msg);
      },
    });
  }

  /** Loads and attaches the configured hooks once, then detaches again. */
  async probe(): Promise<void> {
    this.open(() => {}).close();
  }

  async scan(): Promise<SocketRecord[]> {
    this.snap ??= await defaultSnapshot();
    return this.snap.scan();
  }

  async start(onEvent: (e: SourceEvent) => void): Promise<void> {
    if (this.session) throw new Error('EbpfSource already started');
    this.emit = onEvent;
    this.session = this.open((batch) => this.onBatch(batch));
    this.log.info({ hooks: this.session.hooks, ringBufferBytes: this.ringBytes }, 'ebpf programs attached');
    // Events from now on queue behind this first snapshot.
    let failed: unknown = null;
    const first = this.enqueue(() => this.resync(false).catch((e: unknown) => { failed = e; }));
    this.timers.push(setInterval(() => this.checkDrops(), DROP_POLL_MS).unref());
    if (this.reconcileMs > 0) {
      this.timers.push(setInterval(() => void this.reconcile(), this.reconcileMs).unref());
    }
    await first;
    if (failed) {
      await this.stop();
      throw failed;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.session?.close();
    this.session = null;
    this.emit = null;
    await this.chain;
    this.sockets.clear();
  }

  stats(): EbpfStats {
    const { events, drops, resyncs, reconcileCorrections } = this.counts;
    return { events, drops, resyncs, reconcileCorrections, hooks: this.session?.hooks ?? [] };
  }

  /** The last add/remove events, oldest first (control endpoint). */
  recentEvents(): EbpfRecordedEvent[] {
    return [...this.record];
  }

  /**
   * Connection facts per service, keyed by the listener's socket cookie.
   * Empty unless the 'sockops' hook is loaded.
   */
  connections(): Map<string, ConnectionFacts> {
    return this.conns.snapshot();
  }

  /** Kernel ids of our programs and links (tests check bpftool with them). */
  kernelIds(): { programs: number[]; links: number[] } {
    return { programs: this.session?.programIds() ?? [], links: this.session?.linkIds() ?? [] };
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job).catch((e: unknown) => {
      this.log.error({ err: e }, 'ebpf source: event handling failed');
    });
    return this.chain;
  }

  private onBatch(batch: Buffer): void {
    const { events, malformed } = decodeEvents(batch);
    this.counts.events += events.length;
    if (malformed > 0) {
      this.counts.malformed += malformed;
      this.log.warn({ malformed }, 'ebpf: malformed ring-buffer records ignored');
    }
    // Start /proc reads now, in parallel; apply() awaits them in order.
    for (const e of events) if (effectOf(e) === 'add' && !e.noTask) void this.procs.get(e);
    void this.enqueue(() => this.apply(events));
    this.checkDrops();
  }

  private checkDrops(): void {
    if (!this.session) return;
    const drops = this.session.drops();
    if (drops > this.counts.drops) {
      this.log.warn({ drops, lost: drops - this.counts.drops }, 'ebpf ring buffer overflowed; resyncing from sock_diag');
      this.counts.drops = drops;
      void this.enqueue(() => this.resync(true));
    }
  }

  private async resync(counted: boolean): Promise<void> {
    const startNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns()
    const all = await this.scan();
    if (!this.emit) return;
    this.horizonNs = startNs - SCAN_MARGIN_NS;
    for (const k of this.sockets.keys()) this.touched?.add(k);
    this.sockets.clear();
    for (const s of all) {
      if (!isTracked(s)) continue;
      this.sockets.set(socketKey(s), s);
      this.touched?.add(socketKey(s));
    }
    this.conns.retain(this.sockets);
    if (counted) this.counts.resyncs++;
    this.emit({ kind: 'snapshot', sockets: [...this.sockets.values()] });
  }

  private async apply(events: BpfEvent[]): Promise<void> {
    for (const e of events) {
      this.conns.learnNetns(e);
      const effect = effectOf(e);
      if (effect !== 'connection' && e.tsNs < this.horizonNs) continue;
      if (effect === 'connection') this.conns.apply(e, this.sockets);
      if (effect === 'add' && !this.sockets.has(e.cookie)) {
        const s = recordFromEvent(e, [await this.procs.processOf(e)]);
        this.sockets.set(e.cookie, s);
        this.changed('add', s, e.hook);
      } else if (effect === 'remove') {
        const s = this.sockets.get(e.cookie);
        if (!s) continue;
        this.sockets.delete(e.cookie);
        this.changed('remove', s, e.hook);
      }
    }
  }

  private changed(kind: 'add' | 'remove', s: SocketRecord, hook: string): void {
    const key = socketKey(s);
    this.touched?.add(key);
    const p = s.processes[0];
    this.record.push({
      at: new Date().toISOString(), kind, hook, cookie: key, proto: s.proto, address: s.address,
      port: s.port, pid: p?.pid ?? 0, comm: p?.comm ?? '', netns: s.netns,
    });
    if (this.record.length > this.recordSize) this.record.shift();
    this.log.debug({ kind, hook, cookie: key, proto: s.proto, address: s.address, port: s.port, pid: p?.pid }, 'ebpf socket event');
    this.emit?.({ kind, sockets: [s] });
  }

  /**
   * Re-scans and corrects what events missed. Sockets an event touched while
   * the scan ran are skipped: the scan may predate the event.
   */
  /** Public for tests; runs by itself every reconcileMs. */
  async reconcile(): Promise<void> {
    if (this.touched) return; // one at a time
    this.touched = new Set();
    let all: SocketRecord[];
    try {
      all = await this.scan();
    } catch (e) {
      this.touched = null;
      this.log.warn({ err: e }, 'ebpf reconcile scan failed');
      return;
    }
    // Events that landed while the scan ran apply first (they queue ahead).
    await new Promise((r) => setTimeout(r, RECONCILE_SETTLE_MS));
    await this.enqueue(async () => {
      const touched = this.touched ?? new Set<string>();
      this.touched = null;
      if (!this.emit) return;
      const truth = new Map(all.filter(isTracked).map((s) => [socketKey(s), s]));
      const fixes: Array<['add' | 'remove', SocketRecord]> = [];
      for (const [k, s] of truth) if (!this.sockets.has(k) && !touched.has(k)) fixes.push(['add', s]);
      for (const [k, s] of this.sockets) if (!truth.has(k) && !touched.has(k)) fixes.push(['remove', s]);
      for (const [kind, s] of fixes) {
        if (kind === 'add') this.sockets.set(socketKey(s), s);
        else this.sockets.delete(socketKey(s));
        this.changed(kind, s, 'reconcile');
      }
      if (fixes.length > 0) {
        this.counts.reconcileCorrections += fixes.length;
        this.log.warn({ corrections: fixes.length }, 'ebpf reconcile corrected the socket set');
      }
    });
  }
}
