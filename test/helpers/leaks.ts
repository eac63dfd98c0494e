// What a container, or a create that failed or was killed, may leave on the
// host, found by tags (container ids, a test's private directories): live
// processes, cgroup directories, host mounts and state directories. Other
// test files run at the same time, so every check is scoped to the tags and
// never counts the host's processes or mounts as a whole.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return fallback;
  }
}

function mentions(text: string, tags: string[]): string | undefined {
  return tags.find((t) => t !== '' && text.includes(t));
}

// Live (not zombie) processes that belong to one of the tags: in a cgroup
// named after it, or (for runt-init, before it joins a cgroup) holding an fd
// into a tagged path.
export function taggedProcesses(tags: string[]): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const stat = readOr(`/proc/${pid}/stat`);
    if (!stat) continue;
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') continue;
    const comm = readOr(`/proc/${pid}/comm`).trim();
    const cg = readOr(`/proc/${pid}/cgroup`);
    let tag = mentions(cg, tags.map((t) => `/${t}`));
    if (!tag && comm === 'runt-init') {
      let fds: string[] = [];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        // gone meanwhile
      }
      for (const fd of fds) {
        let link = '';
        try {
          link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        tag = mentions(link, tags);
        if (tag) break;
      }
    }
    if (tag) out.push(`process ${pid} (${comm}) of ${tag.replace(/^\//, '')}`);
  }
  return out;
}

// Directories under root, down to maxDepth levels, whose name matches; a
// match is not descended into.
export function findCgroupDirs(match: (name: string) => boolean, maxDepth: number, root = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (match(e.name)) out.push(p);
      else if (depth < maxDepth) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

// Directories anywhere under /sys/fs/cgroup whose name has a tag.
export function taggedCgroups(tags: string[], root = '/sys/fs/cgroup'): string[] {
  return findCgroupDirs((name) => mentions(name, tags) !== undefined, 8, root);
}

// Mounts of the host's (our) mount namespace that name a tagged path.
export function taggedMounts(tags: string[]): string[] {
  return readOr('/proc/self/mountinfo')
    .split('\n')
    .filter((l) => mentions(l, tags));
}

// Entries of a state root: the containers' directories and the graves of
// deletes that did not finish (not .cache: compiled seccomp filters).
export function stateEntries(root: string): string[] {
  try {
    return fs.readdirSync(root).filter((e) => e !== '.cache');
  } catch {
    return [];
  }
}

// Everything above for a set of containers and the test's own directories.
export function leftovers(opts: { root?: string; ids: string[]; paths?: string[] }): string[] {
  const tags = [...opts.ids, ...(opts.paths ?? [])];
  const out = [...taggedProcesses(tags), ...taggedCgroups(opts.ids), ...taggedMounts(tags)];
  if (opts.root) out.push(...stateEntries(opts.root).map((e) => `state entry ${path.join(opts.root!, e)}`));
  return out;
}

// Wait (briefly) until nothing is left: a killed init can take a moment to
// be reaped and its cgroup to empty.
export function waitNoLeftovers(opts: Parameters<typeof leftovers>[0], ms = 3000): string[] {
  const end = Date.now() + ms;
  let left = leftovers(opts);
  while (left.length && Date.now() < end) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    left = leftovers(opts);
  }
  return left;
}

// A writable copy of the example rootfs, owned by the test.
export function copyRootfs(from: string, to: string): string {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
  fs.chmodSync(to, 0o755);
  return to;
}

// A path's listing, to see that nothing appeared or vanished in it.
export function listing(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}
