// explain interleaves the runtime's steps with the plan in the order create
// really runs them, and op-field maps a failing operation to its field.
import test from 'ava';
import type { DryRun } from '../../../src/diagnostics/dry-run.js';
import { explain, namespaceNames, renderText } from '../../../src/diagnostics/explain.js';
import { fieldOfOp, withConfigField } from '../../../src/diagnostics/op-field.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { CLONE } from '../../../src/plan/types.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';
import { compilePlan, type PlanContext } from '../../../src/spec/to-plan.js';
import type { Spec } from '../../../src/spec/types.js';

const ctx: PlanContext = {
  id: 'c1',
  bundle: '/b',
  rootfs: '/b/rootfs',
  fifoPath: '/run/runt/c1/exec.fifo',
  cgroupProcs: ['/sys/fs/cgroup/c1/cgroup.procs'],
  cgroupMounts: { mode: 'v2', v1: [], unified: { containerDir: '/sys/fs/cgroup/c1' } },
  consoleSocketFd: undefined,
  preserveFds: 0,
  noPivot: false,
  noNewKeyring: false,
  lastCap: 40,
  stay: false,
  statSource: () => 'dir',
};

function spec(): Spec {
  const s = defaultSpec({ rootless: false, cgroup2: true });
  s.process!.terminal = false;
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.process!.oomScoreAdj = 100;
  s.hooks = { prestart: [{ path: '/usr/bin/pre' }], createRuntime: [{ path: '/usr/bin/cr', timeout: 5 }], startContainer: [{ path: '/bin/sc' }], poststart: [{ path: '/usr/bin/ps' }], poststop: [{ path: '/usr/bin/stop' }] };
  return s;
}

function dry(s: Spec): DryRun {
  return {
    plan: compilePlan(s, ctx),
    cgroup: { mode: 'v2', paths: { unified: '/sys/fs/cgroup/c1' }, mkdirs: ['/sys/fs/cgroup/c1'], writes: [{ path: '/sys/fs/cgroup/c1/pids.max', value: '100', field: '/linux/resources/pids' }], warnings: [], note: undefined },
    stateDir: '/run/runt/c1',
    fifoPath: '/run/runt/c1/exec.fifo',
    planFd: 3,
    syncFd: 4,
    notes: [],
  };
}

test('namespace flags are named', (t) => {
  t.deepEqual(namespaceNames(CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUSER), ['mount', 'user', 'pid']);
});

test('the runtime steps sit where create runs them', (t) => {
  const s = spec();
  const e = explain(s, '/b', '/b/rootfs', 'c1', dry(s), { initBinary: '/bin/runt-init', pidFile: '/tmp/pid' });
  const ops = e.steps.map((x) => x.op);
  const at = (op: string): number => ops.indexOf(op);
  // runtime first: the stage starts once config.json is read, then the
  // checks, state, cgroup, the plan, the limits; then stage 0 up to clone
  t.true(at('read') < at('spawn') && at('spawn') < at('validate') && at('validate') < at('state'));
  t.true(at('state') < at('cgroup-mkdir') && at('cgroup-mkdir') < at('send-plan') && at('send-plan') < at('cgroup-write'));
  // with a console socket the stage starts once the socket is connected
  const withConsole = explain(s, '/b', '/b/rootfs', 'c1', dry(s), { initBinary: '/bin/runt-init', consoleSocket: '/tmp/c.sock' }).steps.map((x) => x.op);
  t.true(withConsole.indexOf('state') < withConsole.indexOf('console') && withConsole.indexOf('console') < withConsole.indexOf('spawn'));
  t.is(withConsole.filter((op) => op === 'spawn').length, 1);
  t.true(at('cgroup-write') < at('EXEC_FIFO') && at('EXEC_FIFO') < at('CLONE'));
  // the runtime answers the pid (P, sent at the clone) with the id maps
  // while the init goes on to WAIT_GO, where it waits for "go"
  t.is(ops[at('CLONE') + 1], 'pid');
  t.true(at('uid-map') > at('pid') && at('gid-map') > at('uid-map') && at('oom-score-adj') > at('gid-map') && at('go') > at('oom-score-adj'));
  t.is(ops[at('WAIT_GO') + 1], 'go');
  t.true(at('go') < at('BECOME_ROOT'));
  t.regex(e.steps[at('uid-map')]!.text, /uid_map: 0 100000 65536/);
  // prestart, then createRuntime, at the init's request, before pivot_root
  const hooks = e.steps.filter((x) => x.op === 'hook').map((x) => x.field);
  t.deepEqual(hooks, ['/hooks/prestart/0', '/hooks/createRuntime/0', '/hooks/poststart/0', '/hooks/poststop/0']);
  t.true(at('HOOKS_REQUEST') < at('hook') && at('hooks-done') < at('PIVOT_ROOT'));
  // ready ends create; start runs startContainer hooks and exec; then poststart
  const ready = at('ready');
  t.regex(e.steps[ready]!.text, /write the pid to \/tmp\/pid/);
  t.true(e.steps.slice(0, ready + 1).every((x) => x.stage === 'create'));
  t.is(e.steps.find((x) => x.op === 'EXEC')!.stage, 'start');
  t.is(e.steps.find((x) => x.op === 'HOOK')!.stage, 'start');
  t.is(e.steps.at(-1)!.stage, 'delete');
  t.regex(e.steps.find((x) => x.op === 'CLONE')!.text, /: mount, uts, ipc, user, pid, network/);
  // numbered in order
  e.steps.forEach((x, i) => t.is(x.n, i + 1));
  const text = renderText(e);
  t.regex(text, /dry run: nothing was done/);
  t.regex(text, /container init:/);
});

test('a failing operation names its config field', (t) => {
  const s = spec();
  s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  s.mounts!.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind'] });
  const plan = compilePlan(s, ctx);
  const find = (name: string, pred: (t: string) => boolean = () => true) => plan.ops.find((o) => o.name === name && pred(o.text))!;
  t.is(fieldOfOp(s, find('MOUNT', (x) => x.includes('/proc')), '', '/b'), '/mounts/0');
  t.is(fieldOfOp(s, find('MOVE_PREPARED', (x) => x.includes('/data')), '', '/b'), `/mounts/${s.mounts!.length - 1}`);
  t.is(fieldOfOp(s, find('BIND_PREPARE', (x) => x.includes('/b/data')), '', '/b'), `/mounts/${s.mounts!.length - 1}`);
  t.is(fieldOfOp(s, find('SYSCTL'), '', '/b'), '/linux/sysctl/net.ipv4.ip_forward');
  t.is(fieldOfOp(s, find('RESOLVE_EXEC'), 'chdir', '/b'), '/process/cwd');
  t.is(fieldOfOp(s, find('RESOLVE_EXEC'), 'execve', '/b'), '/process/args/0');
  t.is(fieldOfOp(s, find('MASK_PATH'), '', '/b'), '/linux/maskedPaths/0');
  t.is(fieldOfOp(s, find('HOOK'), '', '/b'), '/hooks/startContainer/0');
  const idx = plan.ops.indexOf(find('SYSCTL'));
  const payload = Buffer.from(`sysctl\t${idx}\topen\t2\t/proc/sys/net/ipv4/ip_forward\twrite sysctl`);
  const e = withConfigField(new RuntimeError('RUNT4003', 'cannot create container "c1": write sysctl: open: ENOENT', { phase: 'sysctl', errno: 'ENOENT' }), payload, s, plan, '/b');
  t.is(e.field, '/linux/sysctl/net.ipv4.ip_forward');
  t.is(e.errno, 'ENOENT');
  t.is(e.phase, 'sysctl');
});
