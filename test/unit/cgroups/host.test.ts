// A real check against this host's cgroups (root only): create a cgroup for
// /runt-test-<pid>, move a `sleep 30` child into it, apply a pids and memory
// limit, read the kernel files back, freeze/thaw, then destroy and check that
// nothing is left. Everything it makes is removed even on failure.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import test from 'ava';
import { readHostLayout } from '../../../src/cgroups/layout.js';
import { newCgroupManager } from '../../../src/cgroups/manager.js';
import { resolveCgroupsPath } from '../../../src/cgroups/path.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0 && fs.existsSync('/proc/self/mountinfo');
const hostTest = isRoot ? test.serial : test.skip;

hostTest('real cgroups: create, join, limit, freeze, destroy', async (t) => {
  const layout = readHostLayout();
  const id = `runt-test-${process.pid}`;
  const m = newCgroupManager(layout, resolveCgroupsPath(`/${id}`, id, false), id);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    for (const d of [...m.saved.created].reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        // removed by destroy() already
      }
    }
  });
  t.truthy(child.pid);
  const pid = child.pid as number;

  m.create();
  t.true(m.saved.created.length > 0);
  for (const f of m.procsFiles()) fs.writeFileSync(f, String(pid));
  t.deepEqual(m.pids(), [pid]);

  const warnings = m.apply({ pids: { limit: 10 }, memory: { limit: 64 * 1024 * 1024 } });
  t.log(`mode ${m.saved.mode}; warnings: ${JSON.stringify(warnings)}`);
  if (m.saved.mode === 'v2') {
    const dir = m.saved.paths['unified'] as string;
    t.is(fs.readFileSync(`${dir}/pids.max`, 'utf8').trim(), '10');
    t.is(fs.readFileSync(`${dir}/memory.max`, 'utf8').trim(), String(64 * 1024 * 1024));
  } else {
    t.is(fs.readFileSync(`${m.saved.paths['pids']}/pids.max`, 'utf8').trim(), '10');
    t.is(fs.readFileSync(`${m.saved.paths['memory']}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024));
    // The default device rules are in force (white-list, /dev/null allowed).
    const list = fs.readFileSync(`${m.saved.paths['devices']}/devices.list`, 'utf8');
    t.regex(list, /^c 1:3 rwm$/m);
    t.notRegex(list, /^a /m);
  }

  m.freeze();
  t.true(m.frozen());
  const state = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  t.log(state.split('\n').find((l) => l.startsWith('State:')));
  m.thaw();
  t.false(m.frozen());

  const stats = m.stats();
  t.true((stats.pids.current ?? 0n) >= 1n);
  t.true(stats.memory.usage.limit > 0n);
  t.is(m.oomKillCount(), 0);

  // the child is not in a pid namespace of its own: kill the whole cgroup
  m.destroy({ killAll: true });
  await exited;
  t.is(child.signalCode, 'SIGKILL');
  for (const d of Object.values(m.saved.paths)) t.false(fs.existsSync(d), `${d} removed`);
  t.notThrows(() => m.destroy());
});
