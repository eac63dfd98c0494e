import { deleteContainer } from '../../runtime/delete.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  await deleteContainer(ctx.store, ctx.args[0]!, !!ctx.flags.force, ctx.log);
  return 0;
}
