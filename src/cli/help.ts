// Help text, rendered by yargs from the same table the fast parser uses.
// Loaded only for --help: yargs costs tens of milliseconds to import.

import { writeSync } from 'node:fs';
import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './flags.js';

function line(f: FlagSpec): string {
  const names = [`--${f.name}`, ...(f.alias ?? []).map((a) => `-${a}`)].join(', ');
  const value = f.type === 'boolean' ? '' : f.type === 'number' ? ' N' : ' VALUE';
  const def = f.default !== undefined && f.default !== '' && f.type !== 'boolean' ? ` (default: ${JSON.stringify(f.default)})` : '';
  return `   ${(names + value).padEnd(28)} ${f.desc}${def}`;
}

export function printHelp(cmd: CommandSpec | undefined): void {
  let text: string;
  if (cmd) {
    text = `NAME:\n   runt ${cmd.name} - ${cmd.summary}\n\nUSAGE:\n   runt ${cmd.name} [command options] ${cmd.args}\n`;
    const flags = cmd.flags.filter((f) => !f.hidden);
    if (flags.length) text += `\nOPTIONS:\n${flags.map(line).join('\n')}\n`;
  } else {
    text =
      'NAME:\n   runt - a runc-compatible OCI container runtime\n\nUSAGE:\n   runt [global options] command [command options] [arguments...]\n\n' +
      `COMMANDS:\n${COMMANDS.map((c) => `   ${c.name.padEnd(10)} ${c.summary}`).join('\n')}\n\n` +
      `GLOBAL OPTIONS:\n${GLOBAL_FLAGS.filter((f) => !f.hidden).map(line).join('\n')}\n`;
  }
  writeSync(1, text);
}
