// A small, fast argv parser driven by flags.ts (yargs costs 30-70 ms to
// import; engines call us thousands of times). Accepts runc's forms:
// --flag value, --flag=value, -f value, boolean --flag / --flag=false,
// global flags before or after the command, and "--".

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { COMMANDS, GLOBAL_FLAGS, findCommand, type CommandSpec, type FlagSpec } from './flags.js';

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface ParsedArgs {
  global: FlagValues;
  command: CommandSpec | undefined;
  flags: FlagValues;
  args: string[];
}

function lookup(list: FlagSpec[], name: string, short: boolean): FlagSpec | undefined {
  return list.find((f) => (short ? f.alias?.includes(name) : f.name === name));
}

function defaults(list: FlagSpec[]): FlagValues {
  const out: FlagValues = {};
  for (const f of list) out[f.name] = f.type === 'array' ? [] : f.default;
  return out;
}

function convert(f: FlagSpec, raw: string, where: string): string | number | boolean {
  if (f.type === 'number') {
    if (!/^-?\d+$/.test(raw)) {
      throw new RuntimeError(Codes.BadFlagValue, `invalid value ${JSON.stringify(raw)} for --${f.name}${where}: not an integer`);
    }
    return Number(raw);
  }
  if (f.type === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new RuntimeError(Codes.BadFlagValue, `invalid value ${JSON.stringify(raw)} for --${f.name}${where}: expected true or false`);
  }
  return raw;
}

export function parseArgv(argv: string[]): ParsedArgs {
  const global = defaults(GLOBAL_FLAGS);
  let command: CommandSpec | undefined;
  let flags: FlagValues = {};
  const args: string[] = [];
  let onlyArgs = false;

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyArgs || (command?.restAfter !== undefined && args.length >= command.restAfter)) {
      args.push(a);
      continue;
    }
    if (a === '--') {
      onlyArgs = true;
      continue;
    }
    if (a.startsWith('-') && a !== '-') {
      const long = a.startsWith('--');
      const body = a.slice(long ? 2 : 1);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const where = command ? ` of ${command.name}` : '';
      let f = command ? lookup(command.flags, name, !long) : undefined;
      let target = flags;
      if (!f) {
        f = lookup(GLOBAL_FLAGS, name, !long);
        target = global;
      }
      if (!f) {
        const cmd = command ? `runt ${command.name} --help` : 'runt --help';
        throw new RuntimeError(Codes.BadFlag, `unknown flag ${long ? '--' : '-'}${name}${where}`, { hint: `\`${cmd}\` lists the flags` });
      }
      let value: string | number | boolean;
      if (eq >= 0) value = convert(f, body.slice(eq + 1), where);
      else if (f.type === 'boolean') value = true;
      else {
        const next = argv[++i];
        if (next === undefined) throw new RuntimeError(Codes.BadFlagValue, `flag --${f.name}${where} needs a value`);
        value = convert(f, next, where);
      }
      if (f.type === 'array') (target[f.name] as string[]).push(String(value));
      else target[f.name] = value;
      continue;
    }
    if (!command) {
      command = findCommand(a);
      if (!command) {
        throw new RuntimeError(Codes.UnknownCommand, `unknown command ${JSON.stringify(a)}`, {
          hint: `the commands are: ${COMMANDS.map((c) => c.name).join(', ')}`,
        });
      }
      flags = defaults(command.flags);
      continue;
    }
    args.push(a);
  }
  return { global, command, flags, args };
}

export function checkArgCount(cmd: CommandSpec, args: string[]): void {
  if (args.length < cmd.minArgs) {
    throw new RuntimeError(Codes.MissingArgument, `${cmd.name}: missing ${cmd.args.split(' ')[args.length] ?? 'argument'}`, {
      hint: `usage: runt ${cmd.name} ${cmd.args}`,
    });
  }
  if (args.length > cmd.maxArgs) {
    throw new RuntimeError(Codes.BadFlag, `${cmd.name}: unexpected argument ${JSON.stringify(args[cmd.maxArgs])}`, {
      hint: `usage: runt ${cmd.name} ${cmd.args}`,
    });
  }
}
