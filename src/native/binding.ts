// Loads the native addon (build/Release/bindsight_native.node) and wraps it:
// arguments are validated here, native failures become BindsightErrors.
// In the manner of better-sqlite3's lib/binding.js, a failed load says why
// and how to fix it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BindsightError } from '../errors.js';
import type * as Native from '../../native/index.js';

export type NativeAddon = typeof Native;
export type { PackedSockets, RawSocket, SockDiagOptions } from '../../native/index.js';
type RawSocket = Native.RawSocket;

const ADDON = 'build/Release/bindsight_native.node';
const FIX = 'run scripts/setup.sh (or `npm run build:native`) to build it';

let cached: NativeAddon | undefined;

/** The package root: the nearest ancestor holding bindsight's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'bindsight') {
          return dir;
        }
      } catch { /* unreadable manifest: keep walking up */ }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new BindsightError('BS_NATIVE_UNAVAILABLE', `package root not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function nativeDisabled(): boolean {
  return process.env.BINDSIGHT_NO_NATIVE === '1';
}

/** The addon, loaded once. Throws BS_NATIVE_DISABLED or BS_NATIVE_UNAVAILABLE. */
export function loadNative(): NativeAddon {
  if (nativeDisabled()) {
    throw new BindsightError('BS_NATIVE_DISABLED', 'unset BINDSIGHT_NO_NATIVE to use it');
  }
  if (cached) return cached;
  const path = join(packageRoot(), ADDON);
  if (!existsSync(path)) {
    throw new BindsightError('BS_NATIVE_UNAVAILABLE', `${path} does not exist; ${FIX}`);
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new BindsightError('BS_NATIVE_UNAVAILABLE', `cannot load ${path} (${why}); ${FIX}`, { cause: err });
  }
  for (const fn of ['sockDiag', 'sockDiagPacked', 'socketOwners', 'socketOwnersPacked', 'netnsInode'] as const) {
    if (typeof addon[fn] !== 'function') {
      throw new BindsightError('BS_NATIVE_UNAVAILABLE', `${path} lacks ${fn}(), it is stale; ${FIX}`);
    }
  }
  cached = addon;
  return addon;
}

/** True when loadNative() would succeed. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

function checkPath(name: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || path.length > 4096) {
    throw invalid(`${name} must be an absolute path without NUL bytes`);
  }
}

/** TCP states 1..12 (include/net/tcp_states.h) fit in bits 1..12. */
const TCP_STATE_MASK_MAX = 0x1fff;

function checkOptions(options: Native.SockDiagOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('sockDiag options must be an object');
  if (options.netnsPath !== undefined) checkPath('netnsPath', options.netnsPath);
  const states = options.tcpStates;
  if (states !== undefined && !(Number.isInteger(states) && states >= 0 && states <= TCP_STATE_MASK_MAX)) {
    throw invalid(`tcpStates must be an integer bitmask in 0..${TCP_STATE_MASK_MAX}`);
  }
  if (options.udp !== undefined && typeof options.udp !== 'boolean') throw invalid('udp must be a boolean');
}

/** Errno name of a native failure ('ENOENT'), '' when it has none. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function sockDiagFailed(err: unknown, where: string): BindsightError {
  const why = err instanceof Error ? err.message : String(err);
  return new BindsightError('BS_SOCKDIAG_FAILED', `${where}: ${why}`, { cause: err });
}

const TWO_32 = 2 ** 32;
const RECORD_BYTES = 32;

/**
 * Field access to the packed dump without building objects (layout:
 * native/index.d.ts, PackedSockets). The one place that knows the offsets.
 */
export class PackedView {
  readonly count: number;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  private readonly strings: readonly string[];

  constructor(packed: Native.PackedSockets) {
    this.count = Math.floor(packed.records.byteLength / RECORD_BYTES);
    this.u32 = new Uint32Array(packed.records, 0, this.count * 8);
    this.u16 = new Uint16Array(packed.records, 0, this.count * 16);
    this.u8 = new Uint8Array(packed.records, 0, this.count * RECORD_BYTES);
    this.strings = packed.strings;
  }

  /** Decimal u64; cookies below 2^53 print exactly as numbers, BigInt beyond. */
  cookie(i: number): string {
    const lo = this.u32[i * 8]!, hi = this.u32[i * 8 + 1]!;
    return hi < 0x200000 ? String(hi * TWO_32 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }
  inode(i: number): number { return this.u32[i * 8 + 2]!; }
  uid(i: number): number { return this.u32[i * 8 + 3]!; }
  address(i: number): string { return this.strings[this.u32[i * 8 + 4]!] ?? ''; }
  remoteAddress(i: number): string { return this.strings[this.u32[i * 8 + 5]!] ?? ''; }
  port(i: number): number { return this.u16[i * 16 + 12]!; }
  remotePort(i: number): number { return this.u16[i * 16 + 13]!; }
  proto(i: number): 'tcp' | 'udp' { return this.u8[i * 32 + 28] === 6 ? 'tcp' : 'udp'; }
  family(i: number): 4 | 6 { return this.u8[i * 32 + 29] === 4 ? 4 : 6; }
  state(i: number): number { return this.u8[i * 32 + 30]!; }
  /** Undefined for AF_INET (the i8 is -1, read here as 0xff). */
  v6only(i: number): boolean | undefined {
    const v = this.u8[i * 32 + 31]!;
    return v === 0xff ? undefined : v === 1;
  }
}

export function decodePacked(packed: Native.PackedSockets): RawSocket[] {
  const v = new PackedView(packed);
  const out = new Array<RawSocket>(v.count);
  for (let i = 0; i < v.count; i++) {
    const s: RawSocket = {
      proto: v.proto(i), family: v.family(i), state: v.state(i),
      address: v.address(i), port: v.port(i),
      remoteAddress: v.remoteAddress(i), remotePort: v.remotePort(i),
      inode: v.inode(i), uid: v.uid(i), cookie: v.cookie(i),
    };
    const v6only = v.v6only(i);
    if (v6only !== undefined) s.v6only = v6only;
    out[i] = s;
  }
  return out;
}

/** sockDiag without building objects: read it through PackedView. */
export function sockDiagPacked(options: Native.SockDiagOptions = {}): Native.PackedSockets {
  checkOptions(options);
  const addon = loadNative();
  try {
    return addon.sockDiagPacked(options);
  } catch (err) {
    throw sockDiagFailed(err, options.netnsPath ?? 'own namespace');
  }
}

/**
 * NETLINK_SOCK_DIAG dump (see native/index.d.ts). Throws BS_SOCKDIAG_FAILED
 * with the native error (errno name in `cause.code`) as cause.
 */
export function sockDiag(options: Native.SockDiagOptions = {}): RawSocket[] {
  return decodePacked(sockDiagPacked(options));
}

/** Native /proc walk: flat [inode, pid, inode, pid, ...] (see socketOwnersPacked). */
export function socketOwnerPairs(): Uint32Array {
  const addon = loadNative();
  try {
    return addon.socketOwnersPacked();
  } catch (err) {
    throw sockDiagFailed(err, 'socket owner walk');
  }
}

/** Inode of a network namespace file; default the process's own. */
export function netnsInode(path?: string): number {
  if (path !== undefined) checkPath('path', path);
  const addon = loadNative();
  try {
    return addon.netnsInode(path);
  } catch (err) {
    throw sockDiagFailed(err, `namespace ${path ?? '/proc/self/ns/net'}`);
  }
}
