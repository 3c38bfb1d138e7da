// Scenario: discovery latency, from listen() returning to the source's add
// event, p50/p99 over many listeners: the ebpf source against sockdiag
// polling (1 s, the peers' way). Listeners are opened in this process, one
// every few ms, each closed once seen.
//   node bench/latency.mjs            full run: 1000 listeners each, writes docs/benchmarks.md
//   node bench/latency.mjs --smoke    20 listeners: checks it runs
// Needs root and a build (`npm run build`).
import net from 'node:net';
import os from 'node:os';
import { EbpfSource } from '../dist/discovery/ebpf.js';
import { SockDiagSource } from '../dist/discovery/sockdiag.js';
import { percentile, silentLog, writeDocSection } from './lib/doc-section.mjs';

const smoke = process.argv.includes('--smoke');
const COUNT = smoke ? 20 : 1000;

async function measure(source, gapMs) {
  const waiting = new Map(); // port -> { t0, resolve }
  const seen = (port) => {
    const w = waiting.get(port);
    if (!w) return;
    waiting.delete(port);
    w.resolve(Number(process.hrtime.bigint() - w.t0) / 1e6);
  };
  await source.start((e) => {
    for (const s of e.sockets) if (e.kind !== 'remove' && s.proto === 'tcp' && s.state === 10) seen(s.port);
  });
  const lat = [];
  try {
    const pending = [];
    for (let i = 0; i < COUNT; i++) {
      const srv = net.createServer();
      srv.listen({ port: 0, backlog: 1 }); // bind + listen happen inside this call
      const t0 = process.hrtime.bigint();
      const port = srv.address().port;
      pending.push(new Promise((resolve) => waiting.set(port, { t0, resolve }))
        .then((ms) => { lat.push(ms); srv.close(); }));
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await Promise.all(pending);
  } finally {
    await source.stop();
  }
  return lat.sort((a, b) => a - b);
}

const rows = [];
const ebpf = await measure(new EbpfSource({ log: silentLog, reconcileMs: 0 }), 2);
rows.push(['ebpf (default hooks)', ebpf]);
const diag = await measure(new SockDiagSource({ intervalMs: 1000, namespaces: 'self' }), smoke ? 20 : 5);
rows.push(['sockdiag, 1 s polling', diag]);

const fmt = (x) => x.toFixed(x < 10 ? 2 : 0);
const table = rows.map(([name, l]) =>
  `| ${name} | ${l.length} | ${fmt(percentile(l, 50))} | ${fmt(percentile(l, 99))} | ${fmt(l[l.length - 1])} |`);
for (const [name, l] of rows) {
  console.log(`${name}: n=${l.length} p50=${fmt(percentile(l, 50))} ms p99=${fmt(percentile(l, 99))} ms max=${fmt(l[l.length - 1])} ms`);
}
if (!smoke) {
  writeDocSection('latency', `## Discovery latency (bench/latency.mjs)

Time from \`listen()\` returning to the source's \`add\` event (in-process,
one listener every 2 ms for ebpf, every 5 ms for sockdiag), ${COUNT} listeners
each. ${os.cpus().length} CPUs, kernel ${os.release()}, ${new Date().toISOString().slice(0, 10)}.
This is the source alone; a DNS answer adds the registry rebuild and the
query. Other work on the machine shows up in p99.

| source | n | p50 ms | p99 ms | max ms |
|---|---|---|---|---|
${table.join('\n')}`);
}
