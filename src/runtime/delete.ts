// delete: stop what is left of the container, remove its cgroup, run the
// poststop hooks, remove its state.

import { loadCgroupManager } from '../cgroups/manager.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { isSameProcessAlive, waitForExit } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import { ociState } from '../state/oci.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { runHooks } from './hooks.js';
import { statusOf, wrongStatus } from './status.js';

// Kill everything of the container and wait for the init to be gone.
function stopAll(st: ContainerState): void {
  const cg = st.cgroup ? loadCgroupManager(st.cgroup) : undefined;
  if (cg) {
    try {
      cg.thaw();
    } catch {
      // not frozen, or no freezer
    }
  }
  if (st.pid && isSameProcessAlive(st.pid, st.pidStartTime)) {
    try {
      process.kill(st.pid, 'SIGKILL');
    } catch {
      // raced with its exit
    }
  }
  cg?.signalAll(9);
  if (st.pid) waitForExit(st.pid, st.pidStartTime, 10_000);
}

export async function deleteContainer(store: StateStore, id: string, force: boolean, log: Logger): Promise<void> {
  let st: ContainerState;
  try {
    st = store.read(id);
  } catch (err) {
    // a directory without state.json: a create killed before writing it
    if (force && err instanceof RuntimeError && err.code === Codes.ContainerNotFound && store.exists(id)) {
      store.remove(id);
      return;
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
  stopAll(st);
  if (st.cgroup) {
    try {
      loadCgroupManager(st.cgroup).destroy();
    } catch (err) {
      if (!force) throw err;
      log.warn(`remove cgroup of "${id}": ${(err as Error).message}`);
    }
  }
  if (st.pid !== undefined) {
    try {
      await runHooks('poststop', st.config.hooks?.poststop, ociState(st, 'stopped', undefined));
    } catch (err) {
      // runtime-spec: a failing poststop hook is logged, the delete goes on
      log.warn((err as Error).message);
    }
  }
  store.remove(id);
}
