// startDnsServer over real UDP and TCP sockets on 127.0.0.1, port 0, with a
// small stand-in answer function: the transport and wire layer are what is
// under test. Conformance cases come from test/fixtures/dns/conformance.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer, type DnsServerOptions } from '../src/dns/server.js';
import { BindsightError } from '../src/errors.js';
import type { RR, RRData } from '../src/dns/records.js';
import { CONFORMANCE_CASES } from './fixtures/dns/conformance.js';
import {
  TcpClient, conformanceAnswer, exchangeTcp, exchangeUdp, frame, loadHex, runCase, viewReply, type Target,
} from './helpers/dns-conformance.js';

const silent = pino({ level: 'silent' });

/** One record of every type the encoder supports. */
function typesRRs(name: string): RR[] {
  const d: RRData[] = [
    { type: 'A', address: '192.0.2.9' },
    { type: 'AAAA', address: '::ffff:1.2.3.4' },
    { type: 'NS', target: 'ns.conformance.test' },
    { type: 'PTR', target: 'p.conformance.test' },
    { type: 'MX', preference: 10, exchange: 'mx.conformance.test' },
    { type: 'SRV', priority: 1, weight: 2, port: 8080, target: 'host.conformance.test' },
    { type: 'TXT', strings: [Buffer.alloc(300, 'a'), Buffer.from('short')] },
    { type: 'HINFO', cpu: 'RFC8482', os: '' },
    { type: 'SOA', mname: 'ns.conformance.test', rname: 'hostmaster.conformance.test', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 },
    { type: 'UNKNOWN', typeCode: 65280, rdata: Buffer.from([1, 2, 3]) },
  ];
  return d.map((data) => ({ name, ttl: 60, data }));
}

function query(name: string, type: number, opts: { id?: number; edns?: number } = {}): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x4242, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  const opt = opts.edns ? Buffer.from([0, 0, 41, opts.edns >> 8, opts.edns & 0xff, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([h, ...labels, Buffer.from([0]), tail, opt]);
}

async function start(extra: Partial<DnsServerOptions> = {}): Promise<{ s: DnsServer; t: Target }> {
  const s = await startDnsServer({
    listen: [{ address: '127.0.0.1', port: 0 }],
    answer: conformanceAnswer(),
    log: silent,
    ...extra,
  });
  const port = s.addresses()[0]!.port;
  return { s, t: { host: '127.0.0.1', port } };
}

const run = promisify(execFile);

/** Async: the server runs in this process, so a blocking exec would starve it. */
async function dig(t: Target, args: string[], tool = 'dig'): Promise<string> {
  const extra = tool === 'dig' ? ['+tries=1', '+time=2'] : [];
  return (await run(tool, [`@${t.host}`, '-p', String(t.port), ...extra, ...args], { encoding: 'utf8' })).stdout;
}

describe('dns server: conformance table', () => {
  let srv: { s: DnsServer; t: Target };
  beforeAll(async () => { srv = await start(); });
  afterAll(async () => { await srv.s.close(); });

  for (const c of CONFORMANCE_CASES) {
    for (const tr of c.transports) {
      it(`${c.id} over ${tr} (${c.rfc})`, async () => {
        expect(await runCase(c, srv.t, tr)).toEqual([]);
      });
    }
  }
});

describe('dns server: transport', () => {
  let srv: { s: DnsServer; t: Target };
  const malformed: string[] = [];
  const responses: Array<{ qtype: number | null; rcode: number; transport: string; bytes: number; truncated: boolean }> = [];
  beforeAll(async () => {
    srv = await start({
      tcpIdleTimeoutMs: 400,
      onMalformed: (r) => malformed.push(r),
      onResponse: (i) => responses.push(i),
      answer: conformanceAnswer({
        'bad.conformance.test': [{ name: 'bad.conformance.test', ttl: 1, data: { type: 'A', address: '300.1.1.1' } }],
        'longlabel.conformance.test': [{ name: 'longlabel.conformance.test', ttl: 1, data: { type: 'CNAME', target: `${'a'.repeat(64)}.x` } }],
        'types.conformance.test': typesRRs('types.conformance.test'),
      }),
    });
  });
  afterAll(async () => { await srv.s.close(); });

  it('binds UDP and TCP on the same port for port 0', () => {
    const a = srv.s.addresses();
    expect(a.map((x) => x.transport).sort()).toEqual(['tcp', 'udp']);
    expect(a[0]!.port).toBe(a[1]!.port);
    expect(a[0]!.port).toBeGreaterThan(0);
  });

  it('answers dig over UDP and TCP, AA set, RA clear', async () => {
    const u = await dig(srv.t, ['+norec', 'www.conformance.test', 'A']);
    expect(u).toMatch(/status: NOERROR/);
    expect(u).toMatch(/flags: qr aa;/);
    expect(u).toMatch(/192\.0\.2\.1/);
    const t = await dig(srv.t, ['+tcp', 'www.conformance.test', 'AAAA']);
    expect(t).toMatch(/flags: qr aa rd;/);
    expect(t).toMatch(/2001:db8::1/);
  });

  it('sets TC on a big UDP answer and dig retries over TCP to get all of it', async () => {
    const noRetry = await dig(srv.t, ['+noedns', '+ignore', 'big.conformance.test', 'TXT']);
    expect(noRetry).toMatch(/flags: qr aa tc rd;/);
    expect(Number(/MSG SIZE {2}rcvd: (\d+)/.exec(noRetry)![1])).toBeLessThanOrEqual(512);
    const full = await dig(srv.t, ['big.conformance.test', 'TXT']);
    expect(full).toMatch(/ANSWER: 40,/);
    expect(full).toMatch(/\(TCP\)/);
  });

  it('gives SERVFAIL for an invalid record (bad address, label > 63) instead of throwing', async () => {
    for (const n of ['bad', 'longlabel']) {
      const r = viewReply((await exchangeUdp(srv.t, query(`${n}.conformance.test`, n === 'bad' ? 1 : 5)))!);
      expect(r.rcode).toBe(2);
      expect(r.an).toBe(0);
      expect(r.qd).toBe(1);
    }
    // and the server still answers
    expect(viewReply((await exchangeUdp(srv.t, query('www.conformance.test', 1)))!).rcode).toBe(0);
  });

  it('answers pipelined TCP queries in order', async () => {
    const c = await TcpClient.connect(srv.t);
    c.sock.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => frame(query('www.conformance.test', 1, { id: i })))));
    for (let i = 0; i < 50; i++) expect(viewReply((await c.next())!).id).toBe(i);
    c.close();
  });

  it('reassembles frames sent one byte at a time', async () => {
    const c = await TcpClient.connect(srv.t);
    const bytes = Buffer.concat([frame(query('www.conformance.test', 1, { id: 7 })), frame(query('www.conformance.test', 28, { id: 8 }))]);
    for (const b of bytes) {
      c.sock.write(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(viewReply((await c.next())!).id).toBe(7);
    expect(viewReply((await c.next())!).id).toBe(8);
    c.close();
  });

  it('survives connections closed mid-frame and keeps serving', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await TcpClient.connect(srv.t);
      const f = frame(query('www.conformance.test', 1));
      c.sock.write(f.subarray(0, 1 + (i % (f.length - 1))));
      c.close();
    }
    expect(viewReply((await exchangeTcp(srv.t, query('www.conformance.test', 1)))!).rcode).toBe(0);
  });

  it('handles 5000 frames on one connection, including garbage frames', async () => {
    const c = await TcpClient.connect(srv.t);
    let expected = 0;
    const parts: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      if (i % 10 === 9) { parts.push(frame(Buffer.from([1, 2, 3]))); continue; } // too short: no reply
      parts.push(frame(query('www.conformance.test', 1, { id: i })));
      expected++;
    }
    c.sock.write(Buffer.concat(parts));
    let got = 0;
    while (got < expected) {
      const r = await c.next(5000);
      if (!r) break;
      got++;
    }
    expect(got).toBe(expected);
    c.close();
  });

  it('closes idle TCP connections (RFC 7766 §6.2.3)', async () => {
    const c = await TcpClient.connect(srv.t);
    const t0 = Date.now();
    expect(await c.waitClosed(5000)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('counts malformed input with stable reasons and reports responses', async () => {
    malformed.length = 0;
    responses.length = 0;
    await exchangeUdp(srv.t, loadHex('pointer-loop'));
    await exchangeUdp(srv.t, loadHex('short'), 200);
    await exchangeUdp(srv.t, loadHex('label-type-40'));
    expect(malformed).toEqual(['name-pointer-forward', 'short-header', 'name-label-type']);
    await exchangeUdp(srv.t, query('big.conformance.test', 16));
    const last = responses.at(-1)!;
    expect(last).toMatchObject({ qtype: 16, rcode: 0, transport: 'udp', truncated: true });
    expect(last.bytes).toBeLessThanOrEqual(512);
  });

  it('keeps the asker\'s case (dig prints names as received)', async () => {
    const out = await dig(srv.t, ['wWw.CONFORMANCE.test', 'A']);
    expect(out).toMatch(/^wWw\.CONFORMANCE\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.1$/m);
  });

  it('encodes every record type so that kdig (Knot) reads it back', async () => {
    const out = await dig(srv.t, ['+tcp', 'types.conformance.test', 'ANY'], 'kdig');
    for (const re of [
      /IN\s+A\s+192\.0\.2\.9$/m, /IN\s+AAAA\s+::ffff:1\.2\.3\.4$/m, /IN\s+NS\s+ns\.conformance\.test\.$/m,
      /IN\s+PTR\s+p\.conformance\.test\.$/m, /IN\s+MX\s+10 mx\.conformance\.test\.$/m,
      /IN\s+SRV\s+1 2 8080 host\.conformance\.test\.$/m, /IN\s+TXT\s+"a{255}" "a{45}" "short"$/m,
      /IN\s+HINFO\s+"RFC8482" ""$/m, /IN\s+SOA\s+ns\.conformance\.test\. hostmaster\.conformance\.test\. 7 1 2 3 4$/m,
      /IN\s+TYPE65280\s+\\# 3 010203$/m,
    ]) expect(out).toMatch(re);
  });
});

describe('dns server: limits and failures', () => {
  it('caps concurrent TCP connections per listener', async () => {
    const { s, t } = await start({ tcpMaxConnections: 3 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => TcpClient.connect(t)));
    await new Promise((r) => setTimeout(r, 200));
    let answered = 0;
    for (const c of clients) {
      if (!c.closed) c.sock.write(frame(query('www.conformance.test', 1)));
    }
    for (const c of clients) if (await c.next(1000)) answered++;
    expect(answered).toBe(3);
    for (const c of clients) c.close();
    await s.close();
  });

  it('rejects with BS_LISTEN_FAILED naming the address when the port is taken', async () => {
    const a = await start();
    const err = await startDnsServer({ listen: [{ address: '127.0.0.1', port: a.t.port }], answer: conformanceAnswer(), log: silent })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindsightError);
    expect((err as BindsightError).code).toBe('BS_LISTEN_FAILED');
    expect((err as Error).message).toContain('127.0.0.1');
    await a.s.close();
  });

  it('returns SERVFAIL when the answer function throws', async () => {
    const { s, t } = await start({ answer: () => { throw new Error('boom'); } });
    const r = viewReply((await exchangeUdp(t, query('x.conformance.test', 1, { edns: 1232 })))!);
    expect(r.rcode).toBe(2);
    expect(r.ar).toBe(1);
    await s.close();
  });

  it('rate-limits non-exempt UDP clients with slip, never TCP', async () => {
    const limited: string[] = [];
    const { s, t } = await start({
      rrl: { enabled: true, responsesPerSecond: 5, exemptLoopback: false },
      onRateLimited: (a) => limited.push(a),
    });
    const sock = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 40; i++) sock.send(query('www.conformance.test', 1, { id: i }), t.port, t.host);
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    const views = replies.map(viewReply);
    const full = views.filter((v) => !v.tc);
    const slipped = views.filter((v) => v.tc);
    expect(full.length).toBeGreaterThanOrEqual(5);
    expect(full.length).toBeLessThanOrEqual(8);
    expect(slipped.length).toBeGreaterThan(10);
    expect(slipped.every((v) => v.an === 0 && v.qd === 1)).toBe(true);
    expect(limited.filter((a) => a === 'drop').length).toBeGreaterThan(10);
    expect(views.length + limited.filter((a) => a === 'drop').length).toBe(40);
    for (let i = 0; i < 20; i++) expect(viewReply((await exchangeTcp(t, query('www.conformance.test', 1)))!).tc).toBe(false);
    await s.close();
  });

  it('exempts loopback clients by default', async () => {
    const { s, t } = await start({ rrl: { enabled: true, responsesPerSecond: 1, exemptLoopback: true } });
    for (let i = 0; i < 30; i++) expect(viewReply((await exchangeUdp(t, query('www.conformance.test', 1)))!).tc).toBe(false);
    await s.close();
  });

  it('rate-limits its debug log lines for malformed packets', async () => {
    let lines = 0;
    const log = pino({ level: 'debug' }, new Writable({ write(_c, _e, cb) { lines++; cb(); } }));
    const { s, t } = await start({ log });
    const sock = dgram.createSocket('udp4');
    const bad = loadHex('pointer-loop');
    for (let i = 0; i < 300; i++) sock.send(bad, t.port, t.host);
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThanOrEqual(25);
    await s.close();
  });
});
