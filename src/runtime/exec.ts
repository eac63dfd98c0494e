// `exec`: start another process in a running (or created) container. The
// process is computed from the stored config and the request (spec/
// exec-process.ts), compiled into a join-mode plan (spec/to-exec-plan.ts)
// and run by the same runt-init that builds containers: it joins the
// init's namespaces and cgroup, applies the process settings and execs.
//
// Detached, we return once the process has exec'd: the sync socket is
// close-on-exec in the child, so EOF on it means execve succeeded, an error
// frame means it did not. In the foreground runt-init stays as the parent and
// exits with the process's status, which becomes ours; signals sent to us are
// passed on to the process.

import { fs } from '../sys/fs.js';
import type net from 'node:net';
import { cgroupJoinFiles } from '../cgroups/join-files.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { hostSecurityFacts } from '../linux/lsm.js';
import { readLastCap } from '../linux/proc.js';
import { joinIntelRdt } from '../linux/resctrl.js';
import type { Logger } from '../log/logger.js';
import { encodePlan } from '../plan/encode.js';
import type { Plan } from '../plan/types.js';
import { containerProcessState } from '../seccomp/notify.js';
import { execProcess, type ExecRequest } from '../spec/exec-process.js';
import type { SeccompInstall } from '../spec/process-extras.js';
import { compileExecPlan } from '../spec/to-exec-plan.js';
import type { NamespaceType, Process, Spec } from '../spec/types.js';
import { ociState } from '../state/oci.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { initError, type InitChannel } from './init-channel.js';
import { spawnStage, stageConsoleFd, type StageProcess } from './stage-process.js';
import { connectUnix, findInitBinary, writePidFileAtomic } from './native-stage.js';
import { statusOf, wrongStatus } from './status.js';

export interface ExecOptions extends ExecRequest {
  id: string;
  detach: boolean;
  consoleSocket: string | undefined;
  pidFile: string | undefined;
  preserveFds: number;
  ignorePaused: boolean;
}

// Signals passed on to the process in the foreground (as `run` does).
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

// /proc/<pid>/ns/<file> for each type.
const NS_FILES: Record<NamespaceType, string> = { user: 'user', mount: 'mnt', pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', time: 'time' };

function readProcessFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fromSystemError(Codes.ConfigRead, `read process file ${file}`, err, { path: file });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RuntimeError(Codes.ConfigJson, `process file ${file} is not valid JSON: ${(err as Error).message}`, { path: file });
  }
}

// runc runner.run: a detached terminal needs a console socket; in the
// foreground without one, runt-init relays the pty itself (as runc does).
function checkTerminal(p: Process, o: ExecOptions): void {
  if (p.terminal && !o.consoleSocket && o.detach) {
    throw new RuntimeError(Codes.ConsoleSocket, 'cannot allocate a tty for a detached exec without --console-socket', {
      hint: 'pass --console-socket PATH (a unix socket that receives the pty master), or drop --tty',
    });
  }
  if (!p.terminal && o.consoleSocket) {
    throw new RuntimeError(Codes.ConsoleSocket, '--console-socket was given but the process has no terminal', { hint: 'add --tty (or "terminal": true in the process file), or drop --console-socket' });
  }
}

async function compileSeccomp(config: Spec, store: StateStore, log: Logger): Promise<SeccompInstall | undefined> {
  const sc = config.linux?.seccomp;
  if (!sc) return undefined;
  const { seccompFilter, seccompCacheDir } = await import('../seccomp/filter.js');
  const f = await seccompFilter(sc, seccompCacheDir(store.root));
  if (f.skipped.length) log.debug('seccomp: syscalls unknown to libseccomp ignored', { names: f.skipped.join(',') });
  return { bpf: f.bpf, flags: f.program.flags, notify: f.program.notify, listenerPath: f.program.listenerPath };
}

export interface ExecResult {
  pid: number;
  // foreground only: the process's exit status
  status: Promise<number> | undefined;
}

export async function execInContainer(store: StateStore, o: ExecOptions, log: Logger): Promise<ExecResult> {
  const st = store.read(o.id);
  const status = statusOf(store, st);
  if (status === 'stopped') throw wrongStatus(o.id, 'exec in', status);
  if (status === 'creating') throw wrongStatus(o.id, 'exec in', status, 'wait until create has finished');
  if (status === 'paused' && !o.ignorePaused) throw wrongStatus(o.id, 'exec in', status, 'resume it first, or pass --ignore-paused');
  const config = st.config;

  const proc = execProcess(config, { ...o, process: o.processPath ? readProcessFile(o.processPath) : undefined });
  checkTerminal(proc, o);
  const seccomp = await compileSeccomp(config, store, log);
  const consoleFd = o.consoleSocket ? stageConsoleFd(o.preserveFds) : undefined;
  const plan: Plan = compileExecPlan(config, proc, {
    id: o.id,
    namespaces: (config.linux?.namespaces ?? []).map((ns) => ({ type: ns.type, path: `/proc/${st.pid}/ns/${NS_FILES[ns.type]}` })),
    cgroupProcs: st.cgroup ? cgroupJoinFiles(st.cgroup) : [],
    consoleSocketFd: consoleFd,
    consoleProxy: !!proc.terminal && !o.consoleSocket && !o.detach,
    preserveFds: o.preserveFds,
    noNewKeyring: !!st.noNewKeyring,
    lastCap: readLastCap(),
    stay: !o.detach,
    seccomp,
    host: hostSecurityFacts(),
  });
  for (const w of plan.warnings) log.warn(w);

  let consoleSock: net.Socket | undefined;
  let stage0: StageProcess | undefined;
  let channel: InitChannel | undefined;
  let pid: number | undefined;
  try {
    if (o.consoleSocket) consoleSock = await connectUnix(o.consoleSocket);
    const init = findInitBinary();
    log.debug('spawn native stage for exec', { binary: init, ops: plan.ops.length });
    // runt-init exits with the process's status (128+N for signal N); it
    // only dies of a signal itself when it is killed
    stage0 = await spawnStage({ init, preserveFds: o.preserveFds, plan: encodePlan(plan), consoleSocket: consoleSock });
    const spawned = stage0;
    const exited = stage0.exited;
    channel = stage0.channel;
    // forward signals from now on: a signal that arrives before the pid is
    // known is delivered once it is
    const pending: NodeJS.Signals[] = [];
    // with the relayed pty the window size is runt-init's to follow
    const proxy = !!proc.terminal && !o.consoleSocket;
    const forward = (sig: NodeJS.Signals): void => {
      if (pid === undefined) {
        pending.push(sig);
        return;
      }
      try {
        process.kill(proxy && sig === 'SIGWINCH' ? spawned.pid : pid, sig);
      } catch {
        // the process is gone
      }
    };
    if (!o.detach) for (const s of FORWARDED) process.on(s, forward);
    const unforward = (): void => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    try {
      pid = await handshake(st, config, plan, channel, o, log);
    } catch (err) {
      unforward();
      throw err;
    }
    consoleSock?.destroy();
    channel.close();
    for (const sig of pending) forward(sig);
    if (o.pidFile) writePidFileAtomic(o.pidFile, pid);
    log.debug('exec process started', { id: o.id, pid });
    if (o.detach) return { pid, status: undefined };
    return { pid, status: exited.finally(unforward) };
  } catch (err) {
    channel?.close();
    consoleSock?.destroy();
    if (stage0?.running()) stage0.kill('SIGKILL');
    // set only once the process has exec'd: a later failure (the pid file)
    // must not leave it running unaccounted for, as runc's runner kills it
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    throw err;
  }
}

// Until EOF (the process exec'd) or an error frame; returns its host pid.
async function handshake(st: ContainerState, config: Spec, plan: Plan, channel: InitChannel, o: ExecOptions, log: Logger): Promise<number> {
  const what = `cannot exec in container "${o.id}"`;
  let pid: number | undefined;
  for (;;) {
    const frame = await channel.next();
    if (!frame) {
      if (pid !== undefined) return pid;
      throw new RuntimeError(Codes.InitDied, `${what}: the native stage exited without reporting why`, {
        phase: 'stage0',
        hint: 'run with --debug, and check the kernel log (dmesg) for a crash or an LSM denial',
      });
    }
    switch (frame.type) {
      case 'P':
        pid = Number(frame.payload.toString('latin1'));
        // runc adds exec'd processes to the container's resctrl group too
        if (config.linux?.intelRdt) joinIntelRdt(config.linux.intelRdt, o.id, pid);
        break;
      case 'S': {
        const state = ociState(st, 'running', st.pid);
        channel.send('N', containerProcessState(pid ?? 0, config.linux?.seccomp?.listenerMetadata, state));
        break;
      }
      case 'W':
        log.warn(frame.payload.toString('utf8'));
        break;
      case 'E':
        throw initError(frame.payload, plan, what);
      default:
        throw new RuntimeError(Codes.InitProtocol, `${what}: unexpected frame "${frame.type}" from the native stage`);
    }
  }
}
