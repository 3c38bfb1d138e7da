// Prints one plain closing line, `tests: N passed, N failed, N skipped`, that
// any CI log reader understands, after vitest's own summary.
import type { Reporter } from 'vitest/reporters';
import type { RunnerTestFile, RunnerTask } from 'vitest';

function count(tasks: RunnerTask[], acc = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.type === 'suite') {
      // A suite whose hook failed marks its tests skipped: count it as failed.
      if (t.result?.state === 'fail' && t.tasks.every((c) => !c.result || c.mode === 'skip')) acc.failed++;
      count(t.tasks, acc);
    } else if (t.mode === 'skip' || t.mode === 'todo' || t.result?.state === 'skip') acc.skipped++;
    else if (t.result?.state === 'pass') acc.passed++;
    else if (t.result?.state === 'fail') acc.failed++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []) {
    const c = count(files);
    // Files that failed to load have no tasks but do fail.
    c.failed += files.filter((f) => f.result?.state === 'fail' && f.tasks.length === 0).length + errors.length;
    process.stdout.write(`\ntests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
  }
}
