// Hostile bundles, file descriptors and the runtime's own process: the
// container sees only its stdio and the preserved fds, in its init and in
// `exec`; a cwd of /proc/self/fd/N never reaches a directory the runtime
// holds (CVE-2024-21626); a process already in the container cannot open
// the exe or mem of a runt-init joining it (CVE-2019-5736, CVE-2016-9962).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { privateBundle } from '../helpers/hostile.js';
import { waitNoLeftovers } from '../helpers/leaks.js';
import { REPO, RUNT, isRoot, setup, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;
const haveCc = spawnSync('cc', ['--version']).status === 0;

// "N -> target" for each fd listed by busybox `ls -l DIR`.
function fdTable(lsOutput: string, dir: string): Map<number, string> {
  const section = lsOutput.split(`${dir}:`)[1]?.split('\n\n')[0] ?? '';
  const m = new Map<number, string>();
  for (const line of section.split('\n')) {
    const x = / (\d+) -> (.*)$/.exec(line) ?? / (\d+)$/.exec(line);
    if (x) m.set(Number(x[1]), x[2] ?? '');
  }
  return m;
}

t('/proc/1/fd and /proc/self/fd hold only stdio and the preserved fds, in the init and in exec', (tt) => {
  const env = setup(tt);
  const extra = path.join(env.tmp, 'preserved-file');
  fs.writeFileSync(extra, 'x');
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const id = uniqueId();
  const fd = fs.openSync(extra, 'r');
  const out = fs.openSync(path.join(env.tmp, 'create-out'), 'w');
  try {
    const r = spawnSync(RUNT, ['--root', env.root, 'create', '--preserve-fds', '1', '--bundle', b, id], { stdio: ['ignore', out, out, fd], encoding: 'utf8' });
    tt.is(r.status, 0, fs.readFileSync(path.join(env.tmp, 'create-out'), 'utf8'));
  } finally {
    fs.closeSync(fd);
    fs.closeSync(out);
  }
  // The waiting init is non-dumpable (the container cannot list its fds):
  // from the host, every fd but stdio and the preserved one is close-on-exec
  const pid = stateOf(env, id).pid;
  for (const n of fs.readdirSync(`/proc/${pid}/fd`).map(Number)) {
    if (n <= 3) continue;
    const flags = /^flags:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${n}`, 'utf8'))![1]!;
    tt.true((parseInt(flags, 8) & 0o2000000) !== 0, `fd ${n} -> ${fs.readlinkSync(`/proc/${pid}/fd/${n}`)} is not close-on-exec`);
  }
  tt.is(env.runt(['start', id]).status, 0);
  const r = env.runt(['exec', id, 'ls', '-l', '/proc/1/fd', '/proc/self/fd']);
  tt.is(r.status, 0, r.stderr);
  const init = fdTable(r.stdout, '/proc/1/fd');
  const self = fdTable(r.stdout, '/proc/self/fd');
  tt.deepEqual([...init.keys()].sort(), [0, 1, 2, 3]);
  tt.is(init.get(3), extra);
  // ls has the directory it lists open as fd 3, nothing else
  tt.deepEqual([...self.keys()].sort(), [0, 1, 2, 3]);
  // above stdio (which the caller chose) nothing of the runtime: no state
  // dir, socket, /proc, cgroup, binary
  for (const [n, target] of [...init, ...self]) {
    if (n < 3) continue;
    tt.false(target.startsWith(env.root), target);
    tt.false(/^(socket:|anon_inode:|\/sys\/fs\/cgroup|\/proc$)|runt-init/.test(target), target);
  }
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
});

t('a cwd of /proc/self/fd/N never lands outside the container, in run and in exec (CVE-2024-21626)', (tt) => {
  const env = setup(tt);
  const probe = 'pwd; ls ./1/root >/dev/null 2>&1 && echo HOST-PROC';
  const check = (what: string, r: { status: number | null; stdout: string; stderr: string }): void => {
    if (r.status === 0) {
      // pwd of a directory outside our root prints nothing or "(unreachable)"
      tt.regex(r.stdout, /^\/\S*\n$/, `${what}: ${r.stdout}`);
    } else {
      tt.true(r.status === 1 || r.status === 255, what); // exec fails with 255, as runc's
      tt.regex(r.stderr, /^runt: .*working directory \/proc\/self\/fd\/\d+.*\n$/, what);
    }
    tt.notRegex(r.stdout, /HOST-PROC/, what);
  };
  const ids: string[] = [];
  for (let n = 3; n <= 24; n++) {
    const id = uniqueId();
    ids.push(id);
    const b = env.bundle((s) => {
      s.process!.cwd = `/proc/self/fd/${n}`;
      s.process!.args = ['sh', '-c', probe];
    });
    check(`run, fd ${n}`, env.runt(['run', '--bundle', b, id]));
  }
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const id = uniqueId();
  ids.push(id);
  tt.is(env.runt(['run', '-d', '--bundle', b, id]).status, 0);
  for (let n = 3; n <= 24; n++) check(`exec, fd ${n}`, env.runt(['exec', '--cwd', `/proc/self/fd/${n}`, id, 'sh', '-c', probe]));
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids }), []);
});

(haveCc ? t : test.skip)('root of a user-namespaced container cannot open the exe or mem of a runt-init joining it', (tt) => {
  const env = setup(tt);
  const initBin = path.join(REPO, 'bin/runt-init');
  const sum = (): string => crypto.createHash('sha256').update(fs.readFileSync(initBin)).digest('hex');
  const before = sum();
  const b = privateBundle(
    env,
    (s) => {
      s.process!.args = ['/probe', '3', '/tmp/probe.out'];
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      // every capability of its user namespace, CAP_SYS_PTRACE included
      const all = ['CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID'];
      s.process!.capabilities = { bounding: all, effective: all, permitted: all };
      s.process!.noNewPrivileges = false;
    },
    (rootfs) => {
      const cc = spawnSync('cc', ['-static', '-O2', '-o', path.join(rootfs, 'probe'), path.join(REPO, 'test/helpers/exe-probe.c')], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(cc.stderr);
      fs.chownSync(path.join(rootfs, 'tmp'), 100000, 100000);
    },
  );
  const id = uniqueId();
  const started = env.runt(['run', '-d', '--bundle', b.dir, id]);
  tt.is(started.status, 0, started.stderr);
  let execs = 0;
  while (stateOf(env, id).status === 'running') {
    env.runt(['exec', id, 'true']);
    execs++;
  }
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  const result = fs.readFileSync(path.join(b.rootfs, 'tmp/probe.out'), 'utf8');
  tt.log(`${execs} execs; probe: ${result.trim()}`);
  tt.regex(result, / opened=0\n$/);
  tt.is(sum(), before);
  tt.is(env.runt(['delete', id]).status, 0);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
});
