import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatherHostFacts } from '../../../src/diagnostics/host-facts.js';
import { hostChecks, resolveInRoot } from '../../../src/diagnostics/host-checks.js';
import { hostFeatures } from '../../../src/diagnostics/host-features.js';
import { hostReader, kernelVersion } from '../../../src/diagnostics/host-reader.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';
import type { Spec } from '../../../src/spec/types.js';
import { V2_HOST, fakeHost } from './_fake-host.js';

const probe = () => ({ openat2: 'available', clone3: 'blocked', pidfd_open: 'available', open_tree: 'available', mount_setattr: 'missing' }) as const;

test('kernel versions', (t) => {
  t.deepEqual(kernelVersion('6.1.0-18-amd64'), [6, 1, 0]);
  t.deepEqual(kernelVersion('5.4'), [5, 4, 0]);
  t.deepEqual(kernelVersion('weird'), [0, 0, 0]);
});

test('host facts from /proc and /sys: namespaces, cgroup v2 delegation, seccomp, LSMs', (t) => {
  const { reader } = fakeHost(t, V2_HOST);
  const f = gatherHostFacts(reader, probe);
  t.false(f.namespaces.time);
  t.true(f.namespaces.mount);
  t.is(f.userns.max, 0);
  t.false(f.userns.inside);
  t.is(f.cgroup.mode, 'v2');
  t.deepEqual(f.cgroup.unified?.controllers, ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  t.is(f.cgroup.unified?.parent, '/sys/fs/cgroup/user.slice');
  t.deepEqual(f.cgroup.unified?.parentControllers, ['memory', 'pids']);
  t.true(f.seccomp.kernel && f.seccomp.filter);
  t.false(f.seccomp.actions.includes('log'));
  t.true(f.lsm.apparmor);
  t.false(f.lsm.selinux);
  const host = hostFeatures(f) as { namespaces: string[]; seccomp: { actions: string[] }; clone3: { enabled: boolean }; idmappedMounts: { enabled: boolean } };
  t.false(host.namespaces.includes('time'));
  t.true(host.seccomp.actions.includes('SCMP_ACT_ERRNO'));
  t.false(host.seccomp.actions.includes('SCMP_ACT_LOG'));
  t.false(host.clone3.enabled);
  t.false(host.idmappedMounts.enabled);
});

function checks(t: ExecutionContext, mut: (s: Spec) => void, rootfs?: string) {
  const { reader } = fakeHost(t, V2_HOST);
  const s = defaultSpec({ rootless: false, cgroup2: true });
  mut(s);
  return hostChecks(s, gatherHostFacts(reader, probe), reader, '/bundle', rootfs);
}

test('namespaces the kernel lacks or disables are errors naming the field', (t) => {
  const d = checks(t, (s) => s.linux!.namespaces!.push({ type: 'time' }, { type: 'user' }));
  const time = d.find((x) => /no time namespaces/.test(x.message));
  t.is(time?.severity, 'error');
  t.is(time?.code, 'RUNT2018');
  t.regex(time?.field ?? '', /^\/linux\/namespaces\/\d+\/type$/);
  t.truthy(d.find((x) => /user namespaces are disabled/.test(x.message) && x.hint?.includes('max_user_namespaces')));
});

test('cgroup v2 controllers: offered and delegated, or an error saying which', (t) => {
  const d = checks(t, (s) => {
    s.linux!.resources = { memory: { limit: 1 << 20 }, cpu: { shares: 512 }, blockIO: { weight: 100 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }] };
  });
  t.falsy(d.find((x) => x.field === '/linux/resources/memory'));
  t.regex(d.find((x) => x.field === '/linux/resources/cpu')!.message, /cpu controller, which is not delegated to \/sys\/fs\/cgroup\/user.slice/);
  t.regex(d.find((x) => x.field === '/linux/resources/blockIO')!.message, /io controller/);
  t.regex(d.find((x) => x.field === '/linux/resources/hugepageLimits')!.message, /hugetlb cgroup v2 controller, which this kernel does not offer/);
});

test('seccomp: unavailable actions, foreign architectures, flags too new for the kernel', (t) => {
  const d = checks(t, (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_LOG',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }],
    } as never;
  });
  t.is(d.find((x) => x.field === '/linux/seccomp/defaultAction')?.severity, 'error');
  t.is(d.find((x) => x.field === '/linux/seccomp/syscalls/0/action')?.severity, 'error');
  t.is(d.find((x) => x.field === '/linux/seccomp/architectures/1')?.severity, 'warning');
  t.falsy(d.find((x) => x.field === '/linux/seccomp/architectures/0'));
  t.regex(d.find((x) => x.field === '/linux/seccomp/flags/0')!.message, /needs Linux 5.19/);
});

test('LSMs: a label for an LSM the host lacks is an error; an enabled one is fine', (t) => {
  const d = checks(t, (s) => {
    s.process!.apparmorProfile = 'runt-default';
    s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
  });
  t.falsy(d.find((x) => x.field === '/process/apparmorProfile'));
  t.regex(d.find((x) => x.field === '/process/selinuxLabel')!.message, /SELinux is not enabled/);
});

test('idmapped mounts need mount_setattr', (t) => {
  const n = defaultSpec({ rootless: false, cgroup2: true }).mounts!.length;
  const d = checks(t, (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv', options: ['bind', 'idmap'] }));
  t.regex(d.find((x) => x.field === `/mounts/${n}`)!.message, /mount_setattr\(2\), which is missing/);
});

test('hooks and the program are looked up where they will run', (t) => {
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-rootfs-'));
  t.teardown(() => fs.rmSync(rootfs, { recursive: true, force: true }));
  fs.mkdirSync(path.join(rootfs, 'bin'));
  fs.writeFileSync(path.join(rootfs, 'bin/busybox'), '', { mode: 0o755 });
  fs.symlinkSync('/bin/busybox', path.join(rootfs, 'bin/sh'));
  const ok = checks(t, (s) => (s.process!.args = ['sh']), rootfs);
  t.falsy(ok.find((x) => x.field === '/process/args/0'));
  const missing = checks(t, (s) => {
    s.process!.args = ['nosuch'];
    s.hooks = { prestart: [{ path: '/nonexistent/hook' }], startContainer: [{ path: '/bin/sh' }] };
  }, rootfs);
  const prog = missing.find((x) => x.field === '/process/args/0')!;
  t.is(prog.severity, 'warning');
  t.regex(prog.message, /nosuch in PATH .* was not found in the rootfs/);
  t.is(missing.find((x) => x.field === '/hooks/prestart/0/path')?.severity, 'error');
  // startContainer hooks are found inside the rootfs (sh -> /bin/busybox there)
  t.falsy(missing.find((x) => x.field === '/hooks/startContainer/0/path'));
});

test('resolveInRoot follows symlinks but never leaves the root', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-inroot-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'x');
  fs.symlinkSync('/../../../etc', path.join(root, 'up'));
  fs.symlinkSync('../../..', path.join(root, 'rel'));
  const h = hostReader();
  t.is(resolveInRoot(h, root, '/up/passwd'), path.join(root, 'etc/passwd'));
  t.is(resolveInRoot(h, root, '/rel/etc/passwd'), path.join(root, 'etc/passwd'));
  t.is(resolveInRoot(h, root, '/nope'), undefined);
});
