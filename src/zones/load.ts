// The I/O edge of static zones: read every `*.zone` file in a directory and
// parse it with zonefile.ts. A file that cannot be read or parsed becomes one
// BS_ZONE_PARSE error naming file:line and the reason; the other files still
// load, so the daemon logs it and goes on. With `badRecords: 'poison'` (the
// daemon's choice) a bad record line (bad address, out-of-range number) only
// poisons its owner name: it is reported in the zone's `recordErrors`, the
// rest of the file loads, and the name answers SERVFAIL (issue 4).
import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { BindsightError } from '../errors.js';
import { ZoneParseError } from './rr-text.js';
import { parseZone, type ParseOptions, type ParsedZone } from './zonefile.js';

export interface LoadedZone extends ParsedZone {
  file: string;
}

export interface LoadResult {
  zones: LoadedZone[];
  /** One per skipped file, each BS_ZONE_PARSE. */
  errors: BindsightError[];
}

export type LoadOptions = Omit<ParseOptions, 'file' | 'include' | 'origin'>;

/** A zone file is small; a bigger one is a mistake, not something to buffer. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text, or a ZoneParseError at the line of the first bad byte. */
function decode(buf: Buffer, file: string): string {
  try {
    return utf8.decode(buf);
  } catch {
    const loose = buf.toString('utf8');
    const at = loose.indexOf('\uFFFD');
    const line = loose.slice(0, Math.max(at, 0)).split('\n').length;
    throw new ZoneParseError('not valid UTF-8 (write other bytes as \\DDD)', line, file);
  }
}

function tooBig(size: number, file: string): void {
  if (size > MAX_FILE_BYTES) throw new ZoneParseError(`file is ${size} bytes, over ${MAX_FILE_BYTES}`, 1, file);
}

/**
 * $INCLUDE targets are relative to the including file's directory and must
 * stay inside the top-level file's directory: a zone file is no way to read
 * (and serve, line by line in errors) any file on the host.
 */
function includeReader(root: string) {
  return (target: string, fromFile: string | undefined): { file: string; text: string } => {
    const file = resolve(fromFile ? dirname(fromFile) : root, target);
    const rel = relative(root, file);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new ZoneParseError(`$INCLUDE ${target} is outside the zones directory ${root}`, 0, fromFile);
    }
    tooBig(statSync(file).size, file);
    return { file, text: decode(readFileSync(file), file) };
  };
}

function readError(file: string, err: unknown): ZoneParseError {
  const why = err instanceof Error ? err.message : String(err);
  return new ZoneParseError(`cannot read: ${why}`, 0, file);
}

/** Read and parse one zone file. Throws BindsightError BS_ZONE_PARSE. */
export async function loadZoneFile(file: string, opts: LoadOptions & { origin?: string } = {}): Promise<LoadedZone> {
  let text: string;
  try {
    tooBig((await stat(file)).size, file);
    text = decode(await readFile(file), file);
  } catch (err) {
    if (err instanceof BindsightError) throw err;
    throw readError(file, err);
  }
  try {
    return { file, ...parseZone(text, { ...opts, file, include: includeReader(dirname(resolve(file))) }) };
  } catch (err) {
    if (err instanceof BindsightError) throw err;
    // A parser bug must not take the daemon down either.
    throw new ZoneParseError(`internal error: ${err instanceof Error ? err.message : String(err)}`, 0, file);
  }
}

/**
 * Every `*.zone` file directly in `dir`, in name order. A missing directory
 * is no zones at all; an unreadable one is one error.
 */
export async function loadZoneDir(dir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { zones: [], errors: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') result.errors.push(readError(dir, err));
    return result;
  }
  for (const name of names.filter((n) => n.endsWith('.zone')).sort()) {
    const file = join(dir, name);
    try {
      if (!(await stat(file)).isFile()) continue;
      result.zones.push(await loadZoneFile(file, opts));
    } catch (err) {
      result.errors.push(err instanceof BindsightError ? err : readError(file, err));
    }
  }
  return result;
}
