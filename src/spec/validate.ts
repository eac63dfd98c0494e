// Semantic checks a JSON schema cannot express (runc: libcontainer/configs/
// validate). Each throws a RuntimeError naming the field (JSON pointer) and,
// where the fix is known, a hint. All of them run before any side effect.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { validateIdMappings } from '../linux/id-mapping.js';
import { resolveRlimits } from '../linux/rlimits.js';
import type { Spec, Namespace, NamespaceType } from './types.js';

export interface ValidateOptions {
  consoleSocket: boolean; // --console-socket given
  detached: boolean; // create, or run --detach
}

function isAbs(p: string): boolean {
  return p.startsWith('/');
}

export function namespaceOf(spec: Spec, type: NamespaceType): Namespace | undefined {
  return spec.linux?.namespaces?.find((n) => n.type === type);
}

function validateNamespaces(spec: Spec): void {
  const seen = new Map<string, number>();
  (spec.linux?.namespaces ?? []).forEach((ns, i) => {
    const at = `/linux/namespaces/${i}`;
    const first = seen.get(ns.type);
    if (first !== undefined) {
      throw new RuntimeError(Codes.NamespaceConfig, `duplicate ${ns.type} namespace (also at index ${first})`, {
        field: `${at}/type`,
        hint: 'list each namespace type once',
      });
    }
    seen.set(ns.type, i);
    if (ns.path !== undefined && ns.path !== '' && !isAbs(ns.path)) {
      throw new RuntimeError(Codes.NamespaceConfig, `${ns.type} namespace path ${JSON.stringify(ns.path)} must be absolute`, {
        field: `${at}/path`,
      });
    }
  });
  if (!namespaceOf(spec, 'mount')) {
    throw new RuntimeError(Codes.NamespaceConfig, 'a mount namespace is required', {
      field: '/linux/namespaces',
      hint: 'add {"type": "mount"} to linux.namespaces; without one the container would mount over the host',
    });
  }
}

function validateUserNamespace(spec: Spec): void {
  const user = namespaceOf(spec, 'user');
  const linux = spec.linux ?? {};
  const hasMaps = (linux.uidMappings?.length ?? 0) > 0 || (linux.gidMappings?.length ?? 0) > 0;
  // the member that is there, for the message and the field
  const maps = (linux.uidMappings?.length ?? 0) > 0 ? 'uidMappings' : 'gidMappings';
  if (!user) {
    if (hasMaps) {
      throw new RuntimeError(Codes.IdMappingConfig, `linux.${maps} is given but there is no user namespace`, {
        field: `/linux/${maps}`,
        hint: 'add {"type": "user"} to linux.namespaces or remove the mappings',
      });
    }
    return;
  }
  if (user.path) {
    if (hasMaps) {
      throw new RuntimeError(Codes.IdMappingConfig, `linux.${maps} cannot be given when joining an existing user namespace`, {
        field: `/linux/${maps}`,
      });
    }
    return;
  }
  if (!linux.uidMappings?.length) {
    throw new RuntimeError(Codes.IdMappingConfig, 'a new user namespace needs linux.uidMappings', { field: '/linux/uidMappings' });
  }
  if (!linux.gidMappings?.length) {
    throw new RuntimeError(Codes.IdMappingConfig, 'a new user namespace needs linux.gidMappings', { field: '/linux/gidMappings' });
  }
  validateIdMappings(linux.uidMappings, '/linux/uidMappings');
  validateIdMappings(linux.gidMappings, '/linux/gidMappings');
  const proc = spec.process;
  if (proc) {
    if (!linux.uidMappings.some((m) => proc.user.uid >= m.containerID && proc.user.uid < m.containerID + m.size)) {
      throw new RuntimeError(Codes.IdMappingConfig, `process.user.uid ${proc.user.uid} is not mapped in the user namespace`, {
        field: '/process/user/uid',
      });
    }
    if (!linux.gidMappings.some((m) => proc.user.gid >= m.containerID && proc.user.gid < m.containerID + m.size)) {
      throw new RuntimeError(Codes.IdMappingConfig, `process.user.gid ${proc.user.gid} is not mapped in the user namespace`, {
        field: '/process/user/gid',
      });
    }
  }
}

function validateTimeNamespace(spec: Spec): void {
  const time = namespaceOf(spec, 'time');
  const offsets = spec.linux?.timeOffsets;
  if (!offsets || Object.keys(offsets).length === 0) return;
  if (!time) {
    throw new RuntimeError(Codes.NamespaceConfig, 'linux.timeOffsets needs a time namespace', {
      field: '/linux/timeOffsets',
      hint: 'add {"type": "time"} to linux.namespaces',
    });
  }
  if (time.path) {
    throw new RuntimeError(Codes.NamespaceConfig, 'linux.timeOffsets cannot be set when joining an existing time namespace', {
      field: '/linux/timeOffsets',
    });
  }
  for (const clock of Object.keys(offsets)) {
    if (clock !== 'monotonic' && clock !== 'boottime') {
      throw new RuntimeError(Codes.NamespaceConfig, `unknown clock ${JSON.stringify(clock)} in timeOffsets`, {
        field: `/linux/timeOffsets/${clock}`,
        hint: 'the clocks are "monotonic" and "boottime"',
      });
    }
  }
}

function validateUts(spec: Spec): void {
  const uts = namespaceOf(spec, 'uts');
  for (const key of ['hostname', 'domainname'] as const) {
    if (spec[key] && !uts) {
      throw new RuntimeError(Codes.NamespaceConfig, `${key} needs a private uts namespace`, {
        field: `/${key}`,
        hint: 'add {"type": "uts"} to linux.namespaces or remove the field',
      });
    }
  }
}

// runc libcontainer/configs/validate sysctl(): a sysctl may only be set when
// the namespace it belongs to is the container's own.
function validateSysctl(spec: Spec): void {
  const sysctl = spec.linux?.sysctl ?? {};
  const ipcKeys = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
  for (const key of Object.keys(sysctl)) {
    const at = `/linux/sysctl/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key === '' || key.includes('..') || key.startsWith('.') || key.endsWith('.')) {
      throw new RuntimeError(Codes.SysctlConfig, `invalid sysctl name ${JSON.stringify(key)}`, { field: at });
    }
    const need = (type: NamespaceType): void => {
      if (!namespaceOf(spec, type)) {
        throw new RuntimeError(Codes.SysctlConfig, `sysctl ${key} needs a private ${type} namespace`, {
          field: at,
          hint: `add {"type": "${type}"} to linux.namespaces or drop the sysctl`,
        });
      }
    };
    if (ipcKeys.has(key) || key.startsWith('fs.mqueue.')) need('ipc');
    else if (key.startsWith('net.')) need('network');
    else if (key === 'kernel.hostname' || key === 'kernel.domainname') need('uts');
    else if (key.startsWith('user.') && namespaceOf(spec, 'user')) continue;
    else {
      throw new RuntimeError(Codes.SysctlConfig, `sysctl ${key} is not namespaced and cannot be set for a container`, {
        field: at,
        hint: 'only net.*, IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), kernel.hostname/domainname and, with a user namespace, user.* can be set',
      });
    }
  }
}

function validateProcess(spec: Spec, opts: ValidateOptions): void {
  const p = spec.process;
  if (!p) {
    throw new RuntimeError(Codes.ProcessConfig, 'config has no process to run', { field: '/process', hint: 'add a "process" object with args, cwd and user' });
  }
  if (!p.args || p.args.length === 0) {
    throw new RuntimeError(Codes.ProcessConfig, 'process.args must name the program to run', { field: '/process/args' });
  }
  if (!isAbs(p.cwd)) {
    throw new RuntimeError(Codes.ProcessConfig, `process.cwd ${JSON.stringify(p.cwd)} must be an absolute path`, { field: '/process/cwd' });
  }
  // runtime-spec: user, and its uid and gid, are REQUIRED on Linux (the
  // schema does not say so; runc would silently run as root)
  if (p.user === undefined) {
    throw new RuntimeError(Codes.ProcessConfig, 'process.user is required on Linux', { field: '/process/user', hint: 'add "user": {"uid": 0, "gid": 0} (or the ids to run as) to process' });
  }
  for (const k of ['uid', 'gid'] as const) {
    if (p.user[k] === undefined) {
      throw new RuntimeError(Codes.ProcessConfig, `process.user.${k} is required on Linux`, { field: `/process/user/${k}` });
    }
  }
  (p.env ?? []).forEach((e, i) => {
    if (!e.includes('=') || e.startsWith('=')) {
      throw new RuntimeError(Codes.ProcessConfig, `environment entry ${JSON.stringify(e)} is not NAME=value`, { field: `/process/env/${i}` });
    }
  });
  resolveRlimits(p.rlimits);
  if (p.terminal && !opts.consoleSocket && opts.detached) {
    // in the foreground runt-init relays the pty itself, as runc run does
    throw new RuntimeError(Codes.ConsoleSocket, 'process.terminal is true but no --console-socket was given', {
      field: '/process/terminal',
      hint: 'pass --console-socket PATH (a unix socket that receives the pty master), or set process.terminal to false',
    });
  }
  if (!p.terminal && opts.consoleSocket) {
    throw new RuntimeError(Codes.ConsoleSocket, '--console-socket was given but process.terminal is false', {
      field: '/process/terminal',
      hint: 'set process.terminal to true, or drop --console-socket',
    });
  }
  if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
    throw new RuntimeError(Codes.ProcessConfig, `process.oomScoreAdj ${p.oomScoreAdj} is outside -1000..1000`, { field: '/process/oomScoreAdj' });
  }
}

function validatePaths(spec: Spec): void {
  const lists = [
    ['maskedPaths', spec.linux?.maskedPaths],
    ['readonlyPaths', spec.linux?.readonlyPaths],
  ] as const;
  for (const [name, list] of lists) {
    (list ?? []).forEach((p, i) => {
      if (!isAbs(p)) {
        throw new RuntimeError(Codes.ConfigSemantic, `linux.${name} entry ${JSON.stringify(p)} must be an absolute path`, { field: `/linux/${name}/${i}` });
      }
    });
  }
  (spec.linux?.devices ?? []).forEach((d, i) => {
    if (!isAbs(d.path)) {
      throw new RuntimeError(Codes.DeviceConfig, `device path ${JSON.stringify(d.path)} must be absolute`, { field: `/linux/devices/${i}/path` });
    }
    if (!['c', 'b', 'u', 'p'].includes(d.type)) {
      throw new RuntimeError(Codes.DeviceConfig, `device type ${JSON.stringify(d.type)} must be one of "c", "b", "u", "p"`, { field: `/linux/devices/${i}/type` });
    }
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
      throw new RuntimeError(Codes.DeviceConfig, `device ${d.path} needs major and minor numbers`, { field: `/linux/devices/${i}` });
    }
  });
}

function validateHooks(spec: Spec): void {
  for (const [phase, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks as { path: string; timeout?: number }[] | undefined)?.forEach((h, i) => {
      if (!isAbs(h.path)) {
        throw new RuntimeError(Codes.HookConfig, `${phase} hook path ${JSON.stringify(h.path)} must be absolute`, { field: `/hooks/${phase}/${i}/path` });
      }
      if (h.timeout !== undefined && h.timeout <= 0) {
        throw new RuntimeError(Codes.HookConfig, `${phase} hook timeout must be greater than zero`, { field: `/hooks/${phase}/${i}/timeout` });
      }
    });
  }
}

function validateMounts(spec: Spec): void {
  (spec.mounts ?? []).forEach((m, i) => {
    if (!m.destination) {
      throw new RuntimeError(Codes.MountConfig, 'mount destination is empty', { field: `/mounts/${i}/destination` });
    }
    const isBind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (isBind && !m.source) {
      throw new RuntimeError(Codes.MountConfig, `bind mount on ${m.destination} has no source`, { field: `/mounts/${i}/source` });
    }
  });
}

export function validateSpec(spec: Spec, opts: ValidateOptions): void {
  validateProcess(spec, opts);
  validateNamespaces(spec);
  validateUserNamespace(spec);
  validateTimeNamespace(spec);
  validateUts(spec);
  validateSysctl(spec);
  validatePaths(spec);
  validateHooks(spec);
  validateMounts(spec);
}

// The checks one by one, each throwing its first problem: `runt validate`
// runs them all to list every problem at once. Keep in step with
// validateSpec (validate also runs validateSpec, so a check missing here
// still reports).
export const SEMANTIC_CHECKS: readonly ((spec: Spec, opts: ValidateOptions) => void)[] = [
  validateProcess,
  validateNamespaces,
  validateUserNamespace,
  validateTimeNamespace,
  validateUts,
  validateSysctl,
  validatePaths,
  validateHooks,
  validateMounts,
];
