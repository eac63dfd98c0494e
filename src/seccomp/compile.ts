// A SeccompProgram (profile.ts) -> classic BPF, with libseccomp, written to
// the file descriptor the caller gives (seccomp_export_bpf). This runs in the
// runtime; runt-init only installs the bytes (crun does the same since 0.11).

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { SCMP_FLTATR_CTL_OPTIMIZE, type Libseccomp } from '../sys/libseccomp.js';
import { splitConditions, type SeccompProgram } from './profile.js';

const EEXIST = 17;
const NR_SCMP_ERROR = -1;

function check(rc: number, what: string, field?: string): void {
  if (rc < 0) {
    throw new RuntimeError(Codes.SeccompCompile, `libseccomp: ${what}: errno ${-rc}`, { field });
  }
}

export interface CompileStats {
  rules: number;
  skipped: string[]; // names libseccomp does not know (runc ignores them too)
}

export function compileToFd(lib: Libseccomp, p: SeccompProgram, fd: number): CompileStats {
  const ctx = lib.init(p.defaultAction);
  if (!ctx) throw new RuntimeError(Codes.SeccompCompile, 'libseccomp: seccomp_init failed (bad default action?)', { field: '/linux/seccomp/defaultAction' });
  const skipped: string[] = [];
  let rules = 0;
  try {
    p.archs.forEach((name, i) => {
      const token = lib.archResolve(name);
      if (!token) {
        throw new RuntimeError(Codes.SeccompConfig, `seccomp architecture SCMP_ARCH_${name.toUpperCase()} is not known to libseccomp ${lib.version}`, {
          field: `/linux/seccomp/architectures/${i}`,
        });
      }
      const rc = lib.archAdd(ctx, token);
      // the native architecture is in every new filter already
      if (rc !== -EEXIST) check(rc, `add architecture ${name}`, `/linux/seccomp/architectures/${i}`);
    });
    // binary tree ordering; not fatal when this libseccomp lacks it (runc)
    if (p.optimize) lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (const r of p.rules) {
      const nr = lib.syscallResolve(r.name);
      if (nr === NR_SCMP_ERROR) {
        skipped.push(r.name);
        continue;
      }
      for (const conds of splitConditions(r.args)) {
        check(lib.ruleAdd(ctx, r.action, nr, conds), `add the rule for ${r.name}`, r.field);
        rules++;
      }
    }
    check(lib.exportBpf(ctx, fd), 'export the BPF program');
  } finally {
    lib.release(ctx);
  }
  return { rules, skipped };
}
