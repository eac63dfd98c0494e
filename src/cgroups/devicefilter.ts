// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program built
// from the device rules, instruction by instruction, as runc's
// libcontainer/cgroups/devices/devicefilter.go does (itself based on crun's
// src/libcrun/ebpf.c; youki's libcgroups/src/v2/devices/program.rs is the
// same shape). Pure: the bytes are loaded by src/sys/bpf.ts.
//
// The rules first go through the same emulator as cgroup v1 (devices.ts), so
// both versions agree on the semantics, including the refusal to punch holes
// in wildcard rules. What is left is a default action plus exceptions that
// all have the opposite action; each exception becomes one block:
//
//   r2 = type, r3 = access, r4 = major, r5 = minor   (struct bpf_cgroup_dev_ctx)
//   block-i: if r2 != type goto block-i+1
//            if r3 & access != r3 goto block-i+1     (omitted for "rwm")
//            if r4 != major goto block-i+1           (omitted for wildcard)
//            if r5 != minor goto block-i+1           (omitted for wildcard)
//            r0 = action; exit
//   block-n: r0 = default; exit

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { type DeviceRule, DeviceEmulator, WILDCARD } from './devices.js';

// include/uapi/linux/bpf.h
const BPF_DEVCG_ACC_MKNOD = 1;
const BPF_DEVCG_ACC_READ = 2;
const BPF_DEVCG_ACC_WRITE = 4;
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;

// Opcodes (class | op | source) used by the filter.
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32_IMM: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_IMM: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_IMM: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32_REG: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JNE_IMM: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNE_REG: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number; // for jumps: relative to the next instruction
  imm: number;
}

// runc uses "Apache" (the kernel only cares whether it is GPL-compatible,
// for GPL-only helpers, and the filter calls no helper).
export const DEVICE_FILTER_LICENSE = 'Apache';

export interface DeviceFilter {
  insns: Insn[];
  // The emulator's verdict, for callers that want to skip work.
  defaultAllow: boolean;
  exceptions: number;
}

function accessBits(access: string): number {
  let a = 0;
  for (const ch of access) {
    if (ch === 'r') a |= BPF_DEVCG_ACC_READ;
    else if (ch === 'w') a |= BPF_DEVCG_ACC_WRITE;
    else if (ch === 'm') a |= BPF_DEVCG_ACC_MKNOD;
    else throw new RuntimeError(Codes.CgroupResource, `unknown device access ${JSON.stringify(ch)}`, { field: '/linux/resources/devices' });
  }
  return a;
}

// The exceptions of the emulated rule set, in the emulator's order (major,
// minor, type), each with the action opposite to the default.
function cleanRules(rules: DeviceRule[]): { defaultAllow: boolean; rules: DeviceRule[] } {
  const emu = DeviceEmulator.build(rules);
  return { defaultAllow: emu.defaultAllow, rules: emu.exceptions() };
}

export function buildDeviceFilter(rules: DeviceRule[]): DeviceFilter {
  const clean = cleanRules(rules);
  const insns: Insn[] = [
    // r2 = ctx->access_type & 0xffff (the device type)
    { code: OP.LDXW, dst: 2, src: 1, off: 0, imm: 0 },
    { code: OP.AND32_IMM, dst: 2, src: 0, off: 0, imm: 0xffff },
    // r3 = ctx->access_type >> 16 (the access requested)
    { code: OP.LDXW, dst: 3, src: 1, off: 0, imm: 0 },
    { code: OP.RSH32_IMM, dst: 3, src: 0, off: 0, imm: 16 },
    // r4 = ctx->major, r5 = ctx->minor
    { code: OP.LDXW, dst: 4, src: 1, off: 4, imm: 0 },
    { code: OP.LDXW, dst: 5, src: 1, off: 8, imm: 0 },
  ];
  for (const rule of clean.rules) {
    const block: Insn[] = [];
    // Jumps to the next block are patched once the block's length is known.
    const jumps: number[] = [];
    const type = rule.type === 'c' ? BPF_DEVCG_DEV_CHAR : rule.type === 'b' ? BPF_DEVCG_DEV_BLOCK : undefined;
    if (type === undefined) {
      throw new RuntimeError(Codes.CgroupResource, `invalid device type ${JSON.stringify(rule.type)} in an emulated rule`, { field: '/linux/resources/devices' });
    }
    jumps.push(block.push({ code: OP.JNE_IMM, dst: 2, src: 0, off: 0, imm: type }) - 1);
    const access = accessBits(rule.access);
    if (access !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      // r1 is free once the context has been read: r1 = r3 & access
      block.push({ code: OP.MOV32_REG, dst: 1, src: 3, off: 0, imm: 0 });
      block.push({ code: OP.AND32_IMM, dst: 1, src: 0, off: 0, imm: access });
      jumps.push(block.push({ code: OP.JNE_REG, dst: 1, src: 3, off: 0, imm: 0 }) - 1);
    }
    if (rule.major !== WILDCARD) jumps.push(block.push({ code: OP.JNE_IMM, dst: 4, src: 0, off: 0, imm: checkU32(rule.major, 'major') }) - 1);
    if (rule.minor !== WILDCARD) jumps.push(block.push({ code: OP.JNE_IMM, dst: 5, src: 0, off: 0, imm: checkU32(rule.minor, 'minor') }) - 1);
    block.push({ code: OP.MOV32_IMM, dst: 0, src: 0, off: 0, imm: rule.allow ? 1 : 0 });
    block.push({ code: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
    for (const j of jumps) (block[j] as Insn).off = block.length - j - 1;
    insns.push(...block);
  }
  insns.push({ code: OP.MOV32_IMM, dst: 0, src: 0, off: 0, imm: clean.defaultAllow ? 1 : 0 });
  insns.push({ code: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  return { insns, defaultAllow: clean.defaultAllow, exceptions: clean.rules.length };
}

function checkU32(n: number, what: string): number {
  // The immediate is a signed 32-bit field compared against the u32 in the
  // context; majors and minors fit far below 2^31 (MINORBITS is 20).
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RuntimeError(Codes.CgroupResource, `invalid device ${what} ${n}`, { field: '/linux/resources/devices' });
  }
  return n;
}

// struct bpf_insn: u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm
// (little-endian bit-field order on the hosts we run on).
export function encodeInsns(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    b.writeUInt8(i.code, n * 8);
    b.writeUInt8((i.dst & 0xf) | ((i.src & 0xf) << 4), n * 8 + 1);
    b.writeInt16LE(i.off, n * 8 + 2);
    b.writeInt32LE(i.imm, n * 8 + 4);
  });
  return b;
}

// One line per instruction in cilium/ebpf's notation (what runc's
// devicefilter tests show), with jump targets as absolute indexes.
export function disassemble(insns: Insn[]): string[] {
  return insns.map((i, n) => {
    switch (i.code) {
      case OP.LDXW:
        return `${n}: LdXMemW dst: r${i.dst} src: r${i.src} off: ${i.off} imm: ${i.imm}`;
      case OP.AND32_IMM:
        return `${n}: AndImm32 dst: r${i.dst} imm: ${i.imm}`;
      case OP.RSH32_IMM:
        return `${n}: RShImm32 dst: r${i.dst} imm: ${i.imm}`;
      case OP.MOV32_IMM:
        return `${n}: MovImm32 dst: r${i.dst} imm: ${i.imm}`;
      case OP.MOV32_REG:
        return `${n}: MovReg32 dst: r${i.dst} src: r${i.src}`;
      case OP.JNE_IMM:
        return `${n}: JNEImm dst: r${i.dst} imm: ${i.imm} -> ${n + 1 + i.off}`;
      case OP.JNE_REG:
        return `${n}: JNEReg dst: r${i.dst} src: r${i.src} -> ${n + 1 + i.off}`;
      case OP.EXIT:
        return `${n}: Exit`;
      default:
        return `${n}: code 0x${i.code.toString(16)}`;
    }
  });
}
