// Daemon operation: control endpoint, metrics, help, clean shutdown, config errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { dig } from './helpers/dig.js';

const run = promisify(execFile);

describe('daemon operation', () => {
  let d: RunningDaemon;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--interval', '500ms'] });
  });
  afterAll(async () => d?.stop());

  it('serves /healthz, /registry and /metrics', async () => {
    expect(await d.control('/healthz')).toBe('ok\n');
    const reg = (await d.control('/registry')) as { services: unknown[]; host: { hostname: string }; source: { name: string } };
    expect(Array.isArray(reg.services)).toBe(true);
    expect(reg.source.name).toMatch(/ebpf|sockdiag|procfs/);
    await dig(d.dnsPort, 'nope.svc.local', 'A');
    const metrics = String(await d.control('/metrics'));
    expect(metrics).toMatch(/bindsight_dns_queries_total\{qtype="A",rcode="NXDOMAIN",transport="udp"\} \d+/);
    expect(metrics).toMatch(/bindsight_registry_services \d+/);
    expect(metrics).toMatch(/bindsight_discovery_scans_total\{source="\w+"\} \d+/);
    if (reg.source.name === 'ebpf') {
      expect(metrics).toMatch(/^bindsight_ebpf_events_total \d+$/m);
      expect(metrics).toMatch(/^bindsight_ebpf_resyncs_total 0$/m);
      expect(metrics).toMatch(/^bindsight_ebpf_reconcile_corrections_total 0$/m);
    }
  });

  it('discovers itself as bindsight.svc.local, with its DNS port', async () => {
    const { waitFor } = await import('./helpers/daemon.js');
    await waitFor(async () => (await dig(d.dnsPort, 'bindsight.svc.local', 'SRV')).answer.some((l) => l.endsWith(` ${d.dnsPort} bindsight.svc.local.`)), 'the daemon itself');
  });

  it('serves the shipped example zone next to discovered names', async () => {
    const r = await dig(d.dnsPort, 'printer.svc.local', 'A');
    expect(r.status).toBe('NOERROR');
  });

  it('metric names follow one namespace with a help string each', async () => {
    const text = String(await d.control('/metrics'));
    const names = [...text.matchAll(/^# HELP (\S+) (.+)$/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(5);
    for (const n of names) expect(n).toMatch(/^bindsight_[a-z]+_[a-z_]+$/);
  });

  it('listens on every --listen address, UDP and TCP', async () => {
    const d2 = await startDaemon({ args: ['--listen', '[::1]:0', '--no-zones'] });
    try {
      const udp = d2.logs.filter((l) => l.msg.startsWith('dns listening on udp')).map((l) => [l.address, l.port] as [string, number]);
      expect(udp.map(([a]) => a).sort()).toEqual(['127.0.0.1', '::1']);
      for (const [address, port] of udp) {
        expect((await dig(port, 'svc.local', 'SOA', [], address)).status).toBe('NOERROR');
        expect((await dig(port, 'svc.local', 'SOA', ['+tcp'], address)).status).toBe('NOERROR');
      }
    } finally {
      await d2.stop();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const d2 = await startDaemon();
    expect(await d2.stop('SIGTERM')).toBe(0);
    const d3 = await startDaemon();
    expect(await d3.stop('SIGINT')).toBe(0);
  });
});

describe('command line', () => {
  it.each([[['--help']], [['help']], [['run', '--help']], [['list', '--help']], [['help', 'list']]])('%j prints usage', async (args) => {
    const { stdout } = await run(process.execPath, [CLI, ...args]);
    expect(stdout).toMatch(/^Usage: bindsight/);
  });

  it('rejects bad flags and bad config with a coded error and exit 2', async () => {
    for (const args of [['run', '--source', 'magic'], ['run', '--listen', 'nonsense'], ['run', '--interval', 'soon'], ['run', '--zone', 'local'], ['frobnicate'], ['run', '--bogus'], ['list', '--bogus']]) {
      const err = await run(process.execPath, [CLI, ...args]).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err, args.join(' ')).not.toBeNull();
      expect(err!.code).toBe(2);
      expect(err!.stderr).toMatch(/bindsight: /);
    }
  });

  it('reads a config file through conf; flags override it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-conf-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ zone: 'lab.test', ttl: 42, rules: [{ match: { comm: 'nothing' }, ignore: true }] }));
    const d = await startDaemon({ args: ['--config', file, '--ttl', '7', '--no-zones'] });
    try {
      const r = await dig(d.dnsPort, 'lab.test', 'SOA');
      expect(r.status).toBe('NOERROR');
      expect(r.answer[0]).toMatch(/^lab\.test\. 7 IN SOA /);
    } finally {
      await d.stop();
    }
    writeFileSync(file, JSON.stringify({ zone: 42 }));
    const err = await run(process.execPath, [CLI, 'run', '--config', file]).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/BS_CONFIG_INVALID: configuration is invalid: zone must be a domain name/);
    for (const text of ['[]', 'null', '42', '{bad']) {
      writeFileSync(file, text);
      const bad = await run(process.execPath, [CLI, 'run', '--config', file]).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(bad?.code, text).toBe(2);
      expect(bad?.stderr, text).toMatch(/BS_CONFIG_INVALID: configuration is invalid: config file .*(must hold a JSON object|JSON)/);
    }
  });

  it('--version prints the package version', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--version']);
    expect(stdout).toMatch(/^bindsight \d+\.\d+\.\d+\n$/);
  });

  it('a taken port is one plain line naming the address and the errno, exit 1', async () => {
    const d = await startDaemon({ args: ['--no-zones', '--control', 'off'] });
    try {
      const err = await run(process.execPath, [CLI, 'run', '--listen', `127.0.0.1:${d.dnsPort}`, '--control', 'off', '--no-zones'])
        .then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain(`bindsight: BS_LISTEN_FAILED: could not listen on an address: DNS 127.0.0.1 port ${d.dnsPort}/udp: EADDRINUSE\n`);
    } finally {
      await d.stop();
    }
  });
});
