// Parser for /proc/net/{tcp,tcp6,udp,udp6} (Documentation/networking/proc_net_tcp.rst).
// Pure: text in, socket rows out. Addresses are hex words in host byte order.
import type { Family, Proto, SocketRecord } from './socket.js';

export type ProcNetRow = Omit<SocketRecord, 'processes' | 'netns'>;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function word(hex: string): Buffer {
  const b = Buffer.from(hex, 'hex');
  return LITTLE_ENDIAN ? b.reverse() : b;
}

export function decodeAddress(hex: string): string | null {
  if (hex.length === 8) return [...word(hex)].join('.');
  if (hex.length !== 32) return null;
  const bytes = Buffer.concat([0, 8, 16, 24].map((i) => word(hex.slice(i, i + 8))));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  return compress6(groups);
}

/** RFC 5952 §4.2: the longest run (≥2) of zero groups becomes `::`. */
export function compress6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Rows that don't parse are skipped: the table can change under our feet. */
export function parseProcNet(text: string, proto: Proto, family: Family): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [la, lp] = f[1]!.split(':');
    const [ra, rp] = f[2]!.split(':');
    const address = decodeAddress(la ?? '');
    const remoteAddress = decodeAddress(ra ?? '');
    if (address === null || remoteAddress === null) continue;
    const port = parseInt(lp ?? '', 16);
    const remotePort = parseInt(rp ?? '', 16);
    const state = parseInt(f[3]!, 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (![port, remotePort, state, uid, inode].every(Number.isFinite)) continue;
    rows.push({ proto, family, address, port, remoteAddress, remotePort, state, uid, inode });
  }
  return rows;
}
