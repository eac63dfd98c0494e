// Does this host provide what a config asks for? Namespace types, user
// namespace sysctls, the cgroup controllers linux.resources needs (mounted
// on v1, delegated on v2), seccomp actions, flags and architectures, the
// LSMs, idmapped mounts, hook binaries and the program to run. Each finding
// names the config field; nothing here writes.

import path from 'node:path';
import { Codes } from '../errors/codes.js';
import { parseMountOptions } from '../linux/mount-options.js';
import type { Spec } from '../spec/types.js';
import type { Diagnostic, Severity } from './diagnostic.js';
import { IDMAP_FILESYSTEMS, NS_FILES, SECCOMP_ACTIONS, fsTypeOf, type HostFacts } from './host-facts.js';
import { hostReader, kernelAtLeast, type HostReader } from './host-reader.js';

const host = (severity: Severity, message: string, field: string | undefined, extra: { hint?: string; path?: string } = {}): Diagnostic => {
  const d: Diagnostic = { severity, check: 'host', code: Codes.HostUnsupported, message };
  if (field !== undefined) d.field = field;
  if (extra.path !== undefined) d.path = extra.path;
  if (extra.hint !== undefined) d.hint = extra.hint;
  return d;
};

function nonEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as object).some(nonEmpty);
  return true;
}

function namespaceChecks(spec: Spec, f: HostFacts, h: HostReader): Diagnostic[] {
  const out: Diagnostic[] = [];
  (spec.linux?.namespaces ?? []).forEach((ns, i) => {
    const field = `/linux/namespaces/${i}`;
    if (ns.path) {
      // create opens it, as the caller: so do we
      const errno = h.openError(ns.path);
      if (errno === 'ENOENT') {
        out.push(host('error', `${ns.type} namespace ${ns.path} does not exist`, `${field}/path`, { path: ns.path, hint: 'the namespace to join must exist when the container is created' }));
        return;
      }
      if (errno !== undefined) {
        out.push(host('error', `cannot open ${ns.type} namespace ${ns.path}: ${errno}`, `${field}/path`, {
          path: ns.path,
          hint: errno === 'EACCES' || errno === 'EPERM' ? 'opening /proc/<pid>/ns/* needs ptrace access to that process (proc(5))' : undefined,
        }));
        return;
      }
      // /proc/<pid>/ns/<x> links read "net:[4026531840]"
      const kind = /^(\w+):\[\d+\]$/.exec(h.readlink(ns.path) ?? '')?.[1];
      if (kind !== undefined && kind !== NS_FILES[ns.type]) {
        out.push(host('error', `${ns.path} is a ${kind} namespace, not ${ns.type}`, `${field}/path`, { path: ns.path, hint: `use /proc/<pid>/ns/${NS_FILES[ns.type]}` }));
      }
      return;
    }
    if (!f.namespaces[ns.type]) {
      out.push(host('error', `this kernel has no ${ns.type} namespaces (/proc/self/ns/${NS_FILES[ns.type]} is missing)`, `${field}/type`, {
        hint: ns.type === 'time' ? 'time namespaces need Linux 5.6 with CONFIG_TIME_NS' : `the kernel needs the ${ns.type} namespace configured in`,
      }));
    }
    if (ns.type === 'user') {
      if (f.userns.max === 0) {
        out.push(host('error', 'user namespaces are disabled here (user.max_user_namespaces is 0)', `${field}/type`, { hint: 'sysctl -w user.max_user_namespaces=15000' }));
      }
      if (f.uid !== 0 && f.userns.unprivilegedClone === 0) {
        out.push(host('error', 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone is 0)', `${field}/type`, { hint: 'sysctl -w kernel.unprivileged_userns_clone=1, or run as root' }));
      }
      if (f.uid !== 0 && f.userns.apparmorRestrict === 1) {
        out.push(host('warning', 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns is 1)', `${field}/type`, { hint: 'run as root, or allow userns for runt in an AppArmor profile' }));
      }
    }
  });
  return out;
}

// linux.resources member -> the controller it needs on v1 and on v2
// (undefined: the kernel has no such controller for that version).
const CONTROLLERS: { member: string; pick?: (r: Record<string, unknown>) => boolean; v1: string | undefined; v2: string | undefined }[] = [
  { member: 'memory', v1: 'memory', v2: 'memory' },
  { member: 'cpu', pick: (r) => ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'burst', 'idle'].some((k) => r[k] !== undefined), v1: 'cpu', v2: 'cpu' },
  { member: 'cpu', pick: (r) => nonEmpty(r.cpus) || nonEmpty(r.mems), v1: 'cpuset', v2: 'cpuset' },
  { member: 'pids', v1: 'pids', v2: 'pids' },
  { member: 'blockIO', v1: 'blkio', v2: 'io' },
  { member: 'hugepageLimits', v1: 'hugetlb', v2: 'hugetlb' },
  { member: 'rdma', v1: 'rdma', v2: 'rdma' },
  { member: 'network', pick: (r) => r.classID !== undefined, v1: 'net_cls', v2: undefined },
  { member: 'network', pick: (r) => nonEmpty(r.priorities), v1: 'net_prio', v2: undefined },
];

function cgroupChecks(spec: Spec, f: HostFacts): Diagnostic[] {
  const out: Diagnostic[] = [];
  const r = (spec.linux?.resources ?? {}) as Record<string, unknown>;
  const mode = f.cgroup.mode;
  if (mode === 'none') {
    return [host('error', 'no cgroup filesystem is mounted here', undefined, { hint: 'mount cgroup2 on /sys/fs/cgroup' })];
  }
  const v1 = new Set(f.cgroup.v1.flatMap((x) => x.controllers));
  const u = f.cgroup.unified;
  for (const c of CONTROLLERS) {
    const val = r[c.member];
    if (!nonEmpty(val) || (c.pick && !c.pick(val as Record<string, unknown>))) continue;
    const field = `/linux/resources/${c.member}`;
    if (mode === 'v2') {
      if (c.v2 === undefined) continue; // runt warns at create: ignored on v2, as runc
      if (!u!.controllers.includes(c.v2)) {
        out.push(host('error', `linux.resources.${c.member} needs the ${c.v2} cgroup v2 controller, which this kernel does not offer`, field, { path: `${u!.mountpoint}/cgroup.controllers` }));
      } else if (!u!.parentControllers.includes(c.v2)) {
        out.push(host('error', `linux.resources.${c.member} needs the ${c.v2} controller, which is not delegated to ${u!.parent}`, field, {
          path: `${u!.parent}/cgroup.controllers`,
          hint: `enable it in cgroup.subtree_control of each ancestor of ${u!.parent}`,
        }));
      }
    } else if (!v1.has(c.v1!)) {
      out.push(host('error', `linux.resources.${c.member} needs the ${c.v1} cgroup controller, which is not mounted here`, field, {
        hint: `mount the ${c.v1} controller below /sys/fs/cgroup`,
      }));
    }
  }
  if (nonEmpty(r.unified) && mode !== 'v2') {
    out.push(host('error', `linux.resources.unified needs a cgroup v2 host; this one is ${mode}`, '/linux/resources/unified', { hint: 'remove linux.resources.unified or run on a cgroup v2 host' }));
  }
  return out;
}

// Architectures whose system calls a process on this machine can make.
const NATIVE_ARCHES: Record<string, string[]> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  riscv64: ['SCMP_ARCH_RISCV64'],
  ppc64le: ['SCMP_ARCH_PPC64LE'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
};

// seccomp(2) filter flags and the kernel that brought them.
const SECCOMP_FLAGS: Record<string, [number, number]> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17],
  SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17],
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

function seccompChecks(spec: Spec, f: HostFacts): Diagnostic[] {
  const sc = spec.linux?.seccomp as
    | { defaultAction?: string; architectures?: string[]; flags?: string[]; syscalls?: { names?: string[]; action?: string }[] }
    | undefined;
  if (!sc) return [];
  const out: Diagnostic[] = [];
  if (!f.seccomp.filter) {
    return [host('error', 'this kernel has no seccomp filters (/proc/sys/kernel/seccomp/actions_avail is missing)', '/linux/seccomp', { hint: 'the kernel needs CONFIG_SECCOMP_FILTER' })];
  }
  if (!f.seccomp.libseccomp) {
    out.push(host('error', 'libseccomp.so.2 was not found; runt compiles seccomp filters with it', '/linux/seccomp', { hint: 'install libseccomp2 (apt-get install libseccomp2)' }));
  }
  const action = (a: string | undefined, field: string): void => {
    if (!a) return;
    const avail = SECCOMP_ACTIONS[a];
    if (avail !== undefined && !f.seccomp.actions.includes(avail)) {
      out.push(host('error', `seccomp action ${a} is not available on this kernel (actions_avail: ${f.seccomp.actions.join(' ')})`, field));
    }
  };
  action(sc.defaultAction, '/linux/seccomp/defaultAction');
  (sc.syscalls ?? []).forEach((s, i) => action(s.action, `/linux/seccomp/syscalls/${i}/action`));
  const native = NATIVE_ARCHES[f.kernel.machine];
  (sc.architectures ?? []).forEach((a, i) => {
    if (native && !native.includes(a)) {
      out.push(host('warning', `seccomp architecture ${a} never applies on this ${f.kernel.machine} host`, `/linux/seccomp/architectures/${i}`));
    }
  });
  (sc.flags ?? []).forEach((flag, i) => {
    const need = SECCOMP_FLAGS[flag];
    if (need && !kernelAtLeast(f.kernel.release, need[0], need[1])) {
      out.push(host('error', `seccomp flag ${flag} needs Linux ${need[0]}.${need[1]}; this kernel is ${f.kernel.release}`, `/linux/seccomp/flags/${i}`));
    }
  });
  return out;
}

function lsmChecks(spec: Spec, f: HostFacts): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (spec.process?.apparmorProfile && !f.lsm.apparmor) {
    out.push(host('error', `process.apparmorProfile is set but AppArmor is not enabled on this host`, '/process/apparmorProfile', { hint: 'remove the profile, or enable AppArmor (apparmor=1 security=apparmor on the kernel command line)' }));
  }
  for (const [field, v] of [['/process/selinuxLabel', spec.process?.selinuxLabel], ['/linux/mountLabel', spec.linux?.mountLabel]] as const) {
    if (v && !f.lsm.selinux) out.push(host('error', `${field.slice(1).replace('/', '.')} is set but SELinux is not enabled on this host`, field, { hint: 'remove the label, or run on a host with SELinux enabled' }));
  }
  return out;
}

function idmapChecks(spec: Spec, f: HostFacts, h: HostReader, bundle: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const o = parseMountOptions(m.options);
    if (o.idmap === 'none' && !m.uidMappings?.length && !m.gidMappings?.length) return;
    const field = `/mounts/${i}`;
    if (f.syscalls.mount_setattr === 'missing' || f.syscalls.mount_setattr === 'blocked') {
      out.push(host('error', `idmapped mount on ${m.destination} needs mount_setattr(2), which is ${f.syscalls.mount_setattr} here`, field, { hint: 'idmapped mounts need Linux 5.12' }));
      return;
    }
    if (!m.source) return;
    const src = path.resolve(bundle, m.source);
    const fstype = fsTypeOf(h, src);
    if (fstype === undefined) return;
    const need = IDMAP_FILESYSTEMS[fstype];
    if (!need) {
      out.push(host('warning', `cannot tell whether ${fstype} (holding ${src}) supports idmapped mounts`, `${field}/source`, { path: src }));
    } else if (!kernelAtLeast(f.kernel.release, need[0], need[1])) {
      out.push(host('error', `${fstype} supports idmapped mounts from Linux ${need[0]}.${need[1]}; this kernel is ${f.kernel.release}`, `${field}/source`, { path: src }));
    }
  });
  return out;
}

// Resolve `p` inside `root` as the container will see it: symlinks are
// followed but can never leave the root.
export function resolveInRoot(h: HostReader, root: string, p: string): string | undefined {
  const todo = p.split('/').filter((x) => x !== '' && x !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = path.join(root, ...done, part);
    const link = h.readlink(full);
    if (link !== undefined) {
      if (++hops > 40) return undefined;
      if (link.startsWith('/')) done.length = 0;
      todo.unshift(...link.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    if (!h.exists(full)) return undefined;
    done.push(part);
  }
  return path.join(root, ...done);
}

function programChecks(spec: Spec, h: HostReader, rootfs: string): Diagnostic[] {
  const args0 = spec.process?.args?.[0];
  if (!args0) return [];
  const env = spec.process?.env ?? [];
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const candidates = args0.includes('/') ? [path.posix.resolve(spec.process?.cwd ?? '/', args0)] : pathVar.split(':').filter((d) => d).map((d) => path.posix.join(d, args0));
  for (const c of candidates) {
    const found = resolveInRoot(h, rootfs, c);
    const st = found === undefined ? undefined : h.stat(found);
    if (st?.isFile()) {
      if ((st.mode & 0o111) === 0) {
        return [{ severity: 'warning', check: 'host', code: Codes.ExecFailed, message: `${c} in the rootfs is not executable`, field: '/process/args/0', path: found! }];
      }
      return [];
    }
  }
  const where = args0.includes('/') ? args0 : `${args0} in PATH (${pathVar})`;
  return [{
    severity: 'warning',
    check: 'host',
    code: Codes.ExecFailed,
    message: `${where} was not found in the rootfs ${rootfs}`,
    field: '/process/args/0',
    hint: 'start would fail unless a mount provides it; check process.args[0] and PATH in process.env',
  }];
}

function hookChecks(spec: Spec, h: HostReader, rootfs: string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [phase, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks as { path: string }[] | undefined)?.forEach((hook, i) => {
      if (!hook.path?.startsWith('/')) return; // a semantic error already
      if (phase === 'startContainer' && rootfs === undefined) return; // no rootfs to look in
      // startContainer hooks run in the container: their path is in the rootfs
      const p = phase === 'startContainer' ? resolveInRoot(h, rootfs!, hook.path) : hook.path;
      const st = p === undefined ? undefined : h.stat(p);
      if (!st?.isFile()) {
        out.push(host('error', `${phase} hook ${hook.path} does not exist${phase === 'startContainer' ? ' in the rootfs' : ''}`, `/hooks/${phase}/${i}/path`, { path: hook.path }));
      } else if ((st.mode & 0o111) === 0) {
        out.push(host('error', `${phase} hook ${hook.path} is not executable`, `/hooks/${phase}/${i}/path`, { path: hook.path }));
      }
    });
  }
  return out;
}

// `h` reads the host's /proc and /sys; `files` the bundle's side (rootfs,
// hook binaries), which are real paths even when tests fake /proc.
export function hostChecks(spec: Spec, f: HostFacts, h: HostReader, bundle: string, rootfs: string | undefined, files: HostReader = hostReader()): Diagnostic[] {
  const who: Diagnostic[] =
    f.uid === 0 ? [] : [host('warning', `checked as uid ${f.uid}: runt create needs root (rootless containers are not implemented)`, undefined, { hint: 'run create as root, as engines do' })];
  return [
    ...who,
    ...namespaceChecks(spec, f, files),
    ...cgroupChecks(spec, f),
    ...seccompChecks(spec, f),
    ...lsmChecks(spec, f),
    ...idmapChecks(spec, f, h, bundle),
    ...hookChecks(spec, files, rootfs),
    ...(rootfs ? programChecks(spec, files, rootfs) : []),
  ];
}

// Does the config use idmapped mounts (the only host check that needs the
// syscall probes, which load koffi)?
export function usesIdmappedMounts(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => parseMountOptions(m.options).idmap !== 'none' || !!m.uidMappings?.length || !!m.gidMappings?.length);
}
