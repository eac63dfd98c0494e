// config.json -> plan: the one place where spec semantics become kernel
// operations (runc: libcontainer/specconv + rootfs_linux.go; crun: linux.c).
// Pure: host facts come in through PlanContext, so tests need no root.

import * as path from '../sys/paths.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { resolveCapabilities } from '../linux/capabilities.js';
import { formatIdMap } from '../linux/id-mapping.js';
import {
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR__ATIME,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  MS_STRICTATIME,
  parseMountOptions,
  parsePropagation,
} from '../linux/mount-options.js';
import { resolveRlimits } from '../linux/rlimits.js';
import { CLONE, type Field, type OpName, type Plan, type PlanOp } from '../plan/types.js';
import { netDeviceOps } from './net-devices.js';
import {
  apparmorOp,
  checkMountLabel,
  cpuAffinityOp,
  dedupEnv,
  ioPriorityOp,
  memoryPolicyOp,
  mountLabelData,
  NO_LSM,
  personalityOp,
  schedulerOp,
  seccompOp,
  selinuxExecOp,
  selinuxKeyOp,
  type OpSpec,
  type SeccompInstall,
  type SecurityFacts,
} from './process-extras.js';
import type { Hook, Mount, NamespaceType, Spec } from './types.js';
import { namespaceOf } from './validate.js';

export interface CgroupMountInfo {
  // v1 hierarchies (empty on a pure v2 host)
  v1: { key: string; dirName: string; controllers: string[]; containerDir: string; superOptions: string }[];
  // the cgroup2 hierarchy: at /sys/fs/cgroup on v2, at /sys/fs/cgroup/unified on hybrid
  unified: { containerDir: string } | undefined;
  mode: 'v1' | 'v2' | 'hybrid';
}

export interface PlanContext {
  id: string;
  bundle: string;
  rootfs: string;
  fifoPath: string;
  cgroupProcs: string[];
  cgroupMounts: CgroupMountInfo | undefined;
  consoleSocketFd: number | undefined;
  preserveFds: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  lastCap: number;
  stay: boolean;
  // What a bind source is on the host: decides whether a missing target is
  // created as a directory or a file.
  statSource: (p: string) => 'dir' | 'file' | 'missing';
  // linux.seccomp compiled to BPF (src/seccomp/filter.ts); a dry run leaves
  // it out and the plan shows the step uncompiled
  seccomp?: SeccompInstall | undefined;
  // the LSMs the host has; without it none is assumed
  host?: SecurityFacts | undefined;
  // where resctrl is mounted, if it is (linux.intelRdt)
  resctrl?: string | undefined;
}

export const NS_FLAGS: Record<NamespaceType, number> = {
  user: CLONE.NEWUSER,
  mount: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

// runc's default devices (libcontainer/specconv AllowedDevices with a path).
const DEFAULT_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const i = (v: number | bigint): Field => ({ i: v });
const s = (v: string): Field => ({ s: v });

// Turn MS_* flags of a bind mount into mount_setattr attributes.
function msToAttr(ms: number): number {
  let a = 0;
  if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (ms & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
  return a;
}

function atimeAttr(ms: number): number {
  if (ms & MS_NOATIME) return MOUNT_ATTR_NOATIME;
  if (ms & MS_STRICTATIME) return MOUNT_ATTR_STRICTATIME;
  return -1;
}

// A destination may be relative (spec 1.2: relative to "/"); ".." can never
// climb above the rootfs, lexically here and again by RESOLVE_IN_ROOT.
export function cleanDestination(dest: string): string {
  return path.normalize('/' + dest).replace(/\/+$/, '') || '/';
}

class PlanBuilder {
  readonly ops: PlanOp[] = [];
  private slot = 0;
  add(name: OpName, fields: Field[], text: string): void {
    this.ops.push({ name, fields, text });
  }
  nextSlot(): number {
    if (this.slot >= 256) throw new RuntimeError(Codes.MountConfig, 'too many bind mounts (at most 256)', { field: '/mounts' });
    return this.slot++;
  }
}

interface MountCtx {
  // bind sources are opened (open_tree) on the host, before any namespace is
  // joined: after setns into a user namespace we no longer could
  stage0: PlanBuilder;
  child: PlanBuilder;
  ctx: PlanContext;
  spec: Spec;
  // in a user namespace (new or joined): no mknod, no fresh sysfs without an own netns
  inUserNs: boolean;
}

function bindMount(m: MountCtx, src: string, dest: string, index: number, mount: Mount, knownKind?: 'dir' | 'file'): void {
  const o = parseMountOptions(mount.options);
  const recursive = (mount.options ?? []).includes('rbind');
  const kind = knownKind ?? m.ctx.statSource(src);
  if (kind === 'missing') {
    throw new RuntimeError(Codes.MountConfig, `bind mount source ${src} does not exist`, { field: `/mounts/${index}/source`, path: src });
  }
  const create = kind === 'dir' ? 'd' : 'f';
  let attrSet = msToAttr(o.flags);
  let attrClr = msToAttr(o.clearFlags);
  const atime = atimeAttr(o.flags);
  if (atime >= 0) {
    attrSet |= atime;
    attrClr |= MOUNT_ATTR__ATIME;
  }
  const slot = m.stage0.nextSlot();
  const mappings = mount.uidMappings?.length || mount.gidMappings?.length || o.idmap !== 'none';
  if (mappings) {
    const uidMaps = mount.uidMappings?.length ? mount.uidMappings : m.spec.linux?.uidMappings;
    const gidMaps = mount.gidMappings?.length ? mount.gidMappings : m.spec.linux?.gidMappings;
    if (!uidMaps?.length || !gidMaps?.length) {
      throw new RuntimeError(Codes.MountConfig, `idmapped mount on ${dest} needs uid and gid mappings`, {
        field: `/mounts/${index}`,
        hint: 'give the mount uidMappings and gidMappings, or use a user namespace with mappings',
      });
    }
    const idRecursive = o.idmap === 'ridmap' || (recursive && o.idmap !== 'idmap');
    m.stage0.add(
      'IDMAP_MOUNT',
      [i(slot), s(src), i(idRecursive || recursive ? 1 : 0), s(formatIdMap(uidMaps)), s(formatIdMap(gidMaps)), i(attrSet), i(attrClr), i(o.recAttrSet), i(o.recAttrClr)],
      `prepare idmapped bind mount of ${src}`,
    );
  } else {
    m.stage0.add(
      'BIND_PREPARE',
      [i(slot), s(src), i(recursive ? 1 : 0), i(attrSet), i(attrClr), i(o.recAttrSet), i(o.recAttrClr)],
      `prepare ${recursive ? 'recursive ' : ''}bind mount of ${src}${(mount.options ?? []).length ? ` (${(mount.options ?? []).join(',')})` : ''}`,
    );
  }
  m.child.add('MOVE_PREPARED', [i(slot), s(dest), i(create.charCodeAt(0))], `bind mount ${src} on ${dest}`);
  for (const p of o.propagation) m.child.add('PROPAGATION', [s(dest), i(p)], `set propagation of ${dest}`);
}

function fsMount(m: MountCtx, mount: Mount, dest: string): void {
  const o = parseMountOptions(mount.options);
  const type = mount.type ?? 'none';
  const source = mount.source ?? type;
  const data = mountLabelData(o.data, m.spec.linux?.mountLabel, type);
  m.child.add(
    'MOUNT',
    [s(source), s(dest), s(type), i(o.flags), s(data), i('d'.charCodeAt(0)), i(0)],
    `mount ${type} on ${dest}${data ? ` (${data})` : ''}`,
  );
  for (const p of o.propagation) m.child.add('PROPAGATION', [s(dest), i(p)], `set propagation of ${dest}`);
}

// A "cgroup" mount: cgroup2 on v2 hosts; on v1/hybrid a tmpfs with one mount
// per hierarchy, as runc's mountCgroupV1 does. With a cgroup namespace the
// hierarchies are mounted fresh (their root is the container's cgroup);
// without one the container's own cgroup directories are bind mounted.
function cgroupMount(m: MountCtx, mount: Mount, dest: string, index: number): void {
  const info = m.ctx.cgroupMounts;
  const o = parseMountOptions(mount.options);
  const cgroupNs = !!namespaceOf(m.spec, 'cgroup');
  const flags = o.flags & ~MS_RDONLY;
  const bindFlags = MS_RDONLY & o.flags ? ['ro', 'nosuid', 'nodev', 'noexec'] : ['nosuid', 'nodev', 'noexec'];
  if (!info) {
    throw new RuntimeError(Codes.MountConfig, 'cannot mount cgroup: no cgroup hierarchy found on this host', { field: `/mounts/${index}` });
  }
  const sub = (dir: string, key: string, data: string, containerDir: string, fstype: string): void => {
    if (cgroupNs && !m.inUserNs) {
      m.child.add('MOUNT', [s('cgroup'), s(dir), s(fstype), i(o.flags), s(data), i('d'.charCodeAt(0)), i(0)], `mount ${fstype} ${key} on ${dir}`);
    } else if (cgroupNs) {
      // in a user namespace the hierarchy can only be mounted fresh inside its own cgroup namespace
      m.child.add('MOUNT', [s('cgroup'), s(dir), s(fstype), i(o.flags), s(data), i('d'.charCodeAt(0)), i(0)], `mount ${fstype} ${key} on ${dir}`);
    } else {
      // the container's cgroup directories exist only once create made them
      bindMount(m, containerDir, dir, index, { destination: dir, source: containerDir, options: ['rbind', ...bindFlags] }, 'dir');
    }
  };
  if (info.mode === 'v2') {
    sub(dest, 'unified', '', info.unified!.containerDir, 'cgroup2');
    return;
  }
  m.child.add('MOUNT', [s('tmpfs'), s(dest), s('tmpfs'), i(flags), s('mode=755'), i('d'.charCodeAt(0)), i(0)], `mount tmpfs on ${dest} for the cgroup hierarchies`);
  for (const h of info.v1) {
    sub(`${dest}/${h.dirName}`, h.key, h.key.startsWith('name=') ? h.key : h.controllers.join(','), h.containerDir, 'cgroup');
    // co-mounted controllers (cpu,cpuacct) get a symlink per controller, as on the host
    if (h.controllers.length > 1) {
      for (const c of h.controllers) {
        if (c !== h.dirName) m.child.add('SYMLINK', [s(h.dirName), s(`${dest}/${c}`)], `symlink ${dest}/${c} -> ${h.dirName}`);
      }
    }
  }
  if (info.unified) sub(`${dest}/unified`, 'unified', '', info.unified.containerDir, 'cgroup2');
  if (o.flags & MS_RDONLY) {
    m.child.add('MOUNT', [s(''), s(dest), s(''), i(MS_BIND | MS_REMOUNT | MS_RDONLY | (flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC))), s(''), i(0), i(0)], `remount ${dest} read-only`);
  }
}

function isBindMount(mount: Mount): boolean {
  const opts = mount.options ?? [];
  return mount.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
}

function compileMounts(m: MountCtx): boolean {
  let devMounted = false;
  const userNs = m.inUserNs;
  const netNs = namespaceOf(m.spec, 'network');
  (m.spec.mounts ?? []).forEach((mount, index) => {
    const dest = cleanDestination(mount.destination);
    if (dest === '/') {
      throw new RuntimeError(Codes.MountConfig, 'a mount on / would hide the rootfs; use root.path instead', { field: `/mounts/${index}/destination` });
    }
    if (dest === '/dev') devMounted = true;
    const opts = mount.options ?? [];
    if (isBindMount(mount)) {
      const src = path.resolve(m.ctx.bundle, mount.source!);
      bindMount(m, src, dest, index, mount);
    } else if (mount.type === 'cgroup') {
      cgroupMount(m, mount, dest, index);
    } else if (mount.type === 'sysfs' && userNs && (!netNs || netNs.path)) {
      // sysfs can only be mounted by the owner of the network namespace; in a
      // user namespace without its own network namespace bind the host's
      // /sys instead, as runc does
      bindMount(m, '/sys', dest, index, { destination: dest, source: '/sys', options: ['rbind', ...opts.filter((x) => ['ro', 'nosuid', 'nodev', 'noexec'].includes(x))] });
    } else {
      fsMount(m, mount, dest);
    }
  });
  return devMounted;
}

function compileDevices(m: MountCtx): void {
  const user = (m.spec.linux?.devices ?? []).map((d) => ({ ...d }));
  const paths = new Set(user.map((d) => d.path));
  const all = [
    ...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)).map((d) => ({ type: 'c', path: d.path, major: d.major, minor: d.minor, fileMode: 0o666, uid: 0, gid: 0 })),
    ...user,
  ];
  for (const d of all) {
    if (m.inUserNs) {
      // mknod is not allowed in a user namespace: bind the host's node
      if (d.type === 'p') continue;
      m.stage0.add('BIND_PREPARE', [i(m.stage0.nextSlot()), s(d.path), i(0), i(0), i(0), i(0), i(0)], `prepare bind mount of host device ${d.path}`);
      const slot = (m.stage0.ops.at(-1)!.fields[0] as { i: number }).i;
      m.child.add('MOVE_PREPARED', [i(slot), s(d.path), i('f'.charCodeAt(0))], `bind host device ${d.path}`);
      continue;
    }
    const typeBits = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const mode = typeBits | ((d.fileMode ?? 0o666) & 0o7777);
    m.child.add('MKNOD', [s(d.path), i(mode), i(d.major ?? 0), i(d.minor ?? 0), i(d.uid ?? 0), i(d.gid ?? 0)], `create device ${d.path} (${d.type} ${d.major ?? 0}:${d.minor ?? 0})`);
  }
  const links: [string, string][] = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
    ['pts/ptmx', '/dev/ptmx'],
  ];
  for (const [target, link] of links) m.child.add('SYMLINK', [s(target), s(link)], `symlink ${link} -> ${target}`);
}

function hookOp(b: PlanBuilder, phase: string, h: Hook): void {
  const args = h.args ?? [h.path];
  const env = h.env ?? [];
  b.add('HOOK', [s(phase), s(h.path), i(h.timeout ?? 0), i(args.length), ...args.map(s), i(env.length), ...env.map(s)], `run ${phase} hook ${h.path}`);
}

// config-linux.md: with intelRdt set and no resctrl mounted, generate an error.
function checkIntelRdt(resctrl: string | undefined): void {
  if (!resctrl) {
    throw new RuntimeError(Codes.IntelRdtConfig, 'linux.intelRdt is set but no resctrl filesystem is mounted', {
      field: '/linux/intelRdt',
      hint: 'Intel RDT needs a CPU with RDT (or AMD QoS) and `mount -t resctrl resctrl /sys/fs/resctrl`; or remove linux.intelRdt',
    });
  }
}

function hostIdOf(id: number, maps: { containerID: number; hostID: number; size: number }[] | undefined): number {
  const m = (maps ?? []).find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : 0;
}

// Whether the native stage may make the container's network namespace
// before its plan comes (Plan.netnsAhead): a new one, with no user
// namespace, no namespace joined by path and no network device to move
// (those want the namespace made by the clone). create.ts asks as soon as
// config.json is read, before the schema check, so the spec may be anything
// here; runt-init checks the plan again at the clone.
export function netnsAheadFor(spec: unknown): boolean {
  const linux = (spec as { linux?: { namespaces?: unknown; netDevices?: unknown } } | null)?.linux;
  const namespaces = Array.isArray(linux?.namespaces) ? (linux.namespaces as ({ type?: unknown; path?: unknown } | null)[]) : [];
  const devices = linux?.netDevices;
  return (
    namespaces.some((n) => n?.type === 'network' && !n.path) &&
    !namespaces.some((n) => n?.type === 'user' || !!n?.path) &&
    !(devices && typeof devices === 'object' && Object.keys(devices).length > 0)
  );
}

export function compilePlan(spec: Spec, ctx: PlanContext): Plan {
  const stage0 = new PlanBuilder();
  const prepare = new PlanBuilder(); // host-side mount preparation, before the joins
  const child = new PlanBuilder();
  const warnings: string[] = [];
  const linux = spec.linux ?? {};
  const proc = spec.process!;
  const userNs = namespaceOf(spec, 'user');
  const newUserNs = !!userNs && !userNs.path;
  const host = ctx.host ?? NO_LSM;
  const seccomp = linux.seccomp ? ctx.seccomp : undefined;
  const addOp = (b: PlanBuilder, op: OpSpec | undefined): void => {
    if (op) b.add(op.name, op.fields, op.text);
  };
  checkMountLabel(linux.mountLabel, host);
  if (linux.intelRdt) checkIntelRdt(ctx.resctrl);

  // ---- stage 0, on the host
  stage0.add('PRESERVE_FDS', [i(ctx.preserveFds)], `pass ${ctx.preserveFds} extra fds to the container`);
  for (const p of ctx.cgroupProcs) stage0.add('CGROUP_PROCS', [s(p)], `open ${p}`);
  // the fifo belongs to the container's root: in a user namespace that is a mapped host id
  const rootUid = newUserNs ? hostIdOf(0, linux.uidMappings) : 0;
  const rootGid = newUserNs ? hostIdOf(0, linux.gidMappings) : 0;
  stage0.add('EXEC_FIFO', [s(ctx.fifoPath), i(rootUid), i(rootGid)], `create the exec fifo ${ctx.fifoPath}`);
  if (seccomp?.notify && seccomp.listenerPath) stage0.add('SECCOMP_LISTENER', [s(seccomp.listenerPath)], `connect to the seccomp agent at ${seccomp.listenerPath}`);
  for (const op of netDeviceOps(spec)) addOp(stage0, op);
  // a foreground run with a terminal and no console socket: runt-init stays
  // and relays the pty between our stdio and the container (runc tty.go)
  const relayTty = !!proc.terminal && ctx.consoleSocketFd === undefined && ctx.stay;
  if (relayTty) stage0.add('CONSOLE_PROXY', [], 'relay the pty between our stdio and the container (no console socket)');
  const stage0Head = stage0.ops.length; // preparation goes here, before the joins
  let cloneFlags = 0;
  let unshareAfter = 0;
  let newTime = false;
  for (const ns of linux.namespaces ?? []) {
    const flag = NS_FLAGS[ns.type];
    if (ns.path) {
      stage0.add('JOIN_NS', [i(flag), s(ns.path)], `join ${ns.type} namespace ${ns.path}`);
    } else if (ns.type === 'cgroup') {
      // unshared by the init once it sits in its cgroup, so that the
      // namespace's root is the container's cgroup
      unshareAfter |= flag;
    } else if (ns.type === 'time') {
      newTime = true;
    } else {
      cloneFlags |= flag;
    }
  }
  if (newTime) {
    const off = linux.timeOffsets ?? {};
    const text = Object.entries(off)
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
      .join('');
    stage0.add('TIMENS', [s(text)], `create a time namespace${text ? ` with offsets ${text.trim().replace(/\n/g, ', ')}` : ''}`);
  }

  const m: MountCtx = { stage0: prepare, child, ctx, spec, inUserNs: !!userNs };

  // ---- the container's init
  child.add('SETSID', [], 'start a new session');
  if (ctx.cgroupProcs.length) child.add('ATTACH_CGROUPS', [], 'join the container cgroup (the init attaches itself)');
  // What the init needs from the runtime's answer to "P" ("G"): in a user
  // namespace, its uid/gid maps; in a cgroup that someone else moves it
  // into (systemd: no procs files to attach itself), that move, before a
  // cgroup namespace or any mount. G also means the cgroup limits are
  // written (create.ts writes them while the init starts), the devices
  // rules among them: they must govern its mknods and any mount of a
  // device (a non-bind mount with a path as its source). Otherwise the
  // init waits only after its other mounts, which overlap the runtime's
  // limits and its answer to P (~0.7 ms of a create).
  const goFirst = !!userNs || ctx.cgroupProcs.length === 0 || (spec.mounts ?? []).some((mnt) => !isBindMount(mnt) && mnt.type !== 'cgroup' && !!mnt.source?.startsWith('/'));
  const waitGo = (): void => child.add('WAIT_GO', [], newUserNs ? 'wait for the runtime to write the uid/gid maps' : 'wait for the runtime');
  if (goFirst) waitGo();
  // runc: do not keep the CPU pinning of the runtime that started us; the
  // kernel narrows "every CPU" to the cgroup's cpuset
  addOp(child, cpuAffinityOp(undefined, '/process/execCPUAffinity', 'inside the cgroup'));
  // in a new or joined user namespace our host uid is unmapped until we
  // switch to the namespace's root
  if (userNs) child.add('BECOME_ROOT', [], 'become root in the user namespace');
  if (unshareAfter) child.add('UNSHARE', [i(unshareAfter)], 'create the cgroup namespace');
  // a new network namespace starts with lo down; runc (the "loopback"
  // network specconv adds) and crun bring it up, so 127.0.0.1 works inside
  if (cloneFlags & CLONE.NEWNET) child.add('LOOPBACK_UP', [], 'set the loopback device up');
  if (!ctx.noNewKeyring) {
    addOp(child, selinuxKeyOp(proc.selinuxLabel, host));
    child.add('KEYRING', [s(`_ses.${ctx.id}`)], 'join a new session keyring');
  }
  const rootProp = linux.rootfsPropagation ? parsePropagation(linux.rootfsPropagation) : MS_SLAVE | MS_REC;
  child.add('ROOT_PROPAGATION', [i(rootProp)], `set propagation of / to ${linux.rootfsPropagation ?? 'rslave'}`);
  child.add('BIND_ROOTFS', [s(ctx.rootfs)], `bind mount the rootfs ${ctx.rootfs} onto itself`);
  const devMounted = compileMounts(m);
  if (!goFirst) waitGo();
  if (devMounted) compileDevices(m);
  else if (linux.devices?.length) warnings.push('linux.devices are created only when /dev is mounted (as runc does); none was');
  const hooks = spec.hooks ?? {};
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0) {
    child.add('HOOKS_REQUEST', [], 'let the runtime run the prestart and createRuntime hooks');
  }
  for (const h of hooks.createContainer ?? []) hookOp(child, 'createContainer', h);
  if (ctx.noPivot) child.add('CHROOT', [s(ctx.rootfs)], `move the rootfs to / and chroot (--no-pivot)`);
  else child.add('PIVOT_ROOT', [s(ctx.rootfs)], `pivot_root into ${ctx.rootfs}`);
  if (proc.terminal) {
    child.add(
      'CONSOLE',
      [i(relayTty ? -2 : (ctx.consoleSocketFd ?? -1)), i(proc.consoleSize?.height ?? 0), i(proc.consoleSize?.width ?? 0)],
      'allocate a pty, send its master to the console socket, make it our terminal and /dev/console',
    );
  }
  if (spec.root?.readonly) child.add('REMOUNT_ROOT_RO', [], 'remount the rootfs read-only');
  if (spec.hostname !== undefined && spec.hostname !== '') child.add('HOSTNAME', [s(spec.hostname)], `set hostname ${spec.hostname}`);
  if (spec.domainname !== undefined && spec.domainname !== '') child.add('DOMAINNAME', [s(spec.domainname)], `set domainname ${spec.domainname}`);
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) child.add('SYSCTL', [s(k), s(v)], `sysctl ${k}=${v}`);
  for (const p of linux.readonlyPaths ?? []) child.add('READONLY_PATH', [s(p)], `make ${p} read-only`);
  for (const p of linux.maskedPaths ?? []) child.add('MASK_PATH', [s(p)], `mask ${p}`);
  for (const r of resolveRlimits(proc.rlimits)) child.add('RLIMIT', [i(r.resource), i(r.soft), i(r.hard)], `set ${r.type} to ${r.soft}/${r.hard}`);
  // runc standard_init order: I/O priority and scheduler, personality
  // (before seccomp, runc 1.4), the exec labels, then seccomp (without
  // no_new_privs it needs CAP_SYS_ADMIN: before the capabilities go)
  if (proc.ioPriority) addOp(child, ioPriorityOp(proc.ioPriority));
  if (proc.scheduler) addOp(child, schedulerOp(proc.scheduler));
  if (linux.personality) addOp(child, personalityOp(linux.personality));
  if (linux.memoryPolicy) addOp(child, memoryPolicyOp(linux.memoryPolicy));
  addOp(child, apparmorOp(proc.apparmorProfile, host, '/process/apparmorProfile'));
  addOp(child, selinuxExecOp(proc.selinuxLabel, host, '/process/selinuxLabel'));
  if (linux.seccomp && !proc.noNewPrivileges) addOp(child, seccompOp(seccomp));

  const caps = resolveCapabilities(proc.capabilities, ctx.lastCap);
  if (caps.unknown.length) warnings.push(`ignoring unknown or unavailable capabilities: ${caps.unknown.join(', ')}`);
  const groups = proc.user.additionalGids ?? [];
  const c = caps.sets;
  child.add(
    'IDENTITY',
    [
      i(proc.user.uid),
      i(proc.user.gid),
      i(proc.user.umask ?? -1),
      i(groups.length),
      ...groups.map(i),
      i(ctx.lastCap),
      i(c.bounding[0]), i(c.bounding[1]),
      i(c.effective[0]), i(c.effective[1]),
      i(c.permitted[0]), i(c.permitted[1]),
      i(c.inheritable[0]), i(c.inheritable[1]),
      i(c.ambient[0]), i(c.ambient[1]),
    ],
    `switch to uid ${proc.user.uid} gid ${proc.user.gid}${groups.length ? ` groups ${groups.join(',')}` : ''} and set capabilities`,
  );
  if (proc.noNewPrivileges) child.add('NO_NEW_PRIVS', [], 'set no_new_privs');
  const args = proc.args ?? [];
  const env = dedupEnv(proc.env ?? []);
  child.add('RESOLVE_EXEC', [s(proc.cwd), i(args.length), ...args.map(s), i(env.length), ...env.map(s)], `chdir ${proc.cwd} and find ${args[0]}`);
  // with no_new_privs: as close to execve as the exec fifo allows (runc)
  if (linux.seccomp && proc.noNewPrivileges) addOp(child, seccompOp(seccomp));
  child.add('READY', [], 'report ready and wait for `start` on the exec fifo');
  for (const h of hooks.startContainer ?? []) hookOp(child, 'startContainer', h);
  child.add('EXEC', [], `exec ${args.join(' ')}`);

  stage0.add('CLONE', [i(cloneFlags), i(ctx.stay ? 1 : 0)], `clone the init into new namespaces (flags 0x${cloneFlags.toString(16)})`);

  return {
    ops: [...stage0.ops.slice(0, stage0Head), ...prepare.ops, ...stage0.ops.slice(stage0Head), ...child.ops],
    warnings,
    newUserNamespace: newUserNs,
    uidMap: newUserNs ? formatIdMap(linux.uidMappings ?? []) : undefined,
    gidMap: newUserNs ? formatIdMap(linux.gidMappings ?? []) : undefined,
    netnsAhead: netnsAheadFor(spec),
  };
}
