// linux.seccomp -> the rules libseccomp is given, as runc maps them
// (libcontainer/specconv SetupSeccomp, libcontainer/seccomp/seccomp_linux.go).
// Pure: the kernel's supported flags come in as an argument, so this is unit
// tested without libseccomp or root. No syscall table here: names are
// resolved by libseccomp itself (compile.ts); unknown ones are skipped there,
// as runc skips them.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Seccomp } from '../spec/types.js';

// libseccomp's action values (seccomp.h); ERRNO and TRACE carry a 16-bit data.
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  NOTIFY: 0x7fc00000,
} as const;

// The spec's action names; SCMP_ACT_KILL is KILL_THREAD in runc and libseccomp.
const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SCMP_ACT.KILL_PROCESS,
  SCMP_ACT_TRAP: SCMP_ACT.TRAP,
  SCMP_ACT_ERRNO: SCMP_ACT.ERRNO,
  SCMP_ACT_TRACE: SCMP_ACT.TRACE,
  SCMP_ACT_ALLOW: SCMP_ACT.ALLOW,
  SCMP_ACT_LOG: SCMP_ACT.LOG,
  SCMP_ACT_NOTIFY: SCMP_ACT.NOTIFY,
};

// enum scmp_compare (seccomp.h)
const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

// seccomp(2) SECCOMP_FILTER_FLAG_*: the filter is installed by runt-init with
// the raw syscall, so these are the kernel's values, not libseccomp
// attributes; each with the kernel release that brought it.
export const SECCOMP_FLAGS: Record<string, { bit: number; since: [number, number] }> = {
  SECCOMP_FILTER_FLAG_TSYNC: { bit: 1 << 0, since: [3, 17] },
  SECCOMP_FILTER_FLAG_LOG: { bit: 1 << 1, since: [4, 14] },
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: { bit: 1 << 2, since: [4, 17] },
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: { bit: 1 << 5, since: [5, 19] },
};
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;

// What `features` lists.
export const ACTION_NAMES = Object.keys(ACTIONS);
export const OPERATOR_NAMES = Object.keys(OPERATORS);
export const FLAG_NAMES = Object.keys(SECCOMP_FLAGS);

const EPERM = 1;
// runc InitSeccomp: syscallMaxArguments
const MAX_ARGS = 6;

export interface RuleArg {
  index: number;
  op: number;
  a: bigint; // datum_a: the value (the mask for MASKED_EQ)
  b: bigint; // datum_b: valueTwo
}

export interface Rule {
  name: string;
  action: number;
  args: RuleArg[];
  field: string; // JSON pointer of the syscalls entry, for errors
}

export interface SeccompProgram {
  defaultAction: number;
  // libseccomp's architecture names ("x86_64", "x32"): SCMP_ARCH_X86_64 -> x86_64
  archs: string[];
  flags: number; // for seccomp(2)
  rules: Rule[];
  notify: boolean;
  listenerPath: string | undefined;
  listenerMetadata: string | undefined;
  optimize: boolean; // binary tree ordering for long rule sets (runc: > 32 names)
}

// The message starts with the member's JSON pointer, as schema errors do:
// a profile has many rules, the user must see which one is wrong.
function fail(message: string, field: string, hint?: string): RuntimeError {
  return new RuntimeError(Codes.SeccompConfig, `${field}: ${message}`, { field, hint });
}

// An action with its errno data folded in (runc getAction).
export function actionValue(name: string, errnoRet: number | undefined, field: string): number {
  const base = ACTIONS[name];
  if (base === undefined) {
    throw fail(`unknown seccomp action ${JSON.stringify(name)}`, field, `the actions are ${ACTION_NAMES.join(', ')}`);
  }
  if (base === SCMP_ACT.ERRNO || base === SCMP_ACT.TRACE) {
    const e = errnoRet ?? EPERM;
    if (!Number.isInteger(e) || e < 0 || e > 0xffff) throw fail(`seccomp errnoRet ${e} is out of range (0-65535)`, field);
    return (base | e) >>> 0;
  }
  // config-linux.md: "When the action doesn't support an errno, the
  // runtime MUST print and error and fail."
  if (errnoRet !== undefined) {
    throw fail(`errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${name}`, field);
  }
  return base >>> 0;
}

function uint64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw fail(`seccomp argument value ${v} is not an unsigned 64-bit integer`, field);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fail(`seccomp argument value ${String(v)} is not an unsigned 64-bit integer`, field);
  // JSON numbers above 2^53 have lost precision already; 2^64 is 2^64-1
  return v >= 2 ** 64 ? 0xffff_ffff_ffff_ffffn : BigInt(v);
}

function archName(token: string, field: string): string {
  if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(token)) {
    throw fail(`unknown seccomp architecture ${JSON.stringify(token)}`, field, 'architectures are written like SCMP_ARCH_X86_64');
  }
  return token.slice('SCMP_ARCH_'.length).toLowerCase();
}

export interface KernelFacts {
  version: [number, number]; // major, minor of the running kernel
}

export function flagSupported(name: string, k: KernelFacts): boolean {
  const f = SECCOMP_FLAGS[name];
  if (!f) return false;
  const [maj, min] = k.version;
  return maj > f.since[0] || (maj === f.since[0] && min >= f.since[1]);
}

// pointer is where the seccomp object lives (/linux/seccomp).
export function compileProfile(s: Seccomp, kernel: KernelFacts, pointer = '/linux/seccomp'): SeccompProgram {
  const defaultAction = actionValue(s.defaultAction, s.defaultErrnoRet, `${pointer}/defaultAction`);
  // runc: the agent could never get the fd if every syscall waited for it
  if (defaultAction === SCMP_ACT.NOTIFY) {
    throw fail('SCMP_ACT_NOTIFY cannot be used as default action', `${pointer}/defaultAction`);
  }
  const archs = (s.architectures ?? []).map((a, i) => archName(a, `${pointer}/architectures/${i}`));

  // runc 1.2: no "flags" at all means SPEC_ALLOW where the kernel has it; an
  // empty list means none
  let flags = 0;
  if (s.flags === undefined) {
    if (flagSupported('SECCOMP_FILTER_FLAG_SPEC_ALLOW', kernel)) flags |= SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_SPEC_ALLOW!.bit;
  } else {
    s.flags.forEach((name, i) => {
      const f = SECCOMP_FLAGS[name];
      if (!f) throw fail(`unknown seccomp flag ${JSON.stringify(name)}`, `${pointer}/flags/${i}`, `the flags are ${FLAG_NAMES.join(', ')}`);
      if (!flagSupported(name, kernel)) {
        throw new RuntimeError(Codes.SeccompUnavailable, `seccomp flag ${name} needs Linux ${f.since.join('.')} or later`, { field: `${pointer}/flags/${i}` });
      }
      flags |= f.bit;
    });
  }

  const rules: Rule[] = [];
  let notify = false;
  (s.syscalls ?? []).forEach((sc, i) => {
    const at = `${pointer}/syscalls/${i}`;
    const action = actionValue(sc.action, sc.errnoRet, `${at}/action`);
    if (!sc.names?.length) throw fail('a seccomp syscalls entry needs at least one name', `${at}/names`);
    const args: RuleArg[] = (sc.args ?? []).map((a, k) => {
      const f = `${at}/args/${k}`;
      const op = OPERATORS[a.op];
      if (op === undefined) throw fail(`unknown seccomp operator ${JSON.stringify(a.op)}`, `${f}/op`, `the operators are ${OPERATOR_NAMES.join(', ')}`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index >= MAX_ARGS) {
        throw fail(`seccomp argument index ${a.index} is out of range (0-${MAX_ARGS - 1})`, `${f}/index`);
      }
      return { index: a.index, op, a: uint64(a.value, `${f}/value`), b: uint64(a.valueTwo ?? 0, `${f}/valueTwo`) };
    });
    sc.names.forEach((name, k) => {
      if (name === '') throw fail('empty syscall name', `${at}/names/${k}`);
      if (action === SCMP_ACT.NOTIFY) {
        notify = true;
        // runc refuses write: the init must be able to hand the listener fd
        // over; runt-init hands it over with sendmsg
        if (name === 'write' || name === 'sendmsg') {
          throw fail(`SCMP_ACT_NOTIFY cannot be used for the ${name} syscall`, `${at}/names/${k}`);
        }
      }
      // runc matchCall: a rule equal to the default action is redundant
      if (action === defaultAction) return;
      rules.push({ name, action, args, field: at });
    });
  });

  if (s.listenerMetadata !== undefined && s.listenerMetadata !== '' && !s.listenerPath) {
    throw fail('listenerMetadata is set but listenerPath is not', `${pointer}/listenerMetadata`);
  }
  if (notify && !s.listenerPath) {
    throw fail('SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath: the socket that receives the notify fd', `${pointer}/listenerPath`);
  }
  if (s.listenerPath && !s.listenerPath.startsWith('/')) {
    throw fail(`seccomp listenerPath ${JSON.stringify(s.listenerPath)} must be an absolute path`, `${pointer}/listenerPath`);
  }
  // WAIT_KILLABLE_RECV is only valid with a listener (EINVAL otherwise); as
  // libseccomp does, it is set only when the filter has one
  if (!notify) flags &= ~SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV!.bit;
  // TSYNC and a listener exclude each other unless TSYNC failures are
  // reported as ESRCH (seccomp(2)); runt-init is single-threaded anyway
  if (notify && flags & SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_TSYNC!.bit) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;

  return {
    defaultAction,
    archs,
    flags,
    rules,
    notify,
    listenerPath: notify ? s.listenerPath : undefined,
    listenerMetadata: notify ? s.listenerMetadata : undefined,
    // runc counts per syscall name (specconv has split the entries by then)
    optimize: rules.length > 32,
  };
}

// runc matchCall: conditions on the same argument index cannot be ANDed in
// one libseccomp rule; then each condition becomes a rule of its own.
export function splitConditions(args: RuleArg[]): RuleArg[][] {
  if (args.length === 0) return [[]];
  const counts = new Map<number, number>();
  for (const a of args) counts.set(a.index, (counts.get(a.index) ?? 0) + 1);
  const shared = [...counts.values()].some((n) => n > 1);
  return shared ? args.map((a) => [a]) : [args];
}
