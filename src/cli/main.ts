// runt: a runc-compatible OCI runtime. Parse, dispatch to one command
// module (loaded only when used), report errors once.

import { Logger } from '../log/logger.js';
import { StateStore } from '../state/store.js';
import { fs } from '../sys/fs.js';
import type { CommandRun } from './context.js';
import { checkArgCount, parseArgv } from './parse.js';
import { logFromArgv, reportError } from './report.js';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

const loaders: Record<string, () => Promise<{ run: CommandRun }>> = {
  create: () => import('./commands/create.js'),
  start: () => import('./commands/start.js'),
  state: () => import('./commands/state.js'),
  kill: () => import('./commands/kill.js'),
  delete: () => import('./commands/delete.js'),
  run: () => import('./commands/run.js'),
  list: () => import('./commands/list.js'),
  ps: () => import('./commands/ps.js'),
  exec: () => import('./commands/exec.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  update: () => import('./commands/update.js'),
  events: () => import('./commands/events.js'),
  spec: () => import('./commands/spec.js'),
  features: () => import('./commands/features.js'),
  validate: () => import('./commands/validate.js'),
  explain: () => import('./commands/explain.js'),
  doctor: () => import('./commands/doctor.js'),
};

async function main(argv: string[]): Promise<number> {
  const mainStart = performance.now();
  let log: Logger | undefined;
  try {
    const parsed = parseArgv(argv);
    const g = parsed.global;
    const format = g['log-format'] === 'json' ? 'json' : 'text';
    if (g['log-format'] !== 'json' && g['log-format'] !== 'text') {
      log = new Logger({ file: undefined, format: 'text', debug: false });
      const { RuntimeError } = await import('../errors/runtime-error.js');
      const { Codes } = await import('../errors/codes.js');
      throw new RuntimeError(Codes.BadFlagValue, `invalid --log-format ${JSON.stringify(g['log-format'])}`, { hint: 'use "text" or "json"' });
    }
    log = new Logger({ file: typeof g.log === 'string' && g.log ? g.log : undefined, format, debug: !!g.debug });
    log.open();
    // tracing is loaded only when asked for
    if (g.trace || (process.env.RUNT_TRACE && process.env.RUNT_TRACE !== '0')) {
      const { startTrace } = await import('../diagnostics/trace.js');
      startTrace(log, { command: parsed.command?.name ?? '', file: typeof g.log === 'string' && g.log ? g.log : undefined, mainStart });
    }
    if (g.version && !parsed.command) {
      fs.writeSync(1, `runt version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
      return 0;
    }
    if (g.help || !parsed.command) {
      const { printHelp } = await import('./help.js');
      await printHelp(parsed.command);
      return parsed.command || g.help ? 0 : 1;
    }
    checkArgCount(parsed.command, parsed.args);
    log.phase('import');
    const mod = await loaders[parsed.command.name]!();
    log.phase(parsed.command.name);
    return await mod.run({
      store: new StateStore(String(g.root)),
      log,
      global: g,
      flags: parsed.flags,
      args: parsed.args,
    });
  } catch (err) {
    // a command line that did not parse still logs where it asked to
    reportError(err, log ?? logFromArgv(argv));
    return 1;
  }
}

// Exit as soon as the command is done: nothing may linger (a created
// container's init is not our child's concern once it is recorded).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    reportError(err, undefined);
    process.exit(1);
  },
);
