import test from 'ava';
import { detectLayout, ownPathUnderMount, parseMountinfo, parseProcCgroup, unescapeMountinfo } from '../../../src/cgroups/layout.js';

const noControllers = (): string[] => [];

// This machine's real mountinfo/cgroup text (hybrid: v1 + /sys/fs/cgroup/unified).
const HYBRID_MOUNTINFO = `22 1 8:1 / / rw,relatime - ext4 /dev/root rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/1c76
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

test('hybrid host: v1 hierarchies, own paths and the unified mount', (t) => {
  const l = detectLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, (mp) => (mp === '/sys/fs/cgroup/unified' ? ['hugetlb'] : []));
  t.is(l.mode, 'hybrid');
  t.deepEqual(
    l.v1.map((h) => h.key),
    ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd'],
  );
  const mem = l.v1.find((h) => h.key === 'memory');
  t.is(mem?.mountpoint, '/sys/fs/cgroup/memory');
  t.is(mem?.ownPath, '/process_api/1c76');
  t.is(mem?.superOptions, 'rw,memory');
  t.is(l.v1.find((h) => h.key === 'name=systemd')?.mountpoint, '/sys/fs/cgroup/systemd');
  t.deepEqual(l.unified, { mountpoint: '/sys/fs/cgroup/unified', root: '/', ownPath: '/', controllers: ['hugetlb'] });
});

test('pure v1 host with co-mounted cpu,cpuacct and net_cls,net_prio', (t) => {
  const mi = `25 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
`;
  const pc = `5:devices:/user.slice
4:memory:/user.slice/user-0.slice
3:net_cls,net_prio:/
2:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-0.slice/session-3.scope
`;
  const l = detectLayout(mi, pc, noControllers);
  t.is(l.mode, 'v1');
  t.is(l.unified, undefined);
  const cpu = l.v1.find((h) => h.key === 'cpu,cpuacct');
  t.deepEqual(cpu?.controllers, ['cpu', 'cpuacct']);
  t.is(cpu?.ownPath, '/user.slice');
  t.is(l.v1.find((h) => h.key === 'net_cls,net_prio')?.mountpoint, '/sys/fs/cgroup/net_cls,net_prio');
  const sd = l.v1.find((h) => h.key === 'name=systemd');
  t.deepEqual(sd?.controllers, ['name=systemd']); // xattr and release_agent= are options, not controllers
  t.is(sd?.ownPath, '/user.slice/user-0.slice/session-3.scope');
});

test('pure v2 host', (t) => {
  const mi = `30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  const l = detectLayout(mi, '0::/user.slice/user-1000.slice/session-2.scope\n', () => ['cpu', 'memory', 'pids']);
  t.is(l.mode, 'v2');
  t.deepEqual(l.v1, []);
  t.deepEqual(l.unified, {
    mountpoint: '/sys/fs/cgroup',
    root: '/',
    ownPath: '/user.slice/user-1000.slice/session-2.scope',
    controllers: ['cpu', 'memory', 'pids'],
  });
});

test('v2 host with a legacy name=systemd v1 mount is still v2', (t) => {
  const mi = `30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
40 30 0:40 / /run/legacy-systemd rw - cgroup cgroup rw,name=systemd
`;
  const l = detectLayout(mi, '1:name=systemd:/\n0::/init.scope\n', noControllers);
  t.is(l.mode, 'v2');
  t.deepEqual(l.v1, []);
});

test('mount points with escaped characters (\\040) are decoded', (t) => {
  const mi = `32 31 0:29 / /tmp/my\\040cgroups/memory rw - cgroup cgroup rw,memory
33 31 0:30 / /tmp/my\\040cgroups/tab\\011x rw - cgroup2 cgroup2 rw
`;
  const l = detectLayout(mi, '1:memory:/\n0::/\n', noControllers);
  t.is(l.v1[0]?.mountpoint, '/tmp/my cgroups/memory');
  t.is(l.unified?.mountpoint, '/tmp/my cgroups/tab\tx');
  t.is(unescapeMountinfo('a\\134b\\012c'), 'a\\b\nc');
});

test('optional mountinfo fields before the separator are skipped', (t) => {
  const [e] = parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
  t.like(e, { root: '/mnt1', mountpoint: '/mnt2', fstype: 'ext3', source: '/dev/root', superOptions: 'rw,errors=continue' });
});

test('nested container without cgroupns: mount root is kept', (t) => {
  const mi = `40 30 0:33 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n`;
  const l = detectLayout(mi, '4:memory:/docker/abc/sub\n', noControllers);
  t.is(l.v1[0]?.root, '/docker/abc');
  t.is(ownPathUnderMount('/docker/abc/sub', '/docker/abc'), '/sub');
  t.is(ownPathUnderMount('/docker/abc', '/docker/abc'), '/');
  t.is(ownPathUnderMount('/x', '/'), '/x');
  t.is(ownPathUnderMount('/elsewhere', '/docker/abc'), '/elsewhere');
});

test('/proc/self/cgroup paths may contain colons', (t) => {
  t.deepEqual(parseProcCgroup('4:memory:/a:b:c\n0::/x:y\n'), [
    { id: '4', controllers: ['memory'], path: '/a:b:c' },
    { id: '0', controllers: [], path: '/x:y' },
  ]);
});

test('a bind mount of the same hierarchy is listed once', (t) => {
  const mi = `32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
50 31 0:29 / /mnt/memory rw - cgroup cgroup rw,memory
`;
  const l = detectLayout(mi, '1:memory:/\n', noControllers);
  t.is(l.v1.length, 1);
  t.is(l.v1[0]?.mountpoint, '/sys/fs/cgroup/memory');
});
