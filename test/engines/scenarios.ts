// The scenarios the podman and Docker suites share, registered as ava tests
// for one engine and each runtime of RUNTIME (see common.ts). Each test runs
// its containers one at a time, removes them, and checks from the host that
// nothing is left (processes, cgroups, the runtime's state, mounts).

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { CliEngine } from './cli-engine.js';
import { isRoot, readOr, runtimes, waitFor, type Runtime } from './common.js';

// The cgroup v1 directory of a controller for a process, or the v2 one.
export function cgroupDir(pid: number, controller: string): { dir: string; v2: boolean } | undefined {
  for (const line of readOr(`/proc/${pid}/cgroup`).split('\n')) {
    const [hid, ctrls, p] = line.split(':');
    if (ctrls === undefined || p === undefined) continue;
    if (ctrls.split(',').includes(controller)) return { dir: path.join('/sys/fs/cgroup', controller, p), v2: false };
    if (hid === '0' && ctrls === '' && !fs.existsSync(path.join('/sys/fs/cgroup', controller))) {
      return { dir: path.join('/sys/fs/cgroup', p), v2: true };
    }
  }
  return undefined;
}

function cgroupValue(pid: number, controller: string, v1File: string, v2File: string): string {
  const cg = cgroupDir(pid, controller);
  if (!cg) return '?';
  return readOr(path.join(cg.dir, cg.v2 ? v2File : v1File)).trim();
}

export interface SuiteContext {
  rt: Runtime;
  t: (title: string, fn: (tt: ExecutionContext) => Promise<void>) => void;
  title(s: string): string;
  need(tt: ExecutionContext): CliEngine;
}

// The shared scenarios, then the engine's own (`extras`), then teardown.
export function registerCliEngineSuite(engineName: string, make: (rt: Runtime) => CliEngine, extras?: (ctx: SuiteContext) => void): void {
  for (const rt of runtimes()) suite(engineName, rt, make, extras);
}

function suite(engineName: string, rt: Runtime, make: (rt: Runtime) => CliEngine, extras?: (ctx: SuiteContext) => void): void {
  const t = (isRoot ? test.serial : test.serial.skip) as (title: string, fn: (tt: ExecutionContext) => Promise<void>) => void;
  const title = (s: string): string => `${engineName} [${rt.name}]: ${s}`;
  let eng: CliEngine | undefined;
  let startError: string | undefined;
  let stopped = false;

  test.before(async () => {
    if (!isRoot) return;
    try {
      eng = make(rt);
      await eng.start();
    } catch (e) {
      startError = String((e as Error).message ?? e);
    }
  });

  test.after.always(async () => {
    if (eng && !stopped) await eng.stop();
  });

  const need = (tt: ExecutionContext): CliEngine => {
    if (!eng || startError) tt.fail(`${engineName} could not be started: ${startError}`);
    return eng!;
  };

  // run detached, return the full id and the init's host pid
  const detached = (tt: ExecutionContext, e: CliEngine, cmd: string[], flags: string[] = []): { id: string; pid: number } => {
    const r = e.run(cmd, { flags: ['-d', ...flags] });
    tt.is(r.status, 0, r.stderr);
    const id = r.stdout.trim().split('\n').pop() ?? '';
    const pid = Number(e.inspect(id, '{{.State.Pid}}'));
    return { id, pid };
  };

  t(title('run to completion: output, stderr and exit code; nothing left after --rm'), async (tt) => {
    const e = need(tt);
    const cid = e.cidfile();
    const r = e.run(['sh', '-c', 'echo hello; echo to-stderr >&2; exit 3'], { flags: ['--rm', '--cidfile', cid] });
    tt.is(r.status, 3, r.stderr);
    tt.is(r.stdout, 'hello\n');
    tt.regex(r.stderr, /to-stderr\n/);
    const id = e.readCidfile(cid);
    tt.regex(id, /^[0-9a-f]{64}$/);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('-i: stdin reaches the container (and exec -i)'), async (tt) => {
    const e = need(tt);
    const r = e.cli(['run', ...e.runFlags(), '--rm', '-i', e.image, 'sh', '-c', 'tr a-z A-Z; echo eof'], { input: 'piped in\nline two\n' });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, 'PIPED IN\nLINE TWO\neof\n');
    const { id } = detached(tt, e, ['sleep', '1000']);
    const x = e.cli(['exec', '-i', id, 'sh', '-c', 'wc -l'], { input: 'a\nb\nc\n' });
    tt.is(x.status, 0, x.stderr);
    tt.is(x.stdout.trim(), '3');
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('detached run, the runtime state, exec with and without a tty, exec -d'), async (tt) => {
    const e = need(tt);
    const { id, pid } = detached(tt, e, ['sleep', '1000']);
    tt.true(pid > 0);
    tt.is(e.inspect(id, '{{.State.Status}}'), 'running');
    const st = e.runtimeState(id);
    tt.is(st?.status, 'running');
    tt.is(st?.pid, pid);
    tt.regex(readOr(`/proc/${pid}/cmdline`), /^sleep\x001000\x00$/);

    const x1 = e.cli(['exec', id, 'sh', '-c', 'echo "in $(cat /proc/1/cmdline | tr "\\0" " ")as $(id -u)"; [ -t 0 ] || echo no-tty; exit 5']);
    tt.is(x1.status, 5, x1.stderr);
    tt.is(x1.stdout, 'in sleep 1000 as 0\nno-tty\n');

    const x2 = e.cliPty(['exec', '-t', id, 'sh', '-c', 'tty; [ -t 1 ] && echo stdout-tty; exit 6']);
    tt.is(x2.status, 6, x2.stdout + x2.stderr);
    tt.regex(x2.stdout, /\/dev\/pts\/\d+\nstdout-tty\n/);

    const x3 = e.cli(['exec', '-d', id, 'sleep', '999']);
    tt.is(x3.status, 0, x3.stderr);
    const procs = (): string[] => readOr(path.join(cgroupDir(pid, 'pids')!.dir, 'cgroup.procs')).split('\n').filter(Boolean);
    tt.truthy(await waitFor(() => procs().length >= 2), 'the detached exec joined the container cgroup');

    const rm = e.remove(id);
    tt.is(rm.status, 0, rm.stderr);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('stop: SIGTERM reaches the container, its exit code is recorded; kill -s sends a signal'), async (tt) => {
    const e = need(tt);
    const { id } = detached(tt, e, ['sh', '-c', 'trap "echo got-usr1" USR1; trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.1; done']);
    tt.truthy(await waitFor(() => e.cli(['logs', id]).stdout.includes('ready')));
    const k = e.cli(['kill', '-s', 'USR1', id]);
    tt.is(k.status, 0, k.stderr);
    tt.truthy(await waitFor(() => e.cli(['logs', id]).stdout.includes('got-usr1')), e.cli(['logs', id]).stdout);
    const start = Date.now();
    const s = e.cli(['stop', '-t', '20', id], { timeout: 60_000 });
    tt.is(s.status, 0, s.stderr);
    tt.true(Date.now() - start < 10_000, 'stopped by SIGTERM, not by the timeout');
    tt.is(e.inspect(id, '{{.State.Status}}'), 'exited');
    tt.is(e.inspect(id, '{{.State.ExitCode}}'), '9');
    tt.is(e.cli(['logs', id]).stdout, 'ready\ngot-usr1\ngot-term\n');
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('kill (SIGKILL) of a container that ignores SIGTERM'), async (tt) => {
    const e = need(tt);
    const { id, pid } = detached(tt, e, ['sleep', '1000']);
    const k = e.cli(['kill', id]);
    tt.is(k.status, 0, k.stderr);
    tt.truthy(await waitFor(() => e.inspect(id, '{{.State.Status}}') === 'exited'));
    tt.is(e.inspect(id, '{{.State.ExitCode}}'), '137');
    tt.truthy(await waitFor(() => !fs.existsSync(`/proc/${pid}/cmdline`) || readOr(`/proc/${pid}/cmdline`) === ''));
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('kill of a paused container ends it'), async (tt) => {
    const e = need(tt);
    const { id } = detached(tt, e, ['sleep', '1000']);
    tt.is(e.cli(['pause', id]).status, 0);
    const k = e.cli(['kill', id]);
    tt.is(k.status, 0, k.stderr);
    tt.truthy(await waitFor(() => e.inspect(id, '{{.State.Status}}') === 'exited', 10_000), e.inspect(id, '{{.State.Status}}'));
    tt.is(e.inspect(id, '{{.State.ExitCode}}'), '137');
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('--pid host: what the init leaves behind dies with it'), async (tt) => {
    const e = need(tt);
    const { id, pid } = detached(tt, e, ['sh', '-c', 'sleep 777 & sleep 0.5; exit 3'], ['--pid', 'host']);
    const cg = cgroupDir(pid, 'pids');
    tt.truthy(cg);
    const members = (): string[] => readOr(path.join(cg!.dir, 'cgroup.procs')).split('\n').filter(Boolean);
    tt.truthy(await waitFor(() => e.inspect(id, '{{.State.Status}}') === 'exited', 10_000));
    tt.is(e.inspect(id, '{{.State.ExitCode}}'), '3');
    // exited, not removed: the cgroup must already be empty
    tt.truthy(await waitFor(() => members().length === 0, 5000), `left in the cgroup: ${members().join(' ')}`);
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('pause and unpause reach the freezer'), async (tt) => {
    const e = need(tt);
    const { id, pid } = detached(tt, e, ['sleep', '1000']);
    const frozen = (): string => cgroupValue(pid, 'freezer', 'freezer.state', 'cgroup.freeze');
    tt.is(e.cli(['pause', id]).status, 0);
    tt.is(e.inspect(id, '{{.State.Status}}'), 'paused');
    tt.is(e.runtimeState(id)?.status, 'paused');
    tt.true(['FROZEN', '1'].includes(frozen()), frozen());
    tt.is(e.cli(['unpause', id]).status, 0);
    tt.is(e.inspect(id, '{{.State.Status}}'), 'running');
    tt.true(['THAWED', '0'].includes(frozen()), frozen());
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('--memory and --pids-limit reach the cgroup' + '; update changes them where the engine has it'), async (tt) => {
    const e = need(tt);
    const { id, pid } = detached(tt, e, ['sleep', '1000'], ['--memory', '64m', '--pids-limit', '42']);
    const mem = cgroupDir(pid, 'memory')!;
    tt.true(mem.dir.includes(path.basename(e.cgroupParent)), `${mem.dir} is below the suite's --cgroup-parent`);
    tt.is(cgroupValue(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 << 20));
    tt.is(cgroupValue(pid, 'pids', 'pids.max', 'pids.max'), '42');
    const inside = e.cli(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max']);
    tt.is(inside.stdout.trim(), '42');
    if (e.supportsUpdate) {
      // the runc shim runs `<runtime> update --resources -` with a LinuxResources document
      const u = e.cli(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '77', '--cpu-quota', '30000', id]);
      tt.is(u.status, 0, u.stderr);
      tt.is(cgroupValue(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(96 << 20));
      tt.is(cgroupValue(pid, 'pids', 'pids.max', 'pids.max'), '77');
      tt.is(cgroupValue(pid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max').split(' ')[0], '30000');
      tt.is(e.inspect(id, '{{.HostConfig.Memory}}'), String(96 << 20));
    }
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('--cap-drop all --cap-add NET_ADMIN,SYS_TIME'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status | tr -s "\\t" " "'], { flags: ['--rm', '--cap-drop', 'all', '--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_TIME'] });
    tt.is(r.status, 0, r.stderr);
    // NET_ADMIN is bit 12, SYS_TIME bit 25
    tt.is(r.stdout, 'CapPrm: 0000000002001000\nCapEff: 0000000002001000\nCapBnd: 0000000002001000\n');
    const d = e.run(['sh', '-c', 'grep ^CapEff /proc/self/status | tr -s "\\t" " "'], { flags: ['--rm', '--cap-drop', 'CHOWN'] });
    tt.is(d.status, 0, d.stderr);
    const eff = BigInt(`0x${d.stdout.split(' ')[1]!.trim()}`);
    tt.is(eff & 1n, 0n, 'CAP_CHOWN dropped');
    tt.not(eff & (1n << 5n), 0n, 'CAP_KILL kept');
  });

  t(title('--read-only rootfs'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sh', '-c', 'touch /file && echo wrote-root; echo x > /dev/shm/x && echo shm-ok'], { flags: ['--rm', '--read-only'] });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, 'shm-ok\n');
    tt.regex(r.stderr, /Read-only file system/);
  });

  t(title('--user and --hostname'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sh', '-c', 'id; hostname; cat /proc/self/status | grep -E "^(Uid|Gid):" | tr -s "\\t" " "'], { flags: ['--rm', '--user', '1000:1000', '--hostname', 'runt-engine-host'] });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, 'uid=1000(user) gid=1000(user) groups=1000(user)\nrunt-engine-host\nUid: 1000 1000 1000 1000\nGid: 1000 1000 1000 1000\n');
  });

  t(title('-t: a terminal for the container'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-tty; exit 4'], { flags: ['--rm', '-t'], tty: true });
    tt.is(r.status, 4, r.stdout + r.stderr);
    tt.regex(r.stdout, /\/dev\/pts\/\d+\nstdio-tty\n/);
  });

  t(title('a broken container surfaces the runtime\'s own error'), async (tt) => {
    const e = need(tt);
    const cid = e.cidfile();
    const r = e.run(['/nonexistent/prog'], { flags: ['--cidfile', cid] });
    tt.is(r.status, 127, r.stderr);
    tt.regex(r.stderr, /\/nonexistent\/prog.*no such file or directory/);
    if (rt.name === 'runt') tt.regex(r.stderr, /cannot create container "[0-9a-f]{64}": exec \/nonexistent\/prog: .*ENOENT \(no such file or directory\)/);
    const id = e.readCidfile(cid);
    e.remove(id);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('an OOM kill ends the container with 137'), async (tt) => {
    const e = need(tt);
    const cid = e.cidfile();
    const r = e.run(['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'], { flags: ['--memory', '32m', '--memory-swap', '32m', '--cidfile', cid], timeout: 60_000 });
    tt.is(r.status, 137, r.stderr);
    const id = e.readCidfile(cid);
    tt.is(e.inspect(id, '{{.State.ExitCode}}'), '137');
    tt.log(`OOMKilled: ${e.inspect(id, '{{.State.OOMKilled}}')}`);
    e.remove(id);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('10 containers in sequence leave nothing behind'), async (tt) => {
    const e = need(tt);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const cid = e.cidfile();
      const r = e.run(['sh', '-c', `echo n=${i}`], { flags: ['--rm', '--cidfile', cid] });
      if (r.status !== 0 || r.stdout !== `n=${i}\n`) {
        tt.fail(`container ${i}: status ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${r.stderr}`);
        return;
      }
      ids.push(e.readCidfile(cid));
    }
    tt.deepEqual(await e.settled(ids), []);
  });

  extras?.({ rt, t, title, need });

  t(title('teardown: daemon, processes, mounts, cgroups and temp dirs are gone'), async (tt) => {
    const e = need(tt);
    stopped = true;
    const problems = await e.stop();
    tt.deepEqual(problems, []);
    tt.false(fs.existsSync(e.dir));
  });
}
