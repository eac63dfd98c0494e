// Pieces shared by the v1 and v2 managers: directory bookkeeping, recursive
// pid listing, signalling, and removal with EBUSY retries.

import { fs, type DirEntry } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { dirname } from '../sys/paths.js';
import { errnoOf, joinPath, sleepSync } from './fsio.js';

export const SIGKILL = 9;

let userNsCache: boolean | undefined;
// runc userns.RunningInUserNS: the initial user namespace maps the whole
// uid range (user_namespaces(7)).
export function runningInUserNamespace(): boolean {
  if (userNsCache === undefined) {
    try {
      const m = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
      userNsCache = !(m[0] === '0' && m[1] === '0' && m[2] === '4294967295');
    } catch {
      userNsCache = false;
    }
  }
  return userNsCache;
}

// mkdir -p that returns the directories it actually made, top-down, so that
// destroy never removes a parent that existed before (a shared slice, the
// runtime's own cgroup, a parent another container also uses).
// planned: missingDirs(dir) as computed a moment ago (plannedDirs), saving
// the walk; a parent that vanished since makes it walk afresh.
export function mkdirTracked(dir: string, planned?: string[]): string[] {
  let missing = planned ?? missingDirs(dir);
  const made: string[] = [];
  try {
    for (let i = 0; i < missing.length; i++) {
      const d = missing[i]!;
      try {
        fs.mkdirSync(d, { mode: 0o755 });
        made.push(d);
      } catch (err) {
        const e = errnoOf(err);
        if (e === 'ENOENT' && planned && missing === planned) {
          missing = missingDirs(dir);
          i = -1;
          continue;
        }
        // Somebody else created it meanwhile: not ours to remove.
        if (e !== 'EEXIST') throw err;
      }
    }
  } catch (err) {
    removeDirs(made);
    throw fromSystemError(Codes.CgroupSetup, `cannot create cgroup ${dir}`, err, { path: dir });
  }
  return made;
}

// dir and those of its ancestors that do not exist yet, top-down: what
// mkdirTracked(dir) would make now.
export function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  let cur = dir;
  while (!fs.existsSync(cur)) {
    missing.unshift(cur);
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  return missing;
}

// cgroup.procs of dir and every sub-cgroup below it (cgroups.GetAllPids walks
// the tree the same way). A threaded cgroup refuses reads of cgroup.procs
// with EOPNOTSUPP; runc then reads cgroup.threads (utils.go readProcsFile).
export function readPidsRecursive(dir: string, into: Set<number>): void {
  let text: string | undefined;
  try {
    text = fs.readFileSync(joinPath(dir, 'cgroup.procs'), 'utf8');
  } catch (err) {
    const e = errnoOf(err);
    if (e === 'ENOENT' || e === 'ENODEV') return;
    if (e === 'EOPNOTSUPP' || e === 'ENOTSUP') {
      try {
        text = fs.readFileSync(joinPath(dir, 'cgroup.threads'), 'utf8');
      } catch {
        return;
      }
    } else {
      throw fromSystemError(Codes.CgroupSetup, `cannot list processes of cgroup ${dir}`, err, { path: dir });
    }
  }
  for (const line of text.split('\n')) {
    const pid = Number(line.trim());
    if (line.trim() !== '' && Number.isInteger(pid) && pid > 0) into.add(pid);
  }
  let entries: DirEntry[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const ent of entries) if (ent.isDirectory()) readPidsRecursive(joinPath(dir, ent.name), into);
}

// kill(2) every pid; a process that is already gone (ESRCH) is fine.
export function killPids(pids: Iterable<number>, sig: number): void {
  const failures: string[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      const e = errnoOf(err);
      if (e !== 'ESRCH') failures.push(`${pid}: ${e ?? String(err)}`);
    }
  }
  if (failures.length > 0) {
    throw new RuntimeError(Codes.KillFailed, `cannot signal container processes (${failures.join(', ')})`, {
      syscall: 'kill',
    });
  }
}

// rmdir with runc's retry policy (utils.go rmdir/RemovePath): sub-cgroups
// first when `recursive` (a container may create its own), then the
// directory, retrying EBUSY with exponential backoff from 1ms, 10 times
// (~1s): a cgroup stays busy for a moment after its last task has exited.
export function removeCgroupDir(dir: string, recursive = true): void {
  try {
    fs.rmdirSync(dir);
    return;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
  }
  if (recursive) {
    let entries: DirEntry[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw fromSystemError(Codes.CgroupRemove, `cannot remove cgroup ${dir}`, err, { path: dir });
    }
    for (const ent of entries) if (ent.isDirectory()) removeCgroupDir(joinPath(dir, ent.name));
  }
  let delay = 1;
  for (let tries = 10; ; tries--) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      const e = errnoOf(err);
      if (e === 'ENOENT') return;
      if (e === 'EBUSY' && tries > 0) {
        sleepSync(delay);
        delay *= 2;
        continue;
      }
      throw fromSystemError(Codes.CgroupRemove, `cannot remove cgroup ${dir}`, err, {
        path: dir,
        syscall: 'rmdir',
        ...(e === 'EBUSY' ? { hint: 'processes are still running in it; kill them and run delete again' } : {}),
      });
    }
  }
}

// Best-effort removal used to undo a failed create.
export function removeDirs(dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      fs.rmdirSync(d);
    } catch {
      // already gone or busy: nothing more to do while unwinding
    }
  }
}

function countPids(dir: string): number {
  const set = new Set<number>();
  try {
    readPidsRecursive(dir, set);
  } catch {
    // unreadable: let rmdir tell
  }
  return set.size;
}

// Remove a container's cgroup directories at delete.
//
// - leaves (the container's own directory in each hierarchy) are removed
//   whether or not this container made them, as runc's RemovePaths does, so
//   that the last of several containers sharing a cgroup removes it; only a
//   leaf we made is emptied of sub-cgroups first (a pre-existing one may
//   hold cgroups that are not ours);
// - a leaf that still has processes after the caller killed what was the
//   container's belongs to someone else too (several containers sharing one
//   cgroupsPath): it is left in place and reported in the returned notes;
// - parents this container made are removed when empty, never recursively
//   (their other children are other containers' cgroups).
// Failures are collected and thrown together at the end.
// refused: what is left of the leaves after a first removeEmptyLeaves
// (the caller may have made that attempt already).
export function removeContainerCgroups(leaves: string[], created: string[], refused?: string[]): string[] {
  const notes: string[] = [];
  const errors: RuntimeError[] = [];
  const leafSet = new Set(leaves);
  const existing = refused ?? removeEmptyLeaves([...leafSet]);
  // Tasks that were just killed linger in cgroup.procs for a moment (longer
  // on a loaded machine); the callers waited for the container's init.
  waitUntil(() => existing.every((l) => countPids(l) === 0), 1000);
  for (const leaf of existing) {
    const n = countPids(leaf);
    if (n > 0) {
      notes.push(`cgroup ${leaf} still has ${n} process(es) that are not the container's (a shared cgroup); left in place`);
      continue;
    }
    try {
      removeCgroupDir(leaf, created.includes(leaf));
    } catch (err) {
      errors.push(err as RuntimeError);
    }
  }
  const parents = [...new Set(created)].filter((d) => !leafSet.has(d)).sort((a, b) => depth(b) - depth(a) || b.localeCompare(a));
  for (const d of parents) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      const e = errnoOf(err);
      if (e === 'ENOENT' || e === 'EBUSY' || e === 'ENOTEMPTY') continue; // gone, or another container's parent too
      errors.push(fromSystemError(Codes.CgroupRemove, `cannot remove cgroup ${d}`, err, { path: d, syscall: 'rmdir' }));
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const hint = errors[0]?.hint;
    throw new RuntimeError(Codes.CgroupRemove, `cannot remove cgroups: ${errors.map((e) => e.path).join(', ')}`, {
      cause: errors[0],
      ...(hint === undefined ? {} : { hint }),
    });
  }
  return notes;
}

function depth(p: string): number {
  return p.split('/').length;
}

// Most leaves are empty by the time a container is deleted and go with one
// rmdir each (it fails on a cgroup with processes or sub-cgroups); returns
// those that refused, for the caller to look into.
export function removeEmptyLeaves(leaves: string[]): string[] {
  return leaves.filter((l) => {
    try {
      fs.rmdirSync(l);
      return false;
    } catch (err) {
      return errnoOf(err) !== 'ENOENT';
    }
  });
}

// Poll until fn() is true or ms elapsed.
export function waitUntil(fn: () => boolean, ms: number, step = 10): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() >= end) return false;
    sleepSync(step);
  }
}
