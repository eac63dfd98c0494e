// runt explain: the ordered kernel operations of create, without doing any
// of them and without root.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readHostLayout } from '../../src/cgroups/layout.js';
import type { Spec } from '../../src/spec/types.js';
import { RUNT, baseSpec, isRoot, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

function withUserns(s: Spec): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.hooks = { prestart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/true' }] };
  s.linux!.resources = { pids: { limit: 64 } };
}

t('text: the steps in create\'s order, and nothing is touched', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle(withUserns);
  const r = env.runt(['explain', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  const out = r.stdout;
  tt.regex(out, new RegExp(`^runt explain: what \`runt create ${id}\` would do with ${b} \\(dry run: nothing was done\\)`));
  const order = [
    'spawn ',
    `mkdir ${path.join(env.root, id)}`,
    'create cgroup ',
    'pids.max',
    'create the exec fifo',
    'clone the init into new namespaces',
    'write /proc/<pid>/uid_map: 0 100000 65536',
    'wait for the runtime to write the uid/gid maps',
    'become root in the user namespace',
    'mount proc on /proc',
    'run prestart hook /bin/true',
    'pivot_root into',
    'set capabilities',
    'report ready and wait for `start` on the exec fifo',
    `\`runt start ${id}\``,
    'exec true',
    'run poststop hook /bin/true',
  ];
  let at = -1;
  for (const s of order) {
    const i = out.indexOf(s, at + 1);
    tt.true(i > at, `"${s}" should come after the previous step`);
    at = i;
  }
  tt.false(fs.existsSync(env.root), 'no state root was made');
  for (const h of readHostLayout().v1) tt.false(fs.existsSync(path.join(h.mountpoint, id)), h.key);
});

t('json: numbered steps with actor, stage and plan arguments', (tt) => {
  const env = setup(tt);
  const r = env.runt(['explain', '--bundle', env.bundle(), '--format', 'json', 'c-json']);
  tt.is(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  tt.true(e.dryRun);
  tt.is(e.id, 'c-json');
  e.steps.forEach((s: { n: number }, i: number) => tt.is(s.n, i + 1));
  const clone = e.steps.find((s: { op: string }) => s.op === 'CLONE');
  tt.is(clone.actor, 'stage0');
  tt.regex(clone.text, /: mount, uts, ipc, pid, network$/);
  tt.is(typeof clone.args[0], 'number');
  tt.is(e.steps.find((s: { op: string }) => s.op === 'EXEC').stage, 'start');
  tt.is(e.steps.find((s: { op: string }) => s.op === 'PIVOT_ROOT').actor, 'init');
});

t('works as an unprivileged user (uid 65534) on a bundle everyone can read', (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-explain-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  const spec = baseSpec();
  withUserns(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec), { mode: 0o644 });
  const r = spawnSync(RUNT, ['explain', '--bundle', dir, 'nobody-c'], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /pivot_root into /);
  tt.regex(r.stdout, /write \/proc\/<pid>\/gid_map: 0 100000 65536/);
  tt.false(fs.existsSync('/run/runt/nobody-c'));
});

t('refuses what create refuses, with the same message', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => s.linux!.namespaces!.push({ type: 'pid' }));
  const e = env.runt(['explain', '--bundle', b, 'x1']);
  const c = env.runt(['create', '--bundle', b, 'x1']);
  tt.is(e.status, 1);
  tt.is(e.stderr, c.stderr);
  tt.regex(e.stderr, /duplicate pid namespace .*\[RUNT2006\]/);
});
