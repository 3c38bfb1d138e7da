// `bindsight list --json` against `ss -ltnup`, both filtered by the same
// written rule (docs/naming.md): the same sockets, the same pids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import type { Registry } from '../src/registry/registry.js';
import { listTruth, ssTruth } from './helpers/ss.js';

const run = promisify(execFile);

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
