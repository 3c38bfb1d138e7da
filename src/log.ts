// pino, JSON on stderr; pretty when stderr is a terminal. stdout stays free
// for command output (`bindsight list --json`).
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}
