// An OCI mount's "options", split the way runc's specconv parseMountOptions
// does: mount(2) flags to set or clear, propagation changes, recursive
// mount_setattr(2) attributes, runc's extensions, and everything else passed
// to the filesystem as the comma-joined data string.
//
// Quirks kept for compatibility with runc:
// - "defaults" is in runc's flag table with flag 0, and a 0 flag fails the
//   table check, so "defaults" ends up in the data string.
// - the *atime flags are set/cleared as independent bits, although the
//   kernel treats them as an enum.
// - "rnorelatime" is a no-op: MOUNT_ATTR_RELATIME is 0, so clearing it clears
//   nothing. "ratime" alone puts only MOUNT_ATTR_NOATIME in attr_clr, which
//   the kernel refuses (EINVAL) unless all of MOUNT_ATTR__ATIME is cleared.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

// linux/mount.h (the MS_* flags of mount(2)).
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

// linux/mount.h (the MOUNT_ATTR_* attributes of mount_setattr(2)).
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

interface FlagEntry {
  clear: boolean;
  flag: number;
}

const MOUNT_FLAGS: ReadonlyMap<string, FlagEntry> = new Map([
  // "acl" cannot map to MS_POSIXACL (runc issue 3738), so it is fs data.
  ['async', { clear: true, flag: MS_SYNCHRONOUS }],
  ['atime', { clear: true, flag: MS_NOATIME }],
  ['bind', { clear: false, flag: MS_BIND }],
  ['defaults', { clear: false, flag: 0 }],
  ['dev', { clear: true, flag: MS_NODEV }],
  ['diratime', { clear: true, flag: MS_NODIRATIME }],
  ['dirsync', { clear: false, flag: MS_DIRSYNC }],
  ['exec', { clear: true, flag: MS_NOEXEC }],
  ['iversion', { clear: false, flag: MS_I_VERSION }],
  ['lazytime', { clear: false, flag: MS_LAZYTIME }],
  ['loud', { clear: true, flag: MS_SILENT }],
  ['mand', { clear: false, flag: MS_MANDLOCK }],
  ['noatime', { clear: false, flag: MS_NOATIME }],
  ['nodev', { clear: false, flag: MS_NODEV }],
  ['nodiratime', { clear: false, flag: MS_NODIRATIME }],
  ['noexec', { clear: false, flag: MS_NOEXEC }],
  ['noiversion', { clear: true, flag: MS_I_VERSION }],
  ['nolazytime', { clear: true, flag: MS_LAZYTIME }],
  ['nomand', { clear: true, flag: MS_MANDLOCK }],
  ['norelatime', { clear: true, flag: MS_RELATIME }],
  ['nostrictatime', { clear: true, flag: MS_STRICTATIME }],
  ['nosuid', { clear: false, flag: MS_NOSUID }],
  ['nosymfollow', { clear: false, flag: MS_NOSYMFOLLOW }],
  ['rbind', { clear: false, flag: MS_BIND | MS_REC }],
  ['relatime', { clear: false, flag: MS_RELATIME }],
  ['remount', { clear: false, flag: MS_REMOUNT }],
  ['ro', { clear: false, flag: MS_RDONLY }],
  ['rw', { clear: true, flag: MS_RDONLY }],
  ['silent', { clear: false, flag: MS_SILENT }],
  ['strictatime', { clear: false, flag: MS_STRICTATIME }],
  ['suid', { clear: true, flag: MS_NOSUID }],
  ['sync', { clear: false, flag: MS_SYNCHRONOUS }],
  ['symfollow', { clear: true, flag: MS_NOSYMFOLLOW }],
]);

const PROPAGATION: ReadonlyMap<string, number> = new Map([
  ['rprivate', MS_PRIVATE | MS_REC],
  ['private', MS_PRIVATE],
  ['rslave', MS_SLAVE | MS_REC],
  ['slave', MS_SLAVE],
  ['rshared', MS_SHARED | MS_REC],
  ['shared', MS_SHARED],
  ['runbindable', MS_UNBINDABLE | MS_REC],
  ['unbindable', MS_UNBINDABLE],
]);

const REC_ATTRS: ReadonlyMap<string, FlagEntry> = new Map([
  ['rro', { clear: false, flag: MOUNT_ATTR_RDONLY }],
  ['rrw', { clear: true, flag: MOUNT_ATTR_RDONLY }],
  ['rnosuid', { clear: false, flag: MOUNT_ATTR_NOSUID }],
  ['rsuid', { clear: true, flag: MOUNT_ATTR_NOSUID }],
  ['rnodev', { clear: false, flag: MOUNT_ATTR_NODEV }],
  ['rdev', { clear: true, flag: MOUNT_ATTR_NODEV }],
  ['rnoexec', { clear: false, flag: MOUNT_ATTR_NOEXEC }],
  ['rexec', { clear: true, flag: MOUNT_ATTR_NOEXEC }],
  ['rnodiratime', { clear: false, flag: MOUNT_ATTR_NODIRATIME }],
  ['rdiratime', { clear: true, flag: MOUNT_ATTR_NODIRATIME }],
  ['rrelatime', { clear: false, flag: MOUNT_ATTR_RELATIME }],
  ['rnorelatime', { clear: true, flag: MOUNT_ATTR_RELATIME }],
  ['rnoatime', { clear: false, flag: MOUNT_ATTR_NOATIME }],
  ['ratime', { clear: true, flag: MOUNT_ATTR_NOATIME }],
  ['rstrictatime', { clear: false, flag: MOUNT_ATTR_STRICTATIME }],
  ['rnostrictatime', { clear: true, flag: MOUNT_ATTR_STRICTATIME }],
  ['rnosymfollow', { clear: false, flag: MOUNT_ATTR_NOSYMFOLLOW }],
  ['rsymfollow', { clear: true, flag: MOUNT_ATTR_NOSYMFOLLOW }],
]);

// runc's extension flags (only tmpcopyup); idmap/ridmap are handled apart
// and, as in runc, are not listed among the known mount options.
const EXTENSIONS = ['tmpcopyup'] as const;

export type IdmapMode = 'none' | 'idmap' | 'ridmap';

export interface MountOptions {
  flags: number; // MS_* to set
  clearFlags: number; // MS_* explicitly cleared (rw, suid, ...), for remounts
  propagation: number[]; // each applied in order with its own mount(2)
  recAttrSet: number; // mount_setattr attr_set, applied with AT_RECURSIVE
  recAttrClr: number; // mount_setattr attr_clr
  data: string;
  // 'none' unless idmap/ridmap was given; runc still idmaps (not recursively)
  // a mount that has uidMappings/gidMappings but neither option.
  idmap: IdmapMode;
  tmpcopyup: boolean;
}

export function parseMountOptions(options: readonly string[] | undefined): MountOptions {
  const out: MountOptions = {
    flags: 0,
    clearFlags: 0,
    propagation: [],
    recAttrSet: 0,
    recAttrClr: 0,
    data: '',
    idmap: 'none',
    tmpcopyup: false,
  };
  const data: string[] = [];
  for (const o of options ?? []) {
    const f = MOUNT_FLAGS.get(o);
    const p = PROPAGATION.get(o);
    const r = REC_ATTRS.get(o);
    if (f !== undefined && f.flag !== 0) {
      // A later option undoes an earlier opposite one.
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clearFlags |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clearFlags &= ~f.flag;
      }
    } else if (p !== undefined) {
      out.propagation.push(p);
    } else if (r !== undefined) {
      if (r.clear) {
        out.recAttrClr |= r.flag;
        out.recAttrSet &= ~r.flag;
      } else {
        out.recAttrSet |= r.flag;
        out.recAttrClr &= ~r.flag;
        // The atime attributes are an enum: setting one needs the whole
        // MOUNT_ATTR__ATIME field in attr_clr (mount_setattr(2)).
        if ((r.flag & MOUNT_ATTR__ATIME) === r.flag) out.recAttrClr |= MOUNT_ATTR__ATIME;
      }
    } else if (o === 'tmpcopyup') {
      out.tmpcopyup = true;
    } else if (o === 'idmap' || o === 'ridmap') {
      out.idmap = o; // the last one wins
    } else {
      data.push(o);
    }
  }
  out.data = data.join(',');
  return out;
}

// Every option runc's `features` lists: flags (including "defaults"),
// propagation, recursive attributes and extensions, sorted.
export function knownMountOptions(): string[] {
  return [...MOUNT_FLAGS.keys(), ...PROPAGATION.keys(), ...REC_ATTRS.keys(), ...EXTENSIONS].sort();
}

// linux.rootfsPropagation uses the same table as the mount options.
export function parsePropagation(name: string, field = '/linux/rootfsPropagation'): number {
  const p = PROPAGATION.get(name);
  if (p === undefined) {
    throw new RuntimeError(Codes.MountConfig, `rootfsPropagation ${JSON.stringify(name)} is not supported`, {
      field,
      hint: 'use one of shared, slave, private, unbindable or their r-prefixed recursive forms',
    });
  }
  return p;
}
