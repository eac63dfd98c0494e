// Which processes of a cgroup are the container's, when a cgroup may be
// shared (several containers with one cgroupsPath, pod style, or a
// pre-existing cgroup with processes in it).
//
// runc 1.1 (the Debian runc on these machines) warns and goes on when a new
// container's cgroup is not empty, and refuses a frozen one (#3132, #3223);
// at delete it kills every process of the cgroup only when the container has
// no pid namespace of its own, and its failure to remove a cgroup still in
// use by others does not fail the delete. runt does the same.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Spec } from '../spec/types.js';
import { SIGKILL, killPids, waitUntil } from './common.js';
import type { CgroupManager } from './manager.js';

// runc configs.Namespaces.IsPrivate(NEWPID): a pid namespace that is created,
// not joined. Without one, killing the init leaves its other processes
// alive, so delete must kill the whole cgroup.
export function killsAllOnDestroy(spec: Spec | undefined): boolean {
  const pid = spec?.linux?.namespaces?.find((n) => n.type === 'pid');
  return pid === undefined || (pid.path !== undefined && pid.path !== '');
}

// Called by create before anything is made (a cgroup that does not exist
// yet is neither): warnings for a cgroup that already has processes; an
// error for a frozen one (the init would hang in it, and `create` with it).
// pids: cg.pids(), when the caller has them already.
export function checkCgroupBeforeJoin(cg: CgroupManager, pids: number[] = cg.pids()): string[] {
  if (cg.frozen()) {
    const paths = cg.saved.paths;
    const freezer = Object.entries(paths).find(([k]) => k.split(',').includes('freezer'))?.[1] ?? paths['unified'];
    throw new RuntimeError(Codes.CgroupSetup, "container's cgroup unexpectedly frozen", {
      ...(freezer === undefined ? {} : { path: freezer }),
      hint: 'thaw the cgroup (or `runt resume` the container that froze it) or choose another cgroupsPath',
    });
  }
  const n = pids.length;
  if (n === 0) return [];
  return [
    `container's cgroup is not empty: ${n} process(es) found; they share its limits, pause and \`kill --all\` (runc 1.2 refuses such a cgroup; give each container its own cgroupsPath)`,
  ];
}

// Undo the cgroup of a create that failed: whatever joined it since `before`
// (taken when the id was claimed) is ours, the init and anything it had
// started, and is killed; what was there before is left alone unless the
// container has no pid namespace of its own (then runc kills the cgroup).
export function destroyAfterFailedCreate(cg: CgroupManager, spec: Spec | undefined, before: Set<number>): string[] {
  const ours = cg.pids().filter((p) => !before.has(p));
  if (ours.length > 0) {
    killPids(ours, SIGKILL);
    waitUntil(() => cg.pids().every((p) => before.has(p)), 2000);
  }
  return cg.destroy({ killAll: killsAllOnDestroy(spec) });
}
