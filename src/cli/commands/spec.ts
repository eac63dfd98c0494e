import fs from 'node:fs';
import path from 'node:path';
import { Codes } from '../../errors/codes.js';
import { RuntimeError, fromSystemError } from '../../errors/runtime-error.js';
import { defaultSpec } from '../../spec/default-spec.js';
import { str, type CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<number> {
  const bundle = str(ctx.flags.bundle) ?? '.';
  const file = path.join(bundle, 'config.json');
  const spec = defaultSpec({ rootless: !!ctx.flags.rootless });
  try {
    // wx: never overwrite an existing config (runc refuses too)
    fs.writeFileSync(file, JSON.stringify(spec, null, '\t'), { flag: 'wx', mode: 0o666 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RuntimeError(Codes.ConfigRead, `${file} already exists`, { path: file, hint: 'remove it first' });
    }
    throw fromSystemError(Codes.ConfigRead, `write ${file}`, err, { path: file });
  }
  return 0;
}
