// BPF links must vanish with their owner however it ends: SIGKILL, worker
// exit, process exit without close(). And without the capabilities, loading
// fails with BS_BPF_LOAD naming the hook and errno.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { bpftoolIds, isRoot, waitFor } from './helpers/ebpf.js';

if (!isRoot) console.log('ebpf-teardown tests skipped: they load BPF programs and need root');

const ROOT = resolve(import.meta.dirname, '..');
const ADDON = resolve(ROOT, 'build/Release/bindsight_bpf.node');
const DIST = resolve(ROOT, 'dist/discovery/ebpf.js');

/** Opens a session with the default hooks, prints its ids, then idles. */
const HOLDER = String.raw`
const addon = require(process.argv[1]);
const fs = require('node:fs');
const cg = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .find((l) => l.split(' - ')[1]?.startsWith('cgroup2 ')).split(' ')[4];
try {
  const s = new addon.BpfSession({ hooks: ['set_state', 'post_bind', 'sock_release', 'sockops'],
    cgroupPath: cg, ringBufferBytes: 65536, onEvents() {}, onLog() {} });
  console.log(JSON.stringify({ links: s.linkIds(), programs: s.programIds() }));
  if (process.argv[2] === 'exit') process.exit(0); // no close(): the cleanup hook must detach
  setInterval(() => {}, 1000);
} catch (e) {
  console.log(JSON.stringify({ code: e.code, hook: e.hook, errno: e.errno, message: e.message }));
}
`;

interface Ids { links: number[]; programs: number[] }

function gone(ids: Ids): boolean {
  const links = bpftoolIds('link');
  const progs = bpftoolIds('prog');
  return ids.links.every((id) => !links.includes(id)) && ids.programs.every((id) => !progs.includes(id));
}

describe.skipIf(!isRoot)('BPF teardown', () => {
  it('after SIGKILL of the process holding the programs, bpftool lists nothing of ours', async () => {
    const child = spawn(process.execPath, ['-e', HOLDER, ADDON], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
    const ids = JSON.parse(String(first.value)) as Ids;
    expect(ids.links.length).toBe(5);
    expect(bpftoolIds('link')).toEqual(expect.arrayContaining(ids.links));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await waitFor(() => gone(ids), 'links and programs to disappear after SIGKILL');
  });

  it('process.exit() without close(): nothing left', async () => {
    const r = spawnSync(process.execPath, ['-e', HOLDER, ADDON, 'exit'], { encoding: 'utf8' });
    const ids = JSON.parse(r.stdout.trim()) as Ids;
    expect(ids.links.length).toBe(5);
    await waitFor(() => gone(ids), 'links and programs to disappear after exit');
  });

  it('a worker that ends without close(): the env cleanup hook detaches', async () => {
    const w = new Worker(`${HOLDER.replace('process.argv[1]', JSON.stringify(ADDON)).replace("process.argv[2] === 'exit'", 'false')}
      require('node:worker_threads').parentPort.postMessage('ready');`, { eval: true, stdout: true });
    let out = '';
    w.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => w.once('message', r));
    await waitFor(() => out.includes('\n'), 'worker ids');
    const ids = JSON.parse(out.split('\n')[0]) as Ids;
    expect(ids.links.length).toBe(5);
    await w.terminate();
    await waitFor(() => gone(ids), 'links and programs to disappear after worker exit');
  });

  it('without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN the load fails with BS_BPF_LOAD naming hook and errno', () => {
    const r = spawnSync('capsh', ['--drop=cap_bpf,cap_perfmon,cap_sys_admin', '--',
      '-c', `exec ${process.execPath} -e "$0" "$1"`, HOLDER, ADDON], { encoding: 'utf8' });
    const err = JSON.parse(r.stdout.trim()) as { code: string; hook: string; errno: number; message: string };
    expect(err.code).toBe('BS_BPF_LOAD');
    expect(err.hook).toBe('set_state');
    expect(err.errno).toBe(1);
    expect(err.message).toMatch(/^hook set_state \(tp_btf\/inet_sock_set_state\): load failed: .*\(EPERM\)$/);
  });

  it.skipIf(!existsSync(DIST))('EbpfSource.probe() under capsh rejects with a clear BS_BPF_LOAD error', () => {
    const script = `import(${JSON.stringify(DIST)}).then(async (m) => {
      const log = { child: () => log, warn() {}, info() {}, debug() {} };
      try { await new m.EbpfSource({ log }).probe(); console.log('{"ok":true}'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    })`;
    const r = spawnSync('capsh', ['--drop=cap_bpf,cap_perfmon,cap_sys_admin', '--',
      '-c', `exec ${process.execPath} -e "$0"`, script], { encoding: 'utf8' });
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    expect(out.code).toBe('BS_BPF_LOAD');
    expect(out.message).toMatch(/eBPF programs could not be loaded or attached: hook set_state .*EPERM/);
  });
});
