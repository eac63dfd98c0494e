// A private Docker engine for the engine suite: Debian's docker.io, dockerd
// started by the test with its own data-root, exec-root, pidfile, socket and
// CLI config dir under a temp dir, the runtime under test registered with
// `--add-runtime e2e-<name>=/abs/path` and used by `docker run --runtime`,
// containers under a private --cgroup-parent, no bridge and no iptables
// (`--bridge none --iptables=false`, runs use `--network none`), the image of
// test/helpers/image.ts loaded with `docker load`. dockerd starts its own
// containerd (under the exec-root) and the runc shim v2, so the runtime sees
// the same calls as under containerd, plus `update` (docker update).
//
// Debian's CLI is called by its path: these machines also carry a newer
// static `docker` in /usr/local/bin.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliEngine } from './cli-engine.js';
import {
  background,
  cgroupsNamed,
  endSuiteLeftovers,
  ensurePackages,
  existedBefore,
  processesMentioning,
  processRunning,
  removeEmptyTree,
  runCmd,
  sleep,
  waitFor,
  type Background,
  type Runtime,
} from './common.js';
import { buildImage, IMAGE_REPO, IMAGE_TAG } from '../helpers/image.js';

export const DOCKER_PACKAGES = ['docker.io'];
// dockerd makes /run/docker/plugins whatever its exec-root, its containerd's
// shims use /run/containerd/s: removed by the last suite to stop, once no
// such daemon runs, if they were not there before the engine suites started
// (existedBefore)
for (const p of ['/run/docker', '/run/containerd']) existedBefore(p); // the first look, at load
let active = 0;

const DOCKER = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';
const SYSTEM_CONTAINERD = '/run/containerd/containerd.sock';

export class Docker extends CliEngine {
  readonly name = 'docker' as const;
  readonly image = `${IMAGE_REPO}:${IMAGE_TAG}`;
  readonly supportsUpdate = true;
  readonly runtimeName: string;
  // containerd namespace of the daemon's containers: a private one, so that
  // a dockerd that finds a system containerd at /run/containerd/containerd.sock
  // (and uses it rather than starting its own) does not share "moby" with
  // the system's dockerd
  readonly ctrdNamespace: string;
  private usesSystemContainerd = false;
  private daemon: Background | undefined;

  constructor(runtime: Runtime) {
    // short: the daemon's containerd socket lives below the exec-root and
    // unix socket paths are limited to 108 bytes
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runt-dk-${runtime.name}-`));
    fs.chmodSync(dir, 0o755);
    super(runtime, dir, `/runt-e2e-docker-${runtime.name}-p${process.pid}`);
    this.runtimeName = `e2e-${runtime.name}`;
    this.ctrdNamespace = `runt-e2e-docker-${runtime.name}-p${process.pid}`;
    active++;
  }

  get socket(): string {
    return path.join(this.dir, 'docker.sock');
  }
  get log(): string {
    return path.join(this.dir, 'dockerd.log');
  }

  protected command(): { cmd: string; args: string[] } {
    return { cmd: DOCKER, args: ['--config', path.join(this.dir, 'cli'), '--host', `unix://${this.socket}`] };
  }

  runFlags(): string[] {
    return ['--runtime', this.runtimeName, '--network', 'none', '--pull', 'never'];
  }

  protected forceRemoveFlags(): string[] {
    return ['--force'];
  }

  // docker 20.10 gives every runtime, whatever its name, the root
  // <exec-root>/runtime-runc, and the shim adds containerd's namespace
  runtimeRoot(): string {
    return path.join(this.dir, 'exec', 'runtime-runc', this.ctrdNamespace);
  }

  runtimeStateDir(id: string): string {
    return path.join(this.runtimeRoot(), id);
  }

  mountRoots(): string[] {
    return [path.join(this.dir, 'data', 'overlay2'), path.join(this.dir, 'data', 'containers'), path.join(this.dir, 'exec')];
  }

  daemonArgs(): string[] {
    return [
      '--data-root', path.join(this.dir, 'data'),
      '--exec-root', path.join(this.dir, 'exec'),
      '--pidfile', path.join(this.dir, 'docker.pid'),
      '--host', `unix://${this.socket}`,
      '--config-file', path.join(this.dir, 'daemon.json'),
      '--add-runtime', `${this.runtimeName}=${this.runtime.bin}`,
      '--cgroup-parent', this.cgroupParent,
      '--containerd-namespace', this.ctrdNamespace,
      '--containerd-plugins-namespace', `${this.ctrdNamespace}-plugins`,
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--bridge', 'none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--storage-driver', 'overlay2',
      '--log-level', 'warn',
    ];
  }

  async start(): Promise<void> {
    const err = ensurePackages(DOCKER_PACKAGES);
    if (err) throw new Error(err);
    if (!fs.existsSync(DOCKERD) || !fs.existsSync(DOCKER)) throw new Error(`${DOCKERD} or ${DOCKER} is missing after installing docker.io`);
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
    // what dockerd 20.10 checks to use a running containerd instead of its own
    this.usesSystemContainerd = fs.existsSync(SYSTEM_CONTAINERD);
    this.daemon = background(DOCKERD, this.daemonArgs(), { logFile: this.log });
    const up = await waitFor(() => fs.existsSync(this.socket) && this.cli(['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 }).status === 0, 60_000, 200);
    if (!up) {
      const tail = fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8').split('\n').slice(-8).join('\n') : '';
      throw new Error(`dockerd did not start: ${tail}`);
    }
    const img = buildImage(path.join(this.dir, 'image.tar'));
    const r = this.cli(['load', '-q', '-i', img.tar], { timeout: 120_000 });
    if (r.status !== 0) throw new Error(`docker load failed: ${r.stderr}`);
  }

  async stop(): Promise<string[]> {
    if (this.daemon) {
      const ids = this.cli(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.cli(['rm', '-f', ...ids], { timeout: 60_000 });
      this.daemon.kill('SIGTERM');
      const exited = await Promise.race([this.daemon.done.then(() => true), sleep(20_000).then(() => false)]);
      if (!exited) {
        this.daemon.kill('SIGKILL');
        await this.daemon.done;
      }
    }
    // a system containerd keeps the daemon's (now empty) namespaces
    if (this.usesSystemContainerd) {
      for (const ns of [this.ctrdNamespace, `${this.ctrdNamespace}-plugins`]) {
        runCmd(this.dir, 'ctr', ['--address', SYSTEM_CONTAINERD, 'namespaces', 'rm', ns]);
      }
    }
    // its containerd and shims name the exec-root, and conmons or shims left: ended by pid
    const problems = await endSuiteLeftovers(this.dir, this.cgroupParent);
    const parent = path.basename(this.cgroupParent);
    if (--active === 0) {
      if (!existedBefore('/run/docker') && !processRunning(/^dockerd$/)) fs.rmSync('/run/docker', { recursive: true, force: true });
      if (!existedBefore('/run/containerd') && !processRunning(/^containerd/)) removeEmptyTree('/run/containerd');
    }
    problems.push(...processesMentioning([this.dir, `${parent}/`]));
    problems.push(...cgroupsNamed([parent], true).map((c) => `cgroup ${c}`));
    return problems;
  }

  // dockerd's own log, for failure messages
  daemonLogTail(n = 20): string {
    return runCmd(this.dir, 'tail', ['-n', String(n), this.log]).stdout;
  }
}
