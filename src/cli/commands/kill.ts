import { parseSignal } from '../../linux/signals.js';
import { killContainer } from '../../runtime/kill.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  const signal = parseSignal(ctx.args[1] ?? 'SIGTERM');
  await killContainer(ctx.store, ctx.args[0]!, signal, !!ctx.flags.all);
  return 0;
}
