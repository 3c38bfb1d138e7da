// Any local user can name a process anything: a process of another uid that
// calls itself `api` must not join (or take over) root's `api`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootOrSkip, startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { dig, rdata } from './helpers/dig.js';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toLabel } from '../src/naming/label.js';

const NOBODY = 65534;

describe.skipIf(rootOrSkip())('uid separation with real processes', () => {
  let d: RunningDaemon;
  let servers: TestServer[] = [];
  beforeAll(async () => {
    d = await startDaemon({ args: ['--interval', '200ms', '--no-zones', '--source', 'sockdiag'] });
    servers = [
      await startServer('uidapi', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]),
      await startServer('uidapi', [{ proto: 'tcp', port: 0, host: '127.0.0.2' }], { uid: NOBODY }),
    ];
    await waitFor(async () => (await dig(d.dnsPort, `uidapi-u${NOBODY}.svc.local`, 'SRV')).answer.length === 1, 'the nobody instance');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await d?.stop();
  });

  it('root keeps the name; the other uid gets <name>-u<uid>', async () => {
    expect(rdata(await dig(d.dnsPort, 'uidapi.svc.local', 'SRV'), 'SRV')).toEqual([`0 0 ${servers[0]!.ports[0]} uidapi.svc.local.`]);
    expect(rdata(await dig(d.dnsPort, 'uidapi.svc.local', 'A'), 'A')).toEqual(['127.0.0.1']);
    expect(rdata(await dig(d.dnsPort, `uidapi-u${NOBODY}.svc.local`, 'A'), 'A')).toEqual(['127.0.0.2']);
    const reg = (await d.control('/registry')) as { services: Array<{ name: string; uid: number; endpoints: Array<{ pids: number[] }> }> };
    const nobody = reg.services.find((s) => s.name === `uidapi-u${NOBODY}`)!;
    expect(nobody.uid).toBe(NOBODY);
    expect(nobody.endpoints[0]!.pids).toEqual([servers[1]!.pid]);
  });
});

describe('odd process names, end to end', () => {
  let d: RunningDaemon;
  let s: TestServer;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--interval', '200ms', '--no-zones', '--source', 'procfs'] });
    s = await startServer('Wëird/Name:1 x', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]);
  });
  afterAll(async () => {
    await s?.kill();
    await d?.stop();
  });

  it('a comm with slashes, colons, spaces and non-ASCII maps to a sane label', async () => {
    // comm holds at most 15 bytes (TASK_COMM_LEN 16): "Wëird/Name:1 x" → w-ird-name-1-x
    await waitFor(async () => (await dig(d.dnsPort, 'w-ird-name-1-x.svc.local', 'SRV')).answer.length === 1, 'the odd name');
    const reg = (await d.control('/registry')) as { services: Array<{ name: string; endpoints: Array<{ comm: string }> }> };
    expect(reg.services.find((x) => x.name === 'w-ird-name-1-x')!.endpoints[0]!.comm).toMatch(/^W/);
  });
});

describe('reserved names: the host and the operator’s zone files', () => {
  let d: RunningDaemon;
  let servers: TestServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bs-reserved-'));
  const host = toLabel(hostname());
  beforeAll(async () => {
    writeFileSync(join(dir, 'svc.local.zone'), 'printer 300 IN A 192.0.2.20\nalias 300 IN CNAME printer\n');
    writeFileSync(join(dir, 'mdns.zone'), '$ORIGIN local.\nfoo 300 IN A 192.0.2.2\n');
    d = await startDaemon({ args: ['--interval', '200ms', '--source', 'sockdiag', '--zones', dir] });
    servers = [
      await startServer(host.slice(0, 15), [{ proto: 'tcp', port: 0, host: '127.0.0.1' }], { uid: NOBODY }),
      await startServer('printer', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]),
      await startServer('alias', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]),
    ];
    await waitFor(async () => (await dig(d.dnsPort, 'alias-u0.svc.local', 'SRV')).answer.length === 1, 'alias-u0');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a process named like the host gets -u<uid>; the host name keeps the host addresses', async () => {
    const label = toLabel(host.slice(0, 15));
    if (label !== host) return; // a hostname longer than a comm cannot be taken
    expect(rdata(await dig(d.dnsPort, `${host}.svc.local`, 'A'), 'A')).not.toContain('127.0.0.1');
    expect((await dig(d.dnsPort, `${host}-u${NOBODY}.svc.local`, 'SRV')).answer).toHaveLength(1);
  });

  it('names from zone files stay the operator’s: one TTL, no discovered records mixed in', async () => {
    const a = await dig(d.dnsPort, 'printer.svc.local', 'A');
    expect(a.answer).toEqual(['printer.svc.local. 300 IN A 192.0.2.20']);
    expect((await dig(d.dnsPort, 'printer-u0.svc.local', 'SRV')).answer).toHaveLength(1);
    expect(rdata(await dig(d.dnsPort, 'alias.svc.local', 'A'), 'CNAME')).toEqual(['printer.svc.local.']);
  });

  it('a zone file for `local.` is refused (RFC 6762 §3)', async () => {
    expect((await dig(d.dnsPort, 'local', 'SOA')).status).toBe('REFUSED');
    expect((await dig(d.dnsPort, 'foo.local', 'A')).status).toBe('REFUSED');
    expect(d.logs.some((l) => /zone "local" is reserved for mDNS/.test(l.msg))).toBe(true);
  });
});
