// A private NSD (Debian's /usr/sbin/nsd) in the foreground on a free
// loopback port, serving given zones from a temp dir: the reference server
// of the DNS conformance tests. Its settings are pinned here (see
// docs/dns-conformance.md); the system's nsd.service is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NSD_BIN = '/usr/sbin/nsd';

export interface RunningNsd {
  host: string;
  port: number;
  pid: number;
  dir: string;
  /** nsd -v first line, e.g. "NSD version 4.6.1". */
  version: string;
  stop(): Promise<void>;
}

/** Why NSD cannot run here, or undefined when it can. */
export function nsdUnavailable(): string | undefined {
  if (!fs.existsSync(NSD_BIN)) return `${NSD_BIN} not installed (apt-get install nsd; it is in scripts/setup.sh)`;
  if (process.getuid?.() !== 0) return 'NSD needs root here (it opens its log and pid files and may drop privileges)';
  return undefined;
}

/** A port free for both UDP and TCP on host (NSD binds both). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const srv = net.createServer();
    const port = await new Promise<number>((res, rej) => {
      srv.once('error', rej);
      srv.listen(0, host, () => res((srv.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((res) => { udp.once('error', () => res(false)); udp.bind(port, host, () => res(true)); });
    udp.close();
    await new Promise((r) => srv.close(r));
    if (ok) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

function config(dir: string, host: string, port: number, zones: Record<string, string>): string {
  const zoneBlocks = Object.keys(zones).map((origin) => `zone:\n  name: ${origin}\n  zonefile: ${origin}.zone\n`);
  return `server:
  ip-address: ${host}@${port}
  port: ${port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  database: ""
  logfile: "${dir}/nsd.log"
  server-count: 1
  verbosity: 0
  hide-version: yes
  hide-identity: yes
  minimal-responses: yes
  rrl-ratelimit: 0
  refuse-any: no
remote-control:
  control-enable: no
${zoneBlocks.join('')}`;
}

/** Send a SOA query for the first zone until NSD answers (it loads zones after binding). */
async function waitReady(host: string, port: number, origin: string, proc: ChildProcess, dir: string): Promise<void> {
  const labels = origin.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const q = Buffer.concat([Buffer.from('abcd00000001000000000000', 'hex'), ...labels, Buffer.from('0000060001', 'hex')]);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const r = await new Promise<Buffer | null>((res) => {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => { s.close(); res(null); }, 200);
      s.on('message', (m) => { clearTimeout(t); s.close(); res(m); });
      s.on('error', () => { clearTimeout(t); s.close(); res(null); });
      s.send(q, port, host);
    });
    // NOERROR with an answer: the zone is loaded (before that NSD says SERVFAIL/REFUSED).
    if (r && r.length >= 12 && (r[3]! & 0xf) === 0 && r.readUInt16BE(6) > 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  const log = fs.existsSync(path.join(dir, 'nsd.log')) ? fs.readFileSync(path.join(dir, 'nsd.log'), 'utf8') : '';
  throw new Error(`NSD did not serve ${origin} on ${host}:${port} (exit ${proc.exitCode}); log:\n${log}`);
}

/** Start NSD serving `zones` (origin → zone-file text). */
export async function startNsd(zones: Record<string, string>, host = '127.0.0.1'): Promise<RunningNsd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindsight-nsd-'));
  for (const [origin, text] of Object.entries(zones)) fs.writeFileSync(path.join(dir, `${origin}.zone`), text);
  const port = await freePort(host);
  const conf = path.join(dir, 'nsd.conf');
  fs.writeFileSync(conf, config(dir, host, port, zones));
  const check = spawnSync('/usr/sbin/nsd-checkconf', [conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nsd-checkconf: ${check.stderr}${check.stdout}`);
  const version = spawnSync(NSD_BIN, ['-v'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? 'NSD';
  // -d: foreground, so the child is NSD itself and killing it by pid is exact.
  const proc = spawn(NSD_BIN, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => { clearTimeout(t); res(); });
        proc.kill('SIGTERM');
      });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(host, port, Object.keys(zones)[0]!, proc, dir);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nstderr:\n${stderr}`);
  }
  return { host, port, pid: proc.pid!, dir, version, stop };
}
