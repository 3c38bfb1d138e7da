// `bindsight list` output: one row per endpoint, like `ss`. Pure.
import type { Registry } from './registry/registry.js';

export interface ListRow {
  name: string;
  type: string;
  proto: string;
  local: string;
  pids: string;
  comm: string;
  uid: number;
  netns: number;
  /** `accepted/initiated`, or '-' when connections are not tracked. */
  conns: string;
}

export function listRows(r: Registry): ListRow[] {
  return r.services.flatMap((s) =>
    s.endpoints.map((e) => ({
      name: s.name,
      type: e.type ?? '-',
      proto: e.proto,
      local: e.family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`,
      pids: e.pids.length ? e.pids.join(',') : '-',
      comm: e.comm || '-',
      uid: e.uid,
      netns: e.netns,
      conns: e.connections ? `${e.connections.accepted}/${e.connections.initiated}` : '-',
    })),
  );
}

export function formatTable(rows: ListRow[]): string {
  const head = ['NAME', 'TYPE', 'PROTO', 'LOCAL ADDRESS:PORT', 'PID', 'COMM', 'UID', 'NETNS', 'CONNS(IN/OUT)'];
  const cells = rows.map((r) => [r.name, r.type, r.proto, r.local, r.pids, r.comm, String(r.uid), String(r.netns), r.conns]);
  // Process names are attacker-chosen: show control characters escaped.
  const safe = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const all = [head, ...cells.map((c) => c.map(safe))];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
