// Replaces (or appends) one marked section of docs/benchmarks.md, so each
// benchmark owns its own part of the page:
//   <!-- bench:NAME --> ... <!-- /bench:NAME -->
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const DOC = new URL('../../docs/benchmarks.md', import.meta.url);

export function writeDocSection(name, markdown) {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${markdown.trim()}\n${close}`;
  let text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + close.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, text);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

export const silentLog = { child: () => silentLog, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
