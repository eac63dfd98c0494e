// What a user gets when something is wrong: for each family of error codes,
// the exact line on stderr and the last line of a --log-format json log
// (what containerd shows), with the fields that explain it.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { REPO, createSleeping, isRoot, setup, uniqueId, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

interface Failure {
  status: number | null;
  stderr: string;
  log: Record<string, string>; // the log's last line
  lines: number; // of the log
}

// Run runt with a JSON log and return its one stderr line and last log line.
function fail(env: Env, args: string[]): Failure {
  const file = path.join(env.tmp, `log-${uniqueId()}.json`);
  const r = env.runt(['--log', file, '--log-format', 'json', ...args]);
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
  return { status: r.status, stderr: r.stderr, log: lines.length ? JSON.parse(lines.at(-1)!) : {}, lines: lines.length };
}

function expectLine(tt: ExecutionContext, f: Failure, line: string, fields: Record<string, string>): void {
  tt.is(f.status, 1);
  tt.is(f.stderr, line + '\n', 'one line on stderr');
  tt.is(f.log.level, 'error');
  tt.truthy(Date.parse(f.log.time!));
  for (const [k, v] of Object.entries(fields)) tt.is(f.log[k], v, k);
  // the JSON message is the text one without code and hint
  tt.true(line.startsWith(`runt: ${f.log.msg} [${f.log.code}]`));
}

function bundle(env: Env, mut: (s: Spec) => void): string {
  return env.bundle((s) => {
    s.process!.args = ['true'];
    mut(s);
  });
}

t('RUNT1xxx command line: unknown flag, missing argument; logged even when argv does not parse', (tt) => {
  const env = setup(tt);
  expectLine(tt, fail(env, ['create', '--bogus', 'x']), 'runt: unknown flag --bogus of create [RUNT1002] (hint: `runt create --help` lists the flags)', {
    code: 'RUNT1002',
    phase: 'parse',
    hint: '`runt create --help` lists the flags',
  });
  expectLine(tt, fail(env, ['start']), 'runt: start: missing <container-id> [RUNT1003] (hint: usage: runt start <container-id>)', { code: 'RUNT1003' });
  const cmd = fail(env, ['frobnicate']);
  tt.regex(cmd.stderr, /^runt: unknown command "frobnicate" \[RUNT1001\] \(hint: the commands are: create, start, state, kill, delete, run, .*validate, explain, doctor\)\n$/);
});

t('RUNT2xxx config.json: schema, semantic and bundle errors name the field', (tt) => {
  const env = setup(tt);
  const schema = bundle(env, (s) => (s.linux!.namespaces![0]!.type = 'pidd' as never));
  expectLine(
    tt,
    fail(env, ['create', '--bundle', schema, uniqueId()]),
    'runt: config.json: /linux/namespaces/0/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time" [RUNT2003]',
    { code: 'RUNT2003', field: '/linux/namespaces/0/type', path: path.join(schema, 'config.json'), phase: 'validate' },
  );
  const dup = bundle(env, (s) => s.linux!.namespaces!.push({ type: 'pid' }));
  const n = JSON.parse(fs.readFileSync(path.join(dup, 'config.json'), 'utf8')).linux.namespaces.length - 1;
  const first = JSON.parse(fs.readFileSync(path.join(dup, 'config.json'), 'utf8')).linux.namespaces.findIndex((x: { type: string }) => x.type === 'pid');
  expectLine(tt, fail(env, ['create', '--bundle', dup, uniqueId()]), `runt: duplicate pid namespace (also at index ${first}) [RUNT2006] (hint: list each namespace type once)`, {
    code: 'RUNT2006',
    field: `/linux/namespaces/${n}/type`,
    hint: 'list each namespace type once',
  });
  const missing = path.join(env.tmp, 'no-such-bundle');
  expectLine(
    tt,
    fail(env, ['create', '--bundle', missing, uniqueId()]),
    `runt: bundle directory ${missing} does not exist [RUNT2016] (hint: pass the bundle directory with --bundle, or run \`runt spec\` in it to write a default config.json)`,
    { code: 'RUNT2016', errno: 'ENOENT', path: path.join(missing, 'config.json') },
  );
});

t('RUNT3xxx state: unknown container, wrong status', (tt) => {
  const env = setup(tt);
  expectLine(tt, fail(env, ['state', 'nosuch']), `runt: container "nosuch" does not exist [RUNT3001] (hint: \`runt --root ${env.root} list\` shows the containers there)`, {
    code: 'RUNT3001',
    path: path.join(env.root, 'nosuch'),
  });
  const { id } = createSleeping(env);
  tt.is(env.runt(['start', id]).status, 0);
  expectLine(tt, fail(env, ['start', id]), `runt: cannot start container "${id}": it is running [RUNT3003]`, { code: 'RUNT3003' });
});

t('RUNT4xxx native stage: the root cause comes first, with syscall, errno, path, field and phase', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = bundle(env, (s) => s.mounts!.push({ destination: '/mnt', type: 'nosuchfs', source: 'none' }));
  const index = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')).mounts.length - 1;
  const hint = 'the kernel has no "nosuchfs" filesystem (/proc/filesystems lists the types it has)';
  const f = fail(env, ['create', '--bundle', b, id]);
  expectLine(tt, f, `runt: cannot create container "${id}": mount none (nosuchfs) on /mnt: mount: ENODEV (no such device) [RUNT4003] (hint: ${hint})`, {
    code: 'RUNT4003',
    syscall: 'mount',
    errno: 'ENODEV',
    path: '/mnt',
    field: `/mounts/${index}`,
    phase: 'mount',
    hint,
  });
  // nothing behind it: no container left
  tt.false(fs.existsSync(path.join(env.root, id)));

  // a native stage that cannot be run: its errno, not a crash, and nothing left
  const id3 = uniqueId();
  const file = path.join(env.tmp, `log-${id3}.json`);
  const r = env.runt(['--log', file, '--log-format', 'json', 'create', '--bundle', bundle(env, () => {}), id3], { env: { ...process.env, RUNT_INIT: '/nonexistent/runt-init' } });
  tt.is(r.stderr, 'runt: start the native stage /nonexistent/runt-init: ENOENT [RUNT4001] (hint: run `make` to build bin/runt-init, or point RUNT_INIT at a runnable copy)\n');
  tt.like(JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!), { code: 'RUNT4001', errno: 'ENOENT', syscall: 'spawn', path: '/nonexistent/runt-init', phase: 'spawn' });
  tt.false(fs.existsSync(path.join(env.root, id3)));

  // the program is looked up at create, inside the rootfs
  const id2 = uniqueId();
  const exec = fail(env, ['create', '--bundle', bundle(env, (s) => (s.process!.args = ['/missing/program'])), id2]);
  tt.regex(exec.stderr, new RegExp(`^runt: cannot create container "${id2}": .*/missing/program.*: ENOENT \\(no such file or directory\\) \\[RUNT4003\\] \\(hint: check process.args\\[0\\] and PATH in process.env; the path is looked up inside the rootfs\\)\\n$`));
  tt.is(exec.log.errno, 'ENOENT');
  tt.is(exec.log.field, '/process/args/0');
  tt.is(exec.log.phase, 'exec');
});

t('RUNT5xxx cgroups: a cgroupsPath that escapes its hierarchy', (tt) => {
  const env = setup(tt);
  const b = bundle(env, (s) => (s.linux!.cgroupsPath = '../../escape'));
  expectLine(tt, fail(env, ['create', '--bundle', b, uniqueId()]), 'runt: cgroupsPath "../../escape" escapes its hierarchy with ".." [RUNT5003] (hint: use a path without ".." components that climb above its start)', {
    code: 'RUNT5003',
    field: '/linux/cgroupsPath',
    phase: 'plan',
  });
});

t('RUNT6xxx hooks: a failing hook and a hook that times out name the hook', (tt) => {
  const env = setup(tt);
  const failing = bundle(env, (s) => (s.hooks = { prestart: [{ path: '/bin/false' }] }));
  expectLine(tt, fail(env, ['create', '--bundle', failing, uniqueId()]), 'runt: prestart hook /bin/false exited with status 1 [RUNT6001]', {
    code: 'RUNT6001',
    field: '/hooks/prestart/0',
    path: '/bin/false',
    phase: 'prestart',
  });
  // a hook in the container, at start: the native stage's frame, with the field
  const inside = createSleeping(env, (s) => (s.hooks = { startContainer: [{ path: '/bin/false' }] }));
  expectLine(tt, fail(env, ['start', inside.id]), `runt: cannot start container "${inside.id}": startContainer hook /bin/false exited with status 1: ECANCELED (operation canceled) [RUNT6001]`, {
    code: 'RUNT6001',
    field: '/hooks/startContainer/0',
    path: '/bin/false',
  });
  const slow = bundle(env, (s) => (s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }] }));
  expectLine(tt, fail(env, ['create', '--bundle', slow, uniqueId()]), 'runt: createRuntime hook /bin/sleep timed out after 1 s [RUNT6002]', {
    code: 'RUNT6002',
    field: '/hooks/createRuntime/0',
  });
});

t('RUNT7xxx signals: an unknown signal name', (tt) => {
  const env = setup(tt);
  expectLine(tt, fail(env, ['kill', 'whatever', 'SIGFOO']), 'runt: invalid signal "SIGFOO" [RUNT7001] (hint: use a number from 1 to 64 or a name such as TERM, KILL, HUP, INT, USR1, RTMIN+3)', {
    code: 'RUNT7001',
  });
});

t('RUNT9xxx internal: a bug still says what failed where', (tt) => {
  const env = setup(tt);
  const log = path.join(env.tmp, 'internal.json');
  // an escaped system error, reported by the CLI's own reporter
  const script = `
    import { reportError } from ${JSON.stringify(path.join(REPO, 'dist/src/cli/report.js'))};
    import { Logger } from ${JSON.stringify(path.join(REPO, 'dist/src/log/logger.js'))};
    import fs from 'node:fs';
    const log = new Logger({ file: ${JSON.stringify(log)}, format: 'json', debug: false });
    log.phase('cgroup');
    try { fs.readFileSync('/nonexistent/file'); } catch (err) { reportError(err, log); }
  `;
  const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
  tt.is(r.stderr, "runt: internal error: ENOENT: no such file or directory, open '/nonexistent/file' [RUNT9001] (hint: this is a bug in runt; please report it with the command line and --debug output)\n");
  const last = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').at(-1)!);
  tt.like(last, { level: 'error', code: 'RUNT9001', errno: 'ENOENT', syscall: 'open', path: '/nonexistent/file', phase: 'cgroup' });
});

t('RUNT8xxx seccomp and LSMs: a profile for an LSM this host does not have', (tt) => {
  const env = setup(tt);
  const apparmor = (() => {
    try {
      return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
    } catch {
      return false;
    }
  })();
  const selinux = fs.existsSync('/sys/fs/selinux/enforce');
  if (apparmor && selinux) {
    tt.pass('both LSMs are enabled here: nothing to refuse');
    return;
  }
  const [what, lsm, hintTail] = !apparmor
    ? ['process.apparmorProfile', 'AppArmor', '/sys/module/apparmor/parameters/enabled is not Y']
    : ['process.selinuxLabel', 'SELinux', '/sys/fs/selinux is not mounted'];
  const b = bundle(env, (s) => {
    if (!apparmor) s.process!.apparmorProfile = 'runt-test';
    else s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
  });
  const hint = `remove ${what}, or run on a host with ${lsm} enabled (${hintTail})`;
  expectLine(tt, fail(env, ['create', '--bundle', b, uniqueId()]), `runt: ${what} is set but ${lsm} is not enabled on this host [RUNT8005] (hint: ${hint})`, {
    code: 'RUNT8005',
    field: `/${what.replace('.', '/')}`,
    hint,
  });
});
