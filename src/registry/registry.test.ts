import { describe, expect, it } from 'vitest';
import { buildRegistry, endpointAddresses } from './registry.js';
import { compileRules } from '../naming/rules.js';
import { builtinTable } from '../naming/service-types.js';
import { isService, type SocketRecord } from '../discovery/socket.js';
import type { HostInfo } from './host.js';

const host: HostInfo = { hostname: 'vm', ipv4: ['192.0.2.2', '198.51.100.7'], ipv6: ['fd00::2'], netns: 1, ephemeral: { low: 32768, high: 60999 } };
const proc = (pid: number, comm: string, uid = 0) => ({ pid, comm, exe: `/bin/${comm}`, cmdline: [comm], uid, cgroup: '/', netns: 1 });
let inode = 1000;
const sock = (p: Partial<SocketRecord> & Pick<SocketRecord, 'proto' | 'address' | 'port'>): SocketRecord => ({
  family: p.address.includes(':') ? 6 : 4, remoteAddress: p.address.includes(':') ? '::' : '0.0.0.0', remotePort: 0,
  state: p.proto === 'tcp' ? 10 : 7, inode: inode++, uid: 0, netns: 1, processes: [], ...p,
});
const build = (sockets: SocketRecord[], rules = compileRules([])) => buildRegistry(sockets, host, { rules, types: builtinTable() });

describe('the service rule', () => {
  const eph = host.ephemeral;
  it.each([
    ['TCP LISTEN', sock({ proto: 'tcp', address: '0.0.0.0', port: 50000 }), true],
    ['TCP ESTABLISHED', sock({ proto: 'tcp', address: '10.0.0.1', port: 80, state: 1 }), false],
    ['UDP wildcard, fixed port', sock({ proto: 'udp', address: '0.0.0.0', port: 9999 }), true],
    ['UDP wildcard, ephemeral port', sock({ proto: 'udp', address: '0.0.0.0', port: 40000 }), false],
    ['UDP bound to an address, ephemeral port', sock({ proto: 'udp', address: '127.0.0.1', port: 40000 }), true],
    ['UDP connected', sock({ proto: 'udp', address: '0.0.0.0', port: 9999, remoteAddress: '1.2.3.4', remotePort: 53 }), false],
  ])('%s', (_, s, want) => expect(isService(s, eph)).toBe(want));
});

describe('addresses', () => {
  const e = (address: string, extra: object = {}) => build([sock({ proto: 'tcp', address, port: 80, processes: [proc(1, 'x')], ...extra })]).services[0]!.endpoints[0]!;
  it.each([
    ['0.0.0.0', {}, ['192.0.2.2', '198.51.100.7']],
    ['::', { v6only: false }, ['192.0.2.2', '198.51.100.7', 'fd00::2']],
    ['::', { v6only: true }, ['fd00::2']],
    ['127.0.0.1', {}, ['127.0.0.1']],
    ['::1', {}, ['::1']],
    ['::ffff:192.0.2.2', {}, ['192.0.2.2']],
    ['0.0.0.0', { netns: 99 }, []],
    ['10.9.9.9', { netns: 99 }, ['10.9.9.9']],
  ])('%s %j', (address, extra, want) => expect(endpointAddresses(e(address, extra), host)).toEqual(want));

  it('falls back to loopback when the host has no interfaces', () => {
    const bare = { ...host, ipv4: [], ipv6: [] };
    const ep = build([sock({ proto: 'tcp', address: '0.0.0.0', port: 80, processes: [proc(1, 'x')] })]).services[0]!.endpoints[0]!;
    expect(endpointAddresses(ep, bare)).toEqual(['127.0.0.1']);
    expect(endpointAddresses({ ...ep, address: '::', family: 6 }, bare)).toEqual(['127.0.0.1', '::1']);
  });
});

describe('buildRegistry', () => {
  it('merges processes of the same name into one service with the union of endpoints', () => {
    const r = build([
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8080, processes: [proc(10, 'api')] }),
      sock({ proto: 'tcp', address: '127.0.0.1', port: 8081, processes: [proc(11, 'api')] }),
      sock({ proto: 'udp', address: '0.0.0.0', port: 9999, processes: [proc(10, 'api')] }),
    ]);
    expect(r.services.map((s) => s.name)).toEqual(['api']);
    const api = r.services[0]!;
    expect(api.endpoints.map((e) => `${e.proto}/${e.port}/${e.type ?? '-'}`)).toEqual(['tcp/8080/http', 'tcp/8081/-', 'udp/9999/-']);
    expect(api.addresses).toEqual(['127.0.0.1', '192.0.2.2', '198.51.100.7']);
  });

  it('lists every pid holding a socket (a root master with workers)', () => {
    const r = build([sock({ proto: 'tcp', address: '0.0.0.0', port: 80, processes: [proc(52, 'nginx', 33), proc(50, 'nginx'), proc(51, 'nginx', 33)] })]);
    expect(r.services[0]!.endpoints[0]!.pids).toEqual([50, 51, 52]);
  });

  it('never merges endpoints of different uids silently: the lowest uid keeps the name', () => {
    const r = build([
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8080, uid: 1000, processes: [proc(20, 'api', 1000)] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8081, uid: 0, processes: [proc(21, 'api', 0)] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8082, uid: 65534, processes: [proc(22, 'api', 65534)] }),
    ]);
    expect(r.services.map((s) => [s.name, s.uid, s.endpoints.map((e) => e.port)])).toEqual([
      ['api', 0, [8081]], ['api-u1000', 1000, [8080]], ['api-u65534', 65534, [8082]],
    ]);
  });

  it('a rule name is the operator vouching: endpoints it names share the name across uids', () => {
    const rules = compileRules([{ match: { comm: 'api' }, name: 'shared' }]);
    const r = build([
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8080, uid: 1000, processes: [proc(20, 'api', 1000)] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8081, uid: 0, processes: [proc(21, 'api', 0)] }),
    ], rules);
    expect(r.services.map((s) => [s.name, s.uid, s.endpoints.length])).toEqual([['shared', 0, 2]]);
  });

  it('a process named like a suffixed name cannot take it over', () => {
    const r = build([
      sock({ proto: 'tcp', address: '0.0.0.0', port: 1, uid: 0, processes: [proc(1, 'api', 0)] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 2, uid: 5, processes: [proc(2, 'api', 5)] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 3, uid: 7, processes: [proc(3, 'api-u5', 7)] }),
    ]);
    const names = r.services.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(r.services.find((s) => s.endpoints[0]!.port === 2)!.uid).toBe(5);
  });

  it('ignores by rule, retypes by rule, names processless sockets by port', () => {
    const rules = compileRules([{ match: { port: 9000 }, type: 'grpc' }, { match: { comm: 'sshd' }, ignore: true }]);
    const r = build([
      sock({ proto: 'tcp', address: '0.0.0.0', port: 9000, processes: [proc(1, 'svc')] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 22, processes: [proc(2, 'sshd')] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 2024 }),
    ], rules);
    expect(r.services.map((s) => [s.name, s.endpoints[0]!.type])).toEqual([['port-2024', undefined], ['svc', 'grpc']]);
  });

  it('drops client sockets and keeps odd names sane', () => {
    const r = build([
      sock({ proto: 'tcp', address: '10.0.0.1', port: 5000, state: 1, processes: [proc(1, 'curl')] }),
      sock({ proto: 'tcp', address: '0.0.0.0', port: 8080, processes: [proc(2, 'kworker/0:1')] }),
    ]);
    expect(r.services.map((s) => s.name)).toEqual(['kworker-0-1']);
  });

  it('keeps every socket of an SO_REUSEPORT group, each with its pid', () => {
    const r = build([1, 2, 3].map((i) => sock({ proto: 'tcp', address: '0.0.0.0', port: 7000, cookie: String(i), processes: [proc(100 + i, 'rp')] })));
    expect(r.services[0]!.endpoints.map((e) => e.pids)).toEqual([[101], [102], [103]]);
  });

  it('one socket reported twice is one endpoint with the pids of both', () => {
    const a = sock({ proto: 'tcp', address: '0.0.0.0', port: 7001, cookie: '42', processes: [proc(7, 'dup')] });
    const r = build([a, { ...a, processes: [proc(8, 'dup')] }]);
    expect(r.services[0]!.endpoints.map((e) => e.pids)).toEqual([[7, 8]]);
  });

  it('never gives a process a reserved name (the host, names from zone files)', () => {
    const r = buildRegistry([
      sock({ proto: 'tcp', address: '127.0.0.1', port: 1, uid: 65534, processes: [proc(1, 'vm', 65534)] }),
      sock({ proto: 'tcp', address: '127.0.0.1', port: 2, uid: 0, processes: [proc(2, 'printer', 0)] }),
      sock({ proto: 'tcp', address: '127.0.0.1', port: 3, uid: 0, processes: [proc(3, 'api', 0)] }),
    ], host, { rules: compileRules([]), types: builtinTable(), reserved: new Set(['vm', 'printer']) });
    expect(r.services.map((s) => s.name)).toEqual(['api', 'printer-u0', 'vm-u65534']);
  });
});

