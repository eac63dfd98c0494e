// `create` (and the first half of `run`): start the native stage (it waits
// for its plan), validate everything, then claim the id, make the cgroup,
// send the stage its plan and walk it through the handshake. Any failure
// rolls back all of it.

import { fs } from '../sys/fs.js';
import type net from 'node:net';
import * as path from '../sys/paths.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { openCgroupManager } from '../cgroups/open.js';
import { readHostLayout, type CgroupLayout } from '../cgroups/layout.js';
import { resolveCgroupsPath } from '../cgroups/path.js';
import { checkCgroupBeforeJoin, destroyAfterFailedCreate } from '../cgroups/ownership.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { isSameProcessAlive, processStartTime, readLastCap, waitForExit } from '../linux/proc.js';
import type { Logger } from '../log/logger.js';
import { encodePlan } from '../plan/encode.js';
import type { Plan } from '../plan/types.js';
import { readConfig, resolveRootfs } from '../spec/load.js';
import { checkConfigSchema, formatSchemaIssue } from '../spec/schema.js';
import { compilePlan, netnsAheadFor, type CgroupMountInfo } from '../spec/to-plan.js';
import type { Spec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { ociState } from '../state/oci.js';
import { OCI_VERSION, StateStore, validateId, type ContainerState } from '../state/store.js';
import { runHooks } from './hooks.js';
import { initError, type InitChannel } from './init-channel.js';
import { spawnStage, stageConsoleFd, type StageProcess } from './stage-process.js';
import { connectUnix, findInitBinary, writePidFileAtomic } from './native-stage.js';
import { initStarted, prepareCreateExtras, seccompNotifyState } from './create-extras.js';

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
  stage0: StageProcess;
}

// The native stage; the lookup lives in native-stage.ts, shared with exec.
export const initBinary = findInitBinary;

// onRead: called with config.json as read, before any check of it
export async function loadValidSpec(
  bundleArg: string,
  opts: { consoleSocket: boolean; detached: boolean },
  log?: { phase(name: string): void },
  onRead?: (raw: unknown) => void,
): Promise<{ spec: Spec; bundle: string; rootfs: string }> {
  const { bundle, raw } = readConfig(bundleArg);
  onRead?.(raw);
  log?.phase('validate');
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

// exported for `runt explain`, which builds the same plan without side effects
export function cgroupMountInfo(layout: CgroupLayout, cg: CgroupManager): CgroupMountInfo {
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

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function statSource(p: string): 'dir' | 'file' | 'missing' {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

function writeProcFile(pid: number, file: string, text: string, code: (typeof Codes)[keyof typeof Codes], what: string): void {
  try {
    fs.writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (err) {
    throw fromSystemError(code, what, err, { path: `/proc/${pid}/${file}` });
  }
}

// Fault injection for the reliability tests (test/integration/faults.test.ts):
// RUNT_FAULT=<point> makes `create` SIGKILL itself at that named point, as
// an engine killing the runtime at the worst moment would. The points, in
// order: before-state, after-claim, after-state, after-cgroup, after-spawn,
// before-pid, after-pid, in-hooks, after-ready, after-record. One env lookup
// per point; never set outside tests.
export const FAULT_POINTS = [
  'before-state', 'after-claim', 'after-state', 'after-cgroup', 'after-spawn',
  'before-pid', 'after-pid', 'in-hooks', 'after-ready', 'after-record',
] as const;
function faultPoint(name: (typeof FAULT_POINTS)[number]): void {
  if (process.env.RUNT_FAULT === name) process.kill(process.pid, 'SIGKILL');
}

export async function createContainer(store: StateStore, opts: CreateOptions, log: Logger): Promise<Created> {
  const id = validateId(opts.id);
  if (store.exists(id)) {
    throw new RuntimeError(Codes.ContainerExists, `container "${id}" already exists`, {
      path: store.dir(id),
      hint: `pick another id, or remove the old container with \`runt delete --force ${id}\``,
    });
  }
  // The native stage starts as soon as config.json is read: its exec and
  // the network namespace it makes ahead (1-2 ms together) then overlap the
  // schema check, the plan and the cgroups instead of following them. It
  // only waits for its plan until then, and ends on an empty one: a create
  // refused before it gets its plan ends it (below). With a console socket
  // it starts where it always did, once the socket is connected.
  let ahead: Promise<StageProcess> | undefined;
  const startAhead = (raw: unknown): void => {
    if (opts.consoleSocket) return;
    try {
      ahead = spawnStage({ init: initBinary(), preserveFds: opts.preserveFds, netnsAhead: netnsAheadFor(raw) });
    } catch (err) {
      ahead = Promise.reject(err);
    }
    ahead.catch(() => {}); // awaited where the stage is needed
  };
  try {
    return await createWithStage(store, id, opts, log, startAhead, () => ahead);
  } catch (err) {
    await endStage(ahead);
    throw err;
  }
}

// Kill a stage started ahead and wait (briefly) until it is gone; a no-op
// for one the failed create's rollback has ended already.
async function endStage(ahead: Promise<StageProcess> | undefined): Promise<void> {
  const stage = await ahead?.catch(() => undefined);
  if (!stage) return;
  if (stage.running()) stage.kill('SIGKILL');
  await Promise.race([stage.exited.catch(() => 0), new Promise((r) => setTimeout(r, 2000))]);
}

async function createWithStage(
  store: StateStore,
  id: string,
  opts: CreateOptions,
  log: Logger,
  startAhead: (raw: unknown) => void,
  ahead: () => Promise<StageProcess> | undefined,
): Promise<Created> {
  log.phase('load');
  const { spec, bundle, rootfs } = await loadValidSpec(opts.bundle, { consoleSocket: !!opts.consoleSocket, detached: opts.detach }, log, startAhead);
  log.phase('plan');
  const layout = readHostLayout();
  const cg = await openCgroupManager(layout, resolveCgroupsPath(spec.linux?.cgroupsPath, id, opts.systemdCgroup), id);

  // The plan is computed before any side effect (the stage started ahead
  // only waits, and is ended on failure): a config that cannot be compiled
  // leaves nothing behind.
  const preserved = opts.preserveFds;
  const consoleFd = opts.consoleSocket ? stageConsoleFd(preserved) : undefined;
  // seccomp BPF, LSM and resctrl facts: still before any side effect
  const extras = await prepareCreateExtras(spec, store, log);
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
    ...extras,
  });
  for (const w of plan.warnings) log.warn(w);
  const encoded = encodePlan(plan);
  // the binary, for a stage not started ahead (startAhead looked it up
  // already; a failed start surfaces at the spawn phase)
  const init = ahead() ? '' : initBinary();

  // ---- side effects start here; everything below is undone on failure
  log.phase('state');
  faultPoint('before-state');
  store.claim(id);
  faultPoint('after-claim');
  // runc 1.1: a frozen cgroup is refused, a populated one only warned about.
  // Checked once the id is ours: a create that loses the race for the id
  // must not report the winner's init in "its" cgroup. What was in the
  // cgroup before us is not ours to kill if create fails. planned: the
  // directories create will make; where none of the container's exists yet
  // (the usual case), there is nothing to read.
  const planned = cg.plannedDirs();
  const fresh = planned !== undefined && Object.values(cg.saved.paths).every((d) => planned.includes(d));
  let cgroupPidsBefore: Set<number>;
  try {
    const pids = fresh ? [] : cg.pids();
    if (!fresh) for (const w of checkCgroupBeforeJoin(cg, pids)) log.warn(w);
    cgroupPidsBefore = new Set(pids);
  } catch (err) {
    store.remove(id);
    throw err;
  }
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
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
  };
  let stage0: StageProcess | undefined;
  let consoleSock: net.Socket | undefined;
  let channel: InitChannel | undefined;
  try {
    // The cgroup directories about to be made are recorded as ours first,
    // so that one write covers both (a write of state.json costs 0.1-0.4 ms
    // on ext4); delete copes with claimed ones that never got made.
    if (planned) state.cgroup = { ...cg.saved, created: [...cg.saved.created, ...planned] };
    store.write(state);
    faultPoint('after-state');
    // The native stage (started ahead, when there is no console socket)
    // waits for its plan while the cgroups are made; meanwhile it makes the
    // network namespace (plan.netnsAhead), the dearest part of the clone.
    log.phase('spawn');
    if (opts.consoleSocket) consoleSock = await connectUnix(opts.consoleSocket);
    log.debug('native stage', { binary: init || 'started ahead', ops: plan.ops.length });
    stage0 = await (ahead() ?? spawnStage({ init, preserveFds: preserved, netnsAhead: plan.netnsAhead, consoleSocket: consoleSock }));
    channel = stage0.channel;
    log.phase('cgroup');
    cg.create();
    const recorded = state.cgroup?.created ?? [];
    state.cgroup = cg.saved;
    // rewritten only when what was made differs from the plan (a race with
    // another creator of a parent, or a manager without a plan)
    if (!planned || !sameList(recorded, cg.saved.created)) store.write(state);
    faultPoint('after-cgroup');
    // The limits are written while the native stage clones the init and
    // the init mounts: until "G", which the handshake sends only after
    // this, it runs nothing but runt-init's own steps, and the plan puts
    // its wait for G before anything the limits govern (device nodes, a
    // mount of a device; to-plan.ts goFirst).
    stage0.sendPlan(encoded);
    for (const w of cg.apply(spec.linux?.resources, { linuxDevicePaths: (spec.linux?.devices ?? []).map((d) => d.path) })) log.warn(w);
    faultPoint('after-spawn');
    // the native stage's phases, timed by the frames it sends: P (cloned),
    // H (hooks wanted), R (ready)
    log.phase('stage0');
    await handshake(store, state, spec, plan, channel, cg, log);
    consoleSock?.destroy();
    channel.close();

    faultPoint('after-ready');
    delete state.creatorPid;
    delete state.creatorStartTime;
    store.write(state);
    faultPoint('after-record');
    if (opts.pidFile) writePidFileAtomic(opts.pidFile, state.pid!);
    return { state, stage0 };
  } catch (err) {
    channel?.close();
    consoleSock?.destroy();
    rollback(store, state, cg, cgroupPidsBefore, stage0, log);
    throw err;
  }
}

async function handshake(store: StateStore, state: ContainerState, spec: Spec, plan: Plan, channel: InitChannel, cg: CgroupManager, log: Logger): Promise<void> {
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
        log.phase('runtime-setup');
        const pid = Number(frame.payload.toString('latin1'));
        faultPoint('before-pid');
        state.pid = pid;
        // read while the init waits for "G": the pid is surely ours
        state.pidStartTime = processStartTime(pid);
        log.debug('container init started', { pid });
        // systemd driver: systemd moves the init into its scope (runc Apply(pid))
        if (cg.attach) for (const w of cg.attach(pid)) log.warn(w);
        if (plan.newUserNamespace) {
          writeProcFile(pid, 'uid_map', plan.uidMap!, Codes.IdMapWrite, 'write the uid mappings');
          writeProcFile(pid, 'gid_map', plan.gidMap!, Codes.IdMapWrite, 'write the gid mappings');
        }
        if (spec.process?.oomScoreAdj !== undefined) {
          writeProcFile(pid, 'oom_score_adj', String(spec.process.oomScoreAdj), Codes.ProcessConfig, 'set oom_score_adj');
        }
        initStarted(spec, state.id, pid);
        const creating = JSON.stringify(ociState(state, 'creating', pid));
        channel.send('G', creating);
        // Recorded while the init sets itself up, off its critical path, so
        // that delete --force finds the init if we die from here on. Dying
        // just before this leaves what "before-pid" leaves: an init that
        // delete --force still finds through the cgroup.
        store.write(state);
        faultPoint('after-pid');
        log.phase('init-setup');
        break;
      }
      case 'H': {
        log.phase('hooks');
        faultPoint('in-hooks');
        const s = ociState(state, 'creating', state.pid);
        await runHooks('prestart', spec.hooks?.prestart, s);
        await runHooks('createRuntime', spec.hooks?.createRuntime, s);
        channel.send('h');
        log.phase('init-finish');
        break;
      }
      case 'S':
        channel.send('N', seccompNotifyState(spec, state));
        break;
      case 'W':
        log.warn(frame.payload.toString('utf8'));
        break;
      case 'E': {
        // name the config member of the failing operation (loaded only on failure)
        const { withConfigField } = await import('../diagnostics/op-field.js');
        throw withConfigField(initError(frame.payload, plan, what), frame.payload, spec, plan, state.bundle);
      }
      case 'R':
        log.phase('record');
        return;
      default:
        throw new RuntimeError(Codes.InitProtocol, `${what}: unexpected frame "${frame.type}" from the init`);
    }
  }
}

// Undo a failed create: the init (if any), the cgroup, the state dir.
function rollback(store: StateStore, state: ContainerState, cg: CgroupManager, cgroupPidsBefore: Set<number>, stage0: StageProcess | undefined, log: Logger): void {
  try {
    if (stage0?.running()) stage0.kill('SIGKILL');
    // only our init: a pid whose start time is unknown or changed is gone
    // already, and may name someone else's process by now
    if (state.pid && state.pidStartTime !== undefined && isSameProcessAlive(state.pid, state.pidStartTime)) {
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Our processes must be out of the cgroup before it can go; anything
    // still in it afterwards is someone else's (a shared cgroup).
    if (state.pid) waitForExit(state.pid, state.pidStartTime, 5000);
    if (stage0?.pid) waitForExit(stage0.pid, undefined, 5000);
    for (const note of destroyAfterFailedCreate(cg, state.config, cgroupPidsBefore)) log.debug(note);
  } catch (err) {
    log.warn(`cleanup after failed create: ${(err as Error).message}`);
  }
  try {
    store.remove(state.id);
  } catch (err) {
    log.warn(`cleanup after failed create: ${(err as Error).message}`);
  }
}
