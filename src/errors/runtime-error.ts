// One error type for everything the user sees. Each carries a stable code
// (see codes.ts), a one-line lowercase message, and the context that explains
// it: the config field (JSON pointer), the path, the syscall and errno, the
// phase of the operation, and a hint where a fix is known.

import type { ErrorCode } from './codes.js';

export interface ErrorContext {
  field?: string; // JSON pointer into config.json, e.g. /linux/namespaces/2/type
  path?: string;
  syscall?: string;
  errno?: string; // symbolic, e.g. EPERM
  phase?: string;
  hint?: string;
  cause?: unknown;
}

export class RuntimeError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly path: string | undefined;
  readonly syscall: string | undefined;
  readonly errno: string | undefined;
  readonly phase: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, ctx: ErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.field = ctx.field;
    this.path = ctx.path;
    this.syscall = ctx.syscall;
    this.errno = ctx.errno;
    this.phase = ctx.phase;
    this.hint = ctx.hint;
  }

  // Fields for --log-format json; only the ones that are set.
  toFields(): Record<string, string> {
    const out: Record<string, string> = { code: this.code };
    for (const k of ['field', 'path', 'syscall', 'errno', 'phase', 'hint'] as const) {
      const v = this[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
}

// Node's fs errors carry code/syscall/path; turn one into a RuntimeError with
// the given code and a message that says what we were doing.
export function fromSystemError(code: ErrorCode, doing: string, err: unknown, ctx: ErrorContext = {}): RuntimeError {
  const e = err as NodeJS.ErrnoException;
  const errno = typeof e?.code === 'string' ? e.code : undefined;
  const detail = errno ? `${errno}` : String((e as Error)?.message ?? err);
  return new RuntimeError(code, `${doing}: ${detail}`, {
    ...ctx,
    errno: ctx.errno ?? errno,
    syscall: ctx.syscall ?? e?.syscall,
    path: ctx.path ?? e?.path,
    cause: err,
  });
}
