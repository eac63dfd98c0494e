// The last word of a failing command: one line on stderr and, with --log,
// the same error as the log's final line (containerd shows that line).

import { writeSync } from 'node:fs';
import { RuntimeError } from '../errors/runtime-error.js';
import { Codes } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';

export function toRuntimeError(err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const e = err as Error;
  return new RuntimeError(Codes.Internal, `internal error: ${e?.message ?? String(err)}`, {
    hint: 'this is a bug in runt; please report it with the command line and --debug output',
    cause: err,
  });
}

export function reportError(err: unknown, log: Logger | undefined): void {
  const e = toRuntimeError(err);
  const line = `runt: ${e.message} [${e.code}]${e.hint ? ` (hint: ${e.hint})` : ''}`;
  writeSync(2, line.replace(/\n/g, ' ') + '\n');
  log?.error(e.message, e.toFields());
  if (log?.debugEnabled && e.cause) writeSync(2, String((e.cause as Error)?.stack ?? e.cause) + '\n');
}
