// delete's fast path: empty cgroups go with one rmdir each, without a
// manager; anything else is left for the manager's destroy().

import * as fs from 'node:fs';
import test from 'ava';
import { newCgroupManager } from '../../../src/cgroups/manager.js';
import { removeEmptyCgroups } from '../../../src/cgroups/remove-empty.js';
import { fakeV1Layout, fakeV2Layout, populateV1, rmrf, tempRoot } from './_fake-cgroupfs.js';

function made(t: { teardown: (f: () => void) => void }, v2: boolean) {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = v2 ? fakeV2Layout(root) : fakeV1Layout(root, { keys: ['devices', 'freezer', 'memory'], hybrid: true });
  // a parent the container makes (removed with it) below one that existed
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/pod/c1' }, 'c1', { verifyDevices: false, inUserNamespace: false });
  m.create();
  return m.saved;
}

for (const v2 of [false, true]) {
  const kind = v2 ? 'v2' : 'v1 hybrid';

  test(`${kind}: empty leaves and the parents the container made are removed`, (t) => {
    const saved = made(t, v2);
    t.true(saved.created.length > Object.keys(saved.paths).length, 'create made the parents too');
    t.deepEqual(removeEmptyCgroups(saved), []);
    for (const d of [...Object.values(saved.paths), ...saved.created]) t.false(fs.existsSync(d), d);
  });

  test(`${kind}: a leaf that is gone already counts as removed`, (t) => {
    const saved = made(t, v2);
    fs.rmdirSync(Object.values(saved.paths)[0]!);
    t.deepEqual(removeEmptyCgroups(saved), []);
    for (const d of Object.values(saved.paths)) t.false(fs.existsSync(d), d);
  });
}

test('a leaf that refuses leaves the rest to the manager, its parent in place', (t) => {
  const saved = made(t, false);
  const busy = saved.paths['memory']!;
  populateV1(busy, ['memory']); // not empty: rmdir fails as on a cgroup with processes
  t.is(removeEmptyCgroups(saved), undefined);
  t.true(fs.existsSync(busy));
  t.true(fs.existsSync(busy.slice(0, busy.lastIndexOf('/'))), 'its parent stays for destroy() to remove');
});

test('a systemd scope is always the manager\'s', (t) => {
  const saved = made(t, true);
  t.is(removeEmptyCgroups({ ...saved, systemd: { unit: 'runt-c1.scope', slice: 'system.slice' } }), undefined);
  for (const d of Object.values(saved.paths)) t.true(fs.existsSync(d), 'nothing removed');
});
