// One classic-BPF program from several single-architecture ones. libseccomp
// exports a filter for N architectures in time that grows much faster than
// N (Docker's profile, 363 names: x86_64 alone 1.3 ms, x86_64+x86+x32
// 9.8 ms), so compile.ts compiles one filter per architecture, each
// returning a sentinel action where it finds a foreign architecture, and
// joins them here: each sentinel return becomes a jump to the next program,
// and the last program's "not mine" falls through to libseccomp's own
// bad-architecture action. The joined program decides every (arch, nr,
// args) exactly as the combined filter would (test/unit/seccomp checks it
// with a BPF interpreter against libseccomp's combined program).

const INSN = 8; // struct sock_filter { u16 code; u8 jt, jf; u32 k; }
const BPF_RET_K = 0x06; // BPF_RET | BPF_K
const BPF_JMP_JA = 0x05; // BPF_JMP | BPF_JA
export const BPF_MAXINSNS = 4096;

// An ERRNO action no rule of the profile uses: the return value that marks
// "not my architecture" in the programs to join (libseccomp takes errno
// values below MAX_ERRNO, 4095).
export function pickSentinel(used: Iterable<number>): number {
  const taken = new Set(used);
  for (let e = 4094; e > 0; e--) {
    const v = (0x00050000 | e) >>> 0;
    if (!taken.has(v)) return v;
  }
  throw new Error('no free seccomp action value for the architecture sentinel');
}

// undefined: the parts cannot be joined (too long for the kernel, or a part
// without any architecture check, which libseccomp never makes); the caller
// then compiles one combined filter.
export function joinArchPrograms(parts: Buffer[], sentinel: number, badArchAction: number): Buffer | undefined {
  const insns = parts.reduce((n, p) => n + p.length / INSN, 0) + 1;
  if (insns > BPF_MAXINSNS || parts.some((p) => p.length === 0 || p.length % INSN !== 0)) return undefined;
  const out = Buffer.alloc(insns * INSN);
  let at = 0;
  for (const part of parts) {
    part.copy(out, at * INSN);
    const n = part.length / INSN;
    let exits = 0;
    for (let j = 0; j < n; j++) {
      const o = (at + j) * INSN;
      if (out.readUInt16LE(o) !== BPF_RET_K || out.readUInt32LE(o + 4) !== sentinel) continue;
      // ja k: continue at j + 1 + k, the first instruction after this part
      out.writeUInt16LE(BPF_JMP_JA, o);
      out.writeUInt8(0, o + 2);
      out.writeUInt8(0, o + 3);
      out.writeUInt32LE(n - j - 1, o + 4);
      exits++;
    }
    if (exits === 0) return undefined;
    at += n;
  }
  out.writeUInt16LE(BPF_RET_K, at * INSN);
  out.writeUInt32LE(badArchAction >>> 0, at * INSN + 4);
  return out;
}
