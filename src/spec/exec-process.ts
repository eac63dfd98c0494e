// The process `exec` runs, computed as runc computes it: from `--process
// FILE` as is, or from the container's process with the command line's
// overrides (runc exec.go getProcess); then, for what the request leaves
// unset, the container's own settings (runc newInitConfig: capabilities,
// rlimits, AppArmor profile, SELinux label, scheduler, ioPriority,
// execCPUAffinity). Pure, so the merging rules are unit tested.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { resolveRlimits } from '../linux/rlimits.js';
import { dedupEnv } from './process-extras.js';
import type { Capabilities, Process, Spec } from './types.js';

export interface ExecRequest {
  args: string[]; // the command after the container id
  process: unknown; // parsed --process file, or undefined
  processPath?: string; // for messages
  tty: boolean;
  cwd: string | undefined;
  env: string[];
  user: string | undefined; // uid[:gid]
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean | undefined; // undefined: the flag was not given
  apparmor: string | undefined;
  processLabel: string | undefined;
}

function bad(message: string, field?: string, hint?: string): RuntimeError {
  return new RuntimeError(Codes.ProcessConfig, message, { field, hint });
}

function flagError(message: string, hint?: string): RuntimeError {
  return new RuntimeError(Codes.BadFlagValue, message, { hint });
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function parseId(text: string, what: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) {
    throw flagError(`invalid ${what} ${JSON.stringify(text)} in ${flag}`, `${flag} takes numeric ids${flag === '--user' ? ': uid[:gid]' : ''}`);
  }
  return Number(text);
}

// A --process file: a runtime-spec "process" object.
function fromFile(raw: unknown, where: string): Process {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${where}: a process file must hold a JSON object`);
  const p = raw as Process;
  if (!Array.isArray(p.args) || p.args.some((a) => typeof a !== 'string')) throw bad(`${where}: args must be an array of strings`, '/args');
  if (p.env !== undefined && (!Array.isArray(p.env) || p.env.some((e) => typeof e !== 'string'))) throw bad(`${where}: env must be an array of strings`, '/env');
  if (p.user === undefined) p.user = { uid: 0, gid: 0 }; // Go's zero value, as runc decodes it
  if (typeof p.user !== 'object' || typeof p.user.uid !== 'number' || typeof p.user.gid !== 'number') throw bad(`${where}: user needs numeric uid and gid`, '/user');
  return p;
}

function withCaps(caps: Capabilities | undefined, add: string[]): Capabilities {
  const c: Capabilities = clone(caps) ?? {};
  for (const name of add) {
    c.bounding = [...(c.bounding ?? []), name];
    c.effective = [...(c.effective ?? []), name];
    c.permitted = [...(c.permitted ?? []), name];
    // runc: ambient needs inheritable, which --cap does not set; so only
    // when the process has an inheritable set already
    if (c.inheritable !== undefined) c.ambient = [...(c.ambient ?? []), name];
  }
  return c;
}

function fromFlags(config: Spec, r: ExecRequest): Process {
  const base = config.process;
  if (!base) throw bad('the container has no process to base the exec on', '/process', 'use --process FILE');
  const p = clone(base);
  if (!r.args.length) throw new RuntimeError(Codes.MissingArgument, 'exec args cannot be empty', { hint: 'usage: runt exec <container-id> <command> [args...], or --process FILE' });
  p.args = [...r.args];
  if (r.cwd) p.cwd = r.cwd;
  if (r.apparmor) p.apparmorProfile = r.apparmor;
  if (r.processLabel) p.selinuxLabel = r.processLabel;
  if (r.caps.length) p.capabilities = withCaps(p.capabilities, r.caps);
  p.env = [...(p.env ?? []), ...r.env];
  // runc: always false unless -t
  p.terminal = r.tty;
  if (r.noNewPrivs !== undefined) p.noNewPrivileges = r.noNewPrivs;
  if (r.user) {
    const [u, g, ...rest] = r.user.split(':');
    if (rest.length) throw flagError(`invalid --user ${JSON.stringify(r.user)}`, '--user takes uid[:gid]');
    if (g !== undefined) p.user.gid = parseId(g, 'gid', '--user');
    p.user.uid = parseId(u ?? '', 'uid', '--user');
  }
  const gids = r.additionalGids.map((g) => parseId(g, 'gid', '--additional-gids'));
  if (gids.length) p.user.additionalGids = [...(p.user.additionalGids ?? []), ...gids];
  return p;
}

// runc validateProcessSpec, plus what runt checks for create's process.
function validate(p: Process, where: string): void {
  if (!p.cwd) throw bad(`${where}: cwd must not be empty`, '/cwd');
  if (!p.cwd.startsWith('/')) throw bad(`${where}: cwd ${JSON.stringify(p.cwd)} must be an absolute path`, '/cwd');
  if (!p.args?.length) throw bad(`${where}: args must not be empty`, '/args');
  (p.env ?? []).forEach((e, k) => {
    if (!e.includes('=') || e.startsWith('=')) throw bad(`${where}: environment entry ${JSON.stringify(e)} is not NAME=value`, `/env/${k}`);
    if (e.includes('\0')) throw bad(`${where}: environment entry ${JSON.stringify(e.slice(0, e.indexOf('=')))} contains a NUL byte`, `/env/${k}`);
  });
  resolveRlimits(p.rlimits, '/rlimits');
}

export function execProcess(config: Spec, r: ExecRequest): Process {
  const where = r.process !== undefined ? `process file ${r.processPath ?? ''}`.trim() : 'exec';
  const p = r.process !== undefined ? fromFile(clone(r.process), where) : fromFlags(config, r);
  validate(p, where);
  const c = config.process;
  // runc newInitConfig: the container's settings where the request has none
  if (p.capabilities === undefined && c?.capabilities) p.capabilities = clone(c.capabilities);
  if (!p.rlimits?.length && c?.rlimits?.length) p.rlimits = clone(c.rlimits);
  if (!p.apparmorProfile && c?.apparmorProfile) p.apparmorProfile = c.apparmorProfile;
  if (!p.selinuxLabel && c?.selinuxLabel) p.selinuxLabel = c.selinuxLabel;
  if (p.scheduler === undefined && c?.scheduler) p.scheduler = clone(c.scheduler);
  if (p.ioPriority === undefined && c?.ioPriority) p.ioPriority = clone(c.ioPriority);
  if (p.execCPUAffinity === undefined && c?.execCPUAffinity) p.execCPUAffinity = clone(c.execCPUAffinity);
  // runc newProcess always sets it: the request's value, false if absent
  p.noNewPrivileges = !!p.noNewPrivileges;
  // container-wide in runc (configs.Config): umask and oom_score_adj
  if (c?.user.umask !== undefined) p.user.umask = c.user.umask;
  else delete p.user.umask;
  if (c?.oomScoreAdj !== undefined) p.oomScoreAdj = c.oomScoreAdj;
  else delete p.oomScoreAdj;
  p.env = dedupEnv(p.env ?? []);
  return p;
}
