// runt doctor: a pass/warn/fail list of this host, exit 1 when one fails;
// and runt features --host, the same facts as data.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { checkFeaturesSchema } from '../../src/spec/schema.js';
import { RUNT, isRoot, setup } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('checks this host; exit 1 exactly when a check fails', (tt) => {
  const env = setup(tt);
  const r = env.runt(['doctor', '--format', 'json']);
  const out = JSON.parse(r.stdout);
  tt.is(r.status, out.fail ? 1 : 0);
  tt.is(out.ok, out.fail === 0);
  const ids = out.checks.map((c: { id: string }) => c.id);
  for (const id of ['kernel', 'state-root', 'cgroup-layout', 'userns', 'subids', 'newuidmap', 'seccomp', 'openat2', 'clone3', 'pidfd', 'idmapped-mounts', 'time-ns', 'runt-init', 'runt-sys', 'node']) tt.true(ids.includes(id), id);
  const by = (id: string) => out.checks.find((c: { id: string }) => c.id === id);
  // runt's own integration tests run here: these must hold
  tt.is(by('runt-init').status, 'pass');
  tt.is(by('runt-sys').status, 'pass');
  tt.regex(by('runt-sys').detail, /\/bin\/runt-sys\.node$/);
  tt.is(by('openat2').status, 'pass');
  tt.is(by('state-root').status, 'pass');
  for (const c of out.checks) tt.true(['pass', 'warn', 'fail'].includes(c.status));
  const text = env.runt(['doctor']);
  tt.is(text.status, r.status);
  tt.regex(text.stdout, /^PASS {2}kernel +Linux /m);
  tt.regex(text.stdout, /\d+ checks: \d+ passed, \d+ warnings, \d+ failed\n$/);
});

t('as an unprivileged user with an unwritable state root: FAIL with the fix, exit 1', (tt) => {
  const r = spawnSync(RUNT, ['--root', '/run/runt-doctor-test/state', 'doctor'], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
  tt.is(r.status, 1, r.stderr);
  tt.regex(r.stdout, /^FAIL {2}state root +\/run\/runt-doctor-test\/state is not writable by uid 65534$/m);
  tt.regex(r.stdout, /fix: run as root, or pass --root DIR/);
  tt.regex(r.stdout, /^WARN {2}privileges +running as uid 65534/m);
});

t('features --host: what runt implements, unchanged, beside what this host has', async (tt) => {
  const env = setup(tt);
  const plain = JSON.parse(env.runt(['features']).stdout);
  tt.is(plain.host, undefined);
  const r = env.runt(['features', '--host']);
  tt.is(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  const { host, ...implemented } = f;
  tt.deepEqual(implemented, plain);
  tt.deepEqual(await checkFeaturesSchema(f), []);
  // checked against the kernel's own view
  const nsFile: Record<string, string> = { mount: 'mnt', network: 'net' };
  for (const ns of ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']) {
    tt.is(host.namespaces.includes(ns), fs.existsSync(`/proc/self/ns/${nsFile[ns] ?? ns}`), ns);
  }
  const unified = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup2 ');
  tt.is(host.cgroup.v2 !== null, unified);
  const avail = fs.readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8');
  tt.is(host.seccomp.actions.includes('SCMP_ACT_ERRNO'), avail.includes('errno'));
  tt.is(typeof host.kernel.release, 'string');
  for (const k of ['openat2', 'clone3', 'pidfd', 'idmappedMounts', 'timeNamespace']) tt.is(typeof host[k].enabled, 'boolean', k);
});
