import { writeSync } from 'node:fs';
import { doctorChecks, doctorInput, renderJson, renderText } from '../../diagnostics/doctor.js';
import { initBinary } from '../../runtime/create.js';
import type { CommandContext } from '../context.js';
import { outputFormat } from './validate.js';

export async function run(ctx: CommandContext): Promise<number> {
  const format = outputFormat(ctx.flags.format);
  let init: string | undefined;
  try {
    init = initBinary();
  } catch {
    init = undefined;
  }
  const checks = doctorChecks(await doctorInput(ctx.store.root, init));
  writeSync(1, format === 'json' ? renderJson(checks) : renderText(checks));
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
