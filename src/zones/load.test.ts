import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nameKey, type RR } from '../dns/records.js';
import { formatRR } from './rr-text.js';
import { loadZoneDir, loadZoneFile } from './load.js';
import { formatZone, parseZone } from './zonefile.js';

const EXAMPLE = resolve(import.meta.dirname, '../../zones/example.zone');
const tmp = mkdtempSync(join(tmpdir(), 'bindsight-zones-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dir(name: string, files: Record<string, string | Buffer>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

/** Order-free comparison key, names compared case-insensitively (RFC 4343). */
const sorted = (rrs: RR[]) => rrs.map((r) => nameKey(formatRR(r))).sort();

describe('loadZoneDir', () => {
  it('loads every *.zone file in name order and skips a broken one with file:line', async () => {
    const d = dir('mixed', {
      'b.lan.zone': 'host A 192.0.2.2\n',
      'a.lan.zone': '$TTL 5\nhost A 192.0.2.1\n',
      'broken.zone': 'ok A 192.0.2.1\n\nbad AAAA 2001:db8::zz\n',
      'notes.txt': 'not a zone\n',
    });
    mkdirSync(join(d, 'sub.zone'));
    const { zones, errors } = await loadZoneDir(d);
    expect(zones.map((z) => [z.file, z.origin])).toEqual([[join(d, 'a.lan.zone'), 'a.lan'], [join(d, 'b.lan.zone'), 'b.lan']]);
    expect(zones[0]!.records).toEqual([{ name: 'host.a.lan', ttl: 5, data: { type: 'A', address: '192.0.2.1' } }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('BS_ZONE_PARSE');
    expect(errors[0]!.message).toBe(`zone file could not be parsed: ${join(d, 'broken.zone')}:3: bad IPv6 address "2001:db8::zz"`);
  });

  it('a missing directory is no zones and no error', async () => {
    expect(await loadZoneDir(join(tmp, 'nope'))).toEqual({ zones: [], errors: [] });
  });

  it('invalid UTF-8 is an error at its line, not a crash', async () => {
    const d = dir('utf8', { 'x.zone': Buffer.concat([Buffer.from('a A 192.0.2.1\nb TXT "'), Buffer.from([0xff]), Buffer.from('"\n')]) });
    const { errors } = await loadZoneDir(d);
    expect(errors[0]!.message).toContain('x.zone:2: not valid UTF-8');
  });

  it('$INCLUDE is relative to the including file; a missing target is an error at its line', async () => {
    const d = dir('inc', {
      'svc.local.zone': 'a A 192.0.2.1\n$INCLUDE parts/more.inc\n',
      'gone.zone': '\n$INCLUDE nothing.inc\n',
    });
    mkdirSync(join(d, 'parts'));
    writeFileSync(join(d, 'parts/more.inc'), 'b A 192.0.2.2\n$INCLUDE "even more.inc" deep.svc.local.\n');
    writeFileSync(join(d, 'parts/even more.inc'), 'c A 192.0.2.3\n');
    const { zones, errors } = await loadZoneDir(d);
    expect(zones.map((z) => z.records.map((r) => r.name))).toEqual([['a.svc.local', 'b.svc.local', 'c.deep.svc.local']]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/gone\.zone:2: \$INCLUDE "nothing\.inc": ENOENT/),
    ]);
  });

  it('$INCLUDE may not leave the zones directory', async () => {
    const dir = join(tmp, 'jail');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'out.zone'), '$ORIGIN out.test.\n$INCLUDE /etc/hostname\n');
    writeFileSync(join(dir, 'up.zone'), '$ORIGIN up.test.\n$INCLUDE ../../etc/passwd\n');
    writeFileSync(join(dir, 'in.zone'), '$ORIGIN in.test.\n$INCLUDE sub/x.inc\n');
    writeFileSync(join(dir, 'sub', 'x.inc'), 'x 60 IN A 192.0.2.1\n');
    const r = await loadZoneDir(dir);
    expect(r.zones.map((z) => z.origin)).toEqual(['in.test']);
    expect(r.errors.map((e) => e.message).sort()).toEqual([
      expect.stringMatching(/out\.zone:2: .*\/etc\/hostname is outside the zones directory/),
      expect.stringMatching(/up\.zone:2: .*outside the zones directory/),
    ]);
  });

  it('an include loop is stopped', async () => {
    const d = dir('loop', { 'l.zone': '$INCLUDE l.zone\n' });
    const { errors } = await loadZoneDir(d);
    expect(errors[0]!.message).toMatch(/l\.zone:1: \$INCLUDE nested deeper than 8/);
  });
});

describe('zones/example.zone', () => {
  it('parses: svc.local, no SOA, the records a user would add', async () => {
    const zone = await loadZoneFile(EXAMPLE);
    expect(zone.origin).toBe('svc.local');
    expect(zone.soa).toBeUndefined();
    const types = new Set(zone.records.map((r) => r.data.type));
    for (const t of ['A', 'AAAA', 'CNAME', 'TXT', 'SRV', 'MX']) expect(types).toContain(t);
  });

  it('round trip: parse → format → parse is equal', async () => {
    const zone = await loadZoneFile(EXAMPLE);
    const { file: _f, ...plain } = zone;
    expect(parseZone(formatZone(plain))).toEqual(plain);
  });
});

// Real peers: the daemon adds the SOA and NS, so the check wraps the example
// with them, as bindsight would serve it.
function wrapped(): string {
  const f = join(tmp, 'wrapped.zone');
  // $INCLUDE stays inside the zone's directory: include a copy.
  writeFileSync(join(tmp, 'example.inc'), readFileSync(EXAMPLE));
  writeFileSync(f, [
    '$ORIGIN svc.local.', '$TTL 3600',
    '@ IN SOA ns.svc.local. hostmaster.svc.local. 1 3600 600 86400 60',
    '@ IN NS ns.svc.local.', 'ns IN A 127.0.0.1',
    `$INCLUDE ${join(tmp, 'example.inc')}`, '',
  ].join('\n'));
  return f;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const named = has('named-checkzone');
const nsd = has('nsd-checkzone');
if (!named) console.log('skip: named-checkzone not installed (apt-get install bind9-utils)');
if (!nsd) console.log('skip: nsd-checkzone not installed (apt-get install nsd)');

describe('a real peer agrees that example.zone is valid', () => {
  it.skipIf(!named)('named-checkzone accepts it, and its canonical dump parses to our records', async () => {
    const f = wrapped();
    const out = execFileSync('named-checkzone', ['-i', 'local', 'svc.local', f], { encoding: 'utf8' });
    expect(out).toMatch(/^OK$/m);
    const dump = execFileSync('named-checkzone', ['-q', '-D', '-o', '-', 'svc.local', f], { encoding: 'utf8' });
    const theirs = parseZone(dump, { origin: 'svc.local' });
    const ours = (await loadZoneFile(f));
    expect(theirs.soa).toEqual(ours.soa);
    expect(sorted(theirs.records)).toEqual(sorted(ours.records));
  });

  it.skipIf(!nsd)('nsd-checkzone accepts it', () => {
    const out = execFileSync('nsd-checkzone', ['svc.local', wrapped()], { encoding: 'utf8' });
    expect(out).toMatch(/zone svc\.local is ok/);
  });

  it.skipIf(!named)('named-checkzone rejects what we reject (a bad address)', () => {
    const f = join(tmp, 'bad.zone');
    writeFileSync(f, readFileSync(wrapped(), 'utf8') + 'x IN A 192.0.2.300\n');
    expect(spawnSync('named-checkzone', ['svc.local', f]).status).not.toBe(0);
    expect(() => parseZone(readFileSync(f, 'utf8').replace(/\$INCLUDE.*\n/, ''), { origin: 'svc.local' }))
      .toThrow(/:6: bad IPv4 address/);
  });
});

describe("loadZoneDir with badRecords: 'poison'", () => {
  it('keeps the file, lists the bad owner, and reports the line as BS_ZONE_PARSE', async () => {
    const d = dir('poison', { 'p.lan.zone': 'ok A 192.0.2.1\n\nbad AAAA 2001:db8::zz\nalso A 192.0.2.2\n' });
    const { zones, errors } = await loadZoneDir(d, { badRecords: 'poison' });
    expect(errors).toEqual([]);
    expect(zones[0]!.records.map((r) => r.name)).toEqual(['ok.p.lan', 'also.p.lan']);
    expect(zones[0]!.broken).toEqual(['bad.p.lan']);
    expect(zones[0]!.recordErrors!.map((e) => e.code)).toEqual(['BS_ZONE_PARSE']);
    expect(zones[0]!.recordErrors![0]!.message).toContain(`${join(d, 'p.lan.zone')}:3: bad IPv6 address "2001:db8::zz"`);
  });
});
