import test from 'ava';
import {
  convertBlkIOToIOWeightValue,
  convertCPUSharesToCgroupV2Value,
  convertMemorySwapToCgroupV2Value,
} from '../../../src/cgroups/convert.js';
import { DeviceEmulator, ruleString } from '../../../src/cgroups/devices.js';
import { mergeResources } from '../../../src/cgroups/manager.js';
import { hugePageSizesFrom, stringifyWithBigInt } from '../../../src/cgroups/stats.js';

test('cpu shares → weight (runc ≥ 1.3.2)', (t) => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [512, 59],
    [1024, 100],
    [2048, 174],
    [262143, 10000],
    [262144, 10000],
    [500000, 10000],
  ];
  for (const [shares, weight] of cases) t.is(convertCPUSharesToCgroupV2Value(shares), weight, `shares ${shares}`);
});

test('blkio weight → io.weight', (t) => {
  t.is(convertBlkIOToIOWeightValue(0), 0);
  t.is(convertBlkIOToIOWeightValue(10), 1);
  t.is(convertBlkIOToIOWeightValue(500), 4950);
  t.is(convertBlkIOToIOWeightValue(1000), 10000);
});

test('memory swap → memory.swap.max', (t) => {
  t.is(convertMemorySwapToCgroupV2Value(0, -1), -1);
  t.is(convertMemorySwapToCgroupV2Value(-1, 100), -1);
  t.is(convertMemorySwapToCgroupV2Value(0, 100), 0);
  t.is(convertMemorySwapToCgroupV2Value(300, -1), 300);
  t.is(convertMemorySwapToCgroupV2Value(300, 100), 200);
  t.is(convertMemorySwapToCgroupV2Value(100, 100), 0);
  t.deepEqual(convertMemorySwapToCgroupV2Value(300, 0), { error: 'unable to set swap limit without memory limit' });
  t.deepEqual(convertMemorySwapToCgroupV2Value(300, -5), { error: 'invalid memory value: -5' });
  t.deepEqual(convertMemorySwapToCgroupV2Value(50, 100), { error: 'memory+swap limit should be >= memory limit' });
});

test('mergeResources: update fields win, others are kept (runc update semantics)', (t) => {
  const old = {
    memory: { limit: 100, swap: 200 },
    cpu: { quota: 50000, period: 100000, cpus: '0-1' },
    pids: { limit: 10 },
    devices: [{ allow: false, access: 'rwm' }],
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '1GB', limit: 2 }],
    unified: { 'memory.high': '1', 'pids.max': '5' },
    rdma: { a: { hcaHandles: 1 } },
    blockIO: {
      weight: 100,
      weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }],
    },
  };
  const merged = mergeResources(old, {
    memory: { limit: 300 },
    cpu: { period: 200000 },
    hugepageLimits: [{ pageSize: '2MB', limit: 9 }],
    unified: { 'memory.high': '2' },
    rdma: { b: { hcaObjects: 3 } },
    devices: [{ allow: true, access: 'rwm' }],
    blockIO: {
      weightDevice: [{ major: 8, minor: 0, weight: 500 }, { major: 8, minor: 16, weight: 50 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 7 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 9 }],
    },
  });
  t.deepEqual(merged, {
    devices: [{ allow: false, access: 'rwm' }], // update never changes device rules (runc SkipDevices)
    memory: { limit: 300, swap: 200 },
    cpu: { quota: 50000, period: 200000, cpus: '0-1' },
    pids: { limit: 10 },
    blockIO: {
      weight: 100,
      // upserted by major:minor (runc upsertWeightDevice / upsertThrottleDevice)
      weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }, { major: 8, minor: 16, weight: 50 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 7 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 9 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 9 }, { pageSize: '1GB', limit: 2 }],
    rdma: { a: { hcaHandles: 1 }, b: { hcaObjects: 3 } },
    unified: { 'memory.high': '2' }, // replaced, as runc assigns r.Unified
  });
  t.deepEqual(old.memory, { limit: 100, swap: 200 }, 'inputs are not mutated');
  t.deepEqual(old.blockIO.weightDevice, [{ major: 8, minor: 0, weight: 200, leafWeight: 300 }]);
  t.deepEqual(mergeResources(undefined, { pids: { limit: 1 } }), { pids: { limit: 1 } });
  t.deepEqual(mergeResources({ pids: { limit: 1 }, unified: { 'pids.max': '3' } }, undefined), { pids: { limit: 1 } });
});

test('device emulator: runc semantics', (t) => {
  // A deny rule cannot punch a hole in a wildcard allow on v1.
  const e = new DeviceEmulator();
  e.apply({ type: 'c', major: 1, minor: -1, access: 'rwm', allow: true });
  t.throws(() => e.apply({ type: 'c', major: 1, minor: 3, access: 'r', allow: false }), { message: /punch a hole/ });
  // Permissions merge and split.
  const f = new DeviceEmulator();
  f.apply({ type: 'c', major: 1, minor: 3, access: 'r', allow: true });
  f.apply({ type: 'c', major: 1, minor: 3, access: 'mw', allow: true });
  t.deepEqual([...f.rules.entries()], [['c:1:3', 7]]);
  f.apply({ type: 'c', major: 1, minor: 3, access: 'w', allow: false });
  t.deepEqual(f.transition(new DeviceEmulator()).map(ruleString), ['c 1:3 rm']);
});

test('huge page size names and bigint JSON', (t) => {
  t.deepEqual(hugePageSizesFrom(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'junk']), ['2MB', '1GB', '64KB']);
  t.is(stringifyWithBigInt({ a: 18446744073709551615n, b: [1n, 'x'], c: 'plain' }), '{"a":18446744073709551615,"b":[1,"x"],"c":"plain"}');
});
