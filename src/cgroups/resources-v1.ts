// linux.resources → cgroup v1 files, one function per controller, following
// opencontainers/cgroups fs/*.go (runc's cgroupfs driver). Each function gets
// the controller's directory (undefined when the hierarchy is not mounted)
// and throws a RuntimeError naming the config field and the file on failure.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Resources, ThrottleDevice } from '../spec/types.js';
import { type DeviceRule, applyDevicesV1 } from './devices.js';
import { type CgroupFiles, formatInt, writeError } from './fsio.js';

const R = '/linux/resources';

// The directory of a controller, or an error naming the config field and the
// file it would have been written to (runc: "cannot set <x> limit: container
// could not join or create cgroup").
export function need(dir: string | undefined, controller: string, field: string, file: string): string {
  if (dir !== undefined) return dir;
  throw new RuntimeError(Codes.CgroupResource, `cannot apply ${field}: the ${controller} cgroup controller is not mounted on this host, so there is no ${file} to write`, {
    field,
    hint: `mount the cgroup v1 ${controller} controller (e.g. on /sys/fs/cgroup/${controller}) or remove ${field} from config.json`,
  });
}

// ---- memory (fs/memory.go) -------------------------------------------------

const MEMORY_FILES: Record<string, string> = {
  limit: 'memory.limit_in_bytes',
  swap: 'memory.memsw.limit_in_bytes',
  reservation: 'memory.soft_limit_in_bytes',
  swappiness: 'memory.swappiness',
  disableOOMKiller: 'memory.oom_control',
  useHierarchy: 'memory.use_hierarchy',
};

export function setMemoryV1(io: CgroupFiles, dir: string | undefined, r: Resources, warnings: string[]): void {
  const m = r.memory;
  if (!m) return;
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    // runc specconv: "Kernel memory settings are ignored and will be removed".
    warnings.push('kernel memory settings (linux.resources.memory.kernel, kernelTCP) are ignored: the kernel deprecated kmem limits');
  }
  let limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const reservation = m.reservation ?? 0;
  const swappiness = m.swappiness;
  const setSwappiness = swappiness !== undefined && swappiness !== -1;
  if (limit === 0 && swap === 0 && reservation === 0 && !setSwappiness && !m.disableOOMKiller && m.useHierarchy === undefined) return;
  const first =
    limit !== 0 ? 'limit' : swap !== 0 ? 'swap' : reservation !== 0 ? 'reservation' : setSwappiness ? 'swappiness' : m.disableOOMKiller ? 'disableOOMKiller' : 'useHierarchy';
  const d = need(dir, 'memory', `${R}/memory/${first}`, MEMORY_FILES[first] ?? 'memory.*');
  const fLimit = `${R}/memory/limit`;
  const fSwap = `${R}/memory/swap`;
  const memsw = 'memory.memsw.limit_in_bytes';

  const writeLimit = (): void => {
    if (limit === 0) return;
    const v = formatInt(limit, fLimit);
    const errno = io.tryWrite(d, 'memory.limit_in_bytes', v, fLimit);
    if (errno === undefined) return;
    if (errno === 'EBUSY') {
      // The kernel refuses a limit below current usage; say so.
      const usage = io.readOptional(d, 'memory.usage_in_bytes')?.trim() ?? '?';
      const peak = io.readOptional(d, 'memory.max_usage_in_bytes')?.trim() ?? '?';
      throw new RuntimeError(Codes.CgroupResource, `unable to set memory limit to ${v} (current usage: ${usage}, peak usage: ${peak})`, {
        field: fLimit,
        path: `${d}/memory.limit_in_bytes`,
        errno,
        syscall: 'write',
      });
    }
    throw writeError(d, 'memory.limit_in_bytes', v, errno, { field: fLimit });
  };
  const writeSwap = (): void => {
    if (swap === 0) return;
    io.write(d, memsw, formatInt(swap, fSwap), {
      field: fSwap,
      hint: 'swap limits need swap accounting (boot with swapaccount=1 / CONFIG_MEMCG_SWAP)',
    });
  };

  // fs/memory.go setMemoryAndSwap.
  if (limit === -1 && swap === 0 && io.exists(d, memsw)) swap = -1;
  let done = false;
  if (limit !== 0 && swap !== 0) {
    const cur = io.readU64(d, 'memory.limit_in_bytes', { field: fLimit });
    // Growing: memsw must be raised before the memory limit, or the kernel
    // rejects memory > memsw with EINVAL; shrinking is the reverse.
    if (swap === -1 || cur < BigInt(swap)) {
      writeSwap();
      writeLimit();
      done = true;
    }
  }
  if (!done) {
    writeLimit();
    writeSwap();
  }

  if (reservation !== 0) {
    const f = `${R}/memory/reservation`;
    io.write(d, 'memory.soft_limit_in_bytes', formatInt(reservation, f), { field: f });
  }
  if (m.disableOOMKiller) {
    const f = `${R}/memory/disableOOMKiller`;
    io.write(d, 'memory.oom_control', '1', { field: f });
  }
  if (setSwappiness && swappiness !== undefined) {
    const f = `${R}/memory/swappiness`;
    if (swappiness < 0 || swappiness > 100) {
      throw new RuntimeError(Codes.CgroupResource, `invalid memory swappiness value: ${swappiness} (valid range is 0-100)`, { field: f });
    }
    io.write(d, 'memory.swappiness', formatInt(swappiness, f), { field: f });
  }
  if (m.useHierarchy !== undefined) {
    // runc ignores useHierarchy; crun writes it. Since Linux 6.x the knob is
    // deprecated: "1" is a no-op and "0" is refused with EINVAL (the memory
    // controller is always hierarchical), which we report as a warning.
    const f = `${R}/memory/useHierarchy`;
    const v = m.useHierarchy ? '1' : '0';
    const errno = io.tryWrite(d, 'memory.use_hierarchy', v, f);
    if (errno === 'EINVAL' && !m.useHierarchy) {
      warnings.push('linux.resources.memory.useHierarchy=false is not supported by this kernel (memory accounting is always hierarchical); ignored');
    } else if (errno !== undefined) {
      throw writeError(d, 'memory.use_hierarchy', v, errno, { field: f });
    }
  }
}

// ---- cpu (fs/cpu.go) ---------------------------------------------------------

const CPU_FILES: Record<string, string> = {
  shares: 'cpu.shares',
  period: 'cpu.cfs_period_us',
  quota: 'cpu.cfs_quota_us',
  burst: 'cpu.cfs_burst_us',
  idle: 'cpu.idle',
  realtimePeriod: 'cpu.rt_period_us',
  realtimeRuntime: 'cpu.rt_runtime_us',
};

export function setCpuV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  const shares = c.shares ?? 0;
  const period = c.period ?? 0;
  const quota = c.quota ?? 0;
  const rtPeriod = c.realtimePeriod ?? 0;
  const rtRuntime = c.realtimeRuntime ?? 0;
  if (shares === 0 && period === 0 && quota === 0 && c.burst === undefined && c.idle === undefined && rtPeriod === 0 && rtRuntime === 0) return;
  const first =
    shares !== 0 ? 'shares' : period !== 0 ? 'period' : quota !== 0 ? 'quota' : c.burst !== undefined ? 'burst' : c.idle !== undefined ? 'idle' : rtPeriod !== 0 ? 'realtimePeriod' : 'realtimeRuntime';
  const d = need(dir, 'cpu', `${R}/cpu/${first}`, CPU_FILES[first] ?? 'cpu.*');
  const fIdle = `${R}/cpu/idle`;
  // The kernel refuses cpu.shares while cpu.idle is 1 (EINVAL), so leaving
  // SCHED_IDLE comes first (runc writes idle last and fails there).
  const idleFirst = c.idle === 0;
  if (idleFirst) io.write(d, 'cpu.idle', '0', { field: fIdle });

  if (shares !== 0) {
    const f = `${R}/cpu/shares`;
    io.write(d, 'cpu.shares', formatInt(shares, f), { field: f });
    // The kernel clamps out-of-range shares silently; read back and refuse.
    const got = io.readU64(d, 'cpu.shares', { field: f });
    if (BigInt(shares) > got) {
      throw new RuntimeError(Codes.CgroupResource, `the maximum allowed cpu-shares is ${got}`, { field: f, path: `${d}/cpu.shares` });
    }
    if (BigInt(shares) < got) {
      throw new RuntimeError(Codes.CgroupResource, `the minimum allowed cpu-shares is ${got}`, { field: f, path: `${d}/cpu.shares` });
    }
  }

  const fPeriod = `${R}/cpu/period`;
  const fQuota = `${R}/cpu/quota`;
  const fBurst = `${R}/cpu/burst`;
  let pendingPeriod: string | undefined;
  if (period !== 0) {
    const v = formatInt(period, fPeriod);
    const errno = io.tryWrite(d, 'cpu.cfs_period_us', v, fPeriod);
    // A smaller period can be refused (EINVAL) because old_quota/new_period
    // exceeds the parent's limit; retry after the quota is written.
    if (errno !== undefined) {
      if (errno !== 'EINVAL' || quota === 0) throw writeError(d, 'cpu.cfs_period_us', v, errno, { field: fPeriod });
      pendingPeriod = v;
    }
  }
  let pendingBurst: string | undefined;
  if (c.burst !== undefined) {
    const v = formatInt(c.burst, fBurst);
    const errno = io.tryWrite(d, 'cpu.cfs_burst_us', v, fBurst);
    if (errno !== undefined && errno !== 'ENOENT') {
      // ENOENT: kernel without CPU burst (< 5.14), ignored like runc.
      if (errno !== 'EINVAL' || quota === 0) throw writeError(d, 'cpu.cfs_burst_us', v, errno, { field: fBurst });
      pendingBurst = v;
    }
  }
  if (quota !== 0) {
    io.write(d, 'cpu.cfs_quota_us', formatInt(quota, fQuota), { field: fQuota });
    if (pendingPeriod !== undefined) io.write(d, 'cpu.cfs_period_us', pendingPeriod, { field: fPeriod });
    if (pendingBurst !== undefined) io.write(d, 'cpu.cfs_burst_us', pendingBurst, { field: fBurst });
  }
  if (c.idle !== undefined && !idleFirst) io.write(d, 'cpu.idle', formatInt(c.idle, fIdle), { field: fIdle });
  setRtSchedV1(io, d, rtPeriod, rtRuntime);
}

// fs/cpu.go SetRtSched: when both change, write first whichever keeps the
// intermediate runtime/period ratio within the parent's limit.
function setRtSchedV1(io: CgroupFiles, d: string, period: number, runtime: number): void {
  const fP = `${R}/cpu/realtimePeriod`;
  const fR = `${R}/cpu/realtimeRuntime`;
  const hint = 'real-time group scheduling needs CONFIG_RT_GROUP_SCHED and enough cpu.rt_runtime_us in every parent cgroup';
  if (period === 0 && runtime === 0) return;
  if (runtime === 0) {
    io.write(d, 'cpu.rt_period_us', formatInt(period, fP), { field: fP, hint });
    return;
  }
  if (period === 0) {
    io.write(d, 'cpu.rt_runtime_us', formatInt(runtime, fR), { field: fR, hint });
    return;
  }
  const oldPeriod = BigInt(io.read(d, 'cpu.rt_period_us', { field: fP, hint }).trim());
  const oldRuntime = BigInt(io.read(d, 'cpu.rt_runtime_us', { field: fR, hint }).trim());
  // uint64(oldRuntime*oldPeriod) < uint64(runtime)*period, with Go's wrap-around.
  const lhs = BigInt.asUintN(64, oldRuntime * oldPeriod);
  const rhs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt(runtime)) * BigInt(period));
  if (lhs < rhs) {
    io.write(d, 'cpu.rt_period_us', formatInt(period, fP), { field: fP, hint });
    io.write(d, 'cpu.rt_runtime_us', formatInt(runtime, fR), { field: fR, hint });
  } else {
    io.write(d, 'cpu.rt_runtime_us', formatInt(runtime, fR), { field: fR, hint });
    io.write(d, 'cpu.rt_period_us', formatInt(period, fP), { field: fP, hint });
  }
}

// ---- cpuset (fs/cpuset.go) ---------------------------------------------------

export function setCpusetV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const cpus = r.cpu?.cpus ?? '';
  const mems = r.cpu?.mems ?? '';
  if (cpus !== '') {
    const f = `${R}/cpu/cpus`;
    io.write(need(dir, 'cpuset', f, 'cpuset.cpus'), 'cpuset.cpus', cpus, { field: f });
  }
  if (mems !== '') {
    const f = `${R}/cpu/mems`;
    io.write(need(dir, 'cpuset', f, 'cpuset.mems'), 'cpuset.mems', mems, { field: f });
  }
}

// ---- pids (fs/pids.go) -------------------------------------------------------

// runc ≥ 1.4 (PidsLimit *int64): unset → untouched, > 0 → the value,
// 0 → "1" (systemd cannot express TasksMax=0, so both drivers map 0 to 1),
// < 0 → "max".
export function pidsMaxValue(limit: number): string {
  if (limit > 0) return formatInt(limit, `${R}/pids/limit`);
  if (limit === 0) return '1';
  return 'max';
}

export function setPidsV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const limit = r.pids?.limit;
  if (limit === undefined) return;
  const f = `${R}/pids/limit`;
  io.write(need(dir, 'pids', f, 'pids.max'), 'pids.max', pidsMaxValue(limit), { field: f });
}

// ---- blkio (fs/blkio.go) -----------------------------------------------------

export function throttleString(t: ThrottleDevice): string {
  // a missing rate is 0 (no limit), as runc's zero value
  return `${t.major}:${t.minor} ${BigInt(t.rate ?? 0).toString()}`;
}

export function setBlkioV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  const weight = b.weight ?? 0;
  const leaf = b.leafWeight ?? 0;
  const throttles: Array<[keyof typeof b & `throttle${string}`, string]> = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  const anyThrottle = throttles.some(([k]) => (b[k]?.length ?? 0) > 0);
  if (weight === 0 && leaf === 0 && (b.weightDevice?.length ?? 0) === 0 && !anyThrottle) return;
  const d = need(dir, 'blkio', `${R}/blockIO`, 'blkio.*');

  // A BFQ-only kernel has blkio.bfq.weight instead of blkio.weight
  // (fs/blkio.go detectWeightFilenames).
  const cfq = io.exists(d, 'blkio.weight');
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  const ioHint = 'blkio weights need the CFQ or BFQ I/O scheduler on the devices concerned';

  if (weight !== 0) {
    const f = `${R}/blockIO/weight`;
    io.write(d, weightFile, formatInt(weight, f), { field: f, hint: ioHint });
  }
  if (leaf !== 0) {
    const f = `${R}/blockIO/leafWeight`;
    io.write(d, 'blkio.leaf_weight', formatInt(leaf, f), { field: f, hint: ioHint });
  }
  (b.weightDevice ?? []).forEach((wd, i) => {
    const f = `${R}/blockIO/weightDevice/${i}`;
    if ((wd.weight ?? 0) !== 0) io.write(d, weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`, { field: f, hint: ioHint });
    if ((wd.leafWeight ?? 0) !== 0) io.write(d, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`, { field: f, hint: ioHint });
  });
  for (const [key, file] of throttles) {
    (b[key] ?? []).forEach((t, i) => io.write(d, file, throttleString(t), { field: `${R}/blockIO/${key}/${i}` }));
  }
}

// ---- hugetlb (fs/hugetlb.go) -------------------------------------------------

export function setHugetlbV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const limits = r.hugepageLimits ?? [];
  if (limits.length === 0) return;
  const d = need(dir, 'hugetlb', `${R}/hugepageLimits/0`, `hugetlb.${limits[0]?.pageSize ?? '<size>'}.limit_in_bytes`);
  let skipRsvd = false;
  limits.forEach((l, i) => {
    const f = `${R}/hugepageLimits/${i}`;
    const prefix = `hugetlb.${l.pageSize}`;
    const v = formatInt(l.limit, `${f}/limit`);
    io.write(d, `${prefix}.limit_in_bytes`, v, { field: f, hint: 'check the page size against /sys/kernel/mm/hugepages' });
    if (skipRsvd) return;
    // Reservation accounting (Linux ≥ 5.7); absent on older kernels.
    const errno = io.tryWrite(d, `${prefix}.rsvd.limit_in_bytes`, v, f);
    if (errno === 'ENOENT') skipRsvd = true;
    else if (errno !== undefined) throw writeError(d, `${prefix}.rsvd.limit_in_bytes`, v, errno, { field: f });
  });
}

// ---- net_cls / net_prio (fs/net_cls.go, fs/net_prio.go) ----------------------

export function setNetClsV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const id = r.network?.classID ?? 0;
  if (id === 0) return;
  const f = `${R}/network/classID`;
  io.write(need(dir, 'net_cls', f, 'net_cls.classid'), 'net_cls.classid', formatInt(id, f), { field: f });
}

export function setNetPrioV1(io: CgroupFiles, dir: string | undefined, r: Resources): void {
  const prios = r.network?.priorities ?? [];
  prios.forEach((p, i) => {
    const f = `${R}/network/priorities/${i}`;
    io.write(need(dir, 'net_prio', f, 'net_prio.ifpriomap'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`, { field: f });
  });
}

// ---- rdma (fscommon/rdma.go, shared with v2) --------------------------------

export function rdmaLine(device: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  let s = device;
  if (l.hcaHandles !== undefined) s += ` hca_handle=${l.hcaHandles}`;
  if (l.hcaObjects !== undefined) s += ` hca_object=${l.hcaObjects}`;
  return s;
}

export function setRdma(io: CgroupFiles, dir: string | undefined, r: Resources, controllerName = 'rdma'): void {
  for (const [device, limits] of Object.entries(r.rdma ?? {})) {
    const f = `${R}/rdma/${device.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    io.write(need(dir, controllerName, f, 'rdma.max'), 'rdma.max', rdmaLine(device, limits), { field: f });
  }
}

// ---- devices -----------------------------------------------------------------

export function setDevicesV1(io: CgroupFiles, dir: string | undefined, rules: DeviceRule[], verify: boolean): void {
  applyDevicesV1(io, need(dir, 'devices', `${R}/devices`, 'devices.allow'), rules, verify);
}
