// Hostile bundles, mounts: symlinks and ".." in mount destinations and
// sources, a symlinked /proc, /sys or /dev, a symlinked rootfs. Whatever the
// image plants, nothing is mounted, created or chowned outside the rootfs:
// every rootfs path is resolved with openat2(RESOLVE_IN_ROOT) in runt-init.
// Each test uses a private copy of the rootfs and, where Debian's runc is
// installed, runs the same bundle with it to confirm the expectation.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { climbing, hostMountsOf, oneLine, outsideDir, privateBundle, runcRun } from '../helpers/hostile.js';
import { waitNoLeftovers } from '../helpers/leaks.js';
import { isRoot, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('mount destinations through symlinks out of the rootfs, and "..", land inside it', (tt) => {
  const env = setup(tt);
  const tag = uniqueId('hm');
  const outside = outsideDir(env);
  const src = outsideDir(env, 'bind-source');
  const before = outside.snapshot();
  const b = privateBundle(
    env,
    (s) => {
      s.process!.args = ['sh', '-c', 'cat /proc/self/mountinfo; ls /mnt/rel/sub'];
      s.mounts!.push(
        // an absolute symlink to a host directory (that exists in the rootfs too)
        { destination: '/mnt/abs', type: 'tmpfs', source: 'tmpfs' },
        // a relative symlink climbing far above the rootfs
        { destination: '/mnt/rel/sub', type: 'bind', source: src.dir, options: ['rbind', 'ro'] },
        // a symlink to /, and a new directory below it
        { destination: `/mnt/root/${tag}-root`, type: 'tmpfs', source: 'tmpfs' },
        // ".." components
        { destination: `/../../../../tmp/${tag}-dotdot`, type: 'tmpfs', source: 'tmpfs' },
      );
    },
    (rootfs) => {
      fs.mkdirSync(path.join(rootfs, outside.dir), { recursive: true });
      fs.symlinkSync(outside.dir, path.join(rootfs, 'mnt/abs'));
      fs.symlinkSync(climbing(outside.dir), path.join(rootfs, 'mnt/rel'));
      fs.symlinkSync('/', path.join(rootfs, 'mnt/root'));
    },
  );
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b.dir, id]);
  tt.is(r.status, 0, r.stderr);
  const points = r.stdout.split('\n').map((l) => l.split(' ')[4]);
  tt.true(points.includes(outside.dir), 'the tmpfs is on the rootfs copy of the host path');
  tt.true(points.includes(`${outside.dir}/sub`));
  tt.true(points.includes(`/${tag}-root`));
  tt.true(points.includes(`/tmp/${tag}-dotdot`));
  tt.regex(r.stdout, /host-marker/);
  // created inside the copy, never on the host
  tt.true(fs.existsSync(path.join(b.rootfs, `${tag}-root`)));
  tt.true(fs.existsSync(path.join(b.rootfs, 'tmp', `${tag}-dotdot`)));
  tt.false(fs.existsSync(`/${tag}-root`));
  tt.false(fs.existsSync(`/tmp/${tag}-dotdot`));
  tt.is(outside.snapshot(), before);
  tt.deepEqual(hostMountsOf(env, tag), []);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);

  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  if (rc) {
    tt.is(rc.status, 0, rc.stderr);
    tt.regex(rc.stdout, new RegExp(` /${tag}-root `));
    tt.is(outside.snapshot(), before, 'runc does not touch it either');
  }
});

t('a dangling absolute symlink as a mount destination is refused; nothing appears on the host', (tt) => {
  const env = setup(tt);
  const outside = outsideDir(env);
  const before = outside.snapshot();
  const b = privateBundle(
    env,
    (s) => s.mounts!.push({ destination: '/mnt/dangling/deeper', type: 'tmpfs', source: 'tmpfs' }),
    (rootfs) => fs.symlinkSync(outside.dir, path.join(rootfs, 'mnt/dangling')),
  );
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b.dir, id]);
  // runc creates the missing target inside the rootfs (securejoin MkdirAll);
  // runt refuses to create through a dangling symlink: both stay inside
  tt.is(r.status, 1);
  tt.true(oneLine(r.stderr), r.stderr);
  tt.regex(r.stderr, /resolve mnt\/dangling inside the rootfs \(a dangling symlink on the way\?\): openat2: ENOENT/);
  tt.is(outside.snapshot(), before);
  tt.false(fs.existsSync(path.join(outside.dir, 'deeper')));
  tt.deepEqual(hostMountsOf(env), []);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  if (rc) tt.is(outside.snapshot(), before, 'runc stays inside too');
});

t('a bind source that is a symlink is resolved on the host, as runc does; nothing is mounted on the host', (tt) => {
  const env = setup(tt);
  const src = outsideDir(env, 'bind-source');
  const b = privateBundle(
    env,
    (s) => {
      s.process!.args = ['ls', '/mnt/src'];
      // a bind source is a host path chosen by the config's author
      s.mounts!.push({ destination: '/mnt/src', type: 'bind', source: 'rootfs/srclink', options: ['rbind', 'ro'] });
    },
    (rootfs) => fs.symlinkSync(src.dir, path.join(rootfs, 'srclink')),
  );
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b.dir, id]);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'host-marker\n');
  tt.deepEqual(hostMountsOf(env), []);
  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  if (rc) tt.is(rc.stdout, r.stdout, 'runc follows it the same way');
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
});

t('a symlinked /proc or /sys is refused, as runc does', (tt) => {
  const env = setup(tt);
  const outside = outsideDir(env);
  const before = outside.snapshot();
  const cases: [string, string][] = [
    ['proc', '/mnt/data'], // inside the rootfs
    ['proc', outside.dir], // out of it (dangling inside)
    ['proc', climbing(outside.dir)],
    ['sys', '/mnt/data'],
  ];
  for (const [dir, target] of cases) {
    const b = privateBundle(env, undefined, (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'mnt/data'), { recursive: true });
      fs.rmSync(path.join(rootfs, dir), { recursive: true });
      fs.symlinkSync(target, path.join(rootfs, dir));
    });
    const id = uniqueId();
    const r = env.runt(['run', '--bundle', b.dir, id]);
    tt.is(r.status, 1, `/${dir} -> ${target}`);
    tt.true(oneLine(r.stderr), r.stderr);
    // a dangling one fails earlier, when it is resolved inside the rootfs
    tt.regex(r.stderr, new RegExp(`filesystem (proc|sysfs) must be mounted on an ordinary directory; /${dir} is a symlink|resolve mount destination /${dir} inside the rootfs`));
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
    const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
    if (rc) {
      tt.is(rc.status, 1, `runc: /${dir} -> ${target}`);
      tt.regex(rc.stderr, /must be mounted on ordinary directory/);
    }
  }
  tt.is(outside.snapshot(), before);
  tt.deepEqual(hostMountsOf(env), []);
});

t('a symlinked /dev: its tmpfs, devices and links stay inside the rootfs', (tt) => {
  const env = setup(tt);
  const outside = outsideDir(env);
  const before = outside.snapshot();
  const devices = [{ path: '/dev/hostile', type: 'c' as const, major: 1, minor: 3, uid: 4242, gid: 4242, fileMode: 0o666 }];

  // /dev -> /devreal inside the rootfs: everything lands in /devreal
  const inside = privateBundle(
    env,
    (s) => {
      s.process!.args = ['sh', '-c', 'ls -n /devreal/hostile; ls /devreal | tr "\\n" " "; grep -c " /devreal" /proc/self/mountinfo'];
      s.linux!.devices = devices;
    },
    (rootfs) => {
      fs.rmSync(path.join(rootfs, 'dev'), { recursive: true });
      fs.mkdirSync(path.join(rootfs, 'devreal'));
      fs.symlinkSync('/devreal', path.join(rootfs, 'dev'));
    },
  );
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', inside.dir, id]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^crw-rw-rw-\s+1 4242\s+4242\s+1,\s+3 .*\/devreal\/hostile$/m);
  tt.regex(r.stdout, /\bnull\b.*\bptmx\b/);
  tt.deepEqual(fs.readdirSync(path.join(inside.rootfs, 'devreal')), [], 'the tmpfs was in the container only');

  // /dev -> a host directory (absolute, and climbing): refused, the host untouched
  for (const target of [outside.dir, climbing(outside.dir)]) {
    const out = privateBundle(
      env,
      (s) => (s.linux!.devices = devices),
      (rootfs) => {
        fs.rmSync(path.join(rootfs, 'dev'), { recursive: true });
        fs.symlinkSync(target, path.join(rootfs, 'dev'));
      },
    );
    const id2 = uniqueId();
    const r2 = env.runt(['run', '--bundle', out.dir, id2]);
    tt.is(r2.status, 1, target);
    tt.true(oneLine(r2.stderr), r2.stderr);
    tt.regex(r2.stderr, /resolve mount destination \/dev inside the rootfs/);
    tt.is(outside.snapshot(), before, target);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id2] }), []);
    if (target === outside.dir) {
      // Debian's runc 1.1.5 creates /dev/fd, /dev/ptmx, /dev/stdin... links
      // in the host directory here (they go through the symlink before
      // pivot_root): report it, the runt expectation does not depend on it
      const rc = runcRun(tt, env, out.dir, uniqueId('runc'));
      if (rc) tt.log(`runc with /dev -> ${target}: exit ${rc.status}; host directory now: ${fs.readdirSync(outside.dir).join(' ')}`);
      fs.rmSync(outside.dir, { recursive: true });
      fs.mkdirSync(outside.dir, { mode: 0o755 });
      fs.writeFileSync(path.join(outside.dir, 'host-marker'), 'host\n', { mode: 0o644 });
    }
  }
  tt.deepEqual(hostMountsOf(env), []);
});

t('devices, mount targets, cwd and /etc/passwd through absolute symlinks never reach the host', (tt) => {
  const env = setup(tt);
  const outside = outsideDir(env);
  fs.writeFileSync(path.join(outside.dir, 'passwd'), 'user:x:1000:1000::/HOST-HOME:/bin/sh\n');
  const before = outside.snapshot();
  const plant = (rootfs: string): void => {
    fs.symlinkSync(outside.dir, path.join(rootfs, 'link'));
    fs.symlinkSync(climbing(outside.dir), path.join(rootfs, 'climb'));
  };
  const attempts: [string, (s: import('../../src/spec/types.js').Spec) => void][] = [
    ['a device node through a symlink', (s) => (s.linux!.devices = [{ path: '/link/node', type: 'c', major: 1, minor: 3, uid: 4242, gid: 4242 }])],
    ['a device node through a climbing symlink', (s) => (s.linux!.devices = [{ path: '/climb/node', type: 'b', major: 7, minor: 0, uid: 4242, gid: 4242 }])],
    ['mount targets created through a symlink', (s) => s.mounts!.push({ destination: '/link/a/b/c', type: 'tmpfs', source: 'tmpfs' })],
    ['a device replacing a host file', (s) => (s.linux!.devices = [{ path: '/link/host-marker', type: 'c', major: 1, minor: 3, uid: 4242, gid: 4242 }])],
    ['a cwd through a symlink', (s) => (s.process!.cwd = '/link')],
  ];
  for (const [what, mutate] of attempts) {
    const b = privateBundle(env, mutate, plant);
    const id = uniqueId();
    const r = env.runt(['run', '--bundle', b.dir, id]);
    // each either fails cleanly or lands inside the copy
    if (r.status !== 0) tt.true(oneLine(r.stderr), `${what}: ${r.stderr}`);
    tt.is(outside.snapshot(), before, what);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), [], what);
  }
  // HOME comes from the container's /etc/passwd, never the host file it links to
  const pw = privateBundle(
    env,
    (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.args = ['sh', '-c', 'echo "$HOME"'];
    },
    (rootfs) => {
      fs.rmSync(path.join(rootfs, 'etc/passwd'));
      fs.symlinkSync(path.join(outside.dir, 'passwd'), path.join(rootfs, 'etc/passwd'));
    },
  );
  const r = env.runt(['run', '--bundle', pw.dir, uniqueId()]);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, '/\n');
  tt.is(outside.snapshot(), before);
  tt.deepEqual(hostMountsOf(env), []);
});

t('a rootfs that is a symlink is refused, as runc does', (tt) => {
  const env = setup(tt);
  const b = privateBundle(env, (s) => (s.root = { path: 'rootlink' }));
  fs.symlinkSync('rootfs', path.join(b.dir, 'rootlink'));
  const id = uniqueId();
  const r = env.runt(['create', '--bundle', b.dir, id]);
  tt.is(r.status, 1);
  tt.is(
    r.stderr,
    `runt: rootfs ${b.dir}/rootlink is a symlink or is reached through one (it resolves to ${b.rootfs}); runt refuses it, as runc does [RUNT2005] (hint: set root.path to the resolved path ${b.rootfs})\n`,
  );
  tt.false(fs.existsSync(path.join(env.root, id)));
  // the same through a symlinked directory on the way, and to the host's /
  const via = privateBundle(env, (s) => (s.root = { path: 'via/rootfs' }));
  fs.symlinkSync('.', path.join(via.dir, 'via'));
  tt.regex(env.runt(['create', '--bundle', via.dir, uniqueId()]).stderr, /is a symlink or is reached through one/);
  const toHost = privateBundle(env, (s) => (s.root = { path: 'hostroot' }));
  fs.symlinkSync('/', path.join(toHost.dir, 'hostroot'));
  tt.regex(env.runt(['create', '--bundle', toHost.dir, uniqueId()]).stderr, /resolves to \/\)/);
  // a symlink above the bundle does not count (runc works in the resolved bundle)
  const linkedBundle = path.join(env.tmp, 'bundle-link');
  fs.symlinkSync(privateBundle(env).dir, linkedBundle);
  const id2 = uniqueId();
  const r2 = env.runt(['create', '--bundle', linkedBundle, id2]);
  tt.is(r2.status, 0, r2.stderr);
  tt.is(env.runt(['delete', '--force', id2]).status, 0);
  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  if (rc) {
    tt.is(rc.status, 1);
    tt.regex(rc.stderr, /not an absolute path, or a symlink/);
  }
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id, id2] }), []);
});
