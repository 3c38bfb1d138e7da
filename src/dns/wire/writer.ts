// A bounded byte writer with RFC 1035 §4.1.4 name compression. Compression
// is keyed by the exact bytes of each name suffix (case-sensitive), so a
// pointer never changes the case a name was given in (RFC 4343 §4.1).
import { TCP_MAX_SIZE } from './constants.js';
import { WireError, nameToLabels } from './name.js';

/** Room for the largest message plus one record past it, which is then trimmed. */
export const CAPACITY = TCP_MAX_SIZE + 512;

/** Pointers carry 14 bits of offset. */
const MAX_POINTER_TARGET = 0x3fff;

export class Writer {
  private buf: Buffer;
  pos = 0;
  private readonly names = new Map<string, number>();

  /**
   * `scratch` lets callers reuse one buffer across messages: encoding is
   * synchronous and result() copies, so sharing is safe and avoids a 64 KiB
   * allocation per reply (which showed up as RSS churn under fuzzing).
   */
  constructor(scratch?: Buffer) {
    this.buf = scratch ?? Buffer.allocUnsafe(CAPACITY);
  }

  private room(n: number): void {
    // Messages larger than TCP allows can never be sent: stop early.
    if (this.pos + n > this.buf.length) throw new WireError('message-too-large');
  }

  u8(v: number): void { this.room(1); this.buf[this.pos++] = v & 0xff; }
  u16(v: number): void { this.room(2); this.buf.writeUInt16BE(v & 0xffff, this.pos); this.pos += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  /** Patch a u16 already written (RDLENGTH, counts). */
  setU16(at: number, v: number): void { this.buf.writeUInt16BE(v & 0xffff, at); }

  /**
   * Write a name; with `compress`, reuse an earlier occurrence of its longest
   * known suffix. Every suffix written here becomes a pointer target, even
   * when this name itself may not be compressed (SRV, RFC 2782).
   */
  name(name: string, compress: boolean): void {
    const labels = nameToLabels(name);
    const keys: string[] = [];
    for (let i = 0; i < labels.length; i++) keys.push(suffixKey(labels, i));
    for (let i = 0; i < labels.length; i++) {
      if (compress) {
        const at = this.names.get(keys[i]!);
        if (at !== undefined) { this.u16(0xc000 | at); return; }
      }
      if (this.pos <= MAX_POINTER_TARGET && !this.names.has(keys[i]!)) this.names.set(keys[i]!, this.pos);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }

  /** Forget pointer targets at or after `pos` (used when trimming a message). */
  truncateTo(pos: number): void {
    this.pos = pos;
    for (const [k, v] of this.names) if (v >= pos) this.names.delete(k);
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function suffixKey(labels: Buffer[], from: number): string {
  let k = '';
  for (let i = from; i < labels.length; i++) k += String.fromCharCode(labels[i]!.length) + labels[i]!.toString('latin1');
  return k;
}
