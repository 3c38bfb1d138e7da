// The pure-TypeScript fallback source: /proc/net tables plus the /proc/*/fd
// walk. Works without the native addon, sees only the daemon's own network
// namespace, and cannot tell IPV6_V6ONLY (it assumes net.ipv6.bindv6only).
import { readFile } from 'node:fs/promises';
import { readFileSync, readlinkSync } from 'node:fs';
import { BindsightError } from '../errors.js';
import { socketOwners } from './owners.js';
import { readProcess } from './process-info.js';
import { parseProcNet, type ProcNetRow } from './proc-net.js';
import type { DiscoverySource, SourceEvent } from './source.js';
import type { ProcessInfo, SocketRecord } from './socket.js';
import { TCP_LISTEN } from './socket.js';

const TABLES = [
  ['tcp', 'tcp', 4], ['tcp6', 'tcp', 6], ['udp', 'udp', 4], ['udp6', 'udp', 6],
] as const;

export function selfNetns(): number {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function defaultV6only(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export async function readProcNet(root = '/proc/net'): Promise<ProcNetRow[]> {
  const rows: ProcNetRow[] = [];
  let readable = 0;
  for (const [file, proto, family] of TABLES) {
    let text: string;
    try {
      text = await readFile(`${root}/${file}`, 'utf8');
      readable++;
    } catch {
      continue; // no IPv6 on this kernel, for instance
    }
    rows.push(...parseProcNet(text, proto, family).filter((r) => proto === 'udp' || r.state === TCP_LISTEN));
  }
  if (readable === 0) throw new BindsightError('BS_PROCFS_UNREADABLE', `nothing readable under ${root}`);
  return rows;
}

/** Fills in every holder of each socket; processes that vanish are left out. */
export async function attachProcesses(
  rows: readonly Omit<SocketRecord, 'processes'>[],
  owners: Map<number, number[]>,
): Promise<SocketRecord[]> {
  const cache = new Map<number, Promise<ProcessInfo | null>>();
  const info = (pid: number) => {
    let p = cache.get(pid);
    if (!p) cache.set(pid, (p = readProcess(pid)));
    return p;
  };
  return Promise.all(
    rows.map(async (r) => {
      const pids = r.inode ? owners.get(r.inode) ?? [] : [];
      const processes = (await Promise.all(pids.map(info))).filter((p): p is ProcessInfo => p !== null);
      return { ...r, processes };
    }),
  );
}

export class ProcfsSource implements DiscoverySource {
  readonly name = 'procfs' as const;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(opts: { intervalMs?: number } = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  async probe(): Promise<void> {
    await readProcNet();
  }

  async scan(): Promise<SocketRecord[]> {
    const netns = selfNetns();
    const v6only = defaultV6only();
    const [rows, owners] = await Promise.all([readProcNet(), socketOwners()]);
    const withNs = rows.map((r) => ({ ...r, netns, ...(r.family === 6 ? { v6only } : {}) }));
    return attachProcesses(withNs, owners);
  }

  async start(onEvent: (e: SourceEvent) => void, onError?: (err: Error) => void): Promise<void> {
    let busy = false;
    const tick = async () => {
      if (busy) return; // a slow scan is never stacked on another
      busy = true;
      try {
        onEvent({ kind: 'snapshot', sockets: await this.scan() });
      } finally {
        busy = false;
      }
    };
    await tick();
    this.timer = setInterval(() => void tick().catch((e: Error) => onError?.(e)), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
