// A fake cgroupfs in a temp directory: mount points are plain directories,
// controller knobs are plain files pre-filled with the values a fresh kernel
// cgroup shows. mountinfo / /proc/self/cgroup text pointing at it goes
// through the real detectLayout, so tests exercise the parser too.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceFilter } from '../../../src/cgroups/devicefilter.js';
import type { DeviceFilterLoader } from '../../../src/cgroups/devices-v2.js';
import { type CgroupLayout, detectLayout } from '../../../src/cgroups/layout.js';

export function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'runt-cgfs-'));
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}

// Files a new v1 cgroup of each controller has (subset that matters here).
export const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.soft_limit_in_bytes': '9223372036854771712\n',
    'memory.swappiness': '60\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.use_hierarchy': '1\n',
    'memory.usage_in_bytes': '4096\n',
    'memory.max_usage_in_bytes': '8192\n',
    'memory.failcnt': '0\n',
    'memory.stat': 'cache 100\nrss 200\n',
  },
  cpu: {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.cfs_burst_us': '0\n',
    'cpu.idle': '0\n',
    'cpu.rt_period_us': '1000000\n',
    'cpu.rt_runtime_us': '0\n',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  },
  cpuacct: {
    'cpuacct.usage': '0\n',
    'cpuacct.stat': 'user 0\nsystem 0\n',
    'cpuacct.usage_percpu': '0 0 \n',
    'cpuacct.usage_all': 'cpu user system\n0 0 0\n1 0 0\n',
  },
  cpuset: {
    'cpuset.cpus': '\n',
    'cpuset.mems': '\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  blkio: {
    'blkio.weight': '500\n',
    'blkio.leaf_weight': '500\n',
    'blkio.weight_device': '',
    'blkio.leaf_weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
  },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED\n', 'freezer.self_freezing': '0\n' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '0\n', 'hugetlb.2MB.rsvd.limit_in_bytes': '0\n' },
  net_cls: { 'net_cls.classid': '0\n' },
  net_prio: { 'net_prio.ifpriomap': '' },
  rdma: { 'rdma.max': '' },
};

export const V2_FILES: Record<string, string> = {
  'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma\n',
  'cgroup.subtree_control': '',
  'cgroup.type': 'domain\n',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'cgroup.kill': '',
  'cpu.weight': '100\n',
  'cpu.max': 'max 100000\n',
  'cpu.max.burst': '0\n',
  'cpu.idle': '0\n',
  'cpuset.cpus': '\n',
  'cpuset.mems': '\n',
  'io.weight': 'default 100\n',
  'io.max': '',
  'memory.max': 'max\n',
  'memory.low': '0\n',
  'memory.swap.max': 'max\n',
  'memory.current': '4096\n',
  'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
  'pids.max': 'max\n',
  'hugetlb.2MB.max': 'max\n',
  'hugetlb.2MB.rsvd.max': 'max\n',
  'rdma.max': '',
};

export function writeFiles(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v);
}

export function populateV1(dir: string, controllers: string[]): void {
  const files: Record<string, string> = { 'cgroup.procs': '' };
  for (const c of controllers) Object.assign(files, V1_FILES[c] ?? {});
  writeFiles(dir, files);
}

export function populateV2(dir: string, overrides: Record<string, string> = {}): void {
  writeFiles(dir, { 'cgroup.procs': '', ...V2_FILES, ...overrides });
}

export const HOST_V1_KEYS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd'];

// A v1 (or hybrid) host in `root` mounted like the real one here; ownPath is
// the runtime's own cgroup in every hierarchy.
export function fakeV1Layout(
  root: string,
  opts: { keys?: string[]; ownPath?: string; hybrid?: boolean; rootFiles?: boolean } = {},
): CgroupLayout {
  const keys = opts.keys ?? HOST_V1_KEYS;
  const own = opts.ownPath ?? '/';
  const mi: string[] = [`31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755`];
  const pc: string[] = [];
  keys.forEach((key, i) => {
    const dirName = key === 'name=systemd' ? 'systemd' : key;
    const mp = path.join(root, dirName);
    fs.mkdirSync(mp, { recursive: true });
    if (opts.rootFiles !== false) populateV1(mp, key.split(','));
    mi.push(`${32 + i} 31 0:${29 + i} / ${mp} rw,relatime - cgroup cgroup rw,${key}`);
    pc.push(`${i + 1}:${key}:${own}`);
  });
  if (opts.hybrid) {
    const mp = path.join(root, 'unified');
    fs.mkdirSync(mp, { recursive: true });
    fs.writeFileSync(path.join(mp, 'cgroup.controllers'), '\n');
    fs.writeFileSync(path.join(mp, 'cgroup.procs'), '');
    mi.push(`60 31 0:60 / ${mp} rw,relatime - cgroup2 cgroup2 rw`);
    pc.push(`0::${own}`);
  }
  return detectLayout(mi.join('\n') + '\n', pc.join('\n') + '\n');
}

export function fakeV2Layout(root: string, opts: { ownPath?: string; controllers?: string } = {}): CgroupLayout {
  const mp = path.join(root, 'cgroup');
  populateV2(mp, opts.controllers === undefined ? {} : { 'cgroup.controllers': opts.controllers });
  const mi = `30 23 0:27 / ${mp} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  return detectLayout(mi, `0::${opts.ownPath ?? '/user.slice/user-0.slice/session-1.scope'}\n`);
}

// Stands in for bpf(2): records the filters a v2 manager attaches, or fails
// like the kernel would.
export class RecordingLoader implements DeviceFilterLoader {
  attached: Array<{ dir: string; filter: DeviceFilter }> = [];
  fail: Error | undefined;
  attach(dir: string, filter: DeviceFilter): void {
    if (this.fail) throw this.fail;
    this.attached.push({ dir, filter });
  }
}
