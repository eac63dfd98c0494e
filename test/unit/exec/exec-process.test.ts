// The process `exec` runs (src/spec/exec-process.ts): runc getProcess for
// the flags, --process as given, and the container's settings for what the
// request leaves unset (runc newInitConfig).
import test from 'ava';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { execProcess, type ExecRequest } from '../../../src/spec/exec-process.js';
import type { Spec } from '../../../src/spec/types.js';

function config(): Spec {
  return {
    ociVersion: '1.3.0',
    process: {
      user: { uid: 0, gid: 0, umask: 0o027, additionalGids: [10] },
      args: ['sleep', '100'],
      env: ['PATH=/bin', 'TERM=xterm', 'A=1'],
      cwd: '/',
      terminal: true,
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }],
      noNewPrivileges: true,
      apparmorProfile: 'ctr-profile',
      oomScoreAdj: 300,
      scheduler: { policy: 'SCHED_BATCH' },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 3 },
      execCPUAffinity: { initial: '0', final: '0-1' },
    },
  };
}

function req(over: Partial<ExecRequest> = {}): ExecRequest {
  return { args: ['sh'], process: undefined, tty: false, cwd: undefined, env: [], user: undefined, additionalGids: [], caps: [], noNewPrivs: undefined, apparmor: undefined, processLabel: undefined, ...over };
}

test('flags: the container process with the command, cwd and no terminal unless -t', (t) => {
  const p = execProcess(config(), req({ args: ['ls', '-l'], cwd: '/tmp' }));
  t.deepEqual(p.args, ['ls', '-l']);
  t.is(p.cwd, '/tmp');
  t.false(p.terminal);
  t.true(execProcess(config(), req({ tty: true })).terminal);
  t.deepEqual(p.rlimits, config().process!.rlimits);
  t.is(p.apparmorProfile, 'ctr-profile');
  t.true(p.noNewPrivileges);
});

test('-e appends and overrides by name, the last one winning at its own position (runc prepareEnv)', (t) => {
  const p = execProcess(config(), req({ env: ['A=2', 'B=x', 'PATH=/usr/bin', 'B=y'] }));
  t.deepEqual(p.env, ['TERM=xterm', 'A=2', 'PATH=/usr/bin', 'B=y']);
});

test('-u uid[:gid] and -g add to the user; bad values are flag errors', (t) => {
  const p = execProcess(config(), req({ user: '1000:2000', additionalGids: ['5', '27'] }));
  t.deepEqual([p.user.uid, p.user.gid], [1000, 2000]);
  t.deepEqual(p.user.additionalGids, [10, 5, 27]);
  const u = execProcess(config(), req({ user: '7' }));
  t.deepEqual([u.user.uid, u.user.gid], [7, 0]);
  for (const bad of ['x', '1:y', '1:2:3', '-1']) {
    const e = t.throws(() => execProcess(config(), req({ user: bad }))) as RuntimeError;
    t.is(e.code, 'RUNT1005', bad);
  }
  t.is((t.throws(() => execProcess(config(), req({ additionalGids: ['-5'] }))) as RuntimeError).code, 'RUNT1005');
});

test('--cap adds to bounding, effective and permitted; ambient only when there is an inheritable set (runc)', (t) => {
  const p = execProcess(config(), req({ caps: ['CAP_NET_ADMIN'] }));
  t.deepEqual(p.capabilities, { bounding: ['CAP_KILL', 'CAP_NET_ADMIN'], effective: ['CAP_KILL', 'CAP_NET_ADMIN'], permitted: ['CAP_KILL', 'CAP_NET_ADMIN'] });
  const c = config();
  c.process!.capabilities!.inheritable = [];
  const q = execProcess(c, req({ caps: ['CAP_NET_ADMIN'] }));
  t.deepEqual(q.capabilities!.ambient, ['CAP_NET_ADMIN']);
  t.deepEqual(q.capabilities!.inheritable, []);
});

test('--no-new-privs, --apparmor, --process-label override; unset flags leave the config', (t) => {
  t.false(execProcess(config(), req({ noNewPrivs: false })).noNewPrivileges);
  const c = config();
  c.process!.noNewPrivileges = false;
  t.true(execProcess(c, req({ noNewPrivs: true })).noNewPrivileges);
  t.false(execProcess(c, req()).noNewPrivileges);
  const p = execProcess(config(), req({ apparmor: 'other', processLabel: 'system_u:system_r:spc_t:s0' }));
  t.is(p.apparmorProfile, 'other');
  t.is(p.selinuxLabel, 'system_u:system_r:spc_t:s0');
});

test('no command and no --process: an error', (t) => {
  t.is((t.throws(() => execProcess(config(), req({ args: [] }))) as RuntimeError).message, 'exec args cannot be empty');
});

test('--process is taken as is, with the container settings only where it has none (runc newInitConfig)', (t) => {
  const p = execProcess(config(), req({ process: { args: ['/bin/true'], cwd: '/work', env: ['X=1', 'X=2'], terminal: true, user: { uid: 5, gid: 6 } }, args: [], tty: false, cwd: '/ignored' }));
  t.deepEqual(p.args, ['/bin/true']);
  t.is(p.cwd, '/work');
  t.true(p.terminal);
  t.deepEqual(p.env, ['X=2']);
  t.deepEqual([p.user.uid, p.user.gid], [5, 6]);
  // from the container
  t.deepEqual(p.capabilities, config().process!.capabilities);
  t.deepEqual(p.rlimits, config().process!.rlimits);
  t.is(p.apparmorProfile, 'ctr-profile');
  t.deepEqual(p.scheduler, { policy: 'SCHED_BATCH' });
  t.deepEqual(p.ioPriority, { class: 'IOPRIO_CLASS_BE', priority: 3 });
  t.deepEqual(p.execCPUAffinity, { initial: '0', final: '0-1' });
  // container-wide in runc
  t.is(p.user.umask, 0o027);
  t.is(p.oomScoreAdj, 300);
  // runc newProcess: the file's value, false when absent
  t.false(p.noNewPrivileges);
  // the file's own values win
  const q = execProcess(config(), req({ process: { args: ['x'], cwd: '/', rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }], capabilities: { bounding: [] }, apparmorProfile: 'mine' } }));
  t.deepEqual(q.rlimits, [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }]);
  t.deepEqual(q.capabilities, { bounding: [] });
  t.is(q.apparmorProfile, 'mine');
  t.deepEqual([q.user.uid, q.user.gid], [0, 0]);
});

test('a bad process is refused with the field (runc validateProcessSpec)', (t) => {
  const field = (p: unknown): string | undefined => (t.throws(() => execProcess(config(), req({ process: p }))) as RuntimeError).field;
  t.is(field({ args: ['x'], cwd: 'rel' }), '/cwd');
  t.is(field({ args: ['x'] }), '/cwd');
  t.is(field({ args: [], cwd: '/' }), '/args');
  t.is(field({ args: ['x'], cwd: '/', env: ['NOEQUALS'] }), '/env/0');
  t.is(field({ args: ['x'], cwd: '/', rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] }), '/rlimits/0/type');
  t.is(field([1, 2]), undefined);
});
