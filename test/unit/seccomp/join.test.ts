// A multi-architecture profile is compiled one architecture at a time and
// joined (src/seccomp/join.ts). The joined program must decide every
// (architecture, syscall number, arguments) exactly as libseccomp's combined
// filter does: both run here in a classic-BPF interpreter over every syscall
// number of x86_64, i386 and x32 (and a foreign architecture), with the
// argument values the rules compare against.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileCombined, compileFilter } from '../../../src/seccomp/compile.js';
import { BPF_MAXINSNS, joinArchPrograms, pickSentinel } from '../../../src/seccomp/join.js';
import { compileProfile } from '../../../src/seccomp/profile.js';
import type { Seccomp } from '../../../src/spec/types.js';
import { findLibseccomp, openLibseccomp, type Libseccomp } from '../../../src/sys/libseccomp.js';

const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7 };
const X32_BIT = 0x40000000;

// seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
function seccompData(arch: number, nr: number, args: bigint[]): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(nr | 0, 0);
  b.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

// Classic BPF as seccomp runs it (all of what libseccomp emits, and more).
function runBpf(prog: Buffer, data: Buffer): number {
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  const n = prog.length / 8;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > BPF_MAXINSNS) throw new Error('BPF: runaway program');
    const o = pc * 8;
    const code = prog.readUInt16LE(o);
    const jt = prog.readUInt8(o + 2);
    const jf = prog.readUInt8(o + 3);
    const k = prog.readUInt32LE(o + 4);
    const cls = code & 0x07;
    if (cls === 0x00 || cls === 0x01) {
      // LD / LDX
      const mode = code & 0xe0;
      let v: number;
      if (mode === 0x20) v = data.readUInt32LE(k); // ABS (W)
      else if (mode === 0x00) v = k; // IMM
      else if (mode === 0x60) v = mem[k]!; // MEM
      else if (mode === 0x80) v = 64; // LEN
      else throw new Error(`BPF: load mode 0x${code.toString(16)}`);
      if (cls === 0x00) A = v >>> 0;
      else X = v >>> 0;
    } else if (cls === 0x02) mem[k] = A;
    else if (cls === 0x03) mem[k] = X;
    else if (cls === 0x04) {
      const src = code & 0x08 ? X : k;
      switch (code & 0xf0) {
        case 0x00: A = (A + src) >>> 0; break;
        case 0x10: A = (A - src) >>> 0; break;
        case 0x20: A = Math.imul(A, src) >>> 0; break;
        case 0x40: A = (A | src) >>> 0; break;
        case 0x50: A = (A & src) >>> 0; break;
        case 0x60: A = (A << src) >>> 0; break;
        case 0x70: A = A >>> src; break;
        case 0x80: A = -A >>> 0; break;
        case 0xa0: A = (A ^ src) >>> 0; break;
        default: throw new Error(`BPF: alu 0x${code.toString(16)}`);
      }
    } else if (cls === 0x05) {
      const op = code & 0xf0;
      if (op === 0x00) {
        pc += k;
        continue;
      }
      const src = code & 0x08 ? X : k;
      let cond: boolean;
      if (op === 0x10) cond = A === src;
      else if (op === 0x20) cond = A > src;
      else if (op === 0x30) cond = A >= src;
      else if (op === 0x40) cond = (A & src) !== 0;
      else throw new Error(`BPF: jump 0x${code.toString(16)}`);
      pc += cond ? jt : jf;
    } else if (cls === 0x06) return (code & 0x18) === 0x10 ? A : k;
    else if (code === 0x07) X = A; // TAX
    else if (code === 0x87) A = X; // TXA
    else throw new Error(`BPF: opcode 0x${code.toString(16)}`);
  }
  throw new Error('BPF: fell off the end');
}

// Every syscall number of each ABI (and some beyond), with argument vectors
// that hit and miss each rule's conditions.
function* inputs(argValues: bigint[]): Generator<Buffer> {
  const vectors: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n], [-1n, -1n, -1n, -1n, -1n, -1n]];
  for (const v of argValues) {
    for (const d of [v, v + 1n, v - 1n, v | (1n << 32n), v & 0xffffffffn]) vectors.push([d, d, d, d, d, d]);
  }
  for (let nr = -2; nr < 600; nr++) {
    for (const args of vectors) {
      yield seccompData(AUDIT_ARCH.x86_64, nr, args);
      yield seccompData(AUDIT_ARCH.x86_64, (nr | X32_BIT) >>> 0, args);
      yield seccompData(AUDIT_ARCH.i386, nr, args);
      if (nr % 50 === 0) yield seccompData(AUDIT_ARCH.aarch64, nr, args);
    }
  }
}

const NAMES = ('read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask ioctl pread64 readv writev access ' +
  'pipe select sched_yield mremap msync mincore madvise dup dup2 pause nanosleep getpid sendfile connect accept sendto recvfrom shutdown bind listen ' +
  'getsockname clone fork vfork execve exit wait4 kill uname fcntl flock fsync truncate getdents getcwd chdir rename mkdir rmdir link unlink symlink ' +
  'readlink chmod chown umask gettimeofday getrlimit getuid getgid setuid setgid geteuid setpgid getppid setsid capget capset sigaltstack statfs ' +
  'prctl arch_prctl mount umount2 chroot sethostname ptrace socketcall ipc waitpid open_by_handle_at mmap2 fstat64 _llseek epoll_wait set_tid_address ' +
  'clock_gettime exit_group tgkill openat mkdirat newfstatat unlinkat renameat faccessat pselect6 ppoll unshare splice tee epoll_pwait signalfd ' +
  'timerfd_create eventfd fallocate accept4 dup3 pipe2 inotify_init1 prlimit64 setns getrandom memfd_create bpf execveat userfaultfd statx ' +
  'io_uring_setup clone3 close_range openat2 pidfd_open faccessat2 epoll_pwait2 no_such_call').split(' ');

const PROFILES: Record<string, Seccomp> = {
  // Docker's shape: ERRNO default, an allow list, conditions on socket,
  // personality (several values of one argument) and clone (a mask)
  allowList: {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: NAMES.filter((n) => !['socket', 'personality', 'clone', 'ptrace', 'mount'].includes(n)), action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['ptrace'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  },
  // a deny list over ALLOW, every operator, 64-bit values, several actions
  denyList: {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['mkdir', 'rmdir', 'no_such_call'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 0, value: 1, op: 'SCMP_CMP_LE' }] },
      { names: ['lseek'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, value: 0x1_0000_0000, op: 'SCMP_CMP_GT' }] },
      { names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 2, value: 4096, op: 'SCMP_CMP_GE' }] },
      { names: ['write'], action: 'SCMP_ACT_TRACE', errnoRet: 7, args: [{ index: 2, value: 3, op: 'SCMP_CMP_LT' }] },
      { names: ['fcntl'], action: 'SCMP_ACT_KILL_THREAD', args: [{ index: 1, value: 0xff00, valueTwo: 0x400, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0x5412, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0x541c, op: 'SCMP_CMP_EQ' }] },
      { names: ['socketcall', 'ipc', 'mmap2', 'arch_prctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
    ],
  },
  // only a foreign architecture listed: the native one is in the filter anyway
  foreignOnly: {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [{ names: ['mkdir', 'getpid', 'socketcall'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }],
  },
};

function argValuesOf(s: Seccomp): bigint[] {
  const v = new Set<bigint>([0n, 1n, 3n, 8n, 9n, 40n, 4096n]);
  for (const sc of s.syscalls ?? []) for (const a of sc.args ?? []) for (const x of [a.value, a.valueTwo ?? 0]) v.add(BigInt(x));
  return [...v];
}

const haveLib = process.arch === 'x64' && !!findLibseccomp();
const lt = haveLib ? test : test.skip;

async function withScratch<T>(fn: (lib: Libseccomp, fd: () => number) => T): Promise<T> {
  const lib = await openLibseccomp(findLibseccomp()!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-join-'));
  let k = 0;
  try {
    return fn(lib, () => fs.openSync(path.join(dir, `f${k++}`), 'wx+', 0o600));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const [name, profile] of Object.entries(PROFILES)) {
  lt(`joined per-architecture program decides like libseccomp's combined filter: ${name}`, async (t) => {
    await withScratch((lib, scratch) => {
      const p = compileProfile(profile, { version: [6, 1] });
      const joined = compileFilter(lib, p, scratch()).bpf;
      const combined = compileCombined(lib, p, scratch());
      t.notDeepEqual(joined, combined, 'the profile has several architectures: the program must be the joined one');
      let n = 0;
      const seen = new Set<number>();
      for (const data of inputs(argValuesOf(profile))) {
        const want = runBpf(combined, data);
        const got = runBpf(joined, data);
        if (got !== want) {
          t.fail(`arch 0x${data.readUInt32LE(4).toString(16)} nr ${data.readInt32LE(0)} arg0 ${data.readBigUInt64LE(16)}: joined 0x${got.toString(16)}, combined 0x${want.toString(16)}`);
          return;
        }
        seen.add(got);
        n++;
      }
      // the inputs reached the rules, the default and the foreign-arch action
      t.true(seen.size >= 3, `actions seen: ${[...seen].map((a) => a.toString(16))}`);
      t.log(`${n} inputs, ${seen.size} distinct actions, ${joined.length / 8} vs ${combined.length / 8} instructions`);
    });
  });
}

test('joinArchPrograms: sentinel returns jump to the next part, the last falls to the bad-arch action', (t) => {
  const S = pickSentinel([0x7fff0000, 0x00050001]);
  t.is(S, 0x00050ffe);
  const ins = (code: number, k: number, jt = 0, jf = 0): Buffer => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(code, 0);
    b.writeUInt8(jt, 2);
    b.writeUInt8(jf, 3);
    b.writeUInt32LE(k >>> 0, 4);
    return b;
  };
  // part: ld arch; jeq ARCH ? +1 : 0; ret S; ret ACTION
  const part = (arch: number, action: number): Buffer => Buffer.concat([ins(0x20, 4), ins(0x15, arch, 1, 0), ins(0x06, S), ins(0x06, action)]);
  const j = joinArchPrograms([part(AUDIT_ARCH.x86_64, 0x7fff0000), part(AUDIT_ARCH.i386, 0x00050001)], S, 0)!;
  t.is(j.length, 9 * 8);
  t.is(runBpf(j, seccompData(AUDIT_ARCH.x86_64, 1, [])), 0x7fff0000);
  t.is(runBpf(j, seccompData(AUDIT_ARCH.i386, 1, [])), 0x00050001);
  t.is(runBpf(j, seccompData(AUDIT_ARCH.aarch64, 1, [])), 0);
  // a part that never checks its architecture cannot be joined
  t.is(joinArchPrograms([ins(0x06, 0x7fff0000), part(AUDIT_ARCH.i386, 1)], S, 0), undefined);
  // nor parts longer than the kernel takes
  t.is(joinArchPrograms([Buffer.alloc(BPF_MAXINSNS * 8)], S, 0), undefined);
});
