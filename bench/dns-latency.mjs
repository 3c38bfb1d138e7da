// Scenario: discovery latency as a user sees it: from listen() returning to
// the first SRV answer from the daemon that holds the new port, p50/p99 over
// many listeners: the ebpf source (kernel events) against the sockdiag source
// polling every second (polling on an interval is how DNS-based discovery
// tools that read socket tables work).
//   node bench/dns-latency.mjs          full run: 1000 listeners (100 polling), writes docs/benchmarks.md
//   node bench/dns-latency.mjs --smoke  20 listeners for ebpf, 3 for polling
// Needs root and a build (`npm run build`).
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import dnsPacket from 'dns-packet';
import { startDaemon } from './lib/daemon.mjs';
import { percentile, writeDocSection } from './lib/doc-section.mjs';

const smoke = process.argv.includes('--smoke');
const COUNT = smoke ? 20 : 1000;
// Polling costs up to a second per listener: 100 of them are enough to show its spread.
const POLL_COUNT = smoke ? 3 : 100;
process.title = 'bslatency';
/** Listeners measured but not counted while the daemon's JIT warms up. */
const WARMUP = smoke ? 2 : 20;
/** Pause between listeners, so each one's add and remove settle first. */
const GAP_MS = 5;

/**
 * Asks SRV bslatency.svc.local back to back (the next query leaves as soon as
 * an answer without `port` arrives, or after 1 ms without one) until `port`
 * is in the answer; returns ms since t0.
 */
function firstAnswerWith(sock, dnsPort, port, t0) {
  return new Promise((resolve) => {
    let id = 0;
    let timer;
    const ask = () => {
      clearTimeout(timer);
      id = (id + 1) & 0xffff;
      sock.send(dnsPacket.encode({ type: 'query', id, questions: [{ type: 'SRV', name: 'bslatency.svc.local' }] }), dnsPort, '127.0.0.1');
      timer = setTimeout(ask, 1); // a lost datagram must not stall the run
    };
    const onMessage = (m) => {
      const r = dnsPacket.decode(m);
      if (r.answers.some((a) => a.type === 'SRV' && a.data.port === port)) {
        clearTimeout(timer);
        sock.off('message', onMessage);
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      } else if (r.id === id) ask();
    };
    sock.on('message', onMessage);
    ask();
  });
}

async function measure(args, count) {
  const d = await startDaemon(args);
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const lat = [];
  try {
    for (let i = 0; i < count + WARMUP; i++) {
      const srv = net.createServer();
      srv.listen({ port: 0, backlog: 1 }); // no host: bind() and listen() happen inside this call
      const t0 = process.hrtime.bigint();
      const port = srv.address().port;
      const ms = await firstAnswerWith(sock, d.dnsPort, port, t0);
      if (i >= WARMUP) lat.push(ms);
      await new Promise((r) => srv.close(r));
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  } finally {
    sock.close();
    await d.stop();
  }
  return lat.sort((a, b) => a - b);
}

const rows = [
  ['ebpf (bindsight default)', await measure(['--source', 'ebpf', '--interval', '1h', '--reconcile', '1h'], COUNT)],
  ['sockdiag, 1 s polling', await measure(['--source', 'sockdiag', '--interval', '1s'], POLL_COUNT)],
];
const fmt = (x) => x.toFixed(x < 10 ? 2 : 0);
for (const [name, l] of rows) console.log(`${name}: n=${l.length} p50=${fmt(percentile(l, 50))} ms p99=${fmt(percentile(l, 99))} ms`);
const ratio = percentile(rows[1][1], 50) / percentile(rows[0][1], 50);
console.log(`ebpf p50 is ${ratio.toFixed(0)}x faster than 1 s polling; goal ebpf p99 <= 5 ms: ${percentile(rows[0][1], 99) <= 5 ? 'met' : 'NOT met'}`);
if (!smoke) {
  writeDocSection('dns-latency', `## Discovery latency to a DNS answer (bench/dns-latency.mjs)

Time from \`listen()\` returning to the first SRV answer from the daemon that
holds the new port, asked over UDP back to back (each answer without the port
triggers the next query), ${COUNT} listeners (${POLL_COUNT} for polling) in turn after ${WARMUP} for warm-up,
each closed once seen, ${GAP_MS} ms apart. ${os.cpus().length} CPUs, kernel ${os.release()}, ${new Date().toISOString().slice(0, 10)}.

| source | n | p50 ms | p99 ms | max ms |
|---|---|---|---|---|
${rows.map(([name, l]) => `| ${name} | ${l.length} | ${fmt(percentile(l, 50))} | ${fmt(percentile(l, 99))} | ${fmt(l[l.length - 1])} |`).join('\n')}

ebpf p50 is ${ratio.toFixed(0)}× faster than 1 s polling. Goal: ebpf p99 ≤ 5 ms — ${percentile(rows[0][1], 99) <= 5 ? 'met' : 'not met'}.`);
}
