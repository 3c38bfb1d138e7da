// Loader for the bindsight_bpf addon (binding.gyp target bindsight_bpf), and
// the argument checks that run before native code does. Tries an explicit
// path (BINDSIGHT_BPF_ADDON), then build/Release, then build/Debug, and says
// how to fix it when all fail.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BindsightError } from '../errors.js';

import type * as BpfNative from '../../native/bpf.js';

export type BpfSessionOptions = BpfNative.BpfSessionOptions;
/** One loaded-and-attached set of programs (native/bpf.d.ts, BpfSession). */
export type BpfSessionHandle = BpfNative.BpfSession;
type BpfAddon = typeof BpfNative;

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));
let cached: BpfAddon | null = null;

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.BINDSIGHT_BPF_ADDON) list.push(process.env.BINDSIGHT_BPF_ADDON);
  list.push(`${root}build/Release/bindsight_bpf.node`, `${root}build/Debug/bindsight_bpf.node`);
  return list;
}

export function loadBpfAddon(): BpfAddon {
  if (process.env.BINDSIGHT_NO_NATIVE === '1') throw new BindsightError('BS_NATIVE_DISABLED');
  if (cached) return cached;
  const tried: string[] = [];
  for (const path of candidates()) {
    if (!existsSync(path)) {
      tried.push(`${path}: not found`);
      continue;
    }
    try {
      cached = require(path) as BpfAddon;
      return cached;
    } catch (e) {
      tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new BindsightError('BS_NATIVE_UNAVAILABLE',
    `bindsight_bpf: ${tried.join('; ')}. Run scripts/setup.sh (clang, libbpf-dev, bpftool) ` +
    'and npm run build:native');
}

const PAGE = 4096;

/** The smallest valid ring size ≥ bytes: a power of two, at least one page. */
export function ringSize(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= PAGE) return PAGE;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  return Math.min(p, 2 ** 30);
}

/**
 * Opens a BPF session. Throws BindsightError('BS_BPF_LOAD') whose message
 * names the failing hook and errno; `hook` and `errno` are on its cause.
 */
export function openBpfSession(o: BpfSessionOptions): BpfSessionHandle {
  const addon = loadBpfAddon();
  const known = new Set(addon.HOOKS.map((h) => h.name));
  const bad = o.hooks.filter((h) => !known.has(h));
  if (bad.length > 0 || o.hooks.length === 0) {
    throw new BindsightError('BS_CONFIG_INVALID',
      `ebpf hooks must be a non-empty subset of ${[...known].join(', ')}; got ${o.hooks.join(', ') || 'none'}`);
  }
  try {
    return new addon.BpfSession({ ...o, hooks: [...new Set(o.hooks)], ringBufferBytes: ringSize(o.ringBufferBytes) });
  } catch (e) {
    const err = e as Error & { hook?: string; errno?: number };
    let detail = err.message;
    if (err.hook === 'bind_tp' && err.errno === 2 && !existsSync('/sys/kernel/tracing/events')) {
      detail += ' (tracefs is not mounted: mount -t tracefs nodev /sys/kernel/tracing)';
    }
    throw new BindsightError('BS_BPF_LOAD', detail, { cause: e });
  }
}

/** One socket fd as the owner iterator reports it (bpf/owners.h). */
export interface SocketFdOwner {
  /** Decimal u64 socket cookie; '0' until the kernel made one. */
  cookie: string;
  inode: number;
  pid: number;
  fd: number;
  family: number;
  protocol: number;
}

const OWNER_FUNCTIONS = [
  'ownersIterOpen', 'socketOwnersIter', 'socketOwnersIterRecords', 'ownersIterClose', 'ownersIterIds',
] as const;

/** The addon, checked to have the owner iterator (a stale build may not). */
function ownersAddon(): BpfAddon {
  const addon = loadBpfAddon();
  for (const fn of OWNER_FUNCTIONS) {
    if (typeof addon[fn] !== 'function') {
      throw new BindsightError('BS_NATIVE_UNAVAILABLE', `bindsight_bpf lacks ${fn}(), it is stale; run npm run build:native`);
    }
  }
  return addon;
}

/**
 * Loads and attaches the socket owner iterator once (later calls are free).
 * Throws BS_NATIVE_DISABLED, BS_NATIVE_UNAVAILABLE or BS_BPF_LOAD (errno on
 * the cause).
 */
export function openOwnersIter(): void {
  const addon = ownersAddon();
  try {
    addon.ownersIterOpen();
  } catch (e) {
    throw new BindsightError('BS_BPF_LOAD', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** [inode, pid, ...] sorted by inode then pid, like socketOwnerPairs (binding.ts). */
export function ownersIterPairs(): Uint32Array {
  return ownersAddon().socketOwnersIter();
}

/** Every socket fd of every process, with its cookie, fd, family and protocol. */
export function ownersIterRecords(): SocketFdOwner[] {
  const addon = ownersAddon();
  const buf = addon.socketOwnersIterRecords();
  const size = addon.OWNER_RECORD_SIZE;
  const out: SocketFdOwner[] = [];
  for (let at = 0; at + size <= buf.length; at += size) {
    out.push({
      cookie: buf.readBigUInt64LE(at).toString(), inode: buf.readUInt32LE(at + 8),
      pid: buf.readUInt32LE(at + 12), fd: buf.readUInt32LE(at + 16),
      family: buf.readUInt16LE(at + 20), protocol: buf.readUInt16LE(at + 22),
    });
  }
  return out;
}

/** Detaches the iterator (no-op when it was never loaded or the addon is absent). */
export function closeOwnersIter(): void {
  let addon: BpfAddon;
  try {
    addon = ownersAddon();
  } catch {
    return;
  }
  addon.ownersIterClose();
}

/** Kernel ids of the iterator's program and link (0 when detached). */
export function ownersIterIds(): { program: number; link: number } {
  return ownersAddon().ownersIterIds();
}
