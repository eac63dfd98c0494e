// Hostile bundles, races: while containers are created, a process on the
// host swaps mount targets in the rootfs between a directory and a symlink
// to /, /tmp or far above the rootfs (renameat2(RENAME_EXCHANGE), the
// CVE-2021-30465 pattern). Whatever wins each race, the host's / and /tmp
// never get a mount or a new file: runt-init resolves every target with
// openat2(RESOLVE_IN_ROOT) and mounts on the fd it got. `make soak` runs
// many more rounds (RUNT_SOAK=1).

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { climbing, hostMountsOf, oneLine, outsideDir, privateBundle } from '../helpers/hostile.js';
import { waitNoLeftovers } from '../helpers/leaks.js';
import { REPO, isRoot, setup, uniqueId } from '../helpers/runt.js';

const haveCc = spawnSync('cc', ['--version']).status === 0;
const t = isRoot && haveCc ? test : test.skip;
const ROUNDS = process.env.RUNT_SOAK === '1' ? 300 : 12;

// The mounts of / and /tmp themselves, by mount point.
function rootMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => ['/', '/tmp'].includes(l.split(' ')[4] ?? ''))
    .map((l) => l.split(' ').slice(2).join(' '));
}

t(`a mount target flipped between a directory and a symlink while ${ROUNDS} containers are created never reaches the host`, async (tt) => {
  tt.timeout(ROUNDS * 2000 + 30_000);
  const env = setup(tt);
  const tag = uniqueId('race');
  const flip = path.join(env.tmp, 'flip');
  const cc = spawnSync('cc', ['-O2', '-o', flip, path.join(REPO, 'test/helpers/flip.c')], { encoding: 'utf8' });
  tt.is(cc.status, 0, cc.stderr);
  const outside = outsideDir(env);
  const before = outside.snapshot();
  const pairs: [string, string][] = [
    ['target', '/'],
    ['t2', '/tmp'],
    ['t3', climbing(outside.dir)],
  ];
  const b = privateBundle(
    env,
    (s) => {
      s.process!.args = ['true'];
      s.mounts!.push(
        { destination: `/mnt/target/${tag}-a`, type: 'tmpfs', source: 'tmpfs' },
        { destination: `/mnt/t2/${tag}-b`, type: 'tmpfs', source: 'tmpfs' },
        { destination: '/mnt/t3', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/mnt/target', type: 'bind', source: outside.dir, options: ['rbind', 'ro'] },
      );
    },
    (rootfs) => {
      for (const [name, link] of pairs) {
        fs.mkdirSync(path.join(rootfs, 'mnt', name));
        fs.symlinkSync(link, path.join(rootfs, 'mnt', `${name}.alt`));
      }
    },
  );
  const rootBefore = fs.readdirSync('/').filter((n) => n.includes(tag));
  const tmpBefore = fs.readdirSync('/tmp').filter((n) => n.includes(tag));
  const mountsBefore = rootMounts();

  const flipper = spawn(flip, pairs.flatMap(([name]) => [path.join(b.rootfs, 'mnt', name), path.join(b.rootfs, 'mnt', `${name}.alt`)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let swaps = '';
  flipper.stdout.on('data', (d: Buffer) => (swaps += d.toString()));
  const flipperDone = new Promise<void>((resolve) => flipper.once('exit', () => resolve()));
  const ids: string[] = [];
  let created = 0;
  const failures = new Map<string, number>();
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const id = uniqueId('race');
      ids.push(id);
      const r = env.runt(['create', '--bundle', b.dir, id]);
      if (r.status === 0) {
        created++;
        const d = env.runt(['delete', '--force', id]);
        tt.is(d.status, 0, d.stderr);
      } else {
        tt.is(r.status, 1);
        tt.true(oneLine(r.stderr), r.stderr);
        const kind = r.stderr.replace(/^runt: cannot create container "[^"]*": /, '').split(':')[0]!;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
      }
    }
  } finally {
    process.kill(flipper.pid!, 'SIGTERM');
    await flipperDone;
  }
  tt.log(`${ROUNDS} creates during ${swaps.trim()} swaps: ${created} created; failures: ${JSON.stringify(Object.fromEntries(failures))}`);
  tt.true(Number(swaps.trim()) > 0, 'the flipper ran');
  tt.deepEqual(fs.readdirSync('/').filter((n) => n.includes(tag)), rootBefore);
  tt.deepEqual(fs.readdirSync('/tmp').filter((n) => n.includes(tag)), tmpBefore);
  tt.deepEqual(rootMounts(), mountsBefore);
  tt.is(outside.snapshot(), before);
  tt.deepEqual(hostMountsOf(env, tag), []);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids }), []);
});
