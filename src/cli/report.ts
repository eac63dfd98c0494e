// The last word of a failing command: one line on stderr and, with --log,
// the same error as the log's final line (containerd shows that line).

import { fs } from '../sys/fs.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { Codes } from '../errors/codes.js';
import { Logger } from '../log/logger.js';

export function toRuntimeError(err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const e = err as NodeJS.ErrnoException;
  // an escaped system error still says what failed where
  return new RuntimeError(Codes.Internal, `internal error: ${e?.message ?? String(err)}`, {
    hint: 'this is a bug in runt; please report it with the command line and --debug output',
    cause: err,
    ...(typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) ? { errno: e.code } : {}),
    ...(typeof e?.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e?.path === 'string' ? { path: e.path } : {}),
  });
}

// --log and --log-format straight from argv, for errors raised before the
// command line parsed (containerd reads the error from that log).
export function logFromArgv(argv: string[]): Logger | undefined {
  let file: string | undefined;
  let format = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name !== '--log' && name !== '--log-format') continue;
    const v = inline ?? argv[++i];
    if (name === '--log') file = v;
    else format = v ?? 'text';
  }
  if (!file) return undefined;
  const log = new Logger({ file, format: format === 'json' ? 'json' : 'text', debug: false });
  log.phaseName = 'parse';
  return log;
}

export function reportError(err: unknown, log: Logger | undefined): void {
  const e = toRuntimeError(err);
  const line = `runt: ${e.message} [${e.code}]${e.hint ? ` (hint: ${e.hint})` : ''}`;
  // the trace's lines go first: the error is the last line (containerd
  // keeps only the log's last line)
  log?.tracer?.finish(1);
  fs.writeSync(2, line.replace(/\n/g, ' ') + '\n');
  const fields = e.toFields();
  if (fields.phase === undefined && log?.phaseName) fields.phase = log.phaseName;
  log?.error(e.message, fields);
  if (log?.debugEnabled && e.cause) fs.writeSync(2, String((e.cause as Error)?.stack ?? e.cause) + '\n');
}
