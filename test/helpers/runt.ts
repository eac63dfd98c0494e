// Integration-test helpers: a private state root per test, bundles made from
// the example busybox bundle, the CLI run as a real process, and cleanup of
// everything a test made (containers, dirs) by id and pid.

import { spawnSync, spawn, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import type { Spec } from '../../src/spec/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/helpers -> repo root
export const REPO = path.resolve(here, '../../..');
export const RUNT = process.env.RUNT_BIN ?? path.join(REPO, 'bin/runt');
export const ROOTFS = path.join(REPO, 'bundles/busybox/rootfs');
export const EXAMPLE_CONFIG = path.join(REPO, 'bundles/busybox/config.json');

export const isRoot = process.getuid?.() === 0;

let counter = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export interface Env {
  root: string; // private --root
  tmp: string; // scratch dir, removed at teardown
  runt(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number }): SpawnSyncReturns<string>;
  bundle(mutate?: (spec: Spec) => void): string;
}

export function baseSpec(): Spec {
  const spec = JSON.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8')) as Spec;
  spec.root = { path: ROOTFS, readonly: true };
  spec.process!.args = ['true'];
  return spec;
}

export function setup(t: ExecutionContext): Env {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-test-'));
  const root = path.join(tmp, 'state');
  let calls = 0;
  const env: Env = {
    root,
    tmp,
    runt(args, opts = {}) {
      // stdout/stderr go to files, not pipes: a detached container inherits
      // them and would keep a pipe open (and spawnSync waiting) for its life
      const n = calls++;
      const outFile = path.join(tmp, `out-${n}`);
      const errFile = path.join(tmp, `err-${n}`);
      const out = fs.openSync(outFile, 'w+');
      const err = fs.openSync(errFile, 'w+');
      try {
        const r = spawnSync(RUNT, ['--root', root, ...args], {
          encoding: 'utf8',
          input: opts.input ?? '',
          stdio: ['pipe', out, err],
          env: opts.env ?? process.env,
          cwd: opts.cwd ?? tmp,
          timeout: opts.timeout ?? 60_000,
        });
        r.stdout = fs.readFileSync(outFile, 'utf8');
        r.stderr = fs.readFileSync(errFile, 'utf8');
        return r;
      } finally {
        fs.closeSync(out);
        fs.closeSync(err);
      }
    },
    bundle(mutate) {
      const dir = fs.mkdtempSync(path.join(tmp, 'bundle-'));
      const spec = baseSpec();
      mutate?.(spec);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
      return dir;
    },
  };
  t.teardown(() => {
    // delete --force everything this test left in its private root
    if (fs.existsSync(root)) {
      for (const id of fs.readdirSync(root)) {
        if (id.startsWith('.')) continue;
        spawnSync(RUNT, ['--root', root, 'delete', '--force', id], { encoding: 'utf8' });
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return env;
}

// run a container to completion and return its output
export function runContainer(env: Env, mutate: (spec: Spec) => void, id = uniqueId()): SpawnSyncReturns<string> {
  const b = env.bundle(mutate);
  return env.runt(['run', '--bundle', b, id]);
}

export function sh(script: string): (spec: Spec) => void {
  return (spec) => {
    spec.process!.args = ['sh', '-c', script];
  };
}

export function stateOf(env: Env, id: string): { status: string; pid: number; [k: string]: unknown } {
  const r = env.runt(['state', id]);
  if (r.status !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

// Dead: gone from /proc, or a zombie waiting for its reaper.
export function isGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function waitStatus(env: Env, id: string, want: string, ms = 5000): string {
  let st = '';
  for (const end = Date.now() + ms; Date.now() < end; sleep(20)) {
    st = stateOf(env, id).status;
    if (st === want) break;
  }
  return st;
}

export function nsInode(pid: number | 'self', type: string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
}

export function mountinfo(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
}

// Create and leave the container "created" with a long-running process.
export function createSleeping(env: Env, mutate?: (spec: Spec) => void, id = uniqueId()): { id: string; pid: number; bundle: string } {
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    mutate?.(s);
  });
  const r = env.runt(['create', '--bundle', b, id]);
  if (r.status !== 0) throw new Error(`create failed: ${r.stderr}`);
  return { id, pid: stateOf(env, id).pid, bundle: b };
}

export { spawn };
