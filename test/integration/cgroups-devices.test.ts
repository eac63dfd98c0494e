// Device rules: enforced by the v1 devices controller on this host (by the
// eBPF filter on a v2 host), checked from inside the container; and the v2
// eBPF filter itself, attached to the container's directory on this host's
// cgroup2 mount, which accepts BPF_PROG_TYPE_CGROUP_DEVICE programs.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DEVICE_RULES } from '../../src/cgroups/devices.js';
import { loadCgroupManager } from '../../src/cgroups/manager.js';
import { BPF_CGROUP_DEVICE, BpfError, closeBpfFd, progGetFdById, progQuery } from '../../src/sys/bpf.js';
import type { Spec } from '../../src/spec/types.js';
import { createSleeping, isRoot, setup, uniqueId } from '../helpers/runt.js';
import { cgDir, cgDirs, isV2, layout, readCg, waitFor } from './cgroups-common.js';

const t = isRoot ? test : test.skip;

function withMknod(s: Spec): void {
  const caps = s.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
}

function attachedPrograms(dir: string): number[] {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return progQuery(fd, BPF_CGROUP_DEVICE);
  } finally {
    fs.closeSync(fd);
  }
}

function programExists(id: number): boolean {
  try {
    closeBpfFd(progGetFdById(id));
    return true;
  } catch (err) {
    if (err instanceof BpfError && err.errno === 'ENOENT') return false;
    throw err;
  }
}

t('device rules: a denied device cannot be opened from inside, an allowed one can', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  // /dev/full listed in linux.devices drops runc's default rule for it, so
  // the deny-all base denies it; a node made with mknod is denied the same;
  // /dev/zero keeps its default rule. mknod itself is allowed ("c *:* m").
  const b = env.bundle((s) => {
    withMknod(s);
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.devices = [{ path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 }];
    s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
    s.process!.args = [
      'sh',
      '-c',
      'mknod /dev/full2 c 1 7 && echo mknod=ok; head -c1 /dev/full >/dev/null 2>&1 && echo full=ok || echo full=denied; ' +
        'head -c1 /dev/full2 >/dev/null 2>&1 && echo full2=ok || echo full2=denied; head -c1 /dev/zero >/dev/null && echo zero=ok; ' +
        'head -c1 /dev/full 2>&1 >/dev/null | grep -q "not permitted" && echo eperm=yes',
    ];
  });
  const r = env.runt(['run', '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  tt.deepEqual(r.stdout.trim().split('\n'), ['mknod=ok', 'full=denied', 'full2=denied', 'zero=ok', 'eperm=yes']);
});

t('v1 device rules land in devices.list as runc writes them', (tt) => {
  if (isV2) {
    tt.pass('no devices controller on cgroup v2');
    return;
  }
  const env = setup(tt);
  const id = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        { allow: true, type: 'b', major: 7, access: 'r' },
      ],
    };
  }, id);
  const list = readCg(env, id, 'devices', 'devices.list').split('\n').sort();
  const expected = ['c 10:229 rw', 'b 7:* r', ...DEFAULT_DEVICE_RULES.map((d) => `${d.type} ${d.major < 0 ? '*' : d.major}:${d.minor < 0 ? '*' : d.minor} ${d.access}`)];
  tt.deepEqual(list, [...new Set(expected)].sort());
  // privileged style: allow all is "a *:* rwm"
  const id2 = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id2}`;
    s.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] };
  }, id2);
  tt.is(readCg(env, id2, 'devices', 'devices.list'), 'a *:* rwm');
});

t('the eBPF device filter on the container\'s cgroup2 directory: enforced, replaced, gone with the cgroup', (tt) => {
  if (!layout.unified) {
    tt.pass('no cgroup2 mount');
    return;
  }
  const env = setup(tt);
  const id = uniqueId();
  const out = fs.mkdtempSync(path.join(env.tmp, 'probe-'));
  // v1 allows everything here, so whatever is denied is the eBPF filter's doing
  const { pid } = createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] };
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'rw'] });
    s.process!.args = [
      'sh',
      '-c',
      'i=0; while :; do i=$((i+1)); f=denied; z=denied; head -c1 /dev/full >/dev/null 2>&1 && f=ok; head -c1 /dev/zero >/dev/null 2>&1 && z=ok; ' +
        'echo "$i $f $z" > /mnt/tmp; mv /mnt/tmp /mnt/res; sleep 0.05; done',
    ];
  }, id);
  tt.true(pid > 0);
  tt.is(env.runt(['start', id]).status, 0);
  const dir = cgDir(env, id, 'unified');
  const probe = (): { seq: number; full: string; zero: string } => {
    const [seq, full, zero] = (fs.existsSync(`${out}/res`) ? fs.readFileSync(`${out}/res`, 'utf8') : '0 - -').trim().split(' ');
    return { seq: Number(seq), full: full ?? '', zero: zero ?? '' };
  };
  // a fresh answer: one started after `since`
  const answer = (): { full: string; zero: string } => {
    const since = probe().seq;
    tt.true(waitFor(() => probe().seq > since + 1, 10_000), 'the probe loop runs');
    return probe();
  };
  const preexisting = attachedPrograms(dir);
  if (!isV2) tt.deepEqual(preexisting, [], 'hybrid: runt (like runc) leaves device control to v1');
  const a0 = answer();
  tt.is(a0.full, 'ok');
  tt.is(a0.zero, 'ok');

  // The v2 manager on the container's unified directory: deny-all base,
  // runc's defaults, /dev/full's default dropped (listed in linux.devices).
  const v2 = loadCgroupManager({ mode: 'v2', paths: { unified: dir }, created: [] });
  tt.deepEqual(v2.apply({ devices: [{ allow: false, access: 'rwm' }] }, { linuxDevicePaths: ['/dev/full'] }), []);
  const first = attachedPrograms(dir);
  tt.is(first.length, 1, 'one filter, the old one (if any) replaced');
  tt.false(preexisting.some((p) => first.includes(p)));
  let a = answer();
  tt.is(a.full, 'denied');
  tt.is(a.zero, 'ok');

  // Applying again replaces the program (BPF_F_REPLACE or attach + detach).
  v2.apply({ devices: [{ allow: true, access: 'rwm' }] });
  const second = attachedPrograms(dir);
  tt.is(second.length, 1);
  tt.not(second[0], first[0]);
  // the kernel frees a detached program after an RCU grace period: wait for it
  tt.true(waitFor(() => !programExists(first[0]!), 5000), 'the replaced program is freed');
  a = answer();
  tt.is(a.full, 'ok');
  v2.apply({ devices: [{ allow: false, access: 'rwm' }] }, { linuxDevicePaths: ['/dev/full'] });
  const third = attachedPrograms(dir);
  tt.is(third.length, 1);
  tt.is(answer().full, 'denied');

  // delete removes the cgroup; the kernel frees its programs with it
  const dirs = cgDirs(env, id);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
  tt.true(waitFor(() => !programExists(third[0]!), 5000), 'program freed with the cgroup');
});
