// `bindsight list --json` against `ss -ltnup`, both filtered by the same
// written rule (docs/naming.md): the same sockets, the same pids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
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
        const [{ stdout }, ss] = await Promise.all([run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 28 }), ssTruth()]);
        last = [listTruth(JSON.parse(stdout) as Registry), ss];
        if (JSON.stringify(last[0]) === JSON.stringify(last[1])) break;
      }
      expect(last[0]).toEqual(last[1]);
      for (const s of servers) expect(last[0].some((row) => row.endsWith(` ${s.pid}`))).toBe(true);
    });
  }

  it('prints a table by default', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'list', '--control', `127.0.0.1:${d.controlPort}`], { maxBuffer: 1 << 28 });
    expect(stdout.split("\n")[0]).toMatch(/^NAME\s+TYPE\s+PROTO\s+LOCAL ADDRESS:PORT\s+PID\s+COMM\s+UID\s+NETNS\s+CONNS\(IN\/OUT\)$/);
    expect(stdout).toMatch(/\nweb\s+/);
  });

  it('prints a registry of thousands of sockets whole into a pipe', async () => {
    // stdout is asynchronous on pipes: exiting right after write() used to cut it.
    const many = spawn('python3', ['-c', [
      'import ctypes, socket, time',
      "ctypes.CDLL(None).prctl(15, b'manysockets')  # PR_SET_NAME",
      'socks = [socket.create_server(("127.0.0.1", 0)) for _ in range(3000)]',
      'print("ready", flush=True)',
      'time.sleep(600)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => many.stdout!.once('data', resolve));
    try {
      const { stdout } = await run(process.execPath, [CLI, 'list', '--json', '--control', 'off'], { maxBuffer: 1 << 28 });
      expect(stdout.length).toBeGreaterThan(1 << 20);
      const reg = JSON.parse(stdout) as Registry;
      expect(reg.services.find((s) => s.name === 'manysockets')?.endpoints.length).toBe(3000);
    } finally {
      many.kill('SIGKILL');
    }
  });
});

