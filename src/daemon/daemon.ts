// Wires the parts together: a discovery source feeds the socket table, each
// change rebuilds the registry and the zone index, and the DNS server and the
// control endpoint read the current index. All I/O lives here and in the
// adapters it calls; the registry and answer building stay pure.
import type { Config } from '../config/config.js';
import { parseHostPort } from '../config/config.js';
import type { Logger } from '../log.js';
import { Metrics } from '../api/metrics.js';
import { startControl, type ControlServer } from '../api/control.js';
import { selectSource } from '../discovery/select.js';
import type { DiscoverySource, SourceEvent } from '../discovery/source.js';
import { isService } from '../discovery/socket.js';
import { selfNetns } from '../discovery/procfs.js';
import { buildRegistry, withConnections, type ConnectionCounts, type Registry } from '../registry/registry.js';
import { readHost } from '../registry/host.js';
import { compileRules, type CompiledRule } from '../naming/rules.js';
import { readEtcServices, typeTable, type TypeTable } from '../naming/service-types.js';
import { toLabel } from '../naming/label.js';
import { enumerateStaticTypes, renderRegistry } from '../dns/discovered-zone.js';
import { buildZoneSet, type ZoneInput, type ZoneSet } from '../dns/zone-set.js';
import { synthesizeNs, synthesizeSoa } from '../dns/authority.js';
import { answer } from '../dns/answer.js';
import { nameKey } from '../dns/records.js';
import { labelBelow } from '../dns/names.js';
import { startDnsServer, type DnsServer } from '../dns/server.js';
import { SocketTable } from './socket-table.js';
import { EventRecord } from './event-record.js';
import { loadZoneDir, type LoadedZone } from '../zones/load.js';

/** How often interface addresses are re-read (wildcard binds answer with them). */
const HOST_REFRESH_MS = 2000;

export interface DaemonState {
  registry(): Registry;
  events(): ReturnType<EventRecord['list']>;
  source(): { name: string; stats?: unknown };
  metrics: Metrics;
}

export class Daemon implements DaemonState {
  readonly metrics = new Metrics();
  private readonly table = new SocketTable((s) => isService(s, this.host.ephemeral));
  private readonly record = new EventRecord();
  private readonly rules: CompiledRule[];
  private readonly types: TypeTable;
  private readonly netns = selfNetns();
  /**
   * Host facts change rarely; reading them on every socket event would put
   * getifaddrs() on the event path. Refreshed on a timer instead.
   */
  private host = readHost(this.netns);
  private hostTimer: NodeJS.Timeout | undefined;
  private current: Registry;
  private zones: ZoneSet = { zones: [], reverse: new Map() };
  private staticZones: LoadedZone[] = [];
  /** Labels of the service zone that zone files define: not for processes to take. */
  private staticLabels = new Set<string>();
  private serial = Math.floor(Date.now() / 1000);
  private src: DiscoverySource | undefined;
  private dns: DnsServer | undefined;
  private control: ControlServer | undefined;
  private rebuildPending = false;
  private nextRebuildAt = 0;

  constructor(private readonly config: Config, private readonly log: Logger) {
    this.rules = compileRules(config.rules);
    this.types = typeTable(readEtcServices());
    this.current = { host: this.host, services: [] };
  }

  /** The registry, with connection facts when the source tracks them. */
  registry(): Registry {
    const s = this.src as (DiscoverySource & { connections?: () => ReadonlyMap<string, ConnectionCounts> }) | undefined;
    const facts = s?.connections?.();
    return facts && facts.size ? withConnections(this.current, facts) : this.current;
  }

  events() {
    return this.record.list();
  }

  source() {
    const s = this.src as (DiscoverySource & { stats?: () => unknown }) | undefined;
    return { name: s?.name ?? 'none', ...(s?.stats ? { stats: s.stats() } : {}) };
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.zonesDir) {
      const { zones, errors } = await loadZoneDir(c.zonesDir, { defaultTtl: c.ttl, badRecords: 'poison' });
      for (const e of errors) this.log.error({ err: e, code: e.code }, 'zone file skipped');
      for (const e of zones.flatMap((z) => z.recordErrors ?? [])) this.log.error({ err: e, code: e.code }, 'zone record skipped; its name answers SERVFAIL');
      this.staticZones = zones.filter((z) => {
        // RFC 6762 §3: `local.` belongs to mDNS; avahi turns itself off when
        // unicast DNS answers an SOA for it.
        if (nameKey(z.origin) !== 'local') return true;
        this.log.error({ file: z.file, code: 'BS_ZONE_PARSE' }, `zone file ${z.file} skipped: zone "local" is reserved for mDNS (RFC 6762 §3)`);
        return false;
      });
      const zoneKey = nameKey(c.zone);
      this.staticLabels = new Set(this.staticZones.filter((z) => nameKey(z.origin) === zoneKey)
        .flatMap((z) => [...z.records, ...(z.soa ? [z.soa] : [])].map((r) => labelBelow(nameKey(r.name), zoneKey)))
        .filter((l): l is string => l !== undefined));
      this.log.info({ dir: c.zonesDir, zones: zones.map((z) => `${z.file}:${z.origin}`) }, 'static zones loaded');
    }
    this.rebuild();

    const sel = await selectSource(c.source, {
      intervalMs: c.intervalMs, reconcileMs: c.reconcileMs, ebpf: c.ebpf, connections: c.connections, log: this.log.child({ component: 'source' }),
    });
    for (const s of sel.skipped) this.log.warn({ source: s.name, reason: s.reason }, `discovery source ${s.name} not used`);
    this.src = sel.source;
    this.metrics.watchSource(() => this.source());
    this.log.info(
      { source: sel.source.name, requested: c.source, skipped: sel.skipped },
      c.source === 'auto'
        ? `discovery source: ${sel.source.name} (auto${sel.skipped.length ? `; ${sel.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` : ''})`
        : `discovery source: ${sel.source.name} (requested)`,
    );

    this.dns = await startDnsServer({
      listen: c.listen.map((l) => parseHostPort(l, 'listen')),
      answer: (q) => answer(this.zones, q),
      log: this.log.child({ component: 'dns' }),
      rrl: c.rrl.enabled ? { enabled: true, responsesPerSecond: c.rrl.responsesPerSecond, exemptLoopback: c.rrl.exemptLoopback } : undefined,
      onResponse: (i) => this.metrics.response(i.qtype, i.rcode, i.transport, i.truncated),
      onMalformed: (reason) => this.metrics.malformed.inc({ reason }),
      onRateLimited: (action) => this.metrics.rateLimited.inc({ action }),
    });
    for (const a of this.dns.addresses()) this.log.info({ address: a.address, port: a.port, transport: a.transport }, `dns listening on ${a.transport} ${a.address}:${a.port}`);

    await sel.source.start(
      (e) => this.onSourceEvent(e),
      (err) => {
        this.metrics.scanErrors.inc({ source: sel.source.name });
        this.log.warn({ err }, 'discovery scan failed; keeping the last good registry');
      },
    );

    if (c.control !== 'off') {
      this.control = await startControl(parseHostPort(c.control, 'control'), this, this.log.child({ component: 'control' }));
      const a = this.control.address();
      this.log.info({ address: a.address, port: a.port }, `control endpoint on http://${a.address}:${a.port}`);
    }
    this.hostTimer = setInterval(() => this.refreshHost(), HOST_REFRESH_MS).unref();
    this.log.info({ services: this.current.services.length }, 'bindsight ready');
  }

  private onSourceEvent(e: SourceEvent): void {
    const name = this.src?.name ?? 'unknown';
    if (e.kind === 'snapshot') this.metrics.scans.inc({ source: name });
    else {
      this.metrics.events.inc({ kind: e.kind }, e.sockets.length);
      if (!this.table.relevant(e)) return; // client sockets: not ours to record
      for (const s of e.sockets) {
        const r = this.record.push(e.kind, s);
        this.log.debug({ event: r }, `socket ${e.kind}`);
      }
    }
    if (this.table.apply(e)) this.scheduleRebuild();
  }

  /**
   * Rebuilds at once (in a microtask, before any query is served) unless the
   * last rebuild was recent: then after a pause as long as that rebuild took.
   * Rebuilding takes at most half the daemon's time however fast events come,
   * and a burst of thousands of events shares a few rebuilds instead of one
   * each (quadratic). A small registry rebuilds in well under a millisecond.
   */
  private scheduleRebuild(): void {
    if (this.rebuildPending) return;
    this.rebuildPending = true;
    const run = () => {
      this.rebuildPending = false;
      const t0 = performance.now();
      this.rebuild();
      const t1 = performance.now();
      this.nextRebuildAt = t1 + (t1 - t0);
    };
    const wait = this.nextRebuildAt - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else queueMicrotask(run);
  }

  private refreshHost(): void {
    const next = readHost(this.netns);
    if (JSON.stringify(next) === JSON.stringify(this.host)) return;
    this.log.info({ ipv4: next.ipv4, ipv6: next.ipv6 }, 'host addresses changed');
    this.host = next;
    this.rebuild();
  }

  private rebuild(): void {
    const c = this.config;
    const host = this.host;
    const reserved = new Set([...this.staticLabels, toLabel(host.hostname)]);
    this.current = buildRegistry(this.table.all(), host, { rules: this.rules, types: this.types, reserved });
    const rendered = renderRegistry(this.current, { origin: c.zone, ttl: c.ttl });
    // Every rebuild follows a change the source reported: a new zone version
    // (RFC 1982 serial arithmetic wraps at 2^32; synthesizeSoa takes >>> 0).
    this.serial++;
    const nsName = `${toLabel(host.hostname)}.${c.zone}`;
    const auth = (origin: string) => {
      const o = { origin, nsName, serial: this.serial, ttl: c.ttl, negativeTtl: c.negativeTtl };
      return { soa: synthesizeSoa(o), ns: synthesizeNs(o) };
    };
    const inputs: ZoneInput[] = [{ origin: c.zone, records: rendered.records, ...auth(c.zone) }];
    for (const z of this.staticZones) {
      const existing = inputs.find((i) => nameKey(i.origin) === nameKey(z.origin));
      if (existing) {
        const types = enumerateStaticTypes(z.records, existing.records, existing.origin, c.ttl);
        existing.records = [...existing.records, ...types, ...z.records, ...(z.soa ? [z.soa] : [])];
        existing.broken = [...(existing.broken ?? []), ...(z.broken ?? [])];
      } else inputs.push({ origin: z.origin, records: [...z.records, ...(z.soa ? [z.soa] : [])], broken: z.broken, ...auth(z.origin) });
    }
    this.zones = buildZoneSet(inputs, rendered.reverse);
    this.metrics.services.set(this.current.services.length);
    this.metrics.endpoints.set(this.current.services.reduce((n, s) => n + s.endpoints.length, 0));
  }

  async stop(): Promise<void> {
    clearInterval(this.hostTimer);
    await Promise.allSettled([this.src?.stop(), this.dns?.close(), this.control?.close()]);
  }
}
