// Names are text with RFC 1035 escapes (src/zones/rr-text.ts): a dot is a
// label separator only when it is not escaped.

/**
 * Positions of the dots that separate labels. Names are text with RFC 1035
 * escapes, so `x\.svc.local` has two labels: `x.svc` and `local`.
 */
export function labelDots(name: string): number[] {
  const dots: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++; // the escaped character (or the first of \DDD) is literal
    else if (name[i] === '.') dots.push(i);
  }
  return dots;
}

/** Label-wise suffix test: `x\.svc.local` is not in `svc.local`. */
export function inZone(key: string, apex: string): boolean {
  if (apex === '' || key === apex) return true;
  const at = key.length - apex.length - 1;
  return at > 0 && key.endsWith(apex) && labelDots(key).includes(at);
}


/** The label of `key` directly below `apex`, or undefined when key is not below it. */
export function labelBelow(key: string, apex: string): string | undefined {
  if (key === apex || !inZone(key, apex)) return undefined;
  const rest = key.slice(0, key.length - apex.length - 1);
  const dots = labelDots(rest);
  return rest.slice(dots.length ? dots[dots.length - 1]! + 1 : 0);
}
