// `runt features --host`: the features document (what runt implements,
// unchanged) plus a "host" object: what this kernel and system provide.

import { NS_FILES, SECCOMP_ACTIONS, type HostFacts } from './host-facts.js';

export function hostFeatures(f: HostFacts): Record<string, unknown> {
  const actions = Object.entries(SECCOMP_ACTIONS)
    .filter(([, avail]) => f.seccomp.actions.includes(avail))
    .map(([name]) => name);
  const ok = (r: string): boolean => r === 'available';
  return {
    kernel: { release: f.kernel.release, machine: f.kernel.machine },
    namespaces: (Object.keys(NS_FILES) as (keyof typeof NS_FILES)[]).filter((t) => f.namespaces[t]),
    userNamespaces: {
      enabled: f.namespaces.user && f.userns.max !== 0,
      maxUserNamespaces: f.userns.max ?? null,
      unprivileged: f.userns.unprivilegedClone === undefined ? null : f.userns.unprivilegedClone === 1,
      insideUserNamespace: f.userns.inside,
    },
    cgroup: {
      mode: f.cgroup.mode,
      v1: f.cgroup.v1.flatMap((h) => h.controllers).sort(),
      v2: f.cgroup.unified
        ? { mountpoint: f.cgroup.unified.mountpoint, controllers: f.cgroup.unified.controllers, delegated: f.cgroup.unified.parentControllers, delegatedTo: f.cgroup.unified.parent }
        : null,
      systemd: f.cgroup.systemd,
    },
    seccomp: { enabled: f.seccomp.filter, actions, libseccomp: f.seccomp.libseccomp ?? null },
    lsm: f.lsm.active ?? null,
    apparmor: { enabled: f.lsm.apparmor },
    selinux: { enabled: f.lsm.selinux },
    idmappedMounts: { enabled: ok(f.syscalls.mount_setattr) && ok(f.syscalls.open_tree) },
    timeNamespace: { enabled: f.namespaces.time },
    pidfd: { enabled: ok(f.syscalls.pidfd_open) },
    openat2: { enabled: ok(f.syscalls.openat2) },
    clone3: { enabled: ok(f.syscalls.clone3) },
    syscalls: f.syscalls,
  };
}
