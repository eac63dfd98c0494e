import { writeSync } from 'node:fs';
import path from 'node:path';
import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';
import { exitStatus, renderJson, renderText, validateBundle } from '../../diagnostics/validate.js';
import { str, type CommandContext } from '../context.js';

// text or json, for the diagnostics commands
export function outputFormat(v: unknown): 'text' | 'json' {
  if (v === undefined || v === 'text' || v === '') return 'text';
  if (v === 'json') return 'json';
  throw new RuntimeError(Codes.BadFlagValue, `invalid --format ${JSON.stringify(v)}`, { hint: 'use "text" or "json"' });
}

// The id create would get: the bundle directory's name when it is a valid
// one (it only shapes the cgroup and state paths of a dry run).
export function dryRunId(arg: string | undefined, bundle: string): string {
  if (arg) return arg;
  const base = path.basename(path.resolve(bundle));
  return /^[\w+.-]+$/.test(base) && base !== '.' && base !== '..' ? base : 'container';
}

export async function run(ctx: CommandContext): Promise<number> {
  const format = outputFormat(ctx.flags.format);
  const bundle = str(ctx.flags.bundle) ?? '.';
  const report = await validateBundle({
    bundle,
    id: dryRunId(ctx.args[0], bundle),
    root: ctx.store.root,
    systemdCgroup: !!ctx.global['systemd-cgroup'],
  });
  writeSync(1, format === 'json' ? renderJson(report) : renderText(report));
  return exitStatus(report);
}
