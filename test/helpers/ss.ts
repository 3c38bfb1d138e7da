// The `ss -ltnup` truth, filtered by the written service rule
// (docs/naming.md), and the same view of a bindsight registry.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isService, type SocketRecord } from '../../src/discovery/socket.js';
import { readEphemeralRange } from '../../src/registry/host.js';
import { selfNetns } from '../../src/discovery/procfs.js';
import type { Registry } from '../../src/registry/registry.js';

const run = promisify(execFile);

function splitHostPort(s: string): { address: string; port: number } {
  const i = s.lastIndexOf(':');
  let address = s.slice(0, i).replace(/%[^\]]*$/, '');
  if (address.startsWith('[')) address = address.slice(1, -1).replace(/%.*$/, '');
  if (address === '*') address = '::';
  return { address, port: Number(s.slice(i + 1)) };
}

/** Rows of `ss -ltnupH`, as `proto address port pids`. */
export async function ssTruth(): Promise<string[]> {
  const { stdout } = await run('ss', ['-ltnupH']);
  const eph = readEphemeralRange();
  const rows: string[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const f = line.trim().split(/\s+/);
    const [netid, state, , , local, peer] = f;
    const l = splitHostPort(local!);
    const p = splitHostPort(peer!);
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const s: SocketRecord = {
      proto: netid as 'tcp' | 'udp', family: l.address.includes(':') ? 6 : 4, address: l.address, port: l.port,
      remoteAddress: p.address, remotePort: Number.isFinite(p.port) ? p.port : 0, state: state === 'LISTEN' ? 10 : 7,
      inode: 0, uid: 0, netns: 0, processes: [],
    };
    if (isService(s, eph)) rows.push(`${s.proto} ${s.address} ${s.port} ${[...new Set(pids)].join(',')}`);
  }
  return [...new Set(rows)].sort();
}

export function listTruth(r: Registry): string[] {
  const ns = selfNetns();
  return [...new Set(r.services.flatMap((s) => s.endpoints.filter((e) => e.netns === ns || e.netns === 0)
    .map((e) => `${e.proto} ${e.address} ${e.port} ${e.pids.join(',')}`)))].sort();
}

