// runt validate: every problem at once (schema, unknown keys, semantics,
// host), errors apart from warnings in the exit status, text and JSON.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { isImplemented } from '../../src/features/spec-support.js';
import { isRoot, setup, uniqueId, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

// configs are deliberately wrong here: edit them as plain JSON
type Loose = { [k: string]: any };
function bundle(env: Env, mut: (s: Loose) => void = () => {}): string {
  return env.bundle((s) => {
    s.process!.args = ['true'];
    mut(s as unknown as Loose);
  });
}

t('a clean bundle is valid: exit 0', (tt) => {
  const env = setup(tt);
  const b = bundle(env);
  const r = env.runt(['validate', '--bundle', b]);
  tt.is(r.status, 0, r.stdout);
  tt.is(r.stdout, `${b}/config.json: valid (0 errors, 0 warnings)\n`);
});

t('a typo the schema lets through is a warning with the name meant: exit 2', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => (s.linux.rootPropagation = 'shared'));
  const r = env.runt(['validate', '--bundle', b]);
  tt.is(r.status, 2);
  tt.is(
    r.stdout,
    'warning: /linux/rootPropagation: unknown property "rootPropagation"; did you mean "rootfsPropagation"? [RUNT2017]\n' +
      '  hint: rename it to "rootfsPropagation": as it is, every runtime ignores it\n' +
      `${b}/config.json: valid, with warnings (0 errors, 1 warning)\n`,
  );
  // create takes it, as every runtime does: validate is where it shows
  const id = uniqueId();
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);
});

t('every schema error at once, where create stops at the first', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => {
    s.linux.namespaces[0].type = 'pidd';
    s.process!.cwd = 5;
    s.hostname = ['x'];
  });
  const r = env.runt(['validate', '--bundle', b]);
  tt.is(r.status, 1);
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('error: '));
  tt.deepEqual(errors.map((l) => l.slice(7, l.indexOf(':', 7))).sort(), ['/hostname', '/linux/namespaces/0/type', '/process/cwd']);
  tt.regex(r.stdout, /skipped: semantic, dry-run and host checks: fix the schema errors first/);
  const c = env.runt(['create', '--bundle', b, uniqueId()]);
  tt.regex(c.stderr, /\(and 2 more problems; `runt validate` lists them\) \[RUNT2003\]/);
});

t('every semantic error at once, with codes and fields', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => {
    s.linux.namespaces.push({ type: 'pid' });
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    s.linux.maskedPaths = ['relative/path'];
  });
  const r = env.runt(['validate', '--bundle', b, '--format', 'json']);
  tt.is(r.status, 1);
  const out = JSON.parse(r.stdout);
  tt.false(out.valid);
  const sem = out.diagnostics.filter((d: { check: string }) => d.check === 'semantic');
  tt.like(sem.find((d: { field: string }) => d.field === '/hostname'), { severity: 'error', code: 'RUNT2006', message: 'hostname needs a private uts namespace' });
  tt.truthy(sem.find((d: { message: string }) => /duplicate pid namespace/.test(d.message)));
  tt.like(sem.find((d: { field: string }) => d.field === '/linux/maskedPaths/0'), { code: 'RUNT2004', severity: 'error' });
  tt.is(out.errors, out.diagnostics.filter((d: { severity: string }) => d.severity === 'error').length);
});

t('host checks: what this host cannot give is named, with the field', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => {
    s.hooks = { prestart: [{ path: '/nonexistent/hook' }] };
    s.linux.namespaces.find((n: { type: string }) => n.type === 'ipc').path = '/proc/self/ns/net';
    s.process.args = ['/no/such/program'];
  });
  const r = env.runt(['validate', '--bundle', b, '--format', 'json']);
  tt.is(r.status, 1);
  const d = JSON.parse(r.stdout).diagnostics as { severity: string; code: string; field: string; message: string; check: string }[];
  const ipc = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')).linux.namespaces.findIndex((n: { type: string }) => n.type === 'ipc');
  tt.like(d.find((x) => x.field === `/linux/namespaces/${ipc}/path`), { severity: 'error', code: 'RUNT2018', message: '/proc/self/ns/net is a net namespace, not ipc' });
  tt.like(d.find((x) => x.field === '/hooks/prestart/0/path'), { severity: 'error', message: 'prestart hook /nonexistent/hook does not exist' });
  tt.like(d.find((x) => x.field === '/process/args/0'), { severity: 'warning', check: 'host' });
});

t('a feature runt does not implement yet is a warning, from the support table', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => (s.linux.personality = { domain: 'LINUX32' }));
  const r = env.runt(['validate', '--bundle', b, '--format', 'json']);
  const support = JSON.parse(r.stdout).diagnostics.filter((x: { code: string }) => x.code === 'RUNT2015');
  if (isImplemented('linux.personality')) {
    tt.is(support.length, 0);
  } else {
    tt.is(r.status, 2);
    tt.like(support[0], { severity: 'warning', field: '/linux/personality' });
    tt.regex(support[0].message, /runt does not implement personality yet \(issue \d+\)/);
  }
});

t('a missing bundle or unparsable config is an error report, not a crash', (tt) => {
  const env = setup(tt);
  const missing = path.join(env.tmp, 'nope');
  const r = env.runt(['validate', '--bundle', missing]);
  tt.is(r.status, 1);
  tt.regex(r.stdout, new RegExp(`^error: bundle directory ${missing} does not exist \\[RUNT2016\\]`));
  const b = fs.mkdtempSync(path.join(env.tmp, 'badjson-'));
  fs.writeFileSync(path.join(b, 'config.json'), '{"ociVersion": "1.3.0",\n  "process": }');
  const j = env.runt(['validate', '--bundle', b, '--format', 'json']);
  tt.is(j.status, 1);
  tt.like(JSON.parse(j.stdout).diagnostics[0], { code: 'RUNT2002', check: 'config' });
  tt.is(env.runt(['validate', '--format', 'yaml']).status, 1);
});

t('an option a bind mount would silently ignore is a warning', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => s.mounts.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'nosiud'] }));
  const r = env.runt(['validate', '--bundle', b, '--format', 'json']);
  tt.is(r.status, 2);
  const d = JSON.parse(r.stdout).diagnostics;
  tt.like(d[0], { severity: 'warning', code: 'RUNT2007', message: 'bind mount on /data ignores unknown option "nosiud"; did you mean "nosuid"?' });
  tt.regex(d[0].field, /^\/mounts\/\d+\/options$/);
});
