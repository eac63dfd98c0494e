// cgroup v2 manager (runc's fs2 driver): one directory in the unified
// hierarchy; controllers are enabled top-down through cgroup.subtree_control
// when the directory is created (fs2/create.go CreateCgroupPath).

import { fs } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Resources } from '../spec/types.js';
import { SIGKILL, killPids, missingDirs, mkdirTracked, readPidsRecursive, removeContainerCgroups, removeDirs, runningInUserNamespace, waitUntil } from './common.js';
import { effectiveDeviceRules } from './devices.js';
import { applyDevicesV2 } from './devices-v2.js';
import { CgroupFiles, joinPath, parseU64 } from './fsio.js';
import type { ApplyOptions, CgroupManager, CgroupManagerOptions, DestroyOptions, OomState, SavedCgroup } from './manager.js';
import { removeEmptyCgroups } from './remove-empty.js';
import {
  setCpuV2,
  setCpusetV2,
  setHugetlbV2,
  setIoV2,
  setMemoryV2,
  setPidsV2,
  setRdmaV2,
  setUnifiedV2,
  warnNetworkV2,
} from './resources-v2.js';
import {
  type BlkioEntryJSON,
  type CgroupStats,
  type HugetlbJSON,
  canonicalStats,
  emptyStats,
  mapToRecord,
  memoryEntry,
  optU64,
  parseFlatKeyed,
  parsePSI,
  readHostHugePageSizes,
  setNZ,
  U64_MAX,
} from './stats.js';

export class V2Manager implements CgroupManager {
  readonly saved: SavedCgroup;
  private readonly io: CgroupFiles;
  private readonly opts: CgroupManagerOptions;

  constructor(saved: SavedCgroup, opts: CgroupManagerOptions = {}) {
    this.saved = saved;
    this.opts = opts;
    this.io = new CgroupFiles(opts.log);
  }

  get dir(): string {
    const d = this.saved.paths['unified'];
    if (d === undefined) throw new RuntimeError(Codes.StateCorrupt, 'saved cgroup state has no unified path');
    return d;
  }

  private mountpoint(): string {
    const m = this.saved.mountpoints?.['unified'];
    if (m !== undefined) return m;
    // Loaded from an older state without mount points: climb while the
    // parent is still a cgroup directory.
    let cur = this.dir;
    for (;;) {
      const parent = cur.slice(0, cur.lastIndexOf('/')) || '/';
      if (parent === cur || !fs.existsSync(joinPath(parent, 'cgroup.procs'))) return cur;
      cur = parent;
    }
  }

  // missingDirs(dir) from plannedDirs(), for create()
  private planned: string[] | undefined;

  plannedDirs(): string[] | undefined {
    this.planned = missingDirs(this.dir);
    return this.planned;
  }

  create(): void {
    const dir = this.dir;
    const mount = this.mountpoint();
    if (dir !== mount && !dir.startsWith(mount + '/')) {
      throw new RuntimeError(Codes.CgroupSetup, `invalid cgroup path ${dir}: not below ${mount}`, { path: dir });
    }
    const made = mkdirTracked(dir, this.planned);
    this.planned = undefined;
    try {
      // Enable every controller the root offers in each ancestor's
      // subtree_control, all at once, or one by one if that fails (some
      // may be unavailable when nested); failures surface later as clear
      // errors from apply().
      const ctrls = (this.io.readOptional(mount, 'cgroup.controllers') ?? '').split(/\s+/).filter((c) => c !== '');
      const levels = [mount];
      for (const seg of dir.slice(mount.length).split('/').filter((s) => s !== '')) {
        levels.push(joinPath(levels[levels.length - 1] as string, seg));
      }
      levels.forEach((level, i) => {
        if (i > 0) {
          const type = this.io.readOptional(level, 'cgroup.type')?.trim();
          // A cgroup created under a populated one is "domain invalid": it
          // can hold neither domain controllers nor processes.
          if (type === 'domain invalid') {
            throw new RuntimeError(Codes.CgroupSetup, `cannot use cgroup ${level}: it is in "domain invalid" state (its parent has processes of its own)`, {
              path: level,
              hint: 'choose a cgroupsPath whose parent has no processes (cgroup v2 "no internal processes" rule)',
            });
          }
        }
        if (i < levels.length - 1 && ctrls.length > 0) {
          const all = ctrls.map((c) => '+' + c).join(' ');
          if (this.io.tryWrite(level, 'cgroup.subtree_control', all) !== undefined) {
            for (const c of ctrls) this.io.tryWrite(level, 'cgroup.subtree_control', '+' + c);
          }
        }
      });
    } catch (err) {
      removeDirs(made);
      throw err;
    }
    this.saved.created.push(...made);
  }

  procsFiles(): string[] {
    return [joinPath(this.dir, 'cgroup.procs')];
  }

  // fs2.go Set order: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma,
  // (freezer), unified last so that it can override the converted values.
  apply(resources: Resources | undefined, opts: ApplyOptions = {}): string[] {
    const r: Resources = resources ?? {};
    const warnings: string[] = [];
    const io = this.io;
    const d = this.dir;
    const rules = opts.skipDevices ? [] : effectiveDeviceRules(r.devices, opts.linuxDevicePaths);
    setPidsV2(io, d, r);
    setMemoryV2(io, d, r, warnings);
    setIoV2(io, d, r, warnings);
    setCpuV2(io, d, r, warnings);
    if (!opts.skipDevices) {
      warnings.push(...applyDevicesV2(d, rules, { loader: this.opts.deviceFilterLoader, inUserNamespace: this.opts.inUserNamespace ?? runningInUserNamespace() }));
    }
    setCpusetV2(io, d, r);
    setHugetlbV2(io, d, r);
    setRdmaV2(io, d, r);
    warnNetworkV2(r, warnings);
    setUnifiedV2(io, d, r);
    return warnings;
  }

  pids(): number[] {
    const set = new Set<number>();
    readPidsRecursive(this.dir, set);
    return [...set].sort((a, b) => a - b);
  }

  signalAll(sig: number): void {
    const d = this.dir;
    if (!fs.existsSync(d)) return;
    if (sig === SIGKILL) {
      const errno = this.io.tryWrite(d, 'cgroup.kill', '1');
      if (errno === undefined) return;
      if (errno !== 'ENOENT' && errno !== 'ENODEV') {
        throw new RuntimeError(Codes.KillFailed, `cannot kill the processes of ${d}: ${errno}`, { path: `${d}/cgroup.kill`, errno });
      }
    }
    // No cgroup.kill (Linux < 5.14) or another signal: freeze, list, signal,
    // restore (runc signalAllProcesses). v2-frozen tasks do die of SIGKILL.
    const wasFrozen = this.frozenSafe();
    let froze = false;
    try {
      if (!wasFrozen && this.io.exists(d, 'cgroup.freeze')) {
        this.freeze();
        froze = true;
      }
    } catch {
      // an optimisation only
    }
    try {
      killPids(this.pids(), sig);
    } finally {
      if (froze) {
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

  // fs2/freezer.go setFreezer: write "1", then wait for "frozen 1" in
  // cgroup.events (up to 10s); on failure thaw back rather than leave a
  // half-frozen container.
  freeze(): void {
    const d = this.dir;
    const errno = this.io.tryWrite(d, 'cgroup.freeze', '1');
    if (errno === 'ENOENT') {
      throw new RuntimeError(Codes.CgroupFreeze, `freezer not supported: ${d}/cgroup.freeze does not exist`, {
        path: `${d}/cgroup.freeze`,
        errno,
        hint: 'the cgroup v2 freezer needs Linux >= 5.2',
      });
    }
    if (errno !== undefined) {
      throw new RuntimeError(Codes.CgroupFreeze, `cannot freeze ${d}: ${errno}`, { path: `${d}/cgroup.freeze`, errno });
    }
    if (!this.waitFrozen(10_000)) {
      this.io.tryWrite(d, 'cgroup.freeze', '0');
      throw new RuntimeError(Codes.CgroupFreeze, `timeout of 10s reached waiting for ${d} to freeze`, { path: `${d}/cgroup.events` });
    }
  }

  private waitFrozen(ms: number): boolean {
    return waitUntil(() => {
      const ev = this.io.readOptional(this.dir, 'cgroup.events');
      if (ev === undefined) return true; // nothing to wait on
      return parseFlatKeyed(ev).get('frozen') === 1n;
    }, ms);
  }

  thaw(): void {
    const d = this.dir;
    if (!fs.existsSync(d)) return;
    const errno = this.io.tryWrite(d, 'cgroup.freeze', '0');
    if (errno !== undefined && errno !== 'ENOENT' && errno !== 'ENODEV') {
      throw new RuntimeError(Codes.CgroupFreeze, `cannot thaw ${d}: ${errno}`, { path: `${d}/cgroup.freeze`, errno });
    }
  }

  frozen(): boolean {
    const v = this.io.readOptional(this.dir, 'cgroup.freeze')?.trim();
    if (v !== '1') return false;
    // Requested; report frozen once the kernel says so (getFreezer → waitFrozen).
    return this.waitFrozen(1000);
  }

  destroy(opts: DestroyOptions = {}): string[] {
    const d = this.dir;
    // gone, or empty (the usual delete): nothing to thaw or kill
    const done = removeEmptyCgroups(this.saved);
    if (done) return done;
    try {
      this.thaw();
    } catch {
      // not fatal for removal
    }
    if (opts.killAll) {
      try {
        this.signalAll(SIGKILL);
      } catch {
        // rmdir below reports what is left
      }
      waitUntil(() => {
        const ev = this.io.readOptional(d, 'cgroup.events');
        if (ev !== undefined) return parseFlatKeyed(ev).get('populated') === 0n;
        return this.pids().length === 0;
      }, 2000);
    }
    return removeContainerCgroups([d], this.saved.created);
  }

  oomKillCount(): number {
    return this.oomState().kills;
  }

  // memory.events oom_kill (what runc's notifyOnOOMV2 watches); v2 cannot
  // disable the OOM killer, so there is no "under OOM" state to report.
  oomState(): OomState {
    const text = this.io.readOptional(this.dir, 'memory.events');
    const kills = text === undefined ? 0 : Number(parseFlatKeyed(text).get('oom_kill') ?? 0n);
    return { kills, underOom: false, killerDisabled: false };
  }

  stats(): CgroupStats {
    const s = emptyStats();
    const io = this.io;
    const d = this.dir;
    if (!fs.existsSync(d)) return s;

    // pids (fs2/pids.go statPids): without the controller, count cgroup.procs.
    const cur = optU64(io, d, 'pids.current');
    if (cur !== undefined) {
      setNZ(s.pids, 'current', cur);
      const max = optU64(io, d, 'pids.max');
      if (max !== undefined && max !== U64_MAX) setNZ(s.pids, 'limit', max);
    } else {
      const procs = io.readOptional(d, 'cgroup.procs') ?? '';
      setNZ(s.pids, 'current', BigInt(procs.split('\n').filter((l) => l.trim() !== '').length));
    }

    // memory (fs2/memory.go statMemory)
    const statText = io.readOptional(d, 'memory.stat');
    if (statText !== undefined) {
      const raw = parseFlatKeyed(statText);
      setNZ(s.memory, 'raw', mapToRecord(raw));
      setNZ(s.memory, 'cache', raw.get('file'));
      const usage = optU64(io, d, 'memory.current');
      if (usage !== undefined) {
        const limit = optU64(io, d, 'memory.max') ?? 0n;
        s.memory.usage = memoryEntry(usage, optU64(io, d, 'memory.peak') ?? 0n, 0n, limit);
        const swapUsage = optU64(io, d, 'memory.swap.current');
        if (swapUsage !== undefined) {
          // v1 reports memory+swap; v2 swap alone: add them up for
          // compatibility, and drop the peak which cannot be combined.
          const swapLimit = optU64(io, d, 'memory.swap.max') ?? 0n;
          const combinedLimit = swapLimit === U64_MAX ? U64_MAX : swapLimit + limit;
          s.memory.swap = memoryEntry(swapUsage + usage, 0n, 0n, combinedLimit > U64_MAX ? U64_MAX : combinedLimit);
        }
      }
      const psi = parsePSI(io.readOptional(d, 'memory.pressure'));
      if (psi) s.memory.psi = psi;
    }

    // io (fs2/io.go statIo): rbytes/wbytes → service bytes, rios/wios → serviced.
    const ioStat = io.readOptional(d, 'io.stat');
    if (ioStat !== undefined) {
      const bytes: BlkioEntryJSON[] = [];
      const ios: BlkioEntryJSON[] = [];
      for (const line of ioStat.split('\n')) {
        const f = line.trim().split(/\s+/);
        const dev = f[0]?.split(':');
        if (!dev || dev.length !== 2) continue;
        for (const kv of f.slice(1)) {
          const [k, v] = kv.split('=');
          if (v === undefined) continue;
          const table = k === 'rbytes' || k === 'wbytes' ? bytes : k === 'rios' || k === 'wios' ? ios : undefined;
          if (!table) continue;
          const e: BlkioEntryJSON = {};
          setNZ(e, 'major', parseU64(dev[0] ?? '0'));
          setNZ(e, 'minor', parseU64(dev[1] ?? '0'));
          setNZ(e, 'op', k?.startsWith('r') ? 'Read' : 'Write');
          setNZ(e, 'value', parseU64(v));
          table.push(e);
        }
      }
      setNZ(s.blkio, 'ioServiceBytesRecursive', bytes);
      setNZ(s.blkio, 'ioServicedRecursive', ios);
    }
    const ioPsi = parsePSI(io.readOptional(d, 'io.pressure'));
    if (ioPsi) s.blkio.psi = ioPsi;

    // cpu (fs2/cpu.go statCpu): microseconds → nanoseconds.
    const cpuStat = io.readOptional(d, 'cpu.stat');
    if (cpuStat !== undefined) {
      const st = parseFlatKeyed(cpuStat);
      setNZ(s.cpu.usage, 'total', (st.get('usage_usec') ?? 0n) * 1000n);
      s.cpu.usage.user = (st.get('user_usec') ?? 0n) * 1000n;
      s.cpu.usage.kernel = (st.get('system_usec') ?? 0n) * 1000n;
      setNZ(s.cpu.throttling, 'periods', st.get('nr_periods'));
      setNZ(s.cpu.throttling, 'throttledPeriods', st.get('nr_throttled'));
      setNZ(s.cpu.throttling, 'throttledTime', (st.get('throttled_usec') ?? 0n) * 1000n);
    }
    const cpuPsi = parsePSI(io.readOptional(d, 'cpu.pressure'));
    if (cpuPsi) s.cpu.psi = cpuPsi;

    // hugetlb (fs2/hugetlb.go statHugeTlb): failcnt from <prefix>.events "max".
    for (const size of this.opts.hugePageSizes ?? readHostHugePageSizes()) {
      let prefix = `hugetlb.${size}.rsvd`;
      if (!io.exists(d, `${prefix}.current`)) prefix = `hugetlb.${size}`;
      const usage = optU64(io, d, `${prefix}.current`);
      if (usage === undefined) continue;
      const ev = parseFlatKeyed(io.readOptional(d, `${prefix}.events`) ?? '');
      const h: HugetlbJSON = { failcnt: ev.get('max') ?? 0n };
      setNZ(h, 'usage', usage);
      s.hugetlb[size] = h;
    }
    return canonicalStats(s);
  }
}
