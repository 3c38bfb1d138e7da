// Domain names on the wire (RFC 1035 §3.1, §4.1.4). Names in bindsight are
// presentation text without the trailing dot; bytes outside printable ASCII,
// '.' and '\' inside a label are written as RFC 1035 §5.1 escapes (\DDD, \.),
// so any wire name round-trips exactly, case included (RFC 4343).
import { MAX_LABEL, MAX_NAME_WIRE } from './constants.js';

/** A malformed or unencodable name or record; `reason` is a stable short code. */
export class WireError extends Error {
  constructor(readonly reason: string, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'WireError';
  }
}

/** Longest chain of pointers we follow; backwards-only pointers already end loops. */
const MAX_POINTERS = 127;

/**
 * Read a possibly compressed name at `offset`. Rejects (WireError) label
 * types 0x40/0x80 (RFC 6891 §5 made 0x40 obsolete, 0x80 is reserved),
 * pointers that do not point strictly backwards (this is what rules out
 * loops, as dns-packet and dnspython do), names over 255 bytes and reads
 * past the end of the message.
 */
export function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1; // first byte after the name at its original position
  let wireLen = 1; // the root byte
  let limit = offset; // a pointer must go below the start of what we read last
  let jumps = 0;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name-overrun');
    const len = buf[pos]!;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireError('name-overrun');
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= limit) throw new WireError('name-pointer-forward');
      if (++jumps > MAX_POINTERS) throw new WireError('name-pointer-loop');
      limit = target;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new WireError('name-label-type');
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw new WireError('name-overrun');
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE) throw new WireError('name-too-long');
    labels.push(labelText(buf, pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

function labelText(buf: Buffer, start: number, stop: number): string {
  let s = '';
  for (let i = start; i < stop; i++) {
    const b = buf[i]!;
    if (b === 0x2e || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + String(b).padStart(3, '0');
  }
  return s;
}

/**
 * Presentation text to wire labels (each a Buffer, no root). Throws
 * WireError for empty labels, labels over 63 bytes or names over 255.
 */
export function nameToLabels(name: string): Buffer[] {
  let text = name;
  if (text === '.' ) text = '';
  else if (text.endsWith('.') && !text.endsWith('\\.')) text = text.slice(0, -1);
  if (text === '') return [];
  const labels: Buffer[] = [];
  let cur: number[] = [];
  let total = 1;
  const finish = (): void => {
    if (cur.length === 0) throw new WireError('name-empty-label', name);
    if (cur.length > MAX_LABEL) throw new WireError('name-label-too-long', name);
    total += cur.length + 1;
    if (total > MAX_NAME_WIRE) throw new WireError('name-too-long', name);
    labels.push(Buffer.from(cur));
    cur = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) { finish(); continue; }
    if (c === 0x5c) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) throw new WireError('name-bad-escape', name);
        cur.push(v);
        i += 3;
      } else if (i + 1 < text.length) {
        cur.push(...Buffer.from(text[i + 1]!, 'utf8'));
        i += 1;
      } else {
        throw new WireError('name-bad-escape', name);
      }
      continue;
    }
    if (c < 0x80) cur.push(c);
    else {
      // Non-ASCII text (a zone file in UTF-8): its bytes, one code point at a time.
      const cp = text.codePointAt(i)!;
      cur.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      if (cp > 0xffff) i++;
    }
  }
  finish();
  return labels;
}
