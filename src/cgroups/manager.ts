// The cgroup manager interface and its factories.
//
// - v2 hosts: V2Manager, one directory in the unified hierarchy.
// - v1 hosts: V1Manager, one directory per mounted v1 hierarchy.
// - hybrid hosts (v1 controllers + a cgroup2 mount, e.g. /sys/fs/cgroup/unified):
//   V1Manager that also creates and joins the unified directory, for
//   membership only, as runc does (opencontainers/cgroups fs/fs.go adds a
//   NameGroup{GroupName: "", Join: true} when IsCgroup2HybridMode()). No limit
//   is ever written there. That directory also gives us cgroup.kill.

import type { Resources } from '../spec/types.js';
import type { DeviceFilterLoader } from './devices-v2.js';
import type { WriteRecord } from './fsio.js';
import type { CgroupLayout, CgroupMode } from './layout.js';
import type { ResolvedCgroupPath } from './path.js';
import type { CgroupStats } from './stats.js';
import { SystemdManager, type SavedSystemd } from './systemd/manager.js';
import { cgroupTarget, copySaved, savedDriver } from './target.js';
import { V1Manager } from './v1.js';
import { V2Manager } from './v2.js';

export { mergeResources } from './merge.js';

// JSON-serialisable; stored in state.json.
export interface SavedCgroup {
  mode: CgroupMode;
  // Absolute directory per hierarchy key: 'memory', 'cpu,cpuacct',
  // 'name=systemd', … on v1; 'unified' for the v2 directory (pure v2, or the
  // membership-only directory on hybrid hosts).
  paths: Record<string, string>;
  // Directories this container created (top-down per hierarchy); destroy()
  // removes only these, never a pre-existing parent.
  created: string[];
  // Mount point per key, so that a manager loaded from state can still walk
  // from the hierarchy root (v2 subtree_control).
  mountpoints?: Record<string, string>;
  // --systemd-cgroup: the transient scope holding the cgroup (runc records
  // the driver in its state too); later commands go through systemd
  systemd?: SavedSystemd;
}

export interface ApplyOptions {
  // Paths of linux.devices: a default device rule whose path is listed there
  // is dropped (runc specconv createDevices).
  linuxDevicePaths?: string[];
  // Leave the device rules alone: `update` does, as runc's does
  // (SkipDevices), so that rules a device plugin added after create are kept.
  skipDevices?: boolean;
}

export interface CgroupManager {
  readonly saved: SavedCgroup;
  // mkdir -p every hierarchy directory, recording what was made; on error
  // remove what it made and throw a RuntimeError naming the path.
  create(): void;
  // The directories create() would make now (those missing), so that create
  // can record them as its own before making them: a runtime killed while
  // making them then leaves them claimed for delete, not orphaned. Managers
  // whose directories are made by someone else (systemd) return undefined.
  plannedDirs(): string[] | undefined;
  // Every cgroup.procs file the container's init must join (the native stage
  // writes "0" into each to attach itself).
  procsFiles(): string[];
  // Write every resource; returns warnings (ignored settings). Throws
  // RuntimeError(CgroupResource) naming the config field and the file.
  apply(resources: Resources | undefined, opts?: ApplyOptions): string[];
  // All pids in the container's cgroup(s), recursively.
  pids(): number[];
  // Signal every process; v2/hybrid use cgroup.kill for SIGKILL when present.
  signalAll(sig: number): void;
  freeze(): void;
  thaw(): void;
  frozen(): boolean;
  // thaw, SIGKILL what is left when asked, remove the container's cgroups
  // (see common.ts removeContainerCgroups); returns notes about cgroups left
  // in place because other processes share them. Idempotent.
  destroy(opts?: DestroyOptions): string[];
  stats(): CgroupStats;
  oomKillCount(): number;
  oomState(): OomState;
  // Only managers whose cgroup someone else puts the init into (systemd:
  // StartTransientUnit with its pid): called with the init's host pid while
  // it waits before entering its cgroup namespace; procsFiles() is then
  // empty during create. Returns warnings.
  attach?(pid: number): string[];
}

export interface OomState {
  kills: number; // processes killed by the OOM killer so far
  underOom: boolean; // v1: the cgroup is out of memory right now
  killerDisabled: boolean; // v1: memory.oom_control oom_kill_disable
}

export interface DestroyOptions {
  // SIGKILL every process in the cgroup before removing it. runc (destroy()
  // in libcontainer/state_linux.go) does so only for a container without a
  // pid namespace of its own: otherwise the kernel killed all of its
  // processes with its init, and anything left belongs to another container
  // sharing the cgroup. See killsAllOnDestroy().
  killAll?: boolean;
}

export interface CgroupManagerOptions {
  // Record every successful write (tests).
  log?: WriteRecord[];
  // Huge page sizes ("2MB", "1GB"); default: read /sys/kernel/mm/hugepages.
  hugePageSizes?: string[];
  // Re-read devices.list after writing v1 device rules and check the result
  // (runc does; a fake cgroupfs cannot emulate it). Default true.
  verifyDevices?: boolean;
  // Skip v1 device rules when running in a user namespace, like runc
  // (fs/devices.go: userns.RunningInUserNS()). Default: detected.
  inUserNamespace?: boolean;
  // Loads the v2 eBPF device filter (tests pass a recorder).
  deviceFilterLoader?: DeviceFilterLoader;
}

// The sync factories load every driver (tests, diagnostics and the rarer
// commands); create, delete and kill use open.ts, which loads one.
export function newCgroupManager(
  layout: CgroupLayout,
  resolved: ResolvedCgroupPath,
  id: string,
  opts: CgroupManagerOptions = {},
): CgroupManager {
  const t = cgroupTarget(layout, resolved, id);
  if (t.driver === 'systemd') return new SystemdManager(t.saved, opts, true);
  return t.driver === 'v2' ? new V2Manager(t.saved, opts) : new V1Manager(t.saved, opts);
}

export function loadCgroupManager(saved: SavedCgroup, opts: CgroupManagerOptions = {}): CgroupManager {
  const copy = copySaved(saved);
  const driver = savedDriver(copy);
  if (driver === 'systemd') return new SystemdManager(copy, opts);
  return driver === 'v2' ? new V2Manager(copy, opts) : new V1Manager(copy, opts);
}
