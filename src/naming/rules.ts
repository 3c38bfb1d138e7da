// Operator rules from the config file (docs/configuration.md, "rules"): rename,
// retype or ignore sockets by comm, exe, port, proto or uid. Rules are tried in
// order; for each of name, type and ignore, the first rule that matches and
// sets it wins.
import type { Proto } from '../discovery/socket.js';
import { BindsightError } from '../errors.js';
import { isLabel } from './label.js';
import { isValidType } from './service-types.js';

export interface RuleMatch {
  /** Exact, or a glob with `*` and `?`. */
  comm?: string;
  exe?: string;
  port?: number;
  proto?: Proto;
  uid?: number;
}

export interface Rule {
  match: RuleMatch;
  /** New instance name (a DNS label). Endpoints renamed this way share it across uids. */
  name?: string;
  /** DNS-SD type for the matched ports. */
  type?: string;
  ignore?: boolean;
}

export interface RuleSubject {
  comm: string;
  exe: string;
  port: number;
  proto: Proto;
  uid: number;
}

export interface RuleOutcome {
  name?: string;
  type?: string;
  ignore: boolean;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

export interface CompiledRule extends Rule {
  test(s: RuleSubject): boolean;
}

/** Validates and compiles rules; a bad rule is a config error, not a crash. */
export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.map((r, i) => {
    const where = `rules[${i}]`;
    if (!r || typeof r !== 'object' || !r.match || typeof r.match !== 'object') {
      throw new BindsightError('BS_CONFIG_INVALID', `${where}: needs a "match" object`);
    }
    if (r.name !== undefined && !isLabel(r.name)) {
      throw new BindsightError('BS_CONFIG_INVALID', `${where}.name "${r.name}" is not a DNS label (a-z, 0-9, -)`);
    }
    if (r.type !== undefined && !isValidType(r.type)) {
      throw new BindsightError('BS_CONFIG_INVALID', `${where}.type "${r.type}" is not a service type (RFC 6335 §5.1)`);
    }
    const { comm, exe, port, proto, uid } = r.match;
    const commRe = comm === undefined ? undefined : globToRegExp(comm);
    const exeRe = exe === undefined ? undefined : globToRegExp(exe);
    return {
      ...r,
      test: (s: RuleSubject) =>
        (commRe === undefined || commRe.test(s.comm)) &&
        (exeRe === undefined || exeRe.test(s.exe)) &&
        (port === undefined || port === s.port) &&
        (proto === undefined || proto === s.proto) &&
        (uid === undefined || uid === s.uid),
    };
  });
}

export function applyRules(rules: readonly CompiledRule[], s: RuleSubject): RuleOutcome {
  const out: RuleOutcome = { ignore: false };
  let ignoreSet = false;
  for (const r of rules) {
    if (!r.test(s)) continue;
    if (out.name === undefined && r.name !== undefined) out.name = r.name;
    if (out.type === undefined && r.type !== undefined) out.type = r.type;
    if (!ignoreSet && r.ignore !== undefined) {
      out.ignore = r.ignore;
      ignoreSet = true;
    }
  }
  return out;
}
