// --trace (or RUNT_TRACE=1): per-phase timings of one invocation as JSON
// lines, on stderr or appended to the --log file:
//   {"level":"trace","msg":"cgroup","time":"…","phase":"cgroup","startMs":31.2,"ms":2.41}
// and a last line {"msg":"total", "command", "exit", "ms"}. A line is written
// when its phase ends, so a crash still leaves the phases before it.
// Loaded only when tracing is asked for; the runtime marks phases through
// Logger.phase(), which costs an assignment without a tracer.

import { fs } from '../sys/fs.js';

export interface TraceOptions {
  command: string;
  file: string | undefined; // --log
  mainStart: number; // performance.now() when main() began
}

export class Tracer {
  private current: { name: string; start: number } | undefined;
  private done = false;
  private fd: number | undefined;

  constructor(private readonly opts: TraceOptions) {
    if (opts.file) {
      try {
        this.fd = fs.openSync(opts.file, 'a', 0o644);
      } catch {
        this.fd = undefined; // as the logger: fall back to stderr
      }
    }
    // interpreter start-up and module loading, then argv parsing
    this.emit('startup', 0, opts.mainStart);
    this.current = { name: 'parse', start: opts.mainStart };
  }

  private emit(name: string, start: number, end: number, extra: Record<string, unknown> = {}): void {
    const line = JSON.stringify({
      level: 'trace',
      msg: name,
      time: new Date().toISOString(),
      phase: name,
      startMs: round(start),
      ms: round(end - start),
      ...extra,
    });
    try {
      fs.writeSync(this.fd ?? 2, line + '\n');
    } catch {
      // tracing must never fail a command
    }
  }

  phase(name: string): void {
    if (this.done) return;
    const now = performance.now();
    if (this.current) this.emit(this.current.name, this.current.start, now);
    this.current = { name, start: now };
  }

  // Idempotent: the error report calls it before its own last log line,
  // the exit handler after a success.
  finish(exit: number): void {
    if (this.done) return;
    const now = performance.now();
    if (this.current) this.emit(this.current.name, this.current.start, now);
    this.current = undefined;
    this.emit('total', 0, now, { command: this.opts.command, exit, pid: process.pid });
    this.done = true;
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // nothing to do
      }
      this.fd = undefined;
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function startTrace(log: { tracer: { phase(name: string): void; finish(exit: number): void } | undefined }, opts: TraceOptions): Tracer {
  const t = new Tracer(opts);
  log.tracer = t;
  process.once('exit', (code) => t.finish(code));
  return t;
}
