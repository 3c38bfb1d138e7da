import { describe, expect, it } from 'vitest';
import { isLabel, toLabel } from './label.js';

describe('toLabel', () => {
  it.each([
    ['api', 'api'],
    ['API', 'api'],
    ['kworker/0:1', 'kworker-0-1'],
    ['node:internal', 'node-internal'],
    ['my server', 'my-server'],
    ['  spaced  out  ', 'spaced-out'],
    ['python3.11', 'python3-11'],
    ['postgres: writer', 'postgres-writer'],
    ['café', 'caf'],
    ['__init__', 'init'],
    ['a--b', 'a-b'],
    ['-lead', 'lead'],
    ['x'.repeat(100), 'x'.repeat(63)],
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
  ])('%j → %j', (raw, label) => {
    expect(toLabel(raw)).toBe(label);
    expect(isLabel(toLabel(raw))).toBe(true);
  });

  it('gives names with no usable characters a stable hash label', () => {
    expect(toLabel('日本語')).toMatch(/^x-[0-9a-f]{8}$/);
    expect(toLabel('日本語')).toBe(toLabel('日本語'));
    expect(toLabel('日本語')).not.toBe(toLabel('中文'));
    expect(toLabel('')).toMatch(/^x-[0-9a-f]{8}$/);
    expect(toLabel('\x00\x01\n')).toMatch(/^x-[0-9a-f]{8}$/);
  });

  it('is total over random input', () => {
    for (let i = 0; i < 2000; i++) {
      const s = String.fromCharCode(...Array.from({ length: i % 40 }, (_, j) => (i * 7919 + j * 104729) % 0x2fff));
      expect(isLabel(toLabel(s))).toBe(true);
    }
  });
});
