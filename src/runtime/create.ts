// `create` (and the first half of `run`): validate everything, then claim the
// id, make the cgroup, spawn the native stage with the plan and walk it
// through the handshake. Any failure rolls back all of it.

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newCgroupManager, type CgroupManager } from '../cgroups/manager.js';
import { readHostLayout, type CgroupLayout } from '../cgroups/layout.js';
import { resolveCgroupsPath } from '../cgroups/path.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { processStartTime, readLastCap } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import { encodePlan } from '../plan/encode.js';
import type { Plan } from '../plan/types.js';
import { readConfig, resolveRootfs } from '../spec/load.js';
import { checkConfigSchema, formatSchemaIssue } from '../spec/schema.js';
import { compilePlan, type CgroupMountInfo } from '../spec/to-plan.js';
import type { Spec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { ociState } from '../state/oci.js';
import { OCI_VERSION, StateStore, validateId, type ContainerState } from '../state/store.js';
import { runHooks } from './hooks.js';
import { InitChannel, initError } from './init-channel.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  consoleSocket: string | undefined;
  pidFile: string | undefined;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  systemdCgroup: boolean;
  detach: boolean; // false only for a foreground `run`
}

export interface Created {
  state: ContainerState;
  // run mode: the native stage stays as the init's parent and exits with its status
  stage0: ChildProcess;
}

export function initBinary(): string {
  if (process.env.RUNT_INIT) return process.env.RUNT_INIT;
  // dist/src/runtime/create.js (tsc output) or dist/bundle/*.js (the bundle) -> bin/runt-init
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../../bin/runt-init'), path.resolve(here, '../../../bin/runt-init')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new RuntimeError(Codes.InitSpawn, 'the native stage runt-init was not found', { hint: 'run `make` to build bin/runt-init, or set RUNT_INIT' });
}

export async function loadValidSpec(bundleArg: string, opts: { consoleSocket: boolean; detached: boolean }): Promise<{ spec: Spec; bundle: string; rootfs: string }> {
  const { bundle, raw } = readConfig(bundleArg);
  const issues = await checkConfigSchema(raw);
  if (issues.length) {
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}; \`runt validate\` lists them)` : '';
    throw new RuntimeError(Codes.ConfigSchema, formatSchemaIssue('config.json', first) + more, { field: first.pointer, path: path.join(bundle, 'config.json') });
  }
  const spec = raw as Spec;
  validateSpec(spec, opts);
  const rootfs = resolveRootfs(bundle, spec);
  return { spec, bundle, rootfs };
}

function cgroupMountInfo(layout: CgroupLayout, cg: CgroupManager): CgroupMountInfo {
  const paths = cg.saved.paths;
  return {
    mode: layout.mode,
    v1: layout.v1
      .filter((h) => paths[h.key] !== undefined)
      .map((h) => ({
        key: h.key,
        dirName: path.basename(h.mountpoint),
        controllers: h.controllers,
        containerDir: paths[h.key]!,
        superOptions: h.superOptions,
      })),
    unified: paths.unified !== undefined ? { containerDir: paths.unified } : undefined,
  };
}

// The user name of our uid, as runc's `list` shows it; looked up in
// /etc/passwd directly (os.userInfo() says "unknown" on Bun).
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    // no passwd: fall through
  }
  return `#${uid}`;
}

function statSource(p: string): 'dir' | 'file' | 'missing' {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}



function connectConsoleSocket(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: p });
    sock.once('connect', () => resolve(sock));
    sock.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new RuntimeError(Codes.ConsoleSocket, `cannot connect to console socket ${p}: ${err.code ?? err.message}`, {
          path: p,
          errno: err.code,
          hint: 'the console socket must be a listening unix socket (e.g. recvtty)',
        }),
      ),
    );
  });
}

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
  try {
    fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
    fs.renameSync(tmp, abs);
  } catch (err) {
    throw fromSystemError(Codes.PidFile, `write pid file ${abs}`, err, { path: abs });
  }
}

function writeProcFile(pid: number, file: string, text: string, code: (typeof Codes)[keyof typeof Codes], what: string): void {
  try {
    fs.writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (err) {
    throw fromSystemError(code, what, err, { path: `/proc/${pid}/${file}` });
  }
}

export async function createContainer(store: StateStore, opts: CreateOptions, log: Logger): Promise<Created> {
  const id = validateId(opts.id);
  if (store.exists(id)) {
    throw new RuntimeError(Codes.ContainerExists, `container "${id}" already exists`, {
      path: store.dir(id),
      hint: `pick another id, or remove the old container with \`runt delete --force ${id}\``,
    });
  }
  const { spec, bundle, rootfs } = await loadValidSpec(opts.bundle, { consoleSocket: !!opts.consoleSocket, detached: opts.detach });
  const layout = readHostLayout();
  const cg = newCgroupManager(layout, resolveCgroupsPath(spec.linux?.cgroupsPath, id, opts.systemdCgroup), id);

  // The plan is computed before any side effect: a config that cannot be
  // compiled leaves nothing behind.
  const preserved = opts.preserveFds;
  const planFd = 3 + preserved;
  const syncFd = planFd + 1;
  const consoleFd = opts.consoleSocket ? syncFd + 1 : undefined;
  const plan: Plan = compilePlan(spec, {
    id,
    bundle,
    rootfs,
    fifoPath: store.fifoPath(id),
    cgroupProcs: cg.procsFiles(),
    cgroupMounts: cgroupMountInfo(layout, cg),
    consoleSocketFd: consoleFd,
    preserveFds: preserved,
    noPivot: opts.noPivot,
    noNewKeyring: opts.noNewKeyring,
    lastCap: readLastCap(),
    stay: !opts.detach,
    statSource,
  });
  for (const w of plan.warnings) log.warn(w);
  const encoded = encodePlan(plan);
  const init = initBinary();

  // ---- side effects start here; everything below is undone on failure
  store.claim(id);
  const state: ContainerState = {
    ociVersion: OCI_VERSION,
    id,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: ownerName(),
    annotations: spec.annotations ?? {},
    creatorPid: process.pid,
    creatorStartTime: processStartTime(process.pid),
    cgroup: cg.saved,
    config: spec,
  };
  let stage0: ChildProcess | undefined;
  let consoleSock: net.Socket | undefined;
  let channel: InitChannel | undefined;
  try {
    store.write(state);
    cg.create();
    state.cgroup = cg.saved;
    store.write(state);
    for (const w of cg.apply(spec.linux?.resources, { linuxDevicePaths: (spec.linux?.devices ?? []).map((d) => d.path) })) log.warn(w);
    if (opts.consoleSocket) consoleSock = await connectConsoleSocket(opts.consoleSocket);

    const stdio: StdioOptions = ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < 3 + preserved; fd++) stdio.push(fd);
    stdio.push('pipe', 'pipe');
    if (consoleSock) stdio.push(consoleSock);
    log.debug('spawn native stage', { binary: init, ops: plan.ops.length });
    stage0 = spawn(init, [String(planFd), String(syncFd)], { stdio, env: {} });
    const spawned = stage0;
    const spawnError = new Promise<never>((_, reject) =>
      spawned.once('error', (err: NodeJS.ErrnoException) =>
        reject(fromSystemError(Codes.InitSpawn, `start the native stage ${init}`, err, { path: init })),
      ),
    );
    const planStream = stage0.stdio[planFd] as NodeJS.WritableStream;
    planStream.on('error', () => {});
    planStream.end(encoded);
    channel = new InitChannel(stage0.stdio[syncFd] as unknown as import('node:stream').Duplex);
    await Promise.race([handshake(store, state, spec, plan, channel, log), spawnError]);
    consoleSock?.destroy();
    channel.close();

    delete state.creatorPid;
    delete state.creatorStartTime;
    store.write(state);
    if (opts.pidFile) writePidFile(opts.pidFile, state.pid!);
    return { state, stage0 };
  } catch (err) {
    channel?.close();
    consoleSock?.destroy();
    rollback(store, state, cg, stage0, log);
    throw err;
  }
}

async function handshake(store: StateStore, state: ContainerState, spec: Spec, plan: Plan, channel: InitChannel, log: Logger): Promise<void> {
  const what = `cannot create container "${state.id}"`;
  for (;;) {
    const frame = await channel.next();
    if (!frame) {
      throw new RuntimeError(Codes.InitDied, `${what}: the container's init exited during setup without reporting why`, {
        phase: state.pid ? 'init' : 'stage0',
        hint: 'run with --debug, and check the kernel log (dmesg) for a crash or an LSM denial',
      });
    }
    switch (frame.type) {
      case 'P': {
        const pid = Number(frame.payload.toString('latin1'));
        state.pid = pid;
        state.pidStartTime = processStartTime(pid);
        // recorded at once, so that delete --force finds the init even if we die now
        store.write(state);
        log.debug('container init started', { pid });
        if (plan.newUserNamespace) {
          writeProcFile(pid, 'uid_map', plan.uidMap!, Codes.IdMapWrite, 'write the uid mappings');
          writeProcFile(pid, 'gid_map', plan.gidMap!, Codes.IdMapWrite, 'write the gid mappings');
        }
        if (spec.process?.oomScoreAdj !== undefined) {
          writeProcFile(pid, 'oom_score_adj', String(spec.process.oomScoreAdj), Codes.ProcessConfig, 'set oom_score_adj');
        }
        const creating = JSON.stringify(ociState(state, 'creating', pid));
        channel.send('G', creating);
        break;
      }
      case 'H': {
        const s = ociState(state, 'creating', state.pid);
        await runHooks('prestart', spec.hooks?.prestart, s);
        await runHooks('createRuntime', spec.hooks?.createRuntime, s);
        channel.send('h');
        break;
      }
      case 'W':
        log.warn(frame.payload.toString('utf8'));
        break;
      case 'E':
        throw initError(frame.payload, plan, what);
      case 'R':
        return;
      default:
        throw new RuntimeError(Codes.InitProtocol, `${what}: unexpected frame "${frame.type}" from the init`);
    }
  }
}

// Undo a failed create: the init (if any), the cgroup, the state dir.
function rollback(store: StateStore, state: ContainerState, cg: CgroupManager, stage0: ChildProcess | undefined, log: Logger): void {
  try {
    if (stage0 && stage0.exitCode === null) stage0.kill('SIGKILL');
    if (state.pid) {
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    cg.destroy();
  } catch (err) {
    log.warn(`cleanup after failed create: ${(err as Error).message}`);
  }
  try {
    store.remove(state.id);
  } catch (err) {
    log.warn(`cleanup after failed create: ${(err as Error).message}`);
  }
}
