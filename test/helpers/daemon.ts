// Starts the real daemon (`node dist/cli.js run`) as a child process on free
// ports and reads its JSON log to learn where it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = resolve(ROOT, 'dist', 'cli.js');

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface RunningDaemon {
  proc: ChildProcess;
  dnsPort: number;
  controlPort: number;
  logs: LogLine[];
  /** Raw stderr text (non-JSON lines included). */
  stderr(): string;
  control(path: string): Promise<unknown>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface DaemonOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Extra argv before `run`, e.g. for capsh wrappers: the full command. */
  wrap?: (argv: string[]) => { cmd: string; args: string[] };
  timeoutMs?: number;
}

export async function startDaemon(o: DaemonOptions = {}): Promise<RunningDaemon> {
  const argv = [CLI, 'run', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--log-level', 'debug', ...(o.args ?? [])];
  const { cmd, args } = o.wrap ? o.wrap([process.execPath, ...argv]) : { cmd: process.execPath, args: argv };
  const proc = spawn(cmd, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  let raw = '';
  let buf = '';
  let dnsPort = 0;
  let controlPort = 0;
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in time; stderr:\n${raw}`)), o.timeoutMs ?? 30_000);
    proc.stderr!.on('data', (d: Buffer) => {
      raw += d.toString();
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let j: LogLine;
        try {
          j = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        logs.push(j);
        if (j.msg.startsWith('dns listening on udp') && typeof j.port === 'number' && !dnsPort) dnsPort = j.port;
        if (j.msg.startsWith('control endpoint on') && typeof j.port === 'number') controlPort = j.port;
        if (j.msg === 'bindsight ready') {
          clearTimeout(timer);
          resolveReady();
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}; stderr:\n${raw}`));
    });
  });
  await ready;
  return {
    proc,
    dnsPort,
    controlPort,
    logs,
    stderr: () => raw,
    async control(path: string) {
      const res = await fetch(`http://127.0.0.1:${controlPort}${path}`);
      const type = res.headers.get('content-type') ?? '';
      return type.includes('json') ? res.json() : res.text();
    },
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
      return new Promise((res) => {
        proc.once('exit', (code) => res(code));
        proc.kill(signal);
      });
    },
  };
}

/** Polls until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 5000, stepMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const isRoot = () => process.getuid?.() === 0;

/** Vitest skip helper that prints why. */
export function rootOrSkip(): boolean {
  if (isRoot()) return false;
  console.warn('SKIP: this test needs root (CAP_NET_ADMIN, CAP_BPF, netns); run as root.');
  return true;
}
