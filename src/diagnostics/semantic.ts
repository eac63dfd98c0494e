// Every semantic problem of a config, not just the first: each check of
// spec/validate.ts runs on its own. validateSpec runs last so that a check
// added there but missing from SEMANTIC_CHECKS still reports.

import { RuntimeError } from '../errors/runtime-error.js';
import type { Spec } from '../spec/types.js';
import { SEMANTIC_CHECKS, validateSpec, type ValidateOptions } from '../spec/validate.js';
import { fromRuntimeError, sameDiagnostic, type Diagnostic } from './diagnostic.js';

export function semanticDiagnostics(spec: Spec, opts: ValidateOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const run = (check: () => void): void => {
    try {
      check();
    } catch (err) {
      // a check tripping over a shape the schema let through is not a finding
      if (!(err instanceof RuntimeError)) return;
      const d = fromRuntimeError(err, 'semantic');
      if (!out.some((x) => sameDiagnostic(x, d))) out.push(d);
    }
  };
  for (const check of SEMANTIC_CHECKS) run(() => check(spec, opts));
  run(() => validateSpec(spec, opts));
  return out;
}
