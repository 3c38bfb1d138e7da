// The ebpf source against the real kernel: real programs, real listener
// processes, real namespaces. Root only; everything is cleaned up.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { CONNECTION_HOOKS, EbpfSource } from '../src/discovery/ebpf.js';
import { isTracked, socketKey } from '../src/discovery/ebpf-state.js';
import type { SourceEvent } from '../src/discovery/source.js';
import type { SocketRecord } from '../src/discovery/socket.js';
import {
  bpftoolIds, freePort, isRoot, netnsInodeOf, selfNetns, startServer, waitFor, type Server,
} from './helpers/ebpf.js';

if (!isRoot) console.log('ebpf-source tests skipped: they load BPF programs and need root');

interface Seen { e: SourceEvent; atNs: bigint }

const log = pino({ level: 'silent' });

describe.skipIf(!isRoot)('EbpfSource (real kernel)', () => {
  let src: EbpfSource;
  const seen: Seen[] = [];
  const servers: Server[] = [];

  const adds = (pred: (s: SocketRecord) => boolean) =>
    seen.filter((x) => x.e.kind === 'add' && x.e.sockets.some(pred));
  const removes = (cookie: string) =>
    seen.filter((x) => x.e.kind === 'remove' && x.e.sockets.some((s) => s.cookie === cookie));
  const addOf = (srv: Server, proto: 'tcp' | 'udp') =>
    waitFor(() => adds((s) => s.proto === proto && s.port === srv.port && s.processes[0]?.pid === srv.pid)[0],
      `add of ${proto} port ${srv.port}`);
  const latencyMs = (x: Seen, srv: Server) => Number(x.atNs - srv.readyNs) / 1e6;

  beforeAll(async () => {
    src = new EbpfSource({ log, reconcileMs: 0 });
    await src.start((e) => seen.push({ e, atNs: process.hrtime.bigint() }));
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  afterAll(async () => {
    await src?.stop();
  });

  it('emits a snapshot first', () => {
    expect(seen[0]?.e.kind).toBe('snapshot');
    expect(src.stats().hooks.sort()).toEqual(['post_bind', 'set_state', 'sock_release']);
  });

  it('TCP listener on a fixed port: add with pid, comm, netns; remove on close', async () => {
    const srv = await startServer('tcp', '127.0.0.1', freePort());
    servers.push(srv);
    const add = await addOf(srv, 'tcp');
    const s = add.e.sockets[0];
    expect(s).toMatchObject({ proto: 'tcp', family: 4, address: '127.0.0.1', state: 10, netns: selfNetns() });
    expect(s.processes[0]).toMatchObject({ pid: srv.pid, comm: 'python3' });
    console.log(`tcp fixed port: listen() -> add in ${latencyMs(add, srv).toFixed(2)} ms`);
    await srv.close();
    await waitFor(() => removes(s.cookie!)[0], 'remove');
  });

  it('TCP listener on port 0 carries the real port', async () => {
    const srv = await startServer('tcp', '127.0.0.1', 0);
    servers.push(srv);
    const add = await addOf(srv, 'tcp');
    expect(add.e.sockets[0].port).toBe(srv.port);
    expect(srv.port).toBeGreaterThan(0);
  });

  it('IPv6-only and dual-stack listeners carry family and v6only', async () => {
    const v6 = await startServer('tcp', '::1', 0, ['v6only']);
    const dual = await startServer('tcp', '::', 0);
    servers.push(v6, dual);
    const a = (await addOf(v6, 'tcp')).e.sockets[0];
    const b = (await addOf(dual, 'tcp')).e.sockets[0];
    expect(a).toMatchObject({ family: 6, address: '::1', v6only: true });
    expect(b).toMatchObject({ family: 6, address: '::', v6only: false });
    await dual.kill();
    await waitFor(() => removes(b.cookie!)[0], 'remove of dual-stack listener on process exit');
  });

  it('UDP server: add on bind, remove on close', async () => {
    const srv = await startServer('udp', '0.0.0.0', freePort());
    servers.push(srv);
    const add = await addOf(srv, 'udp');
    const s = add.e.sockets[0];
    expect(s).toMatchObject({ proto: 'udp', address: '0.0.0.0', port: srv.port, remotePort: 0 });
    expect(s.processes[0]?.comm).toBe('python3');
    console.log(`udp: bind() -> add in ${latencyMs(add, srv).toFixed(2)} ms`);
    await srv.close();
    await waitFor(() => removes(s.cookie!)[0], 'remove of udp socket');
  });

  it('SO_REUSEPORT group: one add per process, each with its own cookie', async () => {
    const port = freePort();
    const group = [];
    for (let i = 0; i < 3; i++) group.push(await startServer('tcp', '127.0.0.1', port, ['reuseport']));
    servers.push(...group);
    const got = await Promise.all(group.map((g) => addOf(g, 'tcp')));
    const cookies = new Set(got.map((x) => x.e.sockets[0].cookie));
    expect(cookies.size).toBe(3);
    expect(new Set(got.map((x) => x.e.sockets[0].processes[0]?.pid))).toEqual(new Set(group.map((g) => g.pid)));
    await group[1].kill();
    await waitFor(() => removes(got[1].e.sockets[0].cookie!)[0], 'remove of one group member');
    expect(removes(got[0].e.sockets[0].cookie!)).toHaveLength(0);
  });

  it('a listener in a fresh network namespace carries that namespace inode', async () => {
    const ns = `bs-ebpf-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const inode = netnsInodeOf(`/run/netns/${ns}`);
      const srv = await startServer('tcp', '127.0.0.1', 8080, [], ['ip', 'netns', 'exec', ns]);
      servers.push(srv);
      // `ip netns exec` execs python3: same pid.
      const add = await addOf(srv, 'tcp');
      expect(add.e.sockets[0].netns).toBe(inode);
      expect(inode).not.toBe(selfNetns());
      await srv.kill();
      servers.pop();
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  it('bind and die within 10 ms: add, then remove, nothing left', async () => {
    const srv = await startServer('tcp', '127.0.0.1', 0, ['die']);
    const add = await addOf(srv, 'tcp');
    const cookie = add.e.sockets[0].cookie!;
    await waitFor(() => removes(cookie)[0], 'remove after exit');
    const rec = src.recentEvents().filter((r) => r.cookie === cookie).map((r) => r.kind);
    expect(rec).toEqual(['add', 'remove']);
    expect(add.e.sockets[0].processes[0]).toMatchObject({ pid: srv.pid, comm: 'python3' });
  });

  it('a failed bind (EADDRINUSE) never shows up', async () => {
    const tcp = await startServer('tcp', '127.0.0.1', 0);
    const udp = await startServer('udp', '127.0.0.1', 0);
    servers.push(tcp, udp);
    await addOf(tcp, 'tcp');
    await addOf(udp, 'udp');
    const tries = [['SOCK_STREAM', tcp.port], ['SOCK_DGRAM', udp.port]].map(([type, port]) => execFileSync('python3', ['-c',
      `import os, socket\ns = socket.socket(socket.AF_INET, socket.${type})\ntry: s.bind(("127.0.0.1", ${port})); s.listen() if ${type === 'SOCK_STREAM' ? 1 : 0} else None\nexcept OSError as e: print(os.getpid(), e.errno)`],
    { encoding: 'utf8' }).trim().split(' ').map(Number));
    for (const [, errno] of tries) expect(errno).toBe(98);
    await new Promise((r) => setTimeout(r, 100));
    const pids = new Set(tries.map(([pid]) => pid));
    expect(adds((s) => pids.has(s.processes[0]?.pid ?? -1))).toHaveLength(0);
  });

  it('collects connection facts when the sockops hook is loaded', async () => {
    const withOps = new EbpfSource({ log, reconcileMs: 0, hooks: [...CONNECTION_HOOKS] });
    const mine: SourceEvent[] = [];
    await withOps.start((e) => mine.push(e));
    try {
      const srv = await startServer('tcp', '127.0.0.1', 0);
      servers.push(srv);
      const add = await waitFor(() => mine.find((e) => e.kind === 'add' && e.sockets[0].port === srv.port), 'add');
      execFileSync('python3', ['-c', `import socket\nfor i in range(3): socket.create_connection(("127.0.0.1", ${srv.port})).close()`]);
      const facts = await waitFor(() => {
        const f = withOps.connections().get(add.sockets[0].cookie!);
        return f && f.accepted >= 3 ? f : undefined;
      }, 'accepted connections');
      expect(facts.peers).toEqual(['127.0.0.1']);
      expect(src.connections().size).toBe(0); // default hooks: no sockops
    } finally {
      await withOps.stop();
    }
  });

  it('no drops, no resyncs in normal operation', () => {
    expect(src.stats()).toMatchObject({ drops: 0, resyncs: 0 });
    expect(src.stats().events).toBeGreaterThan(0);
  });
});

describe.skipIf(!isRoot)('EbpfSource lifecycle', () => {
  it('load + attach + detach leaves nothing in bpftool link/prog show', async () => {
    const src = new EbpfSource({ log, reconcileMs: 0 });
    await src.start(() => {});
    const ids = src.kernelIds();
    expect(ids.links.length).toBe(4); // set_state, post_bind4, post_bind6, sock_release
    expect(bpftoolIds('link')).toEqual(expect.arrayContaining(ids.links));
    expect(bpftoolIds('prog')).toEqual(expect.arrayContaining(ids.programs));
    await src.stop();
    // Links and programs are freed after an RCU grace period: poll briefly.
    await waitFor(() => {
      const links = bpftoolIds('link');
      const progs = bpftoolIds('prog');
      return ids.links.every((id) => !links.includes(id)) && ids.programs.every((id) => !progs.includes(id));
    }, 'links and programs to disappear');
  });

  it('overflow: tiny ring + bind storm -> drops -> resync -> equals sock_diag', async () => {
    const src = new EbpfSource({ log, reconcileMs: 0, ringBufferBytes: 4096 });
    let last: SourceEvent | undefined;
    const state = new Map<string, SocketRecord>();
    await src.start((e) => {
      last = e;
      if (e.kind === 'snapshot') state.clear();
      for (const s of e.sockets) {
        if (e.kind === 'remove') state.delete(socketKey(s));
        else state.set(socketKey(s), s);
      }
    });
    const storm = await startServer('udp', '127.0.0.1', 0, []);
    try {
      // 3000 UDP binds in one process, kept open, then half closed.
      execFileSync('python3', ['-c', String.raw`
import socket, time
socks = []
for i in range(3000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks[::2]: s.close()
`]);
      await waitFor(() => src.stats().resyncs > 0, 'a resync');
      expect(src.stats().drops).toBeGreaterThan(0);
      // Let the resync and any trailing events settle, then compare.
      await new Promise((r) => setTimeout(r, 1500));
      const truth = (await src.scan()).filter(isTracked).map(socketKey).sort();
      expect([...state.keys()].sort()).toEqual(truth);
      expect(last).toBeDefined();
    } finally {
      await storm.kill();
      await src.stop();
    }
  });
});
