// update's input (runc flags and the LinuxResources document), events'
// --interval, and the shared-cgroup rules.

import test from 'ava';
import { killsAllOnDestroy } from '../../../src/cgroups/ownership.js';
import { parseResourcesDoc, ramInBytes, resourcesFromFlags } from '../../../src/cgroups/update-doc.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { parseGoDuration } from '../../../src/runtime/events.js';

test('sizes as docker/go-units RAMInBytes reads them', (t) => {
  t.is(ramInBytes('100'), 100);
  t.is(ramInBytes('512m'), 512 * 1024 * 1024);
  t.is(ramInBytes('512M'), 512 * 1024 * 1024);
  t.is(ramInBytes('1g'), 1024 ** 3);
  t.is(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  t.is(ramInBytes('2 GiB'), 2 * 1024 ** 3);
  t.is(ramInBytes('64kb'), 65536);
  t.is(ramInBytes('1t'), 1024 ** 4);
  for (const bad of ['', 'm', '-5', '1x', '1.2.3g', '12 34']) t.is(ramInBytes(bad), undefined, bad);
});

test('flags map to LinuxResources like runc update.go', (t) => {
  t.deepEqual(resourcesFromFlags({}), {});
  t.deepEqual(
    resourcesFromFlags({
      memory: '512m',
      'memory-swap': '-1',
      'memory-reservation': '256m',
      'cpu-share': '512',
      'cpu-quota': '-1',
      'cpu-period': '100000',
      'cpu-burst': '1000',
      'cpu-rt-period': '1000000',
      'cpu-rt-runtime': '0',
      'cpuset-cpus': '0',
      'cpuset-mems': '0',
      'cpu-idle': '1',
      'pids-limit': 0,
      'blkio-weight': 300,
    }),
    {
      blockIO: { weight: 300 },
      cpu: { cpus: '0', mems: '0', idle: 1, burst: 1000, period: 100000, realtimePeriod: 1000000, shares: 512, quota: -1, realtimeRuntime: 0 },
      memory: { limit: 536870912, swap: -1, reservation: 268435456 },
      pids: { limit: 0 },
    },
  );
  // --blkio-weight 0 means "not given" (runc: if val != 0)
  t.deepEqual(resourcesFromFlags({ 'blkio-weight': 0 }), {});
  const e = t.throws(() => resourcesFromFlags({ 'cpu-share': '-5' }), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.BadFlagValue);
  t.regex(e?.message ?? '', /--cpu-share/);
  t.throws(() => resourcesFromFlags({ memory: 'lots' }), { message: /invalid value "lots" for --memory/ });
  t.throws(() => resourcesFromFlags({ 'cpu-quota': '99999999999999999999' }), { message: /out of range/ });
});

test('the resources document: typed, unknown members ignored, nulls dropped', (t) => {
  t.deepEqual(parseResourcesDoc('{"memory":{"limit":1048576,"swap":null},"cpu":{"cpus":"0"},"whatever":1}', 'x.json'), {
    memory: { limit: 1048576 },
    cpu: { cpus: '0' },
    whatever: 1,
  } as never);
  const e = t.throws(() => parseResourcesDoc('{"memory":{"limit":"1g"}}', 'x.json'), { instanceOf: RuntimeError });
  t.is(e?.field, '/memory/limit');
  t.regex(e?.message ?? '', /invalid resources document x\.json: \/memory\/limit must be an integer/);
  t.throws(() => parseResourcesDoc('{"cpu":{"shares":-1}}', 'x'), { message: /\/cpu\/shares must be a non-negative integer/ });
  t.throws(() => parseResourcesDoc('{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0}]}}', 'x'), { message: /rate/ });
  t.throws(() => parseResourcesDoc('{"unified":{"memory.high":5}}', 'x'), { message: /\/unified\/memory\.high must be a string/ });
  t.throws(() => parseResourcesDoc('[1]', 'x'), { message: /must be a JSON object/ });
  t.throws(() => parseResourcesDoc('{', 'x'), { message: /invalid resources document x/ });
});

test('--interval takes Go durations', (t) => {
  t.is(parseGoDuration('5s'), 5000);
  t.is(parseGoDuration('100ms'), 100);
  t.is(parseGoDuration('1m30s'), 90_000);
  t.is(parseGoDuration('1.5s'), 1500);
  t.is(parseGoDuration('0'), 0);
  t.is(parseGoDuration('-1s'), -1000);
  t.is(parseGoDuration('2h'), 7_200_000);
  for (const bad of ['', '5', 's', '5x', '1s5']) t.is(parseGoDuration(bad), undefined, bad);
});

test('delete kills the whole cgroup only without a pid namespace of its own (runc destroy)', (t) => {
  t.false(killsAllOnDestroy({ ociVersion: '1.0.0', linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } }));
  t.true(killsAllOnDestroy({ ociVersion: '1.0.0', linux: { namespaces: [{ type: 'mount' }] } }));
  t.true(killsAllOnDestroy({ ociVersion: '1.0.0', linux: { namespaces: [{ type: 'pid', path: '/proc/1/ns/pid' }] } }));
  t.true(killsAllOnDestroy(undefined));
});
