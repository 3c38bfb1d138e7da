// pino, JSON on stderr; pretty when stderr is a terminal. stdout stays free
// for command output (`bindsight list --json`). Writes are asynchronous: a
// slow reader of the log (a pipe, journald) must never stall the event loop
// that answers DNS; call flushLog() before exiting.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level }, pino.destination({ dest: 2, sync: false }));
}

/** Writes out what the logger still buffers, then calls done. */
export function flushLog(log: Logger, done: () => void): void {
  try {
    log.flush(() => done());
  } catch {
    done();
  }
}
