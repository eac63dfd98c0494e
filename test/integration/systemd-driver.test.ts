// The systemd cgroup driver (--systemd-cgroup) against a real systemd on a
// pure cgroup v2 host: `make test-systemd` runs this file in a QEMU guest
// with systemd as PID 1 (test/v2/run-in-guest.sh --systemd), where
// RUNT_EXPECT_SYSTEMD=1 turns a missing systemd into a failure instead of a
// skip, so that the suite cannot pass without running. Elsewhere it skips.
// Checked from outside: `systemctl show` of the scope, the scope's cgroup
// files, /proc/<pid>/cgroup, and runc --systemd-cgroup on the same config.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readHostLayout } from '../../src/cgroups/layout.js';
import type { SavedCgroup } from '../../src/cgroups/manager.js';
import type { Spec } from '../../src/spec/types.js';
import { type Env, isGone, isRoot, setup, sleep, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';

const systemdPid1 = fs.existsSync('/run/systemd/system') && (() => {
  try {
    return fs.readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
})();
const pureV2 = readHostLayout().mode === 'v2';
const expected = process.env.RUNT_EXPECT_SYSTEMD === '1';
const runnable = isRoot && systemdPid1 && pureV2;
const why = !isRoot ? 'needs root' : !systemdPid1 ? 'systemd is not PID 1 here' : 'the host is not pure cgroup v2';

if (expected) {
  test('the guest has systemd as PID 1 and pure cgroup v2', (t) => {
    t.true(isRoot, 'root');
    t.true(systemdPid1, 'systemd is PID 1');
    t.true(pureV2, 'pure cgroup v2');
  });
}
const t = runnable ? test.serial : test.skip;
if (!runnable && !expected) test.skip(`systemd driver suite: ${why} (run \`make test-systemd\`)`, () => {});

const SLICE = 'runttest-sd.slice';
// the slices our scopes pulled in stay active once empty; runc's would too
if (runnable) test.after.always(() => void spawnSync('systemctl', ['stop', 'runttest.slice']));
const SLICE_DIR = '/sys/fs/cgroup/runttest.slice/runttest-sd.slice';

function show(unit: string, ...props: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...props.map((p) => `-p${p}`)], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function saved(env: Env, id: string): SavedCgroup {
  return (JSON.parse(fs.readFileSync(path.join(env.root, id, 'state.json'), 'utf8')) as { cgroup: SavedCgroup }).cgroup;
}
const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();

function sd(env: Env, args: string[]): ReturnType<Env['runt']> {
  return env.runt(['--systemd-cgroup', ...args]);
}

function createSd(tt: ExecutionContext, env: Env, mutate: (s: Spec) => void, id = uniqueId('sd')): { id: string; unit: string; dir: string; pid: number } {
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.linux!.cgroupsPath = `${SLICE}:runt:${id}`;
    mutate(s);
  });
  const r = sd(env, ['create', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  const cg = saved(env, id);
  return { id, unit: cg.systemd!.unit, dir: cg.paths['unified']!, pid: stateOf(env, id).pid };
}

const RES = {
  memory: { limit: 64 << 20, reservation: 16 << 20, swap: 96 << 20 },
  pids: { limit: 40 },
  cpu: { quota: 50000, period: 100000 },
};

t('create/start: a transient scope in the slice, with the properties and files runc gives it', (tt) => {
  const env = setup(tt);
  const c = createSd(tt, env, (s) => (s.linux!.resources = { ...s.linux!.resources, ...structuredClone(RES) }));
  tt.is(c.unit, `runt-${c.id}.scope`);
  tt.is(c.dir, `${SLICE_DIR}/${c.unit}`);
  const p = show(c.unit, 'ActiveState', 'Slice', 'Delegate', 'MemoryMax', 'MemoryLow', 'MemorySwapMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'DevicePolicy', 'ControlGroup');
  tt.like(p, {
    ActiveState: 'active',
    Slice: SLICE,
    Delegate: 'yes',
    MemoryMax: String(64 << 20),
    MemoryLow: String(16 << 20),
    MemorySwapMax: String(32 << 20),
    TasksMax: '40',
    CPUQuotaPerSecUSec: '500ms',
    CPUQuotaPeriodUSec: '100ms',
    DevicePolicy: 'strict',
    ControlGroup: `/runttest.slice/runttest-sd.slice/${c.unit}`,
  });
  // the init sits in the scope, waiting for start
  tt.is(fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8').trim(), `0::/runttest.slice/runttest-sd.slice/${c.unit}`);
  tt.is(read(c.dir, 'memory.max'), String(64 << 20));
  tt.is(read(c.dir, 'memory.low'), String(16 << 20));
  tt.is(read(c.dir, 'memory.swap.max'), String(32 << 20));
  tt.is(read(c.dir, 'pids.max'), '40');
  tt.is(read(c.dir, 'cpu.max'), '50000 100000');
  tt.is(sd(env, ['start', c.id]).status, 0);
  tt.is(stateOf(env, c.id).status, 'running');

  // the same config under runc --systemd-cgroup, in the same slice
  const rid = uniqueId('rc');
  const rroot = path.join(env.tmp, 'runc');
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.linux!.cgroupsPath = `${SLICE}:runc:${rid}`;
    s.linux!.resources = { ...s.linux!.resources, ...structuredClone(RES) };
  });
  // no pipes: the detached container would hold them open
  const rlog = path.join(env.tmp, 'runc.log');
  const rc = spawnSync('runc', ['--root', rroot, '--log', rlog, '--systemd-cgroup', 'run', '-d', '--bundle', b, rid], { stdio: 'ignore', timeout: 60_000 });
  try {
    tt.is(rc.status, 0, fs.existsSync(rlog) ? fs.readFileSync(rlog, 'utf8') : '');
    const runcUnit = `runc-${rid}.scope`;
    const props = ['Slice', 'Delegate', 'MemoryMax', 'MemoryLow', 'MemorySwapMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'ActiveState'];
    tt.deepEqual(show(c.unit, ...props), show(runcUnit, ...props));
    const rdir = `${SLICE_DIR}/${runcUnit}`;
    for (const f of ['memory.max', 'memory.low', 'memory.swap.max', 'pids.max', 'cpu.max', 'cgroup.controllers']) tt.is(read(c.dir, f), read(rdir, f), f);
  } finally {
    spawnSync('runc', ['--root', rroot, 'delete', '--force', rid], { stdio: 'ignore', timeout: 60_000 });
  }
  tt.is(show(`runc-${rid}.scope`, 'LoadState').LoadState, 'not-found');

  tt.is(sd(env, ['delete', '--force', c.id]).status, 0);
  tt.is(show(c.unit, 'LoadState').LoadState, 'not-found');
  tt.false(fs.existsSync(c.dir));
  tt.false(fs.existsSync(path.join(env.root, c.id)));
});

t('update (SetUnitProperties + files), pause/resume, ps, exec, events, kill --all, delete', (tt) => {
  const env = setup(tt);
  const c = createSd(tt, env, (s) => (s.linux!.resources = { ...s.linux!.resources, pids: { limit: 30 } }));
  tt.is(sd(env, ['start', c.id]).status, 0);

  const u = env.runt(['update', '--pids-limit', '77', '--memory', '100M', '--cpu-quota', '20000', c.id]);
  tt.is(u.status, 0, u.stderr);
  tt.like(show(c.unit, 'TasksMax', 'MemoryMax', 'CPUQuotaPerSecUSec'), { TasksMax: '77', MemoryMax: String(100 << 20), CPUQuotaPerSecUSec: '200ms' });
  tt.is(read(c.dir, 'pids.max'), '77');
  tt.is(read(c.dir, 'memory.max'), String(100 << 20));
  tt.is(read(c.dir, 'cpu.max'), '20000 100000');

  tt.is(env.runt(['pause', c.id]).status, 0);
  tt.is(read(c.dir, 'cgroup.freeze'), '1');
  tt.is(stateOf(env, c.id).status, 'paused');
  tt.is(env.runt(['resume', c.id]).status, 0);
  tt.is(read(c.dir, 'cgroup.freeze'), '0');
  tt.is(stateOf(env, c.id).status, 'running');

  // exec joins the scope's cgroup
  const e = env.runt(['exec', c.id, 'cat', '/proc/self/cgroup']);
  tt.is(e.status, 0, e.stderr);
  tt.is(e.stdout.trim(), `0::/runttest.slice/runttest-sd.slice/${c.unit}`);
  const ex = env.runt(['exec', '-d', c.id, 'sleep', '1000']);
  tt.is(ex.status, 0, ex.stderr);
  const ps = env.runt(['ps', '--format', 'json', c.id]);
  tt.is(ps.status, 0, ps.stderr);
  const pids = JSON.parse(ps.stdout) as number[];
  tt.is(pids.length, 2);
  tt.true(pids.includes(c.pid));

  const ev = env.runt(['events', '--stats', c.id]);
  tt.is(ev.status, 0, ev.stderr);
  const stats = JSON.parse(ev.stdout.split('\n')[0]!) as { type: string; data: { pids: { current: number; limit: number } } };
  tt.is(stats.type, 'stats');
  tt.is(stats.data.pids.current, 2);
  tt.is(stats.data.pids.limit, 77);

  tt.is(env.runt(['kill', '--all', c.id, 'KILL']).status, 0);
  tt.is(waitStatus(env, c.id, 'stopped'), 'stopped');
  for (const p of pids) tt.true(isGone(p));
  const d = env.runt(['delete', c.id]);
  tt.is(d.status, 0, d.stderr);
  tt.is(show(c.unit, 'LoadState').LoadState, 'not-found');
  tt.false(fs.existsSync(c.dir));
});

t('limits bite: TasksMax stops a fork bomb, MemoryMax OOM-kills', (tt) => {
  const env = setup(tt);
  const bomb = createSd(tt, env, (s) => {
    // the forking subshell dies when fork fails; the init then needs none
    s.process!.args = ['sh', '-c', '(i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); done); exec sleep 1000'];
    s.linux!.resources = { ...s.linux!.resources, pids: { limit: 12 } };
  });
  tt.is(sd(env, ['start', bomb.id]).status, 0);
  const end = Date.now() + 60_000;
  while (!/max [1-9]/.test(read(bomb.dir, 'pids.events')) && Date.now() < end) sleep(200);
  tt.regex(read(bomb.dir, 'pids.events'), /max [1-9]/);
  tt.true(Number(read(bomb.dir, 'pids.current')) <= 12);
  tt.is(show(bomb.unit, 'TasksMax').TasksMax, '12');
  tt.is(env.runt(['delete', '--force', bomb.id]).status, 0);
  tt.is(show(bomb.unit, 'LoadState').LoadState, 'not-found');

  const hog = createSd(tt, env, (s) => {
    // dd allocates a 64 MiB buffer; the shell survives to be looked at
    s.process!.args = ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000'];
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 24 << 20, swap: 24 << 20 } };
  });
  tt.like(show(hog.unit, 'MemoryMax', 'MemorySwapMax'), { MemoryMax: String(24 << 20), MemorySwapMax: '0' });
  tt.is(sd(env, ['start', hog.id]).status, 0);
  const end2 = Date.now() + 60_000;
  while (!/oom_kill [1-9]/.test(read(hog.dir, 'memory.events')) && Date.now() < end2) sleep(200);
  tt.regex(read(hog.dir, 'memory.events'), /oom_kill [1-9]/);
  tt.is(stateOf(env, hog.id).status, 'running');
  tt.is(env.runt(['delete', '--force', hog.id]).status, 0);
  tt.is(show(hog.unit, 'LoadState').LoadState, 'not-found');
  tt.false(fs.existsSync(hog.dir));
});

t('failures are clear and leave nothing: a malformed path, a unit name already in use', (tt) => {
  const env = setup(tt);
  const id = uniqueId('sd');
  const bad = env.bundle((s) => (s.linux!.cgroupsPath = 'not-a-slice:runt:' + id));
  const r = sd(env, ['create', '--bundle', bad, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /RUNT5003/);
  tt.false(fs.existsSync(path.join(env.root, id)));

  const first = createSd(tt, env, () => {});
  const id2 = uniqueId('sd');
  const dup = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.linux!.cgroupsPath = `${SLICE}:runt:${first.id}`;
  });
  const r2 = sd(env, ['create', '--bundle', dup, id2]);
  tt.is(r2.status, 1);
  tt.regex(r2.stderr, new RegExp(`${first.unit.replace(/\./g, '\\.')}.*RUNT5005`));
  tt.false(fs.existsSync(path.join(env.root, id2)));
  // the first container is untouched
  tt.is(show(first.unit, 'ActiveState').ActiveState, 'active');
  tt.is(stateOf(env, first.id).status, 'created');
  tt.is(env.runt(['delete', first.id]).status, 0);
  tt.is(show(first.unit, 'LoadState').LoadState, 'not-found');
  tt.false(fs.existsSync(first.dir));
});

t('runc defaults: an empty cgroupsPath is runt-<id>.scope in system.slice', (tt) => {
  const env = setup(tt);
  const id = uniqueId('sd');
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    delete s.linux!.cgroupsPath;
  });
  const r = sd(env, ['run', '-d', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  tt.like(show(`runt-${id}.scope`, 'ActiveState', 'Slice'), { ActiveState: 'active', Slice: 'system.slice' });
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  tt.is(show(`runt-${id}.scope`, 'LoadState').LoadState, 'not-found');
  tt.false(fs.existsSync(`/sys/fs/cgroup/system.slice/runt-${id}.scope`));
});
