// Response rate limiting: a token bucket per client network (/24 for IPv4,
// /56 for IPv6, as BIND's RRL and NSD's rrl-ipv4/6-prefix-length default),
// so that bindsight cannot be used as a UDP amplifier. Over the rate, every
// `slip`-th reply becomes an empty TC=1 reply (a real client retries over
// TCP, which RRL never limits) and the others are dropped.
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Bytes } from './wire/rdata.js';
import type { RateDecision } from './wire/respond.js';

export interface RrlOptions {
  enabled: boolean;
  /** Sustained replies per second per client network. */
  responsesPerSecond: number;
  /** Burst allowance in seconds of rate: bucket size = rate x window. Default 1. */
  window?: number;
  /** Every slip-th limited reply is a TC=1 reply; 0 drops all. Default 2. */
  slip?: number;
  exemptLoopback: boolean;
}

/** Documented defaults (docs/dns-conformance.md). */
export const RRL_DEFAULTS = { responsesPerSecond: 20, window: 1, slip: 2 } as const;

/** Buckets kept at most; past this, full (idle) buckets are swept first. */
const MAX_BUCKETS = 100_000;

interface Bucket { tokens: number; at: number; limited: number }

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly slip: number;

  constructor(private readonly o: RrlOptions, private readonly now: () => number = () => performance.now()) {
    this.rate = Math.max(o.responsesPerSecond, 0);
    this.burst = Math.max(this.rate * (o.window ?? RRL_DEFAULTS.window), 1);
    this.slip = o.slip ?? RRL_DEFAULTS.slip;
  }

  check(address: string): RateDecision {
    if (!this.o.enabled) return 'ok';
    if (this.o.exemptLoopback && isLoopback(address)) return 'ok';
    const key = prefixKey(address);
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(t);
      b = { tokens: this.burst, at: t, limited: 0 };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'ok';
    }
    b.limited++;
    return this.slip > 0 && b.limited % this.slip === 0 ? 'slip' : 'drop';
  }

  get size(): number { return this.buckets.size; }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k);
    }
    // Everyone is busy (a spoofed flood): start over rather than grow.
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }
}

export function isLoopback(address: string): boolean {
  const a = unmapV4(address);
  if (isIPv4(a)) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** The client network a bucket belongs to. */
export function prefixKey(address: string): string {
  const a = unmapV4(address);
  if (isIPv4(a)) return a.slice(0, a.lastIndexOf('.'));
  if (isIPv6(a)) {
    const b = v6Bytes(a);
    return b ? b.subarray(0, 7).toString('hex') : a;
  }
  return a;
}

function unmapV4(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1]! : a;
}

function v6Bytes(a: string): Buffer | null {
  try {
    return ipv6Bytes(a.split('%')[0]);
  } catch {
    return null;
  }
}
