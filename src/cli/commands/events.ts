import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';
import { parseGoDuration, printStats, streamEvents } from '../../runtime/events.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0]!;
  const raw = String(ctx.flags.interval ?? '5s');
  const ms = parseGoDuration(raw);
  if (ms === undefined) {
    throw new RuntimeError(Codes.BadFlagValue, `invalid value ${JSON.stringify(raw)} for --interval: not a duration`, {
      hint: 'use a Go duration such as 5s, 500ms or 1m',
    });
  }
  // runc checks the interval before --stats, too
  if (ms <= 0) throw new RuntimeError(Codes.BadFlagValue, 'duration interval must be greater than 0');
  if (ctx.flags.stats) printStats(ctx.store, id);
  else await streamEvents(ctx.store, id, ms, ctx.log);
  return 0;
}
