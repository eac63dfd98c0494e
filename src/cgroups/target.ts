// Where a container's cgroups go and which driver manages them, decided
// from the host layout and the resolved cgroupsPath without loading any
// driver: create loads only the one it needs (open.ts), since every module
// a call loads costs start-up time.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { ownPathUnderMount, type CgroupLayout } from './layout.js';
import type { SavedCgroup } from './manager.js';
import type { ResolvedCgroupPath } from './path.js';

export type CgroupDriver = 'v1' | 'v2' | 'systemd';

export interface CgroupTarget {
  driver: CgroupDriver;
  saved: SavedCgroup; // nothing created yet
}

// v1 hierarchies runc joins (fs/fs.go subsystems, plus the name=systemd and
// misc named groups). Other named hierarchies are left alone.
export const MANAGED_V1_CONTROLLERS = [
  'cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb',
  'net_cls', 'net_prio', 'perf_event', 'freezer', 'rdma', 'name=systemd', 'misc',
];

function join(...parts: string[]): string {
  const s = parts.join('/').replace(/\/+/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function cgroupTarget(layout: CgroupLayout, resolved: ResolvedCgroupPath, id: string): CgroupTarget {
  const paths: Record<string, string> = {};
  const mountpoints: Record<string, string> = {};
  if (layout.v1.length === 0 && !layout.unified) {
    throw new RuntimeError(Codes.CgroupSetup, 'no cgroup filesystem is mounted (neither cgroup v1 controllers nor cgroup2 in /proc/self/mountinfo)', {
      hint: 'mount cgroup2 on /sys/fs/cgroup, or the cgroup v1 controllers below it',
    });
  }

  if (resolved.kind === 'systemd') {
    // runc's systemd driver: v2 only here (v1/hybrid is refused at create)
    const u = layout.unified ?? { mountpoint: '/sys/fs/cgroup' };
    paths['unified'] = join(u.mountpoint, resolved.path);
    mountpoints['unified'] = u.mountpoint;
    return { driver: 'systemd', saved: { mode: layout.mode, paths, created: [], mountpoints, systemd: { unit: resolved.unit, slice: resolved.slice } } };
  }

  if (layout.mode === 'v2') {
    const u = layout.unified;
    if (!u) throw new RuntimeError(Codes.CgroupSetup, 'no cgroup2 mount found');
    // fs2/defaultpath.go: relative paths go below the *parent* of our own
    // cgroup (our own one has tasks, so it cannot delegate controllers).
    paths['unified'] =
      resolved.kind === 'absolute'
        ? join(u.mountpoint, resolved.path)
        : join(u.mountpoint, dirname(ownPathUnderMount(u.ownPath, u.root)), resolved.path);
    mountpoints['unified'] = u.mountpoint;
    return { driver: 'v2', saved: { mode: 'v2', paths, created: [], mountpoints } };
  }

  for (const h of layout.v1) {
    if (!h.controllers.some((c) => MANAGED_V1_CONTROLLERS.includes(c))) continue;
    // fs/paths.go subsysPath: absolute below the mount point, relative below
    // our own cgroup in that hierarchy.
    paths[h.key] =
      resolved.kind === 'absolute'
        ? join(h.mountpoint, resolved.path)
        : join(h.mountpoint, ownPathUnderMount(h.ownPath, h.root), resolved.path);
    mountpoints[h.key] = h.mountpoint;
  }
  if (!Object.keys(paths).some((k) => k.split(',').includes('devices'))) {
    // fs/paths.go initPaths: "The non-presence of the devices subsystem is
    // considered fatal for security reasons."
    throw new RuntimeError(Codes.CgroupSetup, `the devices cgroup controller is not mounted; refusing to create container ${id} without device isolation`, {
      hint: 'mount the cgroup v1 devices controller (e.g. on /sys/fs/cgroup/devices)',
    });
  }
  if (layout.mode === 'hybrid' && layout.unified) {
    const u = layout.unified;
    paths['unified'] =
      resolved.kind === 'absolute'
        ? join(u.mountpoint, resolved.path)
        : join(u.mountpoint, ownPathUnderMount(u.ownPath, u.root), resolved.path);
    mountpoints['unified'] = u.mountpoint;
  }
  return { driver: 'v1', saved: { mode: layout.mode, paths, created: [], mountpoints } };
}

// The driver of a container's recorded cgroups.
export function savedDriver(saved: SavedCgroup): CgroupDriver {
  if (saved.systemd) return 'systemd';
  return saved.mode === 'v2' ? 'v2' : 'v1';
}

// A private copy of what state.json says, for a manager to own.
export function copySaved(saved: SavedCgroup): SavedCgroup {
  return {
    mode: saved.mode,
    paths: { ...saved.paths },
    created: [...saved.created],
    ...(saved.mountpoints ? { mountpoints: { ...saved.mountpoints } } : {}),
    ...(saved.systemd ? { systemd: { ...saved.systemd } } : {}),
  };
}
