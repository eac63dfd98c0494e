// Unknown keys in config.json. The runtime-spec schemas do not forbid extra
// properties, so a typo ("rootPropagation") passes the schema and every
// runtime silently ignores it (runtime-tools#317). Walk the document along
// the schemas (following $ref, allOf/anyOf/oneOf, items, patternProperties)
// and report each key that no schema at that place defines, with the
// closest defined name.

import configFreebsd from '../../schemas/config-freebsd.json' with { type: 'json' };
import configLinux from '../../schemas/config-linux.json' with { type: 'json' };
import configSchema from '../../schemas/config-schema.json' with { type: 'json' };
import configSolaris from '../../schemas/config-solaris.json' with { type: 'json' };
import configVm from '../../schemas/config-vm.json' with { type: 'json' };
import configWindows from '../../schemas/config-windows.json' with { type: 'json' };
import configZos from '../../schemas/config-zos.json' with { type: 'json' };
import defs from '../../schemas/defs.json' with { type: 'json' };
import defsFreebsd from '../../schemas/defs-freebsd.json' with { type: 'json' };
import defsLinux from '../../schemas/defs-linux.json' with { type: 'json' };
import defsVm from '../../schemas/defs-vm.json' with { type: 'json' };
import defsWindows from '../../schemas/defs-windows.json' with { type: 'json' };
import defsZos from '../../schemas/defs-zos.json' with { type: 'json' };
import { suggest } from './suggest.js';

type Schema = { [k: string]: unknown };
interface Loc {
  s: Schema;
  file: string;
}

const FILES: Record<string, Schema> = {
  'config-schema.json': configSchema,
  'config-linux.json': configLinux,
  'config-solaris.json': configSolaris,
  'config-windows.json': configWindows,
  'config-vm.json': configVm,
  'config-zos.json': configZos,
  'config-freebsd.json': configFreebsd,
  'defs.json': defs,
  'defs-linux.json': defsLinux,
  'defs-windows.json': defsWindows,
  'defs-vm.json': defsVm,
  'defs-zos.json': defsZos,
  'defs-freebsd.json': defsFreebsd,
};

export interface UnknownKey {
  pointer: string; // of the unknown member
  key: string;
  suggestion?: string; // a defined sibling name close to it
  elsewhere?: string; // where a property of that exact name is defined
}

const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function resolve(ref: string, file: string): Loc | undefined {
  const [name = '', frag = ''] = ref.split('#');
  const f = name || file;
  let node: unknown = FILES[f];
  for (const seg of frag.split('/').filter((x) => x !== '')) {
    node = isObj(node) ? node[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return isObj(node) ? { s: node, file: f } : undefined;
}

// A schema and everything it combines with, $refs followed. An unresolvable
// $ref (a schema file we do not know) yields an empty, permissive schema.
function flatten(loc: Loc, depth = 0): Loc[] {
  if (depth > 32) return [];
  if (typeof loc.s.$ref === 'string') {
    const r = resolve(loc.s.$ref, loc.file);
    return r ? flatten(r, depth + 1) : [{ s: {}, file: loc.file }];
  }
  const out: Loc[] = [loc];
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const list = loc.s[k];
    if (Array.isArray(list)) for (const sub of list) if (isObj(sub)) out.push(...flatten({ s: sub, file: loc.file }, depth + 1));
  }
  return out;
}

function walk(value: unknown, locs: Loc[], pointer: string, out: UnknownKey[], index: Map<string, string>): void {
  const flat = locs.flatMap((l) => flatten(l));
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const items: Loc[] = [];
      for (const l of flat) {
        const it = l.s.items;
        if (Array.isArray(it)) {
          if (isObj(it[i])) items.push({ s: it[i] as Schema, file: l.file });
        } else if (isObj(it)) items.push({ s: it, file: l.file });
      }
      if (items.length) walk(v, items, `${pointer}/${i}`, out, index);
    });
    return;
  }
  if (!isObj(value)) return;
  const props = new Map<string, Loc[]>();
  const patterns: { re: RegExp; loc: Loc }[] = [];
  const additional: Loc[] = [];
  let open = false;
  for (const l of flat) {
    if (isObj(l.s.properties)) {
      for (const [k, sub] of Object.entries(l.s.properties)) {
        if (isObj(sub)) props.set(k, [...(props.get(k) ?? []), { s: sub, file: l.file }]);
      }
    }
    if (isObj(l.s.patternProperties)) {
      for (const [re, sub] of Object.entries(l.s.patternProperties)) {
        if (isObj(sub)) patterns.push({ re: new RegExp(re, 'u'), loc: { s: sub, file: l.file } });
      }
    }
    if (l.s.additionalProperties === true) open = true;
    else if (isObj(l.s.additionalProperties)) additional.push({ s: l.s.additionalProperties, file: l.file });
  }
  for (const [key, v] of Object.entries(value)) {
    const at = `${pointer}/${escape(key)}`;
    const known = props.get(key);
    if (known) {
      walk(v, known, at, out, index);
      continue;
    }
    const byPattern = patterns.filter((p) => p.re.test(key)).map((p) => p.loc);
    if (byPattern.length || additional.length) {
      walk(v, byPattern.length ? byPattern : additional, at, out, index);
      continue;
    }
    // a schema without properties is a free-form map: nothing to say
    if (props.size === 0 || open) continue;
    const u: UnknownKey = { pointer: at, key };
    const s = suggest(key, props.keys());
    if (s !== undefined) u.suggestion = s;
    else if (index.has(key)) u.elsewhere = index.get(key)!;
    out.push(u);
  }
}

// Every property name the config schema defines, with the first place it
// is defined at ("/linux/sysctl"); array items show as "/*".
let nameIndex: Map<string, string> | undefined;
function propertyIndex(): Map<string, string> {
  if (nameIndex) return nameIndex;
  const index = new Map<string, string>();
  const visit = (locs: Loc[], pointer: string, depth: number): void => {
    if (depth > 8) return;
    for (const l of locs.flatMap((x) => flatten(x))) {
      if (isObj(l.s.properties)) {
        for (const [k, sub] of Object.entries(l.s.properties)) {
          if (!isObj(sub)) continue;
          const at = `${pointer}/${escape(k)}`;
          if (!index.has(k)) index.set(k, at);
          visit([{ s: sub, file: l.file }], at, depth + 1);
        }
      }
      if (isObj(l.s.items)) visit([{ s: l.s.items, file: l.file }], `${pointer}/*`, depth + 1);
    }
  };
  visit([{ s: FILES['config-schema.json']!, file: 'config-schema.json' }], '', 0);
  nameIndex = index;
  return index;
}

export function findUnknownKeys(config: unknown): UnknownKey[] {
  const out: UnknownKey[] = [];
  walk(config, [{ s: FILES['config-schema.json']!, file: 'config-schema.json' }], '', out, propertyIndex());
  return out;
}
