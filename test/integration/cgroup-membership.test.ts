// cgroup membership (resource limits are the cgroups suite's): the init sits
// in the container's cgroup in every hierarchy, at linux.cgroupsPath or the
// default, and delete removes it.
import test from 'ava';
import fs from 'node:fs';
import { readHostLayout } from '../../src/cgroups/layout.js';
import { createSleeping, isRoot, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

function cgroupsOf(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctrl, p] = line.split(':');
    m.set(ctrl === '' ? 'unified' : ctrl!, p!);
  }
  return m;
}

t('the init joins an absolute cgroupsPath in every hierarchy; delete removes it', (tt) => {
  const env = setup(tt);
  const name = uniqueId('cg');
  const cgPath = `/runt-test/${name}`;
  const { id, pid } = createSleeping(env, (s) => (s.linux!.cgroupsPath = cgPath));
  const layout = readHostLayout();
  const groups = cgroupsOf(pid);
  // hierarchies seen from inside a cgroup namespace are relative; compare from the host
  for (const h of layout.v1) {
    if (h.key === 'name=systemd' || h.controllers.some((c) => ['memory', 'pids', 'cpu', 'devices', 'freezer'].includes(c))) {
      tt.is(groups.get(h.key), cgPath, h.key);
      tt.true(fs.existsSync(`${h.mountpoint}${cgPath}`), h.key);
    }
  }
  if (layout.unified) tt.is(groups.get('unified'), cgPath);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  for (const h of layout.v1) tt.false(fs.existsSync(`${h.mountpoint}${cgPath}`), h.key);
  if (layout.unified) tt.false(fs.existsSync(`${layout.unified.mountpoint}${cgPath}`));
  // the parent existed before? no: runt-test was made by us and removed too
  for (const h of layout.v1) tt.false(fs.existsSync(`${h.mountpoint}/runt-test/${name}`));
});

t('without cgroupsPath the container gets a cgroup named after its id', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => delete s.linux!.cgroupsPath);
  const groups = cgroupsOf(pid);
  tt.regex(groups.get('pids') ?? groups.get('unified') ?? '', new RegExp(`/${id}$`));
  tt.is(env.runt(['delete', '--force', id]).status, 0);
});

t('a cgroup namespace is rooted at the container cgroup', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.linux!.namespaces!.push({ type: 'cgroup' });
    s.linux!.cgroupsPath = `/runt-test/${id}`;
    s.process!.args = ['cat', '/proc/self/cgroup'];
  });
  const r = env.runt(['run', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  for (const line of r.stdout.trim().split('\n')) tt.regex(line, /:\/$/, line);
});
