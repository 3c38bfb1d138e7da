#!/usr/bin/env node
// bindsight's command line: `run` (the daemon), `list`, `help`.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadConfig, parseHostPort, DEFAULTS, type Config } from './config/config.js';
import { createLogger, flushLog } from './log.js';
import { BindsightError } from './errors.js';
import { Daemon } from './daemon/daemon.js';
import { listRows, formatTable } from './list-table.js';
import type { Registry } from './registry/registry.js';

const USAGE: Record<string, string> = {
  main: `Usage: bindsight <command> [options]

Passive service discovery: every listening socket on this host becomes DNS.

Commands:
  run       start the daemon (DNS server + discovery + control endpoint)
  list      print the services the daemon sees (or scan now if none runs)
  help      show help for a command: bindsight help run

  -V, --version   print the version

Run 'bindsight <command> --help' for the options of a command.
`,
  run: `Usage: bindsight run [options]

Options:
  --listen ADDR:PORT   DNS address, UDP and TCP; repeatable (default ${DEFAULTS.listen.join(', ')})
                       IPv6 as [::1]:53; port 0 picks a free port
  --zone NAME          zone for discovered services (default ${DEFAULTS.zone})
  --zones DIR          directory of *.zone files to serve too (default: the package's zones/)
  --no-zones           serve no static zones
  --source NAME        auto | ebpf | sockdiag | procfs (default auto)
  --interval DUR       rescan interval of polling sources (default 1s)
  --reconcile DUR      eBPF safety-net rescan interval (default 30s)
  --ttl SECONDS        TTL of answers (default ${DEFAULTS.ttl})
  --negative-ttl SEC   SOA minimum, the TTL of negative answers (default ${DEFAULTS.negativeTtl})
  --control ADDR:PORT  control endpoint (HTTP; default ${DEFAULTS.control}); 'off' to disable
  --no-rrl             turn response rate limiting off (benchmarks)
  --connections        count connections per service (eBPF sockops hook; costs
                       about a quarter more per TCP connect, see docs/kernel-support.md)
  --config FILE        JSON config file (default /etc/bindsight/config.json if present)
  --log-level LEVEL    trace | debug | info | warn | error (default info)
  -h, --help           this help

Durations: 250ms, 1s, 5m, 1h, or a bare number of seconds.
Flags override the config file; see docs/configuration.md.
`,
  list: `Usage: bindsight list [options]

Prints one row per listening endpoint: name, type, proto, address:port, pids,
comm, uid and network namespace. Asks the running daemon; when none answers,
scans the host itself.

Options:
  --json               print the registry as JSON
  --control ADDR:PORT  the daemon's control endpoint (default ${DEFAULTS.control})
  --source NAME        source for a local scan (default auto: sockdiag, then procfs)
  --config FILE        config file (for rules and the zone)
  -h, --help           this help
`,
};

const RUN_OPTIONS = {
  listen: { type: 'string', multiple: true },
  zone: { type: 'string' },
  zones: { type: 'string' },
  'no-zones': { type: 'boolean' },
  source: { type: 'string' },
  interval: { type: 'string' },
  reconcile: { type: 'string' },
  ttl: { type: 'string' },
  'negative-ttl': { type: 'string' },
  control: { type: 'string' },
  'no-rrl': { type: 'boolean' },
  connections: { type: 'boolean' },
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LIST_OPTIONS = {
  json: { type: 'boolean' },
  control: { type: 'string' },
  source: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new BindsightError('BS_CONFIG_INVALID', `${flag} must be a whole number`);
  return n;
}

function runFlags(v: Record<string, unknown>): Record<string, unknown> {
  return {
    listen: v.listen,
    zone: v.zone,
    zonesDir: v['no-zones'] ? null : v.zones,
    source: v.source,
    interval: v.interval,
    reconcile: v.reconcile,
    ttl: int(v.ttl, '--ttl'),
    negativeTtl: int(v['negative-ttl'], '--negative-ttl'),
    control: v.control,
    rrl: v['no-rrl'] ? { enabled: false } : undefined,
    connections: v.connections ? true : undefined,
    logLevel: v['log-level'],
  };
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS, strict: true });
  if (values.help) return help('run');
  const config = loadConfig(values.config as string | undefined, runFlags(values));
  // Its own comm: the daemon's sockets are served as bindsight.<zone>, not node.
  process.title = 'bindsight';
  const log = createLogger(config.logLevel);
  const daemon = new Daemon(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => flushLog(log, () => process.exit(0)),
      (err: Error) => {
        log.error({ err }, 'shutdown failed');
        flushLog(log, () => process.exit(1));
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await daemon.start();
  } catch (e) {
    log.fatal({ err: e, code: (e as BindsightError).code }, (e as Error).message);
    // The log may be JSON for machines; say it once plainly for the person.
    process.stderr.write(`bindsight: ${(e as BindsightError).code ?? 'error'}: ${(e as Error).message}\n`);
    await daemon.stop();
    await new Promise<void>((resolve) => flushLog(log, resolve));
    return 1;
  }
  return new Promise<number>(() => undefined); // runs until a signal
}

async function fetchRegistry(control: string): Promise<Registry | null> {
  const { address, port } = parseHostPort(control, 'control');
  const host = address.includes(':') ? `[${address}]` : address;
  try {
    const res = await fetch(`http://${host}:${port}/registry`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    return (await res.json()) as Registry;
  } catch {
    return null;
  }
}

async function scanOnce(config: Config): Promise<Registry> {
  const { selectSource } = await import('./discovery/select.js');
  const { buildRegistry } = await import('./registry/registry.js');
  const { readHost } = await import('./registry/host.js');
  const { selfNetns } = await import('./discovery/procfs.js');
  const { compileRules } = await import('./naming/rules.js');
  const { readEtcServices, typeTable } = await import('./naming/service-types.js');
  const { toLabel } = await import('./naming/label.js');
  const log = createLogger('warn');
  // A one-shot scan sees the same as the eBPF snapshot: skip loading programs.
  const choice = config.source === 'auto' || config.source === 'ebpf' ? 'auto-poll' : config.source;
  const order = choice === 'auto-poll' ? (['sockdiag', 'procfs'] as const) : [choice];
  let lastErr: unknown;
  for (const name of order) {
    try {
      const { source } = await selectSource(name, { intervalMs: 1000, reconcileMs: 30_000, ebpf: {}, log });
      const sockets = await source.scan();
      const host = readHost(selfNetns());
      const reserved = new Set([toLabel(host.hostname)]);
      return buildRegistry(sockets, host, { rules: compileRules(config.rules), types: typeTable(readEtcServices()), reserved });
    } catch (e) {
      lastErr = e;
    }
  }
  throw lastErr;
}

/**
 * Writes to stdout and waits until it is flushed: stdout is asynchronous on
 * pipes, and main() ends with process.exit(), which would cut long output.
 */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: LIST_OPTIONS, strict: true });
  if (values.help) return help('list');
  const config = loadConfig(values.config as string | undefined, { control: values.control, source: values.source });
  const fromDaemon = config.control === 'off' ? null : await fetchRegistry(config.control);
  const registry = fromDaemon ?? (await scanOnce(config));
  if (!fromDaemon) process.stderr.write('bindsight: no daemon answered; scanned this host directly\n');
  await print(values.json ? `${JSON.stringify(registry, null, 2)}\n` : formatTable(listRows(registry)));
  return 0;
}

function version(): number {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`bindsight ${pkg.version}\n`);
  return 0;
}

function help(topic = 'main'): number {
  const text = USAGE[topic];
  if (!text) {
    process.stderr.write(`bindsight: no help for "${topic}"\n${USAGE.main}`);
    return 2;
  }
  process.stdout.write(text);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return run(rest);
    case 'list': return list(rest);
    case 'help': return help(rest[0]);
    case undefined: case '-h': case '--help': return help();
    case '-V': case '--version': return version();
    default:
      process.stderr.write(`bindsight: unknown command "${cmd}"\n${USAGE.main}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = (e as { code?: string }).code;
    // A bad flag is a configuration error like any other (parseArgs says which).
    const usage = code === 'BS_CONFIG_INVALID' || code?.startsWith('ERR_PARSE_ARGS');
    const shown = code?.startsWith('ERR_PARSE_ARGS') ? `BS_CONFIG_INVALID: ${(e as Error).message}; see --help` : `${code ? `${code}: ` : ''}${(e as Error).message ?? String(e)}`;
    process.stderr.write(`bindsight: ${shown}\n`);
    process.exit(usage ? 2 : 1);
  },
);
