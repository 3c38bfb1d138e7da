// `--source auto`: the best source that works here, ebpf > sockdiag > procfs,
// with the reason each better one was passed over (logged by the daemon).
import { BindsightError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SourceChoice } from '../config/config.js';
import type { DiscoverySource, SourceName } from './source.js';
import { ProcfsSource } from './procfs.js';

export interface SourceOptions {
  intervalMs: number;
  reconcileMs: number;
  ebpf: { hooks?: string[]; ringBufferBytes?: number };
  /** Add the sockops hook for connection facts (unless hooks are given). */
  connections?: boolean;
  log: Logger;
}

export interface Selection {
  source: DiscoverySource;
  /** Why each better source was not used. */
  skipped: Array<{ name: SourceName; reason: string }>;
}

async function create(name: SourceName, o: SourceOptions): Promise<DiscoverySource> {
  switch (name) {
    case 'ebpf': {
      const { EbpfSource, CONNECTION_HOOKS } = await import('./ebpf.js');
      const hooks = o.ebpf.hooks ?? (o.connections ? [...CONNECTION_HOOKS] : undefined);
      return new EbpfSource({ ...o.ebpf, hooks, reconcileMs: o.reconcileMs, log: o.log });
    }
    case 'sockdiag': {
      const { SockDiagSource } = await import('./sockdiag.js');
      return new SockDiagSource({ intervalMs: o.intervalMs, log: o.log });
    }
    case 'procfs':
      return new ProcfsSource({ intervalMs: o.intervalMs });
  }
}

export async function selectSource(choice: SourceChoice, o: SourceOptions): Promise<Selection> {
  const order: SourceName[] = choice === 'auto' ? ['ebpf', 'sockdiag', 'procfs'] : [choice];
  const skipped: Selection['skipped'] = [];
  for (const name of order) {
    try {
      const source = await create(name, o);
      await source.probe();
      return { source, skipped };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (choice !== 'auto') throw e instanceof BindsightError ? e : new BindsightError('BS_NO_SOURCE', `${name}: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new BindsightError('BS_NO_SOURCE', skipped.map((s) => `${s.name}: ${s.reason}`).join('; '));
}
