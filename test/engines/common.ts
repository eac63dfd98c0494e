// Shared by the engine suites (test/integration/engine-*.test.ts): which
// runtime binaries to drive (RUNTIME=runt|runc|runt,runc), Debian packages
// installed on first use, commands run with a time limit and their output
// captured in files (a detached container must not hold a pipe open), and
// the host-side checks for leftovers.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCgroupDirs } from '../helpers/leaks.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/engines -> repo root
export const REPO = path.resolve(here, '../../..');
export const RUNT = process.env.RUNT_BIN ?? path.join(REPO, 'bin/runt');

export const isRoot = process.getuid?.() === 0;

export interface Runtime {
  name: 'runt' | 'runc';
  bin: string; // absolute path, as engines want it
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

// RUNTIME=runt (the default), runc (Debian's, the reference) or both, comma
// separated. The same scenarios run against each.
export function runtimes(): Runtime[] {
  const names = (process.env.RUNTIME ?? 'runt').split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((n) => {
    if (n === 'runt') return { name: 'runt', bin: RUNT };
    if (n === 'runc') return { name: 'runc', bin: '/usr/sbin/runc' };
    throw new Error(`RUNTIME: unknown runtime ${JSON.stringify(n)} (use runt, runc or runt,runc)`);
  });
}

// Install the Debian packages an engine needs when they are missing (a fresh
// machine). Returns an error text when that fails, so that the suite can say
// why it did not run.
export function ensurePackages(pkgs: string[]): string | undefined {
  const missing = pkgs.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // the package lists may be stale or missing on a fresh machine
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { encoding: 'utf8', env, timeout: 900_000 });
  if (r.status !== 0) return `apt-get install ${missing.join(' ')} failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' ')}`;
  return undefined;
}

export function commandExists(cmd: string): boolean {
  return which(cmd) !== undefined;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let outCounter = 0;

// Run a command to completion with its output in files under `scratch`.
export function runCmd(
  scratch: string,
  cmd: string,
  args: string[],
  opts: { input?: string; stdinFd?: number; env?: NodeJS.ProcessEnv; timeout?: number; cwd?: string } = {},
): Result {
  const n = outCounter++;
  const outFile = path.join(scratch, `.out-${process.pid}-${n}`);
  const errFile = path.join(scratch, `.err-${process.pid}-${n}`);
  const out = fs.openSync(outFile, 'w+');
  const err = fs.openSync(errFile, 'w+');
  const start = Date.now();
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(cmd, args, {
      encoding: 'utf8',
      ...(opts.stdinFd === undefined ? { input: opts.input ?? '' } : {}),
      stdio: [opts.stdinFd ?? 'pipe', out, err],
      env: opts.env ?? process.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      timeout: opts.timeout ?? 60_000,
      killSignal: 'SIGKILL',
    });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const res: Result = {
    status: r.status,
    signal: r.signal,
    stdout: fs.readFileSync(outFile, 'utf8'),
    stderr: fs.readFileSync(errFile, 'utf8') + (r.error ? `\n${String(r.error)}` : ''),
    ms: Date.now() - start,
  };
  fs.rmSync(outFile, { force: true });
  fs.rmSync(errFile, { force: true });
  return res;
}

// The same under a pseudo-terminal (util-linux script(1)): for the clients'
// -t/--tty modes, which refuse to run without a terminal of their own.
//
// script's stdin is a FIFO that is also open for writing, so it never sees
// EOF: at EOF script types its terminal's EOF character into the session,
// and a client that has made that terminal raw forwards it to the container,
// whose terminal echoes it ("^@") into the output under test.
export function runInPty(scratch: string, cmd: string, args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Result {
  const line = [cmd, ...args].map(shQuote).join(' ');
  const fifo = path.join(scratch, `.stdin-${process.pid}-${outCounter++}`);
  const mk = spawnSync('mkfifo', ['-m', '600', fifo]);
  if (mk.status !== 0) throw new Error(`mkfifo ${fifo}: ${mk.stderr}`);
  // O_RDWR: a FIFO opened so never blocks and always has a writer
  const stdinFd = fs.openSync(fifo, fs.constants.O_RDWR);
  let r: Result;
  try {
    r = runCmd(scratch, 'script', ['-q', '-e', '-c', line, '/dev/null'], { ...opts, stdinFd });
  } finally {
    fs.closeSync(stdinFd);
    fs.rmSync(fifo, { force: true });
  }
  // the terminals' line disciplines (the container's and script's) turn \n
  // into \r\n, twice
  r.stdout = r.stdout.replace(/\r+\n/g, '\n');
  return r;
}

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// A command that runs in the background (a foreground `ctr run` while the
// test signals the container, or a daemon); `done` resolves with its result.
export interface Background {
  pid: number;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(sig?: NodeJS.Signals): void;
  stdoutSoFar(): string;
}

export function background(cmd: string, args: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Background {
  const logFd = opts.logFile ? fs.openSync(opts.logFile, 'a') : undefined;
  const p = spawn(cmd, args, {
    stdio: logFd !== undefined ? ['ignore', logFd, logFd] : ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (logFd !== undefined) fs.closeSync(logFd);
  let stdout = '';
  let stderr = '';
  p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    p.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    p.on('error', (e) => resolve({ status: null, signal: null, stdout, stderr: stderr + String(e) }));
  });
  return {
    pid: p.pid ?? -1,
    done,
    stdoutSoFar: () => stdout,
    kill(sig: NodeJS.Signals = 'SIGTERM') {
      try {
        if (p.pid) process.kill(p.pid, sig);
      } catch {
        // already gone
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Poll `check` until it returns a value that is not undefined/false.
export async function waitFor<T>(check: () => T | undefined | false, ms = 10_000, every = 50): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) return undefined;
    await sleep(every);
  }
}

// Mount points (as the host sees them) below a directory, deepest first.
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\040/g, ' ');
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

// Unmount everything below dir (lazily if busy), then remove it.
export function unmountAndRemove(dir: string): string[] {
  const problems: string[] = [];
  for (let round = 0; round < 3; round++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) break;
    for (const mp of mps) {
      const r = spawnSync('umount', [mp], { encoding: 'utf8' });
      if (r.status !== 0) spawnSync('umount', ['-l', mp]);
    }
  }
  const left = mountsUnder(dir);
  if (left.length) problems.push(...left.map((m) => `mount ${m} could not be removed`));
  else fs.rmSync(dir, { recursive: true, force: true });
  return problems;
}

// Processes whose command line or cgroup mentions one of the tags (ids and
// private paths of a suite): what must be gone after teardown.
export function processesMentioning(tags: string[], exclude: number[] = []): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || exclude.includes(pid)) continue;
    let cmdline = '';
    let cgroup = '';
    let stat = '';
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'latin1');
    } catch {
      continue;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') continue;
    const tag = tags.find((t) => t && (cmdline.includes(t) || cgroup.includes(`/${t}`)));
    if (tag) out.push(`process ${pid} (${cmdline.trim().slice(0, 120)}) mentions ${tag}`);
  }
  return out;
}

// cgroup directories (any hierarchy, a few levels deep) whose name contains
// a tag, or (exact) is one.
export function cgroupsNamed(tags: string[], exact = false): string[] {
  return findCgroupDirs((name) => tags.some((t) => name === t || (!exact && name.includes(t))), 4);
}

// Remove cgroup directories (children first); they must be empty of tasks.
export function removeCgroups(dirs: string[]): void {
  const all: string[] = [];
  const collect = (d: string): void => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) collect(path.join(d, e.name));
    all.push(d);
  };
  for (const d of dirs) collect(d);
  for (const d of all) {
    try {
      fs.rmdirSync(d);
    } catch {
      // busy or gone; reported by the leak check
    }
  }
}

// The cgroup v1 directory (or v2 path) a controller gives a process.
export function cgroupFile(pid: number, controller: string, file: string): string | undefined {
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [, ctrls, p] = line.split(':');
    if (ctrls === undefined || p === undefined) continue;
    if (ctrls.split(',').includes(controller)) return path.join('/sys/fs/cgroup', controller, p, file);
    if (ctrls === '' && line.startsWith('0::') && !fs.existsSync(`/sys/fs/cgroup/${controller}`)) {
      return path.join('/sys/fs/cgroup', p, file); // pure v2
    }
  }
  return undefined;
}

export function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

// Remove a directory tree made only of empty directories (what a daemon left
// under a global path such as /run/containerd); anything else keeps it.
export function removeEmptyTree(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  let empty = true;
  for (const e of entries) {
    if (!e.isDirectory() || !removeEmptyTree(path.join(dir, e.name))) empty = false;
  }
  if (!empty) return false;
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

// Is a process of this name (comm) running? To leave shared global paths
// alone while another engine (another suite's daemon) may use them.
export function processRunning(comm: RegExp): boolean {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (comm.test(fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim())) return true;
    } catch {
      // gone
    }
  }
  return false;
}

// SIGKILL, by pid, the processes processesMentioning() finds for the tags:
// what a suite started (a daemon's shims and conmons, containers in its
// cgroup parent) and could not stop the orderly way.
export function killMentioning(tags: string[], exclude: number[] = []): number {
  let n = 0;
  for (const line of processesMentioning(tags, exclude)) {
    const pid = Number(/^process (\d+)/.exec(line)?.[1]);
    if (!(pid > 0)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

// Thaw every frozen cgroup at or below these directories (v1 freezer.state,
// v2 cgroup.freeze): a SIGKILL does not reach a task the v1 freezer holds,
// so a paused container left by a failed test must be thawed to be ended.
export function thawCgroups(dirs: string[]): void {
  const visit = (d: string): void => {
    for (const [file, value] of [['freezer.state', 'THAWED'], ['cgroup.freeze', '0']] as const) {
      try {
        if (fs.existsSync(path.join(d, file))) fs.writeFileSync(path.join(d, file), value);
      } catch {
        // not frozen, gone, or not ours to thaw
      }
    }
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) visit(path.join(d, e.name));
  };
  for (const d of dirs) visit(d);
}

// Did a global path (/run/containerd, /run/docker...: what engines make
// whatever they are told) exist before any engine suite started? The suites
// remove only what they made. ava runs test files in concurrent worker
// processes, so one suite's look at start-up could see another's daemon's
// paths: run-tests.sh takes the snapshot before ava starts and passes it in
// RUNT_E2E_PREEXISTING (colon separated); without it (ava run by hand) the
// first look of this process decides.
const firstLook = new Map<string, boolean>();
export function existedBefore(p: string): boolean {
  const env = process.env.RUNT_E2E_PREEXISTING;
  if (env !== undefined) return env.split(':').includes(p);
  if (!firstLook.has(p)) firstLook.set(p, fs.existsSync(p));
  return firstLook.get(p)!;
}

// The last of an engine suite's teardown, shared by the podman and Docker
// suites: end what still mentions the suite's directory (a conmon or shim
// its engine could not stop) and what still runs in the suite's cgroups
// (containers whose shim or conmon was killed), by pid; then unmount and
// remove the directory and the cgroups. Returns what could not be undone.
export async function endSuiteLeftovers(dir: string, cgroupParent: string): Promise<string[]> {
  killMentioning([dir]);
  const parent = path.basename(cgroupParent);
  thawCgroups(cgroupsNamed([parent], true));
  killMentioning([`${parent}/`]);
  await waitFor(() => processesMentioning([dir, `${parent}/`]).length === 0, 5000);
  const problems = unmountAndRemove(dir);
  removeCgroups(cgroupsNamed([parent], true));
  return problems;
}
