// Faults: the runtime killed at every stage of create (RUNT_FAULT, see
// src/runtime/create.ts), the init dying before start, hooks that crash,
// hang or leave something running, a full or read-only state root, a
// namespace path that is not a namespace. Each ends with a clear error and
// nothing left: no state dir, cgroup, mount or process.

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FAULT_POINTS } from '../../src/runtime/create.js';
import type { Spec } from '../../src/spec/types.js';
import { leftovers, waitNoLeftovers } from '../helpers/leaks.js';
import { RUNT, createSleeping, isGone, isRoot, setup, stateOf, uniqueId, waitStatus, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

// One line on stderr: the error (warnings aside).
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('runt: warning: '));
  return lines.length === 1 ? lines[0]! : `${lines.length} lines: ${stderr}`;
}

function listed(env: Env, id: string): string | undefined {
  const r = env.runt(['list', '--format', 'json']);
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { id: string; status: string }[]).find((c) => c.id === id)?.status;
}

t(`SIGKILL of create at each of its ${FAULT_POINTS.length} stages: list never shows it running, delete --force leaves nothing`, (tt) => {
  const env = setup(tt);
  // a createRuntime hook, so that the runtime has a hook stage to die in
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.hooks = { createRuntime: [{ path: '/bin/true' }] };
  });
  for (const point of FAULT_POINTS) {
    const id = uniqueId(`f-${point}`);
    const r = env.runt(['create', '--bundle', b, id], { env: { ...process.env, RUNT_FAULT: point } });
    tt.is(r.signal, 'SIGKILL', `${point}: ${r.stderr}`);
    const status = listed(env, id);
    tt.not(status, 'running', point);
    // a half-made container cannot be started; a finished one can
    const start = env.runt(['start', id]);
    if (point === 'after-record') {
      tt.is(status, 'created');
      tt.is(start.status, 0, start.stderr);
    } else {
      tt.true(status === undefined || status === 'stopped', `${point}: ${status}`);
      tt.is(start.status, 1, point);
      tt.regex(errorLine(start.stderr), /^runt: (container ".*" does not exist|cannot start container ".*": it is stopped)/, point);
    }
    const d = env.runt(['delete', '--force', id]);
    tt.is(d.status, 0, `${point}: ${d.stderr}`);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), [], point);
    // and once more: delete --force of what is gone is fine, as in runc
    tt.is(env.runt(['delete', '--force', id]).status, 0, point);
  }
});

t('the init dying before start: state says stopped, start says why, delete leaves nothing', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  process.kill(pid, 'SIGKILL');
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  tt.is(stateOf(env, id).pid, 0);
  const r = env.runt(['start', id]);
  tt.is(r.status, 1);
  tt.is(errorLine(r.stderr), `runt: cannot start container "${id}": it is stopped [RUNT3003] (hint: delete it with \`runt delete ${id}\` and create it again)`);
  tt.is(env.runt(['delete', id]).status, 0);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);

  // killed during create, by a createRuntime hook that reads its pid
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'kill -9 $(sed -n \'s/.*"pid": *\\([0-9]*\\).*/\\1/p\')'] }] };
  });
  const id2 = uniqueId();
  const c = env.runt(['create', '--bundle', b, id2]);
  tt.is(c.status, 1);
  tt.regex(errorLine(c.stderr), /^runt: cannot create container ".*": the container's init exited during setup without reporting why \[RUNT4004\]/);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id2] }), []);
});

const crash = (sig: string): { path: string; args: string[] } => ({ path: '/bin/sh', args: ['sh', '-c', `kill -${sig} $$`] });

t('hooks killed by a signal: create and start fail with the signal named, poststop only warns, nothing is left', (tt) => {
  const env = setup(tt);
  for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
    const id = uniqueId();
    const r = env.runt(['create', '--bundle', env.bundle((s) => (s.hooks = { [phase]: [crash('SEGV')] })), id]);
    tt.is(r.status, 1, phase);
    tt.regex(errorLine(r.stderr), new RegExp(`^runt: .*${phase} hook /bin/sh was killed by (SIGSEGV|signal 11)`), phase);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), [], phase);
  }
  for (const phase of ['startContainer', 'poststart'] as const) {
    const { id, pid } = createSleeping(env, (s) => (s.hooks = { [phase]: [crash('ABRT')] }));
    const r = env.runt(['start', id]);
    tt.is(r.status, 1, phase);
    tt.regex(errorLine(r.stderr), new RegExp(`${phase} hook /bin/sh was killed by (SIGABRT|signal 6)`), phase);
    tt.is(waitStatus(env, id, 'stopped'), 'stopped', phase);
    tt.true(isGone(pid));
    tt.is(env.runt(['delete', id]).status, 0);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), [], phase);
  }
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', env.bundle((s) => (s.hooks = { poststop: [crash('KILL')] })), id]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stderr, /^runt: warning: poststop hook \/bin\/sh was killed by SIGKILL$/m);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
});

t('a hook that leaves a process holding its output, or hangs with one, does not hang the runtime', (tt) => {
  const env = setup(tt);
  const marker = path.join(env.tmp, 'left-running');
  // exits at once but leaves `sleep` with its stdout and stderr
  const leaves = { path: '/bin/sh', args: ['sh', '-c', `sleep 30 & echo $! > ${marker}; exit 0`] };
  const id = uniqueId();
  let started = Date.now();
  const r = env.runt(['run', '--bundle', env.bundle((s) => (s.hooks = { createRuntime: [leaves], poststart: [leaves], poststop: [leaves] })), id]);
  tt.is(r.status, 0, r.stderr);
  tt.true(Date.now() - started < 10_000, 'not held by the process the hook left');
  process.kill(Number(fs.readFileSync(marker, 'utf8')), 'SIGKILL');
  // hangs with a background child: the timeout kills both
  const hangs = { path: '/bin/sh', args: ['sh', '-c', `sleep 30 & echo $! > ${marker}; sleep 30`], timeout: 1 };
  for (const phase of ['prestart', 'createRuntime'] as const) {
    const id2 = uniqueId();
    started = Date.now();
    const c = env.runt(['create', '--bundle', env.bundle((s) => (s.hooks = { [phase]: [hangs] })), id2]);
    tt.is(c.status, 1);
    tt.is(errorLine(c.stderr), `runt: ${phase} hook /bin/sh timed out after 1 s [RUNT6002]`);
    tt.true(Date.now() - started < 10_000);
    const left = Number(fs.readFileSync(marker, 'utf8'));
    for (const end = Date.now() + 2000; !isGone(left) && Date.now() < end; ) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    tt.true(isGone(left), 'the hook\'s child went with it');
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id2] }), []);
  }
});

t('hooks that exit before reading a large state: no SIGPIPE, in every phase', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.annotations = { big: 'x'.repeat(300_000) }; // several pipe buffers
    const quick = [{ path: '/bin/true' }];
    s.hooks = { prestart: quick, createRuntime: quick, createContainer: quick, startContainer: quick, poststart: quick, poststop: quick };
  });
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stderr, '');
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
});

// A small tmpfs as the state root, unmounted at teardown.
function smallRoot(tt: import('ava').ExecutionContext, env: Env, size = '256k'): string {
  const root = path.join(env.tmp, 'small-root');
  fs.mkdirSync(root);
  tt.is(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=711`, 'tmpfs', root]).status, 0);
  tt.teardown(() => {
    spawnSync('mount', ['-o', 'remount,rw', root]);
    for (const id of fs.readdirSync(root)) if (!id.startsWith('.') && id !== 'filler') spawnSync(RUNT, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    spawnSync('umount', ['-l', root]);
  });
  return root;
}

// The CLI with another --root; output to files, never pipes (a created
// container inherits them, and spawnSync would wait for it to exit).
let calls = 0;
function runtAt(env: Env, root: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = path.join(env.tmp, `at-out-${calls}`);
  const err = path.join(env.tmp, `at-err-${calls++}`);
  const o = fs.openSync(out, 'w');
  const e = fs.openSync(err, 'w');
  try {
    const r = spawnSync(RUNT, ['--root', root, ...args], { stdio: ['ignore', o, e], cwd: env.tmp, timeout: 60_000 });
    return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fs.closeSync(o);
    fs.closeSync(e);
  }
}

function fill(dir: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
}

t('a full state root: create fails with a clear error before or after the init exists, and leaves nothing', (tt) => {
  const env = setup(tt);
  const root = smallRoot(tt, env);
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  fill(root);
  const id = uniqueId();
  const r = runtAt(env, root, ['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(errorLine(r.stderr), /^runt: write state of container ".*": ENOSPC \[RUNT3006\]/);
  tt.deepEqual(fs.readdirSync(root), ['filler']);
  tt.deepEqual(waitNoLeftovers({ ids: [id], paths: [root + '/'] }), []);
  fs.rmSync(path.join(root, 'filler'));

  // the disk fills up while the init waits for the hooks: the last state
  // write fails, the init and the cgroup are undone
  const b2 = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `dd if=/dev/zero of=${root}/filler bs=4k 2>/dev/null; true`] }] };
  });
  const id2 = uniqueId();
  const r2 = runtAt(env, root, ['create', '--bundle', b2, id2]);
  tt.is(r2.status, 1);
  tt.regex(errorLine(r2.stderr), /^runt: write state of container ".*": ENOSPC \[RUNT3006\]/);
  tt.deepEqual(fs.readdirSync(root), ['filler']);
  tt.deepEqual(waitNoLeftovers({ ids: [id2], paths: [root + '/'] }), []);
  fs.rmSync(path.join(root, 'filler'));
  // and with space again all works
  const id3 = uniqueId();
  tt.is(runtAt(env, root, ['run', '--bundle', env.bundle(), id3]).status, 0);
  tt.deepEqual(fs.readdirSync(root), []);
});

t('a read-only state root: create fails clearly; an existing container can be inspected and killed, and deleted once writable', (tt) => {
  const env = setup(tt);
  const root = smallRoot(tt, env);
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const id = uniqueId();
  tt.is(runtAt(env, root, ['create', '--bundle', b, id]).status, 0);
  tt.is(spawnSync('mount', ['-o', 'remount,ro', root]).status, 0);
  const id2 = uniqueId();
  const r = runtAt(env, root, ['create', '--bundle', b, id2]);
  tt.is(r.status, 1);
  tt.regex(errorLine(r.stderr), /^runt: create state directory .*: EROFS \[RUNT3004\]/);
  tt.deepEqual(waitNoLeftovers({ ids: [id2] }), []);
  tt.is(JSON.parse(runtAt(env, root, ['state', id]).stdout).status, 'created');
  const del = runtAt(env, root, ['delete', '--force', id]);
  tt.is(del.status, 1);
  // delete locks the state first: nothing is done (no kill, no cgroup
  // removed) when the state cannot be changed afterwards
  tt.regex(errorLine(del.stderr), /^runt: lock state of container ".*": EROFS \[RUNT3006\] \(hint: the state root \(--root\) must be writable\)/);
  tt.is(JSON.parse(runtAt(env, root, ['state', id]).stdout).status, 'created');
  // kill writes nothing: it works
  tt.is(runtAt(env, root, ['kill', id, 'KILL']).status, 0);
  for (let i = 0; i < 100 && JSON.parse(runtAt(env, root, ['state', id]).stdout).status !== 'stopped'; i++);
  tt.is(JSON.parse(runtAt(env, root, ['state', id]).stdout).status, 'stopped');
  tt.is(spawnSync('mount', ['-o', 'remount,rw', root]).status, 0);
  tt.is(runtAt(env, root, ['delete', '--force', id]).status, 0);
  tt.deepEqual(fs.readdirSync(root), []);
  tt.deepEqual(waitNoLeftovers({ ids: [id, id2], paths: [root + '/'] }), []);
});

t('a namespace path that is not a namespace, or not of its type, is a clear error that leaves nothing', (tt) => {
  const env = setup(tt);
  const notNs = path.join(env.tmp, 'not-a-namespace');
  fs.writeFileSync(notNs, '');
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['a regular file', (s) => (s.linux!.namespaces!.find((n) => n.type === 'network')!.path = notNs), /join network namespace: setns: EINVAL/],
    ['a namespace of another type', (s) => (s.linux!.namespaces!.find((n) => n.type === 'ipc')!.path = '/proc/self/ns/uts'), /join ipc namespace: setns: EINVAL/],
    ['a missing path', (s) => (s.linux!.namespaces!.find((n) => n.type === 'uts')!.path = '/nonexistent/ns'), /open uts namespace \/nonexistent\/ns: open: ENOENT/],
  ];
  for (const [what, mutate, re] of cases) {
    const id = uniqueId();
    const r = env.runt(['create', '--bundle', env.bundle(mutate), id]);
    tt.is(r.status, 1, what);
    tt.regex(errorLine(r.stderr), re, what);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), [], what);
  }
  const bogus = env.runt(['create', '--bundle', env.bundle((s) => ((s.linux!.namespaces as { type: string }[]).push({ type: 'bogus' }))), uniqueId()]);
  tt.regex(errorLine(bogus.stderr), /^runt: config\.json: \/linux\/namespaces\/5\/type: must be one of/);
  tt.deepEqual(leftovers({ root: env.root, ids: [] }), []);
});

t('delete --force of an unknown id succeeds, as in runc; plain delete says it does not exist', (tt) => {
  const env = setup(tt);
  tt.is(env.runt(['delete', '--force', 'never-created']).status, 0);
  const r = env.runt(['delete', 'never-created']);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /container "never-created" does not exist/);
  // a state.json that is not JSON: --force removes the directory
  const id = uniqueId();
  fs.mkdirSync(path.join(env.root, id), { recursive: true });
  fs.writeFileSync(path.join(env.root, id, 'state.json'), '{"id": ');
  tt.regex(env.runt(['state', id]).stderr, /is corrupt/);
  const d = env.runt(['delete', '--force', id]);
  tt.is(d.status, 0, d.stderr);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('pid reuse: kill and delete never signal a live process that is not the container\'s init', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  const file = path.join(env.root, id, 'state.json');
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; pidStartTime: string };
  tt.is(saved.pid, pid);
  // the init dies; its pid now names a process of ours, started later
  process.kill(pid, 'SIGKILL');
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  const stranger = spawn('sleep', ['100'], { stdio: 'ignore' });
  tt.teardown(() => {
    stranger.kill('SIGKILL');
  });
  fs.writeFileSync(file, JSON.stringify({ ...saved, pid: stranger.pid }));
  const st = stateOf(env, id);
  tt.is(st.status, 'stopped');
  tt.is(st.pid, 0);
  for (const args of [['kill', id, 'KILL'], ['pause', id], ['exec', id, 'true'], ['start', id]]) {
    const r = env.runt(args);
    tt.not(r.status, 0, args.join(' '));
    tt.regex(errorLine(r.stderr), /it is stopped/, args.join(' '));
  }
  // kill --all of a stopped container signals what is left in its cgroup
  // (nothing here), as runc does: never the pid recorded in state.json
  tt.is(env.runt(['kill', '--all', id, 'KILL']).status, 0);
  tt.is(env.runt(['delete', id]).status, 0);
  tt.false(isGone(stranger.pid!), 'the stranger is alive');
  tt.is(stranger.exitCode, null);
  tt.is(stranger.signalCode, null);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);

  // the same with delete --force of a container that looks running
  const c2 = createSleeping(env);
  tt.is(env.runt(['start', c2.id]).status, 0);
  const file2 = path.join(env.root, c2.id, 'state.json');
  const saved2 = JSON.parse(fs.readFileSync(file2, 'utf8')) as object;
  process.kill(c2.pid, 'SIGKILL');
  tt.is(waitStatus(env, c2.id, 'stopped'), 'stopped');
  fs.writeFileSync(file2, JSON.stringify({ ...saved2, pid: stranger.pid }));
  tt.is(env.runt(['delete', '--force', c2.id]).status, 0);
  tt.false(isGone(stranger.pid!), 'still alive after delete --force');
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [c2.id] }), []);
});

// The processes running a given executable (by /proc/<pid>/exe), zombies aside.
function runningExe(exe: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/exe`) !== exe) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return pids;
}

t('a create refused after its native stage started (schema, semantics, a limit the kernel refuses) ends the stage: no process of it is left', (tt) => {
  const env = setup(tt);
  // a copy of runt-init of this test's own: every process running it is one
  // this test started
  const init = path.join(env.tmp, 'runt-init-copy');
  fs.copyFileSync(path.join(path.dirname(RUNT), 'runt-init'), init);
  fs.chmodSync(init, 0o755);
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['schema', (s) => ((s.linux!.namespaces as unknown as { type: string }[])[0] = { type: 'bogus' }), /\/linux\/namespaces\/0\/type/],
    ['semantics', (s) => s.mounts!.push({ destination: '/', type: 'tmpfs', source: 'tmpfs' }), /a mount on \/ would hide the rootfs/],
    ['cgroup limit', (s) => (s.linux!.resources = { cpu: { cpus: '999' } }), /cpuset\.cpus/],
  ];
  for (const [what, mutate, message] of cases) {
    const id = uniqueId();
    const b = env.bundle((s) => {
      s.process!.args = ['sleep', '100'];
      s.linux!.cgroupsPath = `/${id}`;
      mutate(s);
    });
    const r = env.runt(['create', '--bundle', b, id], { env: { ...process.env, RUNT_INIT: init } });
    tt.is(r.status, 1, `${what}: ${r.stderr}`);
    tt.regex(errorLine(r.stderr), message, what);
    // the stage is gone when create returns; its netns helper a moment later
    let left = runningExe(init);
    for (let i = 0; i < 100 && left.length; i++) {
      spawnSync('sleep', ['0.02']);
      left = runningExe(init);
    }
    tt.deepEqual(left, [], `${what}: processes of the native stage left`);
    tt.deepEqual(leftovers({ root: env.root, ids: [id] }), [], what);
  }
});
