// What bindsight knows about a process that holds a socket, read from
// /proc/<pid> (proc(5)). A process may exit at any moment: that is not an
// error, the answer is then null.
import { readFileSync, readlinkSync } from 'node:fs';
import type { ProcessInfo } from './socket.js';

/**
 * Undefined when the file is gone or unreadable: ENOENT/ESRCH (exited),
 * EACCES/EPERM (not ours), EINVAL (a zombie's exe), or anything stranger
 * (EMFILE): the caller promises never to throw.
 */
function optional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/comm ends in one newline (fs/proc/base.c, comm_show). */
export function parseComm(raw: string): string {
  return raw.endsWith('\n') ? raw.slice(0, -1) : raw;
}

/** NUL-separated argv; the last argument ends in NUL too (kernel threads: empty). */
export function parseCmdline(raw: Buffer): string[] {
  if (raw.length === 0) return [];
  const end = raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length;
  return raw.subarray(0, end).toString('utf8').split('\0');
}

/** Real uid: the first number of the "Uid:" line of /proc/<pid>/status. */
export function parseStatusUid(status: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** The cgroup v2 path ("0::/path"), else the path of the first line (v1). */
export function parseCgroup(raw: string): string {
  const lines = raw.split('\n').filter((l) => l !== '');
  const v2 = lines.find((l) => l.startsWith('0::'));
  const line = v2 ?? lines[0];
  if (line === undefined) return '';
  // hierarchy-ID:controller-list:cgroup-path; the path itself may hold ':'.
  const second = line.indexOf(':', line.indexOf(':') + 1);
  return second < 0 ? '' : line.slice(second + 1);
}

/** "net:[4026531840]" -> 4026531840; 0 when it is not a net namespace link. */
export function parseNetnsLink(link: string): number {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : 0;
}

/**
 * Reads one process. Null when the process does not exist or vanishes while
 * being read; exe is '' and netns 0 when only those are unreadable (kernel
 * threads, zombies, processes of other users without CAP_SYS_PTRACE).
 *
 * The reads are synchronous, like ps(1) and ss(8) do them: /proc files are
 * generated in memory, and under load six libuv thread-pool round trips per
 * process cost more (3-15 ms for 4 processes here) than the reads themselves.
 */
export async function readProcess(pid: number, procRoot = '/proc'): Promise<ProcessInfo | null> {
  return readProcessSync(pid, procRoot);
}

/** readProcess without the promise. */
export function readProcessSync(pid: number, procRoot = '/proc'): ProcessInfo | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const dir = `${procRoot}/${pid}`;
  const comm = optional(() => readFileSync(`${dir}/comm`, 'utf8'));
  const status = optional(() => readFileSync(`${dir}/status`, 'utf8'));
  const cmdline = optional(() => readFileSync(`${dir}/cmdline`));
  const cgroup = optional(() => readFileSync(`${dir}/cgroup`, 'utf8'));
  const exe = optional(() => readlinkSync(`${dir}/exe`));
  const netns = optional(() => readlinkSync(`${dir}/ns/net`));
  // comm, status and cmdline are world-readable: missing means gone.
  if (comm === undefined || status === undefined || cmdline === undefined) return null;
  const uid = parseStatusUid(status);
  if (uid === undefined) return null; // a torn read of an exiting process
  return {
    pid,
    comm: parseComm(comm),
    exe: exe ?? '',
    cmdline: parseCmdline(cmdline),
    uid,
    cgroup: cgroup === undefined ? '' : parseCgroup(cgroup),
    netns: netns === undefined ? 0 : parseNetnsLink(netns),
  };
}
