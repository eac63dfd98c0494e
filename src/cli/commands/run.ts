import { createContainer } from '../../runtime/create.js';
import { deleteContainer } from '../../runtime/delete.js';
import { startContainer } from '../../runtime/start.js';
import { str, type CommandContext } from '../context.js';
import { listenFds } from './create.js';

// Signals the runtime passes on to the container's init while it waits
// (runc's signal handler does the same; SIGCHLD is ours).
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

export async function run(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0]!;
  const detach = !!ctx.flags.detach;
  const created = await createContainer(
    ctx.store,
    {
      id,
      bundle: str(ctx.flags.bundle) ?? '.',
      consoleSocket: str(ctx.flags['console-socket']),
      pidFile: str(ctx.flags['pid-file']),
      noPivot: !!ctx.flags['no-pivot'],
      noNewKeyring: !!ctx.flags['no-new-keyring'],
      preserveFds: Number(ctx.flags['preserve-fds'] ?? 0) + listenFds(),
      systemdCgroup: !!ctx.global['systemd-cgroup'],
      detach,
    },
    ctx.log,
  );
  const pid = created.state.pid!;
  const exited = detach ? undefined : created.stage0.exited;
  const forward = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // the container is already gone
    }
  };
  if (!detach) for (const s of FORWARDED) process.on(s, forward);
  try {
    await startContainer(ctx.store, id, ctx.log, created.state);
  } catch (err) {
    const failedIn = ctx.log.phaseName;
    await deleteContainer(ctx.store, id, true, ctx.log).catch(() => {});
    // report the phase that failed, not the cleanup's
    ctx.log.phaseName = failedIn;
    throw err;
  }
  if (!exited) return 0;
  ctx.log.phase('container');
  const code = await exited;
  for (const s of FORWARDED) process.off(s, forward);
  if (!ctx.flags.keep) await deleteContainer(ctx.store, id, true, ctx.log);
  return code;
}
