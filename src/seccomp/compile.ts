// A SeccompProgram (profile.ts) -> classic BPF, with libseccomp. This runs
// in the runtime; runt-init only installs the bytes (crun does the same
// since 0.11). A profile for several architectures is compiled one
// architecture at a time and joined (join.ts): for Docker's profile that
// is 3.8 ms of seccomp_export_bpf instead of 9.8.

import fs from 'node:fs';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { SCMP_FLTATR_ACT_BADARCH, SCMP_FLTATR_CTL_OPTIMIZE, packArgs, type Libseccomp, type PackedArgs } from '../sys/libseccomp.js';
import { joinArchPrograms, pickSentinel } from './join.js';
import { splitConditions, type SeccompProgram } from './profile.js';

const EEXIST = 17;
const NR_SCMP_ERROR = -1;

function check(rc: number, what: string, field?: string): void {
  if (rc < 0) {
    throw new RuntimeError(Codes.SeccompCompile, `libseccomp: ${what}: errno ${-rc}`, { field });
  }
}

export interface CompiledFilter {
  bpf: Buffer;
  skipped: string[]; // names libseccomp does not know (runc ignores them too)
}

interface Arch {
  token: number;
  field: string | undefined; // undefined: the native one, always in the filter
}

interface ResolvedRule {
  action: number;
  nr: number;
  args: PackedArgs;
  what: string;
  field: string;
}

// The native architecture first (it is in every libseccomp filter, listed
// or not, as in runc), then the profile's, each once.
function architectures(lib: Libseccomp, p: SeccompProgram): Arch[] {
  const archs: Arch[] = [{ token: lib.archNative(), field: undefined }];
  p.archs.forEach((name, i) => {
    const token = lib.archResolve(name);
    if (!token) {
      throw new RuntimeError(Codes.SeccompConfig, `seccomp architecture SCMP_ARCH_${name.toUpperCase()} is not known to libseccomp ${lib.version}`, {
        field: `/linux/seccomp/architectures/${i}`,
      });
    }
    if (!archs.some((a) => a.token === token)) archs.push({ token, field: `/linux/seccomp/architectures/${i}` });
  });
  return archs;
}

function resolveRules(lib: Libseccomp, p: SeccompProgram, skipped: string[]): ResolvedRule[] {
  const out: ResolvedRule[] = [];
  for (const r of p.rules) {
    const nr = lib.syscallResolve(r.name);
    if (nr === NR_SCMP_ERROR) {
      skipped.push(r.name);
      continue;
    }
    for (const conds of splitConditions(r.args)) {
      out.push({ action: r.action, nr, args: packArgs(conds), what: `add the rule for ${r.name}`, field: r.field });
    }
  }
  return out;
}

// One libseccomp filter for the given architectures, exported to fd (at its
// current offset); returns the bytes written. badArch: the action for a
// foreign architecture (libseccomp's default when undefined).
function exportFilter(lib: Libseccomp, p: SeccompProgram, archs: Arch[], rules: ResolvedRule[], fd: number, badArch?: number): Buffer {
  const ctx = lib.init(p.defaultAction);
  if (!ctx) throw new RuntimeError(Codes.SeccompCompile, 'libseccomp: seccomp_init failed (bad default action?)', { field: '/linux/seccomp/defaultAction' });
  try {
    const native = lib.archNative();
    for (const a of archs) {
      if (a.token === native) continue;
      const rc = lib.archAdd(ctx, a.token);
      if (rc !== -EEXIST) check(rc, 'add an architecture', a.field);
    }
    if (!archs.some((a) => a.token === native)) check(lib.archRemove(ctx, native), 'remove the native architecture');
    if (badArch !== undefined) check(lib.attrSet(ctx, SCMP_FLTATR_ACT_BADARCH, badArch), 'set the bad-architecture action');
    // binary tree ordering; not fatal when this libseccomp lacks it (runc)
    if (p.optimize) lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (const r of rules) check(lib.ruleAdd(ctx, r.action, r.nr, r.args), r.what, r.field);
    const start = fs.fstatSync(fd).size;
    check(lib.exportBpf(ctx, fd), 'export the BPF program');
    const size = fs.fstatSync(fd).size - start;
    const bpf = Buffer.alloc(size);
    if (size > 0) fs.readSync(fd, bpf, 0, size, start);
    return bpf;
  } finally {
    lib.release(ctx);
  }
}

// libseccomp's own action for a foreign architecture (SCMP_ACT_KILL unless
// changed): what the joined program ends with.
function defaultBadArch(lib: Libseccomp, p: SeccompProgram): number {
  const ctx = lib.init(p.defaultAction);
  try {
    const v = lib.attrGet(ctx, SCMP_FLTATR_ACT_BADARCH);
    if (v === undefined) throw new RuntimeError(Codes.SeccompCompile, 'libseccomp: cannot read the bad-architecture action');
    return v;
  } finally {
    lib.release(ctx);
  }
}

// scratchFd: an empty file libseccomp writes the programs to (2.5 has no
// seccomp_export_bpf_mem).
export function compileFilter(lib: Libseccomp, p: SeccompProgram, scratchFd: number): CompiledFilter {
  const skipped: string[] = [];
  const archs = architectures(lib, p);
  const rules = resolveRules(lib, p, skipped);
  if (archs.length > 1) {
    const sentinel = pickSentinel([p.defaultAction, ...rules.map((r) => r.action)]);
    const parts = archs.map((a) => exportFilter(lib, p, [a], rules, scratchFd, sentinel));
    const joined = joinArchPrograms(parts, sentinel, defaultBadArch(lib, p));
    if (joined) return { bpf: joined, skipped };
  }
  return { bpf: exportFilter(lib, p, archs, rules, scratchFd), skipped };
}

// The one combined filter libseccomp makes of all architectures (what
// runc and crun install); the tests compare the joined program against it.
export function compileCombined(lib: Libseccomp, p: SeccompProgram, scratchFd: number): Buffer {
  return exportFilter(lib, p, architectures(lib, p), resolveRules(lib, p, []), scratchFd);
}
