// Cgroup statistics in the JSON shape of runc's `events --stats` output
// (runc types/events.go, filled by events.go convertLibcontainerStats from
// opencontainers/cgroups stats). Fields tagged `omitempty` in runc are left
// out here when zero/empty, so JSON.stringify-ing these objects (through
// stringifyWithBigInt) reproduces runc's bytes. Counters are bigint because
// kernel values reach 2^64-1 ("max"), which a JS number cannot carry and
// which Go clients (containerd's go-runc) decode into uint64.
//
// The `events` command adds the non-cgroup members of runc's Stats itself:
// "intel_rdt": {} and "network_interfaces": null.

import { fs } from '../sys/fs.js';
import { type CgroupFiles, U64_MAX, parseU64 } from './fsio.js';

export type U64 = bigint;

export interface PSIData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: U64;
}
export interface PSIStats {
  some?: PSIData;
  full?: PSIData;
}

export interface CpuUsageJSON {
  total?: U64;
  percpu?: U64[];
  percpu_kernel?: U64[];
  percpu_user?: U64[];
  kernel: U64;
  user: U64;
}
export interface ThrottlingJSON {
  periods?: U64;
  throttledPeriods?: U64;
  throttledTime?: U64;
}
export interface CpuJSON {
  usage: CpuUsageJSON;
  throttling: ThrottlingJSON;
  psi?: PSIStats;
}
export interface CPUSetJSON {
  cpus?: number[];
  cpu_exclusive: U64;
  mems?: number[];
  mem_hardwall: U64;
  mem_exclusive: U64;
  memory_migrate: U64;
  memory_spread_page: U64;
  memory_spread_slab: U64;
  memory_pressure: U64;
  sched_load_balance: U64;
  sched_relax_domain_level: number;
}
export interface MemoryEntryJSON {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}
export interface MemoryJSON {
  cache?: U64;
  usage: MemoryEntryJSON;
  swap: MemoryEntryJSON;
  kernel: MemoryEntryJSON;
  kernelTCP: MemoryEntryJSON;
  raw?: Record<string, U64>;
  psi?: PSIStats;
}
export interface PidsJSON {
  current?: U64;
  limit?: U64;
}
export interface BlkioEntryJSON {
  major?: U64;
  minor?: U64;
  op?: string;
  value?: U64;
}
export interface BlkioJSON {
  ioServiceBytesRecursive?: BlkioEntryJSON[];
  ioServicedRecursive?: BlkioEntryJSON[];
  ioQueueRecursive?: BlkioEntryJSON[];
  ioServiceTimeRecursive?: BlkioEntryJSON[];
  ioWaitTimeRecursive?: BlkioEntryJSON[];
  ioMergedRecursive?: BlkioEntryJSON[];
  ioTimeRecursive?: BlkioEntryJSON[];
  sectorsRecursive?: BlkioEntryJSON[];
  psi?: PSIStats;
}
export interface HugetlbJSON {
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface CgroupStats {
  cpu: CpuJSON;
  cpuset: CPUSetJSON;
  memory: MemoryJSON;
  pids: PidsJSON;
  blkio: BlkioJSON;
  hugetlb: Record<string, HugetlbJSON>;
}

// ---- building helpers -------------------------------------------------------

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { kernel: 0n, user: 0n }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0n,
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0,
    },
    memory: { usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry() },
    pids: {},
    blkio: {},
    hugetlb: {},
  };
}

function entry(): MemoryEntryJSON {
  return { limit: 0n, failcnt: 0n };
}

// Sets obj[key] = v unless v is the zero value (Go omitempty).
export function setNZ<T extends object, K extends keyof T>(obj: T, key: K, v: T[K] | undefined): void {
  if (v === undefined) return;
  if (typeof v === 'bigint' && v === 0n) return;
  if (typeof v === 'number' && v === 0) return;
  if (typeof v === 'string' && v === '') return;
  if (Array.isArray(v) && v.length === 0) return;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return;
  obj[key] = v;
}

export function memoryEntry(usage: U64, max: U64, failcnt: U64, limit: U64): MemoryEntryJSON {
  const e: MemoryEntryJSON = { limit, failcnt };
  setNZ(e, 'usage', usage);
  setNZ(e, 'max', max);
  return e;
}

// JSON.stringify that writes bigint values as bare JSON numbers.
export function stringifyWithBigInt(value: unknown, space?: number): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? marker + v.toString() : v), space);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

// ---- file parsers shared by v1 and v2 --------------------------------------

// "key value" lines (memory.stat, cpu.stat, memory.events).
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 2 || f[0] === undefined || f[1] === undefined || f[0] === '') continue;
    try {
      m.set(f[0], parseU64(f[1]));
    } catch {
      // a non-numeric value (future kernels) is skipped, not fatal
    }
  }
  return m;
}

export function mapToRecord(m: Map<string, bigint>): Record<string, bigint> {
  const r: Record<string, bigint> = {};
  for (const [k, v] of m) r[k] = v;
  return r;
}

// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" (fs2/psi.go statPSI).
export function parsePSI(text: string | undefined): PSIStats | undefined {
  if (text === undefined) return undefined;
  const out: PSIStats = {};
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const kind = f[0];
    if (kind !== 'some' && kind !== 'full') continue;
    const d: PSIData = { avg10: 0, avg60: 0, avg300: 0, total: 0n };
    for (const kv of f.slice(1)) {
      const [k, v] = kv.split('=');
      if (v === undefined) continue;
      if (k === 'avg10') d.avg10 = Number(v);
      else if (k === 'avg60') d.avg60 = Number(v);
      else if (k === 'avg300') d.avg300 = Number(v);
      else if (k === 'total') d.total = parseU64(v);
    }
    out[kind] = d;
  }
  return out;
}

// A cpuset list "0-3,8" → [0,1,2,3,8] (cgroups.ParseCPUSet-style).
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

// Huge page sizes as the cgroup file names spell them ("2MB", "1GB"), from
// /sys/kernel/mm/hugepages (opencontainers/cgroups utils.go HugePageSizes).
export function hugePageSizesFrom(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m || m[1] === undefined) continue;
    const kb = Number(m[1]);
    if (kb >= 1 << 20) out.push(`${kb >> 20}GB`);
    else if (kb >= 1 << 10) out.push(`${kb >> 10}MB`);
    else out.push(`${kb}KB`);
  }
  return out;
}

let hostHugePageSizes: string[] | undefined;
export function readHostHugePageSizes(): string[] {
  if (!hostHugePageSizes) {
    try {
      hostHugePageSizes = hugePageSizesFrom(fs.readdirSync('/sys/kernel/mm/hugepages'));
    } catch {
      hostHugePageSizes = [];
    }
  }
  return hostHugePageSizes;
}

export function optU64(io: CgroupFiles, dir: string, file: string): bigint | undefined {
  const t = io.readOptional(dir, file);
  if (t === undefined) return undefined;
  try {
    return parseU64(t.trim());
  } catch {
    return undefined;
  }
}

export { U64_MAX };

// ---- key order ------------------------------------------------------------------

// Rebuild every object in the field order of runc's Go structs (and Go's
// sorted map keys), so the JSON text matches runc's byte for byte.
function pick<T extends object>(o: T, keys: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function sortedRecord<V>(r: Record<string, V>, f: (v: V) => V = (v) => v): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(r).sort()) out[k] = f(r[k] as V);
  return out;
}

const ENTRY_KEYS = ['limit', 'usage', 'max', 'failcnt'] as const;
const BLKIO_ENTRY_KEYS = ['major', 'minor', 'op', 'value'] as const;
const BLKIO_LISTS = [
  'ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive',
  'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive',
] as const;

export function canonicalStats(s: CgroupStats): CgroupStats {
  const psi = (p: PSIStats | undefined): PSIStats | undefined =>
    p === undefined ? undefined : pick({ some: p.some && pick(p.some, ['avg10', 'avg60', 'avg300', 'total']), full: p.full && pick(p.full, ['avg10', 'avg60', 'avg300', 'total']) }, ['some', 'full']);
  const cpu = pick(
    {
      usage: pick(s.cpu.usage, ['total', 'percpu', 'percpu_kernel', 'percpu_user', 'kernel', 'user']),
      throttling: pick(s.cpu.throttling, ['periods', 'throttledPeriods', 'throttledTime']),
      psi: psi(s.cpu.psi),
    },
    ['usage', 'throttling', 'psi'],
  );
  const cpuset = pick(s.cpuset, [
    'cpus', 'cpu_exclusive', 'mems', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page',
    'memory_spread_slab', 'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level',
  ]);
  const memory = pick(
    {
      ...s.memory,
      usage: pick(s.memory.usage, ENTRY_KEYS),
      swap: pick(s.memory.swap, ENTRY_KEYS),
      kernel: pick(s.memory.kernel, ENTRY_KEYS),
      kernelTCP: pick(s.memory.kernelTCP, ENTRY_KEYS),
      raw: s.memory.raw && sortedRecord(s.memory.raw),
      psi: psi(s.memory.psi),
    },
    ['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw', 'psi'],
  );
  const blkio: BlkioJSON = {};
  for (const k of BLKIO_LISTS) {
    const list = s.blkio[k];
    if (list !== undefined) blkio[k] = list.map((e) => pick(e, BLKIO_ENTRY_KEYS));
  }
  const bpsi = psi(s.blkio.psi);
  if (bpsi) blkio.psi = bpsi;
  return {
    cpu,
    cpuset,
    memory,
    pids: pick(s.pids, ['current', 'limit']),
    blkio,
    hugetlb: sortedRecord(s.hugetlb, (h) => pick(h, ['usage', 'max', 'failcnt'])),
  };
}
