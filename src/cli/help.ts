// Help text, rendered by yargs from the same table the fast parser uses
// (flags.ts). Loaded only for --help: yargs costs tens of milliseconds to
// import, which the machine-driven calls must not pay.

import { writeSync } from 'node:fs';
import yargs from 'yargs';
import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './flags.js';

type YargsLike = {
  option(name: string, opts: Record<string, unknown>): YargsLike;
};

function addFlags(y: YargsLike, flags: FlagSpec[]): YargsLike {
  for (const f of flags) {
    if (f.hidden || f.name === 'help' || f.name === 'version') continue;
    y = y.option(f.name, {
      alias: f.alias,
      type: f.type === 'array' ? 'array' : f.type,
      describe: f.desc,
      ...(f.default !== undefined && f.default !== '' && f.type !== 'boolean' ? { default: f.default } : {}),
    });
  }
  return y;
}

export async function printHelp(cmd: CommandSpec | undefined): Promise<void> {
  let y = yargs([])
    .scriptName('runt')
    .usage(cmd ? `runt ${cmd.name} [options] ${cmd.args}\n\n${cmd.summary}` : 'runt [global options] <command> [options] [arguments...]\n\nA runc-compatible OCI container runtime.')
    .version(false)
    .help(false)
    .wrap(Math.min(110, process.stdout.columns || 110));
  if (cmd) {
    y = addFlags(y as unknown as YargsLike, cmd.flags) as unknown as typeof y;
  } else {
    for (const c of COMMANDS) y = y.command(c.args ? `${c.name} ${c.args}` : c.name, c.summary);
    y = addFlags(y as unknown as YargsLike, GLOBAL_FLAGS) as unknown as typeof y;
  }
  writeSync(1, (await y.getHelp()) + '\n');
}
