// Fuzz: >= 200,000 mutated and random packets to a DNS server running in a
// child process, over UDP and over TCP (many frames per connection). Every
// reply must parse with dnspython (an independent decoder), carry the
// query's id, and not be NOERROR for a query dnspython itself rejects. A
// known-good query must work between batches, and the child's RSS must stay
// within the first batch's figure + 20 MB. Replay: DNS_FUZZ_SEED=<seed>
// (and DNS_FUZZ_COUNT) as printed.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpClient, exchangeTcp, exchangeUdp, frame, loadHex, viewReply, type Target } from './helpers/dns-conformance.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SEED = Number(process.env.DNS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const COUNT = Number(process.env.DNS_FUZZ_COUNT ?? 200_000);
const BATCH = 10_000;
const UDP_SLOTS = 32;
const TCP_CONNS = 4;
const TCP_CHUNK = 200;
const RSS_SLACK_KB = 20 * 1024;

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
  const names = ['www.conformance.test', 'big.conformance.test', 'bad.conformance.test', 'srv.conformance.test', 'nope.conformance.test', 'WwW.conformance.TEST', 'conformance.test', 'x.y.z.example'];
  for (const n of names) {
    for (const [type, edns] of [[1, 0], [28, 1232], [16, 4096], [33, 512], [255, 0], [16, 0], [6, 1400]] as const) {
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

describe('dns fuzz', () => {
  let child: ChildProcess;
  let target: Target;
  let oracle: Oracle;
  let childLines: AsyncIterableIterator<string>;
  const settledRssKb = async (): Promise<number> => {
    child.stdin!.write('gc\n');
    await childLines.next();
    return rssKb(child.pid!);
  };

  beforeAll(async () => {
    child = spawn(path.join(ROOT, 'node_modules/.bin/vite-node'), [path.join(ROOT, 'test/helpers/dns-fuzz-server.ts')], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'],
      // RSS is read after a full GC (--expose-gc, "gc" command), with V8's young
      // generation pinned: otherwise it grows from 1 MB to 2 x 16 MB over the
      // first batches and old-space garbage swings RSS by ~30 MB between
      // collections, neither of which says anything about leaks.
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --max-semi-space-size=4`.trim() },
    });
    childLines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await childLines.next();
    target = { host: '127.0.0.1', port: (JSON.parse(first.value as string) as { port: number }).port };
    oracle = new Oracle();
  });

  afterAll(() => {
    oracle?.stop();
    child?.stdin?.end();
    child?.kill('SIGTERM');
  });

  it(`survives ${COUNT} mutated and random packets over UDP and TCP`, { timeout: 600_000 }, async () => {
    console.log(`dns-fuzz: seed=${SEED} packets=${COUNT} (replay: DNS_FUZZ_SEED=${SEED} DNS_FUZZ_COUNT=${COUNT})`);
    const r = rng(SEED);
    const seeds = corpus();
    const good = loadHex('query-a');
    const failures: string[] = [];
    let firstRss = 0;
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
      expect(child.exitCode, 'server process exited').toBeNull();
      if (process.env.DNS_FUZZ_MEM) child.stdin!.write('mem\n');
      const rss = await settledRssKb();
      if (b === 0) firstRss = rss;
      else if (rss > firstRss + RSS_SLACK_KB) failures.push(`batch ${b}: RSS ${rss} kB > first batch ${firstRss} kB + 20 MB`);
      if (failures.length > 20) break;
    }
    console.log(`dns-fuzz: sent=${sent} replies=${replies} firstRss=${firstRss}kB lastRss=${await settledRssKb()}kB in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(COUNT);
  });
});
