// RFC 1035 §5 master files: text → records. Pure: $INCLUDE reads go through
// a callback that load.ts provides. Single records are parsed by rr-text.ts.
import { nameKey, type RR } from '../dns/records.js';
import {
  DEFAULT_TTL, ZoneParseError, fail, formatRR, nameToLabels, parseFields, parseName,
  parseOrigin, parseTtl, tokenize, unescapeBytes, type Entry,
} from './rr-text.js';

export interface ParsedZone {
  /** The zone's origin: the SOA owner, else the first $ORIGIN before any record, else the caller's. */
  origin: string;
  /** Every record except the SOA. */
  records: RR[];
  /** The file's SOA, if it gives one (at most one is allowed). */
  soa?: RR;
  /**
   * Owner names of records whose own fields were bad (only with
   * `badRecords: 'poison'`, and only when there were some): the rest of the
   * file loads, and these names answer SERVFAIL (issue 4).
   */
  broken?: string[];
  /** One BS_ZONE_PARSE error (file:line) per bad record behind `broken`. */
  recordErrors?: ZoneParseError[];
}

/** Reads an $INCLUDE target named relative to the including file. */
export type IncludeReader = (target: string, fromFile: string | undefined) => { file: string; text: string };

export interface ParseOptions {
  /** Shown in errors; its base name gives the origin when nothing else does. */
  file?: string;
  /** Origin when the file sets none; wins over the file name. */
  origin?: string;
  /** TTL when neither the record, $TTL nor an SOA gives one (default 3600). */
  defaultTtl?: number;
  /** Without it, $INCLUDE is refused. */
  include?: IncludeReader;
  /** Nesting limit for $INCLUDE (default 8): stops include loops. */
  maxIncludeDepth?: number;
  /**
   * A record line whose TTL, class, type or RDATA is bad (an invalid address,
   * an out-of-range number): 'reject' (default) fails the whole file;
   * 'poison' reports it in `recordErrors` and marks its owner `broken`.
   * Structural errors (directives, parentheses, quoting, owner names, class
   * mix, a second SOA, CNAME conflicts) always fail the file.
   */
  badRecords?: 'reject' | 'poison';
}

/** `svc.local.zone` → `svc.local`; undefined for other names. */
export function originFromFileName(file: string): string | undefined {
  const base = file.split(/[\\/]/).pop() ?? '';
  const m = /^(.+)\.zone$/.exec(base);
  return m ? parseOrigin(m[1]!) : undefined;
}

interface Parsed { rr: RR; line: number; file: string | undefined; ttlGiven: boolean }

interface State {
  opts: ParseOptions;
  origin: string | undefined;
  /** The first $ORIGIN of the top file, if it came before any record. */
  originDirective: string | undefined;
  ttl: number | undefined;
  owner: string | undefined;
  zoneClass: number | undefined;
  records: Parsed[];
  soa: Parsed | undefined;
  broken: Array<{ name: string; error: ZoneParseError }>;
}

export function parseZone(text: string, opts: ParseOptions = {}): ParsedZone {
  const initial = opts.origin !== undefined ? parseOrigin(opts.origin)
    : opts.file !== undefined ? originFromFileName(opts.file) : undefined;
  const st: State = {
    opts, origin: initial, originDirective: undefined, ttl: undefined, owner: undefined,
    zoneClass: undefined, records: [], soa: undefined, broken: [],
  };
  parseText(text, opts.file, 0, st);
  return finish(st, initial);
}

function parseText(text: string, file: string | undefined, depth: number, st: State): void {
  try {
    for (const e of tokenize(text.replace(/^\uFEFF/, ''))) {
      const first = e.tokens[0]!;
      if (!e.blankOwner && !first.quoted && first.text.startsWith('$')) directive(e, file, depth, st);
      else record(e, file, st);
    }
  } catch (err) {
    if (err instanceof ZoneParseError && err.file === undefined && file !== undefined) {
      throw new ZoneParseError(err.reason, err.line, file);
    }
    throw err;
  }
}

function directive(e: Entry, file: string | undefined, depth: number, st: State): void {
  const [d, ...args] = e.tokens;
  const name = d!.text.toUpperCase();
  const arity = (min: number, max: number) => {
    if (args.length < min) fail(`${name} needs an argument`, e.line);
    if (args.length > max) fail(`unexpected "${args[max]!.text}" after ${name}`, e.line);
  };
  switch (name) {
    case '$ORIGIN':
      arity(1, 1);
      st.origin = parseName(args[0]!, st.origin);
      if (depth === 0 && st.records.length === 0 && st.soa === undefined) st.originDirective ??= st.origin;
      return;
    case '$TTL':
      arity(1, 1);
      st.ttl = parseTtl(args[0]!);
      return;
    case '$INCLUDE': {
      arity(1, 2);
      if (!st.opts.include) fail('$INCLUDE is not available here (only when loading from a directory)', e.line);
      const limit = st.opts.maxIncludeDepth ?? 8;
      if (depth >= limit) fail(`$INCLUDE nested deeper than ${limit} (a loop?)`, e.line);
      const target = unescapeBytes(args[0]!.text, e.line).toString('utf8');
      const saved = { origin: st.origin, owner: st.owner };
      // RFC 1035 §5.1: the origin given applies to the included file only.
      if (args[1]) st.origin = parseName(args[1], st.origin);
      let inc: { file: string; text: string };
      try {
        inc = st.opts.include(target, file);
      } catch (err) {
        fail(`$INCLUDE "${target}": ${err instanceof Error ? err.message : String(err)}`, e.line);
      }
      parseText(inc.text, inc.file, depth + 1, st);
      st.origin = saved.origin;
      st.owner = saved.owner;
      return;
    }
    case '$GENERATE':
      fail('$GENERATE is not supported', e.line);
    default:
      fail(`unknown directive ${d!.text}`, e.line);
  }
}

function record(e: Entry, file: string | undefined, st: State): void {
  let owner: string;
  let rest = e.tokens;
  if (e.blankOwner) {
    if (st.owner === undefined) fail('no owner name, and no previous record to take it from', e.line);
    owner = st.owner;
  } else {
    owner = parseName(e.tokens[0]!, st.origin);
    rest = e.tokens.slice(1);
  }
  let f: ReturnType<typeof parseFields>;
  try {
    f = parseFields(rest, st.origin, e.line);
  } catch (err) {
    if (st.opts.badRecords !== 'poison' || !(err instanceof ZoneParseError)) throw err;
    // Only this owner is poisoned; a blank-owner line after it still belongs to it.
    st.broken.push({ name: owner, error: new ZoneParseError(err.reason, err.line, file) });
    st.owner = owner;
    return;
  }
  // RFC 1035 §5.2: all records in a master file have one class.
  const cls = f.class ?? st.zoneClass ?? 1;
  if (st.zoneClass !== undefined && cls !== st.zoneClass) fail('class differs from the earlier records', e.line);
  st.zoneClass = cls;
  const rr: RR = { name: owner, ttl: f.ttl ?? st.ttl ?? -1, data: f.data };
  if (cls !== 1) rr.class = cls;
  const p: Parsed = { rr, line: e.line, file, ttlGiven: f.ttl !== undefined || st.ttl !== undefined };
  if (f.data.type === 'SOA') {
    if (st.soa) fail(`second SOA (the first is at line ${st.soa.line})`, e.line);
    st.soa = p;
  } else {
    st.records.push(p);
  }
  st.owner = owner;
}

function placeFail(p: Parsed, reason: string): never {
  throw new ZoneParseError(reason, p.line, p.file);
}

function isUnder(name: string, origin: string): boolean {
  const n = nameToLabels(name).map((l) => nameKey(l.toString('latin1')));
  const o = nameToLabels(origin).map((l) => nameKey(l.toString('latin1')));
  return o.length <= n.length && o.every((l, i) => l === n[n.length - o.length + i]);
}

function finish(st: State, initial: string | undefined): ParsedZone {
  const origin = st.soa?.rr.name ?? st.originDirective ?? initial;
  if (origin === undefined) {
    throw new ZoneParseError('no origin: give $ORIGIN, an SOA, a file named ORIGIN.zone, or the origin option', 1, st.opts.file);
  }
  // $TTL, else the SOA minimum (RFC 2308 §4 notes BIND's use of it), else the caller's.
  const soaData = st.soa?.rr.data;
  const fallback = soaData?.type === 'SOA' ? Math.min(soaData.minimum, 0x7fffffff) : st.opts.defaultTtl ?? DEFAULT_TTL;
  const all = st.soa ? [st.soa, ...st.records] : st.records;
  for (const p of all) if (!p.ttlGiven) p.rr.ttl = fallback;
  if (st.soa) {
    for (const p of st.records) if (!isUnder(p.rr.name, origin)) placeFail(p, `"${p.rr.name}" is outside the zone ${origin}`);
  }
  // RFC 2181 §10.1: a CNAME owner has no other data.
  const byName = new Map<string, Parsed[]>();
  for (const p of all) {
    const k = nameKey(p.rr.name);
    byName.set(k, [...(byName.get(k) ?? []), p]);
  }
  for (const ps of byName.values()) {
    const cname = ps.find((p) => p.rr.data.type === 'CNAME');
    if (cname && ps.length > 1) placeFail(cname, `CNAME at "${cname.rr.name}" next to other data (RFC 2181 §10.1)`);
  }
  const zone: ParsedZone = { origin, records: st.records.map((p) => p.rr) };
  if (st.soa) zone.soa = st.soa.rr;
  if (st.broken.length) {
    const seen = new Set<string>();
    zone.broken = st.broken.map((b) => b.name).filter((n) => !seen.has(nameKey(n)) && !!seen.add(nameKey(n)));
    zone.recordErrors = st.broken.map((b) => b.error);
  }
  return zone;
}

/** Zone-file text for a parsed zone: $ORIGIN, the SOA, then each record. */
export function formatZone(z: ParsedZone): string {
  const lines = [`$ORIGIN ${z.origin === '' ? '.' : z.origin + '.'}`];
  if (z.soa) lines.push(formatRR(z.soa));
  for (const r of z.records) lines.push(formatRR(r));
  return lines.join('\n') + '\n';
}
