import * as fs from 'node:fs';
import test from 'ava';
import type { WriteRecord } from '../../../src/cgroups/fsio.js';
import { type CgroupManager, newCgroupManager } from '../../../src/cgroups/manager.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { disassemble } from '../../../src/cgroups/devicefilter.js';
import { BpfError } from '../../../src/sys/bpf.js';
import { RecordingLoader, fakeV2Layout, populateV2, rmrf, tempRoot } from './_fake-cgroupfs.js';

interface Env {
  root: string;
  dir: string;
  m: CgroupManager;
  log: WriteRecord[];
  bpf: RecordingLoader;
}

function setup(t: { teardown: (f: () => void) => void }, overrides: Record<string, string> = {}, cgPath = '/c1'): Env {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const bpf = new RecordingLoader();
  const m = newCgroupManager(fakeV2Layout(root), { kind: 'absolute', path: cgPath }, 'c1', { log, deviceFilterLoader: bpf, inUserNamespace: false });
  m.create();
  const dir = m.saved.paths['unified'] as string;
  populateV2(dir, overrides);
  log.length = 0;
  return { root, dir, m, log, bpf };
}

const writes = (env: Env): string[][] => env.log.map((w) => [w.path.slice(env.dir.length + 1), w.value]);

test('create enables the root controllers in every ancestor subtree_control', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const layout = fakeV2Layout(root);
  fs.mkdirSync(`${root}/cgroup/runt`);
  populateV2(`${root}/cgroup/runt`);
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/runt/c1' }, 'c1', { log });
  m.create();
  t.deepEqual(m.saved.created, [`${root}/cgroup/runt/c1`]);
  t.deepEqual(
    log.map((w) => [w.path.slice(root.length + 1), w.value]),
    [
      ['cgroup/cgroup.subtree_control', '+cpuset +cpu +io +memory +hugetlb +pids +rdma'],
      ['cgroup/runt/cgroup.subtree_control', '+cpuset +cpu +io +memory +hugetlb +pids +rdma'],
    ],
  );
  m.destroy();
  t.false(fs.existsSync(`${root}/cgroup/runt/c1`));
  t.true(fs.existsSync(`${root}/cgroup/runt`));
});

test('create refuses a "domain invalid" cgroup and removes what it made', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const layout = fakeV2Layout(root);
  fs.mkdirSync(`${root}/cgroup/busy/c1`, { recursive: true });
  fs.writeFileSync(`${root}/cgroup/busy/c1/cgroup.type`, 'domain invalid\n');
  const m = newCgroupManager(layout, { kind: 'absolute', path: '/busy/c1/sub' }, 'c1');
  const e = t.throws(() => m.create(), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupSetup);
  t.false(fs.existsSync(`${root}/cgroup/busy/c1/sub`));
});

test('every resource lands in the right v2 file with runc conversions', (t) => {
  const env = setup(t, { 'memory.high': 'max\n' });
  const warnings = env.m.apply({
    pids: { limit: 100 },
    memory: { limit: 104857600, reservation: 52428800, swap: 209715200 },
    blockIO: {
      weight: 500,
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
    },
    cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 0, cpus: '0-1', mems: '0' },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    rdma: { mlx5_1: { hcaHandles: 3 } },
    unified: { 'memory.high': '90000000' },
  });
  t.deepEqual(writes(env), [
    ['pids.max', '100'],
    ['memory.swap.max', '104857600'], // memory+swap 200M - memory 100M
    ['memory.max', '104857600'],
    ['memory.low', '52428800'],
    ['io.weight', '4950'], // 1 + (500-10)*9999/990
    ['io.max', '8:0 rbps=1048576'],
    ['io.max', '8:0 wbps=2097152'],
    ['io.max', '8:0 riops=100'],
    ['io.max', '8:0 wiops=200'],
    ['cpu.idle', '0'],
    ['cpu.weight', '100'], // 1024 shares → 100 (runc ≥ 1.3.2 quadratic)
    ['cpu.max.burst', '1000'],
    ['cpu.max', '50000 100000'],
    ['cpuset.cpus', '0-1'],
    ['cpuset.mems', '0'],
    ['hugetlb.2MB.max', '4194304'],
    ['hugetlb.2MB.rsvd.max', '4194304'],
    ['rdma.max', 'mlx5_1 hca_handle=3'],
    ['memory.high', '90000000'],
  ]);
  t.deepEqual(warnings, []);
  // The default device rules went to the eBPF filter: deny by default.
  t.is(env.bpf.attached.length, 1);
  t.is(env.bpf.attached[0]?.dir, env.dir);
  t.false(env.bpf.attached[0]?.filter.defaultAllow);
});

test('memory swap conversion cases (ConvertMemorySwapToCgroupV2Value)', (t) => {
  const env = setup(t);
  env.m.apply({ memory: { limit: 1048576, swap: 1048576 } }); // equal: swap disabled
  env.m.apply({ memory: { limit: -1 } }); // unlimited memory: swap unlimited too
  env.m.apply({ memory: { limit: 1048576, swap: -1 } });
  t.deepEqual(writes(env), [
    ['memory.swap.max', '0'],
    ['memory.max', '1048576'],
    ['memory.swap.max', 'max'],
    ['memory.max', 'max'],
    ['memory.swap.max', 'max'],
    ['memory.max', '1048576'],
  ]);
  const e = t.throws(() => env.m.apply({ memory: { swap: 1048576 } }), { instanceOf: RuntimeError });
  t.is(e?.field, '/linux/resources/memory/swap');
  t.regex(e?.message ?? '', /without memory limit/);
  const e2 = t.throws(() => env.m.apply({ memory: { limit: 2097152, swap: 1048576 } }), { instanceOf: RuntimeError });
  t.regex(e2?.message ?? '', /memory\+swap limit should be >= memory limit/);
});

test('memory: no swap accounting makes "max"/"0" a no-op but a real limit an error', (t) => {
  const env = setup(t);
  fs.rmSync(`${env.dir}/memory.swap.max`);
  env.m.apply({ memory: { limit: 1048576, swap: 1048576 } });
  t.deepEqual(writes(env), [['memory.max', '1048576']]);
  const e = t.throws(() => env.m.apply({ memory: { limit: 1048576, swap: 2097152 } }), { instanceOf: RuntimeError });
  t.is(e?.path, `${env.dir}/memory.swap.max`);
});

test('memory: checkBeforeUpdate refuses a limit at or below current usage', (t) => {
  const env = setup(t); // memory.current is 4096
  const e = t.throws(() => env.m.apply({ memory: { limit: 4096, checkBeforeUpdate: true } }), { instanceOf: RuntimeError });
  t.regex(e?.message ?? '', /rejecting memory limit 4096 <= usage 4096/);
  t.notThrows(() => env.m.apply({ memory: { limit: 8192, checkBeforeUpdate: true } }));
});

test('cpu.max from quota and period alone', (t) => {
  const env = setup(t);
  env.m.apply({ cpu: { quota: 50000 } });
  env.m.apply({ cpu: { period: 200000 } });
  env.m.apply({ cpu: { quota: -1, period: 100000 } });
  env.m.apply({ cpu: { shares: 2 } });
  env.m.apply({ cpu: { shares: 262144 } });
  t.deepEqual(writes(env), [
    ['cpu.max', '50000 100000'],
    ['cpu.max', 'max 200000'],
    ['cpu.max', 'max 100000'],
    ['cpu.weight', '1'],
    ['cpu.weight', '10000'],
  ]);
});

test('io: BFQ weight without conversion, per-device weights when supported', (t) => {
  const env = setup(t, { 'io.bfq.weight': 'default 100\n' });
  const warnings = env.m.apply({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] } });
  t.deepEqual(writes(env), [
    ['io.bfq.weight', '500'],
    ['io.bfq.weight', '8:0 300'],
  ]);
  t.deepEqual(warnings.filter((w) => w.includes('weightDevice')), []);
});

test('settings v2 cannot express are ignored with warnings', (t) => {
  const env = setup(t);
  const w = env.m.apply({
    memory: { swappiness: 10, disableOOMKiller: true, kernel: 1, useHierarchy: false },
    cpu: { realtimeRuntime: 1000, realtimePeriod: 10000 },
    blockIO: { leafWeight: 100 },
    network: { classID: 1 },
    devices: [{ allow: true, access: 'rwm' }],
  });
  t.deepEqual(env.log, []);
  t.is(w.length, 7);
  for (const re of [/kernel memory/, /swappiness/, /OOM/, /hierarchical/, /real-time/, /leaf/, /net_cls/]) {
    t.true(w.some((x) => re.test(x)), String(re));
  }
});

test('device rules become an eBPF filter attached to the cgroup', (t) => {
  const env = setup(t);
  const w = env.m.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }] });
  t.deepEqual(w, []);
  const f = env.bpf.attached[0]?.filter;
  t.truthy(f);
  t.false(f?.defaultAllow);
  const text = disassemble(f?.insns ?? []).join('\n');
  t.regex(text, /JNEImm dst: r4 imm: 10 /);
  t.regex(text, /JNEImm dst: r5 imm: 229 /);
  // linux.devices paths drop the default rule of the same path
  env.m.apply({});
  env.m.apply({}, { linuxDevicePaths: ['/dev/null'] });
  t.is((env.bpf.attached[1]?.filter.exceptions ?? 0) - (env.bpf.attached[2]?.filter.exceptions ?? 0), 1);
  // update leaves the filter alone
  env.m.apply({ pids: { limit: 5 } }, { skipDevices: true });
  t.is(env.bpf.attached.length, 3);
});

test('a filter that cannot be attached is an error naming the cgroup, unless nothing is denied', (t) => {
  const env = setup(t);
  env.bpf.fail = new BpfError('bpf(BPF_PROG_LOAD)', 'EPERM', 1);
  const e = t.throws(() => env.m.apply({}), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupDevices);
  t.is(e?.field, '/linux/resources/devices');
  t.is(e?.path, env.dir);
  t.is(e?.errno, 'EPERM');
  t.regex(e?.message ?? '', /eBPF device filter/);
  t.regex(e?.hint ?? '', /CAP_BPF/);
  // runc canSkipEBPFError: an allow-all rule set loses nothing
  const w = env.m.apply({ devices: [{ allow: true, access: 'rwm' }] });
  t.is(w.length, 1);
  t.regex(w[0] ?? '', /not enforced/);
});

test('in a user namespace a failing filter is a warning (runc canSkipEBPFError)', (t) => {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const bpf = new RecordingLoader();
  bpf.fail = new BpfError('bpf(BPF_PROG_LOAD)', 'EPERM', 1);
  const m = newCgroupManager(fakeV2Layout(root), { kind: 'absolute', path: '/c1' }, 'c1', { deviceFilterLoader: bpf, inUserNamespace: true });
  m.create();
  populateV2(m.saved.paths['unified'] as string);
  t.is(m.apply({}).length, 1);
});

test('a controller not enabled for the cgroup: error names field, file and controller', (t) => {
  const env = setup(t, { 'cgroup.controllers': 'cpu pids\n' });
  fs.rmSync(`${env.dir}/memory.max`);
  const e = t.throws(() => env.m.apply({ memory: { limit: 1048576 } }), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupResource);
  t.is(e?.field, '/linux/resources/memory/limit');
  t.is(e?.path, `${env.dir}/memory.max`);
  t.regex(e?.message ?? '', /memory controller is not enabled/);
  t.regex(e?.hint ?? '', /subtree_control/);
});

test('unified: bad keys and unavailable controllers', (t) => {
  const env = setup(t, { 'cgroup.controllers': 'cpu pids\n' });
  const e = t.throws(() => env.m.apply({ unified: { '../memory.max': '1' } }), { instanceOf: RuntimeError });
  t.regex(e?.message ?? '', /no slashes/);
  const e2 = t.throws(() => env.m.apply({ unified: { 'memory.high': '1' } }), { instanceOf: RuntimeError });
  t.regex(e2?.message ?? '', /controller "memory" not available/);
  t.is(e2?.field, '/linux/resources/unified/memory.high');
  const e3 = t.throws(() => env.m.apply({ unified: { nodot: '1' } }), { instanceOf: RuntimeError });
  t.regex(e3?.message ?? '', /CONTROLLER\.PARAMETER/);
  env.m.apply({ unified: { 'io.max': '8:0 rbps=1\n8:16 wbps=2' } });
  t.deepEqual(writes(env), [
    ['io.max', '8:0 rbps=1'],
    ['io.max', '8:16 wbps=2'],
  ]);
});
