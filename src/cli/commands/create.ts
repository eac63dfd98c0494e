import { createContainer } from '../../runtime/create.js';
import { str, type CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  await createContainer(
    ctx.store,
    {
      id: ctx.args[0]!,
      bundle: str(ctx.flags.bundle) ?? '.',
      consoleSocket: str(ctx.flags['console-socket']),
      pidFile: str(ctx.flags['pid-file']),
      noPivot: !!ctx.flags['no-pivot'],
      noNewKeyring: !!ctx.flags['no-new-keyring'],
      preserveFds: Number(ctx.flags['preserve-fds'] ?? 0) + listenFds(),
      systemdCgroup: !!ctx.global['systemd-cgroup'],
      detach: true,
    },
    ctx.log,
  );
  return 0;
}

// runc passes $LISTEN_FDS sockets (systemd socket activation) on top of
// --preserve-fds.
export function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}
