// Fuzz: >= 200,000 mutated and random packets to the real daemon (`node
// dist/cli.js run`, serving the conformance zone, a zone with SRV/MX/CNAME
// data and a zone with a poisoned name), over UDP and over TCP (many frames
// per connection). Every reply must parse with dnspython (an independent
// decoder), carry the query's id, and not be NOERROR for a query dnspython
// itself rejects. A known-good query must work between batches, and the
// daemon's RSS must stay within the first batch's figure + 20 MB.
// Replay: DNS_FUZZ_SEED=<seed> (and DNS_FUZZ_COUNT) as printed.
// DNS_FUZZ_TARGET=server fuzzes startDnsServer alone with a stand-in answer
// function (test/helpers/dns-fuzz-server.ts), to tell a transport bug from
// an answer-builder bug.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_ZONE } from './fixtures/dns/conformance.js';
import { startDaemon } from './helpers/daemon.js';
import { TcpClient, exchangeTcp, exchangeUdp, frame, loadHex, viewReply, type Target } from './helpers/dns-conformance.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SEED = Number(process.env.DNS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const COUNT = Number(process.env.DNS_FUZZ_COUNT ?? 200_000);
const BATCH = 10_000;
const UDP_SLOTS = 32;
const TCP_CONNS = 4;
const TCP_CHUNK = 200;
const RSS_SLACK_KB = 20 * 1024;
const TARGET = process.env.DNS_FUZZ_TARGET === 'server' ? 'server' : 'daemon';

/** SRV (uncompressed targets), MX, CNAME and DNS-SD data, so mutations reach every encoder path. */
const EXTRA_ZONE = `$ORIGIN fuzz.test.
$TTL 60
@      IN SOA ns.fuzz.test. h.fuzz.test. 1 3600 600 86400 30
@      IN NS  ns
@      IN MX  10 mail
ns     IN A   192.0.2.53
mail   IN A   192.0.2.25
mail   IN AAAA 2001:db8::25
srv    IN SRV 0 5 443 mail
_http._tcp IN PTR web._http._tcp
web._http._tcp IN SRV 0 0 80 mail
web._http._tcp IN TXT "path=/" "k=v"
alias  IN CNAME mail
loop1  IN CNAME loop2
loop2  IN CNAME loop1
mapped IN AAAA ::ffff:192.0.2.1
hinfo  IN HINFO "cpu" "os"
`;
/** One poisoned name (bad address): every query for it must get SERVFAIL, never a crash. */
const BROKEN_ZONE = `$ORIGIN broken.test.
@   IN SOA ns.broken.test. h.broken.test. 1 3600 600 86400 30
ok  IN A 192.0.2.10
bad IN A 192.0.2.300
`;

/** dnspython oracle: "t qhex rhex" lines, "END" flushes "DONE"; prints "bad ..." per failing line. */
const ORACLE = String.raw`
import sys, dns.message, dns.flags
bad = []
n = 0
for line in sys.stdin:
    line = line.strip()
    if line == 'END':
        for b in bad: print(b)
        print('DONE %d' % n); sys.stdout.flush(); bad = []; n = 0; continue
    n += 1
    t, qh, rh = line.split(' ')
    q = bytes.fromhex(qh); r = bytes.fromhex(rh)
    try:
        if len(r) < 12: raise ValueError('short reply')
        flags = int.from_bytes(r[2:4], 'big')
        w = r
        if ((flags >> 11) & 15) not in (0, 1, 2, 4, 5):
            # dnspython cannot represent unknown opcodes: such a reply must be NOTIMP; parse the rest
            if flags & 15 != 4: raise ValueError('unknown opcode not NOTIMP')
            w = r[:2] + (flags & ~0x7800).to_bytes(2, 'big') + r[4:]
        m = dns.message.from_wire(w)
        if r[:2] != q[:2]: raise ValueError('id differs')
        if not (m.flags & dns.flags.QR): raise ValueError('QR clear')
        rc = m.rcode()
    except Exception as e:
        bad.append('bad reply-unparsable %s %s q=%s r=%s' % (type(e).__name__, e, qh, rh)); continue
    try:
        qm = dns.message.from_wire(q); qerr = None
    except Exception as e:
        qm = None; qerr = type(e).__name__
    if qm is None and rc == 0:
        bad.append('bad noerror-for-rejected %s q=%s r=%s' % (qerr, qh, rh)); continue
    if t == 'u' and qm is not None:
        limit = 512 if qm.edns < 0 else min(max(qm.payload, 512), 1232)
        if len(r) > limit: bad.append('bad udp-size %d > %d q=%s' % (len(r), limit, qh))
`;

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Buffer[] {
  const dir = path.join(ROOT, 'test/fixtures/dns');
  const seeds = fs.readdirSync(dir).filter((f) => f.endsWith('.hex')).map((f) => loadHex(f.slice(0, -4)));
  const names = [
    'www.conformance.test', 'big.conformance.test', 'bad.conformance.test', 'srv.conformance.test', 'nope.conformance.test', 'WwW.conformance.TEST',
    'conformance.test', 'x.y.z.example', 'b.ent.conformance.test', 'alias.conformance.test', 'fuzz.test', 'srv.fuzz.test', '_http._tcp.fuzz.test',
    'web._http._tcp.fuzz.test', 'alias.fuzz.test', 'loop1.fuzz.test', 'mapped.fuzz.test', 'bad.broken.test', 'svc.local', '_tcp.svc.local',
    '1.0.0.127.in-addr.arpa',
  ];
  for (const n of names) {
    for (const [type, edns] of [[1, 0], [28, 1232], [16, 4096], [33, 512], [255, 0], [16, 0], [6, 1400], [12, 0], [15, 1232], [5, 0]] as const) {
      const labels = n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
      const h = Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]);
      const opt = edns ? Buffer.from([0, 0, 41, edns >> 8, edns & 255, 0, 0, 0x80, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]) : Buffer.alloc(0);
      seeds.push(Buffer.concat([h, ...labels, Buffer.from([0, 0, type, 0, 1]), opt]));
    }
  }
  return seeds;
}

function makePacket(r: () => number, seeds: Buffer[]): Buffer {
  const int = (n: number): number => Math.floor(r() * n);
  const roll = r();
  if (roll < 0.25) {
    const b = Buffer.alloc(int(300));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
    if (b.length > 3 && r() < 0.7) b[2] = b[2]! & 0x07; // past the QR/opcode checks
    if (b.length > 5 && r() < 0.5) { b[4] = 0; b[5] = 1; }
    return b;
  }
  let p = Buffer.from(seeds[int(seeds.length)]!);
  if (roll < 0.3) return p;
  const rounds = 1 + int(4);
  for (let k = 0; k < rounds; k++) {
    const m = int(10);
    const at = int(Math.max(p.length, 1));
    if (m === 0 && p.length) p[at] = p[at]! ^ (1 << int(8));
    else if (m === 1 && p.length) p[at] = int(256);
    else if (m === 2) p = p.subarray(0, int(p.length + 1));
    else if (m === 3) p = Buffer.concat([p, Buffer.from(Array.from({ length: 1 + int(20) }, () => int(256)))]);
    else if (m === 4) p = Buffer.concat([p.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), p.subarray(at)]);
    else if (m === 5) p = Buffer.concat([p.subarray(0, at), p.subarray(Math.min(at + 1 + int(8), p.length))]);
    else if (m === 6 && p.length >= 12) p.writeUInt16BE(int(4), 4 + 2 * int(4));
    else if (m === 7 && p.length >= 12) p.writeUInt16BE(int(65536) & ~0x8000, 2);
    else if (m === 8) { const o = seeds[int(seeds.length)]!; p = Buffer.concat([p.subarray(0, at), o.subarray(int(o.length))]); }
    else if (m === 9 && p.length >= 12) { p = Buffer.concat([p, Buffer.from('00002910000000000000', 'hex')]); p.writeUInt16BE((p.readUInt16BE(10) + 1) & 0xffff, 10); }
  }
  return Buffer.from(p);
}

/** Our server answers everything except short packets and responses (QR=1). */
const expectsReply = (p: Buffer): boolean => p.length >= 12 && (p[2]! & 0x80) === 0;

type Pair = ['u' | 't', Buffer, Buffer];

class Oracle {
  private readonly proc: ChildProcess;
  private readonly lines: AsyncIterableIterator<string>;
  constructor() {
    this.proc = spawn('/usr/bin/python3', ['-c', ORACLE], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = readline.createInterface({ input: this.proc.stdout! })[Symbol.asyncIterator]();
  }
  async check(pairs: Pair[]): Promise<string[]> {
    const text = pairs.map(([t, q, r]) => `${t} ${q.toString('hex') || '-'} ${r.toString('hex')}`).join('\n');
    this.proc.stdin!.write(text + '\nEND\n');
    const bad: string[] = [];
    for (;;) {
      const { value, done } = await this.lines.next();
      if (done) throw new Error('oracle exited');
      if (value.startsWith('DONE')) {
        if (Number(value.split(' ')[1]) !== pairs.length) bad.push(`oracle saw ${value}, sent ${pairs.length}`);
        return bad;
      }
      bad.push(value);
    }
  }
  stop(): void { this.proc.stdin!.end(); }
}

async function udpBatch(t: Target, packets: Buffer[], failures: string[]): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const silent = dgram.createSocket('udp4');
  silent.on('message', (m) => failures.push(`udp reply to an ignored packet: ${m.toString('hex')}`));
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  let next = 0;
  const slot = async (): Promise<void> => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    let waiting: ((m: Buffer | null) => void) | null = null;
    s.on('message', (m) => { const w = waiting; waiting = null; if (w) w(m); else failures.push('udp: unexpected extra reply'); });
    while (next < packets.length) {
      const q = packets[next++]!;
      if (!expectsReply(q)) { silent.send(q, t.port, t.host); continue; }
      const reply = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => { waiting = null; resolve(null); }, 3000);
        waiting = (m) => { clearTimeout(timer); resolve(m); };
        s.send(q, t.port, t.host);
      });
      if (!reply) failures.push(`udp: no reply to ${q.toString('hex')}`);
      else pairs.push(['u', q, reply]);
    }
    s.close();
  };
  await Promise.all(Array.from({ length: UDP_SLOTS }, slot));
  await new Promise((r) => setTimeout(r, 50));
  silent.close();
  return pairs;
}

async function tcpBatch(t: Target, packets: Buffer[], failures: string[]): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const per = Math.ceil(packets.length / TCP_CONNS);
  await Promise.all(Array.from({ length: TCP_CONNS }, async (_, c) => {
    const mine = packets.slice(c * per, (c + 1) * per).filter((p) => p.length <= 65535);
    const conn = await TcpClient.connect(t);
    for (let i = 0; i < mine.length; i += TCP_CHUNK) {
      const chunk = mine.slice(i, i + TCP_CHUNK);
      conn.sock.write(Buffer.concat(chunk.map(frame)));
      for (const q of chunk.filter(expectsReply)) {
        const r = await conn.next(5000);
        if (!r) { failures.push(`tcp: no reply to ${q.toString('hex')}`); conn.close(); return; }
        pairs.push(['t', q, r]);
      }
    }
    conn.close();
  }));
  return pairs;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

interface FuzzTarget {
  target: Target;
  pid: number;
  alive(): boolean;
  /** RSS in kB at a quiet point between batches. */
  rssKb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * V8's young generation is pinned (--max-semi-space-size=4): otherwise it grows
 * from 1 MB to 2 x 16 MB over the first batches, which says nothing about leaks.
 */
const PIN_YOUNG_GEN = `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=4`.trim();

/** The real daemon, quiet: no RRL, no discovery noise (procfs once an hour), info logs. */
async function startDaemonTarget(): Promise<FuzzTarget> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindsight-fuzz-zones-'));
  fs.writeFileSync(path.join(dir, 'conformance.test.zone'), CONFORMANCE_ZONE);
  fs.writeFileSync(path.join(dir, 'fuzz.test.zone'), EXTRA_ZONE);
  fs.writeFileSync(path.join(dir, 'broken.test.zone'), BROKEN_ZONE);
  const d = await startDaemon({
    args: ['--zones', dir, '--no-rrl', '--source', 'procfs', '--interval', '1h', '--log-level', 'info'],
    env: { NODE_OPTIONS: PIN_YOUNG_GEN },
  });
  return {
    target: { host: '127.0.0.1', port: d.dnsPort },
    pid: d.proc.pid!,
    alive: () => d.proc.exitCode === null && d.proc.signalCode === null,
    // The daemon has no GC hook: RSS is read after a short idle pause, and
    // the check below uses the max over the last batches (see docs).
    rssKb: async () => { await new Promise((r) => setTimeout(r, 100)); return rssKb(d.proc.pid!); },
    stop: async () => {
      const code = await d.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      if (code !== 0 && code !== null) throw new Error(`daemon exited with ${code}:\n${d.stderr().slice(-2000)}`);
    },
  };
}

/** startDnsServer alone with a stand-in answer function, in a child process. */
async function startServerTarget(): Promise<FuzzTarget> {
  const child: ChildProcess = spawn(path.join(ROOT, 'node_modules/.bin/vite-node'), [path.join(ROOT, 'test/helpers/dns-fuzz-server.ts')], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'],
    // RSS is read after a full GC (--expose-gc, "gc" command).
    env: { ...process.env, NODE_OPTIONS: `${PIN_YOUNG_GEN} --expose-gc` },
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  return {
    target: { host: '127.0.0.1', port: (JSON.parse(first.value as string) as { port: number }).port },
    pid: child.pid!,
    alive: () => child.exitCode === null,
    rssKb: async () => {
      if (process.env.DNS_FUZZ_MEM) child.stdin!.write('mem\n');
      child.stdin!.write('gc\n');
      await lines.next();
      return rssKb(child.pid!);
    },
    stop: async () => { child.stdin?.end(); child.kill('SIGTERM'); },
  };
}

/** RSS is judged on the max over the last LAST_BATCHES batches against the first batch. */
const LAST_BATCHES = 5;

describe(`dns fuzz (${TARGET})`, () => {
  let fuzz: FuzzTarget;
  let oracle: Oracle;

  beforeAll(async () => {
    fuzz = TARGET === 'daemon' ? await startDaemonTarget() : await startServerTarget();
    oracle = new Oracle();
  });

  afterAll(async () => {
    oracle?.stop();
    await fuzz?.stop();
  });

  it(`survives ${COUNT} mutated and random packets over UDP and TCP`, { timeout: 600_000 }, async () => {
    console.log(`dns-fuzz: target=${TARGET} seed=${SEED} packets=${COUNT} (replay: DNS_FUZZ_SEED=${SEED} DNS_FUZZ_COUNT=${COUNT} DNS_FUZZ_TARGET=${TARGET})`);
    const target = fuzz.target;
    const r = rng(SEED);
    const seeds = corpus();
    const good = loadHex('query-a');
    const failures: string[] = [];
    const rss: number[] = [];
    let sent = 0;
    let replies = 0;
    const t0 = Date.now();
    for (let b = 0; sent < COUNT; b++) {
      const n = Math.min(BATCH, COUNT - sent);
      const packets = Array.from({ length: n }, () => makePacket(r, seeds));
      sent += n;
      const half = Math.floor(n / 2);
      const pairs = [
        ...(await udpBatch(target, packets.slice(0, half), failures)),
        ...(await tcpBatch(target, packets.slice(half), failures)),
      ];
      replies += pairs.length;
      failures.push(...(await oracle.check(pairs)));
      // Known-good query after every batch, both transports.
      for (const reply of [await exchangeUdp(target, good, 3000), await exchangeTcp(target, good, 3000)]) {
        const v = reply ? viewReply(reply) : null;
        if (!v || v.rcode !== 0 || v.an !== 1) failures.push(`batch ${b}: known-good query failed`);
      }
      expect(fuzz.alive(), 'DNS process exited').toBe(true);
      rss.push(await fuzz.rssKb());
      if (failures.length > 20) break;
    }
    const first = rss[0]!;
    const lastMax = Math.max(...rss.slice(-LAST_BATCHES));
    console.log(`dns-fuzz: sent=${sent} replies=${replies} rss firstBatch=${first}kB maxOfLast${LAST_BATCHES}=${lastMax}kB all=[${rss.join(',')}] in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    if (lastMax > first + RSS_SLACK_KB) failures.push(`RSS max over the last ${LAST_BATCHES} batches ${lastMax} kB > first batch ${first} kB + 20 MB`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(COUNT);
  });
});
