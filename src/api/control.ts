// The control endpoint: HTTP on loopback (docs/configuration.md, "control").
//   GET /registry  the registry as JSON (what `bindsight list` prints)
//   GET /events    the recent add/remove socket events
//   GET /healthz   200 "ok" while the daemon runs
//   GET /metrics   Prometheus text format
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { DaemonState } from '../daemon/daemon.js';
import { BindsightError } from '../errors.js';

export interface ControlServer {
  address(): { address: string; port: number };
  close(): Promise<void>;
}

export async function startControl(at: { address: string; port: number }, state: DaemonState, log: Logger): Promise<ControlServer> {
  const server: Server = createServer((req, res) => {
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const json = (v: unknown) => send(200, 'application/json', `${JSON.stringify(v, null, 2)}\n`);
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/registry':
        return json({ source: state.source(), ...state.registry() });
      case '/events':
        return json(state.events());
      case '/metrics':
        state.metrics.registry.metrics().then(
          (text) => send(200, state.metrics.registry.contentType, text),
          (err: Error) => {
            log.warn({ err }, 'metrics collection failed');
            send(500, 'text/plain', 'metrics failed\n');
          },
        );
        return;
      default:
        return send(404, 'text/plain', 'not found: try /registry, /events, /healthz, /metrics\n');
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new BindsightError('BS_LISTEN_FAILED', `control endpoint ${at.address}:${at.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    server.listen(at.port, at.address, () => resolve());
  });
  return {
    address: () => {
      const a = server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
