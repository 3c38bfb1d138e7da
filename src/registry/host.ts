// What the registry needs to know about this host: its name and the addresses
// of its up, non-loopback interfaces. The pure core takes a HostInfo value;
// readHost() is the thin I/O edge.
import { hostname, networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import type { PortRange } from '../discovery/socket.js';

export interface HostInfo {
  hostname: string;
  /** IPv4 addresses of up, non-loopback interfaces. */
  ipv4: string[];
  /** Global/ULA IPv6 addresses of up, non-loopback interfaces (no fe80::/10). */
  ipv6: string[];
  /** Network namespace inode the daemon runs in (0 when unknown). */
  netns: number;
  ephemeral: PortRange;
}

export function isLinkLocal6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/** libuv lists only interfaces that are IFF_UP and IFF_RUNNING. */
export function readHost(netns = 0): HostInfo {
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') ipv4.push(a.address);
      else if (!isLinkLocal6(a.address)) ipv6.push(a.address);
    }
  }
  return { hostname: hostname(), ipv4: uniq(ipv4), ipv6: uniq(ipv6), netns, ephemeral: readEphemeralRange() };
}

export function readEphemeralRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange {
  try {
    const [low, high] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // fall through to the kernel default
  }
  return { low: 32768, high: 60999 }; // include/net/ip.h default since Linux 4.x
}

function uniq(a: string[]): string[] {
  return [...new Set(a)].sort();
}
