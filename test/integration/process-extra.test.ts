// The rest of process and linux: scheduler (sched_setattr), ioPriority,
// personality, memoryPolicy, execCPUAffinity, netDevices and intelRdt; each
// checked in /proc of the running process or from inside, and refused
// clearly when the config or the host cannot have it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { findResctrl } from '../../src/linux/resctrl.js';
import { RUNT, createSleeping, isRoot, runContainer, setup, sh, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

function sched(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/sched`, 'utf8').split('\n')) {
    const m = /^(\S+)\s+:\s+(\S+)/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

t('scheduler, ioPriority, personality and memoryPolicy reach the container process', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => {
    s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    s.linux!.personality = { domain: 'LINUX32' };
    s.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' };
  });
  tt.is(env.runt(['start', id]).status, 0);
  const sc = sched(pid);
  tt.is(sc.policy, '3'); // SCHED_BATCH
  tt.is(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16], '7', 'nice');
  tt.regex(spawnSync('ionice', ['-p', String(pid)], { encoding: 'utf8' }).stdout, /best-effort: prio 6/);
  tt.is(fs.readFileSync(`/proc/${pid}/personality`, 'utf8').trim(), '00000008'); // PER_LINUX32
  tt.regex(fs.readFileSync(`/proc/${pid}/numa_maps`, 'utf8'), /interleave:0/);
  // LINUX32 from inside: uname says i686
  tt.is(env.runt(['exec', id, 'uname', '-m']).stdout, 'i686\n');
  // and exec'd processes get the same settings
  const pidFile = `${env.tmp}/e.pid`;
  tt.is(env.runt(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100']).status, 0);
  const epid = Number(fs.readFileSync(pidFile, 'utf8'));
  tt.is(sched(epid).policy, '3');
  tt.is(fs.readFileSync(`/proc/${epid}/personality`, 'utf8').trim(), '00000008');
  tt.regex(fs.readFileSync(`/proc/${epid}/numa_maps`, 'utf8'), /interleave:0/);
});

t('scheduler and friends: bad values are refused before anything is made', (tt) => {
  const env = setup(tt);
  const refuse = (mutate: (s: import('../../src/spec/types.js').Spec) => void, re: RegExp): void => {
    const r = env.runt(['create', '--bundle', env.bundle(mutate), uniqueId()]);
    tt.is(r.status, 1);
    tt.regex(r.stderr, re);
  };
  refuse((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 5 }), /scheduler\.priority can only be set for SCHED_FIFO or SCHED_RR \[RUNT2022\]/);
  refuse((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 30 }), /scheduler nice 30 is outside -20\.\.19/);
  refuse((s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 9 }), /I\/O priority 9 is outside 0\.\.7/);
  refuse((s) => (s.linux!.personality = { domain: 'LINUX', flags: ['X'] }), /personality flags are not supported/);
  refuse((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND' }), /MPOL_BIND needs a list of nodes \[RUNT2021\]/);
  refuse((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '0' }), /MPOL_LOCAL takes no nodes/);
  refuse((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), /exclude each other/);
  tt.deepEqual(fs.existsSync(env.root) ? fs.readdirSync(env.root).filter((e) => !e.startsWith('.')) : [], []);
});

const smp = os.cpus().length >= 2 ? t : test.skip;

smp('execCPUAffinity: initial before the cgroup join, final after it; without it the CPU pinning of the caller is not inherited', (tt) => {
  const env = setup(tt);
  const { id } = createSleeping(env, (s) => (s.process!.execCPUAffinity = { initial: '0', final: '1' }));
  tt.is(env.runt(['start', id]).status, 0);
  // final, from the config
  tt.regex(env.runt(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']).stdout, /Cpus_allowed_list:\s+1\n/);
  // a process file brings its own
  const proc = `${env.tmp}/p.json`;
  fs.writeFileSync(proc, JSON.stringify({ args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { initial: '1', final: '0' } }));
  tt.regex(env.runt(['exec', '-p', proc, id]).stdout, /Cpus_allowed_list:\s+0\n/);
  // runt pinned to CPU 0 (taskset): the container's processes get every CPU back
  const all = fs.readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s+(\S+)/)![1];
  const b = env.bundle(sh('grep Cpus_allowed_list /proc/self/status'));
  const pinned = spawnSync('taskset', ['-c', '0', RUNT, '--root', env.root, 'run', '--bundle', b, uniqueId()], { encoding: 'utf8' });
  tt.is(pinned.stdout, `Cpus_allowed_list:\t${all}\n`, pinned.stderr);
  // a bad list is refused
  const bp = `${env.tmp}/bad.json`;
  fs.writeFileSync(bp, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { final: '3-1' } }));
  const e = env.runt(['exec', '-p', bp, id]);
  tt.is(e.status, 255);
  tt.regex(e.stderr, /invalid CPU range "3-1"/);
});

t('netDevices: a host interface moves into the container, renamed, with its addresses, up', (tt) => {
  const env = setup(tt);
  const host = `t-nd${process.pid % 1000}${Math.floor(Math.random() * 100)}`;
  const peer = `${host}p`;
  const ip = (args: string[]): ReturnType<typeof spawnSync> => spawnSync('ip', args, { encoding: 'utf8' });
  tt.is(ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]).status, 0);
  tt.teardown(() => {
    ip(['link', 'del', peer]);
  });
  ip(['addr', 'add', '169.254.99.7/32', 'dev', host]);
  ip(['-6', 'addr', 'add', 'fd00::99:7/128', 'dev', host, 'nodad']);
  const r = runContainer(env, (s) => {
    s.linux!.netDevices = { [host]: { name: 'ctr0' } };
    sh('ip -o link show ctr0; ip -o addr show dev ctr0')(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /ctr0.*<[^>]*\bUP\b[^>]*>/);
  tt.regex(r.stdout, /inet 169\.254\.99\.7\/32 scope global ctr0/);
  tt.regex(r.stdout, /inet6 fd00::99:7\/128 scope global/);
  // gone from the host while it was in the container; a veth dies with its namespace
  tt.not(ip(['link', 'show', host]).status, 0);
});

t('netDevices into a network namespace joined by path (runc netdev.bats): the device stays there after the container', (tt) => {
  const env = setup(tt);
  const ns = `t-rtns${process.pid}`;
  const host = `t-nj${process.pid % 10000}`;
  const ip = (args: string[]): ReturnType<typeof spawnSync> => spawnSync('ip', args, { encoding: 'utf8' });
  tt.is(ip(['netns', 'add', ns]).status, 0);
  tt.teardown(() => {
    ip(['netns', 'del', ns]);
    ip(['link', 'del', `${host}p`]);
  });
  tt.is(ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', `${host}p`]).status, 0);
  ip(['addr', 'add', '169.254.98.7/32', 'dev', host]);
  const r = runContainer(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/var/run/netns/${ns}` } : n));
    s.linux!.netDevices = { [host]: {} };
    sh(`ip -o addr show dev ${host}`)(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /inet 169\.254\.98\.7\/32 scope global/);
  tt.regex(String(ip(['netns', 'exec', ns, 'ip', '-o', 'link', 'show', host]).stdout), /\bUP\b/);
});

t('netDevices: refused without a network namespace, with a bad name, or when the device does not exist', (tt) => {
  const env = setup(tt);
  const noNet = env.bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.netDevices = { lo: {} };
  });
  const a = env.runt(['create', '--bundle', noNet, uniqueId()]);
  tt.is(a.status, 1);
  tt.regex(a.stderr, /unable to move network devices without a NET namespace \[RUNT2019\]/);
  const badName = env.runt(['create', '--bundle', env.bundle((s) => (s.linux!.netDevices = { eth0: { name: 'a/b' } })), uniqueId()]);
  tt.regex(badName.stderr, /invalid network device name "a\/b" for the container/);
  const missing = env.runt(['create', '--bundle', env.bundle((s) => (s.linux!.netDevices = { 't-missing0': {} })), uniqueId()]);
  tt.is(missing.status, 1);
  tt.regex(missing.stderr, /network device t-missing0 not found on the host/);
  tt.deepEqual(fs.readdirSync(env.root).filter((e) => !e.startsWith('.')), []);
});

const haveScript = spawnSync('script', ['--version']).status === 0;

(isRoot && haveScript ? test : test.skip)('process.terminal in a foreground run without --console-socket: runt relays the pty, /dev/console is it', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.process!.terminal = true;
    sh('tty; [ "$(stat -c %t:%T /dev/console)" = "$(stat -c %t:%T $(tty))" ] && echo console-is-tty; read x; echo "got $x"; exit 6')(s);
  });
  const r = spawnSync('script', ['-qec', `${RUNT} --root ${env.root} run --bundle ${b} ${uniqueId()}`, '/dev/null'], { encoding: 'utf8', input: 'typed\n', timeout: 20_000 });
  tt.is(r.status, 6, r.stdout + r.stderr);
  const out = r.stdout.replace(/\r/g, '');
  // the echo of the typed line may land before or between the container's lines
  const own = out.split('\n').filter((l) => l !== 'typed').join('\n');
  tt.regex(own, /\/dev\/pts\/\d+\nconsole-is-tty\n/);
  tt.regex(out, /got typed/);
  // detached, a console socket is still needed
  const d = env.runt(['run', '-d', '--bundle', b, uniqueId()]);
  tt.is(d.status, 1);
  tt.regex(d.stderr, /process\.terminal is true but no --console-socket was given/);
});

const noResctrl = isRoot && !findResctrl() ? test : test.skip;

noResctrl('intelRdt without a resctrl filesystem: a clear error naming the field', (tt) => {
  const env = setup(tt);
  const r = env.runt(['create', '--bundle', env.bundle((s) => (s.linux!.intelRdt = { closID: 'runt-test' })), uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /linux\.intelRdt is set but no resctrl filesystem is mounted \[RUNT2020\]/);
});
