// A fake host tree for the diagnostics: /proc, /sys, /etc files in a temp
// directory, read through hostReader({ root }).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { hostReader, type HostReader } from '../../../src/diagnostics/host-reader.js';

export function fakeHost(t: ExecutionContext, files: Record<string, string | { link: string } | { mode: number; text: string }>, opts: { uid?: number; release?: string; env?: NodeJS.ProcessEnv } = {}): { root: string; reader: HostReader } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-fakehost-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [p, content] of Object.entries(files)) {
    const full = path.join(root, p);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (typeof content === 'string') fs.writeFileSync(full, content);
    else if ('link' in content) fs.symlinkSync(content.link, full);
    else fs.writeFileSync(full, content.text, { mode: content.mode });
  }
  return { root, reader: hostReader({ root, uid: opts.uid ?? 1000, release: opts.release ?? '5.10.0', machine: 'x86_64', env: opts.env ?? { PATH: '/usr/bin' } }) };
}

// A cgroup v2 host without user or time namespaces enabled, no LSM but AppArmor.
export const V2_HOST = {
  'proc/self/ns/cgroup': '',
  'proc/self/ns/ipc': '',
  'proc/self/ns/mnt': '',
  'proc/self/ns/net': '',
  'proc/self/ns/pid': '',
  'proc/self/ns/user': '',
  'proc/self/ns/uts': '',
  'proc/self/mountinfo': '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n',
  'proc/self/cgroup': '0::/user.slice/session-1.scope\n',
  'proc/self/status': 'Name:\tx\nSeccomp:\t0\n',
  'proc/self/uid_map': '         0          0 4294967295\n',
  'proc/sys/user/max_user_namespaces': '0\n',
  'proc/sys/kernel/seccomp/actions_avail': 'kill_process kill_thread trap errno trace allow\n',
  'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
  'sys/fs/cgroup/user.slice/cgroup.controllers': 'memory pids\n',
  'sys/module/apparmor/parameters/enabled': 'Y\n',
};
