// Restarting the daemon rebuilds the same registry, as far as the snapshot
// can see (issue 3): what events built before the restart, the first
// sock_diag snapshot rebuilds after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootOrSkip, startDaemon, waitFor } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import type { Registry } from '../src/registry/registry.js';

const HOUR = ['--interval', '1h', '--reconcile', '1h', '--no-zones'];

/** The registry without what changes between runs of the same host. */
function shape(r: Registry): string[] {
  return r.services.flatMap((s) => s.endpoints.map((e) => `${s.name} ${e.proto} ${e.address} ${e.port} ${e.netns} ${e.pids.join(',')} ${e.uid}`)).sort();
}

describe.skipIf(rootOrSkip())('daemon restart on the ebpf source', () => {
  let servers: TestServer[] = [];
  beforeAll(async () => {
    servers = await Promise.all([
      startServer('rst-a', [{ proto: 'tcp', port: 0, host: '0.0.0.0' }, { proto: 'udp', port: 0, host: '127.0.0.1' }]),
      startServer('rst-b', [{ proto: 'tcp', port: 0, host: '::', ipv6Only: true }]),
    ]);
  });
  afterAll(async () => Promise.all(servers.map((s) => s.kill())));

  it('the second run starts with the registry the first run built from events', async () => {
    const first = await startDaemon({ args: ['--source', 'ebpf', ...HOUR] });
    // Listeners born while the first daemon runs are known to it only by events.
    const late = await startServer('rst-late', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }, { proto: 'udp', port: 0, host: '127.0.0.1' }]);
    servers.push(late);
    const before = await waitFor(async () => {
      const r = (await first.control('/registry')) as Registry;
      return r.services.some((s) => s.name === 'rst-late' && s.endpoints.length === 2) ? r : null;
    }, 'rst-late from events');
    await first.stop('SIGKILL');

    const second = await startDaemon({ args: ['--source', 'ebpf', ...HOUR] });
    try {
      const after = (await second.control('/registry')) as Registry;
      const mine = (r: Registry) => shape(r).filter((l) => l.startsWith('rst-'));
      expect(mine(after)).toEqual(mine(before));
      expect(mine(after).length).toBe(5);
      // And the whole host, apart from the first daemon's own sockets.
      const notDaemon = (r: Registry, pid: number) => shape(r).filter((l) => !l.split(' ')[5]!.split(',').includes(String(pid)));
      expect(notDaemon(after, second.proc.pid!)).toEqual(notDaemon(before, first.proc.pid!));
    } finally {
      await second.stop();
    }
  });
});
