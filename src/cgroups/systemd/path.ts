// linux.cgroupsPath with --systemd-cgroup: "slice:prefix:name" → the
// transient scope "<prefix>-<name>.scope" in "<slice>", and the directory
// systemd gives it in the unified hierarchy.
//
// runc specconv CreateCgroupConfig: an empty cgroupsPath means slice
// "system.slice", prefix "runc" (ours: "runt"), name = the container id;
// otherwise exactly three ":"-separated parts, an empty slice meaning
// "system.slice". systemd/common.go getUnitName and ExpandSlice give the unit
// and its cgroup: "a-b.slice" lives at /a.slice/a-b.slice (systemd.slice(5):
// "-" in a slice name is the hierarchy separator), "-.slice" is the root.

import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';

const FIELD = '/linux/cgroupsPath';
export const DEFAULT_SLICE = 'system.slice';
export const DEFAULT_PREFIX = 'runt';

export interface SystemdUnitPath {
  slice: string; // "system.slice", "machine-a.slice"
  unit: string; // "docker-abc.scope"
  // cgroup of the unit relative to the cgroup2 mount point:
  // "/system.slice/docker-abc.scope"
  cgroup: string;
}

// systemd's unit_name_is_valid: [a-zA-Z0-9:_.\-] plus "\" escapes (and "@"
// for templates, which a transient scope cannot be); at most 255 bytes.
const UNIT_CHARS = /^[A-Za-z0-9:_.\\-]+$/;

function invalid(msg: string): RuntimeError {
  return new RuntimeError(Codes.CgroupPath, msg, { field: FIELD, hint: 'use "slice:prefix:name", e.g. "system.slice:runt:c1" (or leave cgroupsPath empty)' });
}

// runc ExpandSlice: "test-a-b.slice" → "/test.slice/test-a.slice/test-a-b.slice".
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) {
    throw invalid(`invalid slice name ${JSON.stringify(slice)}: a slice is named "<name>.slice" without "/"`);
  }
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    // "a--b.slice" and "-a.slice" are not valid slice names
    if (component === '') throw invalid(`invalid slice name ${JSON.stringify(slice)}: empty component between "-"`);
    path += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return path;
}

export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string): SystemdUnitPath {
  const raw = cgroupsPath ?? '';
  let slice = DEFAULT_SLICE;
  let prefix = DEFAULT_PREFIX;
  let name = id;
  if (raw !== '') {
    const parts = raw.split(':');
    if (parts.length !== 3) {
      throw invalid(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(raw)} instead`);
    }
    [slice, prefix, name] = parts as [string, string, string];
    if (slice === '') slice = DEFAULT_SLICE;
  }
  if (name === '') throw invalid(`cgroupsPath ${JSON.stringify(raw)} has an empty name`);
  if (name.endsWith('.slice')) {
    // runc then creates a slice unit instead of a scope (kubelet's pod
    // slices); a container's processes cannot live in a slice.
    throw new RuntimeError(Codes.CgroupPath, `cgroupsPath ${JSON.stringify(raw)} names a slice (${name}); runt creates a scope per container`, {
      field: FIELD,
      hint: 'name the container\'s scope, e.g. "kubepods.slice:cri-containerd:<id>"',
    });
  }
  const unit = `${prefix}-${name}.scope`;
  if (!UNIT_CHARS.test(unit) || unit.length > 255) {
    throw invalid(`cgroupsPath ${JSON.stringify(raw)} gives the unit name ${JSON.stringify(unit)}, which systemd does not accept (allowed: letters, digits, ":", "_", ".", "-", at most 255 bytes)`);
  }
  if (!UNIT_CHARS.test(slice)) throw invalid(`invalid slice name ${JSON.stringify(slice)}`);
  const sliceDir = expandSlice(slice);
  return { slice, unit, cgroup: sliceDir === '/' ? `/${unit}` : `${sliceDir}/${unit}` };
}
