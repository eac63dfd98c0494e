// The process and linux settings beyond user and capabilities, turned into
// plan operations for both create (to-plan.ts) and exec (to-exec-plan.ts):
// scheduler, ioPriority, execCPUAffinity, personality, memoryPolicy, LSM
// labels and seccomp. Pure: host facts come in as arguments; every check
// throws a RuntimeError naming the config field.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Field, OpName } from '../plan/types.js';
import type { Linux, Process, Scheduler } from './types.js';

export interface OpSpec {
  name: OpName;
  fields: Field[];
  text: string;
}

const i = (v: number | bigint): Field => ({ i: v });
const s = (v: string): Field => ({ s: v });

// What the host offers of the LSMs (read by src/linux/lsm.ts).
export interface SecurityFacts {
  apparmor: boolean;
  selinux: boolean;
  // attr/apparmor/exec on kernels with LSM stacking (5.8+), else attr/exec
  apparmorExecAttr: string;
}

export const NO_LSM: SecurityFacts = { apparmor: false, selinux: false, apparmorExecAttr: 'attr/exec' };

// The compiled seccomp filter, as the plan carries it.
export interface SeccompInstall {
  bpf: Uint8Array;
  flags: number;
  notify: boolean;
  listenerPath: string | undefined;
}

// ---- scheduler (sched_setattr(2); runc validateScheduler)

const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

function sched(message: string, field: string, hint?: string): RuntimeError {
  return new RuntimeError(Codes.SchedulingConfig, message, { field, hint });
}

export function schedulerOp(sc: Scheduler, field = '/process/scheduler'): OpSpec {
  const policy = SCHED_POLICIES[sc.policy];
  if (policy === undefined) {
    throw sched(`unknown scheduler policy ${JSON.stringify(sc.policy)}`, `${field}/policy`, `the policies are ${Object.keys(SCHED_POLICIES).join(', ')}`);
  }
  const nice = sc.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw sched(`scheduler nice ${nice} is outside -20..19`, `${field}/nice`);
  const priority = sc.priority ?? 0;
  if (priority !== 0 && sc.policy !== 'SCHED_FIFO' && sc.policy !== 'SCHED_RR') {
    throw sched('scheduler.priority can only be set for SCHED_FIFO or SCHED_RR', `${field}/priority`);
  }
  if (sc.policy !== 'SCHED_DEADLINE' && (sc.runtime || sc.deadline || sc.period)) {
    throw sched('scheduler runtime, deadline and period can only be set for SCHED_DEADLINE', field);
  }
  let flags = 0;
  (sc.flags ?? []).forEach((f, k) => {
    const bit = SCHED_FLAGS[f];
    if (bit === undefined) throw sched(`unknown scheduler flag ${JSON.stringify(f)}`, `${field}/flags/${k}`);
    flags |= bit;
  });
  return {
    name: 'SCHEDULER',
    fields: [i(policy), i(flags), i(nice), i(priority), i(sc.runtime ?? 0), i(sc.deadline ?? 0), i(sc.period ?? 0)],
    text: `set the scheduling policy ${sc.policy}${nice ? ` nice ${nice}` : ''}${priority ? ` priority ${priority}` : ''}`,
  };
}

// ---- ioPriority (ioprio_set(2): class << 13 | level)

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

export function ioPriorityOp(p: NonNullable<Process['ioPriority']>, field = '/process/ioPriority'): OpSpec {
  const cls = IOPRIO_CLASSES[p.class];
  if (cls === undefined) throw sched(`unknown I/O priority class ${JSON.stringify(p.class)}`, `${field}/class`, `the classes are ${Object.keys(IOPRIO_CLASSES).join(', ')}`);
  const level = p.priority ?? 0;
  if (!Number.isInteger(level) || level < 0 || level > 7) throw sched(`I/O priority ${level} is outside 0..7`, `${field}/priority`);
  return { name: 'IOPRIO', fields: [i((cls << 13) | level)], text: `set the I/O priority ${p.class} ${level}` };
}

// ---- personality (personality(2))

const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export function personalityOp(p: NonNullable<Linux['personality']>, field = '/linux/personality'): OpSpec {
  const domain = PERSONALITY_DOMAINS[p.domain];
  if (domain === undefined) throw sched(`unknown personality domain ${JSON.stringify(p.domain)}`, `${field}/domain`, 'the domains are LINUX and LINUX32');
  // config-linux.md: "Currently no flag values are supported."
  if (p.flags?.length) throw sched(`personality flags are not supported (got ${p.flags.join(', ')})`, `${field}/flags`);
  return { name: 'PERSONALITY', fields: [i(domain)], text: `set the execution domain ${p.domain}` };
}

// ---- CPU and node lists ("0-3,7") as bit masks in whole 64-bit words

const MAX_BITS = 8192;

export function listToMask(list: string, field: string, code: (typeof Codes)[keyof typeof Codes], what: string): Buffer {
  const bits: number[] = [];
  for (const part of list.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new RuntimeError(code, `invalid ${what} list ${JSON.stringify(list)}`, { field, hint: 'write it like "0-3,7"' });
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= MAX_BITS) throw new RuntimeError(code, `invalid ${what} range ${JSON.stringify(part)} in ${JSON.stringify(list)}`, { field });
    for (let b = lo; b <= hi; b++) bits.push(b);
  }
  if (!bits.length) return Buffer.alloc(0);
  const words = Math.floor(Math.max(...bits) / 64) + 1;
  const buf = Buffer.alloc(words * 8);
  for (const b of bits) buf[b >> 3]! |= 1 << (b & 7);
  return buf;
}

// Every CPU: the kernel intersects it with the cgroup's cpuset, which is
// how runc "resets" the affinity inherited from the runtime.
export const ALL_CPUS = Buffer.alloc(MAX_BITS / 8, 0xff);

export function cpuAffinityOp(list: string | undefined, field: string, why: string): OpSpec {
  const mask = list === undefined ? ALL_CPUS : listToMask(list, field, Codes.SchedulingConfig, 'CPU');
  if (!mask.length) throw sched(`execCPUAffinity ${JSON.stringify(list)} names no CPU`, field);
  return { name: 'CPU_AFFINITY', fields: [{ b: mask }], text: list === undefined ? `reset the CPU affinity to the cgroup's CPUs (${why})` : `set the CPU affinity to ${list} (${why})` };
}

// ---- memoryPolicy (set_mempolicy(2))

const MPOL_MODES: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
};

export const MPOL_MODE_NAMES = Object.keys(MPOL_MODES);
export const MPOL_FLAG_NAMES = Object.keys(MPOL_FLAGS);

export function memoryPolicyOp(m: NonNullable<Linux['memoryPolicy']>, field = '/linux/memoryPolicy'): OpSpec {
  const err = (msg: string, f: string): RuntimeError => new RuntimeError(Codes.MemoryPolicyConfig, msg, { field: f });
  const mode = MPOL_MODES[m.mode];
  if (mode === undefined) throw err(`unknown memory policy mode ${JSON.stringify(m.mode)}`, `${field}/mode`);
  let flags = 0;
  (m.flags ?? []).forEach((f, k) => {
    const bit = MPOL_FLAGS[f];
    if (bit === undefined) throw err(`unknown memory policy flag ${JSON.stringify(f)}`, `${field}/flags/${k}`);
    flags |= bit;
  });
  if (flags & MPOL_FLAGS.MPOL_F_STATIC_NODES! && flags & MPOL_FLAGS.MPOL_F_RELATIVE_NODES!) {
    throw err('MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other', `${field}/flags`);
  }
  if (flags & MPOL_FLAGS.MPOL_F_NUMA_BALANCING! && m.mode !== 'MPOL_BIND') {
    throw err('MPOL_F_NUMA_BALANCING can only be used with MPOL_BIND', `${field}/flags`);
  }
  const mask = listToMask(m.nodes ?? '', `${field}/nodes`, Codes.MemoryPolicyConfig, 'node');
  if ((m.mode === 'MPOL_DEFAULT' || m.mode === 'MPOL_LOCAL') && mask.length) {
    throw err(`${m.mode} takes no nodes`, `${field}/nodes`);
  }
  if (!mask.length && !['MPOL_DEFAULT', 'MPOL_LOCAL', 'MPOL_PREFERRED'].includes(m.mode)) {
    throw err(`${m.mode} needs a list of nodes`, `${field}/nodes`);
  }
  return {
    name: 'MEMPOLICY',
    fields: [i(mode | flags), { b: mask }],
    text: `set the memory policy ${m.mode}${m.nodes ? ` on nodes ${m.nodes}` : ''}`,
  };
}

// ---- LSM labels: written to /proc/thread-self/attr/*, applied at execve

function lsmMissing(what: string, lsm: string, field: string): RuntimeError {
  return new RuntimeError(Codes.LsmUnavailable, `${what} is set but ${lsm} is not enabled on this host`, {
    field,
    hint: `remove ${what}, or run on a host with ${lsm} enabled (${lsm === 'AppArmor' ? '/sys/module/apparmor/parameters/enabled is not Y' : '/sys/fs/selinux is not mounted'})`,
  });
}

// runc apparmor.ApplyProfile: "exec <profile>" takes effect at execve.
export function apparmorOp(profile: string | undefined, host: SecurityFacts, field: string): OpSpec | undefined {
  if (!profile) return undefined;
  if (!host.apparmor) throw lsmMissing('process.apparmorProfile', 'AppArmor', field);
  return { name: 'PROC_WRITE', fields: [s(`thread-self/${host.apparmorExecAttr}`), s(`exec ${profile}`)], text: `apply the AppArmor profile ${profile} at exec` };
}

// runc selinux.SetExecLabel: the label of the next execve.
export function selinuxExecOp(label: string | undefined, host: SecurityFacts, field: string): OpSpec | undefined {
  if (!label) return undefined;
  if (!host.selinux) throw lsmMissing('process.selinuxLabel', 'SELinux', field);
  return { name: 'PROC_WRITE', fields: [s('thread-self/attr/exec'), s(label)], text: `set the SELinux label ${label} for exec` };
}

// runc selinux.SetKeyLabel: the session keyring gets the process's label.
export function selinuxKeyOp(label: string | undefined, host: SecurityFacts): OpSpec | undefined {
  if (!label || !host.selinux) return undefined;
  return { name: 'PROC_WRITE', fields: [s('thread-self/attr/keycreate'), s(label)], text: `label the session keyring ${label}` };
}

// runc label.FormatMountLabel: context= on the filesystems it mounts.
export function mountLabelData(data: string, mountLabel: string | undefined, type: string): string {
  if (!mountLabel || ['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind'].includes(type)) return data;
  const ctx = `context="${mountLabel}"`;
  return data ? `${data},${ctx}` : ctx;
}

export function checkMountLabel(mountLabel: string | undefined, host: SecurityFacts): void {
  if (mountLabel && !host.selinux) throw lsmMissing('linux.mountLabel', 'SELinux', '/linux/mountLabel');
}

// ---- seccomp

export function seccompOp(sc: SeccompInstall | undefined): OpSpec {
  if (!sc) {
    // a dry run (explain) does not compile the filter
    return { name: 'SECCOMP', fields: [{ b: new Uint8Array(0) }, i(0), i(0)], text: 'install the seccomp filter (compiled with libseccomp at create)' };
  }
  const n = sc.bpf.length / 8;
  return {
    name: 'SECCOMP',
    fields: [{ b: sc.bpf }, i(sc.flags), i(sc.notify ? 1 : 0)],
    text: `install the seccomp filter (${n} BPF instructions)${sc.notify ? ` and send its notify fd to ${sc.listenerPath}` : ''}`,
  };
}

// runc prepareEnv: the last of duplicate NAME=value entries wins, at the
// position of that last one.
export function dedupEnv(env: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let k = env.length - 1; k >= 0; k--) {
    const e = env[k]!;
    const name = e.slice(0, e.indexOf('='));
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(e);
  }
  return out.reverse();
}
