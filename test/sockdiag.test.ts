// The sockdiag source against the real kernel: sockets opened by child
// processes must appear with the right port, uid, inode, v6only and owner;
// the LISTEN set must match ss(8); a listener in a fresh netns must appear
// under that namespace only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindsightError } from '../src/errors.js';
import {
  decodePacked, loadNative, netnsInode, sockDiag, socketOwnerPairs, type RawSocket,
} from '../src/native/binding.js';
import { groupOwners } from '../src/discovery/owners.js';
import {
  SockDiagSource, dumpSockets, listNamespaces, readProcesses, sortedPairsLookup, toRecords,
} from '../src/discovery/sockdiag.js';
import { TCP_LISTEN, type SocketRecord } from '../src/discovery/socket.js';
import type { SourceEvent } from '../src/discovery/source.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const TCP_ESTABLISHED = 1;
const TCP_CLOSE = 7;

// Opens one socket of each kind, prints their ports as JSON, then idles.
const OPENER = `
const net = require('node:net'), dgram = require('node:dgram');
const out = {};
const tcp = (name, o) => new Promise((ok, ko) => {
  const s = net.createServer(); s.on('error', ko);
  s.listen({ port: 0, ...o }, () => { out[name] = s.address().port; ok(); });
});
const udp = (name, type, o, host, peer) => new Promise((ok, ko) => {
  const s = dgram.createSocket({ type, ...o }); s.on('error', ko);
  s.bind(0, host, () => {
    if (!peer) { out[name] = s.address().port; return ok(); }
    s.connect(peer, '127.0.0.1', () => { out[name] = s.address().port; ok(); });
  });
});
(async () => {
  await tcp('tcp4', { host: '127.0.0.1' });
  await tcp('tcp6only', { host: '::1', ipv6Only: true });
  await tcp('tcpdual', { host: '::' });
  await udp('udp4', 'udp4', {}, '127.0.0.1');
  await udp('udp6only', 'udp6', { ipv6Only: true }, '::');
  await udp('udpdual', 'udp6', {}, '::');
  await udp('udpconn', 'udp4', {}, '127.0.0.1', out.udp4);
  console.log(JSON.stringify(out));
  setInterval(() => {}, 1 << 30);
})().catch((e) => { console.error(e); process.exit(1); });`;

type Ports = Record<'tcp4' | 'tcp6only' | 'tcpdual' | 'udp4' | 'udp6only' | 'udpdual' | 'udpconn', number>;

async function spawnJson<T>(cmd: string, args: string[], opts: { uid?: number; gid?: number } = {}): Promise<{ child: ChildProcess; out: T }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  child.stdout!.setEncoding('utf8');
  let buf = '';
  for await (const chunk of child.stdout!) {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl >= 0) return { child, out: JSON.parse(buf.slice(0, nl)) as T };
  }
  throw new Error(`${cmd} exited before printing (code ${child.exitCode})`);
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

function find(list: readonly RawSocket[] | readonly SocketRecord[], proto: string, family: number, port: number) {
  return list.filter((s) => s.proto === proto && s.family === family && s.port === port);
}

describe('native sockDiag and socketOwners', () => {
  let child: ChildProcess | undefined;
  let ports: Ports;
  const uid = isRoot ? NOBODY : process.getuid!();

  beforeAll(async () => {
    if (!isRoot) console.log('not root: the opener keeps our uid instead of nobody');
    ({ child, out: ports } = await spawnJson<Ports>(process.execPath, ['-e', OPENER], isRoot ? { uid: NOBODY, gid: NOBODY } : {}));
  });
  afterAll(() => kill(child));

  it('dumps TCP listeners and UDP sockets of both families with the right fields', () => {
    const all = sockDiag({ tcpStates: 1 << TCP_LISTEN });
    const one = (proto: string, family: 4 | 6, port: number) => {
      const hits = find(all, proto, family, port);
      expect(hits, `${proto}${family} port ${port}`).toHaveLength(1);
      const s = hits[0]!;
      expect(s.uid).toBe(uid);
      expect(s.inode).toBeGreaterThan(0);
      expect(s.cookie).toMatch(/^[1-9][0-9]*$/);
      return s;
    };
    expect(one('tcp', 4, ports.tcp4)).toMatchObject({ state: TCP_LISTEN, address: '127.0.0.1', remotePort: 0, remoteAddress: '0.0.0.0' });
    expect(one('tcp', 4, ports.tcp4).v6only).toBeUndefined();
    expect(one('tcp', 6, ports.tcp6only)).toMatchObject({ state: TCP_LISTEN, address: '::1', v6only: true, remoteAddress: '::' });
    expect(one('tcp', 6, ports.tcpdual)).toMatchObject({ state: TCP_LISTEN, address: '::', v6only: false });
    expect(one('udp', 4, ports.udp4)).toMatchObject({ state: TCP_CLOSE, address: '127.0.0.1', remotePort: 0 });
    expect(one('udp', 6, ports.udp6only)).toMatchObject({ state: TCP_CLOSE, address: '::', v6only: true });
    expect(one('udp', 6, ports.udpdual)).toMatchObject({ state: TCP_CLOSE, address: '::', v6only: false });
    expect(one('udp', 4, ports.udpconn)).toMatchObject({
      state: TCP_ESTABLISHED, address: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: ports.udp4,
    });
    // A dual-stack socket is reported once, as AF_INET6.
    expect(find(all, 'tcp', 4, ports.tcpdual)).toHaveLength(0);
  });

  it('the object form of the addon equals the decoded packed form', () => {
    const addon = loadNative();
    const mine = (list: RawSocket[]) => {
      const wanted = new Set(Object.values(ports));
      return list.filter((s) => wanted.has(s.port)).sort((a, b) => a.cookie.localeCompare(b.cookie));
    };
    const objects = mine(addon.sockDiag());
    expect(objects.length).toBeGreaterThanOrEqual(7);
    expect(mine(decodePacked(addon.sockDiagPacked()))).toEqual(objects);
  });

  it('honours tcpStates and udp', () => {
    const noUdp = sockDiag({ udp: false });
    expect(noUdp.every((s) => s.proto === 'tcp' && s.state === TCP_LISTEN)).toBe(true);
    expect(sockDiag({ tcpStates: 0, udp: false })).toEqual([]);
    const onlyUdp = sockDiag({ tcpStates: 0 });
    expect(onlyUdp.every((s) => s.proto === 'udp')).toBe(true);
    expect(find(onlyUdp, 'udp', 4, ports.udpconn)).toHaveLength(1);
  });

  it('socketOwners maps each inode to the opener pid', () => {
    const all = sockDiag();
    // Other processes may hold the same port numbers in the other protocol.
    const inodes = Object.entries(ports).flatMap(([kind, p]) =>
      all.filter((s) => s.port === p && kind.startsWith(s.proto) && s.uid === uid).map((s) => s.inode));
    expect(inodes.length).toBeGreaterThanOrEqual(7);
    const objectPairs = groupOwners(loadNative().socketOwners());
    const packed = groupOwners(socketOwnerPairs());
    // Two walks of a live host differ in whatever came and went between
    // them: compare the two forms on the sockets this test holds steady.
    for (const inode of inodes) {
      expect(packed.get(inode)).toEqual([child!.pid]);
      expect(objectPairs.get(inode)).toEqual([child!.pid]);
    }
  });

  it('socketOwners pairs come sorted by inode then pid, without repeats', () => {
    const pairs = socketOwnerPairs();
    expect(pairs.length % 2).toBe(0);
    for (let i = 2; i < pairs.length; i += 2) {
      const order = pairs[i - 2]! - pairs[i]! || pairs[i - 1]! - pairs[i + 1]!;
      expect(order, `pair ${i / 2}`).toBeLessThan(0);
    }
  });

  it('scan fills processes with the owner and its uid', async () => {
    const records = await new SockDiagSource().scan();
    const self = netnsInode();
    for (const [name, port] of Object.entries(ports)) {
      const hits = records.filter((r) => r.port === port && name.startsWith(r.proto) && r.uid === uid && r.netns === self);
      expect(hits.length, name).toBeGreaterThanOrEqual(1);
      for (const r of hits) {
        expect(r.processes.map((p) => p.pid)).toEqual([child!.pid]);
        expect(r.processes[0]).toMatchObject({ uid, comm: 'node', netns: self });
      }
    }
  });
});

/** Local address:port of each `ss -ltnH` line, in our spelling. */
function ssListeners(): Set<string> {
  const r = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (!local) continue;
    const at = local.lastIndexOf(':');
    let addr = local.slice(0, at).replace(/%[^\]]*$/, '').replace(/%.*\]$/, ']');
    if (addr.startsWith('[')) addr = addr.slice(1, -1);
    if (addr === '*') addr = '::'; // ss prints a dual-stack wildcard as *
    out.add(`${addr}:${local.slice(at + 1)}`);
  }
  return out;
}

describe('sortedPairsLookup', () => {
  it('finds none, one or several owners by binary search', () => {
    const look = sortedPairsLookup(new Uint32Array([3, 10, 5, 1, 5, 7, 5, 9, 8, 2]));
    expect(look(3)).toBe(10);
    expect(look(5)).toEqual([1, 7, 9]);
    expect(look(8)).toBe(2);
    for (const missing of [0, 1, 4, 6, 9, 2 ** 32 - 1]) expect(look(missing)).toBeUndefined();
    expect(sortedPairsLookup(new Uint32Array(0))(1)).toBeUndefined();
  });
});

describe('agreement with ss(8)', () => {
  it('has the same TCP LISTEN set as ss -ltnH', () => {
    // Other tests may open or close listeners meanwhile: an entry must be in
    // one of the two dumps around the ss run, and what both dumps hold must
    // be in ss.
    const key = (s: RawSocket) => `${s.address}:${s.port}`;
    const before = new Set(sockDiag({ udp: false }).map(key));
    const ss = ssListeners();
    const after = new Set(sockDiag({ udp: false }).map(key));
    expect(ss.size).toBeGreaterThan(0);
    for (const k of ss) expect(before.has(k) || after.has(k), `ss has ${k}`).toBe(true);
    for (const k of before) if (after.has(k)) expect(ss.has(k), `dump has ${k}`).toBe(true);
  });
});

describe('network namespaces', () => {
  const name = `bstest-${randomBytes(3).toString('hex')}`;
  let server: ChildProcess | undefined;
  let port = 0;
  let created = false;

  beforeAll(async () => {
    if (!isRoot) return;
    const ip = (...args: string[]) => {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', name);
    created = true;
    ip('-n', name, 'link', 'set', 'lo', 'up');
    const code = `const s = require('node:net').createServer();
      s.listen(0, '0.0.0.0', () => console.log(JSON.stringify({ port: s.address().port })));`;
    ({ child: server, out: { port } } = await spawnJson<{ port: number }>('ip', ['netns', 'exec', name, process.execPath, '-e', code]));
  });

  afterAll(async () => {
    await kill(server);
    if (created) spawnSync('ip', ['netns', 'del', name]);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(name);
  });

  it('finds a listener in a fresh netns under that namespace only', async (ctx) => {
    if (!isRoot) {
      console.log('skipped: creating a network namespace needs root');
      ctx.skip();
    }
    const nsInode = netnsInode(`/run/netns/${name}`);
    const self = netnsInode();
    expect(nsInode).not.toBe(self);
    expect(listNamespaces().map((n) => n.inode)).toContain(nsInode);

    const inside = sockDiag({ netnsPath: `/run/netns/${name}`, udp: false });
    const hit = find(inside, 'tcp', 4, port);
    expect(hit).toHaveLength(1);
    // The JS thread never moved: our own namespace is unchanged after setns on the worker.
    expect(netnsInode()).toBe(self);
    expect(sockDiag({ udp: false }).some((s) => s.inode === hit[0]!.inode)).toBe(false);

    const records = await dumpSockets();
    const mine = records.filter((r) => r.inode === hit[0]!.inode);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ netns: nsInode, port, address: '0.0.0.0', state: TCP_LISTEN });
    expect(mine[0]!.processes.map((p) => p.pid)).toEqual([server!.pid]);
    expect(mine[0]!.processes[0]!.netns).toBe(nsInode);
    const own = await dumpSockets({ namespaces: 'self' });
    expect(own.some((r) => r.inode === hit[0]!.inode)).toBe(false);
    expect(own.every((r) => r.netns === self)).toBe(true);
  });
});

describe('races and errors', () => {
  it('a socket that closes between dump and owner walk gets processes: []', async () => {
    const { child, out } = await spawnJson<{ port: number }>(process.execPath, ['-e',
      `const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));`]);
    const raw = sockDiag({ udp: false });
    expect(find(raw, 'tcp', 4, out.port)).toHaveLength(1);
    await kill(child);
    const owners = groupOwners(socketOwnerPairs());
    const infos = await readProcesses([...owners.values()].flat());
    const rec = toRecords(raw, netnsInode(), owners, infos).filter((r) => r.port === out.port);
    expect(rec).toHaveLength(1);
    expect(rec[0]!.processes).toEqual([]);
  });

  it('scans never throw while processes and sockets come and go', async () => {
    const churn = Array.from({ length: 8 }, () => spawn(process.execPath, ['-e',
      `for (let i = 0; i < 50; i++) require('node:net').createServer().listen(0, '127.0.0.1'); setTimeout(() => process.exit(0), 50);`], { stdio: 'ignore' }));
    const scans = await Promise.all(Array.from({ length: 4 }, () => dumpSockets()));
    for (const s of scans) expect(Array.isArray(s)).toBe(true);
    await Promise.all(churn.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
  });

  it('native sockDiag with a missing netns throws a coded error, no crash', () => {
    const addon = loadNative();
    expect(() => addon.sockDiag({ netnsPath: '/nonexistent' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    // Not a namespace file: setns(2) fails with EINVAL on the worker thread.
    expect(() => addon.sockDiag({ netnsPath: '/etc/hostname' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => addon.sockDiag({ udp: 'yes' } as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => addon.sockDiag(42 as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => addon.netnsInode('/nonexistent')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => addon.netnsInode(5 as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('the wrapper validates arguments and wraps native failures', () => {
    let err: unknown;
    try {
      sockDiag({ netnsPath: '/nonexistent' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BindsightError);
    expect(err).toMatchObject({ code: 'BS_SOCKDIAG_FAILED', cause: { code: 'ENOENT' } });
    expect(() => sockDiag({ netnsPath: 'relative' })).toThrow(TypeError);
    expect(() => sockDiag({ tcpStates: 1.5 })).toThrow(TypeError);
    expect(() => sockDiag({ tcpStates: -1 })).toThrow(TypeError);
    expect(() => sockDiag({ udp: 1 as never })).toThrow(TypeError);
    expect(() => netnsInode('/a\0b')).toThrow(TypeError);
  });

  it('BINDSIGHT_NO_NATIVE=1 disables the addon and probe says so', async () => {
    const saved = process.env.BINDSIGHT_NO_NATIVE;
    process.env.BINDSIGHT_NO_NATIVE = '1';
    try {
      await expect(new SockDiagSource().probe()).rejects.toMatchObject({ code: 'BS_NATIVE_DISABLED' });
      expect(() => loadNative()).toThrow(BindsightError);
    } finally {
      if (saved === undefined) delete process.env.BINDSIGHT_NO_NATIVE;
      else process.env.BINDSIGHT_NO_NATIVE = saved;
    }
    await expect(new SockDiagSource().probe()).resolves.toBeUndefined();
  });

  it('a missing addon yields BS_NATIVE_UNAVAILABLE naming the fix', async () => {
    // A copy of the loader in a package without build/: the root is found by
    // walking up to package.json, the addon is not there.
    const root = mkdtempSync(join(tmpdir(), 'bs-loader-'));
    try {
      mkdirSync(join(root, 'src/native'), { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'bindsight', type: 'module' }));
      copyFileSync(new URL('../src/errors.ts', import.meta.url), join(root, 'src/errors.ts'));
      copyFileSync(new URL('../src/native/binding.ts', import.meta.url), join(root, 'src/native/binding.ts'));
      const copy = (await import(join(root, 'src/native/binding.ts'))) as typeof import('../src/native/binding.js');
      expect(copy.nativeAvailable()).toBe(false);
      let err: unknown;
      try {
        copy.loadNative();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'BS_NATIVE_UNAVAILABLE' });
      expect((err as Error).message).toContain(join(root, 'build/Release/bindsight_native.node'));
      expect((err as Error).message).toContain('scripts/setup.sh');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('SockDiagSource polling', () => {
  it('emits a snapshot at start and then every interval, until stopped', async () => {
    const src = new SockDiagSource({ intervalMs: 30, namespaces: 'self' });
    const events: SourceEvent[] = [];
    await src.start((e) => events.push(e));
    expect(events).toHaveLength(1);
    expect(events[0]!.kind).toBe('snapshot');
    while (events.length < 3) await new Promise((r) => setTimeout(r, 20));
    await src.stop();
    const n = events.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(n);
    expect(events.every((e) => e.kind === 'snapshot' && Array.isArray(e.sockets))).toBe(true);
  });

  it('rejects a bad interval', () => {
    expect(() => new SockDiagSource({ intervalMs: 0 })).toThrow(BindsightError);
  });
});
