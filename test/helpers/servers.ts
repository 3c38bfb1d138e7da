// Real server processes for tests: a Node child whose comm is `title`
// (process.title sets PR_SET_NAME), listening where asked.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Listen {
  proto: 'tcp' | 'udp';
  port: number;
  host?: string;
  /** IPV6_V6ONLY for '::' binds. */
  ipv6Only?: boolean;
  reusePort?: boolean;
}

export interface TestServer {
  pid: number;
  proc: ChildProcess;
  /** Actual ports, in the order asked (port 0 resolved). */
  ports: number[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const CHILD = `
const net = require('node:net'), dgram = require('node:dgram');
const [title, spec] = [process.argv[1], JSON.parse(process.argv[2])];
process.title = title;
const ports = [];
(async () => {
  for (const l of spec) {
    const host = l.host ?? '0.0.0.0';
    if (l.proto === 'tcp') {
      const s = net.createServer((c) => c.end('hi\\n'));
      await new Promise((res, rej) => { s.once('error', rej); s.listen({ port: l.port, host, ipv6Only: !!l.ipv6Only, reusePort: !!l.reusePort }, res); });
      ports.push(s.address().port);
    } else {
      const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: !!l.ipv6Only, reusePort: !!l.reusePort });
      s.on('message', (m, r) => s.send(m, r.port, r.address));
      await new Promise((res, rej) => { s.once('error', rej); s.bind(l.port, host, res); });
      ports.push(s.address().port);
    }
  }
  process.stdout.write(JSON.stringify({ ready: true, ports }) + '\\n');
})().catch((e) => { process.stdout.write(JSON.stringify({ error: e.message }) + '\\n'); process.exit(1); });
setInterval(() => {}, 1 << 30);
`;

export async function startServer(title: string, listen: Listen[], opts: { prefix?: string[]; uid?: number } = {}): Promise<TestServer> {
  const argv = ['-e', CHILD, title, JSON.stringify(listen)];
  const [cmd, ...args] = opts.prefix ? [...opts.prefix, process.execPath, ...argv] : [process.execPath, ...argv];
  const proc = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
  const first = await new Promise<{ ready?: boolean; ports?: number[]; error?: string }>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.once('exit', (code) => reject(new Error(`server ${title} exited with ${code}`)));
  });
  if (first.error) throw new Error(`server ${title}: ${first.error}`);
  return {
    pid: proc.pid!,
    proc,
    ports: first.ports!,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((res) => {
        proc.once('exit', () => res());
        proc.kill(signal);
      });
    },
  };
}
