// A private containerd for the engine suite: Debian's containerd started on
// a socket, root and state directory under a temp dir (config version 2, the
// CRI plugin and the snapshotters we do not use disabled so that it starts in
// a few tens of milliseconds), driven with `ctr`. Containers run through the
// runc shim v2 (io.containerd.runc.v2) with the runtime under test as its
// binary (`ctr run --runc-binary`, i.e. BinaryName in the runc options) and
// a private runtime root (`--runc-root`). stop() tears everything down: the
// tasks and containers, the daemon, the shims, the snapshotter's overlay
// mounts, the namespace's cgroups and the temp dir.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  background,
  cgroupsNamed,
  ensurePackages,
  existedBefore,
  mountsUnder,
  killMentioning,
  processesMentioning,
  removeCgroups,
  thawCgroups,
  processRunning,
  removeEmptyTree,
  runCmd,
  runInPty,
  sleep,
  unmountAndRemove,
  waitFor,
  type Background,
  type Result,
  type Runtime,
} from './common.js';
import { buildImage, IMAGE_REF } from '../helpers/image.js';

export const CONTAINERD_PACKAGES = ['containerd'];

// containerd and its shims use /run/containerd (s/, runc/<ns>) whatever the
// config says: removed by the last suite to stop, once no containerd runs,
// if it was not there before the engine suites started (existedBefore)
existedBefore('/run/containerd'); // the first look, at load
let active = 0;

export class Containerd {
  readonly dir: string;
  readonly socket: string;
  readonly ns: string; // containerd namespace, also the cgroup parent of every container
  readonly runtimeRoot: string; // --runc-root: the runtime's state directories
  readonly image = IMAGE_REF;
  private daemon: Background | undefined;
  readonly log: string;

  constructor(readonly runtime: Runtime) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `runt-ctrd-${runtime.name}-`));
    fs.chmodSync(this.dir, 0o755);
    this.socket = path.join(this.dir, 'containerd.sock');
    this.ns = `runt-e2e-${runtime.name}-p${process.pid}`;
    this.runtimeRoot = path.join(this.dir, 'runtime-root');
    this.log = path.join(this.dir, 'containerd.log');
    active++;
  }

  get root(): string {
    return path.join(this.dir, 'root');
  }
  get state(): string {
    return path.join(this.dir, 'state');
  }

  // Start the daemon and import the image. Throws with the reason if it cannot.
  async start(): Promise<void> {
    const err = ensurePackages(CONTAINERD_PACKAGES);
    if (err) throw new Error(err);
    const config = `version = 2
root = "${this.root}"
state = "${this.state}"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "${this.socket}"

[ttrpc]
  address = "${this.socket}.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""
`;
    fs.writeFileSync(path.join(this.dir, 'config.toml'), config);
    this.daemon = background('containerd', ['--config', path.join(this.dir, 'config.toml')], { logFile: this.log });
    const up = await waitFor(() => fs.existsSync(this.socket) && this.ctr(['version'], { timeout: 5000 }).status === 0, 20_000, 50);
    if (!up) throw new Error(`containerd did not start: ${fs.readFileSync(this.log, 'utf8').split('\n').slice(-5).join('\n')}`);
    const img = buildImage(path.join(this.dir, 'image.tar'));
    const r = this.ctr(['image', 'import', img.tar], { timeout: 60_000 });
    if (r.status !== 0) throw new Error(`ctr image import failed: ${r.stderr}`);
  }

  // ctr's global flags, and the I/O FIFOs of `run`, `task exec` and `task
  // start` in the temp dir rather than in /run/containerd/fifo
  private ctrArgs(args: string[]): string[] {
    const fifo = ['--fifo-dir', path.join(this.dir, 'fifo')];
    let a = args;
    if (a[0] === 'run') a = ['run', ...fifo, ...a.slice(1)];
    else if (a[0] === 'task' && (a[1] === 'exec' || a[1] === 'start')) a = ['task', a[1], ...fifo, ...a.slice(2)];
    return ['--address', this.socket, '--namespace', this.ns, ...a];
  }

  ctr(args: string[], opts: { input?: string; timeout?: number } = {}): Result {
    return runCmd(this.dir, 'ctr', this.ctrArgs(args), opts);
  }

  ctrPty(args: string[], opts: { timeout?: number } = {}): Result {
    return runInPty(this.dir, 'ctr', this.ctrArgs(args), opts);
  }

  ctrBackground(args: string[]): Background {
    return background('ctr', this.ctrArgs(args));
  }

  // The flags that put the runtime under test behind the runc shim.
  runtimeFlags(): string[] {
    return ['--runc-binary', this.runtime.bin, '--runc-root', this.runtimeRoot];
  }

  // `ctr run` of the image with the runtime under test.
  run(id: string, cmd: string[], opts: { flags?: string[]; timeout?: number; tty?: boolean } = {}): Result {
    const args = ['run', ...this.runtimeFlags(), ...(opts.flags ?? []), this.image, id, ...cmd];
    return opts.tty ? this.ctrPty(args, opts) : this.ctr(args, opts);
  }

  // Tasks as `ctr task ls` shows them: id -> { pid, status }.
  tasks(): Map<string, { pid: number; status: string }> {
    const out = new Map<string, { pid: number; status: string }>();
    const r = this.ctr(['task', 'ls']);
    for (const line of r.stdout.split('\n').slice(1)) {
      const [id, pid, status] = line.trim().split(/\s+/);
      if (id && pid && status) out.set(id, { pid: Number(pid), status });
    }
    return out;
  }

  containers(): string[] {
    return this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean);
  }

  // Remove a task and its container whatever their state.
  remove(id: string): void {
    if (this.tasks().has(id)) {
      this.ctr(['task', 'kill', '-a', '-s', 'SIGKILL', id]);
      this.ctr(['task', 'delete', '-f', id], { timeout: 20_000 });
    }
    this.ctr(['container', 'rm', id]);
  }

  // Where the shim keeps a task's bundle (config.json, log.json, rootfs mount).
  bundleDir(id: string): string {
    return path.join(this.state, 'io.containerd.runtime.v2.task', this.ns, id);
  }

  // Everything the suite made that is still there: processes (the daemon
  // excepted), mounts, cgroups, state directories.
  leftovers(ids: string[], opts: { daemon?: boolean } = {}): string[] {
    const exclude = this.daemon && !opts.daemon ? [this.daemon.pid] : [];
    // a container's cgroup and runtime calls name <ns>/<id>; its shim is
    // `containerd-shim-runc-v2 -namespace <ns> -id <id> -address ...`
    const tags = ids.length ? ids.flatMap((id) => [`${this.ns}/${id}`, `-namespace ${this.ns} -id ${id} `]) : [this.dir, this.ns];
    const out = [...processesMentioning(tags, exclude)];
    for (const id of ids) {
      out.push(...mountsUnder(this.bundleDir(id)).map((m) => `mount ${m}`));
      for (const cg of cgroupsNamed([this.ns], true)) {
        if (fs.existsSync(path.join(cg, id))) out.push(`cgroup ${path.join(cg, id)}`);
      }
      const st = path.join(this.runtimeRoot, this.ns, id);
      if (fs.existsSync(st)) out.push(`runtime state ${st}`);
      if (fs.existsSync(this.bundleDir(id))) out.push(`shim bundle ${this.bundleDir(id)}`);
    }
    if (!ids.length) {
      out.push(...mountsUnder(this.dir).map((m) => `mount ${m}`));
      out.push(...cgroupsNamed([this.ns], true).map((c) => `cgroup ${c}`));
    }
    return out;
  }

  // leftovers() once things have settled (a shim exits a moment after its
  // last task is deleted): [] when nothing is left.
  async settled(ids: string[], ms = 5000): Promise<string[]> {
    await waitFor(() => this.leftovers(ids).length === 0, ms);
    return this.leftovers(ids);
  }

  // Tear everything down; returns what could not be removed.
  async stop(): Promise<string[]> {
    if (this.daemon) {
      for (const id of this.containers()) this.remove(id);
      this.ctr(['image', 'rm', this.image]);
      this.daemon.kill('SIGTERM');
      const exited = await Promise.race([this.daemon.done.then(() => true), sleep(10_000).then(() => false)]);
      if (!exited) {
        this.daemon.kill('SIGKILL');
        await this.daemon.done;
      }
    }
    // shims of tasks that could not be deleted outlive containerd: end them
    // by pid (their command line names our socket's directory)
    killMentioning([this.dir]);
    // and what still runs in the namespace's cgroups (containers whose shim
    // was killed)
    thawCgroups(cgroupsNamed([this.ns], true));
    killMentioning([`${this.ns}/`]);
    await waitFor(() => processesMentioning([this.dir, `${this.ns}/`]).length === 0, 5000);
    const problems = unmountAndRemove(this.dir);
    removeCgroups(cgroupsNamed([this.ns], true));
    // the shim's cleanup after a failed create runs the runtime with the
    // default root /run/containerd/runc/<ns>, which the runtime creates
    fs.rmSync(path.join('/run/containerd/runc', this.ns), { recursive: true, force: true });
    if (--active === 0 && !existedBefore('/run/containerd') && !processRunning(/^containerd/)) removeEmptyTree('/run/containerd');
    problems.push(...processesMentioning([this.dir, `${this.ns}/`]));
    problems.push(...cgroupsNamed([this.ns], true).map((c) => `cgroup ${c}`));
    return problems;
  }
}
