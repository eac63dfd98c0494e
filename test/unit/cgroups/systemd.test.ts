// The systemd driver's pure parts: cgroupsPath → unit and cgroup, and
// linux.resources → unit properties (runc's systemd driver as reference).
import test from 'ava';
import { effectiveDeviceRules } from '../../../src/cgroups/devices.js';
import { expandSlice, parseSystemdCgroupsPath } from '../../../src/cgroups/systemd/path.js';
import { type Prop, U64_MAX, deviceProperties, parseProcDevices, rangeToBits, resourceProperties, scopeProperties } from '../../../src/cgroups/systemd/properties.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';

const byName = (props: Prop[]): Record<string, unknown> => Object.fromEntries(props.map((p) => [p.name, p.value]));
const ctx = { systemdVersion: 252 };

test('expandSlice: nested slices as systemd lays them out (runc ExpandSlice)', (t) => {
  t.is(expandSlice('system.slice'), '/system.slice');
  t.is(expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  t.is(expandSlice('-.slice'), '/');
  for (const bad of ['a--b.slice', '-a.slice', 'a-.slice', '.slice', 'a.scope', 'a/b.slice', 'slice']) {
    const e = t.throws(() => expandSlice(bad), { instanceOf: RuntimeError }, bad);
    t.is(e?.code, Codes.CgroupPath);
  }
});

test('slice:prefix:name → unit and cgroup; runc defaults when empty', (t) => {
  t.deepEqual(parseSystemdCgroupsPath('machine-pods.slice:cri:abc', 'x'), {
    slice: 'machine-pods.slice',
    unit: 'cri-abc.scope',
    cgroup: '/machine.slice/machine-pods.slice/cri-abc.scope',
  });
  t.deepEqual(parseSystemdCgroupsPath('', 'c1'), { slice: 'system.slice', unit: 'runt-c1.scope', cgroup: '/system.slice/runt-c1.scope' });
  t.deepEqual(parseSystemdCgroupsPath(undefined, 'c1'), { slice: 'system.slice', unit: 'runt-c1.scope', cgroup: '/system.slice/runt-c1.scope' });
  // an empty slice part is system.slice, as in runc
  t.is(parseSystemdCgroupsPath(':docker:c1', 'c1').cgroup, '/system.slice/docker-c1.scope');
  t.is(parseSystemdCgroupsPath('-.slice:docker:c1', 'c1').cgroup, '/docker-c1.scope');
});

test('malformed systemd cgroupsPath values name the field', (t) => {
  for (const bad of ['/runt/abc', 'a:b', 'a:b:c:d', 'system.slice:docker:', 'system.slice:doc/ker:x', 'system.slice:docker:a b', 'bad:docker:x']) {
    const e = t.throws(() => parseSystemdCgroupsPath(bad, 'x'), { instanceOf: RuntimeError }, bad);
    t.is(e?.code, Codes.CgroupPath, bad);
    t.is(e?.field, '/linux/cgroupsPath');
  }
  const s = t.throws(() => parseSystemdCgroupsPath('kubepods.slice:x:pod1.slice', 'x'), { instanceOf: RuntimeError });
  t.regex(s?.message ?? '', /names a slice/);
});

test('scope properties: slice, the init pid, delegation and accounting first', (t) => {
  const props = scopeProperties({ id: 'c1', slice: 'system.slice', pid: 42 }, [{ name: 'TasksMax', sig: 't', value: 5n }]);
  const m = byName(props);
  t.is(m['Slice'], 'system.slice');
  t.deepEqual(m['PIDs'], [42]);
  t.is(m['Delegate'], true);
  t.is(m['DefaultDependencies'], false);
  for (const a of ['MemoryAccounting', 'CPUAccounting', 'IOAccounting', 'TasksAccounting']) t.is(m[a], true);
  t.is(props[props.length - 1]?.name, 'TasksMax');
  t.is(props.find((p) => p.name === 'PIDs')?.sig, 'au');
});

test('memory: MemoryMax, MemoryLow, MemorySwapMax (swap is memory+swap in the spec)', (t) => {
  const m = byName(resourceProperties({ memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 } }, ctx).props);
  t.is(m['MemoryMax'], BigInt(64 << 20));
  t.is(m['MemoryLow'], BigInt(32 << 20));
  t.is(m['MemorySwapMax'], BigInt(32 << 20));
  const unl = byName(resourceProperties({ memory: { limit: -1 } }, ctx).props);
  t.is(unl['MemoryMax'], U64_MAX);
  t.is(unl['MemorySwapMax'], U64_MAX);
  // memory+swap == memory: no swap
  t.is(byName(resourceProperties({ memory: { limit: 100, swap: 100 } }, ctx).props)['MemorySwapMax'], 0n);
  const e = t.throws(() => resourceProperties({ memory: { limit: 100, swap: 50 } }, ctx), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupResource);
  t.is(e?.field, '/linux/resources/memory/swap');
});

test('cpu: CPUWeight from shares, CPUQuotaPerSecUSec rounded up to whole percent, period', (t) => {
  const m = byName(resourceProperties({ cpu: { shares: 1024, quota: 50000, period: 100000 } }, ctx).props);
  t.is(m['CPUWeight'], 100n);
  t.is(m['CPUQuotaPerSecUSec'], 500000n);
  t.is(m['CPUQuotaPeriodUSec'], 100000n);
  // 33333/100000 = 333330 us/s → 340000 (runc addCpuQuota)
  t.is(byName(resourceProperties({ cpu: { quota: 33333 } }, ctx).props)['CPUQuotaPerSecUSec'], 340000n);
  t.is(byName(resourceProperties({ cpu: { quota: -1 } }, ctx).props)['CPUQuotaPerSecUSec'], U64_MAX);
  // systemd < 242 has no period property: the file gets it
  const old = resourceProperties({ cpu: { quota: 50000, period: 50000 } }, { systemdVersion: 241 });
  t.false(old.props.some((p) => p.name === 'CPUQuotaPeriodUSec'));
  t.true(old.notes.length > 0);
});

test('cpuset: AllowedCPUs/AllowedMemoryNodes as little-endian bit masks (systemd ≥ 244)', (t) => {
  t.deepEqual([...rangeToBits('0-2,7', 'f')], [0x87]);
  t.deepEqual([...rangeToBits('8', 'f')], [0x00, 0x01]);
  t.deepEqual([...rangeToBits('0,9-10', 'f')], [0x01, 0x06]);
  const m = byName(resourceProperties({ cpu: { cpus: '0-1', mems: '0' } }, ctx).props);
  t.deepEqual([...(m['AllowedCPUs'] as Uint8Array)], [3]);
  t.deepEqual([...(m['AllowedMemoryNodes'] as Uint8Array)], [1]);
  t.false(resourceProperties({ cpu: { cpus: '0-1' } }, { systemdVersion: 243 }).props.some((p) => p.name === 'AllowedCPUs'));
  t.throws(() => rangeToBits('3-1', 'f'), { instanceOf: RuntimeError });
  t.throws(() => rangeToBits('x', 'f'), { instanceOf: RuntimeError });
});

test('pids: TasksMax (0 → 1, -1 → infinity), IOWeight from blockIO.weight', (t) => {
  t.is(byName(resourceProperties({ pids: { limit: 10 } }, ctx).props)['TasksMax'], 10n);
  t.is(byName(resourceProperties({ pids: { limit: 0 } }, ctx).props)['TasksMax'], 1n);
  t.is(byName(resourceProperties({ pids: { limit: -1 } }, ctx).props)['TasksMax'], U64_MAX);
  t.is(byName(resourceProperties({ blockIO: { weight: 500 } }, ctx).props)['IOWeight'], 4950n);
  t.deepEqual(resourceProperties({}, ctx).props, []);
  t.deepEqual(resourceProperties(undefined, ctx).props, []);
});

test('unified keys systemd knows become properties; the others stay files only', (t) => {
  const r = resourceProperties({ unified: { 'memory.high': '1000', 'memory.max': 'max', 'pids.max': '7', 'cpu.max': '20000 100000', 'cpu.weight': '30', 'io.max': '8:0 rbps=1' } }, ctx);
  const m = byName(r.props);
  t.is(m['MemoryHigh'], 1000n);
  t.is(m['MemoryMax'], U64_MAX);
  t.is(m['TasksMax'], 7n);
  t.is(m['CPUQuotaPerSecUSec'], 200000n);
  t.is(m['CPUWeight'], 30n);
  t.true(r.notes.some((n) => n.includes('io.max')));
  t.throws(() => resourceProperties({ unified: { 'a/b': '1' } }, ctx), { instanceOf: RuntimeError });
  t.throws(() => resourceProperties({ unified: { 'pids.max': 'lots' } }, ctx), { instanceOf: RuntimeError });
});

test('devices: the default rules become DevicePolicy=strict and DeviceAllow entries', (t) => {
  const majors = parseProcDevices('Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n\nBlock devices:\n  8 sd\n');
  t.is(majors.char.get(136), 'pts');
  t.is(majors.block.get(8), 'sd');
  const props = deviceProperties(effectiveDeviceRules(undefined), { ...ctx, charMajors: majors.char, blockMajors: majors.block });
  const m = byName(props);
  t.is(m['DevicePolicy'], 'strict');
  const allow = m['DeviceAllow'] as Array<[string, string]>;
  t.true(allow.some(([d, a]) => d === '/dev/char/1:3' && a === 'rwm'), JSON.stringify(allow)); // /dev/null
  t.true(allow.some(([d]) => d === 'char-pts'), JSON.stringify(allow)); // 136:* via /proc/devices
  t.true(allow.some(([d, a]) => d === 'char-*' && a === 'm'));
  // allow-all: auto, and an empty list replaces an older one
  const all = byName(deviceProperties(effectiveDeviceRules([{ allow: true, access: 'rwm' }]), ctx));
  t.is(all['DevicePolicy'], 'auto');
  t.deepEqual(all['DeviceAllow'], []);
  // in resourceProperties only when rules are given (update skips devices)
  t.false(resourceProperties({ pids: { limit: 3 } }, ctx).props.some((p) => p.name === 'DevicePolicy'));
  t.true(resourceProperties({}, { ...ctx, deviceRules: effectiveDeviceRules(undefined) }).props.some((p) => p.name === 'DevicePolicy'));
});
