// Configuration: defaults < config file (read with `conf`) < command-line
// flags. Every key is documented in docs/configuration.md.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Conf from 'conf';
import { BindsightError } from '../errors.js';
import type { Rule } from '../naming/rules.js';
import { parseDuration } from './duration.js';

export type SourceChoice = 'auto' | 'ebpf' | 'sockdiag' | 'procfs';
export const SOURCES: readonly SourceChoice[] = ['auto', 'ebpf', 'sockdiag', 'procfs'];

export interface RrlConfig {
  enabled: boolean;
  responsesPerSecond: number;
  exemptLoopback: boolean;
}

export interface Config {
  listen: string[];
  zone: string;
  zonesDir: string | null;
  source: SourceChoice;
  intervalMs: number;
  reconcileMs: number;
  ttl: number;
  negativeTtl: number;
  logLevel: string;
  control: string;
  rules: Rule[];
  rrl: RrlConfig;
  ebpf: { hooks?: string[]; ringBufferBytes?: number };
  /** Track connections per service (loads the eBPF sockops hook). */
  connections: boolean;
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEFAULTS: Config = {
  listen: ['127.0.0.1:53'],
  zone: 'svc.local',
  zonesDir: resolve(PACKAGE_ROOT, 'zones'),
  source: 'auto',
  intervalMs: 1000,
  reconcileMs: 30_000,
  ttl: 5,
  negativeTtl: 5,
  logLevel: 'info',
  control: '127.0.0.1:9953',
  rules: [],
  rrl: { enabled: true, responsesPerSecond: 20, exemptLoopback: true },
  ebpf: {},
  connections: false,
};

/** The system-wide file, used when no --config is given and it exists. */
export const SYSTEM_CONFIG = '/etc/bindsight/config.json';

export interface Endpoint { address: string; port: number }

/** `127.0.0.1:53`, `[::1]:5353`, `0.0.0.0:0`. */
export function parseHostPort(s: string, what: string): Endpoint {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([0-9.]+):(\d+)$/.exec(s) ?? /^(localhost):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new BindsightError('BS_CONFIG_INVALID', `${what} "${s}" is not ADDRESS:PORT (IPv6 as [addr]:port)`);
  return { address: m[1] === 'localhost' ? '127.0.0.1' : m[1]!, port };
}

function fail(msg: string): never {
  throw new BindsightError('BS_CONFIG_INVALID', msg);
}

/** Reads a config file through conf (JSON). Missing file → {}. */
export function readConfigFile(path: string | undefined): Partial<Record<string, unknown>> {
  const file = path ?? (existsSync(SYSTEM_CONFIG) ? SYSTEM_CONFIG : undefined);
  if (!file) return {};
  if (!existsSync(file)) fail(`config file ${file} does not exist`);
  const ext = extname(file);
  // conf reads `[]`, `null` or `42` as an empty store: check the shape first.
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`config file ${file}: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`config file ${file} must hold a JSON object`);
  try {
    const conf = new Conf<Record<string, unknown>>({
      cwd: dirname(resolve(file)),
      configName: basename(file, ext),
      fileExtension: ext.replace(/^\./, ''),
      projectName: 'bindsight',
    });
    return { ...conf.store };
  } catch (e) {
    fail(`config file ${file}: ${(e as Error).message}`);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

const num = (v: unknown, key: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${key} must be an integer ${min}..${max}`);
  return v;
};
const dur = (v: unknown, key: string): number => {
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
  if (ms === null || ms <= 0) fail(`${key} must be a duration like 500ms, 1s or 1h`);
  // Node timers hold at most 2^31-1 ms; longer ones fire after 1 ms.
  if (ms > MAX_TIMER_MS) fail(`${key} must be at most 24d (the longest timer Node can hold)`);
  return ms;
};

/** Validates a partial config (file or flags) on top of a base. */
export function mergeConfig(base: Config, over: Partial<Record<string, unknown>>): Config {
  const c: Config = { ...base, rrl: { ...base.rrl }, ebpf: { ...base.ebpf } };
  for (const [key, v] of Object.entries(over)) {
    if (v === undefined) continue;
    switch (key) {
      case 'listen': {
        const list = Array.isArray(v) ? v : [v];
        if (!list.length) fail('listen needs at least one ADDRESS:PORT');
        list.forEach((x) => parseHostPort(String(x), 'listen'));
        c.listen = list.map(String);
        break;
      }
      case 'zone':
        if (typeof v !== 'string' || !/^([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$/i.test(v.replace(/\.$/, ''))) fail('zone must be a domain name');
        if (/^local\.?$/i.test(v)) fail('zone "local" is reserved for mDNS (RFC 6762 §3); use a subdomain such as svc.local');
        c.zone = v.replace(/\.$/, '');
        break;
      case 'zonesDir':
        if (v !== null && typeof v !== 'string') fail('zonesDir must be a path or null');
        c.zonesDir = v === null || v === '' ? null : resolve(v as string);
        break;
      case 'source':
        if (!SOURCES.includes(v as SourceChoice)) fail(`source must be one of ${SOURCES.join(', ')}`);
        c.source = v as SourceChoice;
        break;
      case 'interval': case 'intervalMs':
        c.intervalMs = dur(v, 'interval');
        break;
      case 'reconcile': case 'reconcileMs':
        c.reconcileMs = dur(v, 'reconcile');
        break;
      case 'ttl': c.ttl = num(v, 'ttl', 0, 2 ** 31 - 1); break;
      case 'negativeTtl': c.negativeTtl = num(v, 'negativeTtl', 0, 2 ** 31 - 1); break;
      case 'logLevel':
        if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(String(v))) fail('logLevel must be trace, debug, info, warn, error, fatal or silent');
        c.logLevel = String(v);
        break;
      case 'control':
        if (v !== 'off') parseHostPort(String(v), 'control');
        c.control = String(v);
        break;
      case 'rules':
        if (!Array.isArray(v)) fail('rules must be a list');
        c.rules = v as Rule[];
        break;
      case 'rrl': {
        const r = v as Partial<RrlConfig>;
        if (typeof r !== 'object' || r === null) fail('rrl must be an object');
        if (r.enabled !== undefined) c.rrl.enabled = Boolean(r.enabled);
        if (r.responsesPerSecond !== undefined) c.rrl.responsesPerSecond = num(r.responsesPerSecond, 'rrl.responsesPerSecond', 1, 1_000_000);
        if (r.exemptLoopback !== undefined) c.rrl.exemptLoopback = Boolean(r.exemptLoopback);
        break;
      }
      case 'ebpf': {
        const e = v as Config['ebpf'];
        if (typeof e !== 'object' || e === null) fail('ebpf must be an object');
        if (e.hooks !== undefined && !(Array.isArray(e.hooks) && e.hooks.every((h) => typeof h === 'string'))) fail('ebpf.hooks must be a list of hook names');
        if (e.ringBufferBytes !== undefined) num(e.ringBufferBytes, 'ebpf.ringBufferBytes', 4096, 1 << 30);
        c.ebpf = { ...c.ebpf, ...e };
        break;
      }
      case 'connections':
        if (typeof v !== 'boolean') fail('connections must be true or false');
        c.connections = v;
        break;
      default:
        fail(`unknown config key "${key}"`);
    }
  }
  return c;
}

export function loadConfig(file: string | undefined, flags: Partial<Record<string, unknown>>): Config {
  return mergeConfig(mergeConfig(DEFAULTS, readConfigFile(file)), flags);
}
