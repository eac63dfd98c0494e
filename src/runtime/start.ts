// start: open the exec fifo, which lets the waiting init exec the user
// process, and run the poststart hooks.

import { fs, pollIn } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { sleepMs } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import { ociState } from '../state/oci.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { errnoName } from './errno.js';
import { initAlive, statusOf, wrongStatus } from './status.js';

// Read whatever the init wrote into the fifo after its "0": an error frame
// ("E" + step \t op \t syscall \t errno \t path \t message) if a
// startContainer hook or the exec failed. EOF means execve happened.
function readFifo(fd: number, st: ContainerState): { gotByte: boolean; rest: string } {
  const buf = Buffer.alloc(4096);
  let gotByte = false;
  let rest = '';
  const deadline = Date.now() + 10_000;
  let delay = 0.05;
  let lastRead = false;
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
    if (!gotByte && (!initAlive(st) || Date.now() > deadline)) {
      // the init may have written, exec'd and exited (a short container,
      // reaped at once by a shim) between our read and this check: what it
      // wrote is still in the pipe, so read once more before giving up
      if (lastRead) return { gotByte, rest };
      lastRead = true;
      continue;
    }
    if (n === -1 && pollIn) {
      // EAGAIN: the init has the fifo open and is busy (hooks, exec): wake
      // at its next byte or its exec, not after a sleep's overshoot
      pollIn(fd, 10);
      continue;
    }
    sleepMs(delay);
    delay = Math.min(delay * 2, 0.5);
  }
}

// created: the state `run` has just recorded, which it passes instead of
// having it read back and checked (the exec fifo still decides: a container
// deleted meanwhile has none).
export async function startContainer(store: StateStore, id: string, log: Logger, created?: ContainerState): Promise<ContainerState> {
  const st = created ?? store.read(id);
  const status = created ? 'created' : statusOf(store, st);
  if (status !== 'created') {
    throw wrongStatus(id, 'start', status, status === 'stopped' ? `delete it with \`runt delete ${id}\` and create it again` : undefined);
  }
  const fifo = store.fifoPath(id);
  log.phase('exec-wait');
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
      {
        phase: step,
        syscall: syscall || undefined,
        errno: Number(errno) ? e.name : undefined,
        path: path || undefined,
        // the config member at fault: the startContainer hook, or the program
        field: step === 'hook' ? startHookField(st, path) : '/process/args/0',
      },
    );
  }
  // Nothing is written: the fifo's removal above is what makes the
  // container "running" (status.ts derives the status, as runc does).
  log.phase('hooks');
  const poststart = st.config.hooks?.poststart;
  try {
    if (poststart?.length) await (await import('./hooks.js')).runHooks('poststart', poststart, ociState(st, 'running', st.pid));
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

function startHookField(st: ContainerState, path: string): string | undefined {
  const i = (st.config.hooks?.startContainer ?? []).findIndex((h) => h.path === path);
  return i < 0 ? undefined : `/hooks/startContainer/${i}`;
}
