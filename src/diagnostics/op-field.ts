// Which config.json member a plan operation comes from, so that an error of
// the native stage names the field to fix ("/mounts/3") beside the syscall,
// errno and path, and what to do for the common failures. Loaded only when
// create fails in the native stage.

import path from 'node:path';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Plan, PlanOp } from '../plan/types.js';
import type { Spec } from '../spec/types.js';

function str(op: PlanOp, k: number): string | undefined {
  const f = op.fields[k];
  return f && 's' in f ? f.s : undefined;
}

const clean = (d: string): string => path.posix.normalize('/' + d).replace(/\/+$/, '') || '/';
const escape = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

function index<T>(list: T[] | undefined, pred: (x: T) => boolean, base: string): string | undefined {
  const i = (list ?? []).findIndex(pred);
  return i < 0 ? undefined : `${base}/${i}`;
}

// The mount at `dest`, or the one that contains it (the hierarchies of a
// cgroup mount); else the device at that path.
function mountAt(spec: Spec, dest: string): string | undefined {
  const mounts = spec.mounts ?? [];
  let best = -1;
  mounts.forEach((m, i) => {
    const d = clean(m.destination);
    if ((dest === d || dest.startsWith(d + '/')) && (best < 0 || d.length >= clean(mounts[best]!.destination).length)) best = i;
  });
  if (best >= 0) return `/mounts/${best}`;
  return index(spec.linux?.devices, (d) => d.path === dest, '/linux/devices');
}

export function fieldOfOp(spec: Spec, op: PlanOp, syscall: string, bundle: string): string | undefined {
  switch (op.name as string) {
    case 'MOUNT':
    case 'MOVE_PREPARED':
      return mountAt(spec, str(op, 1) ?? '');
    case 'PROPAGATION':
      return mountAt(spec, str(op, 0) ?? '');
    case 'BIND_PREPARE':
    case 'IDMAP_MOUNT': {
      const src = str(op, 1) ?? '';
      return (
        index(spec.mounts, (m) => m.source !== undefined && path.resolve(bundle, m.source) === src, '/mounts') ??
        index(spec.linux?.devices, (d) => d.path === src, '/linux/devices')
      );
    }
    case 'MKNOD':
      return index(spec.linux?.devices, (d) => d.path === str(op, 0), '/linux/devices');
    case 'JOIN_NS':
      return index(spec.linux?.namespaces, (n) => n.path === str(op, 1), '/linux/namespaces');
    case 'CLONE':
    case 'UNSHARE':
      return '/linux/namespaces';
    case 'TIMENS':
      return '/linux/timeOffsets';
    case 'CGROUP_PROCS':
    case 'ATTACH_CGROUPS':
      return '/linux/cgroupsPath';
    case 'ROOT_PROPAGATION':
      return spec.linux?.rootfsPropagation ? '/linux/rootfsPropagation' : undefined;
    case 'BIND_ROOTFS':
    case 'PIVOT_ROOT':
    case 'CHROOT':
      return '/root/path';
    case 'REMOUNT_ROOT_RO':
      return '/root/readonly';
    case 'CONSOLE':
      return '/process/terminal';
    case 'MASK_PATH':
      return index(spec.linux?.maskedPaths, (p) => p === str(op, 0), '/linux/maskedPaths');
    case 'READONLY_PATH':
      return index(spec.linux?.readonlyPaths, (p) => p === str(op, 0), '/linux/readonlyPaths');
    case 'SYSCTL':
      return `/linux/sysctl/${escape(str(op, 0) ?? '')}`;
    case 'HOSTNAME':
      return '/hostname';
    case 'DOMAINNAME':
      return '/domainname';
    case 'RLIMIT':
      return '/process/rlimits';
    case 'IDENTITY':
      return '/process/user';
    case 'NO_NEW_PRIVS':
      return '/process/noNewPrivileges';
    case 'SECCOMP':
      return '/linux/seccomp';
    case 'SECCOMP_LISTENER':
      return '/linux/seccomp/listenerPath';
    case 'RESOLVE_EXEC':
      return syscall === 'chdir' ? '/process/cwd' : '/process/args/0';
    case 'EXEC':
      return '/process/args/0';
    case 'HOOK': {
      const phase = str(op, 0) ?? '';
      const hooks = (spec.hooks as Record<string, { path: string }[] | undefined> | undefined)?.[phase];
      return index(hooks, (h) => h.path === str(op, 1), `/hooks/${phase}`);
    }
    case 'PROC_WRITE':
      return (str(op, 1) ?? '').startsWith('exec ') ? '/process/apparmorProfile' : '/process/selinuxLabel';
    case 'SCHEDULER':
      return '/process/scheduler';
    case 'IOPRIO':
      return '/process/ioPriority';
    case 'PERSONALITY':
      return '/linux/personality';
    case 'MEMPOLICY':
      return '/linux/memoryPolicy';
    case 'CPU_AFFINITY':
      return '/process/execCPUAffinity';
    case 'NET_DEVICE':
      return '/linux/netDevices';
    case 'LOOPBACK_UP':
      return index(spec.linux?.namespaces, (n) => n.type === 'network', '/linux/namespaces');
    default:
      return undefined;
  }
}

// What to do about common failures of an operation, beyond naming it.
export function hintForOp(spec: Spec, op: PlanOp, errno: string | undefined): string | undefined {
  const newUserNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  switch (op.name as string) {
    case 'MOUNT':
      if (errno === 'ENODEV') return `the kernel has no ${JSON.stringify(str(op, 2))} filesystem (/proc/filesystems lists the types it has)`;
      break;
    case 'JOIN_NS':
      if (errno === 'ENOENT') return `${str(op, 1)} does not exist: has the process whose namespace it was exited?`;
      if (errno === 'EINVAL') return `${str(op, 1)} is not a namespace of the type given next to it`;
      if (errno === 'EACCES' || errno === 'EPERM') {
        // opening /proc/<pid>/ns/* needs ptrace read access to <pid> (proc(5))
        return `runt may not open the namespaces of the process behind ${str(op, 1)}: that needs ptrace access to it (proc(5))${newUserNs ? '; a new user namespace cannot join namespaces of another one: join its user namespace too' : ''}`;
      }
      break;
    case 'BIND_PREPARE':
    case 'IDMAP_MOUNT':
      if (errno === 'ENOENT') return `the bind mount source ${str(op, 1)} does not exist`;
      if (op.name === 'IDMAP_MOUNT' && (errno === 'EINVAL' || errno === 'EPERM')) return `the filesystem of ${str(op, 1)} may not support idmapped mounts (\`runt validate\` checks)`;
      break;
    case 'MOVE_PREPARED':
    case 'MKNOD':
    case 'SYMLINK':
      if ((errno === 'EACCES' || errno === 'EPERM') && newUserNs) {
        return 'the container\'s root is a mapped host uid that may not write to the rootfs: create the path in the rootfs beforehand, or chown the rootfs to the mapped ids';
      }
      break;
  }
  return undefined;
}

// The native stage's error with the config field of its failing operation
// (error frame: step \t op index \t syscall \t ...) and, where the generic
// "the failing step was" is all it has, a hint that says what to do.
export function withConfigField(err: RuntimeError, payload: Buffer, spec: Spec, plan: Plan, bundle: string): RuntimeError {
  const [, opIndex = '-1', syscall = ''] = payload.toString('utf8').split('\t');
  const op = plan.ops[Number(opIndex)];
  if (!op) return err;
  const field = err.field ?? fieldOfOp(spec, op, syscall, bundle);
  const generic = err.hint === undefined || err.hint.startsWith('the failing step was');
  const hint = (generic ? hintForOp(spec, op, err.errno) : undefined) ?? err.hint;
  if (field === err.field && hint === err.hint) return err;
  return new RuntimeError(err.code, err.message, {
    field,
    path: err.path,
    syscall: err.syscall,
    errno: err.errno,
    phase: err.phase,
    hint,
    cause: err.cause,
  });
}
