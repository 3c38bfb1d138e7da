import { describe, expect, it } from 'vitest';
import { formatRR, rr, ZoneParseError } from './rr-text.js';
import { formatZone, originFromFileName, parseZone, type IncludeReader, type ParseOptions } from './zonefile.js';

const z = (lines: string[], opts: ParseOptions = { origin: 'svc.local' }) => parseZone(lines.join('\n'), opts);
const rrs = (...lines: string[]) => lines.map((l) => rr(l));

describe('parseZone: features', () => {
  it('$ORIGIN, $TTL, @, relative names and the blank owner', () => {
    const zone = z([
      '$ORIGIN svc.local.',
      '$TTL 60',
      '@ IN A 192.0.2.1',
      '  IN AAAA 2001:db8::1   ; blank owner: svc.local again',
      'nas A 192.0.2.2',
      '$ORIGIN sub',
      'x CNAME nas.svc.local.',
    ], {});
    expect(zone.origin).toBe('svc.local');
    expect(zone.soa).toBeUndefined();
    expect(zone.records).toEqual(rrs(
      'svc.local. 60 IN A 192.0.2.1',
      'svc.local. 60 IN AAAA 2001:db8::1',
      'nas.svc.local. 60 IN A 192.0.2.2',
      'x.sub.svc.local. 60 IN CNAME nas.svc.local.',
    ));
  });

  it('comments, blank lines, CRLF, a BOM and parentheses across lines', () => {
    const zone = parseZone('\uFEFF; header\r\n\r\nsrv 5 SRV ( 1 ; priority\r\n 2 3 ; weight, port\r\n t )\r\n', { origin: 'svc.local' });
    expect(zone.records).toEqual(rrs('srv.svc.local. 5 SRV 1 2 3 t.svc.local.'));
  });

  it('the SOA is returned apart and gives the origin', () => {
    const zone = z([
      '$TTL 1h',
      'example.org. IN SOA ns.example.org. hostmaster.example.org. ( 1 2h 30m 1w 5m )',
      '  NS ns.example.org.',
      'ns.example.org. A 192.0.2.53',
    ], { file: 'whatever.zone' });
    expect(zone.origin).toBe('example.org');
    expect(zone.soa).toEqual(rr('example.org. 3600 SOA ns.example.org. hostmaster.example.org. 1 7200 1800 604800 300'));
    expect(zone.records).toEqual(rrs('example.org. 3600 NS ns.example.org.', 'ns.example.org. 3600 A 192.0.2.53'));
  });

  it('default TTL: $TTL, else the SOA minimum, else the caller option, else 3600', () => {
    expect(z(['$TTL 7', 'a A 192.0.2.1']).records[0]!.ttl).toBe(7);
    const soaMin = z(['@ SOA ns host 1 2 3 4 42', 'a A 192.0.2.1', 'b 9 A 192.0.2.1']);
    expect(soaMin.soa!.ttl).toBe(42);
    expect(soaMin.records.map((r) => r.ttl)).toEqual([42, 9]);
    expect(z(['a A 192.0.2.1'], { origin: 'x', defaultTtl: 11 }).records[0]!.ttl).toBe(11);
    expect(z(['a A 192.0.2.1']).records[0]!.ttl).toBe(3600);
    // $TTL applies from where it stands.
    expect(z(['a 1 A 192.0.2.1', '$TTL 2', 'b A 192.0.2.1']).records.map((r) => r.ttl)).toEqual([1, 2]);
  });

  it('origin: $ORIGIN, else the caller option, else the file name', () => {
    expect(originFromFileName('/etc/bindsight/zones/svc.local.zone')).toBe('svc.local');
    expect(originFromFileName('zones/hosts.txt')).toBeUndefined();
    expect(z(['a A 192.0.2.1'], { file: 'zones/lan.home.zone' }).records[0]!.name).toBe('a.lan.home');
    expect(z(['a A 192.0.2.1'], { file: 'zones/lan.home.zone', origin: 'x.y.' }).origin).toBe('x.y');
    expect(z(['$ORIGIN o.', 'a A 192.0.2.1'], { origin: 'x' }).origin).toBe('o');
    expect(z(['a A 192.0.2.1', '$ORIGIN o.', 'b A 192.0.2.1'], { origin: 'x' }).origin).toBe('x');
  });

  it('class: IN by default, kept when stated, one per file; CLASS1 is IN', () => {
    expect(z(['a CLASS1 A 192.0.2.1']).records[0]!.class).toBeUndefined();
    expect(z(['a CH TXT x', 'b TXT y']).records.map((r) => r.class)).toEqual([3, 3]);
  });

  it('escaped dots stay inside a label', () => {
    expect(z(['a\\.b TXT x']).records[0]!.name).toBe('a\\.b.svc.local');
  });

  it('$INCLUDE reads through the callback, with its own origin, then restores', () => {
    const files: Record<string, string> = {
      'dir/inc.zone': 'x A 192.0.2.9\n$INCLUDE deeper.inc\n',
      'dir/deeper.inc': 'y A 192.0.2.10\n',
    };
    const include: IncludeReader = (target, from) => {
      const file = `${from!.replace(/[^/]*$/, '')}${target}`;
      if (!(file in files)) throw new Error('ENOENT');
      return { file, text: files[file]! };
    };
    const zone = parseZone('a A 192.0.2.1\n$INCLUDE inc.zone other.org.\n  A 192.0.2.2\nb A 192.0.2.3\n',
      { file: 'dir/svc.local.zone', include });
    expect(zone.records.map((r) => r.name)).toEqual(['a.svc.local', 'x.other.org', 'y.other.org', 'a.svc.local', 'b.svc.local']);
  });

  it('formatZone then parseZone gives the same zone', () => {
    const zone = z(['@ SOA ns host 1 2 3 4 5', 'a\\.b 1 TXT "\\"q\\"" \\255', 'c 1 HINFO x y', 'd 1 TYPE65280 \\# 1 ff']);
    expect(parseZone(formatZone(zone))).toEqual(zone);
  });
});

describe('parseZone: errors carry file:line and the reason', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['unknown directive', ['a A 192.0.2.1', '$FOO x'], 2, /unknown directive \$FOO/],
    ['$GENERATE', ['$GENERATE 1-3 h$ A 192.0.2.$'], 1, /\$GENERATE is not supported/],
    ['$ORIGIN without argument', ['$ORIGIN'], 1, /\$ORIGIN needs an argument/],
    ['$TTL with two', ['$TTL 1 2'], 1, /unexpected "2" after \$TTL/],
    ['bad $TTL', ['$TTL 1x'], 1, /bad TTL "1x"/],
    ['$INCLUDE without reader', ['$INCLUDE other.zone'], 1, /\$INCLUDE is not available here/],
    ['blank owner first', ['', '  A 192.0.2.1'], 2, /no owner name/],
    ['second SOA', ['@ SOA a b 1 2 3 4 5', '@ SOA a b 1 2 3 4 5'], 2, /second SOA \(the first is at line 1\)/],
    ['class mix', ['a IN A 192.0.2.1', 'b CH TXT x'], 2, /class differs/],
    ['CNAME and other data', ['a A 192.0.2.1', 'a CNAME b'], 2, /CNAME at "a.svc.local" next to other data/],
    ['two CNAMEs', ['a CNAME b', 'A CNAME c'], 1, /CNAME/],
    ['out of zone with an SOA', ['@ SOA a b 1 2 3 4 5', 'x.other. A 192.0.2.1'], 2, /outside the zone svc.local/],
    ['bad address, deep in the file', ['a A 192.0.2.1', '', '; c', 'b A 192.0.2.300'], 4, /bad IPv4 address "192.0.2.300"/],
    ['missing field inside parentheses', ['a SRV ( 1 2', '3 )'], 1, /missing target in SRV/],
  ];
  it.each(cases)('%s', (_, lines, line, want) => {
    let err: ZoneParseError | undefined;
    try { z(lines, { file: 'zones/svc.local.zone' }); } catch (e) { err = e as ZoneParseError; }
    expect(err).toBeInstanceOf(ZoneParseError);
    expect(err!.code).toBe('BS_ZONE_PARSE');
    expect(err!.reason).toMatch(want);
    expect(err!.line).toBe(line);
    expect(err!.message).toContain(`zones/svc.local.zone:${line}: `);
  });

  it('no origin at all', () => {
    expect(() => parseZone('a. A 192.0.2.1')).toThrow(/no origin/);
  });

  it('an error in an included file names that file', () => {
    const include: IncludeReader = () => ({ file: 'zones/inc.zone', text: 'ok A 192.0.2.1\nbad A 1.2\n' });
    expect(() => z(['$INCLUDE inc.zone'], { file: 'zones/svc.local.zone', include })).toThrow('zones/inc.zone:2: bad IPv4');
  });

  it('an include loop stops at the depth limit', () => {
    const include: IncludeReader = () => ({ file: 'zones/loop.zone', text: '$INCLUDE loop.zone\n' });
    expect(() => z(['$INCLUDE loop.zone'], { file: 'zones/svc.local.zone', include, maxIncludeDepth: 3 }))
      .toThrow('zones/loop.zone:1: $INCLUDE nested deeper than 3');
  });

  it('a failing reader becomes a parse error at the $INCLUDE line', () => {
    const include: IncludeReader = () => { throw new Error('ENOENT: no such file'); };
    expect(() => z(['a A 192.0.2.1', '$INCLUDE gone.zone'], { file: 'f.zone', include }))
      .toThrow('f.zone:2: $INCLUDE "gone.zone": ENOENT: no such file');
  });
});

describe('parseZone: hostile input never crashes', () => {
  it('5000 seeded mutations of a zone either parse or throw ZoneParseError', () => {
    const base = [
      '$ORIGIN svc.local.', '$TTL 1h', '@ SOA ns host ( 1 2 3 4 5 )', 'a 5 IN A 192.0.2.1',
      '  AAAA 2001:db8::1', 'b TXT "q\\"x" \\065 ( "y" )', 'c SRV 0 0 80 a', 'd TYPE65280 \\# 2 abcd',
    ].join('\n');
    const alphabet = ' \t\n;()"\\.@$0123456789#:aZ\u00e9\u{1F600}';
    let seed = 1;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let i = 0; i < 5000; i++) {
      const chars = [...base];
      for (let k = 1 + rand(4); k > 0; k--) {
        const at = rand(chars.length);
        const op = rand(3);
        const c = [...alphabet][rand([...alphabet].length)]!;
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      try {
        parseZone(chars.join(''), { origin: 'svc.local' });
      } catch (e) {
        if (!(e instanceof ZoneParseError)) throw new Error(`crash on ${JSON.stringify(chars.join(''))}: ${String(e)}`);
      }
    }
  });
});

describe("parseZone: badRecords: 'poison' (issue 4: a bad record gives SERVFAIL for its name)", () => {
  const poison = (lines: string[], more: ParseOptions = {}) =>
    parseZone(lines.join('\n'), { origin: 'svc.local', file: 'zones/svc.local.zone', badRecords: 'poison', ...more });

  it('loads the rest of the file and names the bad owner with file:line', () => {
    const zone = poison(['a A 192.0.2.1', 'b A 192.0.2.300', 'c SRV 0 0 70000 a', '  TXT "blank owner stays c"', 'd AAAA 2001:db8::1']);
    expect(zone.records.map((r) => formatRR(r))).toEqual([
      'a.svc.local. 3600 IN A 192.0.2.1', 'c.svc.local. 3600 IN TXT "blank owner stays c"', 'd.svc.local. 3600 IN AAAA 2001:db8::1',
    ]);
    expect(zone.broken).toEqual(['b.svc.local', 'c.svc.local']);
    expect(zone.recordErrors!.map((e) => [e.code, e.message])).toEqual([
      ['BS_ZONE_PARSE', expect.stringMatching(/^zone file could not be parsed: zones\/svc\.local\.zone:2: bad IPv4 address "192\.0\.2\.300"/)],
      ['BS_ZONE_PARSE', expect.stringMatching(/zones\/svc\.local\.zone:3: SRV port 70000 out of range/)],
    ]);
  });

  it('names one owner once however many of its lines are bad, in the case first written', () => {
    expect(poison(['B A 1.2', 'b AAAA zz', 'b TXT ok']).broken).toEqual(['B.svc.local']);
  });

  it('a clean file has neither field', () => {
    const zone = poison(['a A 192.0.2.1']);
    expect('broken' in zone).toBe(false);
    expect('recordErrors' in zone).toBe(false);
  });

  it('an error in an included file names that file', () => {
    const include: IncludeReader = () => ({ file: 'zones/inc.zone', text: 'ok A 192.0.2.1\nbad A 1.2\n' });
    const zone = poison(['$INCLUDE inc.zone'], { include });
    expect(zone.broken).toEqual(['bad.svc.local']);
    expect(zone.recordErrors![0]!.message).toContain('zones/inc.zone:2: bad IPv4');
  });

  it.each([
    ['unbalanced parentheses', ['a SRV ( 1 2 3 a'], /never closed/],
    ['bad $ORIGIN', ['$ORIGIN a..b.'], /empty label/],
    ['unknown directive', ['$FOO'], /unknown directive/],
    ['bad owner name', ['a..b A 192.0.2.1'], /empty label/],
    ['class mix', ['a IN A 192.0.2.1', 'b CH TXT x'], /class differs/],
  ])('still rejects the file on a structural error: %s', (_, lines, want) => {
    expect(() => poison(lines)).toThrow(want);
  });
});
