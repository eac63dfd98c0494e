// linux.resources in the kernel's files after `create` and after `update`
// (flags, -r FILE, -r - on stdin), on this host's layout (v1 hybrid here, v2
// in the guest of test/v2/run-in-guest.sh); errors for what the host cannot
// apply, leaving nothing behind.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { convertBlkIOToIOWeightValue, convertCPUSharesToCgroupV2Value } from '../../src/cgroups/convert.js';
import { BPF_CGROUP_DEVICE, progQuery } from '../../src/sys/bpf.js';
import type { Resources } from '../../src/spec/types.js';
import { createSleeping, isRoot, setup, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';
import { cgDir, cgDirs, hasCgFile, isV2, layout, readCg, someBlockDevice, storedResources } from './cgroups-common.js';

const t = isRoot ? test : test.skip;
const MiB = 1024 * 1024;
const dev = someBlockDevice();

function resources(): Resources {
  const r: Resources = {
    memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB },
    cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 42 },
    blockIO: { weight: 300 },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ],
  };
  if (!isV2) r.memory!.swappiness = 30;
  if (dev) {
    r.blockIO!.throttleReadBpsDevice = [{ ...dev, rate: MiB }];
    r.blockIO!.throttleWriteIOPSDevice = [{ ...dev, rate: 100 }];
  }
  return r;
}

// blkio.weight (CFQ) or blkio.bfq.weight (BFQ); v2: io.weight or io.bfq.weight
function weightFile(env: ReturnType<typeof setup>, id: string): string | undefined {
  for (const f of isV2 ? ['io.bfq.weight', 'io.weight'] : ['blkio.weight', 'blkio.bfq.weight']) if (hasCgFile(env, id, isV2 ? 'io' : 'blkio', f)) return f;
  return undefined;
}

t('create writes every resource to its file; update changes them and state.json', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const r = resources();
  const { pid } = createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = r;
  }, id);
  tt.true(pid > 0);
  const wf = weightFile(env, id);
  tt.log(`layout ${layout.mode}; weight file: ${wf ?? 'none (no CFQ/BFQ weights: not checked)'}; throttled device: ${dev ? `${dev.major}:${dev.minor}` : 'none (throttles not checked)'}`);
  if (isV2) {
    tt.is(readCg(env, id, 'memory', 'memory.max'), String(64 * MiB));
    tt.is(readCg(env, id, 'memory', 'memory.low'), String(32 * MiB));
    if (hasCgFile(env, id, 'memory', 'memory.swap.max')) tt.is(readCg(env, id, 'memory', 'memory.swap.max'), String(64 * MiB), 'memory+swap minus memory');
    tt.is(readCg(env, id, 'cpu', 'cpu.weight'), String(convertCPUSharesToCgroupV2Value(512)));
    tt.is(readCg(env, id, 'cpu', 'cpu.max'), '20000 100000');
    tt.is(readCg(env, id, 'cpuset', 'cpuset.cpus'), '0');
    tt.is(readCg(env, id, 'cpuset', 'cpuset.mems'), '0');
    tt.is(readCg(env, id, 'pids', 'pids.max'), '42');
    if (wf === 'io.weight') tt.is(readCg(env, id, 'io', wf), `default ${convertBlkIOToIOWeightValue(300)}`);
    if (wf === 'io.bfq.weight') tt.is(readCg(env, id, 'io', wf), 'default 300');
    if (dev) tt.regex(readCg(env, id, 'io', 'io.max'), new RegExp(`^${dev.major}:${dev.minor} rbps=${MiB} wbps=max riops=max wiops=100$`, 'm'));
    // devices: one eBPF program on the container's cgroup
    const fd = fs.openSync(cgDir(env, id, 'unified'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      tt.is(progQuery(fd, BPF_CGROUP_DEVICE).length, 1);
    } finally {
      fs.closeSync(fd);
    }
  } else {
    tt.is(readCg(env, id, 'memory', 'memory.limit_in_bytes'), String(64 * MiB));
    tt.is(readCg(env, id, 'memory', 'memory.soft_limit_in_bytes'), String(32 * MiB));
    if (hasCgFile(env, id, 'memory', 'memory.memsw.limit_in_bytes')) tt.is(readCg(env, id, 'memory', 'memory.memsw.limit_in_bytes'), String(128 * MiB));
    tt.is(readCg(env, id, 'memory', 'memory.swappiness'), '30');
    tt.is(readCg(env, id, 'cpu', 'cpu.shares'), '512');
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_quota_us'), '20000');
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_period_us'), '100000');
    tt.is(readCg(env, id, 'cpuset', 'cpuset.cpus'), '0');
    tt.is(readCg(env, id, 'cpuset', 'cpuset.mems'), '0');
    tt.is(readCg(env, id, 'pids', 'pids.max'), '42');
    if (wf) tt.is(readCg(env, id, 'blkio', wf), '300');
    if (dev) {
      tt.is(readCg(env, id, 'blkio', 'blkio.throttle.read_bps_device'), `${dev.major}:${dev.minor} ${MiB}`);
      tt.is(readCg(env, id, 'blkio', 'blkio.throttle.write_iops_device'), `${dev.major}:${dev.minor} 100`);
    }
    const list = readCg(env, id, 'devices', 'devices.list').split('\n');
    tt.true(list.includes('c 10:229 rw'), list.join(', '));
    tt.true(list.includes('c 1:3 rwm'), 'runc default rules follow the spec rules');
    tt.false(list.includes('a *:* rwm'));
  }
  tt.is(readCg(env, id, 'pids', 'cgroup.procs'), String(pid));

  // update with runc's flags
  const u = env.runt(['update', '--memory', '96m', '--memory-reservation', '48m', '--memory-swap', '192m', '--cpu-share', '1024', '--cpu-quota', '30000', '--cpu-period', '200000', '--pids-limit', '7', '--blkio-weight', '500', id]);
  tt.is(u.status, 0, u.stderr);
  if (isV2) {
    tt.is(readCg(env, id, 'memory', 'memory.max'), String(96 * MiB));
    tt.is(readCg(env, id, 'memory', 'memory.low'), String(48 * MiB));
    tt.is(readCg(env, id, 'cpu', 'cpu.weight'), '100');
    tt.is(readCg(env, id, 'cpu', 'cpu.max'), '30000 200000');
    if (wf === 'io.weight') tt.is(readCg(env, id, 'io', wf), `default ${convertBlkIOToIOWeightValue(500)}`);
  } else {
    tt.is(readCg(env, id, 'memory', 'memory.limit_in_bytes'), String(96 * MiB));
    tt.is(readCg(env, id, 'memory', 'memory.soft_limit_in_bytes'), String(48 * MiB));
    if (hasCgFile(env, id, 'memory', 'memory.memsw.limit_in_bytes')) tt.is(readCg(env, id, 'memory', 'memory.memsw.limit_in_bytes'), String(192 * MiB));
    tt.is(readCg(env, id, 'cpu', 'cpu.shares'), '1024');
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_quota_us'), '30000');
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_period_us'), '200000');
    if (wf) tt.is(readCg(env, id, 'blkio', wf), '500');
    // update leaves the device rules alone (runc SkipDevices)
    tt.true(readCg(env, id, 'devices', 'devices.list').split('\n').includes('c 10:229 rw'));
  }
  tt.is(readCg(env, id, 'pids', 'pids.max'), '7');
  const stored = storedResources(env, id) as Resources;
  tt.is(stored.memory?.limit, 96 * MiB);
  tt.is(stored.cpu?.shares, 1024);
  tt.is(stored.cpu?.cpus, '0', 'values the update did not mention are kept');
  tt.is(stored.pids?.limit, 7);
  tt.deepEqual(stored.devices, r.devices);

  // -r FILE: quota alone keeps the period (runc: "leave the unset parameter at the old value")
  const doc = path.join(env.tmp, 'resources.json');
  fs.writeFileSync(doc, JSON.stringify({ memory: { limit: 128 * MiB, swap: 256 * MiB }, cpu: { quota: 10000 } }));
  const f = env.runt(['update', '-r', doc, id]);
  tt.is(f.status, 0, f.stderr);
  tt.is(readCg(env, id, 'memory', isV2 ? 'memory.max' : 'memory.limit_in_bytes'), String(128 * MiB));
  if (isV2) tt.is(readCg(env, id, 'cpu', 'cpu.max'), '10000 200000');
  else {
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_quota_us'), '10000');
    tt.is(readCg(env, id, 'cpu', 'cpu.cfs_period_us'), '200000');
  }

  // --resources - (containerd's shim): the document wins, other flags are ignored
  const s = env.runt(['update', '--resources', '-', '--pids-limit', '99', id], { input: JSON.stringify({ pids: { limit: 11 } }) });
  tt.is(s.status, 0, s.stderr);
  tt.is(readCg(env, id, 'pids', 'pids.max'), '11');
  tt.is((storedResources(env, id) as Resources).pids?.limit, 11);
  tt.is(stateOf(env, id).status, 'created', 'update of a created container keeps it created');
});

t('cpu burst, idle and real-time settings', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const rt = !isV2 && fs.existsSync(path.join(layout.v1.find((h) => h.controllers.includes('cpu'))?.mountpoint ?? '/nonexistent', 'cpu.rt_runtime_us'));
  createSleeping(env, (s) => {
    // real-time runtime must come from the parent: a direct child of the root
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { cpu: { quota: 20000, period: 100000, burst: 1000, ...(rt ? { realtimePeriod: 1000000, realtimeRuntime: 10000 } : {}) } };
  }, id);
  const burstFile = isV2 ? 'cpu.max.burst' : 'cpu.cfs_burst_us';
  if (hasCgFile(env, id, 'cpu', burstFile)) tt.is(readCg(env, id, 'cpu', burstFile), '1000');
  if (rt) {
    tt.is(readCg(env, id, 'cpu', 'cpu.rt_period_us'), '1000000');
    tt.is(readCg(env, id, 'cpu', 'cpu.rt_runtime_us'), '10000');
    const u = env.runt(['update', '--cpu-rt-runtime', '20000', id]);
    tt.is(u.status, 0, u.stderr);
    tt.is(readCg(env, id, 'cpu', 'cpu.rt_runtime_us'), '20000');
  }
  if (hasCgFile(env, id, 'cpu', 'cpu.idle')) {
    // runc drops the shares when only idle is given (cpu.weight is EINVAL while idle)
    const u = env.runt(['update', '--cpu-idle', '1', id]);
    tt.is(u.status, 0, u.stderr);
    tt.is(readCg(env, id, 'cpu', 'cpu.idle'), '1');
    const b = env.runt(['update', '--cpu-idle', '0', '--cpu-shares', '256', id]); // docker's spelling of --cpu-share
    tt.is(b.status, 0, b.stderr);
    tt.is(readCg(env, id, 'cpu', 'cpu.idle'), '0');
    tt.is(readCg(env, id, 'cpu', isV2 ? 'cpu.weight' : 'cpu.shares'), isV2 ? String(convertCPUSharesToCgroupV2Value(256)) : '256');
  }
});

t('update errors are one clear line and change nothing', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { pids: { limit: 20 } };
  }, id);
  const bad = env.runt(['update', '--memory', 'lots', '--pids-limit', '5', id]);
  tt.is(bad.status, 1);
  tt.regex(bad.stderr, /^runt: invalid value "lots" for --memory: not a size .*\[RUNT1005\]/m);
  tt.is(readCg(env, id, 'pids', 'pids.max'), '20');

  const doc = env.runt(['update', '-r', '-', id], { input: '{"memory":{"limit":"1g"}}' });
  tt.is(doc.status, 1);
  tt.regex(doc.stderr, /invalid resources document from standard input: \/memory\/limit must be an integer/);

  const rdt = env.runt(['update', '--l3-cache-schema', 'L3:0=f', id]);
  tt.is(rdt.status, 1);
  tt.regex(rdt.stderr, /intel rdt\/cat: l3 cache schema is not enabled|intel rdt .* is not supported/);

  const none = env.runt(['update', '--pids-limit', '5', 'no-such-container']);
  tt.is(none.status, 1);
  tt.regex(none.stderr, /container "no-such-container" does not exist \[RUNT3001\]/);

  // a stopped container cannot be updated
  const id2 = uniqueId();
  const b = env.bundle((s) => {
    s.process!.args = ['true'];
    s.linux!.cgroupsPath = `/${id2}`;
  });
  tt.is(env.runt(['create', '--bundle', b, id2]).status, 0);
  tt.is(env.runt(['start', id2]).status, 0);
  tt.is(waitStatus(env, id2, 'stopped'), 'stopped');
  const st = env.runt(['update', '--pids-limit', '5', id2]);
  tt.is(st.status, 1);
  tt.regex(st.stderr, /cannot update container "[^"]+": it is stopped \[RUNT3003\]/);
});

function nothingLeft(tt: { false: (v: boolean, m?: string) => void }, env: ReturnType<typeof setup>, id: string, cgPath: string): void {
  tt.false(fs.existsSync(path.join(env.root, id)), 'no state dir');
  for (const h of layout.v1) tt.false(fs.existsSync(h.mountpoint + cgPath), `${h.mountpoint}${cgPath}`);
  if (layout.unified) tt.false(fs.existsSync(layout.unified.mountpoint + cgPath), 'unified');
}

t('linux.resources.unified: refused on cgroup v1 with a clear error, applied on v2', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '100'];
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { unified: { 'pids.max': '9' } };
  });
  const r = env.runt(['create', '--bundle', b, id]);
  if (isV2) {
    tt.is(r.status, 0, r.stderr);
    tt.is(readCg(env, id, 'pids', 'pids.max'), '9');
    return;
  }
  tt.is(r.status, 1);
  tt.regex(r.stderr, /^runt: cannot apply \/linux\/resources\/unified: unified resources need cgroup v2, this host (is cgroup v1 hybrid|uses cgroup v1).*\[RUNT5004\]/m);
  nothingLeft(tt, env, id, `/${id}`);
});

t('a controller the host lacks: the error names the resource and the file, nothing is left', (tt) => {
  const env = setup(tt);
  // hugetlb and net_cls have no v1 hierarchy here; on v2 hugetlb exists and net_cls is v1-only (a warning)
  const hugetlbV1 = layout.v1.some((h) => h.controllers.includes('hugetlb'));
  const netClsV1 = layout.v1.some((h) => h.controllers.includes('net_cls'));
  if (!isV2 && !hugetlbV1) {
    const id = uniqueId();
    const b = env.bundle((s) => {
      s.linux!.cgroupsPath = `/${id}`;
      s.linux!.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] };
    });
    const r = env.runt(['create', '--bundle', b, id]);
    tt.is(r.status, 1);
    tt.regex(r.stderr, /^runt: cannot apply \/linux\/resources\/hugepageLimits\/0: the hugetlb cgroup controller is not mounted on this host, so there is no hugetlb\.2MB\.limit_in_bytes to write \[RUNT5004\]/m);
    nothingLeft(tt, env, id, `/${id}`);
  }
  if (!isV2 && !netClsV1) {
    const id = uniqueId();
    const b = env.bundle((s) => {
      s.linux!.cgroupsPath = `/${id}`;
      s.linux!.resources = { network: { classID: 0x100001 } };
    });
    const r = env.runt(['create', '--bundle', b, id]);
    tt.is(r.status, 1);
    tt.regex(r.stderr, /cannot apply \/linux\/resources\/network\/classID: the net_cls cgroup controller is not mounted .*net_cls\.classid/);
    nothingLeft(tt, env, id, `/${id}`);
  }
  if (isV2) {
    const id = uniqueId();
    createSleeping(env, (s) => {
      s.linux!.cgroupsPath = `/${id}`;
      s.linux!.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }], network: { classID: 1 } };
    }, id);
    tt.is(readCg(env, id, 'hugetlb', 'hugetlb.2MB.max'), String(4 * MiB));
  }
  tt.pass();
});

t('the cgroup of every hierarchy is removed by delete', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = resources();
  }, id);
  const dirs = cgDirs(env, id);
  tt.true(dirs.length >= (isV2 ? 1 : 5));
  for (const d of dirs) tt.true(fs.existsSync(d));
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
});
