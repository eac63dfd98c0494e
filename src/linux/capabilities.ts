// Linux capabilities (linux/capability.h) and the resolution of the spec's
// five capability sets into the bit masks the native stage applies.
//
// runc 1.2+ builds its name table from the capabilities the running kernel
// supports (known names up to /proc/sys/kernel/cap_last_cap); any other name
// is skipped with the warning "ignoring unknown or unavailable capabilities".
// Names are matched exactly: "cap_chown" or "CHOWN" are unknown to runc too.

import type { Capabilities } from '../spec/types.js';

// Index = capability number.
const NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

export const CAP_LAST_KNOWN = NAMES.length - 1; // 40, CAP_CHECKPOINT_RESTORE

const numbers = new Map<string, number>(NAMES.map((name, i) => [name, i]));

export function capabilityNumber(name: string): number | undefined {
  return numbers.get(name);
}

export function capabilityName(n: number): string | undefined {
  return NAMES[n];
}

// Every name this build knows, in number order (runc features' "capabilities").
export function allCapabilityNames(): string[] {
  return [...NAMES];
}

// A 64-bit mask as [low 32 bits, high 32 bits], both unsigned: the form the
// native stage copies into struct __user_cap_data_struct[2].
export type CapMask = [lo: number, hi: number];

export interface CapabilitySets {
  bounding: CapMask;
  effective: CapMask;
  inheritable: CapMask;
  permitted: CapMask;
  ambient: CapMask;
}

export interface ResolvedCapabilities {
  sets: CapabilitySets;
  unknown: string[]; // sorted, unique; the caller warns and carries on
}

const SET_KEYS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

function toMask(names: readonly string[] | undefined, lastCap: number, unknown: Set<string>): CapMask {
  let lo = 0;
  let hi = 0;
  for (const name of names ?? []) {
    const n = numbers.get(name);
    if (n === undefined || n > lastCap) {
      unknown.add(name);
    } else if (n < 32) {
      lo |= 1 << n;
    } else {
      hi |= 1 << (n - 32);
    }
  }
  return [lo >>> 0, hi >>> 0];
}

// lastCap is /proc/sys/kernel/cap_last_cap. A missing set (or a missing
// capabilities object) gives an empty mask, as in runc: the set is cleared.
export function resolveCapabilities(caps: Capabilities | undefined, lastCap: number): ResolvedCapabilities {
  const unknown = new Set<string>();
  const sets = {} as CapabilitySets;
  for (const key of SET_KEYS) sets[key] = toMask(caps?.[key], lastCap, unknown);
  return { sets, unknown: [...unknown].sort() };
}

// For logs and tests: the mask back as a bigint.
export function maskToBigInt([lo, hi]: CapMask): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}
