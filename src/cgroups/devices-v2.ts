// cgroup v2 device control: attach the eBPF device filter built from the
// rules to the container's cgroup directory (runc cgroups/devices/v2.go
// setV2 + ebpf_linux.go loadAttachCgroupDeviceFilter).
//
// Attach with BPF_F_ALLOW_MULTI, then remove the programs that were there
// before: with exactly one old program and a kernel that knows BPF_F_REPLACE
// (>= 5.6) the swap is atomic; otherwise the new filter is attached first and
// the old ones detached after, so there is never a moment with no filter.
// A program is freed by the kernel when its cgroup is removed, so delete has
// nothing to detach.

import { fs } from '../sys/fs.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  BpfError,
  closeBpfFd,
  haveProgReplace,
  progAttach,
  progDetach,
  progGetFdById,
  progLoad,
  progQuery,
} from '../sys/bpf.js';
import { type DeviceFilter, DEVICE_FILTER_LICENSE, buildDeviceFilter, encodeInsns } from './devicefilter.js';
import type { DeviceRule } from './devices.js';

const FIELD = '/linux/resources/devices';

// The kernel side, replaceable in tests (a fake cgroupfs cannot hold BPF
// programs).
export interface DeviceFilterLoader {
  attach(dir: string, filter: DeviceFilter): void;
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

export const bpfDeviceFilterLoader: DeviceFilterLoader = {
  attach(dir: string, filter: DeviceFilter): void {
    let dirFd: number | undefined;
    let progFd: number | undefined;
    const oldFds: number[] = [];
    try {
      dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      progFd = progLoad(BPF_PROG_TYPE_CGROUP_DEVICE, encodeInsns(filter.insns), DEVICE_FILTER_LICENSE);
      for (const id of progQuery(dirFd, BPF_CGROUP_DEVICE)) {
        try {
          oldFds.push(progGetFdById(id));
        } catch (err) {
          // A program an LSM hides from us only adds restrictions (runc
          // ignores EPERM/EACCES the same way); ENOENT: detached meanwhile.
          if (err instanceof BpfError && ['EPERM', 'EACCES', 'ENOENT'].includes(err.errno)) continue;
          throw err;
        }
      }
      let replace = false;
      if (oldFds.length === 1) {
        const nullFd = fs.openSync('/dev/null', 'r');
        try {
          replace = haveProgReplace(progFd, nullFd);
        } finally {
          closeQuietly(nullFd);
        }
      }
      progAttach(dirFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, replace ? oldFds[0] : undefined);
      if (!replace) for (const fd of oldFds) progDetach(dirFd, fd, BPF_CGROUP_DEVICE);
    } finally {
      for (const fd of oldFds) closeBpfFd(fd);
      if (progFd !== undefined) closeBpfFd(progFd);
      closeQuietly(dirFd);
    }
  },
};

export interface DevicesV2Options {
  loader?: DeviceFilterLoader;
  inUserNamespace: boolean;
}

// Returns warnings; throws RuntimeError(CgroupDevices) when the filter
// cannot be put in place and the rules need it.
export function applyDevicesV2(dir: string, rules: DeviceRule[], opts: DevicesV2Options): string[] {
  const filter = buildDeviceFilter(rules);
  try {
    (opts.loader ?? bpfDeviceFilterLoader).attach(dir, filter);
    return [];
  } catch (err) {
    const allowAll = filter.defaultAllow && filter.exceptions === 0;
    const what = err instanceof BpfError ? err.message : (err as NodeJS.ErrnoException).code ?? String(err);
    // runc canSkipEBPFError: in a user namespace bpf() is not available to
    // us, and an allow-all rule set loses nothing without its filter.
    if (opts.inUserNamespace || allowAll) {
      return [`device rules not enforced on ${dir}: cannot attach the eBPF device filter (${what})`];
    }
    const errno = err instanceof BpfError ? err.errno : (err as NodeJS.ErrnoException).code;
    throw new RuntimeError(Codes.CgroupDevices, `cannot apply ${FIELD}: attaching the eBPF device filter to ${dir} failed: ${what}`, {
      field: FIELD,
      path: dir,
      syscall: err instanceof BpfError ? 'bpf' : 'open',
      ...(errno === undefined ? {} : { errno }),
      hint:
        errno === 'EPERM'
          ? 'loading BPF_PROG_TYPE_CGROUP_DEVICE programs needs CAP_BPF and CAP_SYS_ADMIN (or CAP_SYS_ADMIN alone before Linux 5.8)'
          : 'the kernel needs CONFIG_CGROUP_BPF and the cgroup must be on a cgroup2 mount',
      cause: err,
    });
  }
}
