// Read a bundle's config.json: parse, schema-check, semantic-check.
// Nothing here has side effects; create calls it before touching anything.

import fs from 'node:fs';
import path from 'node:path';
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
  return { bundle, configPath, raw };
}

export function resolveRootfs(bundle: string, spec: Spec): string {
  const rootPath = spec.root?.path;
  if (!rootPath) {
    throw new RuntimeError(Codes.RootfsMissing, 'root.path is not set', { field: '/root/path', hint: 'set root.path to the rootfs directory, e.g. "rootfs"' });
  }
  const rootfs = path.resolve(bundle, rootPath);
  let st: fs.Stats;
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
  // The rootfs is bind mounted onto itself and pivoted into; resolve symlinks
  // here, once, on the host side where the bundle's owner chose them.
  return fs.realpathSync(rootfs);
}
