// What the podman and Docker suites share: both engines have the same
// command line (run/exec/stop/kill/pause/unpause/inspect/rm/logs), so one set
// of scenarios (scenarios.ts) drives either through this interface.

import fs from 'node:fs';
import path from 'node:path';
import {
  background,
  cgroupsNamed,
  mountsUnder,
  processesMentioning,
  runCmd,
  runInPty,
  waitFor,
  type Background,
  type Result,
  type Runtime,
} from './common.js';

export abstract class CliEngine {
  abstract readonly name: 'podman' | 'docker';
  abstract readonly image: string;
  // the cgroup parent every container of the suite is put under
  readonly cgroupParent: string;
  readonly dir: string;

  constructor(readonly runtime: Runtime, dir: string, cgroupParent: string) {
    this.dir = dir;
    this.cgroupParent = cgroupParent;
  }

  abstract start(): Promise<void>;
  // tear everything down; returns what could not be removed
  abstract stop(): Promise<string[]>;
  // the command and the arguments every call gets
  protected abstract command(): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  // flags every `run` gets (runtime, network, cgroup parent...)
  abstract runFlags(): string[];
  // where the runtime keeps the state of this engine's containers
  abstract runtimeStateDir(id: string): string;
  // the runtime's --root for this engine's containers
  abstract runtimeRoot(): string;
  // the directories below which the engine mounts container filesystems
  abstract mountRoots(): string[];
  // engine features that differ
  abstract readonly supportsUpdate: boolean;

  // run in the suite's temp dir: conmon creates a file named "oom" in its
  // working directory (inherited from podman) when a container is OOM-killed
  cli(args: string[], opts: { input?: string; timeout?: number } = {}): Result {
    const c = this.command();
    return runCmd(this.dir, c.cmd, [...c.args, ...args], { ...opts, cwd: this.dir, ...(c.env ? { env: c.env } : {}) });
  }

  cliPty(args: string[], opts: { timeout?: number } = {}): Result {
    const c = this.command();
    // script(1) passes its environment on
    return runInPty(this.dir, c.cmd, [...c.args, ...args], { ...opts, cwd: this.dir, ...(c.env ? { env: c.env } : {}) });
  }

  cliBackground(args: string[]): Background {
    const c = this.command();
    return background(c.cmd, [...c.args, ...args], { cwd: this.dir, ...(c.env ? { env: c.env } : {}) });
  }

  // `<engine> run` of the suite's image with the runtime under test.
  run(cmd: string[], opts: { flags?: string[]; timeout?: number; tty?: boolean } = {}): Result {
    const args = ['run', ...this.runFlags(), ...(opts.flags ?? []), this.image, ...cmd];
    return opts.tty ? this.cliPty(args, opts) : this.cli(args, opts);
  }

  // the flags of `rm` that remove a running container at once
  protected abstract forceRemoveFlags(): string[];

  // Remove a container whatever its state. podman 4.3 sometimes fails an
  // `rm -f` of a running container with "unlinkat .../userdata/shm: device or
  // resource busy" while conmon's cleanup still holds the shm mount (with
  // runc as with runt) and has removed the container all the same; a second
  // call settles it.
  remove(id: string): Result {
    let r = this.cli(['rm', ...this.forceRemoveFlags(), id], { timeout: 60_000 });
    for (let i = 0; i < 3 && r.status !== 0 && this.cli(['inspect', '--format', '{{.Id}}', id]).status === 0; i++) {
      r = this.cli(['rm', ...this.forceRemoveFlags(), id], { timeout: 60_000 });
    }
    if (r.status !== 0 && this.cli(['inspect', '--format', '{{.Id}}', id]).status !== 0) r = { ...r, status: 0 };
    return r;
  }

  inspect(id: string, format: string): string {
    return this.cli(['inspect', '--format', format, id]).stdout.trim();
  }

  // The runtime's own view of a container (state JSON), if it has one.
  runtimeState(id: string): { status: string; pid: number } | undefined {
    const r = runCmd(this.dir, this.runtime.bin, ['--root', this.runtimeRoot(), 'state', id]);
    return r.status === 0 ? JSON.parse(r.stdout) : undefined;
  }

  // What a removed container may have left: live processes (in its cgroup,
  // or naming it, as a conmon or shim would), cgroup directories, the
  // runtime's state directory, and any mount below the engine's storage (the
  // suite runs one container at a time).
  leftovers(ids: string[]): string[] {
    const out = [...processesMentioning(ids)];
    out.push(...cgroupsNamed(ids).map((c) => `cgroup ${c}`));
    for (const id of ids) {
      const st = this.runtimeStateDir(id);
      if (fs.existsSync(st)) out.push(`runtime state ${st}`);
    }
    for (const r of this.mountRoots()) out.push(...mountsUnder(r).filter((m) => m !== r).map((m) => `mount ${m}`));
    return out;
  }

  async settled(ids: string[], ms = 10_000): Promise<string[]> {
    await waitFor(() => this.leftovers(ids).length === 0, ms, 100);
    return this.leftovers(ids);
  }

  readCidfile(file: string): string {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return '';
    }
  }

  cidfile(): string {
    return path.join(this.dir, `cid-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  }
}
