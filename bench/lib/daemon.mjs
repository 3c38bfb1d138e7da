// Starts the real daemon for a benchmark and learns its ports from its log.
import { spawn } from 'node:child_process';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export async function startDaemon(args) {
  const proc = spawn(process.execPath, [CLI, 'run', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--no-zones', '--no-rrl', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let buf = '';
  let dnsPort = 0;
  await new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${buf.slice(-2000)}`)));
    proc.stderr.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.msg?.startsWith('dns listening on udp')) dnsPort = j.port;
          if (j.msg === 'bindsight ready') resolve();
        } catch { /* partial line */ }
      }
      if (buf.length > 1 << 20) buf = buf.slice(-65536);
    });
  });
  return {
    dnsPort,
    stop: () => new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); }),
  };
}
