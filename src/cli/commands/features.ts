import { writeSync } from 'node:fs';
import { features } from '../../features/features.js';
import type { CommandContext } from '../context.js';

export async function run(_ctx: CommandContext): Promise<number> {
  writeSync(1, JSON.stringify(features(), null, 4) + '\n');
  return 0;
}
