// Port → DNS-SD service type (docs/naming.md, "Service types"). Order of
// precedence: config rules, then this built-in table, then /etc/services.
// Type names follow RFC 6335 §5.1: 1-15 chars, letters, digits, hyphens.
import { readFileSync } from 'node:fs';
import type { Proto } from '../discovery/socket.js';

type Entry = readonly [type: string, ports: readonly number[], protos?: readonly Proto[]];

/** The built-in table. Without protos an entry is TCP only. */
const BUILTIN: readonly Entry[] = [
  ['http', [80, 8080, 8000, 3000, 8008, 8888]],
  ['https', [443, 8443]],
  ['ssh', [22]],
  ['smtp', [25, 587]],
  ['dns', [53], ['tcp', 'udp']],
  ['ntp', [123], ['udp']],
  ['imap', [143]],
  ['imaps', [993]],
  ['ldap', [389]],
  ['ipp', [631]],
  ['rsync', [873]],
  ['mysql', [3306]],
  ['rdp', [3389]],
  ['postgresql', [5432]],
  ['amqp', [5672]],
  ['vnc', [5900]],
  ['redis', [6379]],
  ['mqtt', [1883]],
  ['zookeeper', [2181]],
  ['etcd', [2379]],
  ['nats', [4222]],
  ['prometheus', [9090]],
  ['kafka', [9092]],
  ['elasticsearch', [9200]],
  ['memcached', [11211]],
  ['mongodb', [27017]],
  ['git', [9418]],
  ['syslog', [514], ['udp']],
];

const VALID_TYPE = /^(?=.{1,15}$)[a-z0-9]+(-[a-z0-9]+)*$/;

export type TypeTable = ReadonlyMap<string, string>; // key `${proto}/${port}`

const key = (proto: Proto, port: number) => `${proto}/${port}`;

export function builtinTable(): Map<string, string> {
  const m = new Map<string, string>();
  for (const [type, ports, protos = ['tcp'] as const] of BUILTIN) {
    for (const port of ports) for (const proto of protos) m.set(key(proto, port), type);
  }
  return m;
}

/** Parses services(5) text. Names that are not valid DNS-SD types are skipped. */
export function parseServices(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, portProto] = line.replace(/#.*/, '').trim().split(/\s+/);
    const match = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? '');
    if (!name || !match) continue;
    const type = name.toLowerCase();
    const k = key(match[2] as Proto, Number(match[1]));
    if (VALID_TYPE.test(type) && !m.has(k)) m.set(k, type);
  }
  return m;
}

export function readEtcServices(path = '/etc/services'): Map<string, string> {
  try {
    return parseServices(readFileSync(path, 'utf8'));
  } catch {
    return new Map(); // a host without /etc/services just has fewer types
  }
}

/** Built-in entries win over /etc/services. */
export function typeTable(etcServices: ReadonlyMap<string, string>): TypeTable {
  const m = new Map(etcServices);
  for (const [k, v] of builtinTable()) m.set(k, v);
  return m;
}

export function lookupType(table: TypeTable, proto: Proto, port: number): string | undefined {
  return table.get(key(proto, port));
}

export function isValidType(type: string): boolean {
  return VALID_TYPE.test(type);
}
