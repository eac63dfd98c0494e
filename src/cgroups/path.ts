// linux.cgroupsPath → the path of the container's cgroup inside each
// hierarchy, with runc's cgroupfs-driver semantics:
//
// - runc specconv CreateCgroupConfig: with the fs driver a non-empty
//   cgroupsPath becomes Cgroup.Path (lexically cleaned); an empty one leaves
//   Path empty and sets Name to the container id (CgroupName: id in
//   utils_linux.go). runc's own name ("runc") only appears in the systemd
//   driver's default scope prefix, never in a cgroupfs path.
// - opencontainers/cgroups fs/paths.go subsysPath: an absolute path is used
//   as-is below each v1 mount point; a relative one (including the default
//   "<id>") is joined to the runtime's *own* cgroup in that hierarchy
//   (GetOwnCgroupPath). fs2/defaultpath.go does the same on pure v2 but below
//   the *parent* of the own cgroup (a leaf with tasks cannot have children
//   with controllers). The per-hierarchy join happens in the managers.
//
// We are stricter than runc in two places, for safety: runc clamps ".."
// lexically (utils.CleanPath turns "../../x" into "x"), we refuse a path that
// tries to climb above its base; and we refuse a path that cleans to the
// hierarchy root itself ("/" or "."), because the container would then share
// (and on delete, kill) the whole root or the runtime's own cgroup.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import { parseSystemdCgroupsPath } from './systemd/path.js';

export type ResolvedCgroupPath =
  | {
      kind: 'absolute' | 'relative';
      path: string; // absolute: "/a/b"; relative: "a/b" (no leading slash)
    }
  | {
      // --systemd-cgroup: a transient scope (systemd/path.ts)
      kind: 'systemd';
      path: string; // its cgroup below the cgroup2 mount: "/system.slice/runt-c1.scope"
      unit: string;
      slice: string;
    };

const FIELD = '/linux/cgroupsPath';

// Lexical clean like Go's path.Clean, but reporting whether ".." tried to go
// above the start instead of silently dropping it.
function cleanSegments(p: string): { segments: string[]; escaped: boolean } {
  const out: string[] = [];
  let escaped = false;
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) escaped = true;
      else out.pop();
      continue;
    }
    out.push(seg);
  }
  return { segments: out, escaped };
}

export function resolveCgroupsPath(cgroupsPath: string | undefined, id: string, systemd: boolean): ResolvedCgroupPath {
  if (systemd) return systemdPath(cgroupsPath, id);

  const raw = cgroupsPath ?? '';
  if (raw === '') {
    // runc: c.Name = id, c.Path = "" → innerPath "<id>", a relative path.
    return checked({ kind: 'relative', path: id }, id);
  }
  return checked(
    raw.startsWith('/') ? { kind: 'absolute', path: raw } : { kind: 'relative', path: raw },
    raw,
  );
}

function checked(p: { kind: 'absolute' | 'relative'; path: string }, original: string): ResolvedCgroupPath {
  if (p.path.includes('\0')) {
    throw new RuntimeError(Codes.CgroupPath, 'cgroupsPath contains a NUL byte', { field: FIELD });
  }
  const { segments, escaped } = cleanSegments(p.path);
  if (escaped) {
    throw new RuntimeError(Codes.CgroupPath, `cgroupsPath ${JSON.stringify(original)} escapes its hierarchy with ".."`, {
      field: FIELD,
      hint: 'use a path without ".." components that climb above its start',
    });
  }
  if (segments.length === 0) {
    throw new RuntimeError(
      Codes.CgroupPath,
      `cgroupsPath ${JSON.stringify(original)} resolves to ${p.kind === 'absolute' ? 'the root of every hierarchy' : "the runtime's own cgroup"}`,
      { field: FIELD, hint: 'give the container a cgroup of its own, e.g. "/runt/<id>" or leave cgroupsPath empty' },
    );
  }
  const joined = segments.join('/');
  return p.kind === 'absolute' ? { kind: 'absolute', path: '/' + joined } : { kind: 'relative', path: joined };
}

// --systemd-cgroup: "slice:prefix:name" (systemd/path.ts).
function systemdPath(cgroupsPath: string | undefined, id: string): ResolvedCgroupPath {
  const u = parseSystemdCgroupsPath(cgroupsPath, id);
  return { kind: 'systemd', path: u.cgroup, unit: u.unit, slice: u.slice };
}
