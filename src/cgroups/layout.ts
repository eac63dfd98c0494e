// Which cgroup hierarchies this host has, where they are mounted, and where
// the calling process sits in each of them. Everything is parsed from the
// text of /proc/self/mountinfo and /proc/self/cgroup so that tests can feed
// in any host shape (v1, v2, hybrid, nested containers with a non-"/" mount
// root, mount points with escaped characters).
//
// runc decides v2-vs-v1 with statfs(/sys/fs/cgroup) (opencontainers/cgroups
// utils.go IsCgroup2UnifiedMode / IsCgroup2HybridMode); we derive the same
// answer from mountinfo so the decision is testable without a kernel.

import { fs } from '../sys/fs.js';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface V1Hierarchy {
  // 'memory', 'cpu', 'name=systemd', or 'cpu,cpuacct' when co-mounted
  // (controllers joined by ',' in the kernel's order from the super options).
  key: string;
  controllers: string[];
  mountpoint: string;
  // The mount's root inside the hierarchy (mountinfo field 4); "/" on a host,
  // something like "/docker/<id>" inside a container without a cgroupns.
  root: string;
  superOptions: string;
  // The caller's cgroup in this hierarchy, from /proc/self/cgroup.
  ownPath: string;
}

export interface UnifiedHierarchy {
  mountpoint: string;
  root: string;
  ownPath: string;
  controllers: string[]; // content of <mountpoint>/cgroup.controllers
}

export interface CgroupLayout {
  mode: CgroupMode;
  v1: V1Hierarchy[];
  unified?: UnifiedHierarchy;
}

export interface MountinfoEntry {
  mountId: number;
  parentId: number;
  root: string;
  mountpoint: string;
  mountOptions: string;
  fstype: string;
  source: string;
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as \040 \011 \012 \134
// (proc(5), fs/proc_namespace.c show_mountinfo → seq_escape "\t\n\\ ").
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      root: unescapeMountinfo(fields[3] ?? ''),
      mountpoint: unescapeMountinfo(fields[4] ?? ''),
      mountOptions: fields[5] ?? '',
      fstype: fields[sep + 1] ?? '',
      source: unescapeMountinfo(fields[sep + 2] ?? ''),
      superOptions: fields[sep + 3] ?? '',
    });
  }
  return out;
}

export interface ProcCgroupEntry {
  id: string;
  controllers: string[]; // empty for the cgroup2 "0::" line
  path: string;
}

// /proc/<pid>/cgroup: "hierarchy-ID:controller-list:cgroup-path" (cgroups(7));
// the path may itself contain ':' so only the first two are separators
// (opencontainers/cgroups utils.go parseCgroupFromReader uses SplitN(…, 3)).
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const list = line.slice(a + 1, b);
    out.push({ id: line.slice(0, a), controllers: list === '' ? [] : list.split(','), path: line.slice(b + 1) });
  }
  return out;
}

// cgroup v1 mount options that are not controllers (kernel/cgroup/cgroup-v1.c
// cgroup1_parse_param). "name=X" is kept: it names a controller-less hierarchy.
const V1_NON_CONTROLLER_OPTIONS = new Set([
  'rw', 'ro', 'all', 'none', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode',
  'favordynmods', 'nofavordynmods',
]);

function v1ControllersFromOptions(superOptions: string): string[] {
  return superOptions
    .split(',')
    .filter((o) => o !== '' && !V1_NON_CONTROLLER_OPTIONS.has(o) && (!o.includes('=') || o.startsWith('name=')));
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function defaultReadControllers(mountpoint: string): string[] {
  try {
    return fs.readFileSync(`${mountpoint}/cgroup.controllers`, 'utf8').split(/\s+/).filter((s) => s !== '');
  } catch {
    return [];
  }
}

export function detectLayout(
  mountinfo: string,
  selfCgroup: string,
  readControllers: (mountpoint: string) => string[] = defaultReadControllers,
): CgroupLayout {
  const mounts = parseMountinfo(mountinfo);
  const own = parseProcCgroup(selfCgroup);

  const v1: V1Hierarchy[] = [];
  let unified: UnifiedHierarchy | undefined;

  for (const m of mounts) {
    if (m.fstype === 'cgroup2') {
      // Keep the first cgroup2 mount, like runc keeps the first mount of each
      // v1 subsystem (utils.go getCgroupMountsV1 with all=false).
      if (unified) continue;
      const line = own.find((e) => e.id === '0' && e.controllers.length === 0);
      unified = {
        mountpoint: m.mountpoint,
        root: m.root,
        ownPath: line?.path ?? '/',
        controllers: readControllers(m.mountpoint),
      };
    } else if (m.fstype === 'cgroup') {
      const controllers = v1ControllersFromOptions(m.superOptions);
      if (controllers.length === 0) continue;
      const key = controllers.join(',');
      if (v1.some((h) => h.key === key)) continue; // bind mount of the same hierarchy
      const line =
        own.find((e) => sameSet(e.controllers, controllers)) ??
        own.find((e) => e.controllers.some((c) => controllers.includes(c)));
      v1.push({ key, controllers, mountpoint: m.mountpoint, root: m.root, superOptions: m.superOptions, ownPath: line?.path ?? '/' });
    }
  }

  // A host is v2 when no v1 hierarchy carries a real controller (a lone
  // name=systemd v1 mount kept for old containers does not make it hybrid:
  // runc looks only at whether /sys/fs/cgroup itself is cgroup2), hybrid when
  // v1 controllers and a cgroup2 mount coexist, v1 otherwise.
  const realV1 = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  const mode: CgroupMode = unified ? (realV1 ? 'hybrid' : 'v2') : 'v1';

  const layout: CgroupLayout = { mode, v1: mode === 'v2' ? [] : v1 };
  if (unified) layout.unified = unified;
  return layout;
}

let hostLayout: CgroupLayout | undefined;

// The real host's layout, read once per process (the layout of a running
// system does not change under us in any way we could handle anyway).
export function readHostLayout(): CgroupLayout {
  if (!hostLayout) {
    hostLayout = detectLayout(
      fs.readFileSync('/proc/self/mountinfo', 'utf8'),
      fs.readFileSync('/proc/self/cgroup', 'utf8'),
    );
  }
  return hostLayout;
}

// The caller's cgroup expressed relative to a mount's root: the part to append
// to the mount point. Mirrors getCgroupPathHelper in opencontainers/cgroups
// v1.go (filepath.Rel(root, cgroup)); when the own path is not below the
// mount root (a container without cgroupns seeing host paths) keep it whole.
export function ownPathUnderMount(ownPath: string, root: string): string {
  if (root === '/' || root === '') return ownPath;
  if (ownPath === root) return '/';
  if (ownPath.startsWith(root + '/')) return ownPath.slice(root.length);
  return ownPath;
}
