// Overflow, end to end (issue 3): a daemon with a tiny ring buffer and a storm
// of binds loses events, notices (the kernel's drop counter), resyncs from
// sock_diag, and ends with a registry equal to the `ss` truth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootOrSkip, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { listTruth, ssTruth } from './helpers/ss.js';
import type { Registry } from '../src/registry/registry.js';

// 1500 TCP listeners and 1500 bound UDP sockets on 127.0.0.1, then every
// other one closed; the rest stay open until the test ends.
const STORM = String.raw`
import socket, sys, time
socks = []
for i in range(1500):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(); socks.append(t)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); socks.append(u)
for s in socks[::2]: s.close()
print("ready", flush=True)
time.sleep(3600)
`;

describe.skipIf(rootOrSkip())('ring buffer overflow, end to end', () => {
  let d: RunningDaemon;
  let storm: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bs-overflow-'));
  beforeAll(async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ ebpf: { ringBufferBytes: 4096 } }));
    d = await startDaemon({ args: ['--config', config, '--source', 'ebpf', '--interval', '1h', '--reconcile', '1h', '--no-zones'] });
  });
  afterAll(async () => {
    storm?.kill('SIGKILL');
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops, resyncs, and ends equal to ss', async () => {
    storm = spawn('python3', ['-c', STORM], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => storm!.stdout!.once('data', () => resolve()));
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(String(await d.control('/metrics')))?.[1] ?? NaN);
    await waitFor(async () => (await metric('bindsight_ebpf_resyncs_total')) > 0, 'a resync', 15_000, 100);
    expect(await metric('bindsight_ebpf_drops_total')).toBeGreaterThan(0);
    let last: [string[], string[]] = [[], []];
    for (let attempt = 0; attempt < 10; attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      const [reg, ss] = await Promise.all([d.control('/registry') as Promise<Registry>, ssTruth()]);
      last = [listTruth(reg), ss];
      if (JSON.stringify(last[0]) === JSON.stringify(last[1])) break;
    }
    expect(last[0].length).toBeGreaterThan(1500);
    expect(last[0]).toEqual(last[1]);
  });
});
