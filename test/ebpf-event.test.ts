// Pure parts of the ebpf source: the bs_event decoder (bpf/bindsight.h layout),
// the event -> socket-table rules and the cgroup2 mount lookup. No kernel.
import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeEvents, EVENT_SIZE, formatAddress } from '../src/discovery/bpf-event.js';
import { ConnectionTable, effectOf, isTracked, recordFromEvent } from '../src/discovery/ebpf-state.js';
import { findCgroup2Mount } from '../src/discovery/ebpf.js';

function record(o: { transition: number; hook: number; family?: number; proto?: number; port?: number;
  addr?: number[]; flags?: number; cookie?: bigint; comm?: string }): Buffer {
  const b = Buffer.alloc(EVENT_SIZE);
  b.writeBigUInt64LE(123456789n, 0);
  b.writeBigUInt64LE(o.cookie ?? 4242n, 8);
  b.writeBigUInt64LE(7n, 16);
  b.writeBigUInt64LE(3n, 24);
  b.writeUInt32LE(100, 32);
  b.writeUInt32LE(101, 36);
  b.writeUInt32LE(1000, 40);
  b.writeUInt32LE(4026531840, 44);
  b.writeUInt16LE(o.family ?? 2, 48);
  b.writeUInt16LE(o.port ?? 8080, 50);
  b.writeUInt16LE(0, 52);
  b[56] = o.proto ?? 6;
  b[57] = o.transition;
  b[58] = o.hook;
  b[59] = o.flags ?? 0;
  b[60] = 10;
  Buffer.from(o.addr ?? [127, 0, 0, 1]).copy(b, 64);
  Buffer.from(o.comm ?? 'python3').copy(b, 96);
  return b;
}

describe('bs_event decoding', () => {
  it('decodes every field of an IPv4 listen event', () => {
    const e = decodeEvent(record({ transition: 2, hook: 3 }));
    expect(e).toMatchObject({
      tsNs: 123456789n, cookie: '4242', cgroupId: 7n, netnsCookie: '3', tgid: 100, tid: 101, uid: 1000,
      netns: 4026531840, family: 4, proto: 'tcp', port: 8080, address: '127.0.0.1',
      transition: 'listen', hook: 'set_state', noTask: false, state: 10, comm: 'python3',
    });
    expect(e?.v6only).toBeUndefined();
  });

  it('decodes IPv6 addresses like inet_ntop and the v6only flags', () => {
    const addr = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    const e = decodeEvent(record({ transition: 1, hook: 4, family: 10, proto: 17, addr, flags: 3 }));
    expect(e).toMatchObject({ family: 6, proto: 'udp', address: 'fd00::2', v6only: true, transition: 'bind' });
    expect(formatAddress(6, new Uint8Array(16))).toBe('::');
    expect(formatAddress(6, Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]))).toBe('::ffff:10.0.0.1');
  });

  it('counts short and nonsensical records as malformed instead of throwing', () => {
    const good = record({ transition: 2, hook: 3 });
    const bad = record({ transition: 99, hook: 3 });
    const badFamily = record({ transition: 2, hook: 3, family: 1 });
    const r = decodeEvents(Buffer.concat([good, bad, badFamily, good.subarray(0, 50)]));
    expect(r.events).toHaveLength(1);
    expect(r.malformed).toBe(3);
    expect(decodeEvent(Buffer.alloc(10))).toBeNull();
  });
});

describe('event rules', () => {
  const ev = (t: number, proto = 6, cookie = 5n) => decodeEvent(record({ transition: t, hook: 2, proto, cookie }))!;

  it('maps transitions to table effects', () => {
    expect(effectOf(ev(2))).toBe('add');
    expect(effectOf(ev(1))).toBe('ignore'); // TCP bind: not yet a service
    expect(effectOf(ev(1, 17))).toBe('add');
    expect(effectOf(ev(3))).toBe('remove');
    expect(effectOf(ev(4, 17))).toBe('remove');
    expect(effectOf(ev(5))).toBe('connection');
    expect(effectOf(ev(2, 6, 0n))).toBe('ignore'); // no cookie, no identity
  });

  it('builds a complete SocketRecord and tracks only listeners and unconnected UDP', () => {
    const s = recordFromEvent(ev(2), []);
    expect(s).toMatchObject({ proto: 'tcp', state: 10, remoteAddress: '0.0.0.0', remotePort: 0, cookie: '5' });
    expect(isTracked(s)).toBe(true);
    expect(isTracked({ ...s, state: 1 })).toBe(false);
    expect(isTracked({ ...s, proto: 'udp', state: 1, remotePort: 53 })).toBe(false);
  });

  it('counts accepted connections on the listener they arrived at, peers capped', () => {
    const t = new ConnectionTable();
    const listener = recordFromEvent(ev(2), []);
    const sockets = new Map([['5', listener]]);
    const acc = { ...ev(5), netns: 0, peerAddress: '10.0.0.9', cookie: '77' };
    t.apply(acc, sockets);
    t.apply({ ...acc, peerAddress: '10.0.0.8' }, sockets);
    t.apply({ ...acc, port: 9999 }, sockets);
    expect(t.snapshot().get('5')).toEqual({ accepted: 2, initiated: 0, peers: ['10.0.0.9', '10.0.0.8'] });
  });
});

describe('findCgroup2Mount', () => {
  it('finds the cgroup2 mount of a hybrid hierarchy', () => {
    const text = [
      '30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '42 31 0:39 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
    ].join('\n');
    expect(findCgroup2Mount(text)).toBe('/sys/fs/cgroup/unified');
    expect(findCgroup2Mount('garbage\n\n - ')).toBeNull();
  });
});
