// The README's first command must start the daemon on this machine's real
// services (CoreDNS's readme_test habit: documented commands are tested).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ROOT, rootOrSkip, waitFor } from './helpers/daemon.js';
import { dig } from './helpers/dig.js';
import { toLabel } from '../src/naming/label.js';

function readmeCommands(): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]!);
}

describe('README', () => {
  it('starts with the run and the test command, and .ci/run runs the test command', () => {
    const [runCmd, testCmd] = readmeCommands();
    expect(runCmd).toMatch(/npm start/);
    expect(testCmd).toMatch(/npm test/);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain(testCmd);
  });

  it.skipIf(rootOrSkip())('its run command starts a daemon that answers on 127.0.0.1:53, and stops cleanly', async () => {
    const [runCmd] = readmeCommands();
    const child = spawn('bash', ['-c', runCmd!], { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      const name = `${toLabel(hostname())}.svc.local`;
      await waitFor(async () => (await dig(53, name, 'A')).status === 'NOERROR', `the README daemon on :53 (stderr: ${stderr.slice(-2000)})`, 240_000, 250);
      expect((await dig(53, 'svc.local', 'SOA')).flags).toContain('aa');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    await waitFor(async () => (await dig(53, 'svc.local', 'SOA')).status === 'NO-ANSWER', 'port 53 to be released', 10_000, 250);
  }, 300_000);
});
