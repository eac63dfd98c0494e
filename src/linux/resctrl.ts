// linux.intelRdt: the container's processes go into a resctrl group
// (config-linux.md "IntelRdt"; runc libcontainer/intelrdt). The group is
// closID, or the container id when closID is not set; only a group named
// after the container is ours to create and remove (runc Destroy leaves an
// explicitly named closID alone: it is managed by someone else).

import { fs } from '../sys/fs.js';
import * as path from '../sys/paths.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';

export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[] | string;
  enableMonitoring?: boolean;
}

// The resctrl mount point, from mountinfo (fstype "resctrl").
export function findResctrl(mountinfo?: string): string | undefined {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && f[sep + 1] === 'resctrl') return (f[4] ?? '').replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

function bad(message: string, field: string): RuntimeError {
  return new RuntimeError(Codes.IntelRdtConfig, message, { field });
}

// The schemata file's content, by the spec's rules: l3CacheSchema lines
// (without MB: lines when memBwSchema is set), then memBwSchema, then
// schemata.
export function schemataText(r: IntelRdt): string[] {
  const out: string[] = [];
  const l3 = (r.l3CacheSchema ?? '').split('\n').filter((l) => l !== '');
  out.push(...(r.memBwSchema ? l3.filter((l) => !l.startsWith('MB:')) : l3));
  if (r.memBwSchema) out.push(r.memBwSchema);
  const sch = Array.isArray(r.schemata) ? r.schemata : r.schemata ? r.schemata.split('\n') : [];
  out.push(...sch.filter((l) => l !== ''));
  return out;
}

export function rdtGroup(r: IntelRdt, id: string): string {
  const name = r.closID || id;
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\n')) {
    throw bad(`invalid intelRdt closID ${JSON.stringify(name)}`, '/linux/intelRdt/closID');
  }
  if (r.memBwSchema && !r.memBwSchema.startsWith('MB:')) throw bad('intelRdt memBwSchema must start with "MB:"', '/linux/intelRdt/memBwSchema');
  return name;
}

// Put pid into the container's group, creating it (and writing its
// schemata) if needed. Returns the group directory.
export function joinIntelRdt(r: IntelRdt, id: string, pid: number, root = findResctrl()): string {
  if (!root) throw bad('linux.intelRdt is set but no resctrl filesystem is mounted', '/linux/intelRdt');
  const dir = path.join(root, rdtGroup(r, id));
  const lines = schemataText(r);
  let created = false;
  try {
    fs.mkdirSync(dir);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(Codes.IntelRdtConfig, `create resctrl group ${dir}`, err, { path: dir });
  }
  // a closID without schemata must name a group that exists (the spec)
  if (created && r.closID && !lines.length) {
    fs.rmdirSync(dir);
    throw bad(`resctrl group ${r.closID} does not exist`, '/linux/intelRdt/closID');
  }
  if (lines.length) {
    const file = path.join(dir, 'schemata');
    if (created || !r.closID) {
      try {
        fs.writeFileSync(file, lines.join('\n') + '\n');
      } catch (err) {
        throw fromSystemError(Codes.IntelRdtConfig, `write ${file}`, err, { path: file, field: '/linux/intelRdt' });
      }
    } else {
      // an existing group must already have what we ask for (the spec)
      const have = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/\s+/g, ''));
      for (const l of lines) {
        if (!have.includes(l.replace(/\s+/g, ''))) throw bad(`resctrl group ${r.closID} exists with a different schemata (no ${JSON.stringify(l)})`, '/linux/intelRdt');
      }
    }
  }
  addTask(dir, pid);
  // enableMonitoring: a monitoring group of the container's own inside the
  // class of service (runc 1.4 intelrdt: mon_groups/<id>)
  if (r.enableMonitoring) {
    const mon = path.join(dir, 'mon_groups', id);
    try {
      // mon_groups exists in every resctrl group; recursive only spares us the EEXIST
      fs.mkdirSync(mon, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(Codes.IntelRdtConfig, `create resctrl monitoring group ${mon}`, err, { path: mon, field: '/linux/intelRdt/enableMonitoring' });
    }
    addTask(mon, pid);
  }
  return dir;
}

function addTask(dir: string, pid: number): void {
  const tasks = path.join(dir, 'tasks');
  try {
    fs.writeFileSync(tasks, String(pid));
  } catch (err) {
    throw fromSystemError(Codes.IntelRdtConfig, `add process ${pid} to ${tasks}`, err, { path: tasks });
  }
}

// At delete: remove the group if it is the container's own.
export function removeIntelRdt(r: IntelRdt, id: string, root = findResctrl()): void {
  if (!root) return;
  const dirs = [];
  if (r.enableMonitoring) dirs.push(path.join(root, r.closID || id, 'mon_groups', id));
  if (!r.closID) dirs.push(path.join(root, id));
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {
      // gone already, or still busy: nothing more we can do at delete
    }
  }
}
