// Wildcard binds answer with the host's interface addresses; when those
// change, the answers follow (the daemon re-reads them every 2 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rootOrSkip, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { dig, rdata } from './helpers/dig.js';

const IF = `bsha${process.pid % 10000}`;
const NS = `bsha-ns-${process.pid}`;
// TEST-NET-2 (RFC 5737), on a veth whose peer is in a test namespace: no traffic leaves.
const ADDR = '198.51.100.9';

describe.skipIf(rootOrSkip())('host address changes', () => {
  let d: RunningDaemon;
  let s: TestServer;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--source', 'sockdiag', '--interval', '200ms', '--no-zones'] });
    s = await startServer('wildsvc', [{ proto: 'tcp', port: 0, host: '0.0.0.0' }]);
    await waitFor(async () => (await dig(d.dnsPort, 'wildsvc.svc.local', 'A')).status === 'NOERROR', 'wildsvc');
  });
  afterAll(async () => {
    for (const args of [['link', 'del', IF], ['netns', 'del', NS]]) {
      try { execFileSync('ip', args, { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    await s?.kill();
    await d?.stop();
  });

  it('an address added to an up interface joins the A answer, and leaves with it', async () => {
    expect(rdata(await dig(d.dnsPort, 'wildsvc.svc.local', 'A'), 'A')).not.toContain(ADDR);
    // A veth is up and running (LOWER_UP) once both ends are up.
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['link', 'add', IF, 'type', 'veth', 'peer', 'name', `${IF}p`, 'netns', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', `${IF}p`, 'up']);
    execFileSync('ip', ['addr', 'add', `${ADDR}/32`, 'dev', IF]);
    execFileSync('ip', ['link', 'set', IF, 'up']);
    await waitFor(async () => rdata(await dig(d.dnsPort, 'wildsvc.svc.local', 'A'), 'A').includes(ADDR), 'the new address', 6000, 100);
    execFileSync('ip', ['link', 'del', IF]);
    await waitFor(async () => !rdata(await dig(d.dnsPort, 'wildsvc.svc.local', 'A'), 'A').includes(ADDR), 'the address to go', 6000, 100);
  });
});
