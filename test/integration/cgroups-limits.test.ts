// Limits bite: a pids limit stops a fork bomb, a memory limit OOM-kills and
// `events` reports it; `events --stats` in runc's shape.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { RUNT, createSleeping, isRoot, setup, sleep, uniqueId, waitStatus, type Env } from '../helpers/runt.js';
import { cgDirs, isV2, readCg, waitFor } from './cgroups-common.js';

const t = isRoot ? test : test.skip;
const MiB = 1024 * 1024;

// `runt events ARGS` in the background; resolves with its output when it exits.
function eventsProcess(env: Env, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(RUNT, ['--root', env.root, 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter((l) => l !== ''), stderr: err });
    });
  });
}

t('a pids limit stops a fork bomb', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const limit = 16;
  // exponential, but bounded (2^11 processes at most) in case the limit failed
  const bomb = 'b() { [ "$1" -gt 0 ] || { sleep 30; return; }; b $(($1-1)) & b $(($1-1)) & wait; }; b 10';
  const b = env.bundle((s) => {
    s.process!.args = ['sh', '-c', bomb];
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { pids: { limit } };
  });
  tt.is(env.runt(['run', '--detach', '--bundle', b, id]).status, 0);
  // the limit is hit: forks fail, pids.events counts them
  tt.true(waitFor(() => /^max [1-9]/m.test(readCg(env, id, 'pids', 'pids.events')), 20_000), readCg(env, id, 'pids', 'pids.events'));
  for (let i = 0; i < 10; i++) {
    tt.true(Number(readCg(env, id, 'pids', 'pids.current')) <= limit);
    sleep(20);
  }
  if (!isV2) tt.true(Number(readCg(env, id, 'pids', 'pids.peak')) <= limit);
  const dirs = cgDirs(env, id);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
});

t('a memory limit OOM-kills, and events reports the OOM before it ends', async (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    // dd's 64 MiB buffer cannot fit in 16 MiB: the OOM killer takes dd; the
    // shell lives on long enough for a stats event, then exits
    s.process!.args = ['sh', '-c', 'sleep 0.3; dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; sleep 1.5'];
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { memory: { limit: 16 * MiB, swap: 16 * MiB } };
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);
  const ev = eventsProcess(env, ['--interval', '500ms', id]);
  sleep(200); // let events take its first OOM reading
  tt.is(env.runt(['start', id]).status, 0);
  const res = await ev;
  tt.is(res.code, 0, res.stderr);
  const events = res.lines.map((l) => JSON.parse(l) as { type: string; id: string; data?: { memory?: { usage?: { limit?: number } } } });
  tt.true(events.some((e) => e.type === 'oom' && e.id === id), res.lines.join('\n').slice(0, 2000));
  tt.is(events.filter((e) => e.type === 'oom').length, 1);
  const stats = events.filter((e) => e.type === 'stats');
  tt.true(stats.length >= 1);
  tt.is(stats[0]?.data?.memory?.usage?.limit, 16 * MiB);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  const killed = isV2 ? readCg(env, id, 'memory', 'memory.events') : readCg(env, id, 'memory', 'memory.oom_control');
  tt.regex(killed, /^oom_kill 1$/m);
});

t('with the OOM killer disabled (v1), events reports the cgroup going under OOM', async (tt) => {
  if (isV2) {
    tt.pass('cgroup v2 cannot disable the OOM killer');
    return;
  }
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    // awk fills its memory from user space (a kernel-mode copy such as
    // read(2) into fresh pages fails with EFAULT instead of waiting under OOM)
    s.process!.args = ['sh', '-c', 'sleep 0.3; awk \'BEGIN { s = "x"; while (1) s = s s }\''];
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { memory: { limit: 16 * MiB, swap: 16 * MiB, disableOOMKiller: true } };
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);
  tt.regex(readCg(env, id, 'memory', 'memory.oom_control'), /^oom_kill_disable 1$/m);
  const ev = eventsProcess(env, ['--interval', '10s', id], 20_000);
  sleep(200);
  tt.is(env.runt(['start', id]).status, 0);
  tt.true(waitFor(() => /^under_oom 1$/m.test(readCg(env, id, 'memory', 'memory.oom_control')), 10_000));
  // awk hangs under OOM; delete ends it, and the stream with it
  sleep(300);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  const res = await ev;
  tt.deepEqual(res.lines.map((l) => JSON.parse(l)), [{ type: 'oom', id }], res.stderr);
});

t('events --stats prints one stats event in runc\'s shape', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { memory: { limit: 32 * MiB }, pids: { limit: 30 } };
  }, id);
  const r = env.runt(['events', '--stats', id]);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout.split('\n').filter((l) => l).length, 1);
  const e = JSON.parse(r.stdout) as { type: string; id: string; data: Record<string, any> };
  tt.is(e.type, 'stats');
  tt.is(e.id, id);
  tt.deepEqual(Object.keys(e.data), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  tt.deepEqual(Object.keys(e.data.memory).filter((k) => k !== 'cache' && k !== 'psi'), ['usage', 'swap', 'kernel', 'kernelTCP', 'raw']);
  tt.is(e.data.memory.usage.limit, 32 * MiB);
  tt.is(e.data.pids.current, 1);
  tt.is(e.data.pids.limit, 30);
  tt.is(e.data.network_interfaces, null);
  tt.deepEqual(e.data.intel_rdt, {});
  tt.true(typeof e.data.cpu.usage.kernel === 'number');

  const bad = env.runt(['events', '--interval', '0s', id]);
  tt.is(bad.status, 1);
  tt.regex(bad.stderr, /duration interval must be greater than 0/);
  tt.is(env.runt(['kill', id, 'KILL']).status, 0);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  const stopped = env.runt(['events', '--stats', id]);
  tt.is(stopped.status, 1);
  tt.regex(stopped.stderr, new RegExp(`container with id ${id} is not running`));
});

t('events follows a running container and ends when it stops', async (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  createSleeping(env, (s) => (s.linux!.cgroupsPath = `/${id}`), id);
  tt.is(env.runt(['start', id]).status, 0);
  const ev = eventsProcess(env, ['--interval', '200ms', id]);
  sleep(1100);
  tt.is(env.runt(['kill', id, 'KILL']).status, 0);
  const res = await ev;
  tt.is(res.code, 0, res.stderr);
  const types = res.lines.map((l) => (JSON.parse(l) as { type: string }).type);
  tt.true(types.length >= 3, `${types.length} events`);
  tt.true(types.every((x) => x === 'stats'));
});
