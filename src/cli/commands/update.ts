import * as fs from 'node:fs';
import { type UpdateFlags, parseResourcesDoc, resourcesFromFlags } from '../../cgroups/update-doc.js';
import { Codes } from '../../errors/codes.js';
import { fromSystemError } from '../../errors/runtime-error.js';
import { updateContainer } from '../../runtime/update.js';
import { type CommandContext, str } from '../context.js';

// runc update: with -r/--resources the document is the whole request and
// the other flags are ignored ("Note: if data is to be read from a file or
// the standard input, all other options are ignored").
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const file = str(f.resources);
  let resources;
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      throw fromSystemError(Codes.BadFlagValue, `cannot read the resources document ${file === '-' ? 'from standard input' : file}`, err, file === '-' ? {} : { path: file });
    }
    resources = parseResourcesDoc(text, file === '-' ? 'from standard input' : file);
  } else {
    const flags: UpdateFlags = {};
    for (const k of [
      'cpu-period', 'cpu-quota', 'cpu-burst', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus', 'cpuset-mems',
      'cpu-idle', 'memory', 'memory-swap', 'memory-reservation', 'kernel-memory', 'kernel-memory-tcp',
    ] as const) {
      const v = str(f[k]);
      if (v !== undefined) flags[k] = v;
    }
    // --cpu-shares (docker's spelling) is accepted next to runc's --cpu-share.
    const share = str(f['cpu-share']) ?? str(f['cpu-shares']);
    if (share !== undefined) flags['cpu-share'] = share;
    if (typeof f['blkio-weight'] === 'number') flags['blkio-weight'] = f['blkio-weight'];
    if (typeof f['pids-limit'] === 'number') flags['pids-limit'] = f['pids-limit'];
    resources = resourcesFromFlags(flags);
  }
  const l3 = str(f['l3-cache-schema']);
  const mb = str(f['mem-bw-schema']);
  updateContainer(
    ctx.store,
    ctx.args[0]!,
    { resources, ...(l3 === undefined ? {} : { l3CacheSchema: l3 }), ...(mb === undefined ? {} : { memBwSchema: mb }) },
    ctx.log,
  );
  return 0;
}
