// Is the container's cgroup frozen? Two file reads, without loading the
// managers: `state`, `list`, `kill` and `start` ask this on every call.
// v1: freezer.state (FROZEN, and not only because a parent is frozen:
// freezer.self_freezing); v2: "frozen 1" in cgroup.events.

import { fs } from '../sys/fs.js';
import type { SavedCgroup } from './manager.js';

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

export function isFrozen(saved: SavedCgroup): boolean {
  if (saved.mode !== 'v2') {
    const dir = Object.entries(saved.paths).find(([k]) => k.split(',').includes('freezer'))?.[1];
    if (!dir) return false;
    const state = read(`${dir}/freezer.state`)?.trim();
    if (state !== 'FROZEN' && state !== 'FREEZING') return false;
    const self = read(`${dir}/freezer.self_freezing`)?.trim();
    return self === undefined || self === '1';
  }
  const dir = saved.paths.unified;
  if (!dir) return false;
  return /^frozen 1$/m.test(read(`${dir}/cgroup.events`) ?? '');
}
