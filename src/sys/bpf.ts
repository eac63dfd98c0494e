// The bpf(2) calls the cgroup v2 device filter needs, through koffi.
//
// koffi (through ffi.ts, the one door to it) is loaded on first use, here and nowhere
// else in the cgroup code, so that commands which never touch a v2 device
// filter do not pay its start-up cost (12-17 ms, DESIGN.md). glibc has no
// bpf() wrapper; we go through syscall(2). Every union bpf_attr and every
// buffer the kernel reads or writes lives in koffi-allocated memory, so that
// pointers stored inside the attr are real addresses.

import { requireKoffi } from './ffi.js';
import { errnoName as errnoInfo } from '../runtime/errno.js';

// include/uapi/linux/bpf.h
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6; // enum bpf_attach_type
export const BPF_F_ALLOW_MULTI = 1 << 1;
export const BPF_F_REPLACE = 1 << 2;

const ATTR_SIZE = 128; // covers every command used here (the kernel zero-checks the tail it knows)
const RLIMIT_MEMLOCK = 8;

// __NR_bpf per architecture (arch/*/entry/syscalls, include/uapi/asm-generic/unistd.h).
const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280, riscv64: 280, ppc64: 361, s390x: 351 };

export class BpfError extends Error {
  constructor(
    readonly op: string,
    readonly errno: string,
    readonly errnoNumber: number,
    detail = '',
  ) {
    super(`${op}: ${errno}${detail ? `: ${detail}` : ''}`);
    this.name = 'BpfError';
  }
}

interface Koffi {
  load(path: string): { func(def: string): (...args: unknown[]) => unknown };
  alloc(type: string, n: number): unknown;
  free(p: unknown): void;
  view(p: unknown, n: number): ArrayBuffer;
  address(p: unknown): bigint;
  errno(): number;
}

interface Native {
  koffi: Koffi;
  syscall: (...args: unknown[]) => unknown;
  setrlimit: (...args: unknown[]) => unknown;
  close: (...args: unknown[]) => unknown;
  nr: number;
}

let native: Native | undefined;

function load(): Native {
  if (native) return native;
  const nr = SYS_BPF[process.arch];
  if (nr === undefined) throw new BpfError('bpf', 'ENOSYS', 38, `no bpf syscall number known for ${process.arch}`);
  const koffi = requireKoffi() as unknown as Koffi;
  const libc = koffi.load('libc.so.6');
  native = {
    koffi,
    nr,
    syscall: libc.func('long syscall(long nr, ...)'),
    setrlimit: libc.func('int setrlimit(int resource, void *rlim)'),
    close: libc.func('int close(int fd)'),
  };
  return native;
}

// errno names from the runtime's table, looked up only on failure: node:os
// at module level cost every create ~1 ms even where no BPF is used
function errnoName(n: number): string {
  return errnoInfo(n).name;
}

const EINTR = 4;
const ENOSPC = 28;

// Native memory with a Buffer view over it; freed by release().
class Mem {
  readonly ptr: unknown;
  readonly buf: Buffer;
  readonly addr: bigint;
  constructor(
    private readonly k: Koffi,
    size: number,
  ) {
    this.ptr = k.alloc('uint8_t', size);
    this.buf = Buffer.from(k.view(this.ptr, size));
    this.buf.fill(0);
    this.addr = k.address(this.ptr);
  }
  release(): void {
    this.k.free(this.ptr);
  }
}

function withMem<T>(sizes: number[], fn: (m: Mem[]) => T): T {
  const n = load();
  const mems: Mem[] = [];
  try {
    for (const s of sizes) mems.push(new Mem(n.koffi, s));
    return fn(mems);
  } finally {
    for (const m of mems) m.release();
  }
}

// bpf(cmd, attr, size), retrying EINTR; returns the result or throws.
function bpf(op: string, cmd: number, attr: Mem, detail?: () => string): number {
  const n = load();
  for (;;) {
    const r = Number(n.syscall(n.nr, 'int', cmd, 'void *', attr.ptr, 'uint', ATTR_SIZE));
    if (r >= 0) return r;
    const e = n.koffi.errno();
    if (e === EINTR) continue;
    throw new BpfError(op, errnoName(e), e, detail?.() ?? '');
  }
}

// Before Linux 5.11, BPF memory is charged to RLIMIT_MEMLOCK and a low
// `ulimit -l` makes BPF_PROG_LOAD fail with EPERM; runc raises the limit
// the same way (it is not inherited by the container: runt-init is spawned
// before and resets nothing of ours).
function raiseMemlock(): void {
  const n = load();
  withMem([16], ([rl]) => {
    rl!.buf.writeBigUInt64LE(0xffffffffffffffffn, 0);
    rl!.buf.writeBigUInt64LE(0xffffffffffffffffn, 8);
    n.setrlimit(RLIMIT_MEMLOCK, rl!.ptr);
  });
}

// BPF_PROG_LOAD; returns the program fd. The verifier log is attached to
// the error when the kernel rejects the program.
export function progLoad(progType: number, insns: Buffer, license: string): number {
  const logSize = 64 * 1024;
  const attempt = (): number =>
    withMem([insns.length, license.length + 1, logSize, ATTR_SIZE], ([code, lic, log, attr]) => {
      insns.copy(code!.buf);
      lic!.buf.write(license, 'latin1');
      const a = attr!.buf;
      a.writeUInt32LE(progType, 0); // prog_type
      a.writeUInt32LE(insns.length / 8, 4); // insn_cnt
      a.writeBigUInt64LE(code!.addr, 8); // insns
      a.writeBigUInt64LE(lic!.addr, 16); // license
      a.writeUInt32LE(1, 24); // log_level
      a.writeUInt32LE(logSize, 28); // log_size
      a.writeBigUInt64LE(log!.addr, 32); // log_buf
      return bpf('bpf(BPF_PROG_LOAD)', BPF_PROG_LOAD, attr!, () => {
        const text = log!.buf.toString('utf8');
        return text.slice(0, text.indexOf('\0') < 0 ? undefined : text.indexOf('\0')).trim().split('\n').slice(-3).join('; ');
      });
    });
  try {
    return attempt();
  } catch (err) {
    if (!(err instanceof BpfError) || err.errno !== 'EPERM') throw err;
    raiseMemlock();
    return attempt();
  }
}

// BPF_PROG_QUERY: ids of the programs attached to a cgroup for a type.
export function progQuery(targetFd: number, attachType: number): number[] {
  let size = 64; // the kernel's per-cgroup limit of BPF_F_ALLOW_MULTI programs
  for (let tries = 0; tries < 10; tries++) {
    try {
      return withMem([size * 4, ATTR_SIZE], ([ids, attr]) => {
        const a = attr!.buf;
        a.writeUInt32LE(targetFd, 0); // target_fd
        a.writeUInt32LE(attachType, 4); // attach_type
        a.writeBigUInt64LE(ids!.addr, 16); // prog_ids
        a.writeUInt32LE(size, 24); // prog_cnt
        try {
          bpf('bpf(BPF_PROG_QUERY)', BPF_PROG_QUERY, attr!);
        } finally {
          size = a.readUInt32LE(24);
        }
        const out: number[] = [];
        for (let i = 0; i < size; i++) out.push(ids!.buf.readUInt32LE(i * 4));
        return out;
      });
    } catch (err) {
      // ENOSPC: more programs than room; prog_cnt now says how many.
      if (err instanceof BpfError && err.errno === 'ENOSPC') continue;
      throw err;
    }
  }
  throw new BpfError('bpf(BPF_PROG_QUERY)', 'ENOSPC', ENOSPC, 'the list of attached programs kept growing');
}

// Close an fd that bpf() returned (Node's fs.closeSync warns about fds it
// did not open).
export function closeBpfFd(fd: number): void {
  load().close(fd);
}

export function progGetFdById(id: number): number {
  return withMem([ATTR_SIZE], ([attr]) => {
    attr!.buf.writeUInt32LE(id, 0); // prog_id
    return bpf('bpf(BPF_PROG_GET_FD_BY_ID)', BPF_PROG_GET_FD_BY_ID, attr!);
  });
}

export function progAttach(targetFd: number, progFd: number, attachType: number, flags: number, replaceFd?: number): void {
  withMem([ATTR_SIZE], ([attr]) => {
    const a = attr!.buf;
    a.writeUInt32LE(targetFd, 0); // target_fd
    a.writeUInt32LE(progFd, 4); // attach_bpf_fd
    a.writeUInt32LE(attachType, 8); // attach_type
    a.writeUInt32LE(flags | (replaceFd === undefined ? 0 : BPF_F_REPLACE), 12); // attach_flags
    if (replaceFd !== undefined) a.writeUInt32LE(replaceFd, 16); // replace_bpf_fd
    bpf('bpf(BPF_PROG_ATTACH)', BPF_PROG_ATTACH, attr!);
  });
}

export function progDetach(targetFd: number, progFd: number, attachType: number): void {
  withMem([ATTR_SIZE], ([attr]) => {
    const a = attr!.buf;
    a.writeUInt32LE(targetFd, 0);
    a.writeUInt32LE(progFd, 4);
    a.writeUInt32LE(attachType, 8);
    bpf('bpf(BPF_PROG_DETACH)', BPF_PROG_DETACH, attr!);
  });
}

// Whether the kernel knows BPF_F_REPLACE (Linux >= 5.6), probed as runc does
// (haveBpfProgReplace): attaching with ALLOW_MULTI|REPLACE to a non-cgroup
// fd fails with EBADF once the flags are accepted, with EINVAL before.
let replaceSupported: boolean | undefined;
export function haveProgReplace(progFd: number, notCgroupFd: number): boolean {
  if (replaceSupported !== undefined) return replaceSupported;
  try {
    withMem([ATTR_SIZE], ([attr]) => {
      const a = attr!.buf;
      a.writeUInt32LE(notCgroupFd, 0);
      a.writeUInt32LE(progFd, 4);
      a.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
      a.writeUInt32LE(BPF_F_ALLOW_MULTI | BPF_F_REPLACE, 12);
      a.writeUInt32LE(progFd, 16);
      bpf('bpf(BPF_PROG_ATTACH)', BPF_PROG_ATTACH, attr!);
    });
    replaceSupported = true;
  } catch (err) {
    replaceSupported = !(err instanceof BpfError && err.errno === 'EINVAL');
  }
  return replaceSupported;
}
