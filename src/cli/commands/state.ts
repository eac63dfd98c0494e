import { fs } from '../../sys/fs.js';
import { statusOf } from '../../runtime/status.js';
import type { ContainerState, StateStore } from '../../state/store.js';
import type { CommandContext } from '../context.js';

// runc's containerState: what `state` prints and `list --format json` lists.
export function describe(store: StateStore, st: ContainerState): Record<string, unknown> {
  const status = statusOf(store, st);
  const out: Record<string, unknown> = {
    ociVersion: st.ociVersion,
    id: st.id,
    pid: status === 'stopped' || status === 'creating' ? 0 : st.pid ?? 0,
    status,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    owner: st.owner,
  };
  if (Object.keys(st.annotations ?? {}).length) out.annotations = st.annotations;
  return out;
}

export async function run(ctx: CommandContext): Promise<number> {
  const st = ctx.store.read(ctx.args[0]!);
  fs.writeSync(1, JSON.stringify(describe(ctx.store, st), null, 2) + '\n');
  return 0;
}
