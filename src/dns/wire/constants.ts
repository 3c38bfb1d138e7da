// Protocol numbers the wire layer needs, each from the RFC that defines it.

/** Header flag bits in the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** RFC 1035 §4.1.1; everything else is NOTIMP for us. */
export const OPCODE_QUERY = 0;

/** RFC 1035 §4.1.1: the fixed header. */
export const HEADER_SIZE = 12;

/** RFC 1035 §2.3.4 limits. */
export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

/** RFC 1035 §4.2.1: UDP without EDNS. RFC 6891 §6.2.5: EDNS sizes below 512 count as 512. */
export const UDP_MIN_SIZE = 512;
/** DNS flag day 2020 default: avoids IP fragmentation on common paths. */
export const UDP_DEFAULT_MAX = 1232;
/** RFC 1035 §4.2.2: two-byte length prefix. */
export const TCP_MAX_SIZE = 65535;

/** RFC 6891 §6.1.3: the DO bit in the OPT TTL field (RFC 3225). */
export const EDNS_DO = 0x8000;

/** RR types the layer itself treats specially (RFC 6891, RFC 1995, RFC 5936). */
export const T_OPT = 41;
export const T_IXFR = 251;
export const T_AXFR = 252;
export const C_IN = 1;
