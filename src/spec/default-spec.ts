// The config.json that `spec` writes: the same as runc's `runc spec`
// (libcontainer/specconv/example.go: Example(), and ToRootless() for
// --rootless), except that ociVersion is the runtime-spec version whose
// schemas we vendor (schemas/README.md) instead of runc's specs-go version.
//
// Object keys are created in the order of runc's Go struct fields, so
// `JSON.stringify(spec, null, '\t')` has the same layout as runc's output
// (which is encoding/json with tab indentation).

import { statfsSync } from 'node:fs';
import type { Mount, Namespace, Spec } from './types.js';

/** The runtime-spec version of the vendored schemas. */
export const SPEC_VERSION = '1.3.0';

export interface DefaultSpecOptions {
  /** Apply runc's ToRootless(): user namespace, no network namespace, no cgroup resources. */
  rootless: boolean;
  /**
   * Whether the host uses the cgroup v2 unified hierarchy; runc then adds a
   * cgroup namespace. Detected from /sys/fs/cgroup when not given.
   */
  cgroup2?: boolean;
  /** Host uid mapped to root in the rootless variant (default: the effective uid). */
  euid?: number;
  /** Host gid mapped to root in the rootless variant (default: the effective gid). */
  egid?: number;
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Same test as runc's cgroups.IsCgroup2UnifiedMode(). */
export function isCgroup2UnifiedMode(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** Returns a new default spec (see file comment). */
export function defaultSpec(opts: DefaultSpecOptions): Spec {
  const spec = example(opts.cgroup2 ?? isCgroup2UnifiedMode());
  if (opts.rootless) {
    toRootless(spec, opts.euid ?? process.geteuid?.() ?? 0, opts.egid ?? process.getegid?.() ?? 0);
  }
  return spec;
}

// runc: specconv.Example()
function example(cgroup2: boolean): Spec {
  const namespaces: Namespace[] = [
    { type: 'pid' },
    { type: 'network' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (cgroup2) namespaces.push({ type: 'cgroup' });
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      // Go field order of LinuxCapabilities: bounding, effective, inheritable,
      // permitted, ambient. runc no longer sets inheritable or ambient.
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    // Go field order of Linux: uidMappings, gidMappings, sysctl, resources,
    // cgroupsPath, namespaces, devices, seccomp, rootfsPropagation,
    // maskedPaths, readonlyPaths, ...
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

// runc: specconv.ToRootless()
function toRootless(spec: Spec, euid: number, egid: number): void {
  const linux = spec.linux ?? {};
  // Drop the network namespace (and any user namespace), then add a user namespace.
  const namespaces: Namespace[] = (linux.namespaces ?? []).filter(
    (ns) => ns.type !== 'network' && ns.type !== 'user',
  );
  namespaces.push({ type: 'user' });

  // Map the current user to root. Rebuild `linux` so the keys keep Go's
  // field order (uidMappings and gidMappings come first); resources are
  // dropped: a rootless runc cannot set up cgroups by default.
  const { resources: _resources, namespaces: _namespaces, uidMappings: _u, gidMappings: _g, ...rest } = linux;
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: euid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: egid, size: 1 }],
    namespaces,
    ...rest,
  };

  // Fix up mounts: /sys becomes a recursive bind of the host's /sys (a user
  // namespace cannot mount sysfs without a network namespace of its own), and
  // uid=/gid= options go (the ids may not be mapped).
  const mounts: Mount[] = [];
  for (const m of spec.mounts ?? []) {
    if (cleanPath(m.destination) === '/sys') {
      mounts.push({
        destination: '/sys',
        type: 'none',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      });
      continue;
    }
    const options = (m.options ?? []).filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    const { options: _options, ...withoutOptions } = m;
    // Like Go's nil slice with omitempty: no "options" key when none are left.
    mounts.push(options.length > 0 ? { ...withoutOptions, options } : withoutOptions);
  }
  spec.mounts = mounts;
}

/** Lexical path cleanup like Go's filepath.Clean, enough to compare mount destinations. */
function cleanPath(p: string): string {
  const abs = p.startsWith('/');
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!abs) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join('/');
  return abs ? `/${joined}` : joined || '.';
}
