// docs/errors.md lists exactly the codes of src/errors.ts (fastify's habit).
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes } from '../src/errors.js';
import { ROOT } from './helpers/daemon.js';

it('docs/errors.md documents every error code, and only those', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(BS_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  expect(documented).toEqual(Object.keys(codes).sort());
});
