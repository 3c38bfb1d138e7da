// The BPF socket owner iterator (bpf/owners.bpf.c) against the /proc fd walk
// it replaces: the same (inode, pid) pairs for real processes of another uid,
// with thousands of fds, with a socket shared by two processes and in two fds
// of one; pids right inside a child pid namespace; detached on stop and on
// SIGKILL; and the sockdiag source falls back to the walk when the iterator
// cannot load (capsh without CAP_BPF, or BINDSIGHT_NO_BPF_ITER=1).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockDiag, socketOwnerPairs } from '../src/native/binding.js';
import {
  closeOwnersIter, openOwnersIter, ownersIterIds, ownersIterPairs, ownersIterRecords,
} from '../src/native/bpf-binding.js';
import { ownerPairs } from '../src/discovery/owner-walk.js';
import { SockDiagSource } from '../src/discovery/sockdiag.js';
import type { Logger } from '../src/log.js';
import { bpftoolIds, isRoot, waitFor } from './helpers/ebpf.js';

if (!isRoot) console.log('owners-iter tests skipped: loading a BPF iterator needs root (CAP_BPF, CAP_PERFMON)');

const ROOT = resolve(import.meta.dirname, '..');
const BPF_ADDON = resolve(ROOT, 'build/Release/bindsight_bpf.node');
const NATIVE_ADDON = resolve(ROOT, 'build/Release/bindsight_native.node');
const DIST_SOCKDIAG = resolve(ROOT, 'dist/discovery/sockdiag.js');
const NOBODY = 65534;
const MANY = 3000;

/**
 * python3: `count` TCP listeners on 127.0.0.1, one of them also dup()ed
 * into a second fd and inherited by a forked child; prints pids and ports.
 */
const HOLDER = String.raw`
import json, os, resource, socket, sys, time
count = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
socks = []
for _ in range(count):
    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); socks.append(s)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(('::1', 0))
dup = os.dup(socks[0].fileno())
pid = os.fork()
if pid == 0:
    time.sleep(3600); os._exit(0)
print(json.dumps({'pid': os.getpid(), 'child': pid, 'ports': [s.getsockname()[1] for s in socks[:3]],
                  'udp': u.getsockname()[1]}), flush=True)
try:
    time.sleep(3600)
finally:
    os.kill(pid, 9)
`;

interface Holder { proc: ChildProcess; pid: number; child: number; ports: number[]; udp: number }

async function startHolder(count: number, uid?: number): Promise<Holder> {
  const proc = spawn('python3', ['-c', HOLDER, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  const first = await createInterface({ input: proc.stdout! })[Symbol.asyncIterator]().next();
  if (first.done) throw new Error(`holder exited early (code ${proc.exitCode})`);
  return { proc, ...(JSON.parse(String(first.value)) as Omit<Holder, 'proc'>) };
}

async function stopHolder(h: Holder | undefined): Promise<void> {
  if (!h) return;
  try { process.kill(h.child, 'SIGKILL'); } catch { /* already gone */ }
  if (h.proc.exitCode === null && h.proc.signalCode === null) {
    h.proc.kill('SIGKILL');
    await once(h.proc, 'exit');
  }
}

/** "inode:pid" of the pairs whose pid is in `pids`. */
function pairsOf(flat: Uint32Array, pids: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (pids.has(flat[i + 1]!)) out.push(`${flat[i]}:${flat[i + 1]}`);
  return out;
}

describe.skipIf(!isRoot)('socket owner iterator vs the /proc walk', () => {
  let other: Holder | undefined;
  let many: Holder | undefined;

  beforeAll(async () => {
    other = await startHolder(3, NOBODY);
    many = await startHolder(MANY);
    openOwnersIter();
  });

  afterAll(async () => {
    closeOwnersIter();
    await Promise.all([stopHolder(other), stopHolder(many)]);
  });

  it('yields the same (inode, pid) pairs for processes of another uid, with many fds, sharing sockets', () => {
    const pids = new Set([process.pid, other!.pid, other!.child, many!.pid, many!.child]);
    const iter = pairsOf(ownersIterPairs(), pids);
    const walk = pairsOf(socketOwnerPairs(), pids);
    expect(iter).toEqual(walk);
    const inodesOf = (pid: number) => iter.filter((p) => p.split(':')[1] === String(pid)).map((p) => p.split(':')[0]);
    // Listeners + the UDP socket, and node's stdio socketpair(s).
    expect(inodesOf(many!.pid).length).toBeGreaterThanOrEqual(MANY + 1);
    expect(inodesOf(other!.pid).length).toBeGreaterThanOrEqual(4);
    // fork(): the children hold every socket of their parent.
    expect(inodesOf(many!.child)).toEqual(inodesOf(many!.pid));
    expect(inodesOf(other!.child)).toEqual(inodesOf(other!.pid));
  });

  it('pairs come sorted by inode then pid, without repeats (the socketOwnersPacked contract)', () => {
    const pairs = ownersIterPairs();
    expect(pairs.length % 2).toBe(0);
    for (let i = 2; i < pairs.length; i += 2) {
      expect(pairs[i - 2]! - pairs[i]! || pairs[i - 1]! - pairs[i + 1]!, `pair ${i / 2}`).toBeLessThan(0);
    }
  });

  it('records carry fd, family, protocol and the sock_diag cookie of each socket', () => {
    const diag = sockDiag({ tcpStates: 1 << 10, udp: true }); // makes the cookies
    const records = ownersIterRecords().filter((r) => r.pid === other!.pid);
    for (const port of other!.ports) {
      const s = diag.find((d) => d.proto === 'tcp' && d.port === port)!;
      const mine = records.filter((r) => r.inode === s.inode);
      // The first listener is in two fds (dup).
      expect(mine.length, `port ${port}`).toBe(port === other!.ports[0] ? 2 : 1);
      for (const r of mine) expect(r).toMatchObject({ cookie: s.cookie, family: 2, protocol: 6 });
    }
    expect(new Set(records.filter((r) => r.inode === diag.find((d) => d.port === other!.ports[0])!.inode).map((r) => r.fd)).size).toBe(2);
    const u = diag.find((d) => d.proto === 'udp' && d.port === other!.udp)!;
    expect(records.find((r) => r.inode === u.inode)).toMatchObject({ cookie: u.cookie, family: 10, protocol: 17 });
  });

  it('the sockdiag source uses it, says so once in a debug log, and names the owners', async () => {
    const debug: unknown[][] = [];
    const log = { debug: (...args: unknown[]) => debug.push(args) } as unknown as Logger;
    const src = new SockDiagSource({ namespaces: 'self', log });
    await src.scan();
    const records = await src.scan();
    expect(src.stats()).toMatchObject({ ownerWalk: 'bpf-iter', ownerWalkReason: null, scans: 2 });
    expect(debug).toEqual([['sockdiag: socket owners from the BPF task_file iterator']]);
    const hit = records.filter((r) => r.port === other!.ports[1]);
    expect(hit).toHaveLength(1);
    expect(hit[0]!.processes.map((p) => p.pid)).toEqual([other!.pid, other!.child].sort((a, b) => a - b));
  });

  it('inside a child pid namespace, pids are that namespace\'s (as its /proc shows them)', () => {
    const script = `
      const bpf = require(${JSON.stringify(BPF_ADDON)}), nat = require(${JSON.stringify(NATIVE_ADDON)});
      require('node:net').createServer().listen(0, '127.0.0.1', () => {
        const iter = [...bpf.socketOwnersIter()], walk = [...nat.socketOwnersPacked()];
        bpf.ownersIterClose();
        console.log(JSON.stringify({ pid: process.pid, iter, walk }));
        process.exit(0);
      });`;
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { pid: number; iter: number[]; walk: number[] };
    expect(out.pid).toBe(1);
    expect(out.iter.length).toBeGreaterThanOrEqual(2);
    expect(out.iter).toEqual(out.walk);
  });
});

describe.skipIf(!isRoot)('socket owner iterator lifetime', () => {
  it('a polling source holds it while running and detaches it on stop', async () => {
    closeOwnersIter();
    const src = new SockDiagSource({ intervalMs: 3_600_000, namespaces: 'self' });
    await src.start(() => {});
    const ids = ownersIterIds();
    expect(src.stats().ownerWalk).toBe('bpf-iter');
    expect(ids.link).toBeGreaterThan(0);
    expect(bpftoolIds('link')).toContain(ids.link);
    await src.stop();
    expect(ownersIterIds()).toEqual({ program: 0, link: 0 });
    await waitFor(() => !bpftoolIds('link').includes(ids.link) && !bpftoolIds('prog').includes(ids.program),
      'iterator link and program to go after stop');
  });

  it('one load serves many scans: program and link ids do not change', () => {
    openOwnersIter();
    const ids = ownersIterIds();
    for (let i = 0; i < 5; i++) ownersIterPairs();
    openOwnersIter();
    expect(ownersIterIds()).toEqual(ids);
    closeOwnersIter();
  });

  it('after SIGKILL of the process holding it, bpftool lists neither link nor program', async () => {
    const holder = `const a = require(${JSON.stringify(BPF_ADDON)}); a.ownersIterOpen();
      console.log(JSON.stringify(a.ownersIterIds())); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
    const ids = JSON.parse(String(first.value)) as { program: number; link: number };
    expect(bpftoolIds('link')).toContain(ids.link);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await waitFor(() => !bpftoolIds('link').includes(ids.link) && !bpftoolIds('prog').includes(ids.program),
      'iterator link and program to go after SIGKILL');
  });
});

describe('fallback to the /proc walk', () => {
  it('BINDSIGHT_NO_BPF_ITER=1: the walk, and the source says so in its stats', async () => {
    const saved = process.env.BINDSIGHT_NO_BPF_ITER;
    process.env.BINDSIGHT_NO_BPF_ITER = '1';
    try {
      const walk = ownerPairs();
      expect(walk).toMatchObject({ method: 'proc-walk', reason: 'BINDSIGHT_NO_BPF_ITER=1' });
      const src = new SockDiagSource({ namespaces: 'self' });
      await src.scan();
      expect(src.stats()).toMatchObject({ ownerWalk: 'proc-walk', ownerWalkReason: 'BINDSIGHT_NO_BPF_ITER=1' });
    } finally {
      if (saved === undefined) delete process.env.BINDSIGHT_NO_BPF_ITER;
      else process.env.BINDSIGHT_NO_BPF_ITER = saved;
    }
  });

  it.skipIf(!isRoot || !existsSync(DIST_SOCKDIAG))('without CAP_BPF (capsh): the walk, with the load error as reason, owners still right', () => {
    const script = `import(${JSON.stringify(DIST_SOCKDIAG)}).then(async ({ SockDiagSource }) => {
      const net = await import('node:net');
      const s = net.createServer();
      await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
      const src = new SockDiagSource({ namespaces: 'self' });
      const mine = (await src.scan()).filter((r) => r.port === s.address().port);
      console.log(JSON.stringify({ pid: process.pid, stats: src.stats(), owners: mine.map((r) => r.processes.map((p) => p.pid)) }));
      process.exit(0);
    });`;
    const r = spawnSync('capsh', ['--drop=cap_bpf,cap_perfmon,cap_sys_admin', '--',
      '-c', `exec "${process.execPath}" -e '${script.replace(/'/g, `'\\''`)}'`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as {
      pid: number; stats: { ownerWalk: string; ownerWalkReason: string }; owners: number[][];
    };
    expect(out.stats.ownerWalk).toBe('proc-walk');
    expect(out.stats.ownerWalkReason).toMatch(/socket owner iterator: load iter\/task_file: .*EPERM/);
    expect(out.owners).toEqual([[out.pid]]);
  });
});
