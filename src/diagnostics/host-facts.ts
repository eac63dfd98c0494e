// What this host provides, as facts read from /proc, /sys and /etc plus the
// syscall probes: the namespaces the kernel has, the cgroup layout and its
// controllers, seccomp, the LSMs, user-namespace sysctls. Shared by
// `features --host`, `validate` (host checks), `explain` and `doctor`.
// Read-only and root-free.

import { detectLayout, type CgroupLayout } from '../cgroups/layout.js';
import type { NamespaceType } from '../spec/types.js';
import { type HostReader, kernelVersion } from './host-reader.js';
import { type ProbeResult, type ProbedSyscall, unknownProber, type SyscallProber } from './syscall-probe.js';

export const NS_FILES: Record<NamespaceType, string> = {
  cgroup: 'cgroup',
  ipc: 'ipc',
  mount: 'mnt',
  network: 'net',
  pid: 'pid',
  time: 'time',
  user: 'user',
  uts: 'uts',
};

// SCMP_ACT_* -> the name in /proc/sys/kernel/seccomp/actions_avail
export const SECCOMP_ACTIONS: Record<string, string> = {
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'user_notif',
};

export interface UnifiedFacts {
  mountpoint: string;
  controllers: string[]; // of the root cgroup
  // where runt puts a container with a relative cgroupsPath: below the
  // parent of our own cgroup (runc's fs2 rule)
  parent: string;
  parentControllers: string[];
  parentWritable: boolean;
}

export interface HostFacts {
  kernel: { release: string; version: [number, number, number]; machine: string };
  uid: number;
  namespaces: Record<NamespaceType, boolean>;
  userns: {
    max: number | undefined; // /proc/sys/user/max_user_namespaces
    unprivilegedClone: number | undefined; // Debian's kernel.unprivileged_userns_clone
    apparmorRestrict: number | undefined; // Ubuntu's kernel.apparmor_restrict_unprivileged_userns
    inside: boolean; // we run in a user namespace ourselves
  };
  cgroup: {
    mode: CgroupLayout['mode'] | 'none';
    v1: { controllers: string[]; mountpoint: string }[];
    unified: UnifiedFacts | undefined;
    systemd: boolean; // systemd is the init (/run/systemd/system)
  };
  seccomp: { kernel: boolean; filter: boolean; actions: string[]; libseccomp: string | undefined };
  lsm: { active: string[] | undefined; apparmor: boolean; selinux: boolean };
  syscalls: Record<ProbedSyscall, ProbeResult>;
}

function words(s: string | undefined): string[] {
  return (s ?? '').split(/[\s,]+/).filter((w) => w !== '');
}

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
}

function join(a: string, b: string): string {
  const s = `${a}/${b}`.replace(/\/+/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib'];

export function cgroupFacts(h: HostReader): HostFacts['cgroup'] {
  const mountinfo = h.read('/proc/self/mountinfo') ?? '';
  const self = h.read('/proc/self/cgroup') ?? '';
  const layout = detectLayout(mountinfo, self, (mp) => words(h.read(join(mp, 'cgroup.controllers'))));
  const systemd = h.exists('/run/systemd/system');
  if (!layout.unified && layout.v1.length === 0) return { mode: 'none', v1: [], unified: undefined, systemd };
  let unified: UnifiedFacts | undefined;
  if (layout.unified) {
    const u = layout.unified;
    const own = u.root !== '/' && u.ownPath.startsWith(u.root) ? u.ownPath.slice(u.root.length) || '/' : u.ownPath;
    const parentRel = layout.mode === 'v2' ? own.slice(0, own.lastIndexOf('/')) || '/' : own;
    const parent = join(u.mountpoint, parentRel);
    unified = {
      mountpoint: u.mountpoint,
      controllers: u.controllers,
      parent,
      parentControllers: words(h.read(join(parent, 'cgroup.controllers'))),
      parentWritable: h.writable(parent),
    };
  }
  return {
    mode: layout.mode,
    v1: layout.v1.map((x) => ({ controllers: x.controllers, mountpoint: x.mountpoint })),
    unified,
    systemd,
  };
}

export function gatherHostFacts(h: HostReader, probe: SyscallProber = unknownProber): HostFacts {
  const namespaces = {} as Record<NamespaceType, boolean>;
  for (const [type, file] of Object.entries(NS_FILES)) namespaces[type as NamespaceType] = h.exists(`/proc/self/ns/${file}`);
  const uidMap = words(h.read('/proc/self/uid_map'));
  const status = h.read('/proc/self/status') ?? '';
  const lsmList = h.read('/sys/kernel/security/lsm');
  return {
    kernel: { release: h.release, version: kernelVersion(h.release), machine: h.machine },
    uid: h.uid,
    namespaces,
    userns: {
      max: num(h.read('/proc/sys/user/max_user_namespaces')),
      unprivilegedClone: num(h.read('/proc/sys/kernel/unprivileged_userns_clone')),
      apparmorRestrict: num(h.read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')),
      inside: uidMap.length >= 3 && !(uidMap[0] === '0' && uidMap[1] === '0' && uidMap[2] === '4294967295'),
    },
    cgroup: cgroupFacts(h),
    seccomp: {
      kernel: /^Seccomp:/m.test(status),
      filter: h.exists('/proc/sys/kernel/seccomp/actions_avail'),
      actions: words(h.read('/proc/sys/kernel/seccomp/actions_avail')),
      libseccomp: LIB_DIRS.map((d) => `${d}/libseccomp.so.2`).find((p) => h.exists(p)),
    },
    lsm: {
      active: lsmList === undefined ? undefined : words(lsmList),
      apparmor: (h.read('/sys/module/apparmor/parameters/enabled') ?? '').trim() === 'Y',
      selinux: h.exists('/sys/fs/selinux/enforce'),
    },
    syscalls: probe(),
  };
}

// Which filesystems can be idmapped, and since when (FS_ALLOW_IDMAP in the
// kernel's file_system_type). Others may or may not: we say we do not know.
export const IDMAP_FILESYSTEMS: Record<string, [number, number]> = {
  ext4: [5, 12],
  xfs: [5, 12],
  vfat: [5, 12],
  btrfs: [5, 15],
  f2fs: [5, 18],
  overlay: [5, 19],
  tmpfs: [6, 3],
};

// The filesystem type of the mount that holds `p` (longest mount point
// prefix in our mountinfo).
export function fsTypeOf(h: HostReader, p: string): string | undefined {
  let best: { mp: string; type: string } | undefined;
  for (const line of (h.read('/proc/self/mountinfo') ?? '').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || f.length < sep + 2) continue;
    const mp = (f[4] ?? '').replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    const type = f[sep + 1]!;
    if (p === mp || p.startsWith(mp === '/' ? '/' : mp + '/')) {
      if (!best || mp.length >= best.mp.length) best = { mp, type };
    }
  }
  return best?.type;
}
