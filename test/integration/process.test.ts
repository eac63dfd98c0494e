// The container process: args, env, cwd, user, capabilities, rlimits,
// noNewPrivileges, oomScoreAdj, fds; checked in /proc of the running
// process and from inside.
import test from 'ava';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createSleeping, isRoot, procStatus, runContainer, setup, sh, uniqueId, RUNT, sleep, stateOf } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('args, env, cwd and HOME', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.process!.cwd = '/tmp';
    s.process!.env = ['PATH=/bin', 'FOO=bar baz'];
    s.process!.args = ['sh', '-c', 'pwd; echo "$FOO"; echo "$HOME"; echo "$0 $1"', 'zero', 'one'];
  });
  tt.is(r.stdout, '/tmp\nbar baz\n/root\nzero one\n', r.stderr);
});

t('user uid, gid, additionalGids and umask', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 27], umask: 0o077 };
    s.mounts!.push({ destination: '/w', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    sh('id -u; id -g; id -G; umask; touch /w/f; stat -c %a /w/f; echo $HOME')(s);
  });
  tt.is(r.stdout, '1000\n1000\n1000 5 27\n0077\n600\n/home/user\n', r.stderr);
});

function capMask(names: string[]): bigint {
  const table = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE'];
  return names.reduce((m, n) => m | (1n << BigInt(table.indexOf(n))), 0n);
}

const CAPS = {
  bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  inheritable: ['CAP_NET_BIND_SERVICE'],
  ambient: ['CAP_NET_BIND_SERVICE'],
};

t('capabilities: a non-root process keeps its ambient set across exec', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.capabilities = CAPS;
  });
  tt.is(env.runt(['start', id]).status, 0);
  sleep(50);
  const st = procStatus(pid);
  tt.is(BigInt('0x' + st.CapBnd), capMask(CAPS.bounding));
  tt.is(BigInt('0x' + st.CapInh), capMask(CAPS.inheritable));
  tt.is(BigInt('0x' + st.CapAmb), capMask(CAPS.ambient));
  // execve as non-root: permitted and effective become the ambient set
  tt.is(BigInt('0x' + st.CapPrm), capMask(CAPS.ambient));
  tt.is(BigInt('0x' + st.CapEff), capMask(CAPS.ambient));
  tt.regex(st.Uid!, /^1000\s+1000\s+1000\s+1000$/);
  tt.is(st.NoNewPrivs, '1');
});

t('capabilities: root with noNewPrivileges keeps exactly its permitted set across exec', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => (s.process!.capabilities = CAPS));
  tt.is(env.runt(['start', id]).status, 0);
  sleep(50);
  const st = procStatus(pid);
  tt.is(BigInt('0x' + st.CapBnd), capMask(CAPS.bounding));
  tt.is(BigInt('0x' + st.CapInh), capMask(CAPS.inheritable));
  // root would gain bounding|inheritable on exec, but no_new_privs caps
  // what it gains at what it had (cap_bprm_creds_from_file)
  tt.is(BigInt('0x' + st.CapPrm), capMask(CAPS.permitted));
  tt.is(BigInt('0x' + st.CapEff), capMask(CAPS.permitted));
});

t('unknown capability names are a warning, not an error', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.process!.capabilities!.bounding!.push('CAP_BOGUS');
  });
  const r = env.runt(['run', '--bundle', b, uniqueId()]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stderr, /warning: ignoring unknown or unavailable capabilities: CAP_BOGUS/);
});

t('rlimits and oomScoreAdj', (tt) => {
  const env = setup(tt);
  const { pid } = createSleeping(env, (s) => {
    s.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 2048 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
    ];
    s.process!.oomScoreAdj = 123;
  });
  const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  tt.regex(limits, /Max open files\s+512\s+2048/);
  tt.regex(limits, /Max core file size\s+0\s+0/);
  tt.regex(limits, /Max processes\s+300\s+400/);
  tt.is(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '123');
});

t('noNewPrivileges false leaves NoNewPrivs 0', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.process!.noNewPrivileges = false;
    sh('grep NoNewPrivs /proc/self/status')(s);
  });
  tt.regex(r.stdout, /NoNewPrivs:\s+0/);
});

t('the container sees only stdio and preserved fds; no runtime fd leaks', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, sh('ls /proc/self/fd | sort -n | tr "\\n" " "'));
  // ls itself opens the directory as fd 3
  tt.is(r.stdout, '0 1 2 3 ', r.stderr);
  const extra = path.join(env.tmp, 'extra');
  fs.writeFileSync(extra, 'preserved!\n');
  const b = env.bundle(sh('cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "'));
  const fd = fs.openSync(extra, 'r');
  try {
    const out = path.join(env.tmp, 'pf-out');
    const outFd = fs.openSync(out, 'w');
    const res = spawnSync(RUNT, ['--root', env.root, 'run', '--preserve-fds', '1', '--bundle', b, uniqueId()], { stdio: ['ignore', outFd, 'inherit', fd] });
    fs.closeSync(outFd);
    tt.is(res.status, 0);
    tt.is(fs.readFileSync(out, 'utf8'), 'preserved!\n0 1 2 3 4 ');
  } finally {
    fs.closeSync(fd);
  }
});

t('the waiting init is non-dumpable: root of the container cannot reach /proc/<pid>/exe', (tt) => {
  const env = setup(tt);
  // A process with every capability in the container's user namespace (what
  // an attacker inside has) must not open the init's /proc/<pid>/exe while
  // it is still runt-init (CVE-2019-5736 / CVE-2016-9962 class); once the
  // user process runs, the same probe works.
  const { id, pid } = createSleeping(env, (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const probe = (): ReturnType<typeof spawnSync> =>
    spawnSync('nsenter', [`--user=/proc/${pid}/ns/user`, '-S', '0', '-G', '0', '/bin/busybox', 'readlink', `/proc/${pid}/exe`], { encoding: 'utf8' });
  const before = probe();
  tt.not(before.status, 0);
  tt.is(before.stdout, '');
  tt.is(env.runt(['start', id]).status, 0);
  const after = probe();
  tt.is(after.status, 0, String(after.stderr));
  tt.regex(String(after.stdout), /busybox/);
});

t('an ambient capability that is not inheritable is a warning, as in runc (runc 1.1 spec)', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.process!.capabilities!.ambient = ['CAP_KILL'];
    sh('grep CapAmb /proc/self/status')(s);
  });
  const r = env.runt(['run', '--bundle', b, uniqueId()]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /CapAmb:\s+0+$/m);
  tt.regex(r.stderr, /warning: cannot raise ambient capability 5/);
});
