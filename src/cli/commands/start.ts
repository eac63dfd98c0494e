import { startContainer } from '../../runtime/start.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  await startContainer(ctx.store, ctx.args[0]!, ctx.log);
  return 0;
}
