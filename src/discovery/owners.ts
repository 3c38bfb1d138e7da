// Which processes hold which socket, from the socket:[N] links of
// /proc/<pid>/fd/* (proc(5)). Pure TypeScript: the fallback when the native
// walk (src/native/binding.ts, socketOwnerPairs) is unavailable.
import { readdir, readlink } from 'node:fs/promises';

/** Errors of a process or fd that vanished or is not ours to read: skipped. */
const SKIP = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR']);

function skippable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SKIP.has(code);
}

/** "socket:[12345]" -> 12345, anything else -> null. */
export function parseSocketLink(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  if (!m) return null;
  const inode = Number(m[1]);
  return Number.isSafeInteger(inode) ? inode : null;
}

/**
 * Groups (inode, pid) pairs into inode -> sorted, distinct pids. Accepts the
 * native flat form [inode, pid, inode, pid, ...] too. With `only`, inodes not
 * in it are dropped (keeps the map small when few sockets matter).
 */
export function groupOwners(
  pairs: Iterable<readonly [number, number]> | Uint32Array,
  only?: ReadonlySet<number>,
): Map<number, number[]> {
  const map = new Map<number, number[]>();
  const add = (inode: number, pid: number): void => {
    if (only && !only.has(inode)) return;
    const pids = map.get(inode);
    if (pids) pids.push(pid);
    else map.set(inode, [pid]);
  };
  if (pairs instanceof Uint32Array) {
    for (let i = 0; i + 1 < pairs.length; i += 2) add(pairs[i]!, pairs[i + 1]!);
  } else {
    for (const [inode, pid] of pairs) add(inode, pid);
  }
  for (const [inode, pids] of map) {
    if (pids.length > 1) map.set(inode, [...new Set(pids)].sort((a, b) => a - b));
  }
  return map;
}

async function pidSockets(procRoot: string, pid: number): Promise<number[]> {
  const dir = `${procRoot}/${pid}/fd`;
  let fds: string[];
  try {
    fds = await readdir(dir);
  } catch (err) {
    if (skippable(err)) return [];
    throw err;
  }
  const links = await Promise.all(
    fds.map(async (fd) => {
      try {
        return parseSocketLink(await readlink(`${dir}/${fd}`));
      } catch (err) {
        if (skippable(err)) return null;
        throw err;
      }
    }),
  );
  return links.filter((n): n is number => n !== null);
}

/** How many processes are walked at once (each walk is a burst of readlinks). */
const PARALLEL = 16;

/**
 * socket inode -> pids (sorted) of every thread-group leader holding it. Only
 * entries of /proc are walked, not tasks: threads share their leader's fds.
 */
export async function socketOwners(procRoot = '/proc'): Promise<Map<number, number[]>> {
  const pids = (await readdir(procRoot))
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .filter((pid) => Number.isSafeInteger(pid) && pid > 0);
  const pairs: Array<[number, number]> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pids.length) {
      const pid = pids[next++]!;
      for (const inode of await pidSockets(procRoot, pid)) pairs.push([inode, pid]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, pids.length) }, worker));
  return groupOwners(pairs);
}
