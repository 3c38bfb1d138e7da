// The daemon on the ebpf source with rescans and reconcile set to an hour, so
// only kernel events can explain what DNS answers (issue 3, "How it is
// checked"). Root only; listeners, namespaces and BPF links are cleaned up.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { dig, rdata } from './helpers/dig.js';
import { bpftoolIds, freePort, isRoot, netnsInodeOf, startServer as startPython, type Server } from './helpers/ebpf.js';

const run = promisify(execFile);
const HOUR = ['--interval', '1h', '--reconcile', '1h'];
if (!isRoot) console.log('ebpf-daemon tests skipped: they load BPF programs and need root');

interface Stats { events: number; drops: number; resyncs: number; reconcileCorrections: number; hooks: string[] }
interface RegistryJson {
  source: { name: string; stats?: Stats };
  services: Array<{ name: string; endpoints: Array<{ proto: string; port: number; netns: number; pids: number[]; comm: string }> }>;
}
interface Ev { kind: string; port: number; pid: number | null; comm: string | null }

describe.skipIf(!isRoot)('daemon --source ebpf (rescans off)', () => {
  let d: RunningDaemon;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    d = await startDaemon({ args: ['--source', 'ebpf', ...HOUR, '--no-zones'] });
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    if (!d) return;
    try {
      const reg = (await d.control('/registry')) as RegistryJson;
      expect(reg.source.stats?.reconcileCorrections).toBe(0);
    } finally {
      await d.stop('SIGKILL');
    }
  });

  it('uses the ebpf source with the default hooks', async () => {
    const reg = (await d.control('/registry')) as RegistryJson;
    expect(reg.source.name).toBe('ebpf');
    expect(reg.source.stats?.hooks.sort()).toEqual(['post_bind', 'set_state', 'sock_release']);
  });

  it('TCP (fixed port) and UDP servers are answered within ms, and vanish when killed', async () => {
    const port = freePort();
    const srv = await startServer('ebfix', [{ proto: 'tcp', port, host: '0.0.0.0' }, { proto: 'udp', port: 0, host: '127.0.0.1' }]);
    servers.push(srv);
    const t0 = performance.now();
    const r = await waitFor(async () => {
      const a = await dig(d.dnsPort, 'ebfix.svc.local', 'SRV');
      return a.answer.length === 2 ? a : undefined;
    }, 'ebfix SRV', 5000, 1);
    console.log(`ebfix: ready -> 2 SRV answers in ${(performance.now() - t0).toFixed(1)} ms (rescans off)`);
    expect(rdata(r!, 'SRV').sort()).toEqual([`0 0 ${port} ebfix.svc.local.`, `0 0 ${srv.ports[1]} ebfix.svc.local.`].sort());
    await srv.kill('SIGKILL');
    await waitFor(async () => (await dig(d.dnsPort, 'ebfix.svc.local', 'SRV')).status === 'NXDOMAIN', 'ebfix gone');
  });

  it('port 0, IPv6-only, dual-stack and a SO_REUSEPORT group', async () => {
    const six = await startServer('ebsix', [{ proto: 'tcp', port: 0, host: '::1', ipv6Only: true }, { proto: 'tcp', port: 0, host: '::' }]);
    servers.push(six);
    await waitFor(async () => (await dig(d.dnsPort, 'ebsix.svc.local', 'SRV')).answer.length === 2, 'ebsix SRV');
    const port = freePort();
    // Node 20 has no reusePort option: python3 servers.
    const group: Server[] = [];
    try {
      for (let i = 0; i < 3; i++) group.push(await startPython('tcp', '127.0.0.1', port, ['reuseport']));
      await checkGroup(group, port);
    } finally {
      await Promise.all(group.map((g) => g.kill()));
    }
  });

  /** Each member is added (event record); the port is served. */
  async function checkGroup(group: Server[], port: number): Promise<void> {
    await waitFor(async () => {
      const evs = ((await d.control('/events')) as Ev[]).filter((e) => e.kind === 'add' && e.port === port);
      return group.every((g) => evs.some((e) => e.pid === g.pid));
    }, 'an add event for each reuseport member');
    const reg = (await d.control('/registry')) as RegistryJson;
    expect(reg.services.flatMap((s) => s.endpoints).some((e) => e.port === port)).toBe(true);
  }

  it('a listener in a fresh netns shows in `bindsight list --json` with that inode', async () => {
    const ns = `bs-ebd-${process.pid}`;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const inode = netnsInodeOf(`/run/netns/${ns}`);
      const srv = await startServer('ebns', [{ proto: 'tcp', port: 8080, host: '0.0.0.0' }], { prefix: ['ip', 'netns', 'exec', ns] });
      try {
        const ep = await waitFor(async () => {
          const { stdout } = await run(process.execPath, [CLI, 'list', '--json', '--control', `127.0.0.1:${d.controlPort}`]);
          const reg = JSON.parse(stdout) as RegistryJson;
          return reg.services.flatMap((s) => s.endpoints).find((e) => e.comm === 'ebns' && e.port === 8080);
        }, 'ebns in list --json');
        expect(ep!.netns).toBe(inode);
      } finally {
        await srv.kill('SIGKILL');
      }
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('bind and die within 10 ms: added then removed in the event record, nothing left', async () => {
    const r = spawnSync('python3', ['-c',
      'import socket,os\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen();print(s.getsockname()[1],flush=True);os._exit(0)'],
    { encoding: 'utf8' });
    const port = Number(r.stdout.trim());
    const evs = await waitFor(async () => {
      const all = (await d.control('/events')) as Ev[];
      const mine = all.filter((e) => e.port === port);
      return mine.length >= 2 ? mine : undefined;
    }, 'add and remove events');
    expect(evs!.map((e) => e.kind)).toEqual(['add', 'remove']);
    expect(evs![0]).toMatchObject({ pid: r.pid, comm: 'python3' });
    const reg = (await d.control('/registry')) as RegistryJson;
    expect(reg.services.flatMap((s) => s.endpoints).filter((e) => e.port === port)).toEqual([]);
  });

  it('a failed bind (port taken) never shows up', async () => {
    const holder = await startServer('ebhold', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]);
    servers.push(holder);
    await waitFor(async () => (await dig(d.dnsPort, 'ebhold.svc.local', 'SRV')).answer.length === 1, 'ebhold');
    const r = spawnSync('python3', ['-c', `import socket\ns=socket.socket()\ntry: s.bind(("127.0.0.1",${holder.ports[0]}))\nexcept OSError as e: print(e.errno)`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('98');
    await new Promise((res) => setTimeout(res, 100));
    const evs = ((await d.control('/events')) as Ev[]).filter((e) => e.pid === r.pid);
    expect(evs).toEqual([]);
  });
});

function newLinks(before: number[]): number[] {
  return bpftoolIds('link').filter((id) => !before.includes(id));
}

describe.skipIf(!isRoot)('daemon teardown of BPF links', () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)('after %s, bpftool lists none of its links', async (signal) => {
    const before = bpftoolIds('link');
    const d = await startDaemon({ args: ['--source', 'ebpf', ...HOUR, '--no-zones'] });
    const ours = newLinks(before);
    expect(ours.length).toBeGreaterThanOrEqual(4);
    await d.stop(signal);
    await waitFor(() => ours.every((id) => !bpftoolIds('link').includes(id)), `links gone after ${signal}`);
  });
});

describe.skipIf(!isRoot)('--source auto without BPF capabilities', () => {
  it('falls back to sockdiag and says why', async () => {
    const d = await startDaemon({
      args: ['--source', 'auto', '--no-zones'],
      wrap: (argv) => ({ cmd: 'capsh', args: ['--drop=cap_bpf,cap_perfmon,cap_sys_admin', '--', '-c', 'exec "$0" "$@"', ...argv] }),
    });
    try {
      const line = d.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('discovery source:'));
      expect(line?.source).toBe('sockdiag');
      expect(String(line?.msg)).toMatch(/ebpf: eBPF programs could not be loaded or attached: hook set_state .*EPERM/);
    } finally {
      await d.stop();
    }
  });
});
