import test from 'ava';
import { resolveCgroupsPath } from '../../../src/cgroups/path.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';

test('empty cgroupsPath: runc uses the container id relative to its own cgroup', (t) => {
  t.deepEqual(resolveCgroupsPath(undefined, 'c1', false), { kind: 'relative', path: 'c1' });
  t.deepEqual(resolveCgroupsPath('', 'c1', false), { kind: 'relative', path: 'c1' });
});

test('absolute paths are cleaned and kept absolute', (t) => {
  t.deepEqual(resolveCgroupsPath('/runt/c1', 'c1', false), { kind: 'absolute', path: '/runt/c1' });
  t.deepEqual(resolveCgroupsPath('//a/./b//c/', 'c1', false), { kind: 'absolute', path: '/a/b/c' });
  t.deepEqual(resolveCgroupsPath('/a/x/../b', 'c1', false), { kind: 'absolute', path: '/a/b' });
});

test('relative paths are cleaned and kept relative', (t) => {
  t.deepEqual(resolveCgroupsPath('kubepods/pod1/c1', 'c1', false), { kind: 'relative', path: 'kubepods/pod1/c1' });
  t.deepEqual(resolveCgroupsPath('./a/../b', 'c1', false), { kind: 'relative', path: 'b' });
});

test('a colon is just a character for the cgroupfs driver', (t) => {
  t.deepEqual(resolveCgroupsPath('system.slice:docker:abc', 'abc', false), { kind: 'relative', path: 'system.slice:docker:abc' });
});

test('".." escaping the base is refused', (t) => {
  for (const p of ['../x', '/../x', 'a/../../x', '/a/../../etc']) {
    const e = t.throws(() => resolveCgroupsPath(p, 'c1', false), { instanceOf: RuntimeError });
    t.is(e?.code, Codes.CgroupPath);
    t.is(e?.field, '/linux/cgroupsPath');
    t.regex(e?.message ?? '', /escapes/);
  }
});

test('a path that is the hierarchy root or our own cgroup is refused', (t) => {
  for (const p of ['/', '/./', '.', 'a/..']) {
    const e = t.throws(() => resolveCgroupsPath(p, 'c1', false), { instanceOf: RuntimeError });
    t.is(e?.code, Codes.CgroupPath);
  }
});

test('NUL bytes are refused', (t) => {
  t.throws(() => resolveCgroupsPath('/a\0b', 'c1', false), { instanceOf: RuntimeError });
});

test('systemd driver: slice:prefix:name becomes a scope in that slice', (t) => {
  t.deepEqual(resolveCgroupsPath('system.slice:docker:abc', 'abc', true), {
    kind: 'systemd',
    path: '/system.slice/docker-abc.scope',
    unit: 'docker-abc.scope',
    slice: 'system.slice',
  });
  t.deepEqual(resolveCgroupsPath(undefined, 'abc', true), { kind: 'systemd', path: '/system.slice/runt-abc.scope', unit: 'runt-abc.scope', slice: 'system.slice' });
});

test('systemd driver: a malformed slice:prefix:name is a config error', (t) => {
  const e = t.throws(() => resolveCgroupsPath('/runt/abc', 'abc', true), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupPath);
  t.regex(e?.message ?? '', /slice:prefix:name/);
});
