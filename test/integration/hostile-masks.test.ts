// Hostile bundles, maskedPaths and readonlyPaths: entries that are symlinks
// in the image (inside the rootfs, absolute to a host path, climbing out of
// it) and a container that tries to undo them afterwards. They are applied
// after pivot_root, so a symlink resolves in the container's root: it can
// only mask or freeze something of the container itself.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { climbing, hostMountsOf, outsideDir, privateBundle, runcRun } from '../helpers/hostile.js';
import { waitNoLeftovers } from '../helpers/leaks.js';
import { isRoot, setup, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('maskedPaths and readonlyPaths that are symlinks act inside the container only, as with runc', (tt) => {
  const env = setup(tt);
  const outside = outsideDir(env);
  const before = outside.snapshot();
  const hostFile = path.join(outside.dir, 'host-marker');
  const b = privateBundle(
    env,
    (s) => {
      s.process!.args = ['sh', '-c', 'cat /etc/secret; echo x > /data/f && echo WROTE; echo end'];
      s.linux!.maskedPaths!.push('/etc/masklink', '/etc/maskabs', '/etc/maskclimb');
      s.linux!.readonlyPaths!.push('/rolink', '/roabs', '/roclimb');
    },
    (rootfs) => {
      fs.writeFileSync(path.join(rootfs, 'etc/secret'), 's3cret\n');
      fs.mkdirSync(path.join(rootfs, 'data'));
      fs.symlinkSync('/etc/secret', path.join(rootfs, 'etc/masklink'));
      fs.symlinkSync(hostFile, path.join(rootfs, 'etc/maskabs'));
      fs.symlinkSync(climbing(hostFile), path.join(rootfs, 'etc/maskclimb'));
      fs.symlinkSync('/data', path.join(rootfs, 'rolink'));
      fs.symlinkSync(outside.dir, path.join(rootfs, 'roabs'));
      fs.symlinkSync(climbing(outside.dir), path.join(rootfs, 'roclimb'));
    },
  );
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b.dir, id]);
  tt.is(r.status, 0, r.stderr);
  // the link inside the rootfs masks (and freezes) its target, as runc's
  // mount(2) through the link does; the links out of it find nothing
  tt.is(r.stdout, 'end\n');
  tt.regex(r.stderr, /can't create \/data\/f: Read-only file system/);
  tt.is(fs.readFileSync(path.join(b.rootfs, 'etc/secret'), 'utf8'), 's3cret\n');
  tt.is(outside.snapshot(), before);
  tt.deepEqual(hostMountsOf(env), []);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  if (rc) {
    tt.is(rc.stdout, r.stdout, 'runc does the same');
    tt.is(outside.snapshot(), before);
  }
});

// What a container tries in order to undo its masks: one line per success.
// Only harmless targets: kernel.hostname is per UTS namespace.
const UNDO = [
  'umount MASKED 2>/dev/null && echo umount-masked-file',
  'umount /sys/firmware 2>/dev/null && echo umount-masked-dir',
  'mount -o remount,rw /proc/sys 2>/dev/null && echo remount-readonly-rw',
  'echo undo > /proc/sys/kernel/hostname 2>/dev/null && echo write-readonly',
  'umount -l /proc/bus 2>/dev/null && echo umount-readonly',
  'true',
].join('; ');

function withSysAdmin(s: Spec): void {
  const c = s.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) c[set] = [...(c[set] ?? []), 'CAP_SYS_ADMIN'];
}

t('the container cannot unmount or remount its masks with the default capabilities; with CAP_SYS_ADMIN it can, as with runc', (tt) => {
  const env = setup(tt);
  // a masked file that exists on this kernel
  const masked = ['/proc/keys', '/proc/timer_list', '/proc/kcore', '/proc/sched_debug'].find((p) => fs.existsSync(p));
  tt.truthy(masked);
  const script = UNDO.replace('MASKED', masked!);
  const run = (mutate?: (s: Spec) => void): { runt: string; runc: string | undefined } => {
    const b = privateBundle(env, (s) => {
      s.process!.args = ['sh', '-c', script];
      mutate?.(s);
    });
    const r = env.runt(['run', '--bundle', b.dir, uniqueId()]);
    tt.is(r.status, 0, r.stderr);
    return { runt: r.stdout, runc: runcRun(tt, env, b.dir, uniqueId('runc'))?.stdout };
  };
  const plain = run();
  tt.is(plain.runt, '', 'nothing can be undone');
  if (plain.runc !== undefined) tt.is(plain.runc, plain.runt);
  // CAP_SYS_ADMIN in the host's user namespace is a privileged container:
  // neither runtime can keep such a container from undoing its mounts
  const admin = run(withSysAdmin);
  tt.regex(admin.runt, /umount-masked-file/);
  tt.regex(admin.runt, /remount-readonly-rw/);
  if (admin.runc !== undefined) tt.is(admin.runc, admin.runt);
  tt.deepEqual(hostMountsOf(env), []);
});
