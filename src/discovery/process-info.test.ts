import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseCgroup, parseCmdline, parseComm, parseNetnsLink, parseStatusUid, readProcess,
} from './process-info.js';

describe('process-info parsers', () => {
  it('parseComm drops only the trailing newline', () => {
    expect(parseComm('node\n')).toBe('node');
    expect(parseComm('a b\n\n')).toBe('a b\n');
    expect(parseComm('')).toBe('');
  });

  it('parseCmdline splits on NUL and ignores the final NUL', () => {
    expect(parseCmdline(Buffer.from('node\0-e\0x y\0'))).toEqual(['node', '-e', 'x y']);
    expect(parseCmdline(Buffer.from('rewritten title'))).toEqual(['rewritten title']);
    expect(parseCmdline(Buffer.alloc(0))).toEqual([]);
    expect(parseCmdline(Buffer.from('a\0\0b\0'))).toEqual(['a', '', 'b']);
  });

  it('parseStatusUid takes the real uid', () => {
    expect(parseStatusUid('Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n')).toBe(1000);
    expect(parseStatusUid('Name:\tx\n')).toBeUndefined();
  });

  it('parseCgroup prefers the v2 line and keeps colons in paths', () => {
    expect(parseCgroup('12:cpu,cpuacct:/a\n0::/system.slice/x:y.service\n')).toBe('/system.slice/x:y.service');
    expect(parseCgroup('12:cpu,cpuacct:/a\n11:memory:/b\n')).toBe('/a');
    expect(parseCgroup('')).toBe('');
    expect(parseCgroup('garbage')).toBe('');
  });

  it('parseNetnsLink reads net:[N] only', () => {
    expect(parseNetnsLink('net:[4026531840]')).toBe(4026531840);
    expect(parseNetnsLink('mnt:[4026531840]')).toBe(0);
    expect(parseNetnsLink('net:[]')).toBe(0);
  });
});

describe('readProcess (real /proc)', () => {
  it('describes this process', async () => {
    const info = await readProcess(process.pid);
    expect(info).not.toBeNull();
    expect(info!.pid).toBe(process.pid);
    expect(info!.exe).toBe(readlinkSync('/proc/self/exe'));
    expect(info!.cmdline).toEqual(parseCmdline(readFileSync('/proc/self/cmdline')));
    expect(info!.uid).toBe(process.getuid!());
    expect(info!.netns).toBe(parseNetnsLink(readlinkSync('/proc/self/ns/net')));
    expect(info!.netns).toBeGreaterThan(0);
    expect(info!.cgroup.startsWith('/')).toBe(true);
    expect(info!.comm).not.toMatch(/\n$/);
  });

  it('reads a child with a known comm, argv and uid', async () => {
    const asNobody = process.getuid?.() === 0;
    if (!asNobody) console.log('not root: child keeps our uid');
    // comm is the basename of the executed file (fs/exec.c, __set_task_comm).
    const dir = mkdtempSync(join(tmpdir(), 'bs-proc-'));
    chmodSync(dir, 0o755); // the child may run as nobody
    const exe = join(dir, 'bs-proc-test');
    symlinkSync(process.execPath, exe);
    const child = spawn(exe, ['-e', 'setInterval(() => {}, 1000)', 'arg with space'], {
      stdio: 'ignore', ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    });
    try {
      await once(child, 'spawn');
      await new Promise((r) => setTimeout(r, 300));
      const info = await readProcess(child.pid!);
      expect(info).not.toBeNull();
      expect(info!.comm).toBe('bs-proc-test');
      expect(info!.uid).toBe(asNobody ? 65534 : process.getuid!());
      expect(info!.exe).toBe(readlinkSync(`/proc/${child.pid}/exe`));
      expect(info!.cmdline).toEqual([exe, '-e', 'setInterval(() => {}, 1000)', 'arg with space']);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns null for processes that are gone or never were', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid!;
    await once(child, 'exit');
    // Reaped by Node on exit, so the pid no longer exists (unless reused, rare).
    const info = await readProcess(pid);
    if (info !== null) expect(info.pid).toBe(pid);
    expect(await readProcess(0)).toBeNull();
    expect(await readProcess(-5)).toBeNull();
    expect(await readProcess(2 ** 22 + 12345)).toBeNull(); // above pid_max's limit
    expect(await readProcess(1.5)).toBeNull();
  });

  it('never throws while processes come and go', async () => {
    const kids = Array.from({ length: 10 }, () => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }));
    const reads = kids.flatMap((k) => Array.from({ length: 5 }, () => readProcess(k.pid!)));
    await Promise.all(kids.map((k) => (k.exitCode === null ? once(k, 'exit') : undefined)));
    const results = await Promise.all(reads);
    for (const r of results) if (r) expect(typeof r.comm).toBe('string');
  });
});
