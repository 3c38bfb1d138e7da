import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { groupOwners, parseSocketLink, socketOwners } from './owners.js';

function ownSocketInodes(): number[] {
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const n = parseSocketLink(readlinkSync(`/proc/self/fd/${fd}`));
      if (n !== null) out.push(n);
    } catch { /* the fd of readdir itself */ }
  }
  return out;
}

describe('owners parsers', () => {
  it('parseSocketLink accepts socket:[N] only', () => {
    expect(parseSocketLink('socket:[123]')).toBe(123);
    expect(parseSocketLink('socket:[]')).toBeNull();
    expect(parseSocketLink('pipe:[123]')).toBeNull();
    expect(parseSocketLink('/tmp/socket:[1]')).toBeNull();
    expect(parseSocketLink('socket:[99999999999999999999]')).toBeNull();
  });

  it('groupOwners sorts and dedupes pids, from pairs or the flat native form', () => {
    const want = new Map([[7, [1, 5, 9]], [8, [3]]]);
    expect(groupOwners([[7, 9], [8, 3], [7, 1], [7, 5], [7, 9]])).toEqual(want);
    expect(groupOwners(new Uint32Array([7, 9, 8, 3, 7, 1, 7, 5, 7, 9]))).toEqual(want);
    expect(groupOwners([[7, 9], [8, 3]], new Set([8]))).toEqual(new Map([[8, [3]]]));
    expect(groupOwners(new Uint32Array([1]))).toEqual(new Map()); // odd length: ignored tail
  });
});

describe('socketOwners (real /proc)', () => {
  it('maps our listening socket to our pid', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const owners = await socketOwners();
      const mine = ownSocketInodes();
      expect(mine.length).toBeGreaterThan(0);
      for (const inode of mine) expect(owners.get(inode)).toContain(process.pid);
      for (const pids of owners.values()) {
        expect([...pids].sort((a, b) => a - b)).toEqual(pids);
        expect(new Set(pids).size).toBe(pids.length);
      }
    } finally {
      server.close();
    }
  });

  it('lists a socket shared by parent and child under both pids, leaders only', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const handle = (server as unknown as { _handle: { fd: number } })._handle;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'ignore', 'ignore', handle.fd],
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const inode = parseSocketLink(readlinkSync(`/proc/self/fd/${handle.fd}`))!;
      const owners = await socketOwners();
      expect(owners.get(inode)).toEqual([process.pid, child.pid!].sort((a, b) => a - b));
      // Node runs worker threads; tasks must not appear as extra owners.
      for (const pids of owners.values()) {
        for (const pid of pids) {
          let status: string;
          try {
            status = readFileSync(`/proc/${pid}/status`, 'utf8');
          } catch {
            continue; // exited since the walk
          }
          expect(/^Tgid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(pid));
        }
      }
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
      server.close();
    }
  });

  it('tolerates processes exiting during the walk', async () => {
    const kids = Array.from({ length: 20 }, () => spawn(process.execPath, ['-e', 'require("net").createServer().listen(0)'], { stdio: 'ignore' }));
    const walks = Array.from({ length: 5 }, () => socketOwners());
    for (const k of kids) k.kill('SIGKILL');
    await expect(Promise.all(walks)).resolves.toHaveLength(5);
    await Promise.all(kids.map((k) => (k.exitCode === null && k.signalCode === null ? once(k, 'exit') : undefined)));
  });

  it('fails only when the proc root itself is missing', async () => {
    await expect(socketOwners('/nonexistent-proc')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
