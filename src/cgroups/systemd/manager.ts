// The systemd cgroup driver (--systemd-cgroup), cgroup v2: the container's
// cgroup is a transient scope that systemd creates, owns and removes; runt
// asks for it over the system bus (sd-bus, src/sys/sdbus.ts) and then drives
// its cgroup files like the v2 manager does, as runc's systemd driver wraps
// fs2 (libcontainer/cgroups/systemd/v2.go):
//
// - create: nothing yet but checks (systemd is PID 1, the host is pure v2);
//   the resources given to apply() are kept for attach().
// - attach(init pid): StartTransientUnit("<prefix>-<name>.scope", "replace",
//   Slice, PIDs=[pid], Delegate=yes, accounting, resource properties), wait
//   for the job's JobRemoved signal, enable the controllers systemd leaves
//   off (hugetlb, rdma, misc) in the ancestors' subtree_control, then write
//   every resource to the scope's files as runc's fs2 Set does.
// - apply() later (update): SetUnitProperties(runtime) + the files.
// - freeze/thaw/pids/kill/stats/events: the v2 manager on the scope's cgroup.
// - destroy: StopUnit, wait for the job, ResetFailedUnit, rmdir what is left.

import { fs } from '../../sys/fs.js';
import { Codes, type ErrorCode } from '../../errors/codes.js';
import { RuntimeError, fromSystemError } from '../../errors/runtime-error.js';
import type { Resources } from '../../spec/types.js';
import { BusError, type MessageWriter, SystemBus } from '../../sys/sdbus.js';
import { mkdirTracked, removeCgroupDir, removeDirs } from '../common.js';
import { effectiveDeviceRules } from '../devices.js';
import type { ApplyOptions, CgroupManagerOptions, DestroyOptions, SavedCgroup } from '../manager.js';
import { V2Manager } from '../v2.js';
import { type Prop, parseProcDevices, resourceProperties, scopeProperties } from './properties.js';

const SYSTEMD = 'org.freedesktop.systemd1';
const SYSTEMD_PATH = '/org/freedesktop/systemd1';
const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
const JOB_TIMEOUT_MS = 30_000; // runc's startUnit/stopUnit

export interface SavedSystemd {
  unit: string; // "runt-c1.scope"
  slice: string; // "system.slice"
}

// sd_booted(3), runc IsRunningSystemd: /run/systemd/system is a directory.
export function systemdBooted(root = '/run/systemd/system'): boolean {
  try {
    return fs.lstatSync(root).isDirectory();
  } catch {
    return false;
  }
}

function unavailable(msg: string, hint: string): RuntimeError {
  return new RuntimeError(Codes.CgroupSystemdUnavailable, msg, { hint });
}

let sharedBus: SystemBus | undefined;
function bus(): SystemBus {
  if (sharedBus) return sharedBus;
  if (!systemdBooted()) {
    throw unavailable('--systemd-cgroup: systemd is not running as init on this host (no /run/systemd/system)', 'run without --systemd-cgroup (the cgroupfs driver), or on a host booted with systemd');
  }
  try {
    sharedBus = SystemBus.open();
  } catch (err) {
    throw unavailable(`--systemd-cgroup: ${(err as Error).message}`, 'is dbus running? (systemctl status dbus.socket; the socket is /run/dbus/system_bus_socket)');
  }
  return sharedBus;
}

function appendProps(w: MessageWriter, props: Prop[]): void {
  w.open('a', '(sv)');
  for (const p of props) {
    w.open('r', 'sv').string('s', p.name).open('v', p.sig);
    switch (p.sig) {
      case 't': w.u64(p.value); break;
      case 'b': w.bool(p.value); break;
      case 's': w.string('s', p.value); break;
      case 'ay': w.bytes(p.value); break;
      case 'au':
        w.open('a', 'u');
        for (const v of p.value) w.u32(v);
        w.close();
        break;
      case 'a(ss)':
        w.open('a', '(ss)');
        for (const [a, b] of p.value) w.open('r', 'ss').string('s', a).string('s', b).close();
        w.close();
        break;
    }
    w.close().close();
  }
  w.close();
}

const isBusError = (err: unknown, name: string): boolean => err instanceof BusError && err.busName === name;

export class SystemdManager extends V2Manager {
  private readonly sd: SavedSystemd;
  private creating = false;
  private pending: { resources: Resources | undefined; opts: ApplyOptions } | undefined;
  private version: number | undefined;
  // directories create() made before systemd knew of them, and whether
  // systemd accepted our StartTransientUnit since
  private premade: string[] = [];
  private started = false;

  // fresh: made for `create` (the scope does not exist yet); otherwise
  // loaded from a container's state
  constructor(saved: SavedCgroup, opts: CgroupManagerOptions = {}, fresh = false) {
    super(saved, opts);
    if (!saved.systemd) throw new RuntimeError(Codes.StateCorrupt, 'saved cgroup state has no systemd unit');
    this.sd = saved.systemd;
    this.creating = fresh;
  }

  get unit(): string {
    return this.sd.unit;
  }

  // No plan: systemd owns the scope's directory (create() only pre-makes
  // it, and keeps that record itself, in premade).
  override plannedDirs(): undefined {
    return undefined;
  }

  // Checks only: the scope is made by attach(), once the init exists.
  // The scope's directory is made now, empty: the native stage opens it
  // before the init exists (a bind of the container's cgroup onto
  // /sys/fs/cgroup when it has no cgroup namespace), and systemd adopts an
  // existing directory when it starts the unit (cg_create ignores EEXIST).
  override create(): void {
    bus();
    if (this.saved.mode !== 'v2') {
      throw new RuntimeError(Codes.CgroupSystemd, `--systemd-cgroup on a cgroup ${this.saved.mode} host is not supported yet (cannot create ${this.unit})`, {
        hint: 'boot with systemd.unified_cgroup_hierarchy=1 for pure cgroup v2, or run without --systemd-cgroup',
      });
    }
    try {
      this.premade = mkdirTracked(this.dir);
    } catch (err) {
      throw fromSystemError(Codes.CgroupSetup, `create the cgroup of ${this.unit}`, err, { path: this.dir });
    }
  }

  // The init is moved into the scope by systemd (attach), not by itself.
  override procsFiles(): string[] {
    return this.creating ? [] : super.procsFiles();
  }

  override apply(resources: Resources | undefined, opts: ApplyOptions = {}): string[] {
    if (this.creating) {
      this.pending = { resources, opts };
      return [];
    }
    this.setUnitProperties(resources, opts);
    return super.apply(resources, opts);
  }

  // StartTransientUnit with the init's pid; then the files.
  attach(pid: number): string[] {
    const pending = this.pending ?? { resources: undefined, opts: {} };
    const props = scopeProperties({ id: this.sd.unit, slice: this.sd.slice, pid }, this.resourceProps(pending.resources, pending.opts));
    this.startUnit(props);
    this.creating = false;
    // systemd enables only the controllers it manages; runc's
    // fs2.CreateCgroupPath then enables the rest from the root down
    super.create();
    return super.apply(pending.resources, pending.opts);
  }

  override destroy(opts: DestroyOptions = {}): string[] {
    const notes: string[] = [];
    if (this.creating && !this.started) {
      // a create that failed before systemd accepted our unit: whatever
      // has the name (another container's scope) is not ours to touch
      removeDirs(this.premade);
      return notes;
    }
    if (fs.existsSync(this.dir)) {
      try {
        this.thaw();
      } catch {
        // stopping the unit thaws it too
      }
      if (opts.killAll) {
        try {
          this.signalAll(9);
        } catch {
          // the unit's stop kills what is left
        }
      }
    }
    this.stopUnit();
    if (fs.existsSync(this.dir)) {
      try {
        removeCgroupDir(this.dir);
      } catch (err) {
        notes.push(`cgroup ${this.dir} of ${this.unit} left in place: ${(err as Error).message}`);
      }
    }
    return notes;
  }

  private resourceProps(resources: Resources | undefined, opts: ApplyOptions): Prop[] {
    let majors: ReturnType<typeof parseProcDevices> | undefined;
    try {
      majors = parseProcDevices(fs.readFileSync('/proc/devices', 'utf8'));
    } catch {
      // names are only needed for "char-<name>" entries
    }
    const deviceRules = opts.skipDevices ? undefined : effectiveDeviceRules(resources?.devices, opts.linuxDevicePaths);
    return resourceProperties(resources, {
      systemdVersion: this.systemdVersion(),
      deviceRules,
      ...(majors ? { charMajors: majors.char, blockMajors: majors.block } : {}),
    }).props;
  }

  private setUnitProperties(resources: Resources | undefined, opts: ApplyOptions): void {
    const props = this.resourceProps(resources, opts);
    if (props.length === 0) return;
    try {
      bus().call(SYSTEMD, SYSTEMD_PATH, MANAGER_IFACE, 'SetUnitProperties', (w) => {
        w.string('s', this.unit).bool(true);
        appendProps(w, props);
      }, () => undefined);
    } catch (err) {
      throw this.busFailure('set the properties of', err);
    }
  }

  systemdVersion(): number {
    if (this.version !== undefined) return this.version;
    let v = -1;
    try {
      const s = bus().call(SYSTEMD, SYSTEMD_PATH, 'org.freedesktop.DBus.Properties', 'Get', (w) => w.string('s', MANAGER_IFACE).string('s', 'Version'), (r) => r.enter('v', 's').string());
      // "252.39-1~deb12u1", "v245.4-1.fc32"
      const m = /^"?v?(\d+)/.exec(s);
      if (m) v = Number(m[1]);
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
    }
    return (this.version = v);
  }

  private startUnit(props: Prop[]): void {
    const b = bus();
    this.subscribeJobs(b);
    const start = (): string =>
      b.call(SYSTEMD, SYSTEMD_PATH, MANAGER_IFACE, 'StartTransientUnit', (w) => {
        w.string('s', this.unit).string('s', 'replace');
        appendProps(w, props);
        w.open('a', '(sa(sv))').close(); // no auxiliary units
      }, (r) => r.string('o'));
    let job: string;
    try {
      job = start();
    } catch (err) {
      if (!isBusError(err, 'org.freedesktop.systemd1.UnitExists')) throw this.busFailure('create', err);
      // a leftover failed unit of the same name: let systemd forget it and
      // retry once (runc startUnit)
      this.resetFailed();
      try {
        job = start();
      } catch (err2) {
        throw this.busFailure('create', err2, isBusError(err2, 'org.freedesktop.systemd1.UnitExists') ? 'another container (or unit) uses this name: give each container its own cgroupsPath' : undefined);
      }
    }
    // the unit is ours from here on: a failed create stops it
    this.started = true;
    const result = this.waitJob(b, job);
    if (result !== 'done') {
      this.resetFailed();
      throw new RuntimeError(Codes.CgroupSystemd, `systemd could not start ${this.unit}: its job ended with "${result ?? 'timeout'}"`, {
        hint: `see journalctl -u ${this.unit} (and systemctl status ${this.sd.slice})`,
      });
    }
  }

  private stopUnit(): void {
    const b = bus();
    this.subscribeJobs(b);
    let job: string | undefined;
    try {
      job = b.call(SYSTEMD, SYSTEMD_PATH, MANAGER_IFACE, 'StopUnit', (w) => w.string('s', this.unit).string('s', 'replace'), (r) => r.string('o'));
    } catch (err) {
      // gone already: systemd collects a scope once it is empty
      if (!isBusError(err, 'org.freedesktop.systemd1.NoSuchUnit')) throw this.busFailure('stop', err, undefined, Codes.CgroupRemove);
    }
    if (job !== undefined) {
      const result = this.waitJob(b, job);
      if (result === undefined) throw new RuntimeError(Codes.CgroupRemove, `timeout waiting for systemd to stop ${this.unit}`, { hint: `systemctl stop ${this.unit}` });
    }
    this.resetFailed();
  }

  private resetFailed(): void {
    try {
      bus().call(SYSTEMD, SYSTEMD_PATH, MANAGER_IFACE, 'ResetFailedUnit', (w) => w.string('s', this.unit), () => undefined);
    } catch {
      // not failed, or not loaded: nothing to forget
    }
  }

  // JobRemoved reaches the client that queued the job (systemd tracks it
  // as the job's requester), but the bus daemon only routes signals that
  // match a rule of ours.
  private subscribeJobs(b: SystemBus): void {
    const rule = `type='signal',sender='${SYSTEMD}',path='${SYSTEMD_PATH}',interface='${MANAGER_IFACE}',member='JobRemoved'`;
    b.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', (w) => w.string('s', rule), () => undefined);
  }

  // JobRemoved(u id, o job, s unit, s result): "done", "canceled",
  // "timeout", "failed", "dependency", "skipped"; undefined on timeout.
  private waitJob(b: SystemBus, job: string): string | undefined {
    return b.waitSignal({ iface: MANAGER_IFACE, member: 'JobRemoved' }, (r) => {
      r.u32();
      return r.string('o') === job ? (r.string(), r.string()) : undefined;
    }, Date.now() + JOB_TIMEOUT_MS);
  }

  private busFailure(what: string, err: unknown, hint?: string, code: ErrorCode = Codes.CgroupSystemd): RuntimeError {
    if (err instanceof RuntimeError) return err;
    const e = err as BusError;
    return new RuntimeError(code, `systemd: cannot ${what} ${this.unit}: ${e.message}${e.busName ? ` (${e.busName})` : ''}`, {
      ...(hint ? { hint } : { hint: `check the unit with: systemctl status ${this.unit}` }),
      cause: err,
    });
  }
}
