// The runtime-spec JSON schemas (schemas/*.json) as a source of config
// paths and of values for them: every property path of config-schema.json
// (with "*" for an array item and "#" for a map key), and a value generator
// per sub-schema that makes values that fit it or, on request, do not.

import fs from 'node:fs';
import path from 'node:path';
import type { Rng } from './rng.js';

type Schema = Record<string, unknown>;

export interface SchemaPath {
  tokens: string[]; // e.g. ['linux', 'resources', 'memory', 'limit'], ['mounts', '*', 'options', '*']
  file: string;
  schema: Schema;
}

export class SchemaIndex {
  private readonly files = new Map<string, Schema>();
  readonly paths: SchemaPath[] = [];

  constructor(dir: string) {
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.json')) this.files.set(f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Schema);
    this.walk('config-schema.json', this.files.get('config-schema.json')!, [], new Set());
  }

  // Follow $ref chains ("file.json#/a/b" or "#/a/b").
  resolve(file: string, schema: Schema): { file: string; schema: Schema } {
    let f = file;
    let s = schema;
    for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) {
      const [target = '', pointer = ''] = (s.$ref as string).split('#');
      if (target) f = target;
      let node: unknown = this.files.get(f);
      for (const tok of pointer.split('/').filter(Boolean)) node = (node as Record<string, unknown>)[tok];
      s = node as Schema;
    }
    return { file: f, schema: s };
  }

  private walk(file: string, raw: Schema, tokens: string[], seen: Set<string>): void {
    if (tokens.length > 9) return;
    const key = `${file}:${JSON.stringify(raw)}`.slice(0, 400);
    if (seen.has(key)) return;
    const { file: f, schema } = this.resolve(file, raw);
    if (tokens.length) this.paths.push({ tokens, file: f, schema });
    const next = new Set(seen).add(key);
    for (const alt of ['anyOf', 'oneOf', 'allOf'] as const) {
      for (const s of (schema[alt] as Schema[] | undefined) ?? []) this.walk(f, s, tokens, next);
    }
    for (const [k, s] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) this.walk(f, s, [...tokens, k], next);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') this.walk(f, schema.additionalProperties as Schema, [...tokens, '#'], next);
    for (const s of Object.values((schema.patternProperties as Record<string, Schema> | undefined) ?? {})) this.walk(f, s, [...tokens, '#'], next);
    if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) this.walk(f, schema.items as Schema, [...tokens, '*'], next);
  }

  // A value for a schema: one that fits (valid) or one that does not.
  value(file: string, raw: Schema, rng: Rng, valid: boolean, depth = 0): unknown {
    const { file: f, schema } = this.resolve(file, raw);
    const alts = (schema.anyOf ?? schema.oneOf ?? schema.allOf) as Schema[] | undefined;
    if (alts?.length && !schema.type) return this.value(f, rng.pick(alts), rng, valid, depth);
    if (!valid) return rng.chance(0.5) ? rng.wrongTypeFor(schema.type as string | undefined) : this.outOfRange(schema, rng);
    const enums = schema.enum as unknown[] | undefined;
    if (enums?.length) return rng.pick(enums);
    const type = Array.isArray(schema.type) ? rng.pick(schema.type as string[]) : (schema.type as string | undefined);
    switch (type) {
      case 'integer':
      case 'number': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -(2 ** 31);
        const max = typeof schema.maximum === 'number' ? schema.maximum : 2 ** 31;
        return rng.pick([min, max, 0, 1, Math.floor(min + rng.next() * (max - min))].filter((n) => n >= min && n <= max));
      }
      case 'string':
        return rng.string();
      case 'boolean':
        return rng.chance(0.5);
      case 'array': {
        const n = depth > 4 ? 0 : rng.int(4);
        const items = (schema.items ?? {}) as Schema;
        return Array.from({ length: n }, () => this.value(f, items, rng, true, depth + 1));
      }
      case 'object':
      case undefined: {
        const out: Record<string, unknown> = {};
        if (depth > 4) return out;
        const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
        const required = new Set((schema.required as string[] | undefined) ?? []);
        for (const [k, s] of Object.entries(props)) if (required.has(k) || rng.chance(0.3)) out[k] = this.value(f, s, rng, true, depth + 1);
        const extra = (schema.additionalProperties ?? Object.values((schema.patternProperties as Record<string, Schema>) ?? {})[0]) as Schema | undefined;
        if (extra && typeof extra === 'object' && rng.chance(0.5)) out[rng.string(8) || 'k'] = this.value(f, extra, rng, true, depth + 1);
        return out;
      }
      default:
        return null;
    }
  }

  private outOfRange(schema: Schema, rng: Rng): unknown {
    if (typeof schema.maximum === 'number') return schema.maximum + rng.pick([1, 2 ** 20, 2 ** 64]);
    if (typeof schema.minimum === 'number') return schema.minimum - rng.pick([1, 2 ** 20, 2 ** 64]);
    if (Array.isArray(schema.enum)) return rng.pick(['', 'bogus', String(rng.pick(schema.enum)).toUpperCase() + 'X']);
    return rng.wrongTypeFor(schema.type as string | undefined);
  }
}
