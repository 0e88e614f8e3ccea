// The daemon's log: every line goes to `<workspace>/.r1/daemon.log`, and to whichever live sinks
// are attached (stderr when standalone, the LSP client's output channel once it is connected).
import * as fs from 'node:fs';
import * as path from 'node:path';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

/** Appends timestamped lines to a file and forwards them to the attached sinks. */
export class DaemonLog {
  private readonly sinks = new Set<LogSink>();

  /** @param file the log file; its folder is created if needed */
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Adds a live sink; returns a function that removes it. */
  attach(sink: LogSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  info(message: string): void {
    this.write('info', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  error(message: string): void {
    this.write('error', message);
  }

  private write(level: LogLevel, message: string): void {
    try {
      // Synchronous on purpose: the last lines before a crash are the ones worth keeping.
      fs.appendFileSync(this.file, `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
    } catch {
      // A full disk or a deleted folder must not take the daemon down; the sinks still get it.
    }
    for (const sink of this.sinks) sink(level, message);
  }
}

/** Appends one line to a file, creating its folder; errors are ignored (logging is best effort). */
export function appendLine(file: string, line: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  } catch {
    // best effort, see above
  }
}
