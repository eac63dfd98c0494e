// cgroup v1 manager (runc's cgroupfs driver, opencontainers/cgroups fs/):
// one directory per mounted hierarchy; on hybrid hosts also a directory in
// the unified (cgroup2) hierarchy that the container joins for membership
// only (and whose cgroup.kill we use).

import { cgroupJoinFiles } from './join-files.js';
import { fs } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Resources } from '../spec/types.js';
import {
  SIGKILL,
  killPids,
  missingDirs,
  mkdirTracked,
  readPidsRecursive,
  removeContainerCgroups,
  removeDirs,
  runningInUserNamespace,
  waitUntil,
} from './common.js';
import { effectiveDeviceRules } from './devices.js';
import { CgroupFiles, errnoOf, joinPath, parseU64, sleepSync } from './fsio.js';
import type { ApplyOptions, CgroupManager, CgroupManagerOptions, DestroyOptions, OomState, SavedCgroup } from './manager.js';
import { removeEmptyCgroups } from './remove-empty.js';
import {
  setBlkioV1,
  setCpuV1,
  setCpusetV1,
  setDevicesV1,
  setHugetlbV1,
  setMemoryV1,
  setNetClsV1,
  setNetPrioV1,
  setPidsV1,
  setRdma,
} from './resources-v1.js';
import {
  type BlkioEntryJSON,
  type BlkioJSON,
  type CgroupStats,
  type HugetlbJSON,
  canonicalStats,
  emptyStats,
  mapToRecord,
  memoryEntry,
  optU64,
  parseCpuList,
  parseFlatKeyed,
  readHostHugePageSizes,
  setNZ,
} from './stats.js';

const CLOCK_TICKS = 100n; // USER_HZ; runc hard-codes it too (system.GetClockTicks)

export class V1Manager implements CgroupManager {
  readonly saved: SavedCgroup;
  private readonly io: CgroupFiles;
  private readonly opts: CgroupManagerOptions;

  constructor(saved: SavedCgroup, opts: CgroupManagerOptions = {}) {
    this.saved = saved;
    this.opts = opts;
    this.io = new CgroupFiles(opts.log);
  }

  // The directory of the hierarchy that carries `controller`.
  dir(controller: string): string | undefined {
    for (const [key, p] of Object.entries(this.saved.paths)) {
      if (key !== 'unified' && key.split(',').includes(controller)) return p;
    }
    return undefined;
  }

  private allDirs(): string[] {
    return [...new Set(Object.values(this.saved.paths))];
  }

  // each hierarchy directory's missingDirs, from plannedDirs() for create()
  private planned: Map<string, string[]> | undefined;

  plannedDirs(): string[] {
    this.planned = new Map(this.allDirs().map((d) => [d, missingDirs(d)]));
    return [...new Set([...this.planned.values()].flat())];
  }

  create(): void {
    const made: string[] = [];
    const planned = this.planned;
    this.planned = undefined;
    try {
      for (const [key, dir] of Object.entries(this.saved.paths)) {
        // a directory shared by two keys is made for the first one only
        const now = mkdirTracked(dir, planned?.get(dir));
        planned?.delete(dir);
        made.push(...now);
        if (key.split(',').includes('cpuset')) this.cpusetInherit(key, dir, now);
      }
    } catch (err) {
      removeDirs(made);
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError(Codes.CgroupSetup, `cannot create cgroup: ${String(err)}`, { cause: err });
    }
    this.saved.created.push(...made);
  }

  // A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks
  // (ENOSPC) until they are set: copy them from the parent, top-down, into
  // every level below the mount point that is still empty, pre-existing
  // parents included (fs/cpuset.go cpusetEnsureParent / cpusetCopyIfNeeded).
  // apply() later narrows the leaf to the config's values.
  private cpusetInherit(key: string, leaf: string, made: string[]): void {
    const mount = this.saved.mountpoints?.[key];
    const dirs: string[] = [];
    if (mount !== undefined && leaf.startsWith(mount + '/')) {
      let cur = mount;
      for (const seg of leaf.slice(mount.length + 1).split('/')) dirs.push((cur = joinPath(cur, seg)));
    } else {
      dirs.push(...made);
      if (!dirs.includes(leaf)) dirs.push(leaf);
    }
    for (const d of dirs) {
      const parent = d.slice(0, d.lastIndexOf('/')) || '/';
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const cur = this.io.readOptional(d, file);
        if (cur === undefined || cur.trim() !== '') continue;
        const fromParent = this.io.readOptional(parent, file);
        if (fromParent === undefined || fromParent.trim() === '') continue;
        this.io.write(d, file, fromParent.trim(), { code: Codes.CgroupSetup });
      }
    }
  }

  procsFiles(): string[] {
    return cgroupJoinFiles(this.saved);
  }

  apply(resources: Resources | undefined, opts: ApplyOptions = {}): string[] {
    const r: Resources = resources ?? {};
    const warnings: string[] = [];
    if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
      // runc fs driver: ErrV1NoUnified. On hybrid hosts the cgroup2 mount
      // is for membership only; its controllers are bound to v1.
      const host = this.saved.mode === 'hybrid' ? 'this host is cgroup v1 hybrid (its cgroup2 mount carries no resource controllers)' : 'this host uses cgroup v1';
      throw new RuntimeError(Codes.CgroupResource, `cannot apply /linux/resources/unified: unified resources need cgroup v2, ${host}`, {
        field: '/linux/resources/unified',
        hint: 'express the limits with the v1 fields of linux.resources (memory, cpu, pids, blockIO...) or run on a cgroup v2 host',
      });
    }
    const io = this.io;
    const rules = opts.skipDevices ? [] : effectiveDeviceRules(r.devices, opts.linuxDevicePaths);
    // Order of runc's fs/fs.go subsystems list.
    setCpusetV1(io, this.dir('cpuset'), r);
    const inUserNS = this.opts.inUserNamespace ?? runningInUserNamespace();
    if (!inUserNS && !opts.skipDevices) setDevicesV1(io, this.dir('devices'), rules, this.opts.verifyDevices ?? true);
    setMemoryV1(io, this.dir('memory'), r, warnings);
    setCpuV1(io, this.dir('cpu'), r);
    setPidsV1(io, this.dir('pids'), r);
    setBlkioV1(io, this.dir('blkio'), r);
    setHugetlbV1(io, this.dir('hugetlb'), r);
    setNetClsV1(io, this.dir('net_cls'), r);
    setNetPrioV1(io, this.dir('net_prio'), r);
    setRdma(io, this.dir('rdma'), r);
    return warnings;
  }

  pids(): number[] {
    const set = new Set<number>();
    for (const d of this.allDirs()) readPidsRecursive(d, set);
    return [...set].sort((a, b) => a - b);
  }

  signalAll(sig: number): void {
    const unified = this.saved.paths['unified'];
    if (sig === SIGKILL && unified !== undefined) {
      // cgroup.kill (Linux ≥ 5.14) kills the whole subtree atomically, no
      // fork race; on hybrid hosts the unified directory has it (runc
      // signalAllProcesses uses m.Path("") for v2 and hybrid alike).
      const errno = this.io.tryWrite(unified, 'cgroup.kill', '1');
      if (errno === undefined) return;
      if (errno !== 'ENOENT' && errno !== 'ENODEV') {
        throw new RuntimeError(Codes.KillFailed, `cannot kill the processes of ${unified}: ${errno}`, {
          path: `${unified}/cgroup.kill`,
          errno,
        });
      }
    }
    // Freeze so nothing forks between listing and killing, then restore.
    const wasFrozen = this.frozenSafe();
    let froze = false;
    try {
      if (this.dir('freezer') && !wasFrozen) {
        this.freeze();
        froze = true;
      }
    } catch {
      // freezing is an optimisation here; signal anyway
    }
    try {
      killPids(this.pids(), sig);
    } finally {
      // SIGKILL is not delivered to v1-frozen tasks until they thaw.
      if (froze || (sig === SIGKILL && wasFrozen)) {
        try {
          this.thaw();
        } catch {
          // best effort
        }
      }
    }
  }

  private frozenSafe(): boolean {
    try {
      return this.frozen();
    } catch {
      return false;
    }
  }

  // fs/freezer.go Set(Frozen): write FROZEN and read back until it is no
  // longer FREEZING; a v1 freeze can stall while tasks keep forking, so thaw
  // and retry now and then; give up after 1000 tries and leave it THAWED.
  freeze(): void {
    const d = this.dir('freezer');
    if (d === undefined) {
      throw new RuntimeError(Codes.CgroupFreeze, 'cannot freeze the container: the freezer cgroup controller is not mounted', {
        hint: 'mount the cgroup v1 freezer controller',
      });
    }
    const ctx = { code: Codes.CgroupFreeze };
    try {
      for (let i = 0; i < 1000; i++) {
        if (i % 50 === 49) {
          this.io.tryWrite(d, 'freezer.state', 'THAWED');
          sleepSync(10);
        }
        this.io.write(d, 'freezer.state', 'FROZEN', ctx);
        if (i % 25 === 24) sleepSync(0.01);
        const state = this.io.read(d, 'freezer.state', ctx).trim();
        if (state === 'FROZEN') return;
        if (state !== 'FREEZING') {
          throw new RuntimeError(Codes.CgroupFreeze, `unexpected freezer state ${JSON.stringify(state)} while freezing ${d}`, { path: `${d}/freezer.state` });
        }
      }
      throw new RuntimeError(Codes.CgroupFreeze, `unable to freeze ${d}: it stayed FREEZING`, {
        path: `${d}/freezer.state`,
        hint: 'processes keep being created in the container; retry',
      });
    } catch (err) {
      // Never leave a half-frozen container behind.
      this.io.tryWrite(d, 'freezer.state', 'THAWED');
      throw err;
    }
  }

  thaw(): void {
    const d = this.dir('freezer');
    if (d === undefined || !fs.existsSync(d)) return;
    this.io.write(d, 'freezer.state', 'THAWED', { code: Codes.CgroupFreeze });
  }

  // fs/freezer.go GetState: FREEZING is transient (wait); FROZEN only counts
  // when this cgroup itself is frozen, not merely an ancestor.
  frozen(): boolean {
    const d = this.dir('freezer');
    if (d === undefined) return false;
    for (let i = 0; i < 1000; i++) {
      const state = this.io.readOptional(d, 'freezer.state')?.trim();
      if (state === undefined || state === 'THAWED') return false;
      if (state === 'FROZEN') {
        const self = this.io.readOptional(d, 'freezer.self_freezing')?.trim();
        return self === undefined || self === '1';
      }
      sleepSync(1);
    }
    return true;
  }

  destroy(opts: DestroyOptions = {}): string[] {
    // the container's processes gone (the usual delete): one rmdir each,
    // nothing to thaw or kill
    const done = removeEmptyCgroups(this.saved);
    if (done) return done;
    const dirs = this.allDirs();
    try {
      this.thaw();
    } catch {
      // a missing freezer.state is fine here
    }
    if (opts.killAll) {
      try {
        this.signalAll(SIGKILL);
      } catch {
        // processes that cannot be killed make rmdir fail below, with a hint
      }
      waitUntil(() => this.pids().length === 0, 2000);
    }
    return removeContainerCgroups(dirs, this.saved.created);
  }

  oomKillCount(): number {
    return this.oomState().kills;
  }

  // memory.oom_control: oom_kill counts kills (Linux >= 4.13), under_oom is
  // 1 while the cgroup is out of memory, which with the OOM killer disabled
  // (oom_kill_disable 1) is the only sign of an OOM.
  oomState(): OomState {
    const d = this.dir('memory');
    const text = d === undefined ? undefined : this.io.readOptional(d, 'memory.oom_control');
    if (text === undefined) return { kills: 0, underOom: false, killerDisabled: false };
    const m = parseFlatKeyed(text);
    return { kills: Number(m.get('oom_kill') ?? 0n), underOom: m.get('under_oom') === 1n, killerDisabled: m.get('oom_kill_disable') === 1n };
  }

  stats(): CgroupStats {
    const s = emptyStats();
    const io = this.io;
    const exists = (d: string | undefined): d is string => d !== undefined && fs.existsSync(d);

    // cpu (fs/cpu.go GetStats) and cpuacct (fs/cpuacct.go GetStats)
    const cpu = this.dir('cpu');
    if (exists(cpu)) {
      const st = parseFlatKeyed(io.readOptional(cpu, 'cpu.stat') ?? '');
      setNZ(s.cpu.throttling, 'periods', st.get('nr_periods'));
      setNZ(s.cpu.throttling, 'throttledPeriods', st.get('nr_throttled'));
      setNZ(s.cpu.throttling, 'throttledTime', st.get('throttled_time'));
    }
    const acct = this.dir('cpuacct');
    if (exists(acct)) {
      const st = parseFlatKeyed(io.readOptional(acct, 'cpuacct.stat') ?? '');
      s.cpu.usage.user = ((st.get('user') ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
      s.cpu.usage.kernel = ((st.get('system') ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
      setNZ(s.cpu.usage, 'total', optU64(io, acct, 'cpuacct.usage'));
      const per = io.readOptional(acct, 'cpuacct.usage_percpu');
      if (per !== undefined) setNZ(s.cpu.usage, 'percpu', per.trim().split(/\s+/).filter((x) => x !== '').map((x) => parseU64(x)));
      const all = io.readOptional(acct, 'cpuacct.usage_all');
      if (all !== undefined) {
        // "cpu user system" header, then one line per cpu.
        const k: bigint[] = [];
        const u: bigint[] = [];
        for (const line of all.split('\n').slice(1)) {
          const f = line.trim().split(/\s+/);
          if (f.length !== 3 || f[1] === undefined || f[2] === undefined) continue;
          u.push(parseU64(f[1]));
          k.push(parseU64(f[2]));
        }
        setNZ(s.cpu.usage, 'percpu_kernel', k);
        setNZ(s.cpu.usage, 'percpu_user', u);
      }
    }

    // cpuset (fs/cpuset.go GetStats)
    const cs = this.dir('cpuset');
    if (exists(cs)) {
      setNZ(s.cpuset, 'cpus', parseCpuList(io.readOptional(cs, 'cpuset.cpus') ?? ''));
      setNZ(s.cpuset, 'mems', parseCpuList(io.readOptional(cs, 'cpuset.mems') ?? ''));
      const flag = (f: string): bigint => optU64(io, cs, f) ?? 0n;
      s.cpuset.cpu_exclusive = flag('cpuset.cpu_exclusive');
      s.cpuset.mem_hardwall = flag('cpuset.mem_hardwall');
      s.cpuset.mem_exclusive = flag('cpuset.mem_exclusive');
      s.cpuset.memory_migrate = flag('cpuset.memory_migrate');
      s.cpuset.memory_spread_page = flag('cpuset.memory_spread_page');
      s.cpuset.memory_spread_slab = flag('cpuset.memory_spread_slab');
      s.cpuset.memory_pressure = flag('cpuset.memory_pressure');
      s.cpuset.sched_load_balance = flag('cpuset.sched_load_balance');
      const lvl = Number(io.readOptional(cs, 'cpuset.sched_relax_domain_level')?.trim() ?? '0');
      s.cpuset.sched_relax_domain_level = Number.isFinite(lvl) ? lvl : 0;
    }

    // memory (fs/memory.go GetStats)
    const mem = this.dir('memory');
    if (exists(mem)) {
      const raw = parseFlatKeyed(io.readOptional(mem, 'memory.stat') ?? '');
      setNZ(s.memory, 'raw', mapToRecord(raw));
      setNZ(s.memory, 'cache', raw.get('cache'));
      const data = (prefix: string): ReturnType<typeof memoryEntry> | undefined => {
        const usage = optU64(io, mem, `${prefix}.usage_in_bytes`);
        if (usage === undefined) return undefined; // memsw/kmem are optional
        return memoryEntry(
          usage,
          optU64(io, mem, `${prefix}.max_usage_in_bytes`) ?? 0n,
          optU64(io, mem, `${prefix}.failcnt`) ?? 0n,
          optU64(io, mem, `${prefix}.limit_in_bytes`) ?? 0n,
        );
      };
      s.memory.usage = data('memory') ?? s.memory.usage;
      s.memory.swap = data('memory.memsw') ?? s.memory.swap;
      s.memory.kernel = data('memory.kmem') ?? s.memory.kernel;
      s.memory.kernelTCP = data('memory.kmem.tcp') ?? s.memory.kernelTCP;
    }

    // pids (fs/pids.go GetStats): "max" is reported as 0.
    const pids = this.dir('pids');
    if (exists(pids)) {
      setNZ(s.pids, 'current', optU64(io, pids, 'pids.current'));
      const max = io.readOptional(pids, 'pids.max')?.trim();
      if (max !== undefined && max !== 'max') setNZ(s.pids, 'limit', parseU64(max));
    }

    const blk = this.dir('blkio');
    if (exists(blk)) s.blkio = blkioStatsV1(io, blk);

    // hugetlb (fs/hugetlb.go GetStats), reservation files preferred.
    const huge = this.dir('hugetlb');
    if (exists(huge)) {
      for (const size of this.opts.hugePageSizes ?? readHostHugePageSizes()) {
        let prefix = `hugetlb.${size}.rsvd`;
        if (!io.exists(huge, `${prefix}.usage_in_bytes`)) prefix = `hugetlb.${size}`;
        const usage = optU64(io, huge, `${prefix}.usage_in_bytes`);
        if (usage === undefined) continue;
        const h: HugetlbJSON = { failcnt: optU64(io, huge, `${prefix}.failcnt`) ?? 0n };
        setNZ(h, 'usage', usage);
        setNZ(h, 'max', optU64(io, huge, `${prefix}.max_usage_in_bytes`));
        s.hugetlb[size] = h;
      }
    }
    return canonicalStats(s);
  }
}

// fs/blkio.go GetStats: the first group whose first file has entries wins
// (BFQ debug, BFQ, CFQ, throttle recursive, throttle).
function blkioStatsV1(io: CgroupFiles, dir: string): BlkioJSON {
  type Key = keyof Omit<BlkioJSON, 'psi'>;
  const groups: Array<Array<[string, Key]>> = [
    [
      ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
      ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.sectors_recursive', 'sectorsRecursive'],
      ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.time_recursive', 'ioTimeRecursive'],
      ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
    ],
  ];
  const out: BlkioJSON = {};
  for (const group of groups) {
    for (let i = 0; i < group.length; i++) {
      const [file, key] = group[i] as [string, Key];
      const entries = blkioEntries(io, dir, file);
      if (entries.length === 0) {
        if (i === 0) break; // try the next group
        return out;
      }
      out[key] = entries;
      if (i === group.length - 1) return out;
    }
  }
  return out;
}

function blkioEntries(io: CgroupFiles, dir: string, file: string): BlkioEntryJSON[] {
  let text: string | undefined;
  try {
    text = io.readOptional(dir, file);
  } catch (err) {
    if (errnoOf(err) === 'EACCES') return [];
    throw err;
  }
  if (text === undefined) return [];
  const out: BlkioEntryJSON[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.trim().split(/[ :]+/);
    if (f.length < 3) continue; // "Total N"
    const e: BlkioEntryJSON = {};
    setNZ(e, 'major', parseU64(f[0] ?? '0'));
    setNZ(e, 'minor', parseU64(f[1] ?? '0'));
    if (f.length === 4) {
      setNZ(e, 'op', f[2]);
      setNZ(e, 'value', parseU64(f[3] ?? '0'));
    } else {
      setNZ(e, 'value', parseU64(f[2] ?? '0'));
    }
    out.push(e);
  }
  return out;
}
