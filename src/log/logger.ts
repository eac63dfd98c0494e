// One logger for the whole CLI, runc-compatible: with --log FILE lines go to
// the file (JSON lines with --log-format json: {"level","msg","time", ...}),
// otherwise to stderr. containerd's shim keeps only the last "error" line of
// the JSON log, so the root cause must be that line.

import { fs } from '../sys/fs.js';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file: string | undefined;
  format: 'text' | 'json';
  debug: boolean;
}

export class Logger {
  private fd: number | undefined;
  // The phase of the command in progress: an error without a phase of its
  // own is reported in it. With --trace, the tracer (src/diagnostics/
  // trace.ts, loaded only then) also times each phase.
  phaseName: string | undefined;
  tracer: { phase(name: string): void; finish(exit: number): void } | undefined;
  constructor(private readonly opts: LogOptions) {}

  phase(name: string): void {
    this.phaseName = name;
    this.tracer?.phase(name);
  }

  // Create the --log file now, as runc does at start-up: containerd's shim
  // opens it to read the last error after any failure, and a missing file
  // turns that into "unable to retrieve OCI runtime error".
  open(): void {
    if (this.opts.file) this.out();
  }

  get debugEnabled(): boolean {
    return this.opts.debug;
  }

  private out(): number {
    if (!this.opts.file) return 2;
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.opts.file, 'a', 0o644);
      } catch {
        this.fd = 2;
      }
    }
    return this.fd;
  }

  log(level: Level, msg: string, fields: Record<string, string | number> = {}): void {
    if (level === 'debug' && !this.opts.debug) return;
    const time = new Date().toISOString();
    let line: string;
    if (this.opts.format === 'json') {
      line = JSON.stringify({ level, msg, time, ...fields }) + '\n';
    } else if (this.opts.file) {
      const extra = Object.entries(fields)
        .map(([k, v]) => ` ${k}=${JSON.stringify(String(v))}`)
        .join('');
      line = `time="${time}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`;
    } else {
      if (level === 'error') return; // errors reach stderr through reportError
      line = `runt: ${level}: ${msg}\n`;
    }
    try {
      fs.writeSync(this.out(), line);
    } catch {
      // logging must never be the reason a command fails
    }
  }

  debug(msg: string, fields?: Record<string, string | number>): void {
    this.log('debug', msg, fields);
  }
  warn(msg: string, fields?: Record<string, string | number>): void {
    this.log('warning', msg, fields);
  }
  error(msg: string, fields?: Record<string, string | number>): void {
    this.log('error', msg, fields);
  }
  get toFile(): boolean {
    return !!this.opts.file;
  }
}
