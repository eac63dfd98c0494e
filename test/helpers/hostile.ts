// Helpers for the hostile-bundle tests: a bundle with a private, writable
// copy of the busybox rootfs (the shared one is never touched), a host
// directory "outside" whose contents, owner and mode must not change, and
// Debian's runc run on the same bundle to confirm what runc does.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Spec } from '../../src/spec/types.js';
import { copyRootfs, taggedMounts } from './leaks.js';
import { ROOTFS, baseSpec, type Env } from './runt.js';

export interface PrivateBundle {
  dir: string;
  rootfs: string;
  config: string;
}

// A bundle whose rootfs is a copy owned by the test: `prepare` plants
// symlinks, device nodes or binaries in it before the config is written.
export function privateBundle(env: Env, mutate?: (spec: Spec) => void, prepare?: (rootfs: string) => void): PrivateBundle {
  // a container in a user namespace must be able to reach its rootfs
  fs.chmodSync(env.tmp, 0o755);
  const dir = fs.mkdtempSync(path.join(env.tmp, 'hb-'));
  fs.chmodSync(dir, 0o755);
  const rootfs = copyRootfs(ROOTFS, path.join(dir, 'rootfs'));
  prepare?.(rootfs);
  const spec = baseSpec();
  spec.root = { path: 'rootfs', readonly: false };
  mutate?.(spec);
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify(spec, null, 2));
  return { dir, rootfs, config };
}

export function rewriteConfig(b: PrivateBundle, mutate: (spec: Spec) => void): void {
  const spec = JSON.parse(fs.readFileSync(b.config, 'utf8')) as Spec;
  mutate(spec);
  fs.writeFileSync(b.config, JSON.stringify(spec, null, 2));
}

// A host directory with a marker file; snapshot() describes everything a
// container could have changed in it (entries, owner, mode, contents).
export interface Outside {
  dir: string;
  snapshot(): string;
}

export function outsideDir(env: Env, name = 'outside'): Outside {
  const dir = path.join(env.tmp, name);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'host-marker'), 'host\n', { mode: 0o644 });
  const snapshot = (): string => {
    const lines: string[] = [];
    const walk = (p: string): void => {
      const st = fs.lstatSync(p);
      lines.push(`${path.relative(dir, p) || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid}${st.isFile() ? ' ' + fs.readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
    };
    walk(dir);
    return lines.join('\n');
  };
  return { dir, snapshot };
}

// A symlink target that climbs out of the rootfs with "..".
export function climbing(target: string): string {
  return '../'.repeat(24) + target.replace(/^\/+/, '');
}

// Mount lines of the host that name the test's directories or tag.
export function hostMountsOf(env: Env, tag?: string): string[] {
  return taggedMounts(tag ? [env.tmp, tag] : [env.tmp]);
}

// Debian's runc, when installed, on the same bundle (foreground `run`),
// with its own state root; what it leaves is deleted at teardown.
export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));

export function runcRun(t: ExecutionContext, env: Env, bundle: string, id: string): SpawnSyncReturns<string> | undefined {
  if (!RUNC) return undefined;
  const root = path.join(env.tmp, 'runc-state');
  t.teardown(() => {
    spawnSync(RUNC, ['--root', root, 'delete', '--force', id], { encoding: 'utf8' });
  });
  return spawnSync(RUNC, ['--root', root, 'run', '--bundle', bundle, id], { encoding: 'utf8', input: '', timeout: 60_000 });
}

// runt's and runc's errors are one line; runc's is a logrus line.
export function oneLine(stderr: string): boolean {
  return stderr.trim() !== '' && !stderr.trim().includes('\n');
}
