import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { missingDirs, mkdirTracked } from '../../../src/cgroups/common.js';
import { detectLayout } from '../../../src/cgroups/layout.js';
import { loadCgroupManager, newCgroupManager } from '../../../src/cgroups/manager.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { fakeV1Layout, fakeV2Layout, rmrf, tempRoot } from './_fake-cgroupfs.js';

test('v1 relative path goes below our own cgroup in each hierarchy', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { ownPath: '/process_api/x' });
  const m = newCgroupManager(layout, { kind: 'relative', path: 'c1' }, 'c1');
  t.is(m.saved.mode, 'v1');
  t.is(m.saved.paths['memory'], `${root}/memory/process_api/x/c1`);
  t.is(m.saved.paths['name=systemd'], `${root}/systemd/process_api/x/c1`);
  t.is(m.saved.paths['unified'], undefined);
  t.deepEqual(m.saved.created, []);
});

test('v1 absolute path goes below each mount point; hybrid adds the unified dir', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { ownPath: '/somewhere', hybrid: true });
  t.is(layout.mode, 'hybrid');
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/runt/c1' }, 'c1');
  t.is(m.saved.mode, 'hybrid');
  t.deepEqual(Object.keys(m.saved.paths).sort(), [
    'blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'name=systemd', 'pids', 'unified',
  ]);
  t.is(m.saved.paths['cpu'], `${root}/cpu/runt/c1`);
  t.is(m.saved.paths['unified'], `${root}/unified/runt/c1`);
  t.true(m.procsFiles().includes(`${root}/unified/runt/c1/cgroup.procs`));
  // v1 hierarchies are joined through `tasks` (no RCU wait), the unified one through cgroup.procs
  t.true(m.procsFiles().includes(`${root}/systemd/runt/c1/tasks`));
  t.false(m.procsFiles().includes(`${root}/systemd/runt/c1/cgroup.procs`));
  t.is(m.procsFiles().length, 10);
});

test('co-mounted cpu,cpuacct is one directory; unknown named hierarchies are skipped', (t) => {
  const mi = `32 31 0:29 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /cg/devices rw - cgroup cgroup rw,devices
34 31 0:31 / /cg/other rw - cgroup cgroup rw,name=other
`;
  const layout = detectLayout(mi, '1:cpu,cpuacct:/a\n2:devices:/a\n3:name=other:/a\n', () => []);
  const m = newCgroupManager(layout, { kind: 'relative', path: 'c1' }, 'c1');
  t.deepEqual(m.saved.paths, { 'cpu,cpuacct': '/cg/cpu,cpuacct/a/c1', devices: '/cg/devices/a/c1' });
});

test('v1 without a devices hierarchy is refused', (t) => {
  const layout = detectLayout('32 31 0:29 / /cg/memory rw - cgroup cgroup rw,memory\n', '1:memory:/\n', () => []);
  const e = t.throws(() => newCgroupManager(layout, { kind: 'relative', path: 'c1' }, 'c1'), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupSetup);
  t.regex(e?.message ?? '', /devices/);
});

test('v2 relative path goes below the parent of our own cgroup (fs2 defaultpath)', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV2Layout(root, { ownPath: '/user.slice/user-0.slice/session-1.scope' });
  const m = newCgroupManager(layout, { kind: 'relative', path: 'c1' }, 'c1');
  t.deepEqual(m.saved.paths, { unified: `${root}/cgroup/user.slice/user-0.slice/c1` });
  const a = newCgroupManager(layout, { kind: 'absolute', path: '/runt/c1' }, 'c1');
  t.deepEqual(a.saved.paths, { unified: `${root}/cgroup/runt/c1` });
  t.deepEqual(a.procsFiles(), [`${root}/cgroup/runt/c1/cgroup.procs`]);
});

test('create records only what it made; destroy keeps pre-existing parents', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { hybrid: true });
  // A parent that exists before (shared by several containers) in memory only.
  fs.mkdirSync(`${root}/memory/shared`);
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/shared/c1' }, 'c1');
  m.create();
  t.true(m.saved.created.includes(`${root}/memory/shared/c1`));
  t.false(m.saved.created.includes(`${root}/memory/shared`));
  t.true(m.saved.created.includes(`${root}/cpu/shared`));
  t.true(m.saved.created.includes(`${root}/cpu/shared/c1`));
  t.true(m.saved.created.includes(`${root}/unified/shared/c1`));
  // top-down within a hierarchy
  t.true(m.saved.created.indexOf(`${root}/cpu/shared`) < m.saved.created.indexOf(`${root}/cpu/shared/c1`));
  for (const p of Object.values(m.saved.paths)) t.true(fs.existsSync(p));

  // The state round-trips through JSON.
  const loaded = loadCgroupManager(JSON.parse(JSON.stringify(m.saved)));
  loaded.destroy();
  for (const p of Object.values(m.saved.paths)) t.false(fs.existsSync(p));
  t.false(fs.existsSync(`${root}/cpu/shared`));
  t.true(fs.existsSync(`${root}/memory/shared`), 'pre-existing parent kept');
  t.notThrows(() => loaded.destroy(), 'idempotent');
  t.notThrows(() => m.destroy(), 'idempotent from the original too');
});

test('plannedDirs names exactly what create then makes; a destroy after a create killed before any mkdir is fine', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  for (const [layout, kind] of [[fakeV1Layout(root, { hybrid: true }), 'v1'], [fakeV2Layout(`${root}/v2`), 'v2']] as const) {
    // a parent that exists before: never planned, never ours
    const shared = kind === 'v1' ? `${root}/memory/shared` : `${root}/v2/cgroup/shared`;
    fs.mkdirSync(shared);
    const m = newCgroupManager(layout, { kind: 'absolute', path: '/shared/c1' }, 'c1');
    const planned = m.plannedDirs();
    t.truthy(planned, kind);
    t.true(planned!.includes(`${shared}/c1`), kind);
    t.false(planned!.includes(shared), kind);
    t.false(planned!.some((d) => fs.existsSync(d)), `${kind}: only missing directories`);
    // what a create killed right after recording its plan leaves: the plan
    const recorded = loadCgroupManager(JSON.parse(JSON.stringify({ ...m.saved, created: planned })));
    t.notThrows(() => recorded.destroy(), `${kind}: nothing made yet`);
    m.create();
    t.deepEqual(m.saved.created, planned, kind);
  }
});

test('mkdirTracked with a stale plan: a parent removed since the plan is made again, and is ours', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  fs.mkdirSync(`${root}/x`);
  const planned = missingDirs(`${root}/x/y/z`);
  t.deepEqual(planned, [`${root}/x/y`, `${root}/x/y/z`]);
  fs.rmdirSync(`${root}/x`);
  t.deepEqual(mkdirTracked(`${root}/x/y/z`, planned), [`${root}/x`, `${root}/x/y`, `${root}/x/y/z`]);
  // and a planned directory somebody else made meanwhile is not ours
  const again = missingDirs(`${root}/x/y/w`);
  fs.mkdirSync(`${root}/x/y/w`);
  t.deepEqual(mkdirTracked(`${root}/x/y/w`, again), []);
});

test('destroy removes sub-cgroups the container made inside its own', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const m = newCgroupManager(fakeV1Layout(root, { keys: ['devices', 'pids'] }), { kind: 'absolute', path: '/c1' }, 'c1');
  m.create();
  fs.mkdirSync(`${root}/pids/c1/inner/deeper`, { recursive: true });
  m.destroy();
  t.false(fs.existsSync(`${root}/pids/c1`));
});

test('a pre-existing leaf in use is neither killed nor removed; an empty one is removed (runc RemovePaths)', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { keys: ['devices', 'pids'] });
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/c1' }, 'c1');
  fs.mkdirSync(`${root}/pids/c1`);
  fs.mkdirSync(`${root}/devices/c1`);
  // A pid that is certainly not ours to kill: another container's, say.
  fs.writeFileSync(`${root}/pids/c1/cgroup.procs`, '1\n');
  m.create();
  t.deepEqual(m.saved.created, []);
  t.deepEqual(m.pids(), [1]);
  const notes = m.destroy();
  t.true(fs.existsSync(`${root}/pids/c1`), 'in use: left');
  t.false(fs.existsSync(`${root}/devices/c1`), 'empty: removed like runc does, so the last sharer cleans up');
  t.is(notes.length, 1);
  t.regex(notes[0] ?? '', /still has 1 process\(es\).*left in place/);
});

test('destroy removes parents it made only when empty, never another container\'s cgroup', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { keys: ['devices', 'pids'] });
  const a = newCgroupManager(layout, { kind: 'absolute', path: '/pod/a' }, 'a');
  a.create();
  const b = newCgroupManager(layout, { kind: 'absolute', path: '/pod/b' }, 'b');
  b.create();
  t.true(a.saved.created.includes(`${root}/pids/pod`));
  t.deepEqual(a.destroy(), []);
  t.false(fs.existsSync(`${root}/pids/pod/a`));
  t.true(fs.existsSync(`${root}/pids/pod/b`), 'the sibling is untouched');
  b.destroy();
  t.true(fs.existsSync(`${root}/pids/pod`), 'b did not make /pod: kept');
});

test('create failure unwinds what it made and names the path', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { keys: ['devices', 'memory', 'pids'] });
  // memory's parent is a regular file: mkdir fails with ENOTDIR there.
  fs.writeFileSync(`${root}/memory/blocker`, '');
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/blocker/c1' }, 'c1');
  const e = t.throws(() => m.create(), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupSetup);
  t.regex(e?.message ?? '', /blocker/);
  t.false(fs.existsSync(`${root}/devices/blocker`), 'devices dir made before the failure was removed');
  t.deepEqual(m.saved.created, []);
});

test('cpuset: an empty cpuset leaf inherits cpus/mems from its parent', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV1Layout(root, { keys: ['devices', 'cpuset'] });
  fs.writeFileSync(`${root}/cpuset/cpuset.cpus`, '0-3\n');
  fs.writeFileSync(`${root}/cpuset/cpuset.mems`, '0\n');
  // The fake fs does not create knobs on mkdir, so give the leaf the empty
  // knobs a new kernel cpuset cgroup has (fs/cpuset.go cpusetCopyIfNeeded).
  fs.mkdirSync(`${root}/cpuset/c2`);
  fs.writeFileSync(`${root}/cpuset/c2/cpuset.cpus`, '\n');
  fs.writeFileSync(`${root}/cpuset/c2/cpuset.mems`, '\n');
  const log: { path: string; value: string }[] = [];
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/c2' }, 'c2', { log });
  m.create();
  t.deepEqual(log, [
    { path: `${root}/cpuset/c2/cpuset.cpus`, value: '0-3' },
    { path: `${root}/cpuset/c2/cpuset.mems`, value: '0' },
  ]);
  t.is(path.basename(m.saved.paths['cpuset'] ?? ''), 'c2');
});

test('open.ts loads one driver and gives what the sync factories give, for new and recorded cgroups', async (t) => {
  const { openCgroupManager, reopenCgroupManager } = await import('../../../src/cgroups/open.js');
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const cases = [
    { layout: fakeV1Layout(root, { ownPath: '/x', hybrid: true }), resolved: { kind: 'relative', path: 'c1' } as const, cls: 'V1Manager' },
    { layout: fakeV2Layout(root, { ownPath: '/x/y' }), resolved: { kind: 'absolute', path: '/runt/c1' } as const, cls: 'V2Manager' },
    { layout: fakeV2Layout(root), resolved: { kind: 'systemd', path: '/system.slice/runt-c1.scope', unit: 'runt-c1.scope', slice: 'system.slice' } as const, cls: 'SystemdManager' },
  ];
  for (const c of cases) {
    const sync = newCgroupManager(c.layout, c.resolved, 'c1');
    const opened = await openCgroupManager(c.layout, c.resolved, 'c1');
    t.is(opened.constructor.name, c.cls);
    t.is(sync.constructor.name, c.cls);
    t.deepEqual(opened.saved, sync.saved);
    const recorded = { ...sync.saved, created: ['/made/by/create'] };
    const reopened = await reopenCgroupManager(recorded);
    t.is(reopened.constructor.name, c.cls);
    t.deepEqual(reopened.saved, loadCgroupManager(recorded).saved);
    t.not(reopened.saved, recorded, 'a private copy');
  }
});
