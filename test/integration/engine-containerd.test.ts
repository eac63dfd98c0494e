// containerd drives the runtime unchanged: Debian's containerd on a private
// socket/root/state (test/engines/containerd.ts), the runc shim v2 with the
// runtime under test as its binary (`ctr run --runc-binary`, i.e. BinaryName
// in the runc options), a busybox image built here and imported with
// `ctr image import`. Every scenario goes through `ctr` and is checked from
// the host (the kernel's cgroup files, /proc, mountinfo) as well as through
// the client's output and exit codes.
//
// RUNTIME=runt (default), runc (Debian's, the reference) or runt,runc: the
// same scenarios against each, so that a failure means the runtime, not the
// test.

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Containerd } from '../engines/containerd.js';
import { isRoot, readOr, runCmd, runtimes, sleep, waitFor, type Runtime } from '../engines/common.js';

let counter = 0;
const uid = (p: string): string => `${p}-${(counter++).toString(36)}`;

// The cgroup v1 directory of a controller for a process, or the v2 one.
function cgroupDir(pid: number, controller: string): { dir: string; v2: boolean } | undefined {
  const text = readOr(`/proc/${pid}/cgroup`);
  for (const line of text.split('\n')) {
    const [hid, ctrls, p] = line.split(':');
    if (ctrls === undefined || p === undefined) continue;
    if (ctrls.split(',').includes(controller)) return { dir: path.join('/sys/fs/cgroup', controller, p), v2: false };
    if (hid === '0' && ctrls === '' && !fs.existsSync(path.join('/sys/fs/cgroup', controller))) {
      return { dir: path.join('/sys/fs/cgroup', p), v2: true };
    }
  }
  return undefined;
}

function suite(rt: Runtime): void {
  const t = isRoot ? test.serial : test.serial.skip;
  const title = (s: string): string => `containerd [${rt.name}]: ${s}`;
  let cd: Containerd | undefined;
  let startError: string | undefined;
  let stopped = false;

  test.before(async () => {
    if (!isRoot) return;
    try {
      cd = new Containerd(rt);
      await cd.start();
    } catch (e) {
      startError = String((e as Error).message ?? e);
    }
  });

  test.after.always(async () => {
    if (cd && !stopped) await cd.stop();
  });

  const need = (tt: ExecutionContext): Containerd => {
    if (!cd || startError) tt.fail(`containerd could not be started: ${startError}`);
    return cd!;
  };

  // the runtime's own view of a container of this suite
  const runtimeState = (c: Containerd, id: string): { status: string; pid: number } | undefined => {
    const r = runCmd(c.dir, rt.bin, ['--root', path.join(c.runtimeRoot, c.ns), 'state', id]);
    return r.status === 0 ? JSON.parse(r.stdout) : undefined;
  };

  t(title('run to completion: output, stderr and exit code'), async (tt) => {
    const c = need(tt);
    const id = uid('run');
    const r = c.run(id, ['sh', '-c', `echo "hello from $(grep -c '/${id}$' /proc/self/cgroup) cgroups"; echo to-stderr >&2; exit 3`], { flags: ['--rm'] });
    tt.is(r.status, 3, r.stderr);
    tt.regex(r.stdout, /^hello from [1-9]\d* cgroups\n$/);
    tt.is(r.stderr, 'to-stderr\n');
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('stdin reaches the container through the shim\'s FIFOs'), async (tt) => {
    const c = need(tt);
    const id = uid('stdin');
    // ctr does not close the container's stdin at EOF: read a known amount
    const r = c.ctr(['run', '--rm', ...c.runtimeFlags(), c.image, id, 'sh', '-c', 'head -n 2 | tr a-z A-Z; echo eof'], { input: 'piped in\nline two\n', timeout: 30_000 });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, 'PIPED IN\nLINE TWO\neof\n');
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('detached run: task ls, the runtime state, exec with and without a tty, task ps'), async (tt) => {
    const c = need(tt);
    const id = uid('det');
    const r = c.run(id, ['sleep', '1000'], { flags: ['-d'] });
    tt.is(r.status, 0, r.stderr);
    const task = c.tasks().get(id);
    tt.is(task?.status, 'RUNNING');
    const st = runtimeState(c, id);
    tt.is(st?.status, 'running');
    tt.is(st?.pid, task?.pid);
    tt.regex(readOr(`/proc/${task!.pid}/cmdline`), /^sleep\x001000\x00$/);
    // the runtime's --log: created at start-up (as runc does), no error in it
    const logJson = path.join(c.bundleDir(id), 'log.json');
    tt.true(fs.existsSync(logJson), logJson);
    tt.notRegex(readOr(logJson), /"level":"error"/);

    const e1 = c.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo "in $(cat /proc/1/cmdline | tr "\\0" " ")as $(id -u)"; [ -t 0 ] || echo no-tty; exit 5']);
    tt.is(e1.status, 5, e1.stderr);
    tt.is(e1.stdout, 'in sleep 1000 as 0\nno-tty\n');

    const e2 = c.ctrPty(['task', 'exec', '-t', '--exec-id', 'e2', id, 'sh', '-c', 'tty; [ -t 0 ] && echo stdin-tty; exit 6']);
    tt.is(e2.status, 6, e2.stdout + e2.stderr);
    tt.regex(e2.stdout, /\/dev\/pts\/\d+\nstdin-tty\n/);

    // an exec'd process shows up in task ps (the runtime's `ps --format json`)
    const bg = c.ctrBackground(['task', 'exec', '--exec-id', 'e3', id, 'sleep', '999']);
    const pids = await waitFor(() => {
      const ps = c.ctr(['task', 'ps', id]);
      const list = ps.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).filter((n) => n > 0);
      return list.length >= 2 ? list : undefined;
    });
    tt.truthy(pids, 'task ps lists the init and the exec');
    tt.true(pids?.includes(task!.pid));
    c.ctr(['task', 'kill', '-a', '-s', 'SIGKILL', id]);
    const bgr = await bg.done;
    tt.not(bgr.status, 0);
    await waitFor(() => c.tasks().get(id)?.status === 'STOPPED');
    tt.is(c.tasks().get(id)?.status, 'STOPPED');
    const d = c.ctr(['task', 'delete', id]);
    tt.is(d.status, 0, d.stderr);
    tt.false(c.tasks().has(id));
    tt.is(runtimeState(c, id), undefined);
    c.ctr(['container', 'rm', id]);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('pause and resume reach the freezer'), async (tt) => {
    const c = need(tt);
    const id = uid('pause');
    tt.is(c.run(id, ['sleep', '1000'], { flags: ['-d'] }).status, 0);
    const pid = c.tasks().get(id)!.pid;
    const fz = cgroupDir(pid, 'freezer');
    const frozen = (): string =>
      fz ? (fz.v2 ? readOr(path.join(fz.dir, 'cgroup.freeze')).trim() : readOr(path.join(fz.dir, 'freezer.state')).trim()) : '?';
    tt.is(c.ctr(['task', 'pause', id]).status, 0);
    tt.is(c.tasks().get(id)?.status, 'PAUSED');
    tt.is(runtimeState(c, id)?.status, 'paused');
    tt.true(['FROZEN', '1'].includes(frozen()), frozen());
    tt.regex(readOr(`/proc/${pid}/status`), /State:\s+[DS]/);
    tt.is(c.ctr(['task', 'resume', id]).status, 0);
    tt.is(c.tasks().get(id)?.status, 'RUNNING');
    tt.true(['THAWED', '0'].includes(frozen()), frozen());
    c.remove(id);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('task kill with a signal: the container handles it and its exit code reaches ctr run'), async (tt) => {
    const c = need(tt);
    const id = uid('kill');
    const fg = c.ctrBackground(['run', '--rm', ...c.runtimeFlags(), c.image, id, 'sh', '-c', 'trap "echo got USR1; exit 42" USR1; echo ready; while :; do sleep 0.1; done']);
    // the trap is set before "ready" is printed
    tt.truthy(await waitFor(() => fg.stdoutSoFar().includes('ready'), 15_000), 'the container started');
    const k = c.ctr(['task', 'kill', '-s', 'SIGUSR1', id]);
    tt.is(k.status, 0, k.stderr);
    const r = await fg.done;
    tt.is(r.status, 42, r.stderr);
    tt.is(r.stdout, 'ready\ngot USR1\n');
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('task kill SIGTERM of a detached task, then task delete reports its exit'), async (tt) => {
    const c = need(tt);
    const id = uid('term');
    tt.is(c.run(id, ['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done'], { flags: ['-d'] }).status, 0);
    // SIGTERM is ctr's default. The init of a pid namespace ignores what it
    // has no handler for, so a SIGTERM that beats the trap is lost: repeat
    // it until the trap ends the container (it never would without one)
    const stopped = await waitFor(() => {
      if (c.tasks().get(id)?.status === 'STOPPED') return true;
      c.ctr(['task', 'kill', id]);
      return false;
    }, 10_000, 300);
    tt.truthy(stopped);
    // a kill of the stopped (not yet deleted) task: the shim maps the
    // runtime's "container not running" to "process already finished"
    const again = c.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    tt.log(`kill of a stopped task: status ${again.status}: ${again.stderr.trim()}`);
    tt.notRegex(again.stderr, /unknown error after kill/);
    const d = c.ctr(['task', 'delete', id]);
    tt.is(d.status, 0, d.stderr);
    tt.false(c.tasks().has(id));
    tt.is(c.ctr(['container', 'rm', id]).status, 0);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('kill --all reaches every process; delete --force of a running task'), async (tt) => {
    const c = need(tt);
    const id = uid('all');
    tt.is(c.run(id, ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], { flags: ['-d'] }).status, 0);
    const pid = c.tasks().get(id)!.pid;
    const procs = cgroupDir(pid, 'pids') ?? cgroupDir(pid, 'memory');
    const members = (): number[] =>
      readOr(path.join(procs!.dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
    tt.truthy(await waitFor(() => members().length >= 3));
    const k = c.ctr(['task', 'kill', '--all', '-s', 'SIGKILL', id]);
    tt.is(k.status, 0, k.stderr);
    tt.truthy(await waitFor(() => c.tasks().get(id)?.status === 'STOPPED', 10_000));

    const id2 = uid('force');
    tt.is(c.run(id2, ['sleep', '1000'], { flags: ['-d'] }).status, 0);
    const f = c.ctr(['task', 'delete', '--force', id2]);
    tt.is(f.status, 0, f.stderr);
    tt.false(c.tasks().has(id2));
    c.remove(id);
    c.remove(id2);
    tt.deepEqual(await c.settled([id, id2]), []);
  });

  t(title('SIGKILL to a paused task kills it (the frozen init is thawed)'), async (tt) => {
    const c = need(tt);
    const id = uid('pkill');
    tt.is(c.run(id, ['sleep', '1000'], { flags: ['-d'] }).status, 0);
    tt.is(c.ctr(['task', 'pause', id]).status, 0);
    tt.is(c.tasks().get(id)?.status, 'PAUSED');
    const k = c.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    tt.is(k.status, 0, k.stderr);
    tt.truthy(await waitFor(() => c.tasks().get(id)?.status === 'STOPPED', 10_000), `status ${c.tasks().get(id)?.status}`);
    c.remove(id);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('no pid namespace of its own: the processes the init leaves die with it (the shim\'s kill --all)'), async (tt) => {
    const c = need(tt);
    const id = uid('hostpid');
    // a joined pid namespace, not a new one: when the init exits the shim
    // runs `kill --all <id> SIGKILL` (runc.ShouldKillAllOnExit), before and
    // independently of the task's deletion
    const r = c.run(id, ['sh', '-c', 'sleep 777 & sleep 0.5; exit 3'], { flags: ['-d', '--with-ns', `pid:/proc/${process.pid}/ns/pid`] });
    tt.is(r.status, 0, r.stderr);
    const pid = c.tasks().get(id)?.pid ?? 0;
    const cg = cgroupDir(pid, 'pids');
    tt.truthy(cg);
    const members = (): string[] => readOr(path.join(cg!.dir, 'cgroup.procs')).split('\n').filter(Boolean);
    tt.truthy(await waitFor(() => members().length >= 2), 'the init and its child');
    tt.truthy(await waitFor(() => c.tasks().get(id)?.status === 'STOPPED', 10_000));
    // the task is stopped but not deleted: its cgroup must already be empty
    tt.truthy(await waitFor(() => members().length === 0, 5000), `left in the cgroup: ${members().join(' ')}`);
    c.remove(id);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('--memory-limit and cpu flags reach the cgroup'), (tt) => {
    const c = need(tt);
    const id = uid('res');
    const r = c.run(id, ['sleep', '1000'], {
      flags: ['-d', '--memory-limit', String(64 << 20), '--cpu-quota', '25000', '--cpu-period', '100000', '--cpu-shares', '512'],
    });
    tt.is(r.status, 0, r.stderr);
    const pid = c.tasks().get(id)!.pid;
    const mem = cgroupDir(pid, 'memory')!;
    const cpu = cgroupDir(pid, 'cpu')!;
    tt.true(mem.dir.endsWith(`/${c.ns}/${id}`), mem.dir);
    if (mem.v2) {
      tt.is(readOr(path.join(mem.dir, 'memory.max')).trim(), String(64 << 20));
      tt.is(readOr(path.join(cpu.dir, 'cpu.max')).trim(), '25000 100000');
    } else {
      tt.is(readOr(path.join(mem.dir, 'memory.limit_in_bytes')).trim(), String(64 << 20));
      tt.is(readOr(path.join(cpu.dir, 'cpu.cfs_quota_us')).trim(), '25000');
      tt.is(readOr(path.join(cpu.dir, 'cpu.cfs_period_us')).trim(), '100000');
      tt.is(readOr(path.join(cpu.dir, 'cpu.shares')).trim(), '512');
    }
    c.remove(id);
  });

  t(title('read-only rootfs'), (tt) => {
    const c = need(tt);
    const id = uid('ro');
    const r = c.run(id, ['sh', '-c', 'grep " / / " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1; touch /file && echo wrote; echo tmp > /dev/shm/x && echo shm-ok'], {
      flags: ['--rm', '--read-only'],
    });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, 'ro\nshm-ok\n');
    tt.regex(r.stderr, /Read-only file system/);
  });

  t(title('tty mode: ctr run -t'), (tt) => {
    const c = need(tt);
    const id = uid('tty');
    const r = c.run(id, ['sh', '-c', 'tty; [ -t 1 ] && echo stdout-tty; exit 9'], { flags: ['--rm', '-t'], tty: true });
    tt.is(r.status, 9, r.stdout + r.stderr);
    tt.regex(r.stdout, /\/dev\/pts\/\d+\nstdout-tty\n/);
  });

  t(title('an OOM kill is reported as a /tasks/oom event'), async (tt) => {
    const c = need(tt);
    const id = uid('oom');
    const ev = c.ctrBackground(['events']);
    await sleep(300);
    const r = c.run(id, ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'], { flags: ['--rm', '--memory-limit', String(32 << 20)], timeout: 60_000 });
    tt.is(r.status, 137, r.stderr);
    // the event may trail the exit by a moment
    await sleep(500);
    ev.kill('SIGTERM');
    const out = (await ev.done).stdout;
    const oom = out.split('\n').filter((l) => l.includes('/tasks/oom') && l.includes(`"container_id":"${id}"`));
    tt.true(oom.length >= 1, out);
  });

  t(title('default seccomp profile and a user namespace (--uidmap)'), (tt) => {
    const c = need(tt);
    const s = c.run(uid('sec'), ['sh', '-c', 'grep ^Seccomp: /proc/self/status'], { flags: ['--rm', '--seccomp'] });
    tt.is(s.status, 0, s.stderr);
    tt.regex(s.stdout, /^Seccomp:\s+2\n$/);
    const u = c.run(uid('userns'), ['sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "'], {
      flags: ['--rm', '--uidmap', '0:200000:65536', '--gidmap', '0:200000:65536'],
    });
    tt.is(u.status, 0, u.stderr);
    tt.is(u.stdout, '0\n 0 200000 65536\n 0 200000 65536\n');
  });

  t(title('a broken container surfaces the runtime\'s own error through ctr'), async (tt) => {
    const c = need(tt);
    const id = uid('bad');
    const r = c.run(id, ['/nonexistent/prog'], { flags: ['--rm'] });
    tt.is(r.status, 1);
    // the shim reads the last error line of the runtime's log.json
    tt.regex(r.stderr, /OCI runtime create failed: .*\/nonexistent\/prog.*no such file or directory/);
    if (rt.name === 'runt') tt.regex(r.stderr, new RegExp(`cannot create container "${id}": exec /nonexistent/prog: .*ENOENT \\(no such file or directory\\)`));
    c.ctr(['container', 'rm', id]);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('--runc-systemd-cgroup: the runtime\'s answer reaches ctr'), async (tt) => {
    const c = need(tt);
    const id = uid('sysd');
    const r = c.run(id, ['true'], { flags: ['--rm', '--runc-systemd-cgroup', '--cgroup', `runt-e2e.slice:runt:${id}`] });
    // no systemd as PID 1 on these machines: runc cannot reach it over
    // D-Bus, runt refuses (RUNT5009); both must fail cleanly and say why
    if (r.status === 0) {
      tt.log('the systemd cgroup driver worked here');
    } else {
      tt.log(r.stderr.trim());
      tt.regex(r.stderr, /OCI runtime create failed: /);
      if (rt.name === 'runt') tt.regex(r.stderr, /systemd/);
    }
    c.ctr(['container', 'rm', id]);
    tt.deepEqual(await c.settled([id]), []);
  });

  t(title('50 containers in sequence leave no process, mount, cgroup or state dir'), async (tt) => {
    const c = need(tt);
    const ids: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 50; i++) {
      const id = uid('seq');
      ids.push(id);
      const r = c.run(id, ['sh', '-c', `echo n=${i}`], { flags: ['--rm'] });
      if (r.status !== 0 || r.stdout !== `n=${i}\n`) {
        tt.fail(`container ${i}: status ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${r.stderr}`);
        return;
      }
    }
    tt.log(`50 runs in ${Date.now() - start} ms`);
    tt.deepEqual(c.containers().filter((id) => ids.includes(id)), []);
    tt.deepEqual(await c.settled(ids), []);
    // the runtime's root holds nothing for them either
    const nsRoot = path.join(c.runtimeRoot, c.ns);
    const left = fs.existsSync(nsRoot) ? fs.readdirSync(nsRoot).filter((e) => ids.includes(e)) : [];
    tt.deepEqual(left, []);
  });

  t(title('teardown: containerd, shims, mounts, cgroups and temp dirs are gone'), async (tt) => {
    const c = need(tt);
    stopped = true;
    const problems = await c.stop();
    tt.deepEqual(problems, []);
    tt.false(fs.existsSync(c.dir));
  });
}

for (const rt of runtimes()) suite(rt);
