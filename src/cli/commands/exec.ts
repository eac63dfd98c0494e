import { execInContainer } from '../../runtime/exec.js';
import { str, type CommandContext } from '../context.js';
import { reportError } from '../report.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

// runc passes $LISTEN_FDS sockets on top of --preserve-fds (as create does;
// not imported from there, which would load create's whole module graph)
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

// runc exec: the process's exit status in the foreground, 0 once it runs
// when detached, 255 when the exec itself fails (runc fatalWithCode).
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  try {
    const r = await execInContainer(
      ctx.store,
      {
        id: ctx.args[0]!,
        args: ctx.args.slice(1),
        process: undefined,
        processPath: str(f.process),
        tty: !!f.tty,
        cwd: str(f.cwd),
        env: list(f.env),
        user: str(f.user),
        additionalGids: list(f['additional-gids']),
        caps: list(f.cap),
        noNewPrivs: typeof f['no-new-privs'] === 'boolean' ? f['no-new-privs'] : undefined,
        apparmor: str(f.apparmor),
        processLabel: str(f['process-label']),
        detach: !!f.detach,
        consoleSocket: str(f['console-socket']),
        pidFile: str(f['pid-file']),
        preserveFds: Number(f['preserve-fds'] ?? 0) + listenFds(),
        ignorePaused: !!f['ignore-paused'],
      },
      ctx.log,
    );
    return r.status ? await r.status : 0;
  } catch (err) {
    reportError(err, ctx.log);
    return 255;
  }
}
