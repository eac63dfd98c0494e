// linux.seccomp against the kernel: the filter is in place before the
// container's first instruction (Seccomp: 2 in /proc/self/status), every
// action does what the kernel says it does, argument comparisons bite,
// the flags are accepted, unknown syscall names are ignored as runc does,
// SCMP_ACT_NOTIFY hands the listener fd to an agent, exec'd processes get
// the same filter, and a repeated profile comes from the cache.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Seccomp, Spec } from '../../src/spec/types.js';
import { REPO, isRoot, runContainer, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

const ARCHS = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

function withSeccomp(seccomp: Seccomp, script: string, nnp = true): (s: Spec) => void {
  return (s) => {
    s.process!.args = ['sh', '-c', script];
    s.process!.noNewPrivileges = nnp;
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    s.linux!.seccomp = seccomp;
  };
}

const deny = (action: string, extra: Record<string, unknown> = {}): Seccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ARCHS,
  syscalls: [{ names: ['mkdir', 'mkdirat'], action, ...extra }],
});

const MKDIR = 'mkdir /tmp/d; echo rc=$?; [ -d /tmp/d ] && echo made; true';

t('an ERRNO rule is seen inside with its errno, with and without noNewPrivileges; the filter is there from the start', (tt) => {
  const env = setup(tt);
  for (const nnp of [true, false]) {
    const r = runContainer(env, withSeccomp(deny('SCMP_ACT_ERRNO', { errnoRet: 28 }), `${MKDIR}; grep Seccomp: /proc/self/status`, nnp));
    tt.is(r.status, 0, r.stderr);
    tt.regex(r.stderr, /mkdir: can't create directory '\/tmp\/d': No space left on device/);
    tt.regex(r.stdout, /rc=1\nSeccomp:\s+2\n/);
    tt.notRegex(r.stdout, /made/);
  }
  // defaultErrnoRet with an ERRNO default action and an allow list
  const r = runContainer(
    env,
    withSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO' }] },
      'touch /tmp/f; chmod 600 /tmp/f; echo rc=$?',
    ),
  );
  tt.regex(r.stderr, /Operation not permitted/, 'EPERM when errnoRet is not given');
});

t('every action: KILL, KILL_THREAD, KILL_PROCESS and TRAP end the caller with SIGSYS; TRACE without a tracer is ENOSYS; LOG and ALLOW let it through', (tt) => {
  const env = setup(tt);
  for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
    const r = runContainer(env, withSeccomp(deny(action), MKDIR));
    tt.is(r.status, 0, `${action}: ${r.stderr}`);
    tt.regex(r.stdout, /^rc=159\n$/, action); // 128 + SIGSYS
  }
  const trace = runContainer(env, withSeccomp(deny('SCMP_ACT_TRACE'), MKDIR));
  tt.regex(trace.stderr, /Function not implemented/);
  for (const action of ['SCMP_ACT_LOG', 'SCMP_ACT_ALLOW']) {
    const r = runContainer(env, withSeccomp({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] }, MKDIR));
    tt.is(r.stdout, 'rc=0\nmade\n', `${action}: ${r.stderr}`);
  }
});

t('argument comparisons: EQ, GT and MASKED_EQ decide per call; all seven operators load', (tt) => {
  const env = setup(tt);
  const prof: Seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHS,
    syscalls: [
      // kill(pid, 0): a probe, refused
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 123, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
      // kill(pid, sig > 10), refused too
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 123, args: [{ index: 1, value: 10, op: 'SCMP_CMP_GT' }] },
      // chmod with any bit of "others" set
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
      // the other operators on a call busybox never makes
      ...['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GE'].map((op, k) => ({ names: ['acct'], action: 'SCMP_ACT_ERRNO', args: [{ index: k % 2, value: 5, op }] })),
    ],
  };
  const r = runContainer(
    env,
    withSeccomp(prof, 'sleep 100 & p=$!; kill -0 $p; echo probe=$?; kill -12 $p; echo usr2=$?; kill -9 $p; echo kill=$?; touch /tmp/f; chmod 750 /tmp/f; echo c750=$?; chmod 757 /tmp/f; echo c757=$?'),
  );
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'probe=1\nusr2=1\nkill=0\nc750=0\nc757=1\n');
  tt.regex(r.stderr, /No medium found/);
  tt.regex(r.stderr, /chmod: \/tmp\/f: Permission denied/);
});

t('flags TSYNC, LOG, SPEC_ALLOW are accepted by the kernel; unknown syscall names are ignored as runc does', (tt) => {
  const env = setup(tt);
  const r = runContainer(
    env,
    withSeccomp(
      { ...deny('SCMP_ACT_ERRNO', { errnoRet: 28 }), flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], syscalls: [{ names: ['mkdir', 'mkdirat', 'no_such_syscall_anywhere'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] },
      MKDIR,
    ),
  );
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'rc=1\n');
});

t('unknown actions and operators, and NOTIFY on write, are clear errors naming the field', (tt) => {
  const env = setup(tt);
  const bad = (seccomp: unknown): string => {
    const b = env.bundle((s) => ((s.linux as Record<string, unknown>).seccomp = seccomp));
    const r = env.runt(['create', '--bundle', b, uniqueId()]);
    tt.is(r.status, 1);
    return r.stderr;
  };
  tt.regex(bad({ defaultAction: 'SCMP_ACT_BOGUS' }), /\/linux\/seccomp\/defaultAction/);
  tt.regex(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }] }), /\/linux\/seccomp\/syscalls\/0\/args\/0\/op/);
  tt.regex(bad({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x.sock', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }), /SCMP_ACT_NOTIFY cannot be used for the write syscall \[RUNT8001\]/);
  tt.regex(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW', errnoRet: 3 }] }), /errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE/);
  tt.deepEqual(fs.existsSync(env.root) ? fs.readdirSync(env.root).filter((e) => !e.startsWith('.')) : [], [], 'nothing left behind');
});

function agent(socket: string, errno: number): { proc: ChildProcess; out: () => string; ready: Promise<void>; done: Promise<void> } {
  const proc = spawn(path.join(REPO, 'bin/seccomp-agent'), [socket, String(errno)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => (ready = r));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('listening')) ready();
  });
  // the agent ends once every filtered process is gone
  const done = new Promise<void>((r) => proc.on('close', () => r()));
  return { proc, out: () => out, ready: isReady, done };
}

t('SCMP_ACT_NOTIFY: the agent receives the fd and the container process state, and answers the syscall', async (tt) => {
  const env = setup(tt);
  const socket = path.join(env.tmp, 'agent.sock');
  const a = agent(socket, 123);
  tt.teardown(() => a.proc.kill('SIGKILL'));
  await a.ready;
  const id = uniqueId();
  const b = env.bundle(
    withSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, listenerMetadata: 'runt-test-metadata', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] },
      MKDIR,
    ),
  );
  const r = env.runt(['run', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stderr, /No medium found/);
  tt.is(r.stdout, 'rc=1\n');
  await a.done;
  const lines = a.out().split('\n');
  const state = JSON.parse(lines[0]!.replace(/^state /, '')) as { ociVersion: string; fds: string[]; pid: number; metadata: string; state: { id: string; status: string; pid: number; bundle: string } };
  tt.deepEqual(state.fds, ['seccompFd']);
  tt.is(state.metadata, 'runt-test-metadata');
  tt.is(state.state.id, id);
  tt.is(state.state.status, 'creating');
  tt.is(state.state.bundle, b);
  tt.is(state.pid, state.state.pid);
  tt.true(lines.some((l) => /^notify \d+$/.test(l)));
});

t('no agent at listenerPath: create fails clearly and leaves nothing behind', (tt) => {
  const env = setup(tt);
  const b = env.bundle(withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path.join(env.tmp, 'nobody.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'true'));
  const r = env.runt(['create', '--bundle', b, uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /connect to the seccomp agent at .*nobody\.sock: connect: ENOENT/);
  tt.deepEqual(fs.readdirSync(env.root).filter((e) => !e.startsWith('.')), []);
});

t('exec gets the container\'s filter (and its own notify listener)', async (tt) => {
  const env = setup(tt);
  const socket = path.join(env.tmp, 'agent2.sock');
  const first = agent(socket, 28);
  tt.teardown(() => first.proc.kill('SIGKILL'));
  await first.ready;
  const id = uniqueId();
  const b = env.bundle(
    withSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }, { names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] },
      'sleep 1000',
    ),
  );
  tt.is(env.runt(['run', '-d', '--bundle', b, id]).status, 0);
  // the init's connection is done once it has sent the fd
  for (let i = 0; i < 200 && !first.out().includes('state '); i++) await new Promise((r) => setTimeout(r, 10));
  first.proc.kill('SIGKILL');
  await first.done;
  const second = agent(socket, 123);
  tt.teardown(() => second.proc.kill('SIGKILL'));
  await second.ready;
  const r = env.runt(['exec', id, 'sh', '-c', 'grep Seccomp_filters /proc/self/status; mkdir /tmp/e; echo mkdir=$?; touch /tmp/f; chmod 600 /tmp/f; echo chmod=$?']);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'Seccomp_filters:\t1\nmkdir=1\nchmod=1\n');
  tt.regex(r.stderr, /No medium found/);
  tt.regex(r.stderr, /No space left on device/);
  for (let i = 0; i < 200 && !second.out().includes('notify'); i++) await new Promise((r2) => setTimeout(r2, 10));
  const state = JSON.parse(second.out().split('\n')[0]!.replace(/^state /, '')) as { pid: number; state: { status: string; pid: number } };
  tt.is(state.state.status, 'running');
  tt.not(state.pid, state.state.pid, 'the pid is the exec\'d process, the state the container\'s');
});

t('a repeated profile comes from the cache under the state root', (tt) => {
  const env = setup(tt);
  const prof = deny('SCMP_ACT_ERRNO', { errnoRet: 28 });
  for (let k = 0; k < 2; k++) tt.is(runContainer(env, withSeccomp(prof, MKDIR)).stdout, 'rc=1\n');
  const cache = path.join(env.root, '.cache', 'seccomp');
  tt.is(fs.readdirSync(cache).filter((f) => f.endsWith('.bpf')).length, 1);
  tt.is(env.runt(['list', '-q']).stdout, '', 'the cache is not a container');
});
