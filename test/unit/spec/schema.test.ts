// Schema checks: the runtime-spec's own good/bad fixtures, plus hand-made
// configs whose issues must come out with an exact pointer and message.
//
// Needs dist/generated/validators.js (make, or:
// node dist/src/build/compile-schemas.js schemas dist/generated/validators.js).
// RUNT_SCHEMAS_DIR / RUNT_SCHEMA_FIXTURES override the default locations
// (schemas/ and test/fixtures/schema/ of the repo).

import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import {
  checkConfigSchema,
  checkFeaturesSchema,
  checkStateSchema,
  formatSchemaIssue,
  toIssues,
  type SchemaIssue,
} from '../../../src/spec/schema.js';
import { esmifyRequires } from '../../../src/build/compile-schemas.js';

// dist/test/unit/spec/ -> repo root
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const schemasDir = process.env.RUNT_SCHEMAS_DIR ?? join(repoRoot, 'schemas');
const fixturesDir = process.env.RUNT_SCHEMA_FIXTURES ?? join(repoRoot, 'test/fixtures/schema');

const checkers: Record<string, (doc: unknown) => Promise<SchemaIssue[]>> = {
  config: checkConfigSchema,
  state: checkStateSchema,
  features: checkFeaturesSchema,
};

function fixtureFiles(kind: string, verdict: 'good' | 'bad'): string[] {
  const dir = join(fixturesDir, kind, verdict);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => join(dir, n));
}

for (const kind of Object.keys(checkers)) {
  const check = checkers[kind]!;
  const good = fixtureFiles(kind, 'good');
  const bad = fixtureFiles(kind, 'bad');

  test(`${kind}: fixtures are present`, (t) => {
    t.true(good.length > 0, `no fixtures in ${join(fixturesDir, kind, 'good')}`);
  });

  for (const file of good) {
    test(`${kind}: good fixture ${file.slice(fixturesDir.length + 1)} passes`, async (t) => {
      const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
      t.deepEqual(await check(doc), []);
    });
  }

  for (const file of bad) {
    test(`${kind}: bad fixture ${file.slice(fixturesDir.length + 1)} fails`, async (t) => {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        t.pass('not valid JSON');
        return;
      }
      const issues = await check(doc);
      t.true(issues.length > 0, 'expected schema issues');
      for (const i of issues) {
        t.regex(i.pointer, /^\//);
        t.true(i.message.length > 0);
      }
    });
  }
}

function namespaceTypes(): string[] {
  const defs = JSON.parse(readFileSync(join(schemasDir, 'defs-linux.json'), 'utf8')) as {
    definitions: { NamespaceType: { enum: string[] } };
  };
  return defs.definitions.NamespaceType.enum;
}

test('wrong namespace type: one issue listing the allowed types', async (t) => {
  const issues = await checkConfigSchema({
    ociVersion: '1.3.0',
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'bogus' }] },
  });
  const message = `must be one of ${namespaceTypes()
    .map((v) => JSON.stringify(v))
    .join(', ')}`;
  t.deepEqual(issues, [{ pointer: '/linux/namespaces/2/type', message }]);
  t.is(
    formatSchemaIssue('config.json', issues[0]!),
    `config.json: /linux/namespaces/2/type: ${message}`,
  );
});

test('missing process.cwd', async (t) => {
  const issues = await checkConfigSchema({
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'] },
  });
  t.deepEqual(issues, [{ pointer: '/process', message: 'missing required property "cwd"' }]);
});

test('negative uid', async (t) => {
  const issues = await checkConfigSchema({
    ociVersion: '1.3.0',
    process: { cwd: '/', user: { uid: -1, gid: 0 } },
  });
  t.deepEqual(issues, [{ pointer: '/process/user/uid', message: 'must be >= 0' }]);
});

test('string where an integer is expected', async (t) => {
  const issues = await checkConfigSchema({
    ociVersion: '1.3.0',
    process: { cwd: '/', user: { uid: 0, gid: 0 }, rlimits: [{ type: 'RLIMIT_NOFILE', soft: '1024', hard: 1024 }] },
    linux: { resources: { memory: { limit: '1g' } } },
  });
  t.deepEqual(issues, [
    { pointer: '/process/rlimits/0/soft', message: 'must be integer' },
    { pointer: '/linux/resources/memory/limit', message: 'must be integer' },
  ]);
});

test('missing ociVersion is reported at the document root', async (t) => {
  t.deepEqual(await checkConfigSchema({}), [{ pointer: '/', message: 'missing required property "ociVersion"' }]);
  t.deepEqual(await checkConfigSchema('nope'), [{ pointer: '/', message: 'must be object' }]);
});

test('state: bad status lists the allowed values', async (t) => {
  const issues = await checkStateSchema({ ociVersion: '1.3.0', id: 'x', status: 'paused', bundle: '/b' });
  t.is(issues.length, 1);
  t.is(issues[0]!.pointer, '/status');
  t.regex(issues[0]!.message, /^must be one of "creating", "created", "running", "stopped"/);
});

test('features: missing ociVersionMax', async (t) => {
  t.deepEqual(await checkFeaturesSchema({ ociVersionMin: '1.0.0' }), [
    { pointer: '/', message: 'missing required property "ociVersionMax"' },
  ]);
});

// toIssues() on hand-written ajv error lists (independent of the schemas).

function err(instancePath: string, keyword: string, params: Record<string, unknown>, schemaPath = '#'): ErrorObject {
  return { instancePath, keyword, params, schemaPath, message: `ajv says ${keyword}` };
}

test('toIssues: oneOf of a "pointer" type keeps the non-null branch', (t) => {
  const issues = toIssues([
    err('/a', 'type', { type: 'integer' }),
    err('/a', 'type', { type: 'null' }),
    err('/a', 'oneOf', { passingSchemas: null }),
  ]);
  t.deepEqual(issues, [{ pointer: '/a', message: 'must be integer' }]);
});

test('toIssues: anyOf keeps the deepest branch error, not the summary', (t) => {
  const issues = toIssues([
    err('/x/0', 'required', { missingProperty: 'a' }),
    err('/x/1', 'type', { type: 'object' }),
    err('/x/1/type', 'enum', { allowedValues: ['a', 'b'] }),
    err('/x/1', 'anyOf', {}),
    err('/y', 'type', { type: 'string' }),
  ]);
  t.deepEqual(issues, [
    { pointer: '/x/0', message: 'missing required property "a"' },
    { pointer: '/x/1/type', message: 'must be one of "a", "b"' },
    { pointer: '/y', message: 'must be string' },
  ]);
});

test('toIssues: type errors of several branches are merged', (t) => {
  const issues = toIssues([
    err('/v', 'type', { type: 'integer' }),
    err('/v', 'type', { type: 'string' }),
    err('/v', 'anyOf', {}),
  ]);
  t.deepEqual(issues, [{ pointer: '/v', message: 'must be integer or string' }]);
});

test('toIssues: nested alternatives collapse inside out', (t) => {
  const issues = toIssues([
    err('/n/k', 'type', { type: 'integer' }),
    err('/n/k', 'type', { type: 'null' }),
    err('/n/k', 'oneOf', { passingSchemas: null }),
    err('/n', 'type', { type: 'string' }),
    err('/n', 'anyOf', {}),
  ]);
  t.deepEqual(issues, [{ pointer: '/n/k', message: 'must be integer' }]);
});

test('toIssues: duplicates are dropped and unknown keywords keep ajv message', (t) => {
  const issues = toIssues([
    err('', 'required', { missingProperty: 'id' }),
    err('', 'required', { missingProperty: 'id' }),
    err('/p', 'pattern', { pattern: '^RLIMIT_[A-Z]+$' }),
    err('/q', 'additionalProperties', { additionalProperty: 'bogus' }),
    err('/r', 'somethingNew', {}),
  ]);
  t.deepEqual(issues, [
    { pointer: '/', message: 'missing required property "id"' },
    { pointer: '/p', message: 'must match pattern "^RLIMIT_[A-Z]+$"' },
    { pointer: '/q', message: 'unknown property "bogus"' },
    { pointer: '/r', message: 'ajv says somethingNew' },
  ]);
});

// compile-schemas: ajv's run-time helpers become imports (no `require` in ESM).

test('esmifyRequires: require() of ajv helpers becomes hoisted imports', (t) => {
  const code =
    '"use strict";const func2 = require("ajv/dist/runtime/ucs2length").default;' +
    'const func0 = require("ajv/dist/runtime/equal").default;const again = require("ajv/dist/runtime/equal").default;';
  const out = esmifyRequires(code);
  t.false(/\brequire\(/.test(out));
  t.true(out.includes('import * as __ajvRuntime0Ns from "ajv/dist/runtime/ucs2length.js";'));
  t.true(out.includes('import * as __ajvRuntime1Ns from "ajv/dist/runtime/equal.js";'));
  t.true(out.includes('const again = __ajvRuntime1.default;'));
  t.is(esmifyRequires('"use strict";export const v = 1;'), '"use strict";export const v = 1;');
});
