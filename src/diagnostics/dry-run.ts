// What create would do, computed without doing it: the plan from
// compilePlan with a PlanContext built from host facts, the cgroup
// directories that would be made and the files that would be written.
// Reads the host (mountinfo, cgroup files, bind sources) but never writes,
// so it works without root. Used by `explain` and `validate`.

import fs from 'node:fs';
import path from 'node:path';
import { readHostLayout } from '../cgroups/layout.js';
import { newCgroupManager, type CgroupManager, type CgroupManagerOptions } from '../cgroups/manager.js';
import { CgroupFiles, joinPath, type WriteRecord } from '../cgroups/fsio.js';
import { resolveCgroupsPath } from '../cgroups/path.js';
import { hostSecurityFacts } from '../linux/lsm.js';
import { findResctrl } from '../linux/resctrl.js';
import { readLastCap } from '../linux/proc.js';
import type { Plan } from '../plan/types.js';
import { cgroupMountInfo } from '../runtime/create.js';
import { compilePlan } from '../spec/to-plan.js';
import type { Spec } from '../spec/types.js';
import { StateStore } from '../state/store.js';

export interface DryOptions {
  id: string;
  root: string; // --root
  systemdCgroup: boolean;
  consoleSocket: string | undefined;
  preserveFds: number;
  noPivot: boolean;
  noNewKeyring: boolean;
}

export interface DryCgroup {
  mode: string;
  paths: Record<string, string>; // hierarchy key -> the container's directory
  mkdirs: string[]; // directories create would make, top-down
  writes: WriteRecord[]; // resource files, in apply order
  warnings: string[];
  note: string | undefined; // why writes could not be listed
}

export interface DryRun {
  plan: Plan;
  cgroup: DryCgroup;
  stateDir: string;
  fifoPath: string;
  planFd: number;
  syncFd: number;
  notes: string[]; // assumptions made (e.g. a bind source we may not stat)
}

function nearestExisting(dir: string): string {
  let d = dir;
  while (d !== '/' && !fs.existsSync(d)) d = path.dirname(d);
  return d;
}

// CgroupFiles that records writes instead of doing them. Reads of files
// we "wrote" return that value; other reads come from the nearest existing
// ancestor (the container's directory does not exist yet; a new cgroup
// starts from its parent's settings or the kernel's defaults).
class DryCgroupFiles extends CgroupFiles {
  readonly records: WriteRecord[] = [];
  private readonly written = new Map<string, string>();

  override tryWrite(dir: string, file: string, value: string, field?: string): string | undefined {
    const p = joinPath(dir, file);
    this.records.push(field === undefined ? { path: p, value } : { path: p, value, field });
    this.written.set(p, value);
    return undefined;
  }

  override read(dir: string, file: string, ctx?: Parameters<CgroupFiles['read']>[2]): string {
    return this.written.get(joinPath(dir, file)) ?? super.read(nearestExisting(dir), file, ctx);
  }

  override readOptional(dir: string, file: string): string | undefined {
    return this.written.get(joinPath(dir, file)) ?? super.readOptional(nearestExisting(dir), file);
  }

  override exists(dir: string, file?: string): boolean {
    return file === undefined ? true : super.exists(nearestExisting(dir), file);
  }
}

function dirsToMake(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d !== '/' && !fs.existsSync(d); d = path.dirname(d)) out.unshift(d);
  return out;
}

// The cgroup side of create: which directories, which writes.
function dryCgroup(cg: CgroupManager, spec: Spec, io: DryCgroupFiles): DryCgroup {
  const out: DryCgroup = { mode: cg.saved.mode, paths: { ...cg.saved.paths }, mkdirs: [], writes: io.records, warnings: [], note: undefined };
  for (const dir of new Set(Object.values(cg.saved.paths))) out.mkdirs.push(...dirsToMake(dir));
  // The managers keep their file I/O in a private `io`; swap in the
  // recorder so that the real apply() logic (order, conversions, checks)
  // runs without writing. If that field ever moves, say so instead of
  // guessing.
  const m = cg as unknown as { io?: unknown };
  if (!(m.io instanceof CgroupFiles)) {
    out.note = 'the cgroup manager has no replaceable file I/O: resource writes are not listed';
    return out;
  }
  m.io = io;
  out.warnings = cg.apply(spec.linux?.resources, { linuxDevicePaths: (spec.linux?.devices ?? []).map((d) => d.path) });
  return out;
}

export function dryRun(spec: Spec, bundle: string, rootfs: string, o: DryOptions): DryRun {
  const notes: string[] = [];
  const store = new StateStore(o.root);
  const layout = readHostLayout();
  const io = new DryCgroupFiles();
  const cgOpts = {
    verifyDevices: false,
    // record the v2 eBPF device filter instead of loading it
    deviceFilterLoader: {
      attach: (dir: string) => io.records.push({ path: dir, value: 'attach the eBPF device filter (BPF_PROG_TYPE_CGROUP_DEVICE)', field: '/linux/resources/devices' }),
    },
  } as CgroupManagerOptions;
  const cg = newCgroupManager(layout, resolveCgroupsPath(spec.linux?.cgroupsPath, o.id, o.systemdCgroup), o.id, cgOpts);
  const planFd = 3 + o.preserveFds;
  const syncFd = planFd + 1;
  const plan = compilePlan(spec, {
    id: o.id,
    bundle,
    rootfs,
    fifoPath: store.fifoPath(o.id),
    cgroupProcs: cg.procsFiles(),
    cgroupMounts: cgroupMountInfo(layout, cg),
    consoleSocketFd: o.consoleSocket ? syncFd + 1 : undefined,
    preserveFds: o.preserveFds,
    noPivot: o.noPivot,
    noNewKeyring: o.noNewKeyring,
    lastCap: readLastCap(),
    stay: false,
    // seccomp stays uncompiled: the plan shows the step, explain the rules
    host: hostSecurityFacts(),
    resctrl: spec.linux?.intelRdt ? findResctrl() : undefined,
    statSource: (p) => {
      try {
        return fs.statSync(p).isDirectory() ? 'dir' : 'file';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
        // not ours to see (explain as non-root): create, as root, would see it
        notes.push(`cannot stat ${p} (${(err as NodeJS.ErrnoException).code}): assumed to be a directory`);
        return 'dir';
      }
    },
  });
  const cgroup = dryCgroup(cg, spec, io);
  return { plan, cgroup, stateDir: store.dir(o.id), fifoPath: store.fifoPath(o.id), planFd, syncFd, notes };
}
