// One finding of `runt validate`: an error (create would fail) or a warning
// (create would work, maybe not as meant), with the same code and context
// fields as the runtime's errors.

import { RuntimeError } from '../errors/runtime-error.js';

export type Severity = 'error' | 'warning';
export type CheckKind = 'config' | 'schema' | 'unknown-key' | 'semantic' | 'support' | 'host';

export interface Diagnostic {
  severity: Severity;
  check: CheckKind;
  code: string;
  message: string;
  field?: string;
  path?: string;
  hint?: string;
}

export function fromRuntimeError(e: RuntimeError, check: CheckKind, severity: Severity = 'error'): Diagnostic {
  const d: Diagnostic = { severity, check, code: e.code, message: e.message };
  if (e.field !== undefined) d.field = e.field;
  if (e.path !== undefined) d.path = e.path;
  if (e.hint !== undefined) d.hint = e.hint;
  return d;
}

export function sameDiagnostic(a: Diagnostic, b: Diagnostic): boolean {
  return a.code === b.code && a.message === b.message && a.field === b.field;
}
