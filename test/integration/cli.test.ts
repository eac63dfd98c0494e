// The command line as tools drive it: spec, features, --log/--log-format,
// the Node fallback, and the less common create flags.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readHostLayout } from '../../src/cgroups/layout.js';
import { checkConfigSchema, checkFeaturesSchema } from '../../src/spec/schema.js';
import { REPO, RUNT, createSleeping, isGone, isRoot, runContainer, setup, sh, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('spec writes runc\'s default config, valid against the schema; --rootless adds a user namespace', async (tt) => {
  const env = setup(tt);
  const dir = fs.mkdtempSync(path.join(env.tmp, 'spec-'));
  tt.is(env.runt(['spec', '--bundle', dir]).status, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  tt.is(spec.ociVersion, '1.3.0');
  tt.deepEqual(spec.process.args, ['sh']);
  tt.is(spec.root.path, 'rootfs');
  tt.deepEqual(await checkConfigSchema(spec), []);
  const again = env.runt(['spec', '--bundle', dir]);
  tt.is(again.status, 1);
  tt.regex(again.stderr, /already exists/);

  const rl = fs.mkdtempSync(path.join(env.tmp, 'spec-rootless-'));
  tt.is(env.runt(['spec', '--rootless', '--bundle', rl]).status, 0);
  const rspec = JSON.parse(fs.readFileSync(path.join(rl, 'config.json'), 'utf8'));
  tt.true(rspec.linux.namespaces.some((n: { type: string }) => n.type === 'user'));
  tt.is(rspec.linux.uidMappings[0].containerID, 0);
  tt.deepEqual(await checkConfigSchema(rspec), []);
});

t('features is valid against the features schema and lists what works', async (tt) => {
  const env = setup(tt);
  const r = env.runt(['features']);
  tt.is(r.status, 0);
  const f = JSON.parse(r.stdout);
  tt.deepEqual(await checkFeaturesSchema(f), []);
  tt.deepEqual([...f.linux.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  tt.true(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  tt.true(f.mountOptions.includes('rbind'));
  tt.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
});

t('--log-format json: the last line of the log is the error, with its code and fields', (tt) => {
  const env = setup(tt);
  const log = path.join(env.tmp, 'log.json');
  const b = env.bundle((s) => (s.process!.args = ['/missing/program']));
  const r = env.runt(['--log', log, '--log-format', 'json', 'create', '--bundle', b, uniqueId()]);
  tt.is(r.status, 1);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.at(-1)!;
  tt.is(last.level, 'error');
  tt.regex(last.msg, /\/missing\/program/);
  tt.is(last.code, 'RUNT4003');
  tt.is(last.errno, 'ENOENT');
  tt.is(last.phase, 'exec');
  tt.truthy(Date.parse(last.time));
  // stderr still gets the one-line message
  tt.regex(r.stderr, /^runt: .*\/missing\/program.*\[RUNT4003\]/);
});

t('unknown command and flag: clear errors, non-zero exit', (tt) => {
  const env = setup(tt);
  const a = env.runt(['frobnicate']);
  tt.is(a.status, 1);
  tt.regex(a.stderr, /unknown command "frobnicate"/);
  const b = env.runt(['create', '--bogus', 'x']);
  tt.is(b.status, 1);
  tt.regex(b.stderr, /unknown flag --bogus of create/);
  tt.is(env.runt(['--help']).status, 0);
  tt.regex(env.runt(['create', '--help']).stdout, /--console-socket/);
});

t('the CLI also runs on Node', (tt) => {
  const env = setup(tt);
  const b = env.bundle(sh('echo on node'));
  const r = spawnSync('node', [path.join(REPO, 'dist/src/cli/main.js'), '--root', env.root, 'run', '--bundle', b, uniqueId()], { encoding: 'utf8' });
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'on node\n');
  tt.not(RUNT, '');
});

t('kill --all signals every process in the container', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => {
    s.process!.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
  });
  tt.is(env.runt(['start', id]).status, 0);
  tt.is(env.runt(['kill', '--all', id, 'KILL']).status, 0);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  tt.true(isGone(pid));
});

t('a failing create removes its cgroup and state', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const cgPath = `/runt-test/${id}`;
  const b = env.bundle((s) => {
    s.linux!.cgroupsPath = cgPath;
    s.process!.args = ['/missing'];
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 1);
  const layout = readHostLayout();
  for (const h of layout.v1) tt.false(fs.existsSync(`${h.mountpoint}${cgPath}`), h.key);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('a failing poststart hook fails start and kills the container', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env, (s) => (s.hooks = { poststart: [{ path: '/bin/false' }] }));
  const r = env.runt(['start', id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /poststart hook \/bin\/false exited with status 1/);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  tt.true(isGone(pid) || stateOf(env, id).status === 'stopped');
});

t('a new session keyring unless --no-new-keyring', (tt) => {
  const env = setup(tt);
  const show = (id: string) => (s: import('../../src/spec/types.js').Spec): void => {
    s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
    sh(`grep -c "_ses.${id}" /proc/keys || true`)(s);
  };
  const id = uniqueId();
  const withRing = env.runt(['run', '--bundle', env.bundle(show(id)), id]);
  tt.is(withRing.status, 0, withRing.stderr);
  tt.is(withRing.stdout.trim(), '1');
  const id2 = uniqueId();
  const without = env.runt(['run', '--no-new-keyring', '--bundle', env.bundle(show(id2)), id2]);
  tt.is(without.status, 0, without.stderr);
  tt.is(without.stdout.trim(), '0');
});

t('joining an existing user namespace by path', (tt) => {
  const env = setup(tt);
  const owner = createSleeping(env, (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const r = runContainer(env, (s) => {
    s.linux!.namespaces!.push({ type: 'user', path: `/proc/${owner.pid}/ns/user` });
    sh('cat /proc/self/uid_map')(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^\s*0\s+100000\s+65536\s*$/);
});

t('idmapped bind mount: files owned by host root appear as the container root', (tt) => {
  const env = setup(tt);
  const dir = fs.mkdtempSync(path.join(env.tmp, 'idmap-'));
  fs.writeFileSync(path.join(dir, 'f'), 'x');
  fs.chmodSync(dir, 0o755);
  const r = runContainer(env, (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // targets on a tmpfs: the shared rootfs belongs to host root, unmapped here
    s.mounts!.push(
      { destination: '/mnt', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/mnt/plain', type: 'bind', source: dir, options: ['bind'] },
      { destination: '/mnt/mapped', type: 'bind', source: dir, options: ['bind', 'idmap'] },
    );
    sh('stat -c %u /mnt/plain/f /mnt/mapped/f')(s);
  });
  tt.is(r.status, 0, r.stderr);
  // unmapped host root shows as the overflow uid; through the idmapped mount it is 0
  tt.is(r.stdout, '65534\n0\n');
});

t('sysfs in a user namespace without its own network namespace is bind mounted', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    sh('ls /sys/kernel >/dev/null && echo sys-ok')(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'sys-ok\n');
});

t('--systemd-cgroup fails clearly where systemd is not the init, leaving nothing', (tt) => {
  if (fs.existsSync('/run/systemd/system')) return tt.pass('systemd runs here: see systemd-*.test.ts');
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => (s.linux!.cgroupsPath = 'system.slice:runt:' + id));
  const r = env.runt(['--systemd-cgroup', 'create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /systemd/);
  tt.regex(r.stderr, /RUNT5009/);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

// The executable is Bun: by default Bun reads bunfig.toml (whose `preload`
// runs code) and .env from the current directory. A runtime run as root from
// wherever an engine or a user happens to be must read neither.
t('a bunfig.toml or .env in the caller\'s directory is ignored (no preload, no environment)', (tt) => {
  const env = setup(tt);
  const dir = fs.mkdtempSync(path.join(env.tmp, 'cwd-'));
  const marker = path.join(dir, 'preloaded');
  fs.writeFileSync(path.join(dir, 'p.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); console.log('PRELOADED');\n`);
  fs.writeFileSync(path.join(dir, 'bunfig.toml'), 'preload = ["./p.js"]\n');
  fs.writeFileSync(path.join(dir, '.env'), 'RUNT_TRACE=1\nRUNT_INIT=/nonexistent\n');
  const r = spawnSync(RUNT, ['--root', env.root, 'list'], { cwd: dir, encoding: 'utf8' });
  tt.is(r.status, 0, r.stderr);
  tt.notRegex(r.stdout + r.stderr, /PRELOADED|"phase"/);
  tt.false(fs.existsSync(marker));
});
