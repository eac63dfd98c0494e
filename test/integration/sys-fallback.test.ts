// A bin/runt without bin/runt-sys.node beside it (a copied executable) makes
// the same file calls through node:fs: the lifecycle commands still work on
// a real container, and doctor says the module is missing.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RUNT, isRoot, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('state, kill and delete of a real container work without runt-sys.node', (tt) => {
  const env = setup(tt);
  const lone = path.join(env.tmp, 'lone');
  fs.mkdirSync(lone);
  const copy = path.join(lone, 'runt');
  try {
    fs.linkSync(RUNT, copy); // same filesystem: no 100 MB copy
  } catch {
    fs.copyFileSync(RUNT, copy);
    fs.chmodSync(copy, 0o755);
  }
  const runCopy = (args: string[]) => spawnSync(copy, ['--root', env.root, ...args], { encoding: 'utf8', timeout: 30_000 });

  const id = uniqueId('fb');
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);

  const st = runCopy(['state', id]);
  tt.is(st.status, 0, st.stderr);
  const state = JSON.parse(st.stdout);
  tt.is(state.status, 'created');
  tt.true(fs.existsSync(`/proc/${state.pid}`));

  const missing = runCopy(['state', 'no-such-container']);
  tt.is(missing.status, 1);
  tt.regex(missing.stderr, /container "no-such-container" does not exist/);

  const saved = JSON.parse(fs.readFileSync(path.join(env.root, id, 'state.json'), 'utf8'));
  const cgroups = Object.values(saved.cgroup.paths) as string[];
  tt.true(cgroups.length > 0 && cgroups.every((d) => fs.existsSync(d)));

  tt.is(runCopy(['kill', id, 'KILL']).status, 0);
  for (let i = 0; i < 200 && JSON.parse(runCopy(['state', id]).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.05']);
  const del = runCopy(['delete', id]);
  tt.is(del.status, 0, del.stderr);
  tt.false(fs.existsSync(path.join(env.root, id)), 'state directory removed');
  for (const d of cgroups) tt.false(fs.existsSync(d), `cgroup ${d} removed`);
  tt.false(fs.existsSync(`/proc/${state.pid}`) && !fs.readFileSync(`/proc/${state.pid}/stat`, 'utf8').includes(') Z '), 'init gone');

  const doc = JSON.parse(runCopy(['doctor', '--format', 'json']).stdout);
  const check = doc.checks.find((c: { id: string }) => c.id === 'runt-sys');
  tt.is(check.status, 'warn');
  tt.regex(check.detail, /not loaded/);
});
