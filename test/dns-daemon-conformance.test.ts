// The DNS conformance table (test/fixtures/dns/conformance.ts) and the
// daemon-only checks of issue 4, against the real daemon (`node dist/cli.js
// run`) serving CONFORMANCE_ZONE from a zones dir, with real discovered
// services, over the wire with packets built byte by byte. RRL is checked from
// a non-loopback source address in a network namespace of our own.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, CONFORMANCE_ZONE } from './fixtures/dns/conformance.js';
import { buildQuery, exchangeTcp, exchangeUdp, runCase, viewReply, type QueryOpts, type Target } from './helpers/dns-conformance.js';
import { TYPE } from '../src/dns/records.js';
import { rootOrSkip, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { dig } from './helpers/dig.js';
import { startServer, type TestServer } from './helpers/servers.js';

const query = buildQuery;

/** Wire form of a name, uncompressed. */
const wireName = (name: string): Buffer =>
  Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);

/** Offset just past a (possibly compressed) name at `at`. */
function skipName(msg: Buffer, at: number): number {
  for (;;) {
    const len = msg[at]!;
    if (len === 0) return at + 1;
    if (len >= 0xc0) return at + 2;
    at += len + 1;
  }
}

/** Raw answer-section RRs: owner offset, type, RDATA bytes. */
function rawAnswers(msg: Buffer): Array<{ type: number; rdata: Buffer }> {
  let at = skipName(msg, 12) + 4;
  const out: Array<{ type: number; rdata: Buffer }> = [];
  for (let i = 0; i < msg.readUInt16BE(6); i++) {
    at = skipName(msg, at);
    const type = msg.readUInt16BE(at);
    const rdlen = msg.readUInt16BE(at + 8);
    out.push({ type, rdata: msg.subarray(at + 10, at + 10 + rdlen) });
    at += 10 + rdlen;
  }
  return out;
}

const BROKEN_ZONE = `$ORIGIN broken.test.
@    3600 IN SOA ns.broken.test. hostmaster.broken.test. 1 3600 600 86400 60
@    3600 IN NS  ns
ns        IN A   192.0.2.53
ok        IN A   192.0.2.10
bad       IN A   192.0.2.300
bad       IN TXT "this line is fine, but its name is poisoned"
port      IN SRV 0 0 70000 ok
`;

const GIT_PORT = 9418; // "git" in /etc/services, so the listener gets _git._tcp names.

describe('the real daemon: conformance table and daemon-level DNS behaviour', () => {
  let d: RunningDaemon;
  let api: TestServer;
  let zonesDir: string;
  let t: Target;

  beforeAll(async () => {
    zonesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindsight-conf-zones-'));
    fs.writeFileSync(path.join(zonesDir, 'conformance.test.zone'), CONFORMANCE_ZONE);
    fs.writeFileSync(path.join(zonesDir, 'broken.test.zone'), BROKEN_ZONE);
    d = await startDaemon({ args: ['--zones', zonesDir, '--no-rrl', '--source', 'procfs', '--interval', '250ms'] });
    t = { host: '127.0.0.1', port: d.dnsPort };
    api = await startServer('confapi', [{ proto: 'tcp', port: GIT_PORT, host: '127.0.0.1' }]);
    await waitFor(async () => (await dig(d.dnsPort, 'confapi.svc.local', 'A')).answer.length > 0, 'confapi in DNS', 10_000);
  });

  afterAll(async () => {
    await api?.kill();
    await d?.stop();
    if (zonesDir) fs.rmSync(zonesDir, { recursive: true, force: true });
  });

  describe('conformance table', () => {
    for (const c of CONFORMANCE_CASES) {
      for (const tr of c.transports) {
        it(`${c.id} over ${tr} (${c.rfc})`, async () => {
          expect(await runCase(c, t, tr)).toEqual([]);
        });
      }
    }
  });

  it('AA on answers from svc.local (discovered) and from a zone file', async () => {
    for (const [name, type] of [['confapi.svc.local', 'A'], ['_git._tcp.svc.local', 'PTR'], ['www.conformance.test', 'AAAA']] as const) {
      const v = viewReply((await exchangeUdp(t, query(name, type)))!);
      expect([name, v.rcode, v.aa, v.an > 0]).toEqual([name, 0, true, true]);
    }
  });

  it('NODATA vs NXDOMAIN for discovered names, SOA in authority with TTL = min(TTL, minimum)', async () => {
    const nodata = viewReply((await exchangeUdp(t, query('confapi.svc.local', 'MX')))!);
    expect([nodata.rcode, nodata.aa, nodata.an, nodata.ns]).toEqual([0, true, 0, 1]);
    const soa = nodata.packet.authorities![0] as unknown as { type: string; name: string; ttl: number; data: { minimum: number } };
    expect([soa.type, soa.name]).toEqual(['SOA', 'svc.local']);
    expect(soa.ttl).toBeLessThanOrEqual(soa.data.minimum);
    const nx = viewReply((await exchangeUdp(t, query('no-such-service.svc.local', 'A')))!);
    expect([nx.rcode, nx.aa, nx.an, nx.ns]).toEqual([3, true, 0, 1]);
    // AAAA for a name that has only A records: NODATA, never NXDOMAIN (Alpine/musl).
    const aaaa = viewReply((await exchangeUdp(t, query('confapi.svc.local', 'AAAA')))!);
    expect([aaaa.rcode, aaaa.an, aaaa.ns]).toEqual([0, 0, 1]);
  });

  it('empty non-terminal _tcp.svc.local is NODATA (RFC 8020), not NXDOMAIN', async () => {
    for (const type of ['A', 'PTR', 'SRV'] as const) {
      const v = viewReply((await exchangeUdp(t, query('_tcp.svc.local', type)))!);
      expect([type, v.rcode, v.aa, v.an, v.ns]).toEqual([type, 0, true, 0, 1]);
    }
  });

  it('0x20: a mixed-case qname is echoed exactly in the question and the answer owners', async () => {
    for (const [name, type] of [['CoNfApI.sVc.LoCaL', 'A'], ['wWw.CONFORMANCE.test', 'A'], ['_GiT._TcP.CoNfApI.SvC.lOcAl', 'SRV']] as const) {
      for (const tr of ['udp', 'tcp'] as const) {
        const q = query(name, type);
        const r = tr === 'udp' ? await exchangeUdp(t, q) : await exchangeTcp(t, q);
        const v = viewReply(r!);
        expect(r!.subarray(12, q.length).equals(q.subarray(12)), `${name} question over ${tr}`).toBe(true);
        expect(v.an).toBeGreaterThan(0);
        expect(v.packet.answers!.map((a) => a.name)).toEqual(v.packet.answers!.map(() => name));
      }
    }
  });

  it('SRV targets are written uncompressed (RFC 2782), even when the target is the qname', async () => {
    const r = (await exchangeUdp(t, query('confapi.svc.local', 'SRV')))!;
    const srvs = rawAnswers(r).filter((a) => a.type === TYPE.SRV);
    expect(srvs.length).toBeGreaterThan(0);
    for (const s of srvs) {
      expect(s.rdata.readUInt16BE(4)).toBe(GIT_PORT);
      expect(s.rdata.subarray(6).equals(wireName('confapi.svc.local'))).toBe(true);
    }
  });

  it('EDNS: OPT only when the query has one, version 0, our size 1232, DO copied', async () => {
    const plain = viewReply((await exchangeUdp(t, query('confapi.svc.local', 'A')))!);
    expect((plain.packet.additionals ?? []).filter((r) => r.type === 'OPT')).toEqual([]);
    const withOpt = (await exchangeUdp(t, query('confapi.svc.local', 'A', { edns: { size: 4096, do: true } })))!;
    const opts = (viewReply(withOpt).packet.additionals ?? []).filter((r) => r.type === 'OPT') as unknown as Array<{ udpPayloadSize: number; ednsVersion: number; flags: number }>;
    expect(opts.map((o) => [o.udpPayloadSize, o.ednsVersion, o.flags])).toEqual([[1232, 0, 0x8000]]);
  });

  it('BADVERS for EDNS version 1: question echoed, nothing in answer, OPT with version 0', async () => {
    const q = query('confapi.svc.local', 'A', { edns: { size: 1232, version: 1 } });
    for (const r of [await exchangeUdp(t, q), await exchangeTcp(t, q)]) {
      const v = viewReply(r!);
      expect([v.rcode, v.qd, v.an, v.ar]).toEqual([16, 1, 0, 1]);
      expect(r!.subarray(12, q.length - 11).equals(q.subarray(12, q.length - 11))).toBe(true);
    }
  });

  it('UDP size: 512 without EDNS, min(client size, 1232) with it, TC set; TCP gives the whole RRset', async () => {
    const cases: Array<[QueryOpts, number]> = [[{}, 512], [{ edns: { size: 100 } }, 512], [{ edns: { size: 800 } }, 800], [{ edns: { size: 1232 } }, 1232], [{ edns: { size: 4096 } }, 1232]];
    for (const [o, limit] of cases) {
      const r = (await exchangeUdp(t, query('big.conformance.test', 'TXT', o)))!;
      const v = viewReply(r);
      expect([JSON.stringify(o), r.length <= limit, r.length > limit - 220, v.tc, v.qd]).toEqual([JSON.stringify(o), true, true, true, 1]);
    }
    const full = viewReply((await exchangeTcp(t, query('big.conformance.test', 'TXT', { edns: { size: 1232 } })))!);
    expect([full.rcode, full.tc, full.an]).toEqual([0, false, 40]);
  });

  it('dig gets TC over UDP, retries over TCP and gets all 40 TXT records', async () => {
    const r = await dig(d.dnsPort, 'big.conformance.test', 'TXT', ['+noedns']);
    expect(r.status).toBe('NOERROR');
    expect(r.raw).toMatch(/Truncated, retrying in TCP mode/);
    expect(r.answer).toHaveLength(40);
  });

  describe('a bad zone-file record gives SERVFAIL for its name only (issue 4)', () => {
    it('the daemon logs BS_ZONE_PARSE with file:line for each bad line and loads the rest', () => {
      const lines = d.logs.filter((l) => l.msg.startsWith('zone record skipped'));
      const file = path.join(zonesDir, 'broken.test.zone');
      expect(lines.map((l) => [l.level, l.code, (l.err as { message: string }).message])).toEqual([
        [50, 'BS_ZONE_PARSE', expect.stringContaining(`${file}:6: bad IPv4 address "192.0.2.300"`)],
        [50, 'BS_ZONE_PARSE', expect.stringContaining(`${file}:8: SRV port 70000 out of range`)],
      ]);
    });

    it('dig: SERVFAIL (no AA) for every type at a poisoned name, answers elsewhere, no timeout', async () => {
      for (const [name, type] of [['bad.broken.test', 'A'], ['bad.broken.test', 'TXT'], ['BAD.broken.test', 'AAAA'], ['port.broken.test', 'SRV'], ['port.broken.test', 'A']]) {
        for (const tcp of [[], ['+tcp']]) {
          const r = await dig(d.dnsPort, name!, type, tcp);
          expect([name, type, r.status, r.flags.includes('aa')]).toEqual([name, type, 'SERVFAIL', false]);
        }
      }
      expect((await dig(d.dnsPort, 'ok.broken.test', 'A')).answer).toEqual(['ok.broken.test. 60 IN A 192.0.2.10']);
      expect((await dig(d.dnsPort, 'nope.broken.test', 'A')).status).toBe('NXDOMAIN');
      expect(d.proc.exitCode).toBeNull();
    });
  });
});

// ---- RRL for a non-loopback client, from a netns of our own ----------------

const NS = `bs-rrl-${process.pid}`;
const VETH_HOST = `bsr${process.pid % 100000}h`;
const VETH_NS = `bsr${process.pid % 100000}n`;
const HOST_ADDR = '10.231.77.1';
const NS_ADDR = '10.231.77.2';

/** Sends `count` queries at once from inside the netns; prints {full, tc} replies seen within 1 s. */
const BURST = String.raw`
import socket, sys, time
host, port, count, hexq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
q = bytes.fromhex(hexq)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
for i in range(count):
    s.sendto(q[:0] + i.to_bytes(2, 'big') + q[2:], (host, port))
full = tc = 0
end = time.time() + 1.0
while time.time() < end:
    try:
        r, _ = s.recvfrom(4096)
    except socket.timeout:
        continue
    if r[2] & 0x02: tc += 1
    else: full += 1
print('%d %d' % (full, tc))
`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function cleanupNetns(): void {
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', VETH_HOST]);
}

describe.skipIf(rootOrSkip())('RRL on by default for non-loopback clients (real daemon, netns client)', () => {
  let d: RunningDaemon;
  let zonesDir: string;
  let port: number;

  beforeAll(async () => {
    cleanupNetns();
    ip('netns', 'add', NS);
    ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS);
    ip('link', 'set', VETH_NS, 'netns', NS);
    ip('addr', 'add', `${HOST_ADDR}/30`, 'dev', VETH_HOST);
    ip('link', 'set', VETH_HOST, 'up');
    ip('-n', NS, 'addr', 'add', `${NS_ADDR}/30`, 'dev', VETH_NS);
    ip('-n', NS, 'link', 'set', VETH_NS, 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    zonesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindsight-rrl-zones-'));
    fs.writeFileSync(path.join(zonesDir, 'conformance.test.zone'), CONFORMANCE_ZONE);
    // No --no-rrl: the default is what is checked.
    d = await startDaemon({ args: ['--listen', `${HOST_ADDR}:0`, '--zones', zonesDir, '--source', 'procfs', '--interval', '1h'] });
    const line = d.logs.find((l) => l.msg === `dns listening on udp ${HOST_ADDR}:${String(l.port)}`);
    port = line!.port as number;
  });

  afterAll(async () => {
    await d?.stop();
    cleanupNetns();
    if (zonesDir) fs.rmSync(zonesDir, { recursive: true, force: true });
  });

  it('a burst of 100 UDP queries from 10.231.77.2 gets about 20 answers, then slipped TC replies and drops; /metrics counts them', async () => {
    const q = query('www.conformance.test', 'A').toString('hex');
    const out = execFileSync('ip', ['netns', 'exec', NS, '/usr/bin/python3', '-c', BURST, HOST_ADDR, String(port), '100', q], { encoding: 'utf8' });
    const [full, tc] = out.trim().split(' ').map(Number) as [number, number];
    console.log(`dns-rrl: 100 queries from ${NS_ADDR}: ${full} answered, ${tc} slipped (TC), ${100 - full - tc} dropped`);
    // 20/s with a one-second burst (RRL_DEFAULTS); a slow machine refills a few more.
    expect(full).toBeGreaterThanOrEqual(15);
    expect(full).toBeLessThanOrEqual(40);
    expect(tc).toBeGreaterThan(0);
    expect(100 - full - tc).toBeGreaterThan(0);
    const metrics = String(await d.control('/metrics'));
    const count = (action: string) => Number(new RegExp(`^bindsight_dns_rate_limited_total\\{action="${action}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect(count('slip')).toBe(tc);
    expect(count('drop')).toBe(100 - full - tc);
  });

  it('TCP from the same (limited) client is never limited, and loopback is exempt', async () => {
    for (let i = 0; i < 5; i++) {
      const out = execFileSync('ip', ['netns', 'exec', NS, 'dig', '+tcp', '+tries=1', '+time=2', '+norecurse', '+short', `@${HOST_ADDR}`, '-p', String(port), 'www.conformance.test', 'A'], { encoding: 'utf8' });
      expect(out.trim()).toBe('192.0.2.1');
    }
    const q = query('www.conformance.test', 'A');
    const replies = await Promise.all(Array.from({ length: 60 }, () => exchangeUdp({ host: '127.0.0.1', port: d.dnsPort }, q, 2000)));
    expect(replies.filter((x) => x && !viewReply(x).tc).length).toBe(60);
  });
});
