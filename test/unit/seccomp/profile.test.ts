// linux.seccomp -> libseccomp rules (src/seccomp/profile.ts): actions with
// their errno, operators, architectures, flags, NOTIFY rules, the runc
// errors; and the BPF libseccomp makes of it, with the cache.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { SCMP_ACT, SECCOMP_FILTER_FLAG_TSYNC_ESRCH, actionValue, compileProfile, splitConditions } from '../../../src/seccomp/profile.js';
import { seccompFilter } from '../../../src/seccomp/filter.js';
import type { Seccomp } from '../../../src/spec/types.js';
import { findLibseccomp } from '../../../src/sys/libseccomp.js';

const K = { version: [6, 1] as [number, number] };
const OLD = { version: [4, 9] as [number, number] };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuntimeError) return `${err.code} ${err.field}`;
    throw err;
  }
  return undefined;
}

test('every action maps to libseccomp; ERRNO and TRACE carry errnoRet (EPERM by default)', (t) => {
  t.is(actionValue('SCMP_ACT_ALLOW', undefined, '/x'), SCMP_ACT.ALLOW);
  t.is(actionValue('SCMP_ACT_KILL', undefined, '/x'), SCMP_ACT.KILL_THREAD);
  t.is(actionValue('SCMP_ACT_KILL_THREAD', undefined, '/x'), SCMP_ACT.KILL_THREAD);
  t.is(actionValue('SCMP_ACT_KILL_PROCESS', undefined, '/x'), SCMP_ACT.KILL_PROCESS);
  t.is(actionValue('SCMP_ACT_TRAP', undefined, '/x'), SCMP_ACT.TRAP);
  t.is(actionValue('SCMP_ACT_LOG', undefined, '/x'), SCMP_ACT.LOG);
  t.is(actionValue('SCMP_ACT_NOTIFY', undefined, '/x'), SCMP_ACT.NOTIFY);
  t.is(actionValue('SCMP_ACT_ERRNO', undefined, '/x'), (SCMP_ACT.ERRNO | 1) >>> 0);
  t.is(actionValue('SCMP_ACT_ERRNO', 38, '/x'), (SCMP_ACT.ERRNO | 38) >>> 0);
  t.is(actionValue('SCMP_ACT_TRACE', 5, '/x'), (SCMP_ACT.TRACE | 5) >>> 0);
  t.is(actionValue('SCMP_ACT_TRACE', undefined, '/x'), (SCMP_ACT.TRACE | 1) >>> 0);
});

test('an unknown action, an errnoRet on an action without one, an unknown operator: errors naming the field', (t) => {
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_NOPE' }, K)), 'RUNT8001 /linux/seccomp/defaultAction');
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 3 }, K)), 'RUNT8001 /linux/seccomp/defaultAction');
  t.is(
    fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ERRNO' }, { names: ['b'], action: 'SCMP_ACT_KILLZ' }] }, K)),
    'RUNT8001 /linux/seccomp/syscalls/1/action',
  );
  t.is(
    fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_LOG', errnoRet: 1 }] }, K)),
    'RUNT8001 /linux/seccomp/syscalls/0/action',
  );
  t.is(
    fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_BETWEEN' }] }] }, K)),
    'RUNT8001 /linux/seccomp/syscalls/0/args/0/op',
  );
  t.is(
    fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, K)),
    'RUNT8001 /linux/seccomp/syscalls/0/args/0/index',
  );
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['x86_64'] }, K)), 'RUNT8001 /linux/seccomp/architectures/0');
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, K)), 'RUNT8001 /linux/seccomp/flags/0');
});

test('all seven operators, with value and valueTwo (the mask of MASKED_EQ first)', (t) => {
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
  const p = compileProfile(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: ops.map((op, k) => ({ names: [`s${k}`], action: 'SCMP_ACT_ERRNO', args: [{ index: k % 6, value: 0xff, valueTwo: 0x10, op }] })) },
    K,
  );
  t.deepEqual(p.rules.map((r) => r.args[0]!.op), [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(p.rules[6]!.args[0], { index: 0, op: 7, a: 0xffn, b: 0x10n });
  // 2^64-1 survives as a bigint; JSON numbers that rounded to 2^64 too
  const big = compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }] }, K);
  t.is(big.rules[0]!.args[0]!.a, 0xffff_ffff_ffff_ffffn);
});

test('one rule per name; rules equal to the default action are dropped (runc matchCall)', (t) => {
  const p = compileProfile(
    { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    K,
  );
  t.deepEqual(p.rules.map((r) => r.name), ['read', 'write']);
  t.is(p.defaultAction, (SCMP_ACT.ERRNO | 1) >>> 0);
});

test('conditions on the same argument become separate rules (runc)', (t) => {
  const a = (index: number): { index: number; op: number; a: bigint; b: bigint } => ({ index, op: 4, a: 1n, b: 0n });
  t.deepEqual(splitConditions([]), [[]]);
  t.deepEqual(splitConditions([a(0), a(1)]), [[a(0), a(1)]]);
  t.deepEqual(splitConditions([a(0), a(0), a(1)]), [[a(0)], [a(0)], [a(1)]]);
});

test('architectures become libseccomp names; flags: runc default SPEC_ALLOW, explicit list, kernel support', (t) => {
  t.deepEqual(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_MIPSEL64N32'] }, K).archs, ['x86_64', 'x32', 'mipsel64n32']);
  t.is(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW' }, K).flags, 4);
  t.is(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: [] }, K).flags, 0);
  t.is(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'] }, K).flags, 3);
  // no SPEC_ALLOW by default where the kernel lacks it
  t.is(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW' }, { version: [4, 14] }).flags, 0);
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, OLD)), 'RUNT8002 /linux/seccomp/flags/0');
  // WAIT_KILLABLE_RECV only with a listener
  t.is(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, K).flags, 0);
});

test('NOTIFY: needs listenerPath, never the default action nor on write/sendmsg; TSYNC gets TSYNC_ESRCH', (t) => {
  const notify = (extra: Partial<Seccomp>, names = ['mkdir']): Seccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }], ...extra });
  t.is(fieldOf(() => compileProfile(notify({}), K)), 'RUNT8001 /linux/seccomp/listenerPath');
  t.is(fieldOf(() => compileProfile(notify({ listenerPath: 'rel.sock' }), K)), 'RUNT8001 /linux/seccomp/listenerPath');
  t.is(fieldOf(() => compileProfile(notify({ listenerPath: '/a.sock' }, ['mkdir', 'write']), K)), 'RUNT8001 /linux/seccomp/syscalls/0/names/1');
  t.is(fieldOf(() => compileProfile(notify({ listenerPath: '/a.sock' }, ['sendmsg']), K)), 'RUNT8001 /linux/seccomp/syscalls/0/names/0');
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a.sock' }, K)), 'RUNT8001 /linux/seccomp/defaultAction');
  t.is(fieldOf(() => compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }, K)), 'RUNT8001 /linux/seccomp/listenerMetadata');
  const p = compileProfile(notify({ listenerPath: '/a.sock', listenerMetadata: 'm', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }), K);
  t.true(p.notify);
  t.is(p.listenerPath, '/a.sock');
  t.is(p.listenerMetadata, 'm');
  t.is(p.flags, 1 | 32 | SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
  // without a NOTIFY rule the listener is not used
  t.false(compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a.sock' }, K).notify);
});

const haveLib = !!findLibseccomp();
const lt = haveLib ? test : test.skip;

lt('libseccomp compiles the profile to BPF; unknown names are skipped; the second time comes from the cache', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-seccomp-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const prof: Seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['mkdir', 'no_such_syscall'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 },
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  const a = await seccompFilter(prof, dir);
  t.false(a.cached);
  t.deepEqual(a.skipped, ['no_such_syscall']);
  t.true(a.bpf.length > 0 && a.bpf.length % 8 === 0);
  // the program checks the architecture first: BPF_LD|BPF_W|BPF_ABS of seccomp_data.arch (offset 4)
  t.is(a.bpf.readUInt16LE(0), 0x20);
  t.is(a.bpf.readUInt32LE(4), 4);
  const b = await seccompFilter(prof, dir);
  t.true(b.cached);
  t.deepEqual(b.bpf, a.bpf);
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.bpf')).length, 1);
  // another profile, another entry
  const c = await seccompFilter({ ...prof, defaultAction: 'SCMP_ACT_LOG' }, dir);
  t.false(c.cached);
  t.notDeepEqual(c.bpf, a.bpf);
  // an entry is used only when its stored key is this profile's exactly
  const entry = fs.readdirSync(dir).filter((f) => f.endsWith('.bpf')).map((f) => path.join(dir, f)).find((f) => fs.readFileSync(f).includes(Buffer.from('"SCMP_ACT_ALLOW"')))!;
  const bytes = fs.readFileSync(entry);
  bytes[10] = bytes[10]! ^ 0xff;
  fs.writeFileSync(entry, bytes);
  const d = await seccompFilter(prof, dir);
  t.false(d.cached);
  t.deepEqual(d.bpf, a.bpf);
  t.true((await seccompFilter(prof, dir)).cached);
});

lt('an architecture libseccomp does not know is an error naming it', async (t) => {
  const err = await t.throwsAsync(seccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_BOGUS'] }, undefined));
  t.is((err as RuntimeError).field, '/linux/seccomp/architectures/1', (err as Error).message);
});
