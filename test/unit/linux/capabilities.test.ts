import test from 'ava';
import {
  allCapabilityNames,
  capabilityName,
  capabilityNumber,
  CAP_LAST_KNOWN,
  maskToBigInt,
  resolveCapabilities,
} from '../../../src/linux/capabilities.js';

test('table matches linux/capability.h', (t) => {
  const expected: Record<string, number> = {
    CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4,
    CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9,
    CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
    CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18,
    CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
    CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28,
    CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32,
    CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35, CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37,
    CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
  };
  t.is(CAP_LAST_KNOWN, 40);
  t.deepEqual(allCapabilityNames(), Object.keys(expected));
  for (const [name, n] of Object.entries(expected)) {
    t.is(capabilityNumber(name), n);
    t.is(capabilityName(n), name);
  }
});

test('names match exactly, as in runc', (t) => {
  t.is(capabilityNumber('cap_chown'), undefined);
  t.is(capabilityNumber('CHOWN'), undefined);
  t.is(capabilityNumber('CAP_FOO'), undefined);
  t.is(capabilityName(41), undefined);
});

// The default set docker/runc spec gives a container.
const DEFAULT = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

test('masks for the docker default set', (t) => {
  const { sets, unknown } = resolveCapabilities({ bounding: DEFAULT, effective: DEFAULT, permitted: DEFAULT }, 40);
  // 0,1,3,4,5,6,7,8,10,13,18,27,29,31 -> 0xa80425fb, as in /proc/<pid>/status CapBnd
  t.deepEqual(sets.bounding, [0xa80425fb, 0]);
  t.deepEqual(sets.effective, [0xa80425fb, 0]);
  t.deepEqual(sets.permitted, [0xa80425fb, 0]);
  t.deepEqual(sets.inheritable, [0, 0]);
  t.deepEqual(sets.ambient, [0, 0]);
  t.deepEqual(unknown, []);
  t.is(maskToBigInt(sets.bounding), 0xa80425fbn);
});

test('all capabilities with lastCap 40 fill bits 0..40', (t) => {
  const { sets } = resolveCapabilities({ bounding: allCapabilityNames() }, 40);
  t.deepEqual(sets.bounding, [0xffffffff, 0x1ff]);
  t.is(maskToBigInt(sets.bounding), (1n << 41n) - 1n);
});

test('high capabilities land in the high word', (t) => {
  const { sets } = resolveCapabilities({ ambient: ['CAP_MAC_OVERRIDE', 'CAP_BPF'] }, 40);
  t.deepEqual(sets.ambient, [0, (1 << 0) | (1 << 7)]);
  const low = resolveCapabilities({ inheritable: ['CAP_SETFCAP'] }, 40);
  t.deepEqual(low.sets.inheritable, [0x80000000, 0]);
});

test('unknown names are collected, sorted and unique, not thrown', (t) => {
  const { sets, unknown } = resolveCapabilities(
    { bounding: ['CAP_KILL', 'CAP_FOO', 'cap_chown'], effective: ['CAP_FOO', 'CAP_BAR', 'CAP_KILL'] },
    40,
  );
  t.deepEqual(unknown, ['CAP_BAR', 'CAP_FOO', 'cap_chown']);
  t.deepEqual(sets.bounding, [1 << 5, 0]);
  t.deepEqual(sets.effective, [1 << 5, 0]);
});

test('capabilities above the host last cap are unavailable', (t) => {
  // e.g. a 5.4 kernel: cap_last_cap = 37 (no PERFMON, BPF, CHECKPOINT_RESTORE)
  const { sets, unknown } = resolveCapabilities(
    { bounding: ['CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'] },
    37,
  );
  t.deepEqual(sets.bounding, [0, 1 << 5]);
  t.deepEqual(unknown, ['CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_PERFMON']);
  const all = resolveCapabilities({ permitted: allCapabilityNames() }, 37);
  t.is(maskToBigInt(all.sets.permitted), (1n << 38n) - 1n);
  t.is(all.unknown.length, 3);
});

test('missing sets and a missing object give empty masks', (t) => {
  const none = resolveCapabilities(undefined, 40);
  for (const m of Object.values(none.sets)) t.deepEqual(m, [0, 0]);
  t.deepEqual(none.unknown, []);
  const empty = resolveCapabilities({ bounding: [] }, 40);
  t.deepEqual(empty.sets.bounding, [0, 0]);
});

test('repeated names set the bit once', (t) => {
  const { sets } = resolveCapabilities({ effective: ['CAP_SYS_ADMIN', 'CAP_SYS_ADMIN'] }, 40);
  t.deepEqual(sets.effective, [1 << 21, 0]);
});
