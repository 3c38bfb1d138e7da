// The query decoder against hostile hex fixtures (test/fixtures/dns/*.hex).
import { describe, expect, it } from 'vitest';
import { loadHex } from '../../../test/helpers/dns-conformance.js';
import { decodeQuery } from './decode.js';
import { readName } from './name.js';

const verdicts: Array<[string, string, string]> = [
  // fixture, kind, reason
  ['short', 'ignore', 'short-header'],
  ['qr-set', 'ignore', 'qr-set'],
  ['opcode-status', 'error', 'opcode'],
  ['qdcount-0', 'error', 'qdcount-zero'],
  ['qdcount-2', 'error', 'qdcount-many'],
  ['question-truncated', 'error', 'question-truncated'],
  ['name-overrun', 'error', 'name-overrun'],
  ['label-type-40', 'error', 'name-label-type'],
  ['label-type-80', 'error', 'name-label-type'],
  ['name-too-long', 'error', 'name-too-long'],
  ['pointer-loop', 'error', 'name-pointer-forward'],
  ['pointer-forward', 'error', 'name-pointer-forward'],
  ['pointer-loop-two', 'error', 'name-pointer-forward'],
  ['two-opt', 'error', 'opt-duplicate'],
  ['opt-not-root', 'error', 'opt-name'],
  ['opt-bad-option', 'error', 'opt-option-overrun'],
  ['opt-in-answer', 'error', 'answer-section'],
  ['trailing-bytes', 'error', 'trailing-bytes'],
  ['rr-overrun', 'error', 'rr-truncated'],
  ['badvers', 'error', 'edns-version'],
  ['ancount-nonzero', 'error', 'answer-section'],
  ['nscount-nonzero', 'error', 'authority-section'],
  ['additional-not-opt', 'error', 'additional-not-opt'],
  ['tc-set', 'error', 'tc-set'],
  ['ecs-bad', 'error', 'opt-ecs'],
  ['cookie-bad', 'error', 'opt-cookie'],
  ['chaos-version-bind', 'error', 'class'],
  ['axfr', 'error', 'xfr'],
  ['ixfr', 'error', 'xfr'],
];

describe('decodeQuery on fixtures', () => {
  for (const [f, kind, reason] of verdicts) {
    it(`${f}: ${kind} ${reason}`, () => {
      const d = decodeQuery(loadHex(f));
      expect(d.kind).toBe(kind);
      expect((d as { reason: string }).reason).toBe(reason);
    });
  }

  it('FORMERR keeps the question only when it parsed', () => {
    const a = decodeQuery(loadHex('trailing-bytes'));
    expect(a.kind === 'error' && a.question?.name).toBe('www.conformance.test');
    const b = decodeQuery(loadHex('pointer-loop'));
    expect(b.kind === 'error' && b.question).toBeUndefined();
  });

  it('BADVERS and REFUSED carry the question; BADVERS keeps EDNS', () => {
    const d = decodeQuery(loadHex('badvers'));
    expect(d).toMatchObject({ kind: 'error', rcode: 16, malformed: false, question: { name: 'www.conformance.test', type: 1, class: 1 } });
    expect(d.kind === 'error' && d.edns?.version).toBe(1);
  });

  it('decodes good queries, keeping case and EDNS', () => {
    expect(decodeQuery(loadHex('query-a-mixedcase'))).toMatchObject({
      kind: 'query', header: { id: 0x1004, rd: true, opcode: 0 }, question: { name: 'WwW.CoNfOrMaNcE.TeSt', type: 1, class: 1 }, edns: null,
    });
    expect(decodeQuery(loadHex('query-edns-do'))).toMatchObject({ kind: 'query', edns: { udpSize: 4096, version: 0, do: true } });
    expect(decodeQuery(loadHex('query-edns-small'))).toMatchObject({ kind: 'query', edns: { udpSize: 512 } });
    expect(decodeQuery(loadHex('ecs-good'))).toMatchObject({ kind: 'query', edns: { udpSize: 4096 } });
  });

  it('never throws on any truncation of a good query', () => {
    const q = loadHex('query-edns-unknown');
    for (let n = 0; n <= q.length; n++) expect(() => decodeQuery(q.subarray(0, n))).not.toThrow();
  });
});

describe('readName', () => {
  it('follows backward pointers and escapes odd bytes', () => {
    const b = Buffer.from('03616263000264efc000', 'hex'); // abc. then "d\xef" -> abc
    expect(readName(b, 0)).toEqual({ name: 'abc', end: 5 });
    expect(readName(b, 5)).toEqual({ name: 'd\\239.abc', end: 10 });
    expect(readName(Buffer.from('03612e5c00', 'hex'), 0).name).toBe('a\\.\\\\');
  });

  it('accepts a name of exactly 255 bytes and rejects 256', () => {
    const labels = (lens: number[]): Buffer => Buffer.concat([...lens.map((l) => Buffer.concat([Buffer.from([l]), Buffer.alloc(l, 0x61)])), Buffer.from([0])]);
    expect(readName(labels([63, 63, 63, 61]), 0).end).toBe(255);
    expect(() => readName(labels([63, 63, 63, 62]), 0)).toThrow('name-too-long');
  });
});
