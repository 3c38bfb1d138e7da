// `bindsight list --json` against `ss -ltnup`, both filtered by the same
// written rule (docs/naming.md): the same sockets, the same pids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { isService, type SocketRecord } from '../src/discovery/socket.js';
import { readEphemeralRange } from '../src/registry/host.js';
import { selfNetns } from '../src/discovery/procfs.js';
import type { Registry } from '../src/registry/registry.js';

const run = promisify(execFile);

function splitHostPort(s: string): { address: string; port: number } {
  const i = s.lastIndexOf(':');
  let address = s.slice(0, i).replace(/%[^\]]*$/, '');
  if (address.startsWith('[')) address = address.slice(1, -1).replace(/%.*$/, '');
  if (address === '*') address = '::';
  return { address, port: Number(s.slice(i + 1)) };
}

/** Rows of `ss -ltnupH`, as `proto address port pids`. */
async function ssTruth(): Promise<string[]> {
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

function listTruth(r: Registry): string[] {
  const ns = selfNetns();
  return [...new Set(r.services.flatMap((s) => s.endpoints.filter((e) => e.netns === ns || e.netns === 0)
    .map((e) => `${e.proto} ${e.address} ${e.port} ${e.pids.join(',')}`)))].sort();
}

describe('bindsight list --json vs ss -ltnup', () => {
  let d: RunningDaemon;
  let servers: TestServer[] = [];
  beforeAll(async () => {
    servers = await Promise.all([
      startServer('web', [{ proto: 'tcp', port: 0, host: '0.0.0.0' }, { proto: 'udp', port: 0, host: '127.0.0.1' }]),
      startServer('v6only', [{ proto: 'tcp', port: 0, host: '::', ipv6Only: true }, { proto: 'udp', port: 5999, host: '::' }]),
    ]);
    d = await startDaemon({ args: ['--interval', '200ms', '--no-zones'] });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await d?.stop();
  });

  for (const via of ['the daemon', 'a local scan']) {
    it(`same sockets and pids (${via})`, async () => {
      // The host keeps changing (other processes come and go): compare a few times.
      let last: [string[], string[]] = [[], []];
      for (let attempt = 0; attempt < 5; attempt++) {
        await new Promise((r) => setTimeout(r, 400));
        const args = via === 'the daemon' ? ['list', '--json', '--control', `127.0.0.1:${d.controlPort}`] : ['list', '--json', '--control', 'off'];
        const [{ stdout }, ss] = await Promise.all([run(process.execPath, [CLI, ...args]), ssTruth()]);
        last = [listTruth(JSON.parse(stdout) as Registry), ss];
        if (JSON.stringify(last[0]) === JSON.stringify(last[1])) break;
      }
      expect(last[0]).toEqual(last[1]);
      for (const s of servers) expect(last[0].some((row) => row.endsWith(` ${s.pid}`))).toBe(true);
    });
  }

  it('prints a table by default', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'list', '--control', `127.0.0.1:${d.controlPort}`]);
    expect(stdout.split("\n")[0]).toMatch(/^NAME\s+TYPE\s+PROTO\s+LOCAL ADDRESS:PORT\s+PID\s+COMM\s+UID\s+NETNS\s+CONNS\(IN\/OUT\)$/);
    expect(stdout).toMatch(/\nweb\s+/);
  });
});
