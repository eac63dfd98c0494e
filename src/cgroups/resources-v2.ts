// linux.resources → cgroup v2 files (opencontainers/cgroups fs2/*.go), with
// runc's v1→v2 conversions. Settings v2 has no file for are ignored with a
// warning, as runc ignores them (it only says nothing).

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Resources } from '../spec/types.js';
import { convertBlkIOToIOWeightValue, convertCPUSharesToCgroupV2Value, convertMemorySwapToCgroupV2Value, numToStr } from './convert.js';
import { type CgroupFiles, formatInt, writeError } from './fsio.js';
import { pidsMaxValue, rdmaLine } from './resources-v1.js';

const R = '/linux/resources';

// A write whose ENOENT is explained by the controller not being enabled in
// this cgroup (parent's cgroup.subtree_control), which is the usual cause.
function writeV2(io: CgroupFiles, dir: string, file: string, value: string, field: string): void {
  const errno = io.tryWrite(dir, file, value, field);
  if (errno === undefined) return;
  throw v2Error(io, dir, file, value, errno, field);
}

function v2Error(io: CgroupFiles, dir: string, file: string, value: string, errno: string, field: string): RuntimeError {
  if (errno === 'ENOENT') {
    const controller = file.split('.')[0] ?? file;
    const enabled = (io.readOptional(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter((s) => s !== '');
    if (controller !== 'cgroup' && !enabled.includes(controller)) {
      return new RuntimeError(
        Codes.CgroupResource,
        `cannot apply ${field}: the ${controller} controller is not enabled for ${dir} (available: ${enabled.join(' ') || 'none'})`,
        {
          field,
          path: `${dir}/${file}`,
          errno,
          hint: `enable it in the parent's cgroup.subtree_control ("+${controller}"), or remove ${field} from config.json`,
        },
      );
    }
  }
  return writeError(dir, file, value, errno, { field });
}

// ---- pids (fs2/pids.go) --------------------------------------------------------

export function setPidsV2(io: CgroupFiles, dir: string, r: Resources): void {
  const limit = r.pids?.limit;
  if (limit === undefined) return;
  writeV2(io, dir, 'pids.max', pidsMaxValue(limit), `${R}/pids/limit`);
}

// ---- memory (fs2/memory.go) ----------------------------------------------------

export function setMemoryV2(io: CgroupFiles, dir: string, r: Resources, warnings: string[]): void {
  const m = r.memory;
  if (!m) return;
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    warnings.push('kernel memory settings (linux.resources.memory.kernel, kernelTCP) are ignored: cgroup v2 has no separate kmem limit');
  }
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    warnings.push('linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness');
  }
  if (m.disableOOMKiller) {
    warnings.push('linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer');
  }
  if (m.useHierarchy === false) {
    warnings.push('linux.resources.memory.useHierarchy=false is ignored: cgroup v2 is always hierarchical');
  }
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  const reservation = m.reservation ?? 0;
  if (limit === 0 && swap === 0 && reservation === 0) return;

  const fLimit = `${R}/memory/limit`;
  const fSwap = `${R}/memory/swap`;
  if (m.checkBeforeUpdate) checkMemoryUsage(io, dir, limit, swap);

  const v2swap = convertMemorySwapToCgroupV2Value(swap, limit);
  if (typeof v2swap === 'object') {
    throw new RuntimeError(Codes.CgroupResource, `cannot apply ${fSwap}: ${v2swap.error}`, {
      field: fSwap,
      hint: 'linux.resources.memory.swap is memory+swap and must be >= memory.limit (or -1 for unlimited)',
    });
  }
  let swapStr = numToStr(v2swap);
  // memory and memory+swap equal: disable swap (write "0", never "").
  if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0';
  if (swapStr !== '') {
    const errno = io.tryWrite(dir, 'memory.swap.max', swapStr, fSwap);
    // No swap accounting: setting "max" or "0" is then a no-op, ignore it.
    if (errno !== undefined && !(errno === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) {
      throw v2Error(io, dir, 'memory.swap.max', swapStr, errno, fSwap);
    }
  }
  const lim = numToStr(limit);
  if (lim !== '') writeV2(io, dir, 'memory.max', lim, fLimit);
  const low = numToStr(reservation);
  if (low !== '') writeV2(io, dir, 'memory.low', low, `${R}/memory/reservation`);
}

// fs2.go CheckMemoryUsage: for `update --memory-check-before-update`, refuse a
// limit at or below the current usage (best effort: unreadable usage passes).
function checkMemoryUsage(io: CgroupFiles, dir: string, limit: number, swap: number): void {
  if (limit <= 0 && swap <= 0) return;
  let usage: bigint;
  try {
    usage = io.readU64(dir, 'memory.current');
  } catch {
    return;
  }
  if (swap > 0 && BigInt(swap) <= usage) {
    throw new RuntimeError(Codes.CgroupResource, `rejecting memory+swap limit ${swap} <= usage ${usage}`, {
      field: `${R}/memory/swap`,
      path: `${dir}/memory.current`,
    });
  }
  if (limit > 0 && BigInt(limit) <= usage) {
    throw new RuntimeError(Codes.CgroupResource, `rejecting memory limit ${limit} <= usage ${usage}`, {
      field: `${R}/memory/limit`,
      path: `${dir}/memory.current`,
    });
  }
}

// ---- io (fs2/io.go) ------------------------------------------------------------

export function setIoV2(io: CgroupFiles, dir: string, r: Resources, warnings: string[]): void {
  const b = r.blockIO;
  if (!b) return;
  if ((b.leafWeight ?? 0) !== 0 || (b.weightDevice ?? []).some((w) => (w.leafWeight ?? 0) !== 0)) {
    warnings.push('linux.resources.blockIO leaf weights are ignored: cgroup v2 has no leaf weights');
  }
  const weight = b.weight ?? 0;
  const wds = b.weightDevice ?? [];
  const throttles: Array<[keyof typeof b & `throttle${string}`, string]> = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  if (weight === 0 && wds.length === 0 && !throttles.some(([k]) => (b[k]?.length ?? 0) > 0)) return;

  // BFQ exposes io.bfq.weight (the blkio scale, no conversion); otherwise
  // io.weight with ConvertBlkIOToIOWeightValue.
  const bfqText = weight !== 0 || wds.length > 0 ? io.readOptional(dir, 'io.bfq.weight') : undefined;
  const bfq = bfqText !== undefined;
  // Per-device BFQ weights need Linux ≥ 5.4, where io.bfq.weight reads as
  // "default N" lines rather than a bare number (bfqDeviceWeightSupported).
  const bfqPerDevice = bfq && !/^\d+$/.test(bfqText.trim());
  if (weight !== 0) {
    const f = `${R}/blockIO/weight`;
    if (bfq) writeV2(io, dir, 'io.bfq.weight', formatInt(weight, f), f);
    else writeV2(io, dir, 'io.weight', String(convertBlkIOToIOWeightValue(weight)), f);
  }
  if (wds.some((w) => (w.weight ?? 0) !== 0)) {
    if (bfqPerDevice) {
      wds.forEach((wd, i) => {
        if ((wd.weight ?? 0) === 0) return;
        writeV2(io, dir, 'io.bfq.weight', `${wd.major}:${wd.minor} ${wd.weight}`, `${R}/blockIO/weightDevice/${i}`);
      });
    } else {
      warnings.push('linux.resources.blockIO.weightDevice is ignored: per-device weights need the BFQ scheduler on Linux >= 5.4');
    }
  }
  for (const [key, name] of throttles) {
    (b[key] ?? []).forEach((t, i) => {
      writeV2(io, dir, 'io.max', `${t.major}:${t.minor} ${name}=${BigInt(t.rate ?? 0).toString()}`, `${R}/blockIO/${key}/${i}`);
    });
  }
}

// ---- cpu (fs2/cpu.go) ------------------------------------------------------------

export function setCpuV2(io: CgroupFiles, dir: string, r: Resources, warnings: string[]): void {
  const c = r.cpu;
  if (!c) return;
  if ((c.realtimePeriod ?? 0) !== 0 || (c.realtimeRuntime ?? 0) !== 0) {
    // The kernel has no real-time group scheduling on cgroup v2 (cgroup-v2.rst
    // "CPU": "WARNING: cgroup2 doesn't yet support control of realtime processes").
    warnings.push('linux.resources.cpu.realtimeRuntime/realtimePeriod are ignored: cgroup v2 does not support real-time group scheduling');
  }
  const weight = convertCPUSharesToCgroupV2Value(c.shares ?? 0);
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (weight === 0 && quota === 0 && period === 0 && c.idle === undefined && c.burst === undefined) return;

  if (c.idle !== undefined) {
    const f = `${R}/cpu/idle`;
    writeV2(io, dir, 'cpu.idle', formatInt(c.idle, f), f);
  }
  if (weight !== 0) writeV2(io, dir, 'cpu.weight', String(weight), `${R}/cpu/shares`);

  const fBurst = `${R}/cpu/burst`;
  let pendingBurst: string | undefined;
  if (c.burst !== undefined) {
    const v = formatInt(c.burst, fBurst);
    const errno = io.tryWrite(dir, 'cpu.max.burst', v, fBurst);
    // A larger burst can be refused until the new quota is in place.
    if (errno !== undefined) {
      if (errno !== 'EINVAL' || quota === 0) throw v2Error(io, dir, 'cpu.max.burst', v, errno, fBurst);
      pendingBurst = v;
    }
  }
  if (quota !== 0 || period !== 0) {
    const f = quota !== 0 ? `${R}/cpu/quota` : `${R}/cpu/period`;
    // "$MAX $PERIOD"; a missing period defaults to 100000 (cgroup-v2.rst).
    const q = quota > 0 ? formatInt(quota, `${R}/cpu/quota`) : 'max';
    const p = period !== 0 ? formatInt(period, `${R}/cpu/period`) : '100000';
    writeV2(io, dir, 'cpu.max', `${q} ${p}`, f);
    if (pendingBurst !== undefined) writeV2(io, dir, 'cpu.max.burst', pendingBurst, fBurst);
  }
}

// ---- cpuset (fs2/cpuset.go) ---------------------------------------------------------

export function setCpusetV2(io: CgroupFiles, dir: string, r: Resources): void {
  const cpus = r.cpu?.cpus ?? '';
  const mems = r.cpu?.mems ?? '';
  if (cpus !== '') writeV2(io, dir, 'cpuset.cpus', cpus, `${R}/cpu/cpus`);
  if (mems !== '') writeV2(io, dir, 'cpuset.mems', mems, `${R}/cpu/mems`);
}

// ---- hugetlb (fs2/hugetlb.go) -------------------------------------------------------

export function setHugetlbV2(io: CgroupFiles, dir: string, r: Resources): void {
  let skipRsvd = false;
  (r.hugepageLimits ?? []).forEach((l, i) => {
    const f = `${R}/hugepageLimits/${i}`;
    const prefix = `hugetlb.${l.pageSize}`;
    const v = formatInt(l.limit, `${f}/limit`);
    writeV2(io, dir, `${prefix}.max`, v, f);
    if (skipRsvd) return;
    // hugetlb.<size>.rsvd.max (Linux ≥ 5.7) also caps reservations.
    const errno = io.tryWrite(dir, `${prefix}.rsvd.max`, v, f);
    if (errno === 'ENOENT') skipRsvd = true;
    else if (errno !== undefined) throw writeError(dir, `${prefix}.rsvd.max`, v, errno, { field: f });
  });
}

// ---- rdma (fscommon/rdma.go) ----------------------------------------------------------

export function setRdmaV2(io: CgroupFiles, dir: string, r: Resources): void {
  for (const [device, limits] of Object.entries(r.rdma ?? {})) {
    const f = `${R}/rdma/${device.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    writeV2(io, dir, 'rdma.max', rdmaLine(device, limits), f);
  }
}

// ---- network: v1-only controllers ---------------------------------------------------

export function warnNetworkV2(r: Resources, warnings: string[]): void {
  const n = r.network;
  if (n && ((n.classID ?? 0) !== 0 || (n.priorities?.length ?? 0) > 0)) {
    warnings.push('linux.resources.network is ignored: net_cls/net_prio exist only in cgroup v1');
  }
}

// ---- unified (fs2.go setUnified) ------------------------------------------------------

export function setUnifiedV2(io: CgroupFiles, dir: string, r: Resources): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const f = `${R}/unified/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key.includes('/') || key === '.' || key === '..' || key === '') {
      throw new RuntimeError(Codes.CgroupResource, `unified resource ${JSON.stringify(key)} must be a file name (no slashes)`, { field: f });
    }
    // WriteFileByLine: each line is a separate write (e.g. several io.max rules).
    for (const line of value.split('\n')) {
      if (line === '') continue;
      const errno = io.tryWrite(dir, key, line, f);
      if (errno === undefined) continue;
      if (errno === 'EPERM' || errno === 'ENOENT' || errno === 'EACCES') {
        const dot = key.indexOf('.');
        if (dot < 0) {
          throw new RuntimeError(Codes.CgroupResource, `unified resource ${JSON.stringify(key)} must be in the form CONTROLLER.PARAMETER`, { field: f });
        }
        const controller = key.slice(0, dot);
        const enabled = (io.readOptional(dir, 'cgroup.controllers') ?? '').split(/\s+/);
        if (controller !== 'cgroup' && !enabled.includes(controller)) {
          throw new RuntimeError(Codes.CgroupResource, `unified resource ${JSON.stringify(key)} can't be set: controller ${JSON.stringify(controller)} not available`, {
            field: f,
            path: `${dir}/${key}`,
            errno,
          });
        }
      }
      throw new RuntimeError(Codes.CgroupResource, `unable to set unified resource ${JSON.stringify(key)}: writing ${JSON.stringify(line)} to ${dir}/${key} failed: ${errno}`, {
        field: f,
        path: `${dir}/${key}`,
        errno,
        syscall: 'write',
      });
    }
  }
}
