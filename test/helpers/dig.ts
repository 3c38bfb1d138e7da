// The real `dig` as the client, with its output parsed into sections.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** Records normalised to `name ttl class type rdata` with single spaces. */
function section(raw: string, title: string): string[] {
  const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
  if (!m) return [];
  return m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.trim().split(/\s+/).join(' '));
}

export async function dig(port: number, name: string, type = 'A', extra: string[] = [], server = '127.0.0.1'): Promise<DigResult> {
  // dig exits 9 when no server answered: that is a result here (status
  // NO-ANSWER), not an error.
  const stdout = await run('dig', [`@${server}`, '-p', String(port), '+tries=1', '+time=2', '+norecurse', '+nocookie', ...extra, name, type])
    .then((r) => r.stdout, (e: { code?: number; stdout?: string }) => {
      if (e.code === 9) return e.stdout ?? '';
      throw e;
    });
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NO-ANSWER';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return {
    status, flags, raw: stdout,
    answer: section(stdout, 'ANSWER'), authority: section(stdout, 'AUTHORITY'), additional: section(stdout, 'ADDITIONAL'),
  };
}

/** The rdata of each answer record of `type`. */
export function rdata(r: DigResult, type: string): string[] {
  return r.answer.map((l) => l.split(' ')).filter((f) => f[3] === type).map((f) => f.slice(4).join(' ')).sort();
}

export async function hostAddresses(): Promise<{ ipv4: string[]; ipv6: string[] }> {
  const { stdout } = await run('ip', ['-j', 'addr']);
  const ifs = JSON.parse(stdout) as Array<{ flags: string[]; addr_info: Array<{ family: string; local: string; scope: string }> }>;
  const up = ifs.filter((i) => i.flags.includes('UP') && i.flags.includes('LOWER_UP') && !i.flags.includes('LOOPBACK'));
  const addrs = up.flatMap((i) => i.addr_info);
  return {
    ipv4: addrs.filter((a) => a.family === 'inet').map((a) => a.local).sort(),
    ipv6: addrs.filter((a) => a.family === 'inet6' && a.scope !== 'link').map((a) => a.local).sort(),
  };
}
