// Prometheus metrics: one namespace (bindsight_), one subsystem per component,
// a help string each (CoreDNS's habit). test/metrics.test.ts lints the names.
import { Counter, Gauge, Registry } from 'prom-client';
import { typeName } from '../dns/records.js';

const RCODES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' };

export class Metrics {
  readonly registry = new Registry();
  readonly queries = new Counter({
    name: 'bindsight_dns_queries_total', help: 'DNS responses sent, by query type, rcode and transport.',
    labelNames: ['qtype', 'rcode', 'transport'] as const, registers: [this.registry],
  });
  readonly truncated = new Counter({
    name: 'bindsight_dns_truncated_total', help: 'DNS responses sent with TC set.', labelNames: ['transport'] as const, registers: [this.registry],
  });
  readonly malformed = new Counter({
    name: 'bindsight_dns_malformed_total', help: 'Malformed DNS packets received, by reason.', labelNames: ['reason'] as const, registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'bindsight_dns_rate_limited_total', help: 'Responses dropped or slipped (TC) by response rate limiting.', labelNames: ['action'] as const, registers: [this.registry],
  });
  readonly scans = new Counter({
    name: 'bindsight_discovery_scans_total', help: 'Full socket snapshots applied to the registry, by source.', labelNames: ['source'] as const, registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'bindsight_discovery_events_total', help: 'Incremental socket events applied, by kind.', labelNames: ['kind'] as const, registers: [this.registry],
  });
  readonly scanErrors = new Counter({
    name: 'bindsight_discovery_errors_total', help: 'Scans that failed, by source.', labelNames: ['source'] as const, registers: [this.registry],
  });
  readonly services = new Gauge({
    name: 'bindsight_registry_services', help: 'Services in the registry.', registers: [this.registry],
  });
  readonly endpoints = new Gauge({
    name: 'bindsight_registry_endpoints', help: 'Endpoints (sockets) in the registry.', registers: [this.registry],
  });

  private sourceStats: () => { name: string; stats?: unknown } = () => ({ name: 'none' });

  /** The eBPF source's own counters, read at scrape time. */
  readonly ebpf = (['events', 'drops', 'resyncs', 'reconcileCorrections'] as const).map((k) => {
    const name = `bindsight_ebpf_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
    const help = {
      events: 'Events read from the eBPF ring buffer.',
      drops: 'Events the kernel dropped because the ring buffer was full.',
      resyncs: 'Full resyncs from sock_diag after drops.',
      reconcileCorrections: 'Registry corrections made by the periodic reconcile (0 in a healthy run).',
    }[k];
    const metrics = this;
    return new Counter({
      name, help, registers: [this.registry],
      collect() {
        const st = metrics.sourceStats().stats as Partial<Record<typeof k, number>> | undefined;
        this.reset();
        if (typeof st?.[k] === 'number') this.inc(st[k]);
      },
    });
  });

  watchSource(f: () => { name: string; stats?: unknown }): void {
    this.sourceStats = f;
  }

  response(qtype: number | null, rcode: number, transport: string, truncated: boolean): void {
    this.queries.inc({ qtype: qtype === null ? 'none' : typeName(qtype), rcode: RCODES[rcode] ?? String(rcode), transport });
    if (truncated) this.truncated.inc({ transport });
  }
}
