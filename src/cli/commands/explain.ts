import { writeSync } from 'node:fs';
import { dryRun } from '../../diagnostics/dry-run.js';
import { explain, renderJson, renderText } from '../../diagnostics/explain.js';
import { initBinary, loadValidSpec } from '../../runtime/create.js';
import { validateId } from '../../state/store.js';
import { str, type CommandContext } from '../context.js';
import { listenFds } from './create.js';
import { dryRunId, outputFormat } from './validate.js';

export async function run(ctx: CommandContext): Promise<number> {
  const format = outputFormat(ctx.flags.format);
  const bundleArg = str(ctx.flags.bundle) ?? '.';
  const id = validateId(dryRunId(ctx.args[0], bundleArg));
  const consoleSocket = str(ctx.flags['console-socket']);
  // the same checks as create: a config create would refuse is refused here
  const { spec, bundle, rootfs } = await loadValidSpec(bundleArg, { consoleSocket: !!consoleSocket, detached: true });
  const dry = dryRun(spec, bundle, rootfs, {
    id,
    root: ctx.store.root,
    systemdCgroup: !!ctx.global['systemd-cgroup'],
    consoleSocket,
    preserveFds: Number(ctx.flags['preserve-fds'] ?? 0) + listenFds(),
    noPivot: !!ctx.flags['no-pivot'],
    noNewKeyring: !!ctx.flags['no-new-keyring'],
  });
  let init: string;
  try {
    init = initBinary();
  } catch {
    init = 'runt-init (not built)';
  }
  const e = explain(spec, bundle, rootfs, id, dry, { consoleSocket, pidFile: str(ctx.flags['pid-file']), initBinary: init });
  writeSync(1, format === 'json' ? renderJson(e) : renderText(e));
  return 0;
}
