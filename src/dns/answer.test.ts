// Answer building as a table of cases written as zone-file lines (CoreDNS's
// plugin/test style): qname, qtype, rcode, answer, authority, additional.
import { describe, expect, it } from 'vitest';
import { answer } from './answer.js';
import { renderRegistry } from './discovered-zone.js';
import { buildZoneSet } from './zone-set.js';
import { synthesizeNs, synthesizeSoa } from './authority.js';
import { CLASS, RCODE, TYPE } from './records.js';
import { buildRegistry } from '../registry/registry.js';
import { builtinTable } from '../naming/service-types.js';
import { rr, formatRR } from '../zones/rr-text.js';
import type { SocketRecord } from '../discovery/socket.js';
import type { HostInfo } from '../registry/host.js';

const host: HostInfo = { hostname: 'vm', ipv4: ['192.0.2.2'], ipv6: ['fd00::2'], netns: 1, ephemeral: { low: 32768, high: 60999 } };
const proc = (pid: number, comm: string, uid = 0) => ({ pid, comm, exe: `/usr/bin/${comm}`, cmdline: [comm], uid, cgroup: '/', netns: 1 });
const sock = (p: Partial<SocketRecord> & Pick<SocketRecord, 'proto' | 'address' | 'port'>): SocketRecord => ({
  family: p.address.includes(':') ? 6 : 4, remoteAddress: p.address.includes(':') ? '::' : '0.0.0.0', remotePort: 0,
  state: p.proto === 'tcp' ? 10 : 7, inode: p.port, uid: 0, netns: 1, processes: [], ...p,
});

const sockets: SocketRecord[] = [
  sock({ proto: 'tcp', address: '0.0.0.0', port: 8080, processes: [proc(100, 'api')] }),
  sock({ proto: 'udp', address: '0.0.0.0', port: 9999, processes: [proc(100, 'api')] }),
  sock({ proto: 'tcp', address: '127.0.0.1', port: 5432, processes: [proc(200, 'postgres')] }),
  sock({ proto: 'tcp', address: '::', port: 443, v6only: true, processes: [proc(300, 'web')] }),
];
const registry = buildRegistry(sockets, host, { rules: [], types: builtinTable() });
const rendered = renderRegistry(registry, { origin: 'svc.local', ttl: 5 });
const auth = { origin: 'svc.local', nsName: 'vm.svc.local', serial: 7, ttl: 5, negativeTtl: 3 };
const zs = buildZoneSet(
  [{
    origin: 'svc.local', soa: synthesizeSoa(auth), ns: synthesizeNs(auth),
    records: [...rendered.records, rr('www.svc.local. 5 IN CNAME api.svc.local.'), rr('gone.svc.local. 5 IN CNAME missing.svc.local.'), rr('out.svc.local. 5 IN CNAME example.com.')],
  }],
  rendered.reverse,
);

const SOA = 'svc.local. 3 IN SOA vm.svc.local. hostmaster.svc.local. 7 3600 600 86400 3';

interface Case {
  qname: string;
  qtype: keyof typeof TYPE;
  rcode: keyof typeof RCODE;
  answer?: string[];
  authority?: string[];
  additional?: string[];
  aa?: boolean;
}

const cases: Case[] = [
  { qname: 'api.svc.local', qtype: 'A', rcode: 'NOERROR', answer: ['api.svc.local. 5 IN A 192.0.2.2'] },
  { qname: 'ApI.sVc.LoCaL', qtype: 'A', rcode: 'NOERROR', answer: ['ApI.sVc.LoCaL. 5 IN A 192.0.2.2'] },
  // NODATA, not NXDOMAIN: the name exists (RFC 2308 §2.2).
  { qname: 'api.svc.local', qtype: 'AAAA', rcode: 'NOERROR', authority: [SOA] },
  { qname: 'api.svc.local', qtype: 'MX', rcode: 'NOERROR', authority: [SOA] },
  { qname: 'web.svc.local', qtype: 'AAAA', rcode: 'NOERROR', answer: ['web.svc.local. 5 IN AAAA fd00::2'] },
  { qname: 'web.svc.local', qtype: 'A', rcode: 'NOERROR', authority: [SOA] },
  { qname: 'postgres.svc.local', qtype: 'A', rcode: 'NOERROR', answer: ['postgres.svc.local. 5 IN A 127.0.0.1'] },
  {
    qname: 'api.svc.local', qtype: 'SRV', rcode: 'NOERROR',
    answer: ['api.svc.local. 5 IN SRV 0 0 8080 api.svc.local.', 'api.svc.local. 5 IN SRV 0 0 9999 api.svc.local.'],
    additional: ['api.svc.local. 5 IN A 192.0.2.2'],
  },
  {
    qname: '_http._tcp.api.svc.local', qtype: 'SRV', rcode: 'NOERROR',
    answer: ['_http._tcp.api.svc.local. 5 IN SRV 0 0 8080 api.svc.local.'], additional: ['api.svc.local. 5 IN A 192.0.2.2'],
  },
  // 9999 has no type: no _type names for it.
  { qname: '_udp.api.svc.local', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  // Empty non-terminals (RFC 8020): NODATA.
  { qname: '_tcp.api.svc.local', qtype: 'SRV', rcode: 'NOERROR', authority: [SOA] },
  { qname: '_tcp.svc.local', qtype: 'PTR', rcode: 'NOERROR', authority: [SOA] },
  { qname: '_dns-sd._udp.svc.local', qtype: 'PTR', rcode: 'NOERROR', authority: [SOA] },
  { qname: 'nope.svc.local', qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  { qname: 'a.b.nope.svc.local', qtype: 'A', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    qname: '_services._dns-sd._udp.svc.local', qtype: 'PTR', rcode: 'NOERROR',
    answer: [
      '_services._dns-sd._udp.svc.local. 5 IN PTR _http._tcp.svc.local.',
      '_services._dns-sd._udp.svc.local. 5 IN PTR _https._tcp.svc.local.',
      '_services._dns-sd._udp.svc.local. 5 IN PTR _postgresql._tcp.svc.local.',
    ],
  },
  {
    qname: '_http._tcp.svc.local', qtype: 'PTR', rcode: 'NOERROR',
    answer: ['_http._tcp.svc.local. 5 IN PTR api._http._tcp.svc.local.'],
    additional: [
      'api._http._tcp.svc.local. 5 IN SRV 0 0 8080 api.svc.local.',
      'api._http._tcp.svc.local. 5 IN TXT "txtvers=1" "comm=api" "uid=0" "pids=100"',
      'api.svc.local. 5 IN A 192.0.2.2',
    ],
  },
  {
    qname: 'api._http._tcp.svc.local', qtype: 'SRV', rcode: 'NOERROR',
    answer: ['api._http._tcp.svc.local. 5 IN SRV 0 0 8080 api.svc.local.'], additional: ['api.svc.local. 5 IN A 192.0.2.2'],
  },
  { qname: 'api._http._tcp.svc.local', qtype: 'TXT', rcode: 'NOERROR', answer: ['api._http._tcp.svc.local. 5 IN TXT "txtvers=1" "comm=api" "uid=0" "pids=100"'] },
  { qname: 'svc.local', qtype: 'SOA', rcode: 'NOERROR', answer: ['svc.local. 5 IN SOA vm.svc.local. hostmaster.svc.local. 7 3600 600 86400 3'] },
  { qname: 'svc.local', qtype: 'NS', rcode: 'NOERROR', answer: ['svc.local. 5 IN NS vm.svc.local.'], additional: ['vm.svc.local. 5 IN A 192.0.2.2', 'vm.svc.local. 5 IN AAAA fd00::2'] },
  { qname: 'vm.svc.local', qtype: 'A', rcode: 'NOERROR', answer: ['vm.svc.local. 5 IN A 192.0.2.2'] },
  // Reverse: shared address → host; single owner → the instance; unknown → REFUSED.
  { qname: '2.2.0.192.in-addr.arpa', qtype: 'PTR', rcode: 'NOERROR', answer: ['2.2.0.192.in-addr.arpa. 5 IN PTR vm.svc.local.'] },
  { qname: '1.0.0.127.IN-ADDR.ARPA', qtype: 'PTR', rcode: 'NOERROR', answer: ['1.0.0.127.IN-ADDR.ARPA. 5 IN PTR postgres.svc.local.'] },
  { qname: '9.9.9.9.in-addr.arpa', qtype: 'PTR', rcode: 'REFUSED', aa: false },
  { qname: 'example.com', qtype: 'A', rcode: 'REFUSED', aa: false },
  { qname: 'api.svc.local', qtype: 'AXFR', rcode: 'REFUSED', aa: false },
  // CNAME chains: followed inside our data; a dangling target in zone is NXDOMAIN (RFC 6604).
  { qname: 'www.svc.local', qtype: 'A', rcode: 'NOERROR', answer: ['www.svc.local. 5 IN CNAME api.svc.local.', 'api.svc.local. 5 IN A 192.0.2.2'] },
  { qname: 'www.svc.local', qtype: 'CNAME', rcode: 'NOERROR', answer: ['www.svc.local. 5 IN CNAME api.svc.local.'] },
  { qname: 'gone.svc.local', qtype: 'A', rcode: 'NXDOMAIN', answer: ['gone.svc.local. 5 IN CNAME missing.svc.local.'], authority: [SOA] },
  { qname: 'out.svc.local', qtype: 'A', rcode: 'NOERROR', answer: ['out.svc.local. 5 IN CNAME example.com.'] },
];

const lines = (rrs: ReturnType<typeof answer>['answer']) => rrs.map(formatRR).sort();
const norm = (ls: string[] | undefined) => (ls ?? []).map((l) => formatRR(rr(l))).sort();

describe('answer', () => {
  it.each(cases)('$qname $qtype → $rcode', (c) => {
    const a = answer(zs, { name: c.qname, type: TYPE[c.qtype], class: CLASS.IN });
    expect(a.rcode).toBe(RCODE[c.rcode]);
    expect(a.aa).toBe(c.aa ?? true);
    expect(lines(a.answer)).toEqual(norm(c.answer));
    expect(lines(a.authority)).toEqual(norm(c.authority));
    expect(lines(a.additional)).toEqual(norm(c.additional));
  });

  it('never puts records of another type in the answer, except CNAME chains', () => {
    for (const name of ['api.svc.local', 'svc.local', 'www.svc.local', '_http._tcp.svc.local']) {
      for (const t of [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.TXT, TYPE.PTR, TYPE.NS, TYPE.SOA, TYPE.MX]) {
        const a = answer(zs, { name, type: t, class: CLASS.IN });
        for (const r of a.answer) expect([t, TYPE.CNAME]).toContain(TYPE[r.data.type as keyof typeof TYPE]);
      }
    }
  });

  it('matches zones label by label: an escaped dot is part of a label', () => {
    expect(answer(zs, { name: 'x\\.svc.local', type: TYPE.A, class: CLASS.IN }).rcode).toBe(RCODE.REFUSED);
    expect(answer(zs, { name: 'api\\.svc.local', type: TYPE.A, class: CLASS.IN }).rcode).toBe(RCODE.REFUSED);
    expect(answer(zs, { name: 'x\\.y.svc.local', type: TYPE.A, class: CLASS.IN }).rcode).toBe(RCODE.NXDOMAIN);
    const esc = buildZoneSet([{ origin: 'svc.local', soa: synthesizeSoa(auth), ns: [], records: [rr('a\\.b.svc.local. 5 IN A 192.0.2.9')] }], []);
    expect(answer(esc, { name: 'a\\.b.svc.local', type: TYPE.A, class: CLASS.IN }).answer).toHaveLength(1);
    // `b.svc.local` is not a parent of `a\.b.svc.local` (one label `a.b`): NXDOMAIN, not an ENT.
    expect(answer(esc, { name: 'b.svc.local', type: TYPE.A, class: CLASS.IN }).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('TCP and UDP on one port are one SRV record at the instance name (RFC 2181 §5)', () => {
    const reg = buildRegistry([
      sock({ proto: 'tcp', address: '127.0.0.1', port: 53, processes: [proc(9, 'dnsd')] }),
      sock({ proto: 'udp', address: '127.0.0.1', port: 53, processes: [proc(9, 'dnsd')] }),
    ], host, { rules: [], types: builtinTable() });
    const r = renderRegistry(reg, { origin: 'svc.local', ttl: 5 }).records.filter((x) => x.data.type === 'SRV').map(formatRR);
    expect(r.filter((l) => l.startsWith('dnsd.svc.local.'))).toHaveLength(1);
    expect(r.filter((l) => l.startsWith('_dns._udp.dnsd.') || l.startsWith('_dns._tcp.dnsd.'))).toHaveLength(2);
  });

  it('REFUSES other classes', () => {
    expect(answer(zs, { name: 'version.bind', type: TYPE.TXT, class: CLASS.CH }).rcode).toBe(RCODE.REFUSED);
  });

  it('answers ANY with the RRsets at the name, never NXDOMAIN for a name that exists (RFC 8482)', () => {
    const a = answer(zs, { name: 'api.svc.local', type: TYPE.ANY, class: CLASS.IN });
    expect(a.rcode).toBe(RCODE.NOERROR);
    expect(new Set(a.answer.map((r) => r.data.type))).toEqual(new Set(['A', 'SRV']));
  });
});

describe('names with a bad zone-file record (issue 4)', () => {
  const soa = synthesizeSoa({ ...auth, origin: 'lan' });
  const bz = buildZoneSet([{
    origin: 'lan', soa, ns: [], broken: ['Bad.Deep.LAN', 'other.zone'],
    records: [rr('ok.lan. 5 IN A 192.0.2.1'), rr('bad.deep.lan. 5 IN TXT "good line at a broken name"'), rr('to-bad.lan. 5 IN CNAME bad.deep.lan.')],
  }], []);
  const q = (name: string, type: number) => answer(bz, { name, type, class: CLASS.IN });

  it('buildZone keeps broken names in the zone as keys, and their parents are ENTs', () => {
    expect([...bz.zones[0]!.broken]).toEqual(['bad.deep.lan']);
    expect(bz.zones[0]!.empty.has('deep.lan')).toBe(true);
  });

  it.each([TYPE.A, TYPE.TXT, TYPE.AAAA, TYPE.ANY, TYPE.SOA])('SERVFAIL without AA for type %i, any case', (type) => {
    expect(q('BAD.deep.lan', type)).toEqual({ rcode: RCODE.SERVFAIL, aa: false, answer: [], authority: [], additional: [] });
  });

  it('a CNAME into a broken name is SERVFAIL; the rest of the zone answers', () => {
    expect(q('to-bad.lan', TYPE.A).rcode).toBe(RCODE.SERVFAIL);
    expect(q('ok.lan', TYPE.A)).toMatchObject({ rcode: RCODE.NOERROR, aa: true, answer: [expect.objectContaining({ name: 'ok.lan' })] });
    expect(q('deep.lan', TYPE.A)).toMatchObject({ rcode: RCODE.NOERROR, aa: true, answer: [] });
    expect(q('nope.lan', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });
});

describe('DNS-SD types from zone files', () => {
  it('are enumerated once each, next to the discovered ones', async () => {
    const { enumerateStaticTypes } = await import('./discovered-zone.js');
    const statics = [
      rr('_ipp._tcp.svc.local. 300 IN PTR printer._ipp._tcp.svc.local.'),
      rr('_IPP._tcp.svc.local. 300 IN PTR other._ipp._tcp.svc.local.'),
      rr('_http._tcp.svc.local. 300 IN PTR site._http._tcp.svc.local.'),
      rr('_smb._tcp.svc.local. 300 IN SRV 0 0 445 nas.svc.local.'),
    ];
    const added = enumerateStaticTypes(statics, rendered.records, 'svc.local', 5).map(formatRR);
    expect(added).toEqual([formatRR(rr('_services._dns-sd._udp.svc.local. 5 IN PTR _ipp._tcp.svc.local.'))]);
  });
});
