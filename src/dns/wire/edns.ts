// EDNS(0) (RFC 6891): reading the requester's OPT and writing ours. We echo
// no options and no flags except DO (RFC 3225 §3: DO is copied to the reply).
import { EDNS_DO, UDP_MIN_SIZE } from './constants.js';
import { WireError } from './name.js';
import type { Writer } from './writer.js';

export interface Edns {
  /** Requester's UDP payload size, raised to 512 (RFC 6891 §6.2.5). */
  udpSize: number;
  version: number;
  do: boolean;
}

/** RFC 6891 §6.1.2-§6.1.3: CLASS is the size, TTL holds ext-rcode, version, flags. */
export function parseOpt(cls: number, ttl: number, rdata: Buffer): Edns {
  // §6.1.2: options are {code, length, data}; they must exactly fill RDATA.
  let p = 0;
  while (p < rdata.length) {
    if (p + 4 > rdata.length) throw new WireError('opt-option-truncated');
    const code = rdata.readUInt16BE(p);
    const len = rdata.readUInt16BE(p + 2);
    if (p + 4 + len > rdata.length) throw new WireError('opt-option-overrun');
    checkOption(code, rdata.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return {
    udpSize: Math.max(cls, UDP_MIN_SIZE),
    version: (ttl >>> 16) & 0xff,
    do: (ttl & EDNS_DO) !== 0,
  };
}

const OPT_ECS = 8;
const OPT_COOKIE = 10;
const OPT_EDE = 15;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Options whose RFC says a malformed one is a FORMERR; all others are opaque. */
function checkOption(code: number, data: Buffer): void {
  if (code === OPT_ECS) {
    // RFC 7871 §6, §7.1.1: known family, prefix lengths in range, exact address bytes.
    if (data.length < 4) throw new WireError('opt-ecs');
    const family = data.readUInt16BE(0);
    const max = family === 1 ? 32 : family === 2 ? 128 : -1;
    const src = data[2]!;
    const scope = data[3]!;
    if (max < 0 || src > max || scope > max || data.length - 4 !== Math.ceil(src / 8)) throw new WireError('opt-ecs');
  } else if (code === OPT_COOKIE) {
    // RFC 7873 §5.2.2: 8 bytes (client cookie) or 16 to 40 (with server cookie).
    if (data.length !== 8 && (data.length < 16 || data.length > 40)) throw new WireError('opt-cookie');
  } else if (code === OPT_EDE) {
    // RFC 8914 §2: INFO-CODE, then UTF-8 EXTRA-TEXT.
    if (data.length < 2) throw new WireError('opt-ede');
    try { utf8.decode(data.subarray(2)); } catch { throw new WireError('opt-ede'); }
  }
}

/** Our OPT: root owner, our size, extended rcode bits, version 0, DO copied. */
export function writeOpt(w: Writer, o: { udpSize: number; rcode: number; do: boolean }): void {
  w.u8(0); // root name
  w.u16(41);
  w.u16(o.udpSize);
  w.u32(((o.rcode >>> 4) & 0xff) * 0x1000000 + (o.do ? EDNS_DO : 0));
  w.u16(0);
}

/** Bytes writeOpt adds. */
export const OPT_SIZE = 11;
