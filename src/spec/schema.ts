// JSON-schema checks of config.json, state and features documents against the
// vendored OCI runtime-spec schemas (schemas/*.json).
//
// The validators are not compiled at run time: `make` runs
// src/build/compile-schemas.ts, which writes ajv's standalone code for all
// three entry points to dist/generated/validators.js. That module is imported
// lazily, on the first check, so commands that never validate do not pay for
// it.
//
// ajv's raw errors are turned into short issues: a JSON pointer into the
// document and one sentence. For anyOf/oneOf failures ajv reports every
// branch's errors plus "must match a schema in anyOf"; only the most specific
// branch error is kept.

import type { ErrorObject } from 'ajv';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

export interface SchemaIssue {
  /** JSON pointer into the checked document ('/' for the document itself). */
  pointer: string;
  message: string;
}

type ValidateFunction = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

interface ValidatorsModule {
  validateConfig: ValidateFunction;
  validateState: ValidateFunction;
  validateFeatures: ValidateFunction;
}

// The generated module sits in dist/generated/; this file runs as
// dist/src/spec/schema.js (tsc output), from where the literal path below
// finds it, and the shipped executable is bundled from that output, so the
// bundler resolves the same literal and carries the validators inside
// (precompiled to bytecode with the rest).
const VALIDATORS_PATH = 'dist/generated/validators.js';

let validators: Promise<ValidatorsModule> | undefined;

function loadValidators(): Promise<ValidatorsModule> {
  // @ts-ignore: generated at build time, outside the TypeScript sources
  validators ??= (import('../../generated/validators.js') as Promise<ValidatorsModule>).catch((err: unknown) => {
    validators = undefined; // let a later call retry (e.g. after a build)
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      // an incomplete build, not a bad config: say how to finish it
      throw new RuntimeError(Codes.Internal, `schema validators not built: ${VALIDATORS_PATH} is missing`, {
        path: VALIDATORS_PATH,
        hint: 'run `make` in the runt checkout',
      });
    }
    throw err;
  });
  return validators;
}

async function check(
  name: keyof ValidatorsModule,
  doc: unknown,
): Promise<SchemaIssue[]> {
  const validate = (await loadValidators())[name];
  if (validate(doc)) return [];
  return toIssues(validate.errors ?? []);
}

/** Checks a parsed config.json against config-schema.json. */
export function checkConfigSchema(doc: unknown): Promise<SchemaIssue[]> {
  return check('validateConfig', doc);
}

/** Checks a state document against state-schema.json. */
export function checkStateSchema(doc: unknown): Promise<SchemaIssue[]> {
  return check('validateState', doc);
}

/** Checks a features document against features-schema.json. */
export function checkFeaturesSchema(doc: unknown): Promise<SchemaIssue[]> {
  return check('validateFeatures', doc);
}

/** `config.json: /linux/namespaces/2/type: must be one of "mount", "pid", ...` */
export function formatSchemaIssue(file: string, i: SchemaIssue): string {
  return `${file}: ${i.pointer}: ${i.message}`;
}

// ---------------------------------------------------------------------------
// ajv errors -> issues

/** Converts ajv errors (as left on a validate function) into deduplicated issues. */
export function toIssues(errors: readonly ErrorObject[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of collapseAlternatives(errors)) {
    const issue = { pointer: err.instancePath === '' ? '/' : err.instancePath, message: describe(err) };
    const key = `${issue.pointer}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function isWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('/').length - 1;
}

/**
 * ajv (allErrors) reports the errors of every anyOf/oneOf branch first, then
 * the anyOf/oneOf error itself, all in evaluation order. Replace each such
 * group by the most specific branch error(s). Nested groups collapse first,
 * since their summary error comes first.
 */
function collapseAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  for (const err of errors) {
    if (err.keyword !== 'anyOf' && err.keyword !== 'oneOf') {
      out.push(err);
      continue;
    }
    // oneOf that failed because several branches matched: no branch errors.
    if (err.keyword === 'oneOf' && Array.isArray((err.params as { passingSchemas?: unknown }).passingSchemas)) {
      out.push(err);
      continue;
    }
    // The branch errors are the run of errors just before, at or below this
    // error's instance location.
    let start = out.length;
    while (start > 0 && isWithin(out[start - 1]!.instancePath, err.instancePath)) start--;
    const branchErrors = out.splice(start);
    const best = mostSpecific(branchErrors);
    out.push(...(best.length > 0 ? best : [err]));
  }
  return out;
}

function mostSpecific(errors: ErrorObject[]): ErrorObject[] {
  // "must be null" comes from the `{"type": "null"}` branch of the spec's
  // optional ("pointer") types; the other branch says what was meant.
  let candidates = errors.filter((e) => !(e.keyword === 'type' && typeParam(e) === 'null'));
  if (candidates.length === 0) candidates = errors;
  if (candidates.length === 0) return [];
  // The deepest location is the most specific: it is where the document went
  // wrong once the branch was otherwise accepted.
  const maxDepth = Math.max(...candidates.map((e) => depth(e.instancePath)));
  candidates = candidates.filter((e) => depth(e.instancePath) === maxDepth);
  // At the same location a type mismatch is the least informative (it usually
  // just means "this was not the branch"); prefer anything else.
  const nonType = candidates.filter((e) => e.keyword !== 'type');
  if (nonType.length > 0) return nonType;
  // Only type errors, maybe from several branches: merge into one
  // "must be integer or string" per location.
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of candidates) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const merged: ErrorObject[] = [];
  for (const group of byPath.values()) {
    const types = [...new Set(group.flatMap((e) => typeList(e)))];
    merged.push({ ...group[0]!, params: { type: types } });
  }
  return merged;
}

function typeParam(e: ErrorObject): string {
  return typeList(e).join(',');
}

function typeList(e: ErrorObject): string[] {
  const t = (e.params as { type?: unknown }).type;
  if (Array.isArray(t)) return t.map(String);
  return typeof t === 'string' ? t.split(',') : [];
}

function quote(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum': {
      const allowed = Array.isArray(p.allowedValues) ? p.allowedValues : [];
      return `must be one of ${allowed.map(quote).join(', ')}`;
    }
    case 'required':
      return `missing required property ${quote(p.missingProperty)}`;
    case 'type':
      return `must be ${orList(typeList(e))}`;
    case 'additionalProperties':
      return `unknown property ${quote(p.additionalProperty)}`;
    case 'pattern':
      return `must match pattern ${quote(p.pattern)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'minItems':
      return `must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'minLength':
      return `must be at least ${String(p.limit)} character${p.limit === 1 ? '' : 's'} long`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} character${p.limit === 1 ? '' : 's'} long`;
    case 'uniqueItems':
      return `must not contain duplicates (items ${String(p.j)} and ${String(p.i)} are equal)`;
    case 'dependencies':
      return `property ${quote(p.property)} requires ${quote(p.missingProperty)}`;
    case 'oneOf':
      if (Array.isArray(p.passingSchemas)) return 'matches more than one of the allowed forms';
      return 'does not match any of the allowed forms';
    case 'anyOf':
      return 'does not match any of the allowed forms';
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}
