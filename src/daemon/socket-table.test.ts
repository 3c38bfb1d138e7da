import { describe, expect, it } from 'vitest';
import { SocketTable } from './socket-table.js';
import { isService, type SocketRecord } from '../discovery/socket.js';

const eph = { low: 32768, high: 60999 };
const sock = (p: Partial<SocketRecord>): SocketRecord => ({
  proto: 'tcp', family: 4, address: '127.0.0.1', port: 8080, remoteAddress: '0.0.0.0', remotePort: 0,
  state: 10, inode: 1, uid: 0, netns: 1, processes: [], cookie: '1', ...p,
});

describe('SocketTable', () => {
  const table = () => new SocketTable((s) => isService(s, eph));
  const listener = sock({});
  const client = sock({ proto: 'udp', address: '0.0.0.0', port: 45000, state: 7, cookie: '2' });

  it('keeps services, drops client sockets at the door', () => {
    const t = table();
    expect(t.relevant({ kind: 'add', sockets: [client] })).toBe(false);
    expect(t.apply({ kind: 'add', sockets: [client] })).toBe(false);
    expect(t.apply({ kind: 'add', sockets: [listener] })).toBe(true);
    expect(t.apply({ kind: 'add', sockets: [listener] })).toBe(false); // no change
    expect(t.all()).toEqual([listener]);
  });

  it('removes by identity, even when the closing socket no longer looks like a service', () => {
    const t = table();
    t.apply({ kind: 'add', sockets: [listener] });
    const closing = { ...listener, state: 7 };
    expect(t.relevant({ kind: 'remove', sockets: [closing] })).toBe(true);
    expect(t.apply({ kind: 'remove', sockets: [closing] })).toBe(true);
    expect(t.all()).toEqual([]);
    expect(t.relevant({ kind: 'remove', sockets: [client] })).toBe(false);
  });

  it('snapshots replace the table and report whether anything changed', () => {
    const t = table();
    expect(t.apply({ kind: 'snapshot', sockets: [listener, client] })).toBe(true);
    expect(t.all()).toEqual([listener]);
    expect(t.apply({ kind: 'snapshot', sockets: [client, listener] })).toBe(false);
    expect(t.apply({ kind: 'snapshot', sockets: [] })).toBe(true);
  });
});
