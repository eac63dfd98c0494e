// Does this kernel have a system call, and may we use it? Asked the only
// reliable way: by calling it with arguments that cannot change anything
// (an empty path, a NULL struct, our own pid). ENOSYS means the kernel
// lacks it or a seccomp filter (docker's default profile does this to
// clone3) pretends so; EPERM means a filter refuses it.
//
// koffi comes through src/sys/ffi.ts, the one door to it; loaded only by
// doctor, `features --host` and validate (idmapped mounts).

import { loadKoffi, type Koffi } from '../sys/ffi.js';

export type ProbeResult = 'available' | 'missing' | 'blocked' | 'unknown';

export type ProbedSyscall = 'openat2' | 'clone3' | 'pidfd_open' | 'open_tree' | 'mount_setattr';

// x86_64 and the generic table (aarch64, riscv64) share these numbers: they
// were all added after the tables were unified (Linux 5.x, 424 and up).
const NR: Record<ProbedSyscall, number> = {
  open_tree: 428,
  pidfd_open: 434,
  clone3: 435,
  openat2: 437,
  mount_setattr: 442,
};

const ENOSYS = 38;
const EPERM = 1;

export type SyscallProber = () => Record<ProbedSyscall, ProbeResult>;

export async function loadSyscallProber(): Promise<SyscallProber> {
  let koffi: Koffi;
  try {
    koffi = await loadKoffi();
  } catch {
    return unknownProber;
  }
  return () => {
    let syscall: (...args: unknown[]) => number | bigint;
    let close: (fd: number) => number;
    try {
      const libc = koffi.load('libc.so.6');
      syscall = libc.func('long syscall(long number, ...)') as never;
      close = libc.func('int close(int fd)') as never;
    } catch {
      return unknownProber();
    }
    const call = (name: ProbedSyscall, ...args: unknown[]): ProbeResult => {
      const r = Number(syscall(NR[name], ...args));
      if (r >= 0) {
        if (name !== 'clone3') close(r);
        return 'available';
      }
      const e = koffi.errno();
      if (e === ENOSYS) return 'missing';
      if (e === EPERM) return 'blocked';
      return 'available'; // EINVAL, EBADF, ENOENT: the kernel looked at our arguments
    };
    // struct open_how { u64 flags = O_PATH; u64 mode; u64 resolve }
    const how = Buffer.alloc(24);
    how.writeBigUInt64LE(0o10000000n, 0);
    return {
      openat2: call('openat2', 'int', -100, 'str', '/', 'void *', how, 'size_t', 24),
      // size 0 is always EINVAL: nothing is cloned
      clone3: call('clone3', 'void *', null, 'size_t', 0),
      pidfd_open: call('pidfd_open', 'int', process.pid, 'uint', 0),
      // an empty path without AT_EMPTY_PATH is ENOENT
      open_tree: call('open_tree', 'int', -1, 'str', '', 'uint', 0),
      // no attributes at all is EINVAL
      mount_setattr: call('mount_setattr', 'int', -1, 'str', '', 'uint', 0, 'void *', null, 'size_t', 0),
    };
  };
}

export function unknownProber(): Record<ProbedSyscall, ProbeResult> {
  return { openat2: 'unknown', clone3: 'unknown', pidfd_open: 'unknown', open_tree: 'unknown', mount_setattr: 'unknown' };
}
