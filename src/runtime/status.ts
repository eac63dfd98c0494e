// A container's status is derived, never stored (as runc does): the init's
// liveness (pid + start time), the exec fifo (present until `start`) and the
// freezer decide it. A create that died half way shows as stopped.

import { fs } from '../sys/fs.js';
import { isFrozen } from '../cgroups/freezer-state.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { isSameProcessAlive } from '../linux/proc.js';
import type { Status } from '../spec/types.js';
import type { ContainerState, StateStore } from '../state/store.js';

export function initAlive(st: ContainerState): boolean {
  return st.pid !== undefined && st.pid > 0 && isSameProcessAlive(st.pid, st.pidStartTime);
}

export function statusOf(store: StateStore, st: ContainerState): Status {
  if (st.creatorPid !== undefined) {
    return isSameProcessAlive(st.creatorPid, st.creatorStartTime) ? 'creating' : 'stopped';
  }
  if (!initAlive(st)) return 'stopped';
  if (fs.existsSync(store.fifoPath(st.id))) return 'created';
  if (st.cgroup && isFrozen(st.cgroup)) return 'paused';
  return 'running';
}

export function wrongStatus(id: string, verb: string, status: Status, hint?: string): RuntimeError {
  return new RuntimeError(Codes.WrongStatus, `cannot ${verb} container "${id}": it is ${status}`, { hint });
}
