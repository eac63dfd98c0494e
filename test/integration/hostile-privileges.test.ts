// Hostile bundles, privileges carried by the image itself: device nodes in
// the rootfs (the device cgroup refuses them), setuid binaries (no effect
// with noNewPrivileges), a rootfs on a nosuid mount (no effect at all).
// Each scenario also runs under Debian's runc when it is installed, and the
// outcomes must be the same, except where noted.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { privateBundle, runcRun, type PrivateBundle } from '../helpers/hostile.js';
import { waitNoLeftovers } from '../helpers/leaks.js';
import { isRoot, setup, uniqueId, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;
const haveCc = spawnSync('cc', ['--version']).status === 0;

// major:minor of the block device under the host's / (from mountinfo)
function rootDevice(): [number, number] {
  const line = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/')!;
  const [maj, min] = line.split(' ')[2]!.split(':').map(Number);
  return [maj!, min!];
}

function both(tt: import('ava').ExecutionContext, env: Env, b: PrivateBundle): { runt: string; runc: string | undefined } {
  const id = uniqueId();
  const r = env.runt(['run', '--bundle', b.dir, id]);
  tt.is(r.status, 0, r.stderr);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
  const rc = runcRun(tt, env, b.dir, uniqueId('runc'));
  return { runt: r.stdout + r.stderr, runc: rc && rc.stdout + rc.stderr };
}

t('device nodes in the rootfs image cannot be opened: the device cgroup refuses them, as with runc', (tt) => {
  const env = setup(tt);
  const [maj, min] = rootDevice();
  const script = 'for d in /mnt/disk /mnt/mem /mnt/kmsg; do head -c 1 $d >/dev/null 2>&1 && echo "read $d"; (echo x > $d) 2>/dev/null && echo "wrote $d"; done; echo done';
  for (const withRules of [true, false]) {
    const b = privateBundle(
      env,
      (s) => {
        s.process!.args = ['sh', '-c', script];
        // with the example's "deny all" rule, and with no device rules at all
        if (!withRules) delete s.linux!.resources;
      },
      (rootfs) => {
        const mk = (name: string, type: string, a: number, b2: number): void => {
          const r = spawnSync('mknod', [path.join(rootfs, 'mnt', name), type, String(a), String(b2)]);
          if (r.status !== 0) throw new Error(`mknod ${name}`);
        };
        mk('disk', 'b', maj, min); // the host's root filesystem
        mk('mem', 'c', 1, 1);
        mk('kmsg', 'c', 1, 11);
      },
    );
    const out = both(tt, env, b);
    tt.is(out.runt, 'done\n', `device rules: ${withRules}`);
    if (out.runc !== undefined) tt.is(out.runc, out.runt, 'runc refuses them too');
  }
});

(haveCc ? t : test.skip)('a setuid-root binary gives root without noNewPrivileges and nothing with it, as with runc; nosuid on the rootfs always wins', (tt) => {
  const env = setup(tt);
  const src = path.join(env.tmp, 'euid.c');
  fs.writeFileSync(src, '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("euid=%d\\n", (int) geteuid()); return 0; }\n');
  const bin = path.join(env.tmp, 'euid');
  const cc = spawnSync('cc', ['-static', '-O2', '-o', bin, src], { encoding: 'utf8' });
  tt.is(cc.status, 0, cc.stderr);
  const plant = (rootfs: string): void => {
    fs.copyFileSync(bin, path.join(rootfs, 'bin/euid'));
    fs.chownSync(path.join(rootfs, 'bin/euid'), 0, 0);
    fs.chmodSync(path.join(rootfs, 'bin/euid'), 0o4755);
  };
  const user = (nnp: boolean, readonly = false) => (s: import('../../src/spec/types.js').Spec): void => {
    s.process!.args = ['/bin/euid'];
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.noNewPrivileges = nnp;
    s.root!.readonly = readonly;
  };
  for (const [nnp, want] of [[false, 'euid=0\n'], [true, 'euid=1000\n']] as const) {
    const out = both(tt, env, privateBundle(env, user(nnp), plant));
    tt.is(out.runt, want, `noNewPrivileges: ${nnp}`);
    if (out.runc !== undefined) tt.is(out.runc, want, `runc, noNewPrivileges: ${nnp}`);
  }

  // the rootfs on a nosuid mount
  const mnt = path.join(env.tmp, 'nosuid');
  fs.mkdirSync(mnt);
  tt.is(spawnSync('mount', ['-t', 'tmpfs', '-o', 'nosuid,size=64m,mode=755', 'tmpfs', mnt]).status, 0);
  tt.teardown(() => {
    spawnSync('umount', ['-l', mnt]);
  });
  const onNosuid = (readonly: boolean): PrivateBundle => {
    const b = privateBundle(env, user(false, readonly), plant);
    const dir = fs.mkdtempSync(path.join(mnt, 'b-'));
    fs.chmodSync(dir, 0o755);
    spawnSync('cp', ['-a', b.rootfs, b.config, dir]);
    return { dir, rootfs: path.join(dir, 'rootfs'), config: path.join(dir, 'config.json') };
  };
  const rw = both(tt, env, onNosuid(false));
  tt.is(rw.runt, 'euid=1000\n');
  if (rw.runc !== undefined) tt.is(rw.runc, 'euid=1000\n', 'runc');
  // a read-only rootfs: runt's remount keeps nosuid; Debian's runc 1.1.5
  // drops it (its MS_REMOUNT|MS_RDONLY does not carry the flags over), so
  // runc is not the reference here
  const ro = both(tt, env, onNosuid(true));
  tt.is(ro.runt, 'euid=1000\n');
  if (ro.runc !== undefined) tt.log(`runc, read-only rootfs on nosuid: ${ro.runc.trim()}`);
});
