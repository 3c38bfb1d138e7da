// Builds the BPF objects (bpf/Makefile) and the native addon (node-gyp).
// Under `npm install` a failed build is a warning: bindsight then runs on its
// pure-TypeScript procfs source. `--strict` (npm run build, CI) makes it fatal.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const strict = process.argv.includes('--strict');
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status === 0;

let ok = true;
if (existsSync('bpf/Makefile')) ok = run('make', ['-C', 'bpf']) && ok;
// Incremental when a previous configure exists: make tracks the sources.
const gyp = new URL('../node_modules/node-gyp/bin/node-gyp.js', import.meta.url).pathname;
const configured = existsSync('build/Makefile') && existsSync('build/config.gypi') &&
  statSync('build/Makefile').mtimeMs > statSync('binding.gyp').mtimeMs;
// Build against the headers of the Node that runs us when they are installed
// (Debian's nodejs ships /usr/include/node): node-gyp would otherwise try to
// download them, which fails offline.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir ||
  (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
ok = ok && run(process.execPath, [gyp, ...(configured ? ['build'] : ['rebuild']), ...(nodedir ? [`--nodedir=${nodedir}`] : [])]);
if (!ok) {
  const msg = 'bindsight: native build failed; the procfs source will be used. ' +
    'Run scripts/setup.sh to install clang, libbpf-dev and bpftool.';
  if (strict) { console.error(msg); process.exit(1); }
  console.warn(msg);
}
