import { describe, expect, it } from 'vitest';
import { builtinTable, lookupType, parseServices, readEtcServices, typeTable } from './service-types.js';

describe('service types', () => {
  const table = typeTable(parseServices('http 80/tcp www\nhttp-alt 8080/tcp\nfoo_bar 1234/tcp\nsnmp 161/udp\n# x 9/tcp\nbogus\n'));
  it.each([
    ['tcp', 80, 'http'], ['tcp', 8080, 'http'], ['tcp', 8000, 'http'], ['tcp', 3000, 'http'],
    ['tcp', 443, 'https'], ['tcp', 8443, 'https'], ['tcp', 5432, 'postgresql'], ['tcp', 6379, 'redis'],
    ['tcp', 3306, 'mysql'], ['tcp', 27017, 'mongodb'], ['tcp', 53, 'dns'], ['udp', 53, 'dns'],
    ['udp', 161, 'snmp'], ['udp', 8080, undefined], ['tcp', 1234, undefined], ['tcp', 9999, undefined],
  ] as const)('%s/%d → %s', (proto, port, type) => {
    expect(lookupType(table, proto, port)).toBe(type);
  });

  it('the built-in table wins over /etc/services', () => {
    expect(builtinTable().get('tcp/8080')).toBe('http');
  });

  it('reads the real /etc/services, or nothing when it is missing', () => {
    expect(readEtcServices('/nonexistent').size).toBe(0);
    expect(() => readEtcServices()).not.toThrow();
  });
});
