// delete: stop what is left of the container, remove its cgroup, run the
// poststop hooks, remove its state.

import type { CgroupManager } from '../cgroups/manager.js';
import { killsAllOnDestroy } from '../cgroups/ownership.js';
import { removeEmptyCgroups } from '../cgroups/remove-empty.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { isSameProcessAlive, waitForExit } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import { ociState } from '../state/oci.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { statusOf, wrongStatus } from './status.js';

// The cgroup manager, the intelRdt and the hooks code are loaded only when
// a delete needs them: the usual one (a stopped container with a pid
// namespace, no poststop hooks) removes empty cgroups and the state.
async function cgroupManager(st: ContainerState): Promise<CgroupManager | undefined> {
  if (!st.cgroup) return undefined;
  const { reopenCgroupManager } = await import('../cgroups/open.js');
  return reopenCgroupManager(st.cgroup);
}

// Kill everything of the container and wait for the init to be gone.
// initDead: the caller has just seen the init gone.
async function stopAll(st: ContainerState, initDead: boolean): Promise<void> {
  const initAlive = !initDead && !!st.pid && isSameProcessAlive(st.pid, st.pidStartTime);
  const killAll = killsAllOnDestroy(st.config);
  if (!initAlive && !killAll) return;
  const cg = await cgroupManager(st);
  // a frozen init does not die of SIGKILL until thawed (the cgroup's other
  // processes are thawed by destroy() before it signals them)
  if (cg && initAlive) {
    try {
      cg.thaw();
    } catch {
      // not frozen, or no freezer
    }
  }
  if (initAlive) {
    try {
      process.kill(st.pid!, 'SIGKILL');
    } catch {
      // raced with its exit
    }
  }
  // With a pid namespace of its own, the container's processes die with its
  // init; the cgroup may hold other containers' too (cgroups/ownership.ts).
  if (killAll) cg?.signalAll(9);
  if (st.pid && initAlive) waitForExit(st.pid, st.pidStartTime, 10_000);
}

// Under the container's lock: of two deletes, one does the work (poststop
// hooks included) and the other then finds the container gone.
export async function deleteContainer(store: StateStore, id: string, force: boolean, log: Logger): Promise<void> {
  let release: () => void;
  try {
    release = store.lock(id);
  } catch (err) {
    // an unknown id is success for --force, as in runc
    if (force && err instanceof RuntimeError && err.code === Codes.ContainerNotFound) return;
    throw err;
  }
  let removed = false;
  try {
    removed = await deleteLocked(store, id, force, log);
  } finally {
    // the lock went with the state directory
    if (!removed) release();
  }
}

// true once the state directory (and the lock in it) is gone
async function deleteLocked(store: StateStore, id: string, force: boolean, log: Logger): Promise<boolean> {
  let st: ContainerState;
  try {
    st = store.read(id);
  } catch (err) {
    // a directory without state.json is a create killed before writing it;
    // an unknown id is success for --force, as in runc (engines retry
    // delete --force after a failed create and must not see an error)
    if (force && err instanceof RuntimeError && err.code === Codes.ContainerNotFound) {
      return store.remove(id);
    }
    // a state.json that cannot be parsed (written by something else): with
    // --force remove what we can, which is the state; the hint promises it
    if (force && err instanceof RuntimeError && err.code === Codes.StateCorrupt) {
      log.warn(`${err.message}: removing its state directory only`);
      return store.remove(id);
    }
    throw err;
  }
  const status = statusOf(store, st);
  if (status === 'creating' && !force) {
    throw wrongStatus(id, 'delete', status, 'wait for create to finish, or use --force');
  }
  if ((status === 'running' || status === 'paused') && !force) {
    throw wrongStatus(id, 'delete', status, `stop it first (\`runt kill ${id} KILL\`) or use \`runt delete --force ${id}\``);
  }
  // A created container is deleted as runc does (containerd relies on it),
  // although runtime-spec says delete of a non-stopped container must fail.
  log.phase('kill');
  // "stopped" of a container whose create finished: its init is gone (a
  // create that died half way may have left a live one)
  await stopAll(st, status === 'stopped' && st.creatorPid === undefined);
  log.phase('cgroup');
  if (st.cgroup) {
    try {
      const notes = removeEmptyCgroups(st.cgroup) ?? (await cgroupManager(st))!.destroy({ killAll: killsAllOnDestroy(st.config) });
      for (const note of notes) log.warn(note);
    } catch (err) {
      if (!force) throw err;
      log.warn(`remove cgroup of "${id}": ${(err as Error).message}`);
    }
  }
  // the container's own resctrl group (runc intelrdt Destroy)
  if (st.config.linux?.intelRdt) {
    const { removeIntelRdt } = await import('../linux/resctrl.js');
    removeIntelRdt(st.config.linux.intelRdt, id);
  }
  log.phase('hooks');
  if (st.pid !== undefined && st.config.hooks?.poststop?.length) {
    try {
      const { runHooks } = await import('./hooks.js');
      await runHooks('poststop', st.config.hooks?.poststop, ociState(st, 'stopped', undefined));
    } catch (err) {
      // runtime-spec: a failing poststop hook is logged, the delete goes on
      log.warn((err as Error).message);
    }
  }
  log.phase('state');
  return store.remove(id);
}
