// The files the container's init (and every exec'd process) writes "0" to,
// to join the container's cgroups itself.
//
// v1 hierarchies: `tasks`. Writing "0" there moves just the calling thread,
// which for the single-threaded init is the whole process, and it does not
// take cgroup_threadgroup_rwsem for writing; cgroup.procs does, and on this
// class of kernel that waits for an RCU grace period after a quiet spell
// (5-12 ms per create, run and exec). The v2 directory (pure v2, or the
// membership-only one on hybrid hosts) has no such file: runt-init clones
// the init straight into it with clone3(CLONE_INTO_CGROUP), and writes its
// cgroup.procs only where that is not possible.
//
// Kept apart from the managers so that exec can use it without loading them.

import type { SavedCgroup } from './manager.js';

export function cgroupJoinFiles(saved: SavedCgroup): string[] {
  const files = new Map<string, string>();
  for (const [key, dir] of Object.entries(saved.paths)) {
    if (files.has(dir)) continue;
    files.set(dir, `${dir}/${key === 'unified' || saved.mode === 'v2' ? 'cgroup.procs' : 'tasks'}`);
  }
  return [...files.values()];
}
