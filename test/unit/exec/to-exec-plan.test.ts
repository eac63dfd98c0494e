// The join-mode plan (src/spec/to-exec-plan.ts): what stage 0 does on the
// host, the namespaces joined, and the order of the process settings.
import test from 'ava';
import { CLONE } from '../../../src/plan/types.js';
import { NO_LSM } from '../../../src/spec/process-extras.js';
import { compileExecPlan, type ExecPlanContext } from '../../../src/spec/to-exec-plan.js';
import type { Process, Spec } from '../../../src/spec/types.js';

function ctx(over: Partial<ExecPlanContext> = {}): ExecPlanContext {
  return {
    id: 'c1',
    namespaces: [
      { type: 'mount', path: '/proc/42/ns/mnt' },
      { type: 'user', path: '/proc/42/ns/user' },
      { type: 'pid', path: '/proc/42/ns/pid' },
    ],
    cgroupProcs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'],
    consoleSocketFd: undefined,
    preserveFds: 0,
    noNewKeyring: false,
    lastCap: 40,
    stay: false,
    seccomp: undefined,
    host: NO_LSM,
    ...over,
  };
}

const spec = (linux: Spec['linux'] = {}): Spec => ({ ociVersion: '1.3.0', linux });
const proc = (over: Partial<Process> = {}): Process => ({ args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], ...over });
const names = (p: ReturnType<typeof compileExecPlan>): string[] => p.ops.map((o) => o.name);

test('stage 0 opens the cgroup, joins every namespace and clones without new ones; the child attaches and execs', (t) => {
  const plan = compileExecPlan(spec(), proc(), ctx());
  const ops = names(plan);
  const clone = ops.indexOf('CLONE');
  t.deepEqual(ops.slice(0, clone + 1), ['PRESERVE_FDS', 'CGROUP_PROCS', 'JOIN_NS', 'JOIN_NS', 'JOIN_NS', 'CLONE']);
  t.deepEqual(plan.ops[clone]!.fields, [{ i: 0 }, { i: 0 }]);
  t.deepEqual(plan.ops.filter((o) => o.name === 'JOIN_NS').map((o) => o.fields[0]), [{ i: CLONE.NEWNS }, { i: CLONE.NEWUSER }, { i: CLONE.NEWPID }]);
  t.deepEqual(ops.slice(clone + 1), ['ATTACH_CGROUPS', 'CPU_AFFINITY', 'KEYRING', 'IDENTITY', 'RESOLVE_EXEC', 'EXEC']);
  t.false(ops.includes('EXEC_FIFO'));
  t.false(ops.includes('WAIT_GO'));
  t.deepEqual(compileExecPlan(spec(), proc(), ctx({ stay: true })).ops[clone]!.fields, [{ i: 0 }, { i: 1 }]);
});

test('rlimits, oom_score_adj and the initial CPU affinity are set on the host, before the joins', (t) => {
  const p = proc({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }], oomScoreAdj: 100, execCPUAffinity: { initial: '1', final: '0-1' } });
  const plan = compileExecPlan(spec(), p, ctx());
  const ops = names(plan);
  const firstJoin = ops.indexOf('JOIN_NS');
  for (const n of ['RLIMIT', 'PROC_WRITE']) t.true(ops.indexOf(n) < firstJoin, n);
  t.is(ops.indexOf('CPU_AFFINITY'), firstJoin - 1);
  t.deepEqual(plan.ops.find((o) => o.name === 'PROC_WRITE')!.fields, [{ s: 'self/oom_score_adj' }, { s: '100' }]);
  // the final one after the cgroup join
  const aff = plan.ops.filter((o) => o.name === 'CPU_AFFINITY');
  t.is(aff.length, 2);
  t.is(ops.lastIndexOf('CPU_AFFINITY'), ops.indexOf('ATTACH_CGROUPS') + 1);
  t.is((aff[1]!.fields[0] as { b: Uint8Array }).b[0], 0b11);
});

test('a terminal: the pty is made but /dev/console is not bound', (t) => {
  const plan = compileExecPlan(spec(), proc({ terminal: true, consoleSize: { height: 10, width: 20 } }), ctx({ consoleSocketFd: 5 }));
  t.deepEqual(plan.ops.find((o) => o.name === 'CONSOLE')!.fields, [{ i: 5 }, { i: 10 }, { i: 20 }, { i: 0 }]);
  // no console socket in the foreground: runt-init relays the pty
  const relay = compileExecPlan(spec(), proc({ terminal: true }), ctx({ consoleProxy: true, stay: true }));
  const ops = names(relay);
  t.true(ops.indexOf('CONSOLE_PROXY') < ops.indexOf('CLONE'));
  t.deepEqual(relay.ops.find((o) => o.name === 'CONSOLE')!.fields[0], { i: -2 });
});

test('seccomp: before the capabilities without no_new_privs, right before exec with it; the listener on the host', (t) => {
  const sc = { bpf: new Uint8Array(16), flags: 4, notify: true, listenerPath: '/run/agent.sock' };
  const s = spec({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } });
  const a = names(compileExecPlan(s, proc({ noNewPrivileges: false }), ctx({ seccomp: sc })));
  t.true(a.indexOf('SECCOMP') < a.indexOf('IDENTITY'));
  t.false(a.includes('NO_NEW_PRIVS'));
  t.true(a.indexOf('SECCOMP_LISTENER') < a.indexOf('CLONE'));
  const b = names(compileExecPlan(s, proc({ noNewPrivileges: true }), ctx({ seccomp: sc })));
  t.deepEqual(b.slice(-3), ['RESOLVE_EXEC', 'SECCOMP', 'EXEC']);
  t.true(b.indexOf('NO_NEW_PRIVS') < b.indexOf('IDENTITY'));
  // no seccomp in the config: none installed
  t.false(names(compileExecPlan(spec(), proc(), ctx({ seccomp: sc }))).includes('SECCOMP'));
});

test('scheduler, I/O priority, personality and memory policy come before the identity switch', (t) => {
  const plan = compileExecPlan(
    spec({ personality: { domain: 'LINUX32' }, memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' } }),
    proc({ scheduler: { policy: 'SCHED_IDLE' }, ioPriority: { class: 'IOPRIO_CLASS_IDLE' } }),
    ctx(),
  );
  const ops = names(plan);
  for (const n of ['IOPRIO', 'SCHEDULER', 'PERSONALITY', 'MEMPOLICY']) t.true(ops.indexOf(n) > ops.indexOf('CLONE') && ops.indexOf(n) < ops.indexOf('IDENTITY'), n);
  t.deepEqual(plan.ops.find((o) => o.name === 'IOPRIO')!.fields, [{ i: 3 << 13 }]);
  t.deepEqual(plan.ops.find((o) => o.name === 'PERSONALITY')!.fields, [{ i: 8 }]);
});

test('LSM labels: refused when the host lacks the LSM, written when it has it', (t) => {
  t.is(t.throws(() => compileExecPlan(spec(), proc({ apparmorProfile: 'p' }), ctx()))!.message, 'process.apparmorProfile is set but AppArmor is not enabled on this host');
  t.is((t.throws(() => compileExecPlan(spec(), proc({ selinuxLabel: 'l' }), ctx())) as { field?: string }).field, '/process/selinuxLabel');
  const host = { apparmor: true, selinux: true, apparmorExecAttr: 'attr/apparmor/exec' };
  const plan = compileExecPlan(spec(), proc({ apparmorProfile: 'p', selinuxLabel: 'l' }), ctx({ host }));
  t.deepEqual(
    plan.ops.filter((o) => o.name === 'PROC_WRITE').map((o) => o.fields),
    [
      [{ s: 'thread-self/attr/keycreate' }, { s: 'l' }],
      [{ s: 'thread-self/attr/exec' }, { s: 'l' }],
      [{ s: 'thread-self/attr/apparmor/exec' }, { s: 'exec p' }],
    ],
  );
});

test('the container created with --no-new-keyring: no keyring for exec either', (t) => {
  t.false(names(compileExecPlan(spec(), proc(), ctx({ noNewKeyring: true }))).includes('KEYRING'));
});
