// Helpers for the cgroups integration suites: where a container's cgroup
// files are on this host (v1, hybrid or v2), read from its state.json, and
// small polling utilities. The same tests run here (cgroup v1 hybrid) and in
// the cgroup v2 guest (test/v2/run-in-guest.sh).

import fs from 'node:fs';
import path from 'node:path';
import { readHostLayout } from '../../src/cgroups/layout.js';
import type { SavedCgroup } from '../../src/cgroups/manager.js';
import { type Env, sleep } from '../helpers/runt.js';

export const layout = readHostLayout();
export const isV2 = layout.mode === 'v2';

export function savedCgroup(env: Env, id: string): SavedCgroup {
  const st = JSON.parse(fs.readFileSync(path.join(env.root, id, 'state.json'), 'utf8')) as { cgroup: SavedCgroup };
  return st.cgroup;
}

export function storedResources(env: Env, id: string): Record<string, unknown> {
  const st = JSON.parse(fs.readFileSync(path.join(env.root, id, 'state.json'), 'utf8')) as { config: { linux?: { resources?: Record<string, unknown> } } };
  return st.config.linux?.resources ?? {};
}

// The directory holding `controller`'s files for the container: its v1
// hierarchy, or the unified directory on v2 (and 'unified' itself).
export function cgDir(env: Env, id: string, controller: string): string {
  const cg = savedCgroup(env, id);
  if (controller === 'unified' || cg.mode === 'v2') return cg.paths['unified']!;
  const e = Object.entries(cg.paths).find(([k]) => k !== 'unified' && k.split(',').includes(controller));
  if (!e) throw new Error(`no ${controller} hierarchy for ${id}`);
  return e[1];
}

export function readCg(env: Env, id: string, controller: string, file: string): string {
  return fs.readFileSync(path.join(cgDir(env, id, controller), file), 'utf8').trim();
}

export function hasCgFile(env: Env, id: string, controller: string, file: string): boolean {
  try {
    return fs.existsSync(path.join(cgDir(env, id, controller), file));
  } catch {
    return false;
  }
}

// Every directory the container's cgroup occupies (one per hierarchy).
export function cgDirs(env: Env, id: string): string[] {
  return [...new Set(Object.values(savedCgroup(env, id).paths))];
}

export function waitFor(fn: () => boolean, ms = 5000, step = 20): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > end) return false;
    sleep(step);
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export function procsOf(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l.trim() !== '').map(Number);
  } catch {
    return [];
  }
}

// A block device of this machine (major:minor of the first disk), for the
// blkio/io throttle tests.
export function someBlockDevice(): { major: number; minor: number } | undefined {
  try {
    for (const line of fs.readFileSync('/proc/partitions', 'utf8').split('\n').slice(2)) {
      const f = line.trim().split(/\s+/);
      if (f.length === 4 && /^((vd|sd|xvd)[a-z]+|nvme\d+n\d+)$/.test(f[3]!)) {
        return { major: Number(f[0]), minor: Number(f[1]) };
      }
    }
  } catch {
    // no /proc/partitions
  }
  return undefined;
}
