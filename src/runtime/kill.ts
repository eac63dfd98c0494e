// kill: signal the init, or with --all every process in the cgroup.

import { fs } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import type { Status } from '../spec/types.js';
import type { StateStore } from '../state/store.js';
import { statusOf } from './status.js';

const SIGKILL = 9;

// containerd's shim (checkKillError in pkg/process/utils.go) recognises a
// container that is already gone by runc's words "container not running"
// and reports it as "process already finished"; any other text becomes
// "unknown error after kill".
function notRunning(id: string, status: Status): RuntimeError {
  return new RuntimeError(Codes.WrongStatus, `cannot kill container "${id}": container not running (it is ${status})`);
}

export async function killContainer(store: StateStore, id: string, signal: number, all: boolean): Promise<void> {
  const st = store.read(id);
  const status = statusOf(store, st);
  if (all && status === 'stopped' && !st.cgroup) return;
  if (all && st.cgroup) {
    // As runc (libcontainer Signal): --all signals whatever is left in the
    // cgroup whatever the init's state, and does nothing for a stopped
    // container whose cgroup is gone. containerd's shim runs `kill --all`
    // right after the init of a container without a pid namespace of its own
    // exited, to end the processes it left behind.
    if (status === 'stopped' && !Object.values(st.cgroup.paths).some((p) => fs.existsSync(p))) return;
    const { reopenCgroupManager } = await import('../cgroups/open.js');
    (await reopenCgroupManager(st.cgroup)).signalAll(signal);
    return;
  }
  if (status !== 'created' && status !== 'running' && status !== 'paused') throw notRunning(id, status);
  try {
    process.kill(st.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw notRunning(id, 'stopped');
    throw fromSystemError(Codes.KillFailed, `cannot kill container "${id}"`, err);
  }
  // SIGKILL is not delivered to a task frozen by the v1 freezer until it
  // thaws: thaw it as runc does, so that a paused container really dies.
  if (status === 'paused' && signal === SIGKILL && st.cgroup) {
    try {
      const { reopenCgroupManager } = await import('../cgroups/open.js');
      (await reopenCgroupManager(st.cgroup)).thaw();
    } catch {
      // best effort: the signal was sent
    }
  }
}

