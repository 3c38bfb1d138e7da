// The packet-in, packet-out core without sockets.
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { conformanceAnswer, loadHex } from '../../../test/helpers/dns-conformance.js';
import { respond, type RespondContext } from './respond.js';

const ctx = (o: Partial<RespondContext> = {}): RespondContext => ({
  client: { address: '192.0.2.1', port: 5353, transport: 'udp' }, answer: conformanceAnswer(), udpMaxSize: 1232, ...o,
});

describe('respond', () => {
  it('does not call the answer function for rejected queries', () => {
    let calls = 0;
    const c = ctx({ answer: (q, cl) => { calls++; return conformanceAnswer()(q, cl); } });
    for (const f of ['two-opt', 'badvers', 'chaos-version-bind', 'axfr', 'pointer-loop', 'opcode-status', 'qr-set']) respond(loadHex(f), c);
    expect(calls).toBe(0);
    respond(loadHex('query-a'), c);
    expect(calls).toBe(1);
  });

  it('reports malformed reasons but not for policy refusals', () => {
    expect(respond(loadHex('label-type-80'), ctx()).malformed).toBe('name-label-type');
    expect(respond(loadHex('axfr'), ctx()).malformed).toBeUndefined();
    expect(respond(loadHex('qr-set'), ctx())).toMatchObject({ reply: null, malformed: 'qr-set' });
  });

  it('gives the client size, capped by udpMaxSize, over UDP only', () => {
    const small = respond(loadHex('big-txt-edns'), ctx({ udpMaxSize: 800 }));
    expect(small.reply!.length).toBeLessThanOrEqual(800);
    expect(small.truncated).toBe(true);
    const opt = (dnsPacket.decode(small.reply!).additionals as Array<{ type: string; udpPayloadSize: number }>)[0]!;
    expect(opt.udpPayloadSize).toBe(800);
    const tcp = respond(loadHex('big-txt-edns'), ctx({ client: { address: '192.0.2.1', port: 1, transport: 'tcp' } }));
    expect(tcp.truncated).toBe(false);
  });

  it('slip replies are TC=1 with the question and no answers', () => {
    const o = respond(loadHex('query-edns'), ctx({ rateLimit: () => 'slip' }));
    const p = dnsPacket.decode(o.reply!);
    expect(o.rateLimited).toBe('slip');
    expect(p.flags! & 0x200).toBe(0x200);
    expect(p.questions).toHaveLength(1);
    expect(p.answers).toHaveLength(0);
    expect(respond(loadHex('query-edns'), ctx({ rateLimit: () => 'drop' })).reply).toBeNull();
  });

  it('turns a bad rcode from the answer function into SERVFAIL', () => {
    const o = respond(loadHex('query-a'), ctx({ answer: () => ({ rcode: 16, aa: true, answer: [], authority: [], additional: [] }) }));
    expect(o.rcode).toBe(2);
    expect(o.failure).toMatch(/needs EDNS/);
  });
});
