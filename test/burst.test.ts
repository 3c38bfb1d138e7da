// A burst of thousands of listeners coming and going must not stall the
// daemon: one rebuild per burst, not one per event (which was quadratic and
// kept SIGTERM waiting for tens of seconds).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { dig } from './helpers/dig.js';
import type { Registry } from '../src/registry/registry.js';

const run = promisify(execFile);
const N = 3000;
const BURST = [
  'import ctypes, socket, time',
  "ctypes.CDLL(None).prctl(15, b'burst')  # PR_SET_NAME",
  `socks = [socket.create_server(("127.0.0.1", 0)) for _ in range(${N})]`,
  'print("ready", flush=True)',
  'time.sleep(600)',
].join('\n');

describe('a burst of listeners', () => {
  let d: RunningDaemon;
  let py: ChildProcess | undefined;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--no-zones', '--interval', '500ms'] });
  });
  afterAll(async () => {
    py?.kill('SIGKILL');
    await d?.stop();
  });

  const endpoints = async () => ((await d.control('/registry')) as Registry).services.find((s) => s.name === 'burst')?.endpoints.length ?? 0;

  it(`${N} listeners appear and vanish together, the daemon answers throughout and stops on SIGTERM`, async () => {
    py = spawn('python3', ['-c', BURST], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => py!.stdout!.once('data', resolve));
    await waitFor(async () => (await endpoints()) === N, `${N} endpoints`, 20_000, 100);
    expect((await dig(d.dnsPort, 'svc.local', 'SOA')).status).toBe('NOERROR');
    py.kill('SIGKILL');
    await waitFor(async () => (await endpoints()) === 0, 'the burst to vanish', 20_000, 100);
    expect((await dig(d.dnsPort, 'burst.svc.local', 'A')).status).toBe('NXDOMAIN');
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('with thousands of listeners held: churn leaves it answering, client sockets leave the serial alone', async () => {
    const d2 = await startDaemon({ args: ['--no-zones'] });
    const hold = spawn('python3', ['-c', BURST], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => hold.stdout!.once('data', resolve));
      const serial = async () => Number((await dig(d2.dnsPort, 'svc.local', 'SOA')).answer[0]?.split(' ')[6]);
      await waitFor(async () => ((await d2.control('/registry')) as Registry).services.find((s) => s.name === 'burst')?.endpoints.length === N, 'the held listeners', 20_000, 100);
      const before = await serial();
      // 3000 UDP client sockets (a resolver's, say): not services, no new zone version.
      await run('python3', ['-c', 'import socket\nfor i in range(3000):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b"x",("127.0.0.1",9)); s.close()']);
      await new Promise((r) => setTimeout(r, 300));
      expect(await serial()).toBe(before);
      // 3000 listeners born and closed at once: the daemon keeps answering.
      await run('python3', ['-c', 'import socket\nfor i in range(3000):\n s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); s.close()']);
      await waitFor(async () => (await dig(d2.dnsPort, 'svc.local', 'SOA')).status === 'NOERROR', 'an answer after the churn', 5000, 50);
      expect(await d2.stop('SIGTERM')).toBe(0);
    } finally {
      hold.kill('SIGKILL');
      await d2.stop();
    }
  });
});

