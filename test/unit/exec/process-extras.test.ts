// The process/linux settings shared by create and exec plans
// (src/spec/process-extras.ts, src/spec/net-devices.ts) and the resctrl
// group handling (src/linux/resctrl.ts) against a directory standing in
// for /sys/fs/resctrl.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Codes } from '../../../src/errors/codes.js';
import type { RuntimeError } from '../../../src/errors/runtime-error.js';
import { findResctrl, joinIntelRdt, removeIntelRdt, schemataText } from '../../../src/linux/resctrl.js';
import { netDeviceOps, validInterfaceName } from '../../../src/spec/net-devices.js';
import { ALL_CPUS, cpuAffinityOp, dedupEnv, ioPriorityOp, listToMask, memoryPolicyOp, mountLabelData, personalityOp, schedulerOp } from '../../../src/spec/process-extras.js';
import { compilePlan, type PlanContext } from '../../../src/spec/to-plan.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';

test('CPU and node lists become bit masks in whole 64-bit words', (t) => {
  t.deepEqual([...listToMask('0', '/f', Codes.SchedulingConfig, 'CPU')], [1, 0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual([...listToMask('0-2, 7', '/f', Codes.SchedulingConfig, 'CPU')], [0x87, 0, 0, 0, 0, 0, 0, 0]);
  t.is(listToMask('64', '/f', Codes.SchedulingConfig, 'CPU').length, 16);
  t.is(listToMask('', '/f', Codes.SchedulingConfig, 'CPU').length, 0);
  for (const bad of ['a', '3-1', '1-', '99999']) t.throws(() => listToMask(bad, '/f', Codes.SchedulingConfig, 'CPU'), undefined, bad);
  t.is((cpuAffinityOp(undefined, '/f', 'x').fields[0] as { b: Uint8Array }).b, ALL_CPUS);
  t.throws(() => cpuAffinityOp(' ', '/f', 'x'));
});

test('scheduler: policy, flags and the runc checks', (t) => {
  t.deepEqual(schedulerOp({ policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] }).fields, [{ i: 1 }, { i: 1 }, { i: 0 }, { i: 10 }, { i: 0 }, { i: 0 }, { i: 0 }]);
  t.deepEqual(schedulerOp({ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3 }).fields.slice(4), [{ i: 1 }, { i: 2 }, { i: 3 }]);
  const field = (fn: () => unknown): string | undefined => (t.throws(fn) as RuntimeError).field;
  t.is(field(() => schedulerOp({ policy: 'SCHED_NOPE' })), '/process/scheduler/policy');
  t.is(field(() => schedulerOp({ policy: 'SCHED_OTHER', nice: -21 })), '/process/scheduler/nice');
  t.is(field(() => schedulerOp({ policy: 'SCHED_BATCH', priority: 1 })), '/process/scheduler/priority');
  t.is(field(() => schedulerOp({ policy: 'SCHED_OTHER', runtime: 5 })), '/process/scheduler');
  t.is(field(() => schedulerOp({ policy: 'SCHED_OTHER', flags: ['X'] })), '/process/scheduler/flags/0');
});

test('ioPriority, personality, memory policy', (t) => {
  t.deepEqual(ioPriorityOp({ class: 'IOPRIO_CLASS_RT', priority: 2 }).fields, [{ i: (1 << 13) | 2 }]);
  t.deepEqual(ioPriorityOp({ class: 'IOPRIO_CLASS_BE' }).fields, [{ i: 2 << 13 }]);
  t.deepEqual(personalityOp({ domain: 'LINUX' }).fields, [{ i: 0 }]);
  const m = memoryPolicyOp({ mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING'] });
  t.deepEqual(m.fields[0], { i: 2 | (1 << 15) | (1 << 13) });
  t.deepEqual([...(m.fields[1] as { b: Uint8Array }).b], [3, 0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual(memoryPolicyOp({ mode: 'MPOL_PREFERRED' }).fields[1], { b: Buffer.alloc(0) });
  t.throws(() => memoryPolicyOp({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }));
  t.throws(() => memoryPolicyOp({ mode: 'MPOL_DEFAULT', nodes: '1' }));
});

test('env dedup keeps the last value at its position; mount labels go on filesystems runt mounts', (t) => {
  t.deepEqual(dedupEnv(['A=1', 'B=2', 'A=3', 'C=4']), ['B=2', 'A=3', 'C=4']);
  t.is(mountLabelData('mode=755', 'l', 'tmpfs'), 'mode=755,context="l"');
  t.is(mountLabelData('', 'l', 'devpts'), 'context="l"');
  t.is(mountLabelData('x', 'l', 'proc'), 'x');
  t.is(mountLabelData('x', undefined, 'tmpfs'), 'x');
});

test('net devices: kernel name rules, a network namespace, no two devices with one name', (t) => {
  t.true(validInterfaceName('eth0'));
  t.true(validInterfaceName('x'.repeat(15)));
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'a:b', 'x'.repeat(16)]) t.false(validInterfaceName(bad), bad);
  const spec = defaultSpec({ rootless: false, cgroup2: true });
  spec.linux!.netDevices = { eth1: {}, eth2: { name: 'ctr0' } };
  t.deepEqual(netDeviceOps(spec).map((o) => o.fields), [[{ s: 'eth1' }, { s: 'eth1' }], [{ s: 'eth2' }, { s: 'ctr0' }]]);
  spec.linux!.netDevices = { eth1: { name: 'x' }, eth2: { name: 'x' } };
  t.is((t.throws(() => netDeviceOps(spec)) as RuntimeError).field, '/linux/netDevices/eth2/name');
  spec.linux!.netDevices = { eth1: { name: 'x%d' }, eth2: { name: 'x%d' } };
  t.is(netDeviceOps(spec).length, 2);
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
  t.is((t.throws(() => netDeviceOps(spec)) as RuntimeError).code, Codes.NetDeviceConfig);
});

function planCtx(over: Partial<PlanContext> = {}): PlanContext {
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
    statSource: () => 'dir',
    ...over,
  };
}

test('create plan: net devices and the seccomp listener in stage 0, seccomp where runc puts it', (t) => {
  const spec = defaultSpec({ rootless: false, cgroup2: true });
  spec.process!.terminal = false;
  spec.linux!.netDevices = { eth1: {} };
  spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  const sc = { bpf: new Uint8Array(8), flags: 0, notify: true, listenerPath: '/agent.sock' };
  spec.process!.noNewPrivileges = true;
  const ops = compilePlan(spec, planCtx({ seccomp: sc })).ops.map((o) => o.name);
  const clone = ops.indexOf('CLONE');
  t.true(ops.indexOf('NET_DEVICE') < clone);
  t.true(ops.indexOf('SECCOMP_LISTENER') < clone);
  t.deepEqual(ops.slice(ops.indexOf('RESOLVE_EXEC'), ops.indexOf('RESOLVE_EXEC') + 3), ['RESOLVE_EXEC', 'SECCOMP', 'READY']);
  spec.process!.noNewPrivileges = false;
  const ops2 = compilePlan(spec, planCtx({ seccomp: sc })).ops.map((o) => o.name);
  t.true(ops2.indexOf('SECCOMP') < ops2.indexOf('IDENTITY'));
  // intelRdt without resctrl, LSM labels without the LSM: refused
  spec.linux!.intelRdt = { closID: 'x' };
  t.is((t.throws(() => compilePlan(spec, planCtx({ seccomp: sc }))) as RuntimeError).code, Codes.IntelRdtConfig);
  delete spec.linux!.intelRdt;
  spec.process!.apparmorProfile = 'p';
  t.is((t.throws(() => compilePlan(spec, planCtx({ seccomp: sc }))) as RuntimeError).field, '/process/apparmorProfile');
});

test('resctrl: the mount from mountinfo, the schemata by the spec rules, groups made, joined and removed', (t) => {
  t.is(findResctrl('36 25 0:32 / /sys/fs/resctrl rw,relatime shared:16 - resctrl resctrl rw\n'), '/sys/fs/resctrl');
  t.is(findResctrl('36 25 0:32 / /sys rw - sysfs sysfs rw\n'), undefined);
  t.deepEqual(schemataText({ l3CacheSchema: 'L3:0=f\nMB:0=10', memBwSchema: 'MB:0=20', schemata: ['L2:0=3'] }), ['L3:0=f', 'MB:0=20', 'L2:0=3']);
  t.deepEqual(schemataText({ l3CacheSchema: 'L3:0=f\nMB:0=10' }), ['L3:0=f', 'MB:0=10']);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-resctrl-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  // no closID: a group named after the container, ours to remove
  const dir = joinIntelRdt({ l3CacheSchema: 'L3:0=f', enableMonitoring: true }, 'c1', 42, root);
  t.is(dir, path.join(root, 'c1'));
  t.is(fs.readFileSync(path.join(dir, 'schemata'), 'utf8'), 'L3:0=f\n');
  t.is(fs.readFileSync(path.join(dir, 'tasks'), 'utf8'), '42');
  t.is(fs.readFileSync(path.join(dir, 'mon_groups', 'c1', 'tasks'), 'utf8'), '42');
  // a closID without schemata must exist already
  t.is((t.throws(() => joinIntelRdt({ closID: 'nope' }, 'c2', 1, root)) as RuntimeError).field, '/linux/intelRdt/closID');
  t.false(fs.existsSync(path.join(root, 'nope')));
  // an existing closID with other schemata: refused
  fs.mkdirSync(path.join(root, 'shared'));
  fs.writeFileSync(path.join(root, 'shared', 'schemata'), 'L3:0=ff\n');
  t.throws(() => joinIntelRdt({ closID: 'shared', l3CacheSchema: 'L3:0=f' }, 'c3', 1, root));
  joinIntelRdt({ closID: 'shared', l3CacheSchema: 'L3:0=ff' }, 'c3', 7, root);
  t.is(fs.readFileSync(path.join(root, 'shared', 'tasks'), 'utf8'), '7');
  // removal: the container's own group goes, a named closID stays (the
  // tmpfs stand-in keeps files rmdir would refuse, so empty it first)
  for (const f of ['tasks', 'schemata']) fs.rmSync(path.join(dir, f));
  fs.rmSync(path.join(dir, 'mon_groups', 'c1', 'tasks'));
  fs.rmdirSync(path.join(dir, 'mon_groups', 'c1'));
  fs.rmdirSync(path.join(dir, 'mon_groups'));
  removeIntelRdt({}, 'c1', root);
  t.false(fs.existsSync(dir));
  removeIntelRdt({ closID: 'shared' }, 'c3', root);
  t.true(fs.existsSync(path.join(root, 'shared')));
  t.is((t.throws(() => joinIntelRdt({ closID: '../x' }, 'c4', 1, root)) as RuntimeError).field, '/linux/intelRdt/closID');
});
