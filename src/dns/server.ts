// DNS over UDP and TCP (RFC 1035 §4.2, RFC 7766): the thin I/O edge around
// wire/respond.ts. We own the transport on node:dgram and node:net instead
// of using dns2's UDP/TCP servers, because those parse every packet with
// dns2's lenient Packet.parse before any hook runs and cannot hand us raw
// bytes (docs/dns-conformance.md, "What we own").
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import { BindsightError } from '../errors.js';
import type { AnswerFn, Client } from './message.js';
import { RateLimiter, RRL_DEFAULTS, type RrlOptions } from './rrl.js';
import { UDP_DEFAULT_MAX } from './wire/constants.js';
import { respond, type Outcome } from './wire/respond.js';

export interface DnsServerOptions {
  /** Each address gets UDP and TCP on the same port; port 0 picks one free for both. */
  listen: Array<{ address: string; port: number }>;
  answer: AnswerFn;
  log: Logger;
  /** Our EDNS buffer size and UDP reply ceiling. Default 1232. */
  udpMaxSize?: number;
  /** RFC 7766 §6.2.3 idle timeout. Default 10000. */
  tcpIdleTimeoutMs?: number;
  /** Concurrent TCP connections per listening address. Default 128. */
  tcpMaxConnections?: number;
  /** Response rate limiting on UDP; defaults in RRL_DEFAULTS. Off when absent. */
  rrl?: (Omit<RrlOptions, 'slip'> & { slip?: number }) | undefined;
  onResponse?: (info: { qtype: number | null; rcode: number; transport: 'udp' | 'tcp'; bytes: number; truncated: boolean }) => void;
  /** Stable short reason code per malformed packet. */
  onMalformed?: (reason: string) => void;
  onRateLimited?: (action: 'drop' | 'slip') => void;
}

export interface DnsServer {
  addresses(): Array<{ address: string; port: number; transport: 'udp' | 'tcp' }>;
  close(): Promise<void>;
}

const DEFAULT_IDLE_MS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 128;
/** Stop reading from a TCP client that does not read its replies. */
const MAX_PENDING_WRITE = 1 << 20;
/** Port 0: how often to retry when TCP cannot get the port UDP got. */
const BIND_ATTEMPTS = 20;
/** Debug lines per second for malformed input and failures. */
const LOG_LINES_PER_SECOND = 10;

interface Pair { udp: dgram.Socket; tcp: net.Server }

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const udpMaxSize = o.udpMaxSize ?? UDP_DEFAULT_MAX;
  const idleMs = o.tcpIdleTimeoutMs ?? DEFAULT_IDLE_MS;
  const limiter = o.rrl?.enabled ? new RateLimiter({ ...RRL_DEFAULTS, ...o.rrl }) : null;
  const logBudget = new LogBudget(LOG_LINES_PER_SECOND);
  const conns = new Set<net.Socket>();

  const handle = (packet: Buffer, client: Client, send: (reply: Buffer) => void): void => {
    let out: Outcome;
    try {
      out = respond(packet, {
        client,
        answer: o.answer,
        udpMaxSize,
        ...(limiter && client.transport === 'udp' ? { rateLimit: () => limiter.check(client.address) } : {}),
      });
    } catch (err) {
      // respond() is written not to throw; if it ever does, the port survives.
      o.onMalformed?.('internal-error');
      if (logBudget.take()) o.log.warn({ err, client: client.address, suppressed: logBudget.flush() }, 'DNS packet handling failed');
      return;
    }
    if (out.malformed) {
      o.onMalformed?.(out.malformed);
      if (logBudget.take()) {
        o.log.debug({ reason: out.malformed, client: client.address, transport: client.transport, suppressed: logBudget.flush() }, 'malformed DNS packet');
      }
    }
    if (out.failure && logBudget.take()) {
      o.log.debug({ reason: out.failure, client: client.address, suppressed: logBudget.flush() }, 'DNS reply failed, sent SERVFAIL');
    }
    if (out.rateLimited) o.onRateLimited?.(out.rateLimited);
    if (!out.reply) return;
    send(out.reply);
    o.onResponse?.({ qtype: out.qtype, rcode: out.rcode, transport: client.transport, bytes: out.reply.length, truncated: out.truncated });
  };

  const onUdp = (sock: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    handle(msg, { address: rinfo.address, port: rinfo.port, transport: 'udp' }, (reply) => {
      sock.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err && logBudget.take()) o.log.debug({ err, client: rinfo.address }, 'UDP send failed');
      });
    });
  };

  const onTcp = (sock: net.Socket): void => {
    conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => sock.destroy());
    const client: Client = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, transport: 'tcp' };
    const frames = new FrameReader();
    sock.on('data', (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        if (sock.destroyed) return;
        handle(frame, client, (reply) => {
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        });
      }
      if (sock.writableLength > MAX_PENDING_WRITE) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    });
    // RFC 7766 §6.2.4: the client half-closed; send what is queued, then close.
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
  };

  const pairs: Pair[] = [];
  try {
    for (const l of o.listen) {
      const p = await bindPair(l.address, l.port);
      p.udp.on('message', onUdp(p.udp));
      p.udp.on('error', (err) => o.log.warn({ err, address: l.address }, 'UDP socket error'));
      p.tcp.on('connection', onTcp);
      p.tcp.on('error', (err) => o.log.warn({ err, address: l.address }, 'TCP listener error'));
      p.tcp.maxConnections = o.tcpMaxConnections ?? DEFAULT_MAX_CONNECTIONS;
      pairs.push(p);
    }
  } catch (err) {
    await closePairs(pairs, conns);
    throw err;
  }

  return {
    addresses() {
      const out: Array<{ address: string; port: number; transport: 'udp' | 'tcp' }> = [];
      for (const p of pairs) {
        const u = p.udp.address();
        out.push({ address: u.address, port: u.port, transport: 'udp' });
        const t = p.tcp.address() as net.AddressInfo;
        out.push({ address: t.address, port: t.port, transport: 'tcp' });
      }
      return out;
    },
    close: () => closePairs(pairs.splice(0), conns),
  };
}

async function bindPair(address: string, port: number): Promise<Pair> {
  const v6 = net.isIPv6(address);
  let last: unknown;
  for (let attempt = 0; attempt < (port === 0 ? BIND_ATTEMPTS : 1); attempt++) {
    // ipv6Only: '::' and '0.0.0.0' can both be listed without clashing.
    const udp = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ port, address, exclusive: true }, () => { udp.off('error', reject); resolve(); });
      });
    } catch (err) {
      udp.close();
      throw listenError(address, port, 'udp', err);
    }
    const got = udp.address().port;
    const tcp = net.createServer({ allowHalfOpen: true });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: got, host: address, ipv6Only: v6, exclusive: true }, () => { tcp.off('error', reject); resolve(); });
      });
      return { udp, tcp };
    } catch (err) {
      udp.close();
      last = err;
      if (port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw listenError(address, got, 'tcp', err);
    }
  }
  throw listenError(address, port, 'tcp', last);
}

function listenError(address: string, port: number, transport: string, cause: unknown): BindsightError {
  // The errno code says it all; the cause's own message would repeat it.
  const e = cause as NodeJS.ErrnoException;
  return new BindsightError('BS_LISTEN_FAILED', `DNS ${address} port ${port}/${transport}: ${e?.code ?? e?.message ?? String(cause)}`);
}

async function closePairs(pairs: Pair[], conns: Set<net.Socket>): Promise<void> {
  for (const c of conns) c.destroy();
  conns.clear();
  await Promise.all(pairs.flatMap((p) => [
    new Promise<void>((resolve) => { try { p.udp.close(() => resolve()); } catch { resolve(); } }),
    new Promise<void>((resolve) => p.tcp.close(() => resolve())),
  ]));
}

/**
 * RFC 1035 §4.2.2 framing: a two-byte length, then the message. Chunks are
 * joined only when a whole frame is there, so a client sending one byte at
 * a time costs linear, not quadratic, copying.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.total < 2) break;
      const head = this.chunks[0]!.length >= 2 ? this.chunks[0]! : this.join();
      const need = 2 + head.readUInt16BE(0);
      if (this.total < need) break;
      const all = this.join();
      frames.push(all.subarray(2, need));
      const rest = all.subarray(need);
      this.chunks = rest.length ? [rest] : [];
      this.total = rest.length;
    }
    return frames;
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.total)];
    return this.chunks[0]!;
  }
}

/** At most `perSecond` log lines per second; counts what it held back. */
class LogBudget {
  private windowStart = 0;
  private used = 0;
  private held = 0;
  constructor(private readonly perSecond: number) {}
  take(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) { this.windowStart = now; this.used = 0; }
    if (this.used < this.perSecond) { this.used++; return true; }
    this.held++;
    return false;
  }
  /** Lines held back since the last logged one. */
  flush(): number { const n = this.held; this.held = 0; return n; }
}
