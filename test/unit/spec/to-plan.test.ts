import test from 'ava';
import { compilePlan, cleanDestination, type PlanContext } from '../../../src/spec/to-plan.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';
import type { Spec } from '../../../src/spec/types.js';
import { CLONE } from '../../../src/plan/types.js';

function ctx(over: Partial<PlanContext> = {}): PlanContext {
  return {
    id: 'c1',
    bundle: '/b',
    rootfs: '/b/rootfs',
    fifoPath: '/run/runt/c1/exec.fifo',
    cgroupProcs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'],
    cgroupMounts: { mode: 'v2', v1: [], unified: { containerDir: '/sys/fs/cgroup/c1' } },
    consoleSocketFd: undefined,
    preserveFds: 0,
    noPivot: false,
    noNewKeyring: false,
    lastCap: 40,
    stay: false,
    statSource: (p) => (p.endsWith('.txt') ? 'file' : p.includes('missing') ? 'missing' : 'dir'),
    ...over,
  };
}

function spec(mut?: (s: Spec) => void): Spec {
  const s = defaultSpec({ rootless: false, cgroup2: true });
  s.process!.terminal = false;
  mut?.(s);
  return s;
}

const names = (s: Spec, c = ctx()): string[] => compilePlan(s, c).ops.map((o) => o.name);

test('stage 0 comes first and ends with clone; the init ends with ready, hooks, exec', (t) => {
  const ops = names(spec((s) => (s.hooks = { startContainer: [{ path: '/bin/true' }] })));
  const clone = ops.indexOf('CLONE');
  t.true(clone > 0);
  t.deepEqual(ops.slice(0, 3), ['PRESERVE_FDS', 'CGROUP_PROCS', 'EXEC_FIFO']);
  t.true(ops.slice(0, clone).every((n) => ['PRESERVE_FDS', 'CGROUP_PROCS', 'EXEC_FIFO', 'JOIN_NS', 'TIMENS', 'BIND_PREPARE', 'IDMAP_MOUNT'].includes(n)));
  t.deepEqual(ops.slice(-4), ['RESOLVE_EXEC', 'READY', 'HOOK', 'EXEC']);
  t.deepEqual(ops.slice(clone + 1, clone + 3), ['SETSID', 'ATTACH_CGROUPS']);
});

test('the init waits for the runtime right after attaching only where it needs the runtime first', (t) => {
  const at = (ops: string[], n: string): number => ops.indexOf(n);
  const attach = (ops: string[]): number => at(ops, 'ATTACH_CGROUPS');
  // no user namespace, self-attached cgroups: the mounts first; G (and the
  // cgroup limits it stands for, devices rules included) before the first
  // device node and the hooks
  const hooked = names(spec((s) => (s.hooks = { createRuntime: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/true' }] })));
  t.true(at(hooked, 'WAIT_GO') > hooked.lastIndexOf('MOUNT'));
  t.is(at(hooked, 'WAIT_GO') + 1, at(hooked, 'MKNOD'));
  t.true(at(hooked, 'WAIT_GO') < at(hooked, 'HOOKS_REQUEST'));
  t.true(at(hooked, 'UNSHARE') < at(hooked, 'WAIT_GO')); // the cgroup namespace: the init sits in its cgroup already
  const plain = names(spec());
  t.is(plain.filter((n) => n === 'WAIT_GO').length, 1);
  t.true(at(plain, 'WAIT_GO') > plain.lastIndexOf('MOUNT') && at(plain, 'WAIT_GO') < at(plain, 'MKNOD'));
  // a mount of a device is governed by the devices rules: G first
  const blockDev = names(spec((s) => s.mounts!.push({ destination: '/data', type: 'ext4', source: '/dev/vdb1' })));
  t.is(at(blockDev, 'WAIT_GO'), attach(blockDev) + 1);
  // binds of files and devices open nothing
  const binds = names(spec((s) => s.mounts!.push({ destination: '/data', type: 'none', source: '/srv', options: ['rbind'] })));
  t.true(at(binds, 'WAIT_GO') > binds.lastIndexOf('MOUNT'));
  // a new user namespace needs its maps first
  const userns = names(spec((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }));
  t.is(at(userns, 'WAIT_GO'), attach(userns) + 1);
  // a joined one: the same wait, before BECOME_ROOT
  const joined = names(spec((s) => s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' })));
  t.true(at(joined, 'WAIT_GO') < at(joined, 'BECOME_ROOT') && at(joined, 'WAIT_GO') < at(joined, 'BIND_ROOTFS'));
  // systemd moves the init into its scope on "P": nothing before that
  const systemd = names(spec(), ctx({ cgroupProcs: [] }));
  t.is(at(systemd, 'WAIT_GO'), at(systemd, 'SETSID') + 1);
  t.true(at(systemd, 'WAIT_GO') < at(systemd, 'UNSHARE'));
});

test('the order of the setup follows runc: mounts, devices, hooks, pivot, then process settings', (t) => {
  const ops = names(spec((s) => (s.hooks = { createRuntime: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/true' }] })));
  const at = (n: string): number => ops.indexOf(n);
  t.true(at('BIND_ROOTFS') < at('MOUNT'));
  t.true(at('MOUNT') < at('MKNOD'));
  t.true(at('MKNOD') < at('HOOKS_REQUEST'));
  t.true(at('HOOKS_REQUEST') < at('HOOK'));
  t.true(at('HOOK') < at('PIVOT_ROOT'));
  t.true(at('PIVOT_ROOT') < at('REMOUNT_ROOT_RO'));
  t.true(at('REMOUNT_ROOT_RO') < at('HOSTNAME'));
  t.true(at('READONLY_PATH') < at('MASK_PATH'));
  t.true(at('MASK_PATH') < at('RLIMIT'));
  t.true(at('RLIMIT') < at('IDENTITY'));
  t.true(at('IDENTITY') < at('NO_NEW_PRIVS'));
  t.true(at('NO_NEW_PRIVS') < at('RESOLVE_EXEC'));
});

test('new namespaces become clone flags; joined ones are setns in stage 0; cgroup is unshared later', (t) => {
  const s = spec((x) => {
    x.linux!.namespaces = [{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'mount' }, { type: 'cgroup' }];
  });
  const plan = compilePlan(s, ctx());
  const clone = plan.ops.find((o) => o.name === 'CLONE')!;
  t.deepEqual(clone.fields[0], { i: CLONE.NEWPID | CLONE.NEWNS });
  const join = plan.ops.find((o) => o.name === 'JOIN_NS')!;
  t.deepEqual(join.fields, [{ i: CLONE.NEWNET }, { s: '/proc/1/ns/net' }]);
  const unshare = plan.ops.find((o) => o.name === 'UNSHARE')!;
  t.deepEqual(unshare.fields[0], { i: CLONE.NEWCGROUP });
});

test('a user namespace gets maps, become-root, bind-mounted devices and a fifo owned by the mapped root', (t) => {
  const s = spec((x) => {
    x.linux!.namespaces!.push({ type: 'user' });
    x.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    x.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  });
  const plan = compilePlan(s, ctx());
  t.true(plan.newUserNamespace);
  t.is(plan.uidMap, '0 100000 65536\n');
  t.is(plan.gidMap, '0 200000 65536\n');
  t.true(plan.ops.some((o) => o.name === 'BECOME_ROOT'));
  t.false(plan.ops.some((o) => o.name === 'MKNOD'));
  t.true(plan.ops.some((o) => o.name === 'MOVE_PREPARED' && o.text === 'bind host device /dev/null'));
  const fifo = plan.ops.find((o) => o.name === 'EXEC_FIFO')!;
  t.deepEqual(fifo.fields.slice(1), [{ i: 100000 }, { i: 200000 }]);
});

test('time offsets are written as text for timens_offsets', (t) => {
  const plan = compilePlan(
    spec((x) => {
      x.linux!.namespaces!.push({ type: 'time' });
      x.linux!.timeOffsets = { monotonic: { secs: 10, nanosecs: 5 }, boottime: { secs: 20 } };
    }),
    ctx(),
  );
  const tn = plan.ops.find((o) => o.name === 'TIMENS')!;
  t.deepEqual(tn.fields[0], { s: 'monotonic 10 5\nboottime 20 0\n' });
});

test('bind mounts are prepared in stage 0 and moved by the init; a missing source is an error naming the field', (t) => {
  const s = spec((x) => x.mounts!.push({ destination: 'data', type: 'bind', source: 'vol', options: ['rbind', 'ro'] }));
  const plan = compilePlan(s, ctx());
  const prep = plan.ops.find((o) => o.name === 'BIND_PREPARE' && o.text.includes('/b/vol'))!;
  t.deepEqual(prep.fields.slice(1, 4), [{ s: '/b/vol' }, { i: 1 }, { i: 1 /* MOUNT_ATTR_RDONLY */ }]);
  const move = plan.ops.find((o) => o.name === 'MOVE_PREPARED' && o.text.includes('/data'))!;
  t.deepEqual(move.fields[1], { s: '/data' });
  const err = t.throws(() => compilePlan(spec((x) => x.mounts!.push({ destination: '/x', type: 'bind', source: '/missing' })), ctx()));
  t.regex(err!.message, /bind mount source \/missing does not exist/);
  t.is((err as unknown as { field: string }).field, `/mounts/${spec().mounts!.length}/source`);
});

test('destinations are cleaned and cannot climb out of the rootfs lexically', (t) => {
  t.is(cleanDestination('a/../../etc'), '/etc');
  t.is(cleanDestination('/proc/'), '/proc');
  t.is(cleanDestination('../../..'), '/');
});

test('caps become masks, unknown ones a warning', (t) => {
  const plan = compilePlan(spec((x) => (x.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_NOPE'], effective: ['CAP_KILL'] })), ctx());
  t.deepEqual(plan.warnings, ['ignoring unknown or unavailable capabilities: CAP_NOPE']);
  const id = plan.ops.find((o) => o.name === 'IDENTITY')!;
  // uid, gid, umask, ngroups(0), lastcap, bnd lo, bnd hi, eff lo ...
  t.deepEqual(id.fields.slice(5, 9), [{ i: 1 << 5 }, { i: 0 }, { i: 1 << 5 }, { i: 0 }]);
});

test('--no-pivot chroots; terminal adds the console step with the socket fd', (t) => {
  const ops = names(spec(), ctx({ noPivot: true }));
  t.true(ops.includes('CHROOT'));
  t.false(ops.includes('PIVOT_ROOT'));
  const plan = compilePlan(spec((x) => (x.process!.terminal = true)), ctx({ consoleSocketFd: 5 }));
  t.deepEqual(plan.ops.find((o) => o.name === 'CONSOLE')!.fields[0], { i: 5 });
});

test('cgroup mounts on v1 become a tmpfs plus one bind per hierarchy, or fresh mounts in a cgroup namespace', (t) => {
  const hybrid = ctx({
    cgroupMounts: {
      mode: 'hybrid',
      v1: [{ key: 'cpu,cpuacct', dirName: 'cpu,cpuacct', controllers: ['cpu', 'cpuacct'], containerDir: '/sys/fs/cgroup/cpu,cpuacct/c1', superOptions: 'rw,cpu,cpuacct' }],
      unified: { containerDir: '/sys/fs/cgroup/unified/c1' },
    },
  });
  const withNs = compilePlan(spec((x) => x.linux!.namespaces!.push({ type: 'cgroup' })), hybrid).ops.map((o) => o.text);
  t.true(withNs.includes('mount cgroup cpu,cpuacct on /sys/fs/cgroup/cpu,cpuacct'));
  t.true(withNs.includes('mount cgroup2 unified on /sys/fs/cgroup/unified'));
  const plan = compilePlan(
    spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'cgroup'))),
    ctx({
      cgroupMounts: {
        mode: 'hybrid',
        v1: [{ key: 'cpu,cpuacct', dirName: 'cpu,cpuacct', controllers: ['cpu', 'cpuacct'], containerDir: '/sys/fs/cgroup/cpu,cpuacct/c1', superOptions: 'rw,cpu,cpuacct' }],
        unified: { containerDir: '/sys/fs/cgroup/unified/c1' },
      },
    }),
  );
  const texts = plan.ops.map((o) => o.text);
  t.true(texts.includes('mount tmpfs on /sys/fs/cgroup for the cgroup hierarchies'));
  t.true(texts.includes('bind mount /sys/fs/cgroup/cpu,cpuacct/c1 on /sys/fs/cgroup/cpu,cpuacct'));
  t.true(texts.includes('symlink /sys/fs/cgroup/cpu -> cpu,cpuacct'));
  t.true(texts.includes('bind mount /sys/fs/cgroup/unified/c1 on /sys/fs/cgroup/unified'));
});
