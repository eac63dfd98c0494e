import type { Logger } from '../log/logger.js';
import type { StateStore } from '../state/store.js';
import type { FlagValues } from './parse.js';

export interface CommandContext {
  store: StateStore;
  log: Logger;
  global: FlagValues;
  flags: FlagValues;
  args: string[];
}

export type CommandRun = (ctx: CommandContext) => Promise<number>;

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
