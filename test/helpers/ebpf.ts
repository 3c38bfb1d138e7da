// Helpers for the ebpf tests: real listener processes (python3, so comm is
// distinct from the test's own 'node'), event waiting, bpftool queries.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const isRoot = process.getuid?.() === 0;

const SERVER = String.raw`
import os, socket, sys, time
kind, host, port, opts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM if kind == 'udp' else socket.SOCK_STREAM)
if 'reuseport' in opts: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if 'v6only' in opts else 0)
try:
    s.bind((host, port))
    if kind == 'tcp': s.listen(16)
except OSError as e:
    print('ERR', e.errno, flush=True); sys.exit(3)
print('READY', s.getsockname()[1], time.monotonic_ns(), flush=True)
if 'die' in opts: os._exit(0)
for line in sys.stdin:
    if line.strip() == 'close':
        s.close(); print('CLOSED', time.monotonic_ns(), flush=True)
time.sleep(3600)
`;

export interface Server {
  proc: ChildProcess;
  pid: number;
  port: number;
  /** CLOCK_MONOTONIC ns when bind/listen returned. */
  readyNs: bigint;
  close(): Promise<void>;
  kill(): Promise<void>;
}

function lines(proc: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
}

/** Starts a server; resolves once bound (or rejects with 'ERR <errno>'). */
export async function startServer(
  kind: 'tcp' | 'udp', host: string, port: number, opts: string[] = [], prefix: string[] = [],
): Promise<Server> {
  const argv = [...prefix, 'python3', '-c', SERVER, kind, host, String(port), ...opts];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const it = lines(proc);
  const first = await it.next();
  const f = String(first.value ?? '').split(' ');
  if (f[0] !== 'READY') {
    proc.kill('SIGKILL');
    throw new Error(first.value ? String(first.value) : 'server exited');
  }
  const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
  return {
    proc, pid: proc.pid!, port: Number(f[1]), readyNs: BigInt(f[2]),
    async close() {
      proc.stdin!.write('close\n');
      await it.next();
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `pred` until it returns a value; throws after timeoutMs. */
export async function waitFor<T>(pred: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function bpftoolIds(kind: 'link' | 'prog'): number[] {
  const out = execFileSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8' });
  return (JSON.parse(out || '[]') as Array<{ id: number }>).map((x) => x.id);
}

export function netnsInodeOf(path: string): number {
  return Number(execFileSync('stat', ['-L', '-c', '%i', path], { encoding: 'utf8' }).trim());
}

export function selfNetns(): number {
  return netnsInodeOf('/proc/self/ns/net');
}

/** A free port in our namespace (bound then released). */
export function freePort(): number {
  const out = execFileSync('python3', ['-c',
    'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'], { encoding: 'utf8' });
  return Number(out.trim());
}
