// start, kill and delete: the operations on an existing container.

import fs from 'node:fs';
import { loadCgroupManager } from '../cgroups/manager.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { isSameProcessAlive, sleepMs, waitForExit } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import type { Status } from '../spec/types.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { ociState } from './create.js';
import { runHooks } from './hooks.js';
import { errnoName } from './init-channel.js';
import { initAlive, statusOf } from './status.js';

function wrongStatus(id: string, verb: string, status: Status, hint?: string): RuntimeError {
  return new RuntimeError(Codes.WrongStatus, `cannot ${verb} container "${id}": it is ${status}`, { hint });
}

// Read whatever the init wrote into the fifo after its "0": an error frame
// ("E" + step \t op \t syscall \t errno \t path \t message) if a
// startContainer hook or the exec failed. EOF means execve happened.
function readFifo(fd: number, st: ContainerState): { gotByte: boolean; rest: string } {
  const buf = Buffer.alloc(4096);
  let gotByte = false;
  let rest = '';
  const deadline = Date.now() + 10_000;
  let delay = 0.05;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      n = -1;
    }
    if (n > 0) {
      let chunk = buf.subarray(0, n).toString('utf8');
      if (!gotByte) {
        gotByte = true;
        chunk = chunk.slice(1);
      }
      rest += chunk;
      continue;
    }
    if (n === 0 && gotByte) return { gotByte, rest }; // the writer closed: exec'd or died
    // not yet: before its first byte a 0 only means the writer has not opened yet
    if (!gotByte && (!initAlive(st) || Date.now() > deadline)) return { gotByte, rest };
    sleepMs(delay);
    delay = Math.min(delay * 2, 5);
  }
}

export async function startContainer(store: StateStore, id: string, log: Logger): Promise<ContainerState> {
  const st = store.read(id);
  const status = statusOf(store, st);
  if (status !== 'created') {
    throw wrongStatus(id, 'start', status, status === 'stopped' ? `delete it with \`runt delete ${id}\` and create it again` : undefined);
  }
  const fifo = store.fifoPath(id);
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw fromSystemError(Codes.StartHandshake, `cannot start container "${id}": open the exec fifo`, err, { path: fifo });
  }
  let res: { gotByte: boolean; rest: string };
  try {
    res = readFifo(fd, st);
  } finally {
    fs.closeSync(fd);
  }
  if (!res.gotByte) {
    throw new RuntimeError(Codes.InitDied, `cannot start container "${id}": its init exited before start`, {
      hint: `\`runt state ${id}\` shows it stopped; delete it and create it again`,
    });
  }
  try {
    fs.unlinkSync(fifo);
  } catch {
    // already gone
  }
  if (res.rest.startsWith('E')) {
    const [step = '?', , syscall = '', errno = '0', path = '', ...msg] = res.rest.slice(1).split('\t');
    const e = errnoName(Number(errno));
    throw new RuntimeError(
      step === 'hook' ? Codes.HookFailed : Codes.ExecFailed,
      `cannot start container "${id}": ${msg.join('\t')}${Number(errno) ? `: ${syscall ? syscall + ': ' : ''}${e.name} (${e.text})` : ''}`,
      { phase: step, syscall: syscall || undefined, errno: Number(errno) ? e.name : undefined, path: path || undefined },
    );
  }
  st.started = true;
  store.write(st);
  try {
    await runHooks('poststart', st.config.hooks?.poststart, ociState(st, 'running', st.pid));
  } catch (err) {
    // runtime-spec 1.3: a failing poststart hook fails start; runc then
    // stops the container
    try {
      process.kill(st.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    throw err;
  }
  log.debug('container started', { id, pid: st.pid! });
  return st;
}

export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  const st = store.read(id);
  const status = statusOf(store, st);
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw wrongStatus(id, 'kill', status);
  }
  if (all && st.cgroup) {
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
