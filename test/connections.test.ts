// Connection facts from sockops (--connections): per-service counts of
// accepted and initiated connections and the peers, in /registry and in
// `bindsight list`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, rootOrSkip, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import type { Registry } from '../src/registry/registry.js';

const run = promisify(execFile);

function connectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host: '127.0.0.1' }, () => c.end());
    c.resume(); // read the server's greeting, or 'close' never comes
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

describe.skipIf(rootOrSkip())('connections per service (eBPF sockops)', () => {
  let d: RunningDaemon;
  let srv: TestServer;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--source', 'ebpf', '--connections', '--interval', '1h', '--reconcile', '1h', '--no-zones'] });
    srv = await startServer('connsvc', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]);
    await waitFor(async () => ((await d.control('/registry')) as Registry).services.some((s) => s.name === 'connsvc'), 'connsvc in the registry');
  });
  afterAll(async () => {
    await srv?.kill();
    await d?.stop();
  });

  it('counts accepted connections and their peers', async () => {
    for (let i = 0; i < 3; i++) await connectOnce(srv.ports[0]!);
    const svc = await waitFor(async () => {
      const s = ((await d.control('/registry')) as Registry).services.find((x) => x.name === 'connsvc');
      return s?.connections?.accepted === 3 ? s : null;
    }, 'three accepted connections');
    expect(svc.connections!.peers).toEqual(['127.0.0.1']);
    expect(svc.endpoints[0]!.connections!.accepted).toBe(3);
    const { stdout } = await run(process.execPath, [CLI, 'list', '--control', `127.0.0.1:${d.controlPort}`]);
    expect(stdout).toMatch(/\nconnsvc\s.*\s3\/0\s*\n/);
  });
});
