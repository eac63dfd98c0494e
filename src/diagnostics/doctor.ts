// `runt doctor`: is this host ready for runt and for the engines that drive
// it (containerd, podman, Docker, rootless setups)? Each check is pass, warn
// or fail with what was found and how to fix it. Most rootless failures are
// environmental (subuid, newuidmap, delegation), so those are checked too.
// Pure over its input: doctorInput() gathers the facts.

import { addonPath, nativeFs } from '../sys/fs.js';
import { installRoot } from '../sys/install-root.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SPEC_FEATURES } from '../features/spec-support.js';
import { gatherHostFacts, type HostFacts } from './host-facts.js';
import { hostReader, type HostReader } from './host-reader.js';
import { loadSyscallProber } from './syscall-probe.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorInput {
  facts: HostFacts;
  reader: HostReader;
  stateRoot: string;
  initBinary: string | undefined; // undefined: not found
  sysAddon: string | undefined; // bin/runt-sys.node when it serves the file calls, undefined when not loaded
  user: { name: string; uid: number }; // who invoked runt (SUDO_USER when run by sudo)
  bun: { path: string; version: string | undefined; pinned: string | undefined } | undefined;
  node: string | undefined; // `node --version` of the node in PATH
  setuidOrCaps: (p: string) => boolean; // newuidmap may raise its privileges
}

function versionAtLeast(v: string, want: [number, number]): boolean {
  const m = /(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > want[0] || (a === want[0] && b >= want[1]);
}

// Total subordinate ids of a user in /etc/subuid or /etc/subgid.
export function subordinateIds(text: string | undefined, user: { name: string; uid: number }): number {
  let n = 0;
  for (const line of (text ?? '').split('\n')) {
    const [who, , count] = line.trim().split(':');
    if (who === user.name || who === String(user.uid)) n += Number(count) || 0;
  }
  return n;
}

export function doctorChecks(i: DoctorInput): DoctorCheck[] {
  const f = i.facts;
  const h = i.reader;
  const out: DoctorCheck[] = [];
  const add = (id: string, title: string, status: CheckStatus, detail: string, fix?: string): void => {
    out.push(fix === undefined ? { id, title, status, detail } : { id, title, status, detail, fix });
  };

  add('kernel', 'kernel', 'pass', `Linux ${f.kernel.release} ${f.kernel.machine}`);
  add(
    'privileges',
    'privileges',
    f.uid === 0 ? 'pass' : 'warn',
    f.uid === 0 ? 'running as root' : `running as uid ${f.uid}: create and run need root (rootless containers are not implemented)`,
    f.uid === 0 ? undefined : 'run runt as root (sudo), as engines do',
  );

  // runt itself
  if (i.initBinary) add('runt-init', 'native stage', 'pass', i.initBinary);
  else add('runt-init', 'native stage', 'fail', 'bin/runt-init was not found', 'run `make` in the runt checkout, or set RUNT_INIT to its path');
  if (i.sysAddon) add('runt-sys', 'file syscalls module', 'pass', i.sysAddon);
  else add('runt-sys', 'file syscalls module', 'warn', 'bin/runt-sys.node was not loaded: every call loads node:fs instead (~1 ms slower, ~5 MiB more)', 'run `make` in the runt checkout (it sits beside bin/runt)');
  if (i.bun) {
    if (i.bun.version === undefined) add('bun', 'Bun', 'fail', `the pinned Bun ${i.bun.path} is missing`, 'run `make` (npm ci installs it)');
    else if (i.bun.pinned && i.bun.version !== i.bun.pinned) add('bun', 'Bun', 'warn', `Bun ${i.bun.version}, but package.json pins ${i.bun.pinned}`, 'run `npm ci`');
    else add('bun', 'Bun', 'pass', `Bun ${i.bun.version} (${i.bun.path})`);
  }
  if (i.node === undefined) add('node', 'Node', 'warn', 'no node in PATH: the tests and the Node fallback need Node >= 20.19', 'install Node 20.19 or later');
  else if (!versionAtLeast(i.node, [20, 19])) add('node', 'Node', 'warn', `Node ${i.node} is older than 20.19`, 'install Node 20.19 or later');
  else add('node', 'Node', 'pass', `Node ${i.node}`);

  // the state root: writable, or creatable
  let dir = i.stateRoot;
  while (!h.exists(dir) && dir !== '/') dir = path.dirname(dir);
  if (h.writable(dir)) add('state-root', 'state root', 'pass', dir === i.stateRoot ? `${i.stateRoot} is writable` : `${i.stateRoot} can be created (in ${dir})`);
  else add('state-root', 'state root', 'fail', `${i.stateRoot} is not writable by uid ${f.uid}`, 'run as root, or pass --root DIR with a directory you can write (on a tmpfs)');

  // cgroups
  const cg = f.cgroup;
  const v1 = new Set(cg.v1.flatMap((x) => x.controllers));
  if (cg.mode === 'none') add('cgroup-layout', 'cgroup layout', 'fail', 'no cgroup filesystem is mounted', 'mount cgroup2 on /sys/fs/cgroup');
  else if (cg.mode === 'v2') add('cgroup-layout', 'cgroup layout', 'pass', `cgroup v2 at ${cg.unified!.mountpoint}`);
  else {
    add(
      'cgroup-layout',
      'cgroup layout',
      'warn',
      cg.mode === 'hybrid'
        ? `hybrid: cgroup v1 controllers plus cgroup2 at ${cg.unified!.mountpoint}; runt handles it, crun refuses it, and cgroup v1 is deprecated (runc 1.4)`
        : 'cgroup v1; runt handles it, but cgroup v1 is deprecated (runc 1.4)',
      'boot with systemd.unified_cgroup_hierarchy=1 (or cgroup_no_v1=all) for cgroup v2',
    );
  }
  if (cg.mode === 'v1' || cg.mode === 'hybrid') {
    if (!v1.has('devices')) add('cgroup-devices', 'devices controller', 'fail', 'the cgroup v1 devices controller is not mounted: runt refuses to create containers without device isolation', 'mount it on /sys/fs/cgroup/devices');
    else add('cgroup-devices', 'devices controller', 'pass', 'mounted');
    const missing = ['memory', 'pids', 'cpu', 'cpuset', 'freezer', 'blkio'].filter((c) => !v1.has(c));
    if (missing.length) add('cgroup-controllers', 'cgroup controllers', 'warn', `not mounted: ${missing.join(', ')} (limits on them fail${missing.includes('freezer') ? '; pause needs freezer' : ''})`, `mount them below /sys/fs/cgroup`);
    else add('cgroup-controllers', 'cgroup controllers', 'pass', [...v1].sort().join(' '));
  } else if (cg.mode === 'v2') {
    const u = cg.unified!;
    const missing = ['memory', 'pids', 'cpu', 'io', 'cpuset'].filter((c) => !u.controllers.includes(c));
    if (missing.length) add('cgroup-controllers', 'cgroup controllers', 'warn', `the root cgroup does not offer: ${missing.join(', ')}`, 'enable the controllers in the kernel (CONFIG_MEMCG, CONFIG_CGROUP_PIDS, ...)');
    else add('cgroup-controllers', 'cgroup controllers', 'pass', u.controllers.join(' '));
  }
  if (cg.unified && cg.mode === 'v2') {
    const u = cg.unified;
    if (f.uid === 0) add('cgroup-delegation', 'cgroup delegation', 'pass', 'root creates cgroups directly');
    else if (u.parentWritable && u.parentControllers.length) add('cgroup-delegation', 'cgroup delegation', 'pass', `${u.parent} is delegated to uid ${f.uid} with ${u.parentControllers.join(' ')}`);
    else add('cgroup-delegation', 'cgroup delegation', 'warn', `${u.parent} is not delegated to uid ${f.uid}: rootless engines cannot set limits`, 'enable delegation: systemctl edit user@.service with [Service] Delegate=yes (or run in `systemd-run --user --scope -p Delegate=yes`)');
  }
  if (cg.systemd) {
    if (cg.mode === 'v2') add('systemd', 'systemd cgroup driver', 'pass', 'systemd is the init here: --systemd-cgroup makes each container a transient scope');
    else add('systemd', 'systemd cgroup driver', 'warn', `systemd is the init here, but runt's systemd cgroup driver supports only cgroup v2 hosts (this one is ${cg.mode})`, 'configure the engine for the cgroupfs driver (containerd: SystemdCgroup = false; docker: native.cgroupdriver=cgroupfs), or boot with systemd.unified_cgroup_hierarchy=1');
  } else add('systemd', 'systemd cgroup driver', 'pass', 'systemd is not the init: engines use the cgroupfs driver');

  // user namespaces and rootless needs
  if (!f.namespaces.user) add('userns', 'user namespaces', 'fail', 'the kernel has no user namespaces', 'a kernel with CONFIG_USER_NS');
  else if (f.userns.max === 0) add('userns', 'user namespaces', 'fail', 'disabled: user.max_user_namespaces is 0', 'sysctl -w user.max_user_namespaces=15000');
  else add('userns', 'user namespaces', 'pass', `enabled (user.max_user_namespaces = ${f.userns.max ?? '?'})`);
  if (f.userns.unprivilegedClone === 0) add('userns-unprivileged', 'unprivileged user namespaces', 'warn', 'kernel.unprivileged_userns_clone is 0: rootless engines cannot create user namespaces', 'sysctl -w kernel.unprivileged_userns_clone=1');
  else if (f.userns.apparmorRestrict === 1) add('userns-unprivileged', 'unprivileged user namespaces', 'warn', 'kernel.apparmor_restrict_unprivileged_userns is 1: AppArmor restricts them for unconfined programs', 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the engine an AppArmor profile with userns');
  else add('userns-unprivileged', 'unprivileged user namespaces', 'pass', 'allowed');
  if (i.user.uid === 0) {
    add('subids', 'subuid/subgid', 'pass', 'invoked by root, which needs no subordinate ids (rootless engines check them for their own user)');
  } else {
    const su = subordinateIds(h.read('/etc/subuid'), i.user);
    const sg = subordinateIds(h.read('/etc/subgid'), i.user);
    const fix = `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${i.user.name}`;
    if (su >= 65536 && sg >= 65536) add('subids', 'subuid/subgid', 'pass', `${i.user.name} has ${su} subordinate uids and ${sg} gids`);
    else add('subids', 'subuid/subgid', 'warn', `${i.user.name} has ${su} subordinate uids and ${sg} gids in /etc/subuid, /etc/subgid; rootless engines need 65536`, fix);
  }
  for (const tool of ['newuidmap', 'newgidmap']) {
    const p = h.which(tool);
    if (!p) add(tool, tool, 'warn', `${tool} was not found: rootless engines (podman, rootless docker) need it to map subordinate ids`, 'apt-get install uidmap');
    else if (!i.setuidOrCaps(p)) add(tool, tool, 'warn', `${p} is neither setuid root nor has file capabilities`, `chmod u+s ${p}, or setcap cap_${tool === 'newuidmap' ? 'setuid' : 'setgid'}+ep ${p}`);
    else add(tool, tool, 'pass', p);
  }

  // seccomp, LSMs and what runt does with them
  if (f.seccomp.filter) add('seccomp', 'seccomp', 'pass', `filters supported; actions: ${f.seccomp.actions.join(' ')}`);
  else add('seccomp', 'seccomp', 'fail', 'the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)', 'a kernel with CONFIG_SECCOMP_FILTER');
  if (f.seccomp.libseccomp) add('libseccomp', 'libseccomp', 'pass', f.seccomp.libseccomp);
  else add('libseccomp', 'libseccomp', 'warn', 'libseccomp.so.2 not found: seccomp profiles cannot be compiled', 'apt-get install libseccomp2');
  const seccompFeature = SPEC_FEATURES.find((x) => x.id === 'linux.seccomp');
  if (seccompFeature && seccompFeature.status !== 'implemented') {
    add('runt-seccomp', 'seccomp profiles', 'warn', `runt does not apply linux.seccomp yet (issue ${seccompFeature.issue ?? '?'}): engines' default profiles are ignored`, 'see docs/spec-conformance.md');
  }
  const lsms = f.lsm.active;
  add('lsm', 'LSMs', 'pass', lsms ? `active: ${lsms.join(', ') || 'none'}` : `AppArmor ${f.lsm.apparmor ? 'enabled' : 'off'}, SELinux ${f.lsm.selinux ? 'enabled' : 'off'} (securityfs is not mounted)`);
  const lsmFeature = SPEC_FEATURES.find((x) => x.id === 'lsm.apparmor');
  if ((f.lsm.apparmor || f.lsm.selinux) && lsmFeature && lsmFeature.status !== 'implemented') {
    add('runt-lsm', 'LSM labels', 'warn', `${f.lsm.apparmor ? 'AppArmor' : 'SELinux'} is enabled but runt does not apply profiles or labels yet (issue ${lsmFeature.issue ?? '?'})`, 'see docs/spec-conformance.md');
  }

  // kernel features, asked of the kernel itself
  const sys = f.syscalls;
  const probe = (id: string, title: string, r: string, need: 'fail' | 'warn', why: string, since: string): void => {
    if (r === 'available') add(id, title, 'pass', 'available');
    else if (r === 'unknown') add(id, title, 'warn', 'could not be probed (koffi did not load)', 'run `npm ci` in the runt checkout');
    else add(id, title, need, `${r === 'blocked' ? 'blocked (EPERM, a seccomp filter?)' : 'missing (ENOSYS: an old kernel, or a seccomp filter)'}: ${why}`, `Linux ${since} or later, outside restrictive seccomp profiles`);
  };
  probe('openat2', 'openat2', sys.openat2, 'fail', 'runt-init resolves mount destinations inside the rootfs with it', '5.6');
  probe('mount-api', 'new mount API (open_tree)', sys.open_tree, 'fail', 'runt-init prepares bind mounts with it', '5.2');
  probe('idmapped-mounts', 'idmapped mounts (mount_setattr)', sys.mount_setattr, 'warn', 'mounts with idmap/ridmap or uidMappings fail', '5.12');
  probe('pidfd', 'pidfd_open', sys.pidfd_open, 'warn', 'engines use pidfds to signal processes without pid reuse races', '5.3');
  probe('clone3', 'clone3', sys.clone3, 'warn', 'runtimes and engines use it when present (runc, crun)', '5.3');
  if (f.namespaces.time) add('time-ns', 'time namespaces', 'pass', 'available');
  else add('time-ns', 'time namespaces', 'warn', 'not available: configs with a time namespace fail', 'Linux 5.6 with CONFIG_TIME_NS');
  return out;
}

// ---- gathering the input

function which(cmd: string): string | undefined {
  return hostReader().which(cmd);
}

function hasCapsOrSetuid(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (st.mode & 0o4000 && st.uid === 0) return true;
  } catch {
    return false;
  }
  // file capabilities live in the security.capability xattr; getcap reads it
  const getcap = which('getcap');
  if (!getcap) return false;
  const r = spawnSync(getcap, [p], { encoding: 'utf8' });
  return /cap_set[ug]id/.test(r.stdout ?? '');
}

function invokingUser(h: HostReader): { name: string; uid: number } {
  const sudoUser = h.env.SUDO_USER;
  const uid = sudoUser && h.env.SUDO_UID ? Number(h.env.SUDO_UID) : h.uid;
  if (sudoUser) return { name: sudoUser, uid };
  for (const line of (h.read('/etc/passwd') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && Number(f[2]) === uid) return { name: f[0]!, uid };
  }
  return { name: String(uid), uid };
}

// The runt checkout this code runs from (dist/src/diagnostics or the
// bundle in dist/bundle): the nearest directory up with runt's package.json.
export async function doctorInput(stateRoot: string, initBinary: string | undefined): Promise<DoctorInput> {
  const reader = hostReader();
  const facts = gatherHostFacts(reader, await loadSyscallProber());
  const repo = installRoot();
  let bun: DoctorInput['bun'];
  const bunPkg = path.join(repo, 'node_modules/@oven/bun-linux-x64');
  const bunPath = path.join(bunPkg, 'bin/bun');
  try {
    const pinned = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.['@oven/bun-linux-x64'];
    let version: string | undefined;
    if (fs.existsSync(bunPath)) version = (JSON.parse(fs.readFileSync(path.join(bunPkg, 'package.json'), 'utf8')) as { version?: string }).version;
    bun = { path: bunPath, version, pinned };
  } catch {
    bun = undefined; // not a checkout (an installed copy): nothing to say
  }
  const nodePath = which('node');
  const node = nodePath ? spawnSync(nodePath, ['--version'], { encoding: 'utf8', env: {} }).stdout?.trim() || undefined : undefined;
  return { facts, reader, stateRoot, initBinary, sysAddon: nativeFs ? addonPath() : undefined, user: invokingUser(reader), bun, node, setuidOrCaps: hasCapsOrSetuid };
}

// ---- output

export function renderText(checks: DoctorCheck[]): string {
  const lines = ['runt doctor: this host, for runt and the engines that drive it', ''];
  const w = Math.max(...checks.map((c) => c.title.length));
  for (const c of checks) {
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.title.padEnd(w)}  ${c.detail}`);
    if (c.fix && c.status !== 'pass') lines.push(`${' '.repeat(6 + w + 2)}fix: ${c.fix}`);
  }
  const n = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  lines.push('', `${checks.length} checks: ${n('pass')} passed, ${n('warn')} warnings, ${n('fail')} failed`);
  return lines.join('\n') + '\n';
}

export function renderJson(checks: DoctorCheck[]): string {
  const n = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  return JSON.stringify({ ok: n('fail') === 0, pass: n('pass'), warn: n('warn'), fail: n('fail'), checks }, null, 2) + '\n';
}
