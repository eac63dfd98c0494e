import { writeSync } from 'node:fs';
import { features } from '../../features/features.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  const doc = features();
  if (ctx.flags.host) {
    // beside what runt implements, what this host provides (loaded only then)
    const { hostFeatures } = await import('../../diagnostics/host-features.js');
    const { gatherHostFacts } = await import('../../diagnostics/host-facts.js');
    const { hostReader } = await import('../../diagnostics/host-reader.js');
    const { loadSyscallProber } = await import('../../diagnostics/syscall-probe.js');
    doc.host = hostFeatures(gatherHostFacts(hostReader(), await loadSyscallProber()));
  }
  writeSync(1, JSON.stringify(doc, null, 4) + '\n');
  return 0;
}
