import { fs } from '../../sys/fs.js';
import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';
import type { CommandContext } from '../context.js';
import { describe } from './state.js';

export async function run(ctx: CommandContext): Promise<number> {
  const format = String(ctx.flags.format ?? 'table');
  if (format !== 'table' && format !== 'json') {
    throw new RuntimeError(Codes.BadFlagValue, `invalid --format ${JSON.stringify(format)}`, { hint: 'use "table" or "json"' });
  }
  const rows: Record<string, unknown>[] = [];
  for (const id of ctx.store.list()) {
    try {
      rows.push(describe(ctx.store, ctx.store.read(id)));
    } catch {
      // a create that is still writing its state, or died before: skip it like runc
    }
  }
  if (ctx.flags.quiet) {
    fs.writeSync(1, rows.map((r) => `${r.id}\n`).join(''));
    return 0;
  }
  if (format === 'json') {
    fs.writeSync(1, JSON.stringify(rows) + '\n');
    return 0;
  }
  // runc: tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
  const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, r.pid, r.status, r.bundle, r.created, r.owner].map(String))];
  const widths = table[0]!.map((_, c) => Math.max(12, ...table.map((row) => row[c]!.length + 3)));
  fs.writeSync(1, table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('') + '\n').join(''));
  return 0;
}
