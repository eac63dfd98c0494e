// delete's usual case without loading a cgroup manager (the managers and
// their resource code are most of what delete would load): the container's
// processes are gone, so each of its cgroups is empty and goes with one
// rmdir. Anything else is the manager's job (cgroups/manager.ts destroy(),
// whose v1 and v2 versions start with this too).

import { removeContainerCgroups, removeEmptyLeaves } from './common.js';
import type { SavedCgroup } from './manager.js';

// Returns destroy()'s notes when every leaf is gone, undefined when the
// manager must finish: a systemd scope (stopped through systemd), or a
// cgroup that refused (processes or sub-cgroups left). The leaves are those
// of V1Manager/V2Manager: one directory per saved path.
export function removeEmptyCgroups(saved: SavedCgroup): string[] | undefined {
  if (saved.systemd) return undefined;
  const leaves = [...new Set(Object.values(saved.paths))];
  if (removeEmptyLeaves(leaves).length > 0) return undefined;
  return removeContainerCgroups(leaves, saved.created, []);
}
