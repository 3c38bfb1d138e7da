// Child process for test/dns-fuzz.test.ts with DNS_FUZZ_TARGET=server (the
// default target is the real daemon): startDnsServer alone on 127.0.0.1 port 0
// with a stand-in answer function, to tell transport bugs from answer bugs.
// Prints {"port":N} once listening; exits when stdin closes.
import pino from 'pino';
import { startDnsServer } from '../../src/dns/server.js';
import { conformanceAnswer } from './dns-conformance.js';

const server = await startDnsServer({
  listen: [{ address: '127.0.0.1', port: 0 }],
  log: pino({ level: 'silent' }),
  answer: conformanceAnswer({
    'bad.conformance.test': [{ name: 'bad.conformance.test', ttl: 1, data: { type: 'A', address: 'not-an-address' } }],
    'srv.conformance.test': [{ name: 'srv.conformance.test', ttl: 1, data: { type: 'SRV', priority: 1, weight: 1, port: 80, target: 'www.conformance.test' } }],
  }),
  tcpMaxConnections: 64,
});
process.stdout.write(JSON.stringify({ port: server.addresses()[0]!.port }) + '\n');
// "gc" on stdin: full collection (needs --expose-gc), then "gc" on stdout, so
// that the parent reads RSS of retained memory rather than a point on V8's
// sawtooth. "mem" prints process.memoryUsage() to stderr (diagnostics).
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (d.includes('mem')) process.stderr.write(`dns-fuzz-server mem ${JSON.stringify(process.memoryUsage())}\n`);
  if (d.includes('gc')) {
    (globalThis as { gc?: () => void }).gc?.();
    process.stdout.write('gc\n');
  }
});
process.stdin.on('end', () => { void server.close().then(() => process.exit(0)); });
