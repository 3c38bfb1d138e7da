import { describe, expect, it } from 'vitest';
import { compress6, decodeAddress, parseProcNet } from './proc-net.js';

describe('/proc/net parsing', () => {
  it('decodes IPv4 and IPv6 addresses in host byte order', () => {
    expect(decodeAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeAddress('00000000')).toBe('0.0.0.0');
    expect(decodeAddress('00000000000000000000000000000000')).toBe('::');
    expect(decodeAddress('00000000000000000000000001000000')).toBe('::1');
    expect(decodeAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(decodeAddress('000000FD000000000000000002000000')).toBe('fd00::2');
    expect(decodeAddress('zz')).toBeNull();
  });

  it('compresses the longest zero run (RFC 5952)', () => {
    expect(compress6(['1', '0', '0', '2', '0', '0', '0', '3'])).toBe('1:0:0:2::3');
    expect(compress6(['1', '0', '2', '3', '4', '5', '6', '7'])).toBe('1:0:2:3:4:5:6:7');
  });

  it('parses rows and skips garbage', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0035 0200007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 777 1',
      'garbage line',
      '   2: XYZ:1F90 00000000:0000 0A 0 0 0 0 0 0',
    ].join('\n');
    expect(parseProcNet(text, 'tcp', 4)).toEqual([
      { proto: 'tcp', family: 4, address: '0.0.0.0', port: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: 10, uid: 0, inode: 12345 },
      { proto: 'tcp', family: 4, address: '127.0.0.1', port: 53, remoteAddress: '127.0.0.2', remotePort: 54321, state: 1, uid: 1000, inode: 777 },
    ]);
  });
});
