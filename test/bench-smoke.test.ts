// CI runs every benchmark in its short smoke mode, to show it still works;
// smoke runs never touch docs/benchmarks.md (the full runs write it).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, rootOrSkip } from './helpers/daemon.js';

const run = promisify(execFile);
const benches = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.mjs')).sort();

describe.skipIf(rootOrSkip())('benchmarks, smoke mode', () => {
  it('there is a benchmark for each issue-3 goal', () => {
    expect(benches).toEqual(expect.arrayContaining(['dns-latency.mjs', 'latency.mjs', 'overhead.mjs', 'snapshot.mjs']));
  });

  it.each(benches)('%s --smoke runs and leaves the docs alone', async (file) => {
    const doc = join(ROOT, 'docs/benchmarks.md');
    const before = readFileSync(doc, 'utf8');
    const { stdout } = await run(process.execPath, [join('bench', file), '--smoke'], { cwd: ROOT, timeout: 240_000 });
    expect(stdout).toMatch(/\d/);
    expect(readFileSync(doc, 'utf8')).toBe(before);
  }, 300_000);
});
