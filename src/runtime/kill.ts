// kill: signal the init, or with --all every process in the cgroup.

import { Codes } from '../errors/codes.js';
import { fromSystemError } from '../errors/runtime-error.js';
import type { StateStore } from '../state/store.js';
import { statusOf, wrongStatus } from './status.js';

export async function killContainer(store: StateStore, id: string, signal: number, all: boolean): Promise<void> {
  const st = store.read(id);
  const status = statusOf(store, st);
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw wrongStatus(id, 'kill', status);
  }
  if (all && st.cgroup) {
    const { loadCgroupManager } = await import('../cgroups/manager.js');
    loadCgroupManager(st.cgroup).signalAll(signal);
    return;
  }
  try {
    process.kill(st.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw wrongStatus(id, 'kill', 'stopped');
    throw fromSystemError(Codes.KillFailed, `cannot kill container "${id}"`, err);
  }
}

