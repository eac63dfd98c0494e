import { freezeContainer } from '../../runtime/freeze.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  freezeContainer(ctx.store, ctx.args[0]!, false);
  return 0;
}
