// Presentation format of single resource records (RFC 1035 §5.1, RFC 3597 §5):
// the tokenizer, names, character-strings, RDATA per type, and the reverse.
// Pure. zonefile.ts adds directives and owner/TTL/class inheritance on top.
//
// Names are text, as everywhere in bindsight: absolute, no trailing dot,
// case kept, and with presentation escapes kept where a label needs them
// (`a\.b.svc.local` is the two labels `a.b` and `svc` ... `local`). Escapes
// are canonicalized: `\065` becomes `A`, a byte outside printable ASCII
// becomes `\DDD`, and `. " \ ( ) ; @ $` are written `\X`. So two spellings of
// one name give one text, and nameToLabels() recovers the exact label bytes.
import { isIPv4, isIPv6 } from 'node:net';
import { BindsightError } from '../errors.js';
import { TYPE, type RR, type RRData, type RRTypeName } from '../dns/records.js';

/** TTL when neither the line, $TTL, the SOA nor the caller gives one. */
export const DEFAULT_TTL = 3600;
/** RFC 2181 §8: a TTL is 0..2^31-1. */
const MAX_TTL = 0x7fffffff;

/** BS_ZONE_PARSE with the place and the bare reason kept for callers. */
export class ZoneParseError extends BindsightError {
  readonly file: string | undefined;
  readonly line: number;
  readonly reason: string;
  constructor(reason: string, line: number, file?: string) {
    super('BS_ZONE_PARSE', `${file ?? '<text>'}:${line}: ${reason}`);
    this.reason = reason;
    this.line = line;
    this.file = file;
  }
}

export function fail(reason: string, line: number): never {
  throw new ZoneParseError(reason, line);
}

// ---- Tokenizer (RFC 1035 §5.1) ----------------------------------------

export interface Token {
  /** Raw text with escapes still in it; without the quotes if quoted. */
  text: string;
  quoted: boolean;
  line: number;
}

/** One logical line: parentheses join physical lines. */
export interface Entry {
  tokens: Token[];
  line: number;
  /** The line began with a blank: the owner is the previous one. */
  blankOwner: boolean;
}

const BLANK = ' \t\r';
const DELIM = ' \t\r\n;()"';

/** Length of one backslash escape starting at i (`\X` or `\DDD`). */
function escapeLength(text: string, i: number, line: number): number {
  const next = text.codePointAt(i + 1);
  if (next === undefined || next === 0x0a) fail('"\\" at end of line', line);
  if (/^\d{3}/.test(text.slice(i + 1, i + 4))) return 4;
  if (next >= 0x30 && next <= 0x39) fail(`bad escape "${text.slice(i, i + 4)}": \\DDD needs three digits`, line);
  return next > 0xffff ? 3 : 2;
}

export function tokenize(text: string): Entry[] {
  const entries: Entry[] = [];
  let cur: Entry | undefined;
  let paren = 0; // line of the open "(", 0 when none
  let line = 1;
  let lineStart = true;
  const end = () => { if (cur && cur.tokens.length) entries.push(cur); cur = undefined; };
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === '\n') {
      line++; i++;
      if (!paren) { end(); lineStart = true; }
      continue;
    }
    if (lineStart) {
      cur = { tokens: [], line, blankOwner: BLANK.includes(c) };
      lineStart = false;
    }
    if (BLANK.includes(c)) { i++; continue; }
    if (c === ';') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '(') { if (paren) fail('nested "("', line); paren = line; i++; continue; }
    if (c === ')') { if (!paren) fail('")" without "("', line); paren = 0; i++; continue; }
    const quoted = c === '"';
    let j = quoted ? i + 1 : i;
    for (;;) {
      if (j >= text.length || text[j] === '\n') {
        if (quoted) fail('unterminated quoted string', line);
        break;
      }
      const d = text[j]!;
      if (d === '\\') { j += escapeLength(text, j, line); continue; }
      if (quoted ? d === '"' : DELIM.includes(d)) break;
      j++;
    }
    cur!.tokens.push({ text: text.slice(quoted ? i + 1 : i, j), quoted, line });
    i = quoted ? j + 1 : j;
  }
  if (paren) fail('"(" never closed', paren);
  end();
  return entries;
}

/** Decode `\X` and `\DDD` escapes to bytes; other characters as UTF-8. */
export function unescapeBytes(raw: string, line: number): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length;) {
    const cp = raw.codePointAt(i)!;
    if (cp === 0x5c) {
      const n = escapeLength(raw, i, line);
      if (n === 4) {
        const v = Number(raw.slice(i + 1, i + 4));
        if (v > 255) fail(`bad escape "\\${raw.slice(i + 1, i + 4)}": over 255`, line);
        out.push(v);
      } else {
        out.push(...Buffer.from(String.fromCodePoint(raw.codePointAt(i + 1)!)));
      }
      i += n;
    } else {
      const s = String.fromCodePoint(cp);
      out.push(...Buffer.from(s));
      i += s.length;
    }
  }
  return Buffer.from(out);
}

// ---- Names ---------------------------------------------------------------

const NAME_SPECIAL = new Set([...'."\\();@$'].map((c) => c.charCodeAt(0)));

function labelText(label: Uint8Array): string {
  let s = '';
  for (const b of label) {
    if (NAME_SPECIAL.has(b)) s += '\\' + String.fromCharCode(b);
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + String(b).padStart(3, '0');
  }
  return s;
}

function labelsText(labels: Uint8Array[]): string {
  return labels.map(labelText).join('.');
}

/** Split presentation text at unescaped dots; returns labels and absoluteness. */
function splitLabels(raw: string, line: number): { labels: Buffer[]; absolute: boolean } {
  if (raw === '.') return { labels: [], absolute: true };
  const labels: Buffer[] = [];
  let start = 0;
  let i = 0;
  for (; i < raw.length;) {
    if (raw[i] === '\\') { i += escapeLength(raw, i, line); continue; }
    if (raw[i] === '.') {
      if (i === start) fail(`empty label in name "${raw}"`, line);
      labels.push(unescapeBytes(raw.slice(start, i), line));
      start = i + 1;
    }
    i++;
  }
  const absolute = start === raw.length && raw.length > 0;
  if (!absolute) labels.push(unescapeBytes(raw.slice(start), line));
  return { labels, absolute };
}

/** Labels of a name in bindsight's text form ('' is the root). */
export function nameToLabels(name: string): Buffer[] {
  return name === '' ? [] : splitLabels(name, 0).labels;
}

function checkName(labels: Uint8Array[], raw: string, line: number): void {
  let wire = 1;
  for (const l of labels) {
    if (l.length > 63) fail(`label over 63 bytes in name "${raw}" (RFC 1035 §2.3.4)`, line);
    wire += 1 + l.length;
  }
  if (wire > 255) fail(`name "${raw}" is over 255 bytes (RFC 1035 §2.3.4)`, line);
}

/**
 * A name token in bindsight's text form. `@` is the origin; a name without a
 * trailing dot is relative to it (RFC 1035 §5.1).
 */
export function parseName(tok: Token, origin: string | undefined): string {
  const raw = tok.text;
  if (raw === '') fail('empty name', tok.line);
  if (raw === '@' && !tok.quoted) {
    if (origin === undefined) fail('"@" but no origin is known', tok.line);
    return origin;
  }
  const { labels, absolute } = splitLabels(raw, tok.line);
  if (!absolute) {
    if (origin === undefined) fail(`relative name "${raw}" but no origin is known (add $ORIGIN)`, tok.line);
    labels.push(...nameToLabels(origin));
  }
  checkName(labels, raw, tok.line);
  return labelsText(labels);
}

/** Absolute presentation form with the trailing dot. */
export function formatName(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

// ---- Numbers, TTLs, classes, types ----------------------------------------

function parseUint(tok: Token | undefined, max: number, what: string, line: number): number {
  if (!tok) fail(`missing ${what}`, line);
  if (tok.quoted || !/^\d+$/.test(tok.text)) fail(`${what} "${tok.text}" is not a number`, tok.line);
  const v = Number(tok.text);
  if (v > max) fail(`${what} ${tok.text} out of range (0..${max})`, tok.line);
  return v;
}

const UNIT: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/** BIND TTL syntax: seconds, or units like 1h30m (case-insensitive). */
export function parseDuration(tok: Token, max: number, what: string): number {
  const t = tok.text;
  let v: number;
  if (/^\d+$/.test(t)) v = Number(t);
  else if (/^(\d+[wdhms])+$/i.test(t)) {
    v = 0;
    for (const [, n, u] of t.matchAll(/(\d+)([wdhms])/gi)) v += Number(n) * UNIT[u!.toLowerCase()]!;
  } else fail(`bad ${what} "${t}"`, tok.line);
  if (v > max) fail(`${what} "${t}" out of range (0..${max})`, tok.line);
  return v;
}

export function parseTtl(tok: Token): number {
  return parseDuration(tok, MAX_TTL, 'TTL');
}

const CLASS_BY_NAME: Record<string, number> = { IN: 1, CH: 3, HS: 4 };

/** A data class, or undefined when the token is not a class at all. */
function parseClass(tok: Token): number | undefined {
  if (tok.quoted) return undefined;
  const t = tok.text.toUpperCase();
  if (t in CLASS_BY_NAME) return CLASS_BY_NAME[t];
  const m = /^CLASS(\d+)$/.exec(t);
  if (!m && (t === 'NONE' || t === 'ANY')) fail(`class ${t} is not allowed in zone data`, tok.line);
  if (!m) return undefined;
  const v = Number(m[1]);
  if (v === 0 || v > 0xffff) fail(`class ${tok.text} out of range (1..65535)`, tok.line);
  if (v === 254 || v === 255) fail(`class ${tok.text} is not allowed in zone data`, tok.line);
  return v;
}

export function className(cls: number): string {
  for (const [k, v] of Object.entries(CLASS_BY_NAME)) if (v === cls) return k;
  return `CLASS${cls}`;
}

type Known = Exclude<RRTypeName, 'UNKNOWN'>;
const DATA_TYPES: readonly Known[] = ['A', 'AAAA', 'NS', 'CNAME', 'PTR', 'MX', 'SRV', 'TXT', 'HINFO', 'SOA'];
const KNOWN_BY_CODE = new Map<number, Known>(DATA_TYPES.map((t) => [TYPE[t], t]));
/** RFC 6895 §3.1: OPT and the QTYPE-only range never appear as data. */
const META = new Set([0, 41, 249, 250, 251, 252, 253, 254, 255]);

function parseType(tok: Token | undefined, line: number): number {
  if (!tok) fail('missing type', line);
  const t = tok.text.toUpperCase();
  const m = /^TYPE(\d+)$/.exec(t);
  let code: number;
  if (m) {
    code = Number(m[1]);
    if (code > 0xffff) fail(`type ${tok.text} out of range (0..65535)`, tok.line);
  } else if ((DATA_TYPES as readonly string[]).includes(t) && !tok.quoted) code = TYPE[t as Known];
  else if (/^\d/.test(t)) fail(`bad TTL "${tok.text}"`, tok.line);
  else fail(`unknown type "${tok.text}" (write other types as TYPEnnn \\# len hex, RFC 3597)`, tok.line);
  if (META.has(code)) fail(`type ${tok.text} is not allowed in zone data`, tok.line);
  return code;
}

// ---- Character-strings ------------------------------------------------------

/** RFC 1035 §3.3: a character-string is at most 255 bytes. */
function parseCharString(tok: Token): Buffer {
  const b = unescapeBytes(tok.text, tok.line);
  if (b.length > 255) fail(`character-string is ${b.length} bytes, over 255 (RFC 1035 §3.3)`, tok.line);
  return b;
}

function formatCharString(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s + '"';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function utf8Text(b: Uint8Array, what: string, line: number): string {
  try { return utf8.decode(b); } catch { return fail(`${what} is not valid UTF-8`, line); }
}

// ---- Addresses ---------------------------------------------------------------

/** RFC 5952 text, via the WHATWG URL serializer (lowercase, longest :: run). */
function canonicalIPv6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

function parseAddress(type: 'A' | 'AAAA', tok: Token): string {
  if (type === 'A') {
    if (tok.quoted || !isIPv4(tok.text)) fail(`bad IPv4 address "${tok.text}"`, tok.line);
    return tok.text;
  }
  if (tok.quoted || tok.text.includes('%') || !isIPv6(tok.text)) fail(`bad IPv6 address "${tok.text}"`, tok.line);
  return canonicalIPv6(tok.text);
}

// ---- RDATA ---------------------------------------------------------------------

const FIELDS: Record<Known, readonly string[]> = {
  A: ['address'], AAAA: ['address'], NS: ['target'], CNAME: ['target'], PTR: ['target'],
  MX: ['preference', 'exchange'], SRV: ['priority', 'weight', 'port', 'target'],
  TXT: ['text'], HINFO: ['cpu', 'os'],
  SOA: ['mname', 'rname', 'serial', 'refresh', 'retry', 'expire', 'minimum'],
};

export function parseRdata(typeCode: number, toks: Token[], origin: string | undefined, line: number): RRData {
  const type = KNOWN_BY_CODE.get(typeCode);
  const label = type ?? `TYPE${typeCode}`;
  if (toks[0] && !toks[0].quoted && toks[0].text === '\\#') return parseGeneric(typeCode, type, toks, line);
  if (!type) fail(`${label} needs RFC 3597 generic data: \\# length hex`, line);
  const names = FIELDS[type];
  if (toks.length < names.length) fail(`missing ${names[toks.length]} in ${type} record`, line);
  if (type !== 'TXT' && toks.length > names.length) {
    fail(`unexpected "${toks[names.length]!.text}" after ${type} data`, toks[names.length]!.line);
  }
  const name = (i: number) => parseName(toks[i]!, origin);
  const u16 = (i: number) => parseUint(toks[i], 0xffff, `${type} ${names[i]}`, line);
  switch (type) {
    case 'A': case 'AAAA': return { type, address: parseAddress(type, toks[0]!) };
    case 'NS': case 'CNAME': case 'PTR': return { type, target: name(0) };
    case 'MX': return { type, preference: u16(0), exchange: name(1) };
    case 'SRV': return { type, priority: u16(0), weight: u16(1), port: u16(2), target: name(3) };
    case 'TXT': return { type, strings: toks.map(parseCharString) };
    case 'HINFO': {
      const [cpu, os] = [0, 1].map((i) => utf8Text(parseCharString(toks[i]!), `HINFO ${names[i]}`, toks[i]!.line));
      return { type, cpu: cpu!, os: os! };
    }
    case 'SOA': {
      const timer = (i: number) => parseDuration(toks[i]!, 0xffffffff, `SOA ${names[i]}`);
      return {
        type, mname: name(0), rname: name(1),
        serial: parseUint(toks[2], 0xffffffff, 'SOA serial', line),
        refresh: timer(3), retry: timer(4), expire: timer(5), minimum: timer(6),
      };
    }
  }
}

/** RFC 3597 §5: `\# length hex...`; known types are decoded like their own form. */
function parseGeneric(typeCode: number, type: Known | undefined, toks: Token[], line: number): RRData {
  const len = parseUint(toks[1], 0xffff, 'generic data length', line);
  const hex = toks.slice(2).map((t) => t.text).join('');
  if (!/^[0-9a-f]*$/i.test(hex) || hex.length % 2) fail(`bad hex "${hex}" in generic data`, toks[2]?.line ?? line);
  const rdata = Buffer.from(hex, 'hex');
  if (rdata.length !== len) fail(`generic data is ${rdata.length} bytes but length says ${len}`, line);
  return type ? decodeKnown(type, rdata, line) : { type: 'UNKNOWN', typeCode, rdata };
}

/** Wire RDATA of a known type (uncompressed names, RFC 3597 §4). */
function decodeKnown(type: Known, b: Buffer, line: number): RRData {
  let p = 0;
  const bad = (why: string): never => fail(`generic ${type} data: ${why}`, line);
  const need = (n: number) => { if (p + n > b.length) bad('too short'); };
  const u = (n: 1 | 2 | 4) => { need(n); const v = b.readUIntBE(p, n); p += n; return v; };
  const name = () => {
    const labels: Buffer[] = [];
    for (;;) {
      const n = u(1);
      if (n === 0) break;
      if (n > 63) bad('compressed or bad label');
      need(n); labels.push(b.subarray(p, p + n)); p += n;
    }
    checkName(labels, labelsText(labels), line);
    return labelsText(labels);
  };
  const str = () => { const n = u(1); need(n); const s = b.subarray(p, p + n); p += n; return Buffer.from(s); };
  let d: RRData;
  switch (type) {
    case 'A': need(4); d = { type, address: [...b.subarray(0, 4)].join('.') }; p = 4; break;
    case 'AAAA': {
      need(16);
      const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
      d = { type, address: canonicalIPv6(groups.join(':')) }; p = 16; break;
    }
    case 'NS': case 'CNAME': case 'PTR': d = { type, target: name() }; break;
    case 'MX': d = { type, preference: u(2), exchange: name() }; break;
    case 'SRV': d = { type, priority: u(2), weight: u(2), port: u(2), target: name() }; break;
    case 'TXT': {
      const strings: Buffer[] = [];
      do strings.push(str()); while (p < b.length);
      d = { type, strings }; break;
    }
    case 'HINFO': d = { type, cpu: utf8Text(str(), 'HINFO cpu', line), os: utf8Text(str(), 'HINFO os', line) }; break;
    case 'SOA': d = {
      type, mname: name(), rname: name(), serial: u(4), refresh: u(4), retry: u(4), expire: u(4), minimum: u(4),
    }; break;
  }
  if (p !== b.length) bad(`${b.length - p} bytes left over`);
  return d;
}

export function formatRdata(d: RRData): string {
  switch (d.type) {
    case 'A': case 'AAAA': return d.address;
    case 'NS': case 'CNAME': case 'PTR': return formatName(d.target);
    case 'MX': return `${d.preference} ${formatName(d.exchange)}`;
    case 'SRV': return `${d.priority} ${d.weight} ${d.port} ${formatName(d.target)}`;
    case 'TXT': return d.strings.map(formatCharString).join(' ');
    case 'HINFO': return `${formatCharString(Buffer.from(d.cpu))} ${formatCharString(Buffer.from(d.os))}`;
    case 'SOA': return `${formatName(d.mname)} ${formatName(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'UNKNOWN': return `\\# ${d.rdata.length}${d.rdata.length ? ' ' + d.rdata.toString('hex') : ''}`;
  }
}

export function typeMnemonic(d: RRData): string {
  return d.type === 'UNKNOWN' ? `TYPE${d.typeCode}` : d.type;
}

/** One RR as a zone-file line with absolute names: `a.b. 5 IN A 10.0.0.1`. */
export function formatRR(rr: RR): string {
  return `${formatName(rr.name)} ${rr.ttl} ${className(rr.class ?? 1)} ${typeMnemonic(rr.data)} ${formatRdata(rr.data)}`;
}

// ---- One record's fields -------------------------------------------------------

export interface Fields {
  ttl?: number;
  class?: number;
  typeCode: number;
  data: RRData;
}

/**
 * The part of an entry after the owner: TTL and class in either order, both
 * optional (RFC 1035 §5.1), then the type and its data.
 */
export function parseFields(toks: Token[], origin: string | undefined, line: number): Fields {
  let ttl: number | undefined;
  let cls: number | undefined;
  let i = 0;
  for (; i < 2 && toks[i]; i++) {
    const t = toks[i]!;
    if (!t.quoted && /^\d/.test(t.text)) {
      if (ttl !== undefined) fail(`second TTL "${t.text}"`, t.line);
      ttl = parseTtl(t);
      continue;
    }
    const c = parseClass(t);
    if (c === undefined) break;
    if (cls !== undefined) fail(`second class "${t.text}"`, t.line);
    cls = c;
  }
  const typeCode = parseType(toks[i], line);
  const data = parseRdata(typeCode, toks.slice(i + 1), origin, line);
  return { ttl, class: cls, typeCode, data };
}

export interface RROptions {
  /** Origin for relative names and `@` (absolute; trailing dot optional). */
  origin?: string;
  /** TTL when the line gives none (default DEFAULT_TTL). */
  ttl?: number;
}

/** Parse an origin given by a caller ('svc.local', 'svc.local.' or '.'). */
export function parseOrigin(origin: string): string {
  const abs = origin.endsWith('.') && !origin.endsWith('\\.') ? origin : `${origin}.`;
  return parseName({ text: abs, quoted: false, line: 0 }, undefined);
}

/**
 * Parse ONE record written as a zone-file line (owner required; parentheses
 * may span lines), e.g. `rr('api.svc.local. 5 IN SRV 0 0 8080 api.svc.local.')`.
 * Throws ZoneParseError (BS_ZONE_PARSE).
 */
export function parseRR(text: string, opts: RROptions = {}): RR {
  const entries = tokenize(text);
  if (entries.length !== 1) fail(`expected one record, got ${entries.length}`, entries[1]?.line ?? 1);
  const e = entries[0]!;
  if (e.blankOwner) fail('missing owner name', e.line);
  const origin = opts.origin === undefined ? undefined : parseOrigin(opts.origin);
  const first = e.tokens[0]!;
  if (!first.quoted && first.text.startsWith('$')) fail(`directive ${first.text} in a single record`, e.line);
  const f = parseFields(e.tokens.slice(1), origin, e.line);
  const rr: RR = { name: parseName(first, origin), ttl: f.ttl ?? opts.ttl ?? DEFAULT_TTL, data: f.data };
  if (f.class !== undefined && f.class !== 1) rr.class = f.class;
  return rr;
}

/** Short alias for tests written as zone-file lines, CoreDNS style. */
export const rr = parseRR;
