// The eBPF device filter: the programs runc's devicefilter_test.go expects,
// instruction for instruction, and an interpreter check that the program
// decides every access exactly as the v1 emulator does.

import test from 'ava';
import { type Insn, OP, buildDeviceFilter, disassemble, encodeInsns } from '../../../src/cgroups/devicefilter.js';
import { DEFAULT_DEVICE_RULES, type DeviceRule, DeviceEmulator, WILDCARD, effectiveDeviceRules } from '../../../src/cgroups/devices.js';

// runc's expected listings use symbolic "<block-N>" targets; turn them into
// our notation (absolute instruction indexes).
function fromRunc(listing: string): string[] {
  const lines = listing.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('//'));
  const blocks = new Map<string, number>();
  let n = 0;
  for (const l of lines) {
    if (/^block-\d+:$/.test(l)) blocks.set(l.slice(0, -1), n);
    else n++;
  }
  return lines
    .filter((l) => !/^block-\d+:$/.test(l))
    .map((l) =>
      l
        .replace(/ off: -1 imm: (-?\d+) <(block-\d+)>/, (_m, imm: string, b: string) => ` imm: ${imm} -> ${blocks.get(b)}`)
        .replace(/ off: -1 src: (r\d) <(block-\d+)>/, (_m, src: string, b: string) => ` src: ${src} -> ${blocks.get(b)}`),
    );
}

const PROLOGUE = `
        0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
        1: AndImm32 dst: r2 imm: 65535
        2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
        3: RShImm32 dst: r3 imm: 16
        4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
        5: LdXMemW dst: r5 src: r1 off: 8 imm: 0`;

const r = (type: DeviceRule['type'], major: number, minor: number, access: string, allow: boolean): DeviceRule => ({ type, major, minor, access, allow });

test('no rules: deny everything (TestDeviceFilter_Nil)', (t) => {
  t.deepEqual(disassemble(buildDeviceFilter([]).insns), fromRunc(`${PROLOGUE}
block-0:
        6: MovImm32 dst: r0 imm: 0
        7: Exit`));
});

test('runc AllowedDevices (TestDeviceFilter_BuiltInAllowList)', (t) => {
  const expected = `${PROLOGUE}
block-0:
        6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
        7: MovReg32 dst: r1 src: r3
        8: AndImm32 dst: r1 imm: 1
        9: JNEReg dst: r1 off: -1 src: r3 <block-1>
        10: MovImm32 dst: r0 imm: 1
        11: Exit
block-1:
        12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
        13: MovReg32 dst: r1 src: r3
        14: AndImm32 dst: r1 imm: 1
        15: JNEReg dst: r1 off: -1 src: r3 <block-2>
        16: MovImm32 dst: r0 imm: 1
        17: Exit
block-2:
        18: JNEImm dst: r2 off: -1 imm: 2 <block-3>
        19: JNEImm dst: r4 off: -1 imm: 1 <block-3>
        20: JNEImm dst: r5 off: -1 imm: 3 <block-3>
        21: MovImm32 dst: r0 imm: 1
        22: Exit
block-3:
        23: JNEImm dst: r2 off: -1 imm: 2 <block-4>
        24: JNEImm dst: r4 off: -1 imm: 1 <block-4>
        25: JNEImm dst: r5 off: -1 imm: 5 <block-4>
        26: MovImm32 dst: r0 imm: 1
        27: Exit
block-4:
        28: JNEImm dst: r2 off: -1 imm: 2 <block-5>
        29: JNEImm dst: r4 off: -1 imm: 1 <block-5>
        30: JNEImm dst: r5 off: -1 imm: 7 <block-5>
        31: MovImm32 dst: r0 imm: 1
        32: Exit
block-5:
        33: JNEImm dst: r2 off: -1 imm: 2 <block-6>
        34: JNEImm dst: r4 off: -1 imm: 1 <block-6>
        35: JNEImm dst: r5 off: -1 imm: 8 <block-6>
        36: MovImm32 dst: r0 imm: 1
        37: Exit
block-6:
        38: JNEImm dst: r2 off: -1 imm: 2 <block-7>
        39: JNEImm dst: r4 off: -1 imm: 1 <block-7>
        40: JNEImm dst: r5 off: -1 imm: 9 <block-7>
        41: MovImm32 dst: r0 imm: 1
        42: Exit
block-7:
        43: JNEImm dst: r2 off: -1 imm: 2 <block-8>
        44: JNEImm dst: r4 off: -1 imm: 5 <block-8>
        45: JNEImm dst: r5 off: -1 imm: 0 <block-8>
        46: MovImm32 dst: r0 imm: 1
        47: Exit
block-8:
        48: JNEImm dst: r2 off: -1 imm: 2 <block-9>
        49: JNEImm dst: r4 off: -1 imm: 5 <block-9>
        50: JNEImm dst: r5 off: -1 imm: 2 <block-9>
        51: MovImm32 dst: r0 imm: 1
        52: Exit
block-9:
        53: JNEImm dst: r2 off: -1 imm: 2 <block-10>
        54: JNEImm dst: r4 off: -1 imm: 10 <block-10>
        55: JNEImm dst: r5 off: -1 imm: 200 <block-10>
        56: MovImm32 dst: r0 imm: 1
        57: Exit
block-10:
        58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
        59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
        60: MovImm32 dst: r0 imm: 1
        61: Exit
block-11:
        62: MovImm32 dst: r0 imm: 0
        63: Exit`;
  t.deepEqual(disassemble(buildDeviceFilter(effectiveDeviceRules(undefined)).insns), fromRunc(expected));
});

test('privileged, and privileged except one device (TestDeviceFilter_Privileged*, _Weird)', (t) => {
  t.deepEqual(disassemble(buildDeviceFilter([r('a', WILDCARD, WILDCARD, 'rwm', true)]).insns), fromRunc(`${PROLOGUE}
block-0:
        6: MovImm32 dst: r0 imm: 1
        7: Exit`));
  const exceptOne = `${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
         7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
         8: JNEImm dst: r5 off: -1 imm: 0 <block-1>
         9: MovImm32 dst: r0 imm: 0
        10: Exit
block-1:
        11: MovImm32 dst: r0 imm: 1
        12: Exit`;
  t.deepEqual(disassemble(buildDeviceFilter([r('a', WILDCARD, WILDCARD, 'rwm', true), r('b', 8, 0, 'rwm', false)]).insns), fromRunc(exceptOne));
  // b 8:1 denied before the "a" reset is forgotten, as on cgroup v1
  const weird = buildDeviceFilter([r('b', 8, 1, 'rwm', false), r('a', WILDCARD, WILDCARD, 'rwm', true), r('b', 8, 2, 'rwm', false)]);
  t.deepEqual(disassemble(weird.insns), fromRunc(exceptOne.replace('imm: 0 <block-1>', 'imm: 2 <block-1>')));
});

test('encoding: 8 bytes per instruction, registers packed dst | src << 4', (t) => {
  const insns: Insn[] = [
    { code: OP.MOV32_REG, dst: 1, src: 3, off: 0, imm: 0 },
    { code: OP.JNE_IMM, dst: 2, src: 0, off: 5, imm: -2 },
  ];
  t.deepEqual([...encodeInsns(insns)], [0xbc, 0x31, 0, 0, 0, 0, 0, 0, 0x55, 0x02, 5, 0, 0xfe, 0xff, 0xff, 0xff]);
});

// A tiny interpreter for the instructions the filter uses.
function run(insns: Insn[], type: number, access: number, major: number, minor: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const reg = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const i = insns[pc];
    if (!i) throw new Error(`fell off the program at ${pc}`);
    pc++;
    switch (i.code) {
      case OP.LDXW:
        reg[i.dst] = ctx[i.off / 4]! >>> 0;
        break;
      case OP.AND32_IMM:
        reg[i.dst] = (reg[i.dst]! & i.imm) >>> 0;
        break;
      case OP.RSH32_IMM:
        reg[i.dst] = reg[i.dst]! >>> i.imm;
        break;
      case OP.MOV32_IMM:
        reg[i.dst] = i.imm >>> 0;
        break;
      case OP.MOV32_REG:
        reg[i.dst] = reg[i.src]! >>> 0;
        break;
      case OP.JNE_IMM:
        if (reg[i.dst] !== i.imm >>> 0) pc += i.off;
        break;
      case OP.JNE_REG:
        if (reg[i.dst] !== reg[i.src]) pc += i.off;
        break;
      case OP.EXIT:
        return reg[0]!;
      default:
        throw new Error(`unexpected opcode ${i.code}`);
    }
  }
  throw new Error('no exit');
}

// What the v1 kernel decides for one access, given the emulated state: an
// exception must cover the whole request (devcgroup match_exception).
function emulatorAllows(e: DeviceEmulator, type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  const want = new Set(access);
  const covered = [...e.rules.entries()].some(([k, perms]) => {
    const [t, ma, mi] = k.split(':');
    if (t !== type) return false;
    if (Number(ma) !== WILDCARD && Number(ma) !== major) return false;
    if (Number(mi) !== WILDCARD && Number(mi) !== minor) return false;
    const have = (perms & 1 ? 'r' : '') + (perms & 2 ? 'w' : '') + (perms & 4 ? 'm' : '');
    return [...want].every((c) => have.includes(c));
  });
  return e.defaultAllow ? !covered : covered;
}

test('the program decides every access like the emulator', (t) => {
  const ruleSets: DeviceRule[][] = [
    effectiveDeviceRules(undefined),
    effectiveDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }]),
    effectiveDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, access: 'w' }]),
    effectiveDeviceRules([{ allow: true, type: 'c', major: 4, access: 'r' }, { allow: true, type: 'c', minor: 1, access: 'w' }], ['/dev/null']),
    [r('a', WILDCARD, WILDCARD, 'rwm', true)],
    DEFAULT_DEVICE_RULES.map((d) => ({ ...d })),
  ];
  const BIT: Record<string, number> = { m: 1, r: 2, w: 4 };
  let checked = 0;
  for (const rules of ruleSets) {
    const f = buildDeviceFilter(rules);
    const emu = DeviceEmulator.build(rules);
    for (const type of ['b', 'c'] as const) {
      for (const major of [0, 1, 4, 5, 8, 10, 136, 254]) {
        for (const minor of [0, 1, 2, 3, 5, 7, 9, 200, 229]) {
          for (const access of ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm']) {
            const bits = [...access].reduce((a, c) => a | (BIT[c] ?? 0), 0);
            const got = run(f.insns, type === 'b' ? 1 : 2, bits, major, minor) === 1;
            if (got !== emulatorAllows(emu, type, major, minor, access)) {
              t.fail(`${type} ${major}:${minor} ${access}: program says ${got}`);
              return;
            }
            checked++;
          }
        }
      }
    }
  }
  t.true(checked > 5000);
});
