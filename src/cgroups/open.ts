// The cgroup manager of one container, with only its driver's code loaded
// (the v1, v2 and systemd drivers are ~100 KB of modules together, and
// loading them costs every create). manager.ts has the same factories
// synchronously, with every driver loaded.

import type { CgroupLayout } from './layout.js';
import type { CgroupManager, CgroupManagerOptions, SavedCgroup } from './manager.js';
import type { ResolvedCgroupPath } from './path.js';
import { cgroupTarget, copySaved, savedDriver, type CgroupDriver } from './target.js';

async function construct(driver: CgroupDriver, saved: SavedCgroup, opts: CgroupManagerOptions, fresh: boolean): Promise<CgroupManager> {
  switch (driver) {
    case 'systemd':
      return new (await import('./systemd/manager.js')).SystemdManager(saved, opts, fresh);
    case 'v2':
      return new (await import('./v2.js')).V2Manager(saved, opts);
    default:
      return new (await import('./v1.js')).V1Manager(saved, opts);
  }
}

export function openCgroupManager(layout: CgroupLayout, resolved: ResolvedCgroupPath, id: string, opts: CgroupManagerOptions = {}): Promise<CgroupManager> {
  const t = cgroupTarget(layout, resolved, id);
  return construct(t.driver, t.saved, opts, true);
}

// The manager of recorded cgroups (state.json).
export function reopenCgroupManager(saved: SavedCgroup, opts: CgroupManagerOptions = {}): Promise<CgroupManager> {
  const copy = copySaved(saved);
  return construct(savedDriver(copy), copy, opts, false);
}
