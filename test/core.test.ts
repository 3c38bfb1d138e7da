// The whole path from real sockets to real DNS answers (issue: bindsight
// core): a Node server titled `api` listens on 0.0.0.0:8080/tcp and a UDP
// port, the real daemon discovers it, and the real `dig` asks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { dig, hostAddresses, rdata } from './helpers/dig.js';
import { toLabel } from '../src/naming/label.js';

const INTERVAL_MS = 300;
const HOST = toLabel(hostname());

const modes = [
  { mode: 'auto', args: ['--source', 'auto'], env: {} },
  { mode: 'sockdiag', args: ['--source', 'sockdiag'], env: {} },
  { mode: 'procfs', args: ['--source', 'procfs'], env: {} },
  { mode: 'auto with the addon disabled', args: ['--source', 'auto'], env: { BINDSIGHT_NO_NATIVE: '1' }, expectSource: 'procfs' },
];

describe.each(modes)('core path, source $mode', ({ args, env, expectSource }) => {
  let d: RunningDaemon;
  let api: TestServer;
  let udpPort: number;

  beforeAll(async () => {
    d = await startDaemon({ args: [...args, '--interval', `${INTERVAL_MS}ms`, '--no-zones'], env });
    api = await startServer('api', [
      { proto: 'tcp', port: 8080, host: '0.0.0.0' },
      { proto: 'udp', port: 0, host: '127.0.0.1' },
      { proto: 'tcp', port: 0, host: '127.0.0.77' },
    ]);
    udpPort = api.ports[1]!;
    await waitFor(async () => (await dig(d.dnsPort, 'api.svc.local', 'SRV')).answer.length === 3, 'api SRV records');
  });

  afterAll(async () => {
    await api?.kill();
    await d?.stop();
  });

  if (expectSource) {
    it(`falls back to ${expectSource} and says why`, () => {
      const line = d.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('discovery source:'));
      expect(line?.source).toBe(expectSource);
      expect(String(line?.msg)).toMatch(/BINDSIGHT_NO_NATIVE|disabled/);
    });
  }

  it('A: exactly the addresses of the up, non-loopback interfaces (plus the loopback bind)', async () => {
    const { ipv4 } = await hostAddresses();
    const r = await dig(d.dnsPort, 'api.svc.local', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(rdata(r, 'A')).toEqual([...ipv4, '127.0.0.1', '127.0.0.77'].sort());
  });

  it('SRV: one per port, target the instance, A glue in additional', async () => {
    const r = await dig(d.dnsPort, 'api.svc.local', 'SRV');
    expect(rdata(r, 'SRV')).toEqual([`0 0 8080 api.svc.local.`, `0 0 ${udpPort} api.svc.local.`, `0 0 ${api.ports[2]} api.svc.local.`].sort());
    expect(r.additional.some((l) => l.startsWith('api.svc.local. ') && l.includes(' A '))).toBe(true);
  });

  it('_http._tcp SRV holds only the 8080 record', async () => {
    const r = await dig(d.dnsPort, '_http._tcp.api.svc.local', 'SRV');
    expect(rdata(r, 'SRV')).toEqual(['0 0 8080 api.svc.local.']);
  });

  it('DNS-SD browsing: types, instances, SRV and TXT (RFC 6763)', async () => {
    const types = await dig(d.dnsPort, '_services._dns-sd._udp.svc.local', 'PTR');
    expect(rdata(types, 'PTR')).toContain('_http._tcp.svc.local.');
    const instances = await dig(d.dnsPort, '_http._tcp.svc.local', 'PTR');
    expect(rdata(instances, 'PTR')).toContain('api._http._tcp.svc.local.');
    const srv = await dig(d.dnsPort, 'api._http._tcp.svc.local', 'SRV');
    expect(rdata(srv, 'SRV')).toEqual(['0 0 8080 api.svc.local.']);
    const txt = await dig(d.dnsPort, 'api._http._tcp.svc.local', 'TXT');
    expect(rdata(txt, 'TXT')[0]).toContain('"comm=api"');
  });

  it('PTR: a shared address names the host, a single owner names the instance', async () => {
    const { ipv4 } = await hostAddresses();
    if (ipv4[0]) {
      const rev = ipv4[0].split('.').reverse().join('.') + '.in-addr.arpa';
      expect(rdata(await dig(d.dnsPort, rev, 'PTR'), 'PTR')).toEqual([`${HOST}.svc.local.`]);
    }
    expect(rdata(await dig(d.dnsPort, '77.0.0.127.in-addr.arpa', 'PTR'), 'PTR')).toEqual(['api.svc.local.']);
    expect((await dig(d.dnsPort, '9.9.9.10.in-addr.arpa', 'PTR')).status).toBe('REFUSED');
  });

  it('the host is <hostname>.svc.local; NODATA and NXDOMAIN carry the SOA', async () => {
    expect((await dig(d.dnsPort, `${HOST}.svc.local`, 'A')).status).toBe('NOERROR');
    const nodata = await dig(d.dnsPort, 'api.svc.local', 'MX');
    expect(nodata.status).toBe('NOERROR');
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0]).toMatch(/^svc\.local\. \d+ IN SOA /);
    const nx = await dig(d.dnsPort, 'nope.svc.local', 'A');
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority[0]).toMatch(/ IN SOA /);
    expect((await dig(d.dnsPort, 'example.com', 'A')).status).toBe('REFUSED');
  });

  it('a new listener appears and a killed one goes away (NXDOMAIN) within an interval', async () => {
    const late = await startServer('late-comer', [{ proto: 'tcp', port: 0, host: '127.0.0.1' }]);
    await waitFor(async () => (await dig(d.dnsPort, 'late-comer.svc.local', 'A')).status === 'NOERROR', 'late-comer to appear', INTERVAL_MS * 3 + 1000);
    await late.kill();
    await waitFor(async () => (await dig(d.dnsPort, 'late-comer.svc.local', 'A')).status === 'NXDOMAIN', 'late-comer to vanish', INTERVAL_MS * 3 + 1000);
  });
});
