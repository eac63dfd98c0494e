import * as fs from 'node:fs';
import test from 'ava';
import type { WriteRecord } from '../../../src/cgroups/fsio.js';
import { type CgroupManager, newCgroupManager } from '../../../src/cgroups/manager.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import type { Resources } from '../../../src/spec/types.js';
import { fakeV1Layout, populateV1, rmrf, tempRoot } from './_fake-cgroupfs.js';

const ALL = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'rdma', 'name=systemd'];

interface Env {
  root: string;
  m: CgroupManager;
  log: WriteRecord[];
  dir: (controller: string) => string;
}

function setup(t: { teardown: (f: () => void) => void }, keys = ALL): Env {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const m = newCgroupManager(fakeV1Layout(root, { keys }), { kind: 'absolute', path: '/c1' }, 'c1', {
    log,
    verifyDevices: false,
    inUserNamespace: false,
  });
  m.create();
  for (const [key, dir] of Object.entries(m.saved.paths)) populateV1(dir, key.split(','));
  const dir = (c: string): string => `${root}/${c === 'name=systemd' ? 'systemd' : c}/c1`;
  return { root, m, log, dir };
}

// The writes other than the device rules, as [file, value] relative to the root.
function writes(env: Env, filter: (w: WriteRecord) => boolean = (w) => !w.path.includes('/devices/')): string[][] {
  return env.log.filter(filter).map((w) => [w.path.slice(env.root.length + 1), w.value]);
}

test('no resources: only the default device rules are written', (t) => {
  const env = setup(t);
  t.deepEqual(env.m.apply(undefined), []);
  t.deepEqual(writes(env), []);
  t.deepEqual(writes(env, () => true), [
    ['devices/c1/devices.deny', 'a *:* rwm'],
    ['devices/c1/devices.allow', 'b *:* m'],
    ['devices/c1/devices.allow', 'c *:* m'],
    ['devices/c1/devices.allow', 'c 1:3 rwm'],
    ['devices/c1/devices.allow', 'c 1:5 rwm'],
    ['devices/c1/devices.allow', 'c 1:7 rwm'],
    ['devices/c1/devices.allow', 'c 1:8 rwm'],
    ['devices/c1/devices.allow', 'c 1:9 rwm'],
    ['devices/c1/devices.allow', 'c 5:0 rwm'],
    ['devices/c1/devices.allow', 'c 5:2 rwm'],
    ['devices/c1/devices.allow', 'c 10:200 rwm'],
    ['devices/c1/devices.allow', 'c 136:* rwm'],
  ]);
});

test('device rules: spec rules after deny-all, then the defaults; re-apply is a no-op', (t) => {
  const env = setup(t, ['devices']);
  const r: Resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' },
      { allow: true, type: 'b', major: 8, access: 'r' },
    ],
  };
  env.m.apply(r, { linuxDevicePaths: ['/dev/null'] });
  const got = writes(env, () => true).map((w) => w[1]);
  t.deepEqual(got, [
    'a *:* rwm',
    'b *:* m',
    'c *:* m',
    'c 1:5 rwm', // no 1:3: /dev/null is in linux.devices, so its default rule is dropped
    'c 1:7 rwm',
    'c 1:8 rwm',
    'c 1:9 rwm',
    'c 4:1 rw',
    'c 5:0 rwm',
    'c 5:2 rwm',
    'b 8:* r',
    'c 10:200 rwm',
    'c 136:* rwm',
  ]);
  // The kernel's devices.list after that; applying again writes nothing.
  fs.writeFileSync(
    `${env.dir('devices')}/devices.list`,
    'c *:* m\nb *:* m\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 4:1 rw\nc 5:0 rwm\nc 5:2 rwm\nb 8:* r\nc 10:200 rwm\nc 136:* rwm\n',
  );
  env.log.length = 0;
  env.m.apply(r, { linuxDevicePaths: ['/dev/null'] });
  t.deepEqual(env.log, []);
  // Dropping a rule on update writes only its removal.
  env.m.apply({ devices: [{ allow: false, access: 'rwm' }] }, { linuxDevicePaths: ['/dev/null'] });
  t.deepEqual(writes(env, () => true), [
    ['devices/c1/devices.deny', 'c 4:1 rw'],
    ['devices/c1/devices.deny', 'b 8:* r'],
  ]);
});

test('device rules: allow-all switches to black-list mode; bad rules name the field', (t) => {
  const env = setup(t, ['devices']);
  fs.writeFileSync(`${env.dir('devices')}/devices.list`, 'c 1:3 rwm\n'); // white-list now
  env.m.apply({ devices: [{ allow: true, access: 'rwm' }] });
  t.deepEqual(writes(env, () => true)[0], ['devices/c1/devices.allow', 'a *:* rwm']);
  const e = t.throws(() => env.m.apply({ devices: [{ allow: true, type: 'x', access: 'rwm' }] }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/devices/0/type');
  const e2 = t.throws(() => env.m.apply({ devices: [{ allow: true, type: 'c', access: '' }] }), { instanceOf: RuntimeError });
  t.is(e2?.field, '/linux/resources/devices/0/access');
});

test('memory: limit, reservation, swap, swappiness, oom, hierarchy on a fresh cgroup', (t) => {
  const env = setup(t, ['devices', 'memory']);
  const warnings = env.m.apply({
    memory: {
      limit: 104857600,
      reservation: 52428800,
      swap: 209715200,
      swappiness: 10,
      disableOOMKiller: true,
      useHierarchy: true,
      kernel: 1000,
      kernelTCP: 1000,
    },
  });
  // The current limit (unlimited) is above the new memsw: memory first.
  t.deepEqual(writes(env), [
    ['memory/c1/memory.limit_in_bytes', '104857600'],
    ['memory/c1/memory.memsw.limit_in_bytes', '209715200'],
    ['memory/c1/memory.soft_limit_in_bytes', '52428800'],
    ['memory/c1/memory.oom_control', '1'],
    ['memory/c1/memory.swappiness', '10'],
    ['memory/c1/memory.use_hierarchy', '1'],
  ]);
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? '', /kernel memory/);
});

test('memory: growing above the current limit writes memsw before memory', (t) => {
  const env = setup(t, ['devices', 'memory']);
  fs.writeFileSync(`${env.dir('memory')}/memory.limit_in_bytes`, '52428800\n');
  env.m.apply({ memory: { limit: 104857600, swap: 209715200 } });
  t.deepEqual(writes(env), [
    ['memory/c1/memory.memsw.limit_in_bytes', '209715200'],
    ['memory/c1/memory.limit_in_bytes', '104857600'],
  ]);
});

test('memory: limit -1 with no swap also lifts memsw (runc setMemoryAndSwap)', (t) => {
  const env = setup(t, ['devices', 'memory']);
  env.m.apply({ memory: { limit: -1 } });
  t.deepEqual(writes(env), [
    ['memory/c1/memory.memsw.limit_in_bytes', '-1'],
    ['memory/c1/memory.limit_in_bytes', '-1'],
  ]);
});

test('memory: swap without swap accounting names field and file', (t) => {
  const env = setup(t, ['devices', 'memory']);
  fs.rmSync(`${env.dir('memory')}/memory.memsw.limit_in_bytes`);
  const e = t.throws(() => env.m.apply({ memory: { limit: 1048576, swap: 2097152 } }), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupResource);
  t.is(e?.field, '/linux/resources/memory/swap');
  t.is(e?.path, `${env.dir('memory')}/memory.memsw.limit_in_bytes`);
  t.regex(e?.message ?? '', /memory\.memsw\.limit_in_bytes does not exist/);
  t.regex(e?.hint ?? '', /swapaccount/);
});

test('memory: invalid swappiness is refused', (t) => {
  const env = setup(t, ['devices', 'memory']);
  const e = t.throws(() => env.m.apply({ memory: { swappiness: 101 } }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/memory/swappiness');
});

test('cpu: shares, period, burst, quota, idle, realtime', (t) => {
  const env = setup(t, ['devices', 'cpu']);
  env.m.apply({
    cpu: { shares: 512, period: 50000, quota: 25000, burst: 10000, idle: 0, realtimePeriod: 1000000, realtimeRuntime: 950000 },
  });
  t.deepEqual(writes(env), [
    // leaving SCHED_IDLE first: cpu.shares is refused while cpu.idle is 1
    ['cpu/c1/cpu.idle', '0'],
    ['cpu/c1/cpu.shares', '512'],
    ['cpu/c1/cpu.cfs_period_us', '50000'],
    ['cpu/c1/cpu.cfs_burst_us', '10000'],
    ['cpu/c1/cpu.cfs_quota_us', '25000'],
    // old runtime*period (0) < new: period first
    ['cpu/c1/cpu.rt_period_us', '1000000'],
    ['cpu/c1/cpu.rt_runtime_us', '950000'],
  ]);
});

test('cpu: realtime runtime first when the new ratio is smaller', (t) => {
  const env = setup(t, ['devices', 'cpu']);
  fs.writeFileSync(`${env.dir('cpu')}/cpu.rt_runtime_us`, '950000\n');
  env.m.apply({ cpu: { realtimePeriod: 500000, realtimeRuntime: 100000 } });
  t.deepEqual(writes(env), [
    ['cpu/c1/cpu.rt_runtime_us', '100000'],
    ['cpu/c1/cpu.rt_period_us', '500000'],
  ]);
});

test('non-integer values are refused, naming the field', (t) => {
  const env = setup(t, ['devices', 'cpu']);
  const e = t.throws(() => env.m.apply({ cpu: { shares: 1.5 } }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/cpu/shares');
});

test('cpuset, pids', (t) => {
  const env = setup(t, ['devices', 'cpuset', 'pids']);
  env.m.apply({ cpu: { cpus: '0-1', mems: '0' }, pids: { limit: 100 } });
  t.deepEqual(writes(env), [
    ['cpuset/c1/cpuset.cpus', '0-1'],
    ['cpuset/c1/cpuset.mems', '0'],
    ['pids/c1/pids.max', '100'],
  ]);
});

test('pids: runc ≥ 1.4 semantics for 0 and negative limits', (t) => {
  const env = setup(t, ['devices', 'pids']);
  env.m.apply({ pids: { limit: 0 } });
  env.m.apply({ pids: { limit: -1 } });
  env.m.apply({ pids: {} });
  t.deepEqual(writes(env), [
    ['pids/c1/pids.max', '1'],
    ['pids/c1/pids.max', 'max'],
  ]);
});

test('blkio: weights, device weights, throttles', (t) => {
  const env = setup(t, ['devices', 'blkio']);
  env.m.apply({
    blockIO: {
      weight: 300,
      leafWeight: 200,
      weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 400 }, { major: 8, minor: 16, weight: 100 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
    },
  });
  t.deepEqual(writes(env), [
    ['blkio/c1/blkio.weight', '300'],
    ['blkio/c1/blkio.leaf_weight', '200'],
    ['blkio/c1/blkio.weight_device', '8:0 500'],
    ['blkio/c1/blkio.leaf_weight_device', '8:0 400'],
    ['blkio/c1/blkio.weight_device', '8:16 100'],
    ['blkio/c1/blkio.throttle.read_bps_device', '8:0 1048576'],
    ['blkio/c1/blkio.throttle.write_bps_device', '8:0 2097152'],
    ['blkio/c1/blkio.throttle.read_iops_device', '8:0 100'],
    ['blkio/c1/blkio.throttle.write_iops_device', '8:0 200'],
  ]);
});

test('blkio: BFQ-only kernels use blkio.bfq.weight', (t) => {
  const env = setup(t, ['devices', 'blkio']);
  fs.rmSync(`${env.dir('blkio')}/blkio.weight`);
  fs.writeFileSync(`${env.dir('blkio')}/blkio.bfq.weight`, '100\n');
  fs.writeFileSync(`${env.dir('blkio')}/blkio.bfq.weight_device`, '');
  env.m.apply({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 500 }] } });
  t.deepEqual(writes(env), [
    ['blkio/c1/blkio.bfq.weight', '300'],
    ['blkio/c1/blkio.bfq.weight_device', '8:0 500'],
  ]);
});

test('hugetlb: limit and reservation limit; rsvd skipped on old kernels', (t) => {
  const env = setup(t, ['devices', 'hugetlb']);
  env.m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
  t.deepEqual(writes(env), [
    ['hugetlb/c1/hugetlb.2MB.limit_in_bytes', '4194304'],
    ['hugetlb/c1/hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
  ]);
  fs.rmSync(`${env.dir('hugetlb')}/hugetlb.2MB.rsvd.limit_in_bytes`);
  env.log.length = 0;
  env.m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
  t.deepEqual(writes(env), [['hugetlb/c1/hugetlb.2MB.limit_in_bytes', '2097152']]);
  const e = t.throws(() => env.m.apply({ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/hugepageLimits/0');
  t.is(e?.path, `${env.dir('hugetlb')}/hugetlb.3MB.limit_in_bytes`);
});

test('network classID and priorities, rdma', (t) => {
  const env = setup(t, ['devices', 'net_cls', 'net_prio', 'rdma']);
  env.m.apply({
    network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 5 } },
  });
  t.deepEqual(writes(env), [
    ['net_cls/c1/net_cls.classid', '1048577'],
    ['net_prio/c1/net_prio.ifpriomap', 'eth0 5'],
    ['net_prio/c1/net_prio.ifpriomap', 'lo 1'],
    ['rdma/c1/rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
    ['rdma/c1/rdma.max', 'mlx4_0 hca_object=5'],
  ]);
});

test('a controller that is not mounted: error names the field and the file', (t) => {
  // Like this host: no net_cls, net_prio or hugetlb v1 hierarchy.
  const env = setup(t, ['devices', 'memory']);
  const e = t.throws(() => env.m.apply({ network: { classID: 1 } }), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupResource);
  t.is(e?.field, '/linux/resources/network/classID');
  t.regex(e?.message ?? '', /net_cls cgroup controller is not mounted on this host, so there is no net_cls.classid to write/);
  const h = t.throws(() => env.m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), { instanceOf: RuntimeError });
  t.is(h?.field, '/linux/resources/hugepageLimits/0');
  t.regex(h?.message ?? '', /hugetlb\.2MB\.limit_in_bytes/);
  const c = t.throws(() => env.m.apply({ cpu: { quota: 1000 } }), { instanceOf: RuntimeError });
  t.regex(c?.message ?? '', /^cannot apply \/linux\/resources\/cpu\/quota: .*cpu\.cfs_quota_us/);
});

test('a missing knob: error names field and file', (t) => {
  const env = setup(t, ['devices', 'cpu']);
  fs.rmSync(`${env.dir('cpu')}/cpu.idle`);
  const e = t.throws(() => env.m.apply({ cpu: { idle: 1 } }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/cpu/idle');
  t.is(e?.path, `${env.dir('cpu')}/cpu.idle`);
  t.is(e?.errno, 'ENOENT');
});

test('unified on cgroup v1 is refused, naming /linux/resources/unified', (t) => {
  const env = setup(t, ['devices', 'memory']);
  const e = t.throws(() => env.m.apply({ unified: { 'memory.high': '1G' } }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/unified');
  t.deepEqual(env.log, [], 'nothing written before the refusal');
});

test('hybrid: nothing is ever written to the unified directory by apply', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const m = newCgroupManager(fakeV1Layout(root, { keys: ['devices', 'pids'], hybrid: true }), { kind: 'absolute', path: '/c1' }, 'c1', {
    log,
    verifyDevices: false,
    inUserNamespace: false,
  });
  m.create();
  populateV1(`${root}/devices/c1`, ['devices']);
  populateV1(`${root}/pids/c1`, ['pids']);
  m.apply({ pids: { limit: 5 } });
  t.false(log.some((w) => w.path.includes('/unified/')));
});

test('in a user namespace the v1 device rules are skipped, like runc', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const m = newCgroupManager(fakeV1Layout(root, { keys: ['devices'] }), { kind: 'absolute', path: '/c1' }, 'c1', {
    log,
    inUserNamespace: true,
  });
  m.create();
  t.deepEqual(m.apply(undefined), []);
  t.deepEqual(log, []);
});
