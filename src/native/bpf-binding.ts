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
