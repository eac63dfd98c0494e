// What runt implements, as `runt features` reports it (runtime-spec
// features.md / features-linux.md). Only what really works is listed: the
// lists and switches come from the support table (spec-support.ts), which
// also generates docs/spec-conformance.md; the seccomp details from
// src/seccomp (actions, operators, flags) and from the libseccomp on this
// machine (architectures it knows, its version).

import os from 'node:os';
import { allCapabilityNames } from '../linux/capabilities.js';
import { knownMountOptions } from '../linux/mount-options.js';
import { ACTION_NAMES, FLAG_NAMES, OPERATOR_NAMES, flagSupported } from '../seccomp/profile.js';
import { MPOL_FLAG_NAMES, MPOL_MODE_NAMES } from '../spec/process-extras.js';
import { findLibseccomp, openLibseccompSync } from '../sys/libseccomp.js';
import { implementedNames, isImplemented } from './spec-support.js';

// runtime-spec defs-linux.json SeccompArch
const SECCOMP_ARCHS = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
];

// seccomp as compiled here: without libseccomp there is none.
function seccompFeatures(annotations: Record<string, string>): Record<string, unknown> {
  const file = isImplemented('linux.seccomp') ? findLibseccomp() : undefined;
  if (!file) return { enabled: false };
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  const kernel = { version: (m ? [Number(m[1]), Number(m[2])] : [0, 0]) as [number, number] };
  const lib = openLibseccompSync(file);
  if (lib) annotations['io.github.seccomp.libseccomp.version'] = lib.version;
  return {
    enabled: true,
    actions: ACTION_NAMES,
    operators: OPERATOR_NAMES,
    // the ones this libseccomp can compile for (all of the spec's when it
    // cannot be asked synchronously)
    archs: lib ? SECCOMP_ARCHS.filter((a) => lib.archResolve(a.slice('SCMP_ARCH_'.length).toLowerCase()) !== 0) : SECCOMP_ARCHS,
    knownFlags: FLAG_NAMES,
    supportedFlags: FLAG_NAMES.filter((f) => flagSupported(f, kernel)),
  };
}

export function features(): Record<string, unknown> {
  const annotations: Record<string, string> = { 'org.opencontainers.runc.version': 'runt' };
  const seccomp = seccompFeatures(annotations);
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: implementedNames('hooks'),
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: implementedNames('namespaces'),
      capabilities: allCapabilityNames(),
      cgroup: {
        v1: isImplemented('cgroup.v1'),
        v2: isImplemented('cgroup.v2'),
        systemd: isImplemented('cgroup.systemd'),
        systemdUser: isImplemented('cgroup.systemdUser'),
        rdma: isImplemented('resources.rdma'),
      },
      seccomp,
      apparmor: { enabled: isImplemented('lsm.apparmor') },
      selinux: { enabled: isImplemented('lsm.selinux') },
      intelRdt: isImplemented('linux.intelRdt') ? { enabled: true, schemata: true, monitoring: true } : { enabled: false },
      memoryPolicy: isImplemented('linux.memoryPolicy') ? { modes: MPOL_MODE_NAMES, flags: MPOL_FLAG_NAMES } : undefined,
      mountExtensions: { idmap: { enabled: isImplemented('config.mounts.idmap') } },
      netDevices: { enabled: isImplemented('linux.netDevices') },
    },
    annotations,
  };
}
