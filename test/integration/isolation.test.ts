// What create applies, checked from outside (/proc of the init) and from
// inside (busybox in the container).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { createSleeping, isRoot, mountinfo, nsInode, procStatus, runContainer, setup, sh, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

const ALL_NS = ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'] as const;
const PROC_NS: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', user: 'user', time: 'time' };

t('every namespace type is new (inodes differ from the host)', (tt) => {
  const env = setup(tt);
  const { pid } = createSleeping(env, (s) => {
    s.linux!.namespaces = ALL_NS.map((type) => ({ type }));
  });
  for (const type of ALL_NS) {
    // a new pid namespace applies to the init itself; compare pid_for_children of stage0 is not needed
    tt.not(nsInode(pid, PROC_NS[type]!), nsInode('self', PROC_NS[type]!), type);
  }
});

// The native stage makes a new network namespace ahead of the clone
// (runt-init.c, prenet_start); the init must end up in it before anything
// looks: its own, one per container, what its sysfs shows and where its
// sysctls land.
t('a new network namespace made ahead is the init\'s own from the start', (tt) => {
  const env = setup(tt);
  const a = createSleeping(env);
  const b = createSleeping(env);
  tt.not(nsInode(a.pid, 'net'), nsInode('self', 'net'));
  tt.not(nsInode(a.pid, 'net'), nsInode(b.pid, 'net'));
  // no other process holds it: the helper that made it is gone
  const holders = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && p !== String(a.pid)).filter((p) => {
    try {
      return fs.readlinkSync(`/proc/${p}/ns/net`) === nsInode(a.pid, 'net');
    } catch {
      return false;
    }
  });
  tt.deepEqual(holders, []);
  const keepalive = '/proc/sys/net/ipv4/tcp_keepalive_time';
  const hostKeepalive = fs.readFileSync(keepalive, 'utf8').trim();
  const r = runContainer(env, (s) => {
    s.linux!.sysctl = { 'net.ipv4.tcp_keepalive_time': '4321' };
    sh(`ls /sys/class/net; cat ${keepalive}; readlink /proc/1/ns/net; cat /sys/class/net/lo/flags`)(s);
  });
  tt.is(r.status, 0, r.stderr);
  const [devices, inside, ns, loFlags] = r.stdout.split('\n');
  tt.is(devices, 'lo');
  tt.is(Number(loFlags) & 1, 1, 'lo is up (IFF_UP), as runc and crun leave it');
  tt.is(inside, '4321');
  tt.not(ns, nsInode('self', 'net'));
  tt.is(fs.readFileSync(keepalive, 'utf8').trim(), hostKeepalive, "the host's own value is untouched");
});

t('joining a namespace by path uses that namespace', (tt) => {
  const env = setup(tt);
  const first = createSleeping(env);
  const second = createSleeping(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' || n.type === 'ipc' ? { type: n.type, path: `/proc/${first.pid}/ns/${PROC_NS[n.type]}` } : n));
  });
  tt.is(nsInode(second.pid, 'net'), nsInode(first.pid, 'net'));
  tt.is(nsInode(second.pid, 'ipc'), nsInode(first.pid, 'ipc'));
  tt.not(nsInode(second.pid, 'uts'), nsInode(first.pid, 'uts'));
});

t('a namespace not listed is shared with the host', (tt) => {
  const env = setup(tt);
  const { pid } = createSleeping(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  });
  tt.is(nsInode(pid, 'net'), nsInode('self', 'net'));
});

function userns(s: Spec): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

t('lo is up in a new network namespace, with a user namespace too (the clone makes that one)', (tt) => {
  const env = setup(tt);
  for (const withUserns of [false, true]) {
    const r = runContainer(env, (s) => {
      if (withUserns) userns(s);
      sh('cat /sys/class/net/lo/flags')(s);
    });
    tt.is(r.status, 0, r.stderr);
    tt.is(Number(r.stdout.trim()) & 1, 1, `IFF_UP${withUserns ? ' (user namespace)' : ''}`);
  }
  // a network namespace shared with the host is left alone
  const shared = runContainer(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    sh('cat /sys/class/net/lo/flags')(s);
  });
  tt.is(shared.stdout.trim(), fs.readFileSync('/sys/class/net/lo/flags', 'utf8').trim());
});

t('user namespace: uid/gid maps written from outside, root inside maps to the host id', (tt) => {
  const env = setup(tt);
  const { pid } = createSleeping(env, userns);
  tt.not(nsInode(pid, 'user'), nsInode('self', 'user'));
  tt.regex(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8'), /^\s*0\s+100000\s+65536\s*$/);
  tt.regex(fs.readFileSync(`/proc/${pid}/gid_map`, 'utf8'), /^\s*0\s+100000\s+65536\s*$/);
  const st = procStatus(pid);
  tt.regex(st.Uid!, /^100000\s/);
  const r = runContainer(env, (s) => {
    userns(s);
    sh('id -u; cat /proc/self/uid_map')(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^0\n\s*0\s+100000\s+65536\n$/);
});

t('time namespace with offsets', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { monotonic: { secs: 86400 * 365, nanosecs: 0 }, boottime: { secs: 86400 * 365 } };
    sh('cat /proc/uptime')(s);
  });
  tt.is(r.status, 0, r.stderr);
  const uptime = Number(r.stdout.split(' ')[0]);
  tt.true(uptime > 86400 * 365, `uptime ${uptime}`);
});

t('hostname and domainname', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.hostname = 'box1';
    s.domainname = 'example.org';
    sh('hostname; cat /proc/sys/kernel/domainname')(s);
  });
  tt.is(r.stdout, 'box1\nexample.org\n', r.stderr);
});

t('readonly rootfs, pivot_root and no host root visible', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, sh('touch /x 2>&1; echo rc=$?; cat /proc/self/mountinfo | head -1'));
  tt.regex(r.stdout, /Read-only file system/);
  tt.regex(r.stdout, /rc=1/);
  const { pid } = createSleeping(env);
  const root = mountinfo(pid).split('\n').find((l) => l.split(' ')[4] === '/');
  tt.regex(root ?? '', / \/ ro,/);
});

t('--no-pivot uses MS_MOVE and chroot', (tt) => {
  const env = setup(tt);
  const b = env.bundle(sh('ls /bin/busybox && echo ok'));
  const r = env.runt(['run', '--no-pivot', '--bundle', b, uniqueId()]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /ok/);
});

t('default mounts and devices are present inside', (tt) => {
  const env = setup(tt);
  const r = runContainer(
    env,
    sh(
      'for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo $d; done; ' +
        'for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; ' +
        'grep -E " (/proc|/dev|/dev/pts|/dev/shm|/dev/mqueue|/sys|/sys/fs/cgroup) " /proc/self/mountinfo | cut -d" " -f5 | sort | tr "\\n" " "',
    ),
  );
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^null\nzero\nfull\nrandom\nurandom\ntty\n/);
  tt.regex(r.stdout, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\n\/proc\/self\/fd\/1\n\/proc\/self\/fd\/2\npts\/ptmx\n/);
  tt.regex(r.stdout, /\/dev \/dev\/mqueue \/dev\/pts \/dev\/shm \/proc (\/proc\/\S+ )*\/sys \/sys\/fs\/cgroup/);
});

t('linux.devices are created with their type, numbers, mode and owner', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.linux!.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 }];
    sh('stat -c "%F %t:%T %a %u:%g" /dev/mydev')(s);
  });
  tt.is(r.stdout, 'character special file 1:3 640 7:8\n', r.stderr);
});

t('bind mounts with options, created targets, tmpfs', (tt) => {
  const env = setup(tt);
  const hostDir = fs.mkdtempSync(path.join(env.tmp, 'bind-'));
  fs.writeFileSync(path.join(hostDir, 'hello'), 'from host\n');
  const hostFile = path.join(env.tmp, 'file.txt');
  fs.writeFileSync(hostFile, 'a file\n');
  const r = runContainer(env, (s) => {
    s.mounts!.push(
      { destination: '/mnt/data/deep', type: 'bind', source: hostDir, options: ['rbind', 'ro', 'nosuid'] },
      { destination: '/etc/extra.txt', type: 'bind', source: hostFile, options: ['bind'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1777'] },
    );
    sh('cat /mnt/data/deep/hello /etc/extra.txt; touch /mnt/data/deep/x 2>/dev/null || echo ro-ok; touch /scratch/y && echo tmpfs-ok; grep " /mnt/data/deep " /proc/self/mountinfo | cut -d" " -f6')(s);
  });
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stdout, /^from host\na file\nro-ok\ntmpfs-ok\nro,nosuid/);
});

t('maskedPaths and readonlyPaths', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.linux!.maskedPaths!.push('/etc/passwd', '/usr', '/no/such/path');
    s.linux!.readonlyPaths!.push('/dev/shm');
    sh('cat /etc/passwd | wc -c; ls /usr | wc -l; (echo x > /proc/sys/kernel/hostname) 2>&1; echo rc=$?; touch /dev/shm/x 2>&1; echo rc=$?')(s);
  });
  tt.is(r.status, 0, r.stderr);
  const [passwd, usr] = r.stdout.split('\n');
  tt.is(passwd, '0');
  tt.is(usr, '0');
  tt.regex(r.stdout, /Read-only file system\nrc=1\n.*Read-only file system\nrc=1/s);
});

t('sysctl inside the container namespaces', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, (s) => {
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456789' };
    sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax')(s);
  });
  tt.is(r.stdout, '1\n123456789\n', r.stderr);
});

t('a non-namespaced sysctl is refused naming the field', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.linux!.sysctl = { 'kernel.pid_max': '100000' }));
  const r = env.runt(['create', '--bundle', b, uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /sysctl kernel\.pid_max is not namespaced/);
});

t('rootfsPropagation is applied to the container root', (tt) => {
  const env = setup(tt);
  const { pid } = createSleeping(env, (s) => (s.linux!.rootfsPropagation = 'private'));
  const root = mountinfo(pid).split('\n').find((l) => l.split(' ')[4] === '/') ?? '';
  tt.regex(root, / \/ /);
  tt.notRegex(root, /shared:|master:/);
});
