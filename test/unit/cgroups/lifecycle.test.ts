// freeze/thaw, pids, oom counts and stats against the fake cgroupfs.

import * as fs from 'node:fs';
import test from 'ava';
import type { WriteRecord } from '../../../src/cgroups/fsio.js';
import { newCgroupManager } from '../../../src/cgroups/manager.js';
import { stringifyWithBigInt } from '../../../src/cgroups/stats.js';
import { Codes } from '../../../src/errors/codes.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { fakeV1Layout, fakeV2Layout, populateV1, populateV2, rmrf, tempRoot, writeFiles } from './_fake-cgroupfs.js';

function v1(t: { teardown: (f: () => void) => void }, keys: string[], hybrid = false) {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const m = newCgroupManager(fakeV1Layout(root, { keys, hybrid }), { kind: 'absolute', path: '/c1' }, 'c1', {
    log,
    hugePageSizes: ['2MB'],
    verifyDevices: false,
    inUserNamespace: false,
  });
  m.create();
  for (const [key, dir] of Object.entries(m.saved.paths)) if (key !== 'unified') populateV1(dir, key.split(','));
  return { root, m, log };
}

function v2(t: { teardown: (f: () => void) => void }, files: Record<string, string> = {}) {
  const root = tempRoot();
  t.teardown(() => rmrf(root));
  const log: WriteRecord[] = [];
  const m = newCgroupManager(fakeV2Layout(root), { kind: 'absolute', path: '/c1' }, 'c1', { log, hugePageSizes: ['2MB'] });
  m.create();
  const dir = m.saved.paths['unified'] as string;
  populateV2(dir, files);
  log.length = 0;
  return { root, dir, m, log };
}

test('v1 freezer: freeze, frozen, thaw', (t) => {
  const { root, m, log } = v1(t, ['devices', 'freezer']);
  t.false(m.frozen());
  m.freeze();
  t.is(fs.readFileSync(`${root}/freezer/c1/freezer.state`, 'utf8'), 'FROZEN');
  fs.writeFileSync(`${root}/freezer/c1/freezer.self_freezing`, '1\n');
  t.true(m.frozen());
  // Frozen only through an ancestor: not "paused" (fs/freezer.go GetState).
  fs.writeFileSync(`${root}/freezer/c1/freezer.self_freezing`, '0\n');
  t.false(m.frozen());
  m.thaw();
  t.is(fs.readFileSync(`${root}/freezer/c1/freezer.state`, 'utf8'), 'THAWED');
  t.false(m.frozen());
  t.deepEqual(
    log.filter((w) => w.path.endsWith('freezer.state')).map((w) => w.value),
    ['FROZEN', 'THAWED'],
  );
});

test('v1 freeze without a freezer hierarchy is a clear error', (t) => {
  const { m } = v1(t, ['devices']);
  const e = t.throws(() => m.freeze(), { instanceOf: RuntimeError });
  t.is(e?.code, Codes.CgroupFreeze);
  t.false(m.frozen());
  t.notThrows(() => m.thaw());
});

test('v2 freezer: cgroup.freeze and cgroup.events', (t) => {
  const { dir, m } = v2(t, { 'cgroup.events': 'populated 1\nfrozen 1\n' });
  m.freeze();
  t.is(fs.readFileSync(`${dir}/cgroup.freeze`, 'utf8'), '1');
  t.true(m.frozen());
  m.thaw();
  t.is(fs.readFileSync(`${dir}/cgroup.freeze`, 'utf8'), '0');
  t.false(m.frozen());
  fs.rmSync(`${dir}/cgroup.freeze`);
  const e = t.throws(() => m.freeze(), { instanceOf: RuntimeError });
  t.regex(e?.message ?? '', /freezer not supported/);
});

test('pids are collected recursively from every hierarchy', (t) => {
  const { root, m } = v1(t, ['devices', 'pids'], true);
  fs.writeFileSync(`${root}/devices/c1/cgroup.procs`, '11\n12\n');
  fs.writeFileSync(`${root}/pids/c1/cgroup.procs`, '12\n');
  writeFiles(`${root}/pids/c1/sub`, { 'cgroup.procs': '13\n' });
  fs.writeFileSync(`${root}/unified/c1/cgroup.procs`, '11\n');
  t.deepEqual(m.pids(), [11, 12, 13]);
});

test('signalAll uses cgroup.kill for SIGKILL on hybrid and v2', (t) => {
  const h = v1(t, ['devices', 'pids'], true);
  fs.writeFileSync(`${h.root}/unified/c1/cgroup.kill`, '');
  h.m.signalAll(9);
  t.deepEqual(h.log.map((w) => [w.path.slice(h.root.length + 1), w.value]), [['unified/c1/cgroup.kill', '1']]);

  const k = v2(t);
  k.m.signalAll(9);
  t.deepEqual(k.log.map((w) => [w.path.slice(k.dir.length + 1), w.value]), [['cgroup.kill', '1']]);
});

test('signalAll tolerates processes that are already gone', (t) => {
  const { root, m } = v1(t, ['devices', 'pids']);
  // A pid far above pid_max: kill(2) says ESRCH.
  fs.writeFileSync(`${root}/pids/c1/cgroup.procs`, '2147483646\n');
  t.notThrows(() => m.signalAll(15));
});

test('oomKillCount from memory.oom_control (v1) and memory.events (v2)', (t) => {
  const a = v1(t, ['devices', 'memory']);
  fs.writeFileSync(`${a.root}/memory/c1/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
  t.is(a.m.oomKillCount(), 3);
  const b = v2(t, { 'memory.events': 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n' });
  t.is(b.m.oomKillCount(), 2);
});

test('v1 stats in the shape of runc events --stats', (t) => {
  const { root, m } = v1(t, ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'pids', 'blkio', 'hugetlb']);
  const c = (sub: string): string => `${root}/${sub}/c1`;
  writeFiles(c('cpu'), { 'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n' });
  writeFiles(c('cpuacct'), {
    'cpuacct.usage': '3000000000\n',
    'cpuacct.stat': 'user 100\nsystem 50\n',
    'cpuacct.usage_percpu': '2000000000 1000000000 \n',
    'cpuacct.usage_all': 'cpu user system\n0 1500000000 500000000\n1 700000000 300000000\n',
  });
  writeFiles(c('cpuset'), { 'cpuset.cpus': '0-1,3\n', 'cpuset.mems': '0\n', 'cpuset.sched_load_balance': '1\n', 'cpuset.sched_relax_domain_level': '-1\n' });
  writeFiles(c('memory'), {
    'memory.stat': 'cache 1024\nrss 2048\n',
    'memory.usage_in_bytes': '4096\n',
    'memory.max_usage_in_bytes': '8192\n',
    'memory.failcnt': '1\n',
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.usage_in_bytes': '5000\n',
    'memory.memsw.max_usage_in_bytes': '9000\n',
    'memory.memsw.failcnt': '0\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
  });
  writeFiles(c('pids'), { 'pids.current': '3\n', 'pids.max': 'max\n' });
  writeFiles(c('blkio'), {
    'blkio.throttle.io_serviced_recursive': '8:0 Read 10\n8:0 Write 20\nTotal 30\n',
    'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n',
  });
  writeFiles(c('hugetlb'), {
    'hugetlb.2MB.usage_in_bytes': '2097152\n',
    'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
    'hugetlb.2MB.failcnt': '0\n',
  });
  const s = m.stats();
  t.deepEqual(s.cpu, {
    usage: {
      total: 3000000000n,
      percpu: [2000000000n, 1000000000n],
      percpu_kernel: [500000000n, 300000000n],
      percpu_user: [1500000000n, 700000000n],
      kernel: 500000000n, // 50 ticks at USER_HZ 100
      user: 1000000000n,
    },
    throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n },
  });
  t.deepEqual(s.cpuset.cpus, [0, 1, 3]);
  t.deepEqual(s.cpuset.mems, [0]);
  t.is(s.cpuset.sched_relax_domain_level, -1);
  t.is(s.cpuset.sched_load_balance, 1n);
  t.deepEqual(s.memory.usage, { limit: 9223372036854771712n, usage: 4096n, max: 8192n, failcnt: 1n });
  t.deepEqual(s.memory.swap, { limit: 9223372036854771712n, usage: 5000n, max: 9000n, failcnt: 0n });
  t.deepEqual(s.memory.kernel, { limit: 0n, failcnt: 0n });
  t.is(s.memory.cache, 1024n);
  t.deepEqual(s.memory.raw, { cache: 1024n, rss: 2048n });
  t.deepEqual(s.pids, { current: 3n });
  t.deepEqual(s.blkio, {
    ioServicedRecursive: [
      { major: 8n, op: 'Read', value: 10n },
      { major: 8n, op: 'Write', value: 20n },
    ],
    ioServiceBytesRecursive: [{ major: 8n, op: 'Read', value: 4096n }, { major: 8n, op: 'Write' }],
  });
  t.deepEqual(s.hugetlb, { '2MB': { failcnt: 0n, usage: 2097152n, max: 4194304n } });
  // Exact integers in the JSON, no precision loss.
  t.regex(stringifyWithBigInt(s.memory.usage), /"limit":9223372036854771712/);
});

test('v2 stats: usage in ns, swap reported as memory+swap, "max" kept exact', (t) => {
  const { m } = v2(t, {
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    'cpu.pressure': 'some avg10=0.50 avg60=0.10 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    'memory.stat': 'anon 100\nfile 200\n',
    'memory.current': '300\n',
    'memory.max': 'max\n',
    'memory.peak': '500\n',
    'memory.swap.current': '10\n',
    'memory.swap.max': 'max\n',
    'pids.current': '2\n',
    'pids.max': '50\n',
    'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'hugetlb.2MB.current': '0\n',
    'hugetlb.2MB.events': 'max 3\n',
  });
  const s = m.stats();
  t.deepEqual(s.cpu.usage, { total: 1500000n, user: 1000000n, kernel: 500000n });
  t.deepEqual(s.cpu.throttling, { periods: 4n, throttledPeriods: 1n, throttledTime: 20000n });
  t.is(s.cpu.psi?.some?.total, 1234n);
  t.is(s.cpu.psi?.some?.avg10, 0.5);
  t.deepEqual(s.memory.usage, { limit: 18446744073709551615n, usage: 300n, max: 500n, failcnt: 0n });
  t.deepEqual(s.memory.swap, { limit: 18446744073709551615n, usage: 310n, failcnt: 0n });
  t.is(s.memory.cache, 200n);
  t.deepEqual(s.pids, { current: 2n, limit: 50n });
  t.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 8n, op: 'Read', value: 4096n },
    { major: 8n, op: 'Write', value: 8192n },
  ]);
  t.deepEqual(s.blkio.ioServicedRecursive, [
    { major: 8n, op: 'Read', value: 1n },
    { major: 8n, op: 'Write', value: 2n },
  ]);
  t.deepEqual(s.hugetlb, { '2MB': { failcnt: 3n } });
  const json = stringifyWithBigInt({ type: 'stats', id: 'c1', data: { ...s, intel_rdt: {}, network_interfaces: null } });
  t.regex(json, /"limit":18446744073709551615/);
  t.notThrows(() => JSON.parse(json));
});
