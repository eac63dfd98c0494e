// A private podman for the engine suite: Debian's podman (with conmon) and
// the runtime under test as `--runtime /abs/path`, every piece of state under
// a temp dir (--root, --runroot, --tmpdir, --network-config-dir), the
// cgroupfs manager, file events, the vfs storage driver (no fuse-overlayfs
// or overlay mounts needed), no network (`--network none`: no netavark,
// CNI or slirp4netns involved), and the image of test/helpers/image.ts
// loaded with `podman load`.
//
// Two things of these machines shape the set-up:
// - root here has no CAP_SYS_RESOURCE (CapEff lacks bit 24), so nobody may
//   raise a hard rlimit above the current one (20000 for RLIMIT_NOFILE);
//   podman asks for RLIMIT_NOFILE 1048576 by default and both runc and runt
//   then fail with EPERM, so a private containers.conf (CONTAINERS_CONF)
//   sets default_ulimits below the host's (for pods' infra containers too);
// - podman does not pass --runtime-flag to the `podman container cleanup`
//   that conmon runs when a container exits, so a private runtime --root
//   leaks every container's state and cgroups (with runc as with runt): the
//   runtime keeps its default root (/run/runt, /run/runc) as in real use.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliEngine } from './cli-engine.js';
import {
  cgroupsNamed,
  endSuiteLeftovers,
  commandExists,
  ensurePackages,
  existedBefore,
  processesMentioning,
  processRunning,
  type Runtime,
} from './common.js';
import { buildImage, IMAGE_REF } from '../helpers/image.js';

export const PODMAN_PACKAGES = ['podman', 'conmon'];

// paths podman creates outside of its --root/--runroot whatever it is told;
// which of them were there before the engine suites started (existedBefore),
// and how many of its suites (one per runtime) are still running: the last
// one out removes what none of them found
const GLOBAL_PATHS = ['/run/containers', '/var/lib/containers'];
for (const p of GLOBAL_PATHS) existedBefore(p); // the first look, at load
// the runtimes' default roots (see above), made by the first container if
// missing: removed the same way, unless a container's state is in them
const RUNTIME_ROOTS = ['/run/runt', '/run/runc'];
for (const p of RUNTIME_ROOTS) existedBefore(p);
let active = 0;

// A runtime root with no container in it: nothing, or only runt's caches
// (.cache/seccomp, compiled filters).
function holdsNoContainer(root: string): boolean {
  try {
    return fs.readdirSync(root).every((e) => e.startsWith('.'));
  } catch {
    return true;
  }
}

export class Podman extends CliEngine {
  readonly name = 'podman' as const;
  readonly image = IMAGE_REF;
  readonly supportsUpdate = false; // `podman update` came with podman 4.4

  constructor(runtime: Runtime) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runt-podman-${runtime.name}-`));
    fs.chmodSync(dir, 0o755);
    super(runtime, dir, `/runt-e2e-podman-${runtime.name}-p${process.pid}`);
    active++;
  }

  protected command(): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
    return {
      cmd: 'podman',
      env: { ...process.env, CONTAINERS_CONF: path.join(this.dir, 'containers.conf') },
      args: [
        '--root', path.join(this.dir, 'root'),
        '--runroot', path.join(this.dir, 'runroot'),
        '--tmpdir', path.join(this.dir, 'tmp'),
        '--network-config-dir', path.join(this.dir, 'net'),
        '--storage-driver', 'vfs',
        '--cgroup-manager', 'cgroupfs',
        '--events-backend', 'file',
        '--runtime', this.runtime.bin,
      ],
    };
  }

  runFlags(): string[] {
    return [
      '--pull', 'never',
      '--network', 'none',
      '--cgroup-parent', this.cgroupParent,
    ];
  }

  protected forceRemoveFlags(): string[] {
    return ['--force', '--time', '0'];
  }

  runtimeRoot(): string {
    return `/run/${this.runtime.name}`;
  }

  runtimeStateDir(id: string): string {
    return path.join(this.runtimeRoot(), id);
  }

  mountRoots(): string[] {
    return [this.dir];
  }

  async start(): Promise<void> {
    const err = ensurePackages(PODMAN_PACKAGES);
    if (err) throw new Error(err);
    for (const c of ['podman', 'conmon']) if (!commandExists(c)) throw new Error(`${c} is not installed`);
    fs.writeFileSync(path.join(this.dir, 'containers.conf'), '[containers]\ndefault_ulimits = ["nofile=1024:4096", "nproc=4096:4096"]\n');
    const img = buildImage(path.join(this.dir, 'image.tar'));
    const r = this.cli(['load', '-q', '-i', img.tar], { timeout: 120_000 });
    if (r.status !== 0) throw new Error(`podman load failed: ${r.stderr}`);
  }

  async stop(): Promise<string[]> {
    this.cli(['pod', 'rm', '--all', '--force'], { timeout: 60_000 });
    this.cli(['rm', '--all', '--force', '--time', '0'], { timeout: 60_000 });
    // conmon of a container podman could not remove, and what is left: ended by pid
    const problems = await endSuiteLeftovers(this.dir, this.cgroupParent);
    const parent = path.basename(this.cgroupParent);
    if (--active === 0 && !processRunning(/^(podman|conmon)$/)) {
      for (const p of GLOBAL_PATHS) if (!existedBefore(p)) fs.rmSync(p, { recursive: true, force: true });
      for (const p of RUNTIME_ROOTS) {
        if (!existedBefore(p) && holdsNoContainer(p)) fs.rmSync(p, { recursive: true, force: true });
      }
    }
    problems.push(...processesMentioning([this.dir, `${parent}/`]));
    problems.push(...cgroupsNamed([parent], true).map((c) => `cgroup ${c}`));
    return problems;
  }
}
