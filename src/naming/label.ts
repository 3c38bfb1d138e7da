// Turning arbitrary process names into DNS labels (docs/naming.md, "Labels").
// Any local user can name a process anything, so this must be total: every
// input, however odd, maps to a valid, stable label.

const MAX_LABEL = 63; // RFC 1035 §2.3.4

/** FNV-1a, 32 bit: a stable short tag for names with no usable characters. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Lowercase ASCII letters and digits are kept; every other run of characters
 * (slashes, colons, spaces, dots, underscores, non-ASCII) becomes one hyphen;
 * hyphens are trimmed from both ends; the result is cut to 63 bytes. A name
 * with nothing left becomes `x-<fnv1a hex>` of the original.
 */
export function toLabel(raw: string): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (s.length > MAX_LABEL) s = s.slice(0, MAX_LABEL).replace(/-+$/, '');
  return s === '' ? `x-${fnv1a(raw)}` : s;
}

/** True when `s` is already a label this module could have produced. */
export function isLabel(s: string): boolean {
  return s.length > 0 && s.length <= MAX_LABEL && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s);
}
