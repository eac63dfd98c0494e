import { spawnSync } from 'node:child_process';
import { fs } from '../../sys/fs.js';
import { loadCgroupManager } from '../../cgroups/manager.js';
import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';
import { statusOf } from '../../runtime/status.js';
import type { CommandContext } from '../context.js';

// runc ps: --format json prints the pids; table runs ps(1) with the extra
// arguments (default -ef) and keeps the header and the container's lines.
export async function run(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0]!;
  const st = ctx.store.read(id);
  const status = statusOf(ctx.store, st);
  if (status === 'stopped') throw new RuntimeError(Codes.WrongStatus, `cannot list processes of container "${id}": it is stopped`);
  const pids = st.cgroup ? loadCgroupManager(st.cgroup).pids() : st.pid ? [st.pid] : [];
  const format = String(ctx.flags.format ?? 'table');
  if (format === 'json') {
    fs.writeSync(1, JSON.stringify(pids) + '\n');
    return 0;
  }
  if (format !== 'table') throw new RuntimeError(Codes.BadFlagValue, `invalid --format ${JSON.stringify(format)}`, { hint: 'use "table" or "json"' });
  const psArgs = ctx.args.length > 1 ? ctx.args.slice(1) : ['-ef'];
  const res = spawnSync('ps', psArgs, { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new RuntimeError(Codes.Internal, `ps ${psArgs.join(' ')} failed: ${res.error?.message ?? res.stderr}`);
  }
  const lines = res.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidCol = header.trim().split(/\s+/).indexOf('PID');
  if (pidCol < 0) throw new RuntimeError(Codes.BadFlagValue, `ps output has no PID column`, { hint: 'pass ps options that keep the PID column' });
  const set = new Set(pids);
  const out = [header, ...lines.slice(1).filter((l) => l.trim() && set.has(Number(l.trim().split(/\s+/)[pidCol])))];
  fs.writeSync(1, out.join('\n') + '\n');
  return 0;
}
