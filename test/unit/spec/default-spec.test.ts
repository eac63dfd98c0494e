// The default spec must match runc's `runc spec` (libcontainer/specconv/
// example.go) apart from ociVersion, and must pass the schema.

import test from 'ava';
import { defaultSpec, SPEC_VERSION } from '../../../src/spec/default-spec.js';
import { checkConfigSchema } from '../../../src/spec/schema.js';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

for (const rootless of [false, true]) {
  for (const cgroup2 of [false, true]) {
    test(`rootless=${rootless} cgroup2=${cgroup2}: passes the config schema`, async (t) => {
      t.deepEqual(await checkConfigSchema(defaultSpec({ rootless, cgroup2, euid: 1000, egid: 1000 })), []);
    });
  }
}

test('default spec: main fields as runc writes them', (t) => {
  const s = defaultSpec({ rootless: false, cgroup2: false });
  t.is(s.ociVersion, SPEC_VERSION);
  t.is(SPEC_VERSION, '1.3.0');
  t.deepEqual(Object.keys(s), ['ociVersion', 'process', 'root', 'hostname', 'mounts', 'linux']);
  t.deepEqual(s.process, {
    terminal: true,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  });
  t.deepEqual(Object.keys(s.process!), [
    'terminal', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges',
  ]);
  t.deepEqual(Object.keys(s.process!.capabilities!), ['bounding', 'effective', 'permitted']);
  t.deepEqual(Object.keys(s.process!.rlimits![0]!), ['type', 'hard', 'soft']);
  t.deepEqual(s.root, { path: 'rootfs', readonly: true });
  t.is(s.hostname, 'runc');
  t.deepEqual(
    s.mounts!.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
  );
  t.deepEqual(s.mounts![0], { destination: '/proc', type: 'proc', source: 'proc' });
  t.deepEqual(Object.keys(s.mounts![1]!), ['destination', 'type', 'source', 'options']);
  t.deepEqual(s.mounts![2]!.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  t.deepEqual(Object.keys(s.linux!), ['resources', 'namespaces', 'maskedPaths', 'readonlyPaths']);
  t.deepEqual(s.linux!.resources, { devices: [{ allow: false, access: 'rwm' }] });
  t.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  t.is(s.linux!.maskedPaths!.length, 11);
  t.is(s.linux!.maskedPaths![10], '/sys/devices/virtual/tpm');
  t.deepEqual(s.linux!.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
});

test('cgroup v2 host: a cgroup namespace is added last', (t) => {
  const s = defaultSpec({ rootless: false, cgroup2: true });
  t.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
});

test('rootless: ToRootless() changes', (t) => {
  const s = defaultSpec({ rootless: true, cgroup2: true, euid: 1234, egid: 5678 });
  t.deepEqual(Object.keys(s.linux!), ['uidMappings', 'gidMappings', 'namespaces', 'maskedPaths', 'readonlyPaths']);
  t.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 1234, size: 1 }]);
  t.deepEqual(s.linux!.gidMappings, [{ containerID: 0, hostID: 5678, size: 1 }]);
  t.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
  t.is(s.linux!.resources, undefined);
  const byDest = new Map(s.mounts!.map((m) => [m.destination, m]));
  t.deepEqual(byDest.get('/sys'), {
    destination: '/sys',
    type: 'none',
    source: '/sys',
    options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
  });
  t.deepEqual(byDest.get('/dev/pts')!.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
  t.deepEqual(byDest.get('/proc'), { destination: '/proc', type: 'proc', source: 'proc' });
  t.deepEqual(
    s.mounts!.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
  );
});

test('rootless: defaults to the effective ids', (t) => {
  const s = defaultSpec({ rootless: true, cgroup2: false });
  t.is(s.linux!.uidMappings![0]!.hostID, process.geteuid!());
  t.is(s.linux!.gidMappings![0]!.hostID, process.getegid!());
});

test('each call returns a fresh object', (t) => {
  const a = defaultSpec({ rootless: false, cgroup2: false });
  a.process!.args!.push('x');
  a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  const b = defaultSpec({ rootless: false, cgroup2: false });
  t.deepEqual(b.process!.args, ['sh']);
  t.is(b.process!.capabilities!.bounding!.length, 3);
});

test('tab-indented JSON has runc layout', (t) => {
  const text = JSON.stringify(defaultSpec({ rootless: false, cgroup2: false }), null, '\t');
  t.true(text.startsWith('{\n\t"ociVersion": "1.3.0",\n\t"process": {\n\t\t"terminal": true,\n\t\t"user": {\n\t\t\t"uid": 0,\n\t\t\t"gid": 0\n\t\t},'));
  t.true(text.endsWith('\t\t\t"/proc/sysrq-trigger"\n\t\t]\n\t}\n}'));
});
