// Read a bundle's config.json: parse, schema-check, semantic-check.
// Nothing here has side effects; create calls it before touching anything.

import { fs, type FileStat } from '../sys/fs.js';
import * as path from '../sys/paths.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import type { Spec } from './types.js';

export interface LoadedBundle {
  bundle: string; // absolute
  configPath: string;
  spec: Spec;
  rootfs: string; // absolute
}

// JSON.parse reports an offset ("at position 123"); turn it into line:col.
function jsonErrorLocation(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return ` at line ${line} column ${col}`;
}

export function readConfig(bundleArg: string): { bundle: string; configPath: string; raw: unknown } {
  const bundle = path.resolve(bundleArg || '.');
  const configPath = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      const bundleExists = fs.existsSync(bundle);
      throw new RuntimeError(
        bundleExists ? Codes.ConfigRead : Codes.BundleMissing,
        bundleExists ? `config.json not found in bundle ${bundle}` : `bundle directory ${bundle} does not exist`,
        { path: configPath, errno: 'ENOENT', hint: 'pass the bundle directory with --bundle, or run `runt spec` in it to write a default config.json' },
      );
    }
    throw fromSystemError(Codes.ConfigRead, `read ${configPath}`, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RuntimeError(Codes.ConfigJson, `config.json is not valid JSON${jsonErrorLocation(text, err as Error)}: ${(err as Error).message}`, {
      path: configPath,
    });
  }
  const deep = tooDeep(raw, MAX_DEPTH);
  if (deep !== undefined) {
    const shown = deep.split('/').slice(0, 8).join('/');
    throw new RuntimeError(Codes.ConfigJson, `config.json nests deeper than ${MAX_DEPTH} levels at ${shown}/…`, {
      path: configPath,
      field: deep,
      hint: 'no runtime-spec field nests that deep; remove the offending value',
    });
  }
  return { bundle, configPath, raw };
}

// Every later step (schema check, state.json, plan) walks the config
// recursively: an absurdly deep value (fuzzed, hostile) would overflow the
// stack there and surface as a confusing error. Go's encoding/json (runc)
// stops at 10000 levels; Node's stack already fails at a few thousand.
const MAX_DEPTH = 1000;

// The JSON pointer of the first value nested deeper than `max`, if any;
// iterative, so that it cannot overflow itself.
function tooDeep(root: unknown, max: number): string | undefined {
  const stack: [unknown, string, number][] = [[root, '', 0]];
  while (stack.length) {
    const [v, ptr, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return ptr;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1]);
    }
  }
  return undefined;
}

export function resolveRootfs(bundle: string, spec: Spec): string {
  const rootPath = spec.root?.path;
  if (!rootPath) {
    throw new RuntimeError(Codes.RootfsMissing, 'root.path is not set', { field: '/root/path', hint: 'set root.path to the rootfs directory, e.g. "rootfs"' });
  }
  // runc joins a relative root.path to its working directory, the resolved
  // bundle: symlinks above the bundle do not count, any below it do (below)
  let realBundle = bundle;
  try {
    realBundle = fs.realpathSync(bundle);
  } catch {
    // reported below as a missing rootfs
  }
  const rootfs = path.resolve(realBundle, rootPath);
  let st: FileStat;
  try {
    st = fs.statSync(rootfs);
  } catch (err) {
    throw new RuntimeError(Codes.RootfsMissing, `rootfs ${rootfs} does not exist`, {
      field: '/root/path',
      path: rootfs,
      errno: (err as NodeJS.ErrnoException).code,
      hint: 'root.path is relative to the bundle directory',
      cause: err,
    });
  }
  if (!st.isDirectory()) {
    throw new RuntimeError(Codes.RootfsMissing, `rootfs ${rootfs} is not a directory`, { field: '/root/path', path: rootfs });
  }
  // A rootfs that is a symlink, or is reached through one, is refused as
  // runc refuses it (libcontainer/configs/validate: "not an absolute path,
  // or a symlink"): a bundle unpacked from an untrusted archive could
  // otherwise point "rootfs" at the host's / while the engine writes a
  // config that trusts it.
  const real = fs.realpathSync(rootfs);
  if (real !== rootfs) {
    throw new RuntimeError(Codes.RootfsMissing, `rootfs ${rootfs} is a symlink or is reached through one (it resolves to ${real}); runt refuses it, as runc does`, {
      field: '/root/path',
      path: rootfs,
      hint: `set root.path to the resolved path ${real}`,
    });
  }
  return rootfs;
}
