// runt exec: the process joins every namespace and the cgroup of the
// container's init, gets the user, groups, capabilities, cwd and env it was
// asked for, passes its exit status and stdio through, receives our signals,
// sees no fd of ours, and its helper cannot be reached from inside while it
// sets up. Checked in /proc of the host and from inside the container.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, RUNT, createSleeping, isGone, isRoot, procStatus, setup, sleep, stateOf, uniqueId, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

const USERNS = (s: import('../../src/spec/types.js').Spec): void => {
  s.linux!.namespaces!.push({ type: 'user' }, { type: 'cgroup' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};

// A running container whose init sleeps.
function running(env: Env, mutate?: Parameters<typeof createSleeping>[1]): { id: string; pid: number } {
  const c = createSleeping(env, mutate);
  const r = env.runt(['start', c.id]);
  if (r.status !== 0) throw new Error(`start failed: ${r.stderr}`);
  return c;
}

// `exec -d --pid-file`: the pid of the exec'd process, as containerd gets it.

function execD(env: Env, id: string, flags: string[], cmd: string[]): number {
  const pidFile = path.join(env.tmp, `exec-${uniqueId()}.pid`);
  const r = env.runt(['exec', '-d', '--pid-file', pidFile, ...flags, id, ...cmd]);
  if (r.status !== 0) throw new Error(`exec failed (${r.status}): ${r.stderr}`);
  return Number(fs.readFileSync(pidFile, 'utf8'));
}

const NS = ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'user'];

t('exec joins every namespace of the init (user namespace included) and its cgroup', (tt) => {
  const env = setup(tt);
  const { id, pid } = running(env, USERNS);
  const epid = execD(env, id, [], ['sleep', '100']);
  for (const ns of NS) tt.is(fs.readlinkSync(`/proc/${epid}/ns/${ns}`), fs.readlinkSync(`/proc/${pid}/ns/${ns}`), ns);
  tt.not(fs.readlinkSync(`/proc/${epid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
  tt.is(fs.readFileSync(`/proc/${epid}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  // root of the container is a mapped host id
  tt.regex(procStatus(epid).Uid!, /^100000\s/);
  // and ps lists it among the container's processes
  const ps = JSON.parse(env.runt(['ps', '--format', 'json', id]).stdout) as number[];
  tt.true(ps.includes(epid));
});

t('exec gets the user, groups, cwd, env and capabilities it asks for (runc flags)', (tt) => {
  const env = setup(tt);
  const { id } = running(env, (s) => {
    s.process!.env = ['PATH=/bin:/usr/bin', 'FOO=config', 'KEEP=1'];
    s.mounts!.push({ destination: '/work', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
  });
  const epid = execD(env, id, ['-u', '1000:1000', '-g', '5', '--additional-gids', '27', '--cwd', '/work', '-e', 'FOO=flag', '-e', 'NEW=x', '--cap', 'CAP_NET_ADMIN'], ['sleep', '100']);
  const st = procStatus(epid);
  tt.regex(st.Uid!, /^1000\s+1000\s+1000\s+1000$/);
  tt.regex(st.Gid!, /^1000\s+1000\s+1000\s+1000$/);
  tt.is(st.Groups, '5 27');
  // the config's bounding set plus CAP_NET_ADMIN (bit 12); a non-root
  // process without ambient caps has no effective ones after exec
  tt.is(BigInt('0x' + st.CapBnd) & (1n << 12n), 1n << 12n);
  tt.is(BigInt('0x' + st.CapEff), 0n);
  tt.is(st.NoNewPrivs, '1');
  const environ = fs.readFileSync(`/proc/${epid}/environ`, 'utf8').split('\0').filter(Boolean);
  tt.deepEqual(environ, ['PATH=/bin:/usr/bin', 'KEEP=1', 'FOO=flag', 'NEW=x', 'HOME=/home/user']);
  const r = env.runt(['exec', '--cwd', '/work', '-u', '0', id, 'pwd']);
  tt.is(r.stdout, '/work\n', r.stderr);
  // root keeps the full permitted set plus the added capability
  const root = execD(env, id, ['--cap', 'CAP_SYS_TIME'], ['sleep', '100']);
  tt.is(BigInt('0x' + procStatus(root).CapEff!) & (1n << 25n), 1n << 25n);
  // --no-new-privs=false
  tt.is(procStatus(execD(env, id, ['--no-new-privs=false'], ['sleep', '100'])).NoNewPrivs, '0');
});

t('foreground: stdio passes through and the exit status is the process\'s', (tt) => {
  const env = setup(tt);
  const { id } = running(env);
  const r = env.runt(['exec', id, 'sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 7'], { input: 'hello\n' });
  tt.is(r.status, 7);
  tt.is(r.stdout, 'got hello\n');
  tt.is(r.stderr, 'err\n');
  // killed by a signal: 128 + signal, as runc
  tt.is(env.runt(['exec', id, 'sh', '-c', 'kill -9 $$']).status, 137);
  // the flags stop at the container id: -c belongs to sh
  tt.is(env.runt(['exec', id, 'sh', '-c', 'exit 3']).status, 3);
});

t('signals sent to runt are passed on to the process', async (tt) => {
  const env = setup(tt);
  const { id } = running(env);
  const out = path.join(env.tmp, 'sig.out');
  const fd = fs.openSync(out, 'w');
  const child = spawn(RUNT, ['--root', env.root, 'exec', id, 'sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done'], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  for (let i = 0; i < 200 && !fs.readFileSync(out, 'utf8').includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  tt.is(code, 42);
  tt.regex(fs.readFileSync(out, 'utf8'), /got-term/);
});

t('the process sees only stdio and the preserved fds', (tt) => {
  const env = setup(tt);
  const { id } = running(env);
  const r = env.runt(['exec', id, 'sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "']);
  tt.is(r.stdout, '0 1 2 3 ', r.stderr); // 3 is ls's own directory
  const extra = path.join(env.tmp, 'extra');
  fs.writeFileSync(extra, 'preserved!\n');
  const fd = fs.openSync(extra, 'r');
  const outFile = path.join(env.tmp, 'pf-out');
  const outFd = fs.openSync(outFile, 'w');
  try {
    const res = spawnSync(RUNT, ['--root', env.root, 'exec', '--preserve-fds', '1', id, 'sh', '-c', 'cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "'], { stdio: ['ignore', outFd, 'inherit', fd] });
    tt.is(res.status, 0);
  } finally {
    fs.closeSync(fd);
    fs.closeSync(outFd);
  }
  tt.is(fs.readFileSync(outFile, 'utf8'), 'preserved!\n0 1 2 3 4 ');
});

t('--process FILE --detach --pid-file --console-socket: the shape containerd uses, with a tty', async (tt) => {
  const env = setup(tt);
  const { id, pid } = running(env);
  const socket = path.join(env.tmp, 'tty.sock');
  const rx = spawn(path.join(REPO, 'bin/recvtty'), [socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  rx.stdout.on('data', (d: Buffer) => (out += d.toString()));
  rx.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 200 && !err.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
  const proc = path.join(env.tmp, 'process.json');
  fs.writeFileSync(
    proc,
    JSON.stringify({
      terminal: true,
      consoleSize: { height: 30, width: 90 },
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'tty; stty size; [ -t 0 ] && echo stdin-is-tty; [ -e /dev/console ] || echo no-console; echo $FROM_FILE'],
      env: ['PATH=/bin', 'FROM_FILE=yes'],
      cwd: '/',
    }),
  );
  const pidFile = path.join(env.tmp, 'p.pid');
  const r = env.runt(['exec', '--process', proc, '--detach', '--pid-file', pidFile, '--console-socket', socket, id]);
  tt.is(r.status, 0, r.stderr);
  const epid = Number(fs.readFileSync(pidFile, 'utf8'));
  tt.true(epid > 0 && epid !== pid);
  await new Promise((res) => rx.on('close', res));
  const lines = out.replace(/\r/g, '').split('\n');
  tt.regex(lines[0]!, /^\/dev\/pts\/\d+$/);
  tt.is(lines[1], '30 90');
  tt.is(lines[2], 'stdin-is-tty');
  // exec's pty is its own: /dev/console is not bound for it
  tt.is(lines[3], 'no-console');
  tt.is(lines[4], 'yes');
  tt.regex(err, /name=\/dev\/pts\/\d+/);
});

t('exec -t with a console socket in the foreground', async (tt) => {
  const env = setup(tt);
  const { id } = running(env);
  const socket = path.join(env.tmp, 'tty2.sock');
  const rx = spawn(path.join(REPO, 'bin/recvtty'), [socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  rx.stdout.on('data', (d: Buffer) => (out += d.toString()));
  rx.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 200 && !err.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
  const r = env.runt(['exec', '-t', '--console-socket', socket, id, 'sh', '-c', 'tty; exit 5']);
  tt.is(r.status, 5, r.stderr);
  await new Promise((res) => rx.on('close', res));
  tt.regex(out, /\/dev\/pts\/\d+/);
  // a tty without a console socket, or a socket without a tty: clear errors
  const noSock = env.runt(['exec', '-t', '-d', id, 'true']);
  tt.is(noSock.status, 255);
  tt.regex(noSock.stderr, /cannot allocate a tty for a detached exec without --console-socket/);
  const noTty = env.runt(['exec', '--console-socket', socket, id, 'true']);
  tt.is(noTty.status, 255);
  tt.regex(noTty.stderr, /--console-socket was given but the process has no terminal/);
});

const haveScript = spawnSync('script', ['--version']).status === 0;

(haveScript ? t : test.skip)('exec -t in the foreground without a console socket: runt relays the pty (as runc)', (tt) => {
  const env = setup(tt);
  const { id } = running(env);
  // script(1) gives runt a terminal of its own; runt puts it in raw mode and
  // copies between it and the container's pty
  const cmd = `${RUNT} --root ${env.root} exec -t ${id} sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; read x; echo "got $x"; exit 4'`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', input: 'typed\n', timeout: 20_000 });
  tt.is(r.status, 4, r.stdout + r.stderr);
  const out = r.stdout.replace(/\r/g, '');
  // the terminals echo the typed line whenever it arrives, which may be
  // before or between the container's own lines: check those apart from it
  const own = out.split('\n').filter((l) => l !== 'typed').join('\n');
  tt.regex(own, /\/dev\/pts\/\d+\nstdin-is-tty\n/);
  tt.regex(out, /got typed/);
});

t('exec into a stopped, a paused or an unknown container fails clearly; --ignore-paused waits for resume', async (tt) => {
  const env = setup(tt);
  const unknown = env.runt(['exec', 'no-such-container', 'true']);
  tt.is(unknown.status, 255);
  tt.regex(unknown.stderr, /container "no-such-container" does not exist \[RUNT3001\]/);

  const { id, pid } = running(env);
  tt.is(env.runt(['pause', id]).status, 0);
  const paused = env.runt(['exec', id, 'true']);
  tt.is(paused.status, 255);
  tt.regex(paused.stderr, /cannot exec in container "[^"]+": it is paused \[RUNT3003\] \(hint: resume it first, or pass --ignore-paused\)/);
  const out = path.join(env.tmp, 'ip.out');
  const fd = fs.openSync(out, 'w');
  const child = spawn(RUNT, ['--root', env.root, 'exec', '--ignore-paused', id, 'echo', 'ok'], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  await new Promise((r) => setTimeout(r, 500));
  tt.is(child.exitCode, null, 'the exec waits while the container is frozen');
  tt.is(env.runt(['resume', id]).status, 0);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  tt.is(code, 0);
  tt.is(fs.readFileSync(out, 'utf8'), 'ok\n');

  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && !isGone(pid); i++) sleep(10);
  const stopped = env.runt(['exec', id, 'true']);
  tt.is(stopped.status, 255);
  tt.regex(stopped.stderr, /it is stopped/);
});

t('exec into a created container; bad requests are errors with exit status 255', (tt) => {
  const env = setup(tt);
  const { id } = createSleeping(env);
  tt.is(stateOf(env, id).status, 'created');
  const r = env.runt(['exec', id, 'sh', '-c', 'echo $$']);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^\d+\n$/);
  const none = env.runt(['exec', id]);
  tt.is(none.status, 255);
  tt.regex(none.stderr, /exec args cannot be empty/);
  const notFound = env.runt(['exec', id, 'no-such-binary']);
  tt.is(notFound.status, 255);
  tt.regex(notFound.stderr, /executable file "no-such-binary" not found in \$PATH/);
  const badUser = env.runt(['exec', '-u', 'root', id, 'true']);
  tt.is(badUser.status, 255);
  tt.regex(badUser.stderr, /invalid uid "root" in --user \[RUNT1005\]/);
  const badFile = path.join(env.tmp, 'bad.json');
  fs.writeFileSync(badFile, JSON.stringify({ args: ['true'], cwd: 'relative' }));
  const bad = env.runt(['exec', '-p', badFile, id]);
  tt.is(bad.status, 255);
  tt.regex(bad.stderr, /cwd "relative" must be an absolute path/);
});

t('rlimits and oom_score_adj of the container apply to exec; --process may bring its own rlimits', (tt) => {
  const env = setup(tt);
  const { id } = running(env, (s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 300, hard: 400 }];
    s.process!.oomScoreAdj = 250;
  });
  const epid = execD(env, id, [], ['sleep', '100']);
  tt.regex(fs.readFileSync(`/proc/${epid}/limits`, 'utf8'), /Max open files\s+300\s+400/);
  tt.is(fs.readFileSync(`/proc/${epid}/oom_score_adj`, 'utf8').trim(), '250');
  const proc = path.join(env.tmp, 'p.json');
  // above the container's hard limit: set on the host side before the joins
  fs.writeFileSync(proc, JSON.stringify({ args: ['sleep', '100'], cwd: '/', user: { uid: 0, gid: 0 }, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 2000, hard: 3000 }] }));
  const pidFile = path.join(env.tmp, 'rl.pid');
  const r = env.runt(['exec', '-d', '--pid-file', pidFile, '-p', proc, id]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(fs.readFileSync(`/proc/${fs.readFileSync(pidFile, 'utf8')}/limits`, 'utf8'), /Max open files\s+2000\s+3000/);
});

// The exec helper, once it has joined the namespaces, sits inside the
// container with the runtime's privileges. A process with every capability
// in the container's user namespace must not reach its binary or memory
// (CVE-2016-9962, CVE-2019-5736 class). To catch the helper while it still
// sets up, /etc/passwd in the container is a FIFO: the helper blocks
// opening it to look up HOME until the test writes to it.
t('the exec helper is non-dumpable until exec: root of the container cannot reach /proc/<pid>/exe', async (tt) => {
  const env = setup(tt);
  const fifo = path.join(env.tmp, 'passwd.fifo');
  spawnSync('mkfifo', [fifo]);
  const { id, pid } = running(env, (s) => {
    USERNS(s);
    s.process!.env = ['PATH=/bin', 'HOME=/root'];
    s.mounts!.push({ destination: '/etc/passwd', type: 'bind', source: fifo, options: ['bind'] });
  });
  const proc = path.join(env.tmp, 'p.json');
  fs.writeFileSync(proc, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
  const child = spawn(RUNT, ['--root', env.root, 'exec', '-p', proc, id], { stdio: 'ignore' });
  const done = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const mnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  // runt-init processes in the container's mount namespace: the exec stage
  // joins it as host root and forks the helper that becomes root of the
  // container (blocked on the fifo). Probe only that one, once it is, or
  // the probe fails for the wrong reason (another uid) and proves nothing.
  const helpers = (): number[] => {
    const found: number[] = [];
    for (const e of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(e) || Number(e) === pid) continue;
      try {
        if (fs.readlinkSync(`/proc/${e}/ns/mnt`) === mnt && fs.readlinkSync(`/proc/${e}/exe`).endsWith('runt-init')) found.push(Number(e));
      } catch {
        // gone, or not ours to see
      }
    }
    return found;
  };
  let helper: number | undefined;
  for (let i = 0; i < 500 && helper === undefined; i++) {
    helper = helpers().find((h) => {
      try {
        return /^100000\s/.test(procStatus(h).Uid ?? '');
      } catch {
        return false;
      }
    });
    if (helper === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  tt.truthy(helper, 'a runt-init inside the container became its root');
  tt.regex(procStatus(helper!).Uid!, /^100000\s/, 'the helper is root of the container');
  const probe = spawnSync('nsenter', [`--user=/proc/${pid}/ns/user`, '-S', '0', '-G', '0', '/bin/busybox', 'readlink', `/proc/${helper}/exe`], { encoding: 'utf8' });
  tt.not(probe.status, 0);
  tt.is(probe.stdout, '');
  // let it go on
  fs.writeFileSync(fifo, 'root:x:0:0:root:/root:/bin/sh\n');
  tt.is(await done, 0);
});
