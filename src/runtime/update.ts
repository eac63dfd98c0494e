// update: change the resources of a created, running or paused container
// (runc update.go + libcontainer Set). The new values are merged into the
// stored config (state.json config.linux.resources), applied by the cgroup
// manager, and the state is rewritten only once the kernel took them; on a
// failure the previous values are applied again, as runc's Set does.

import { fs } from '../sys/fs.js';
import { DeviceEmulator, effectiveDeviceRules } from '../cgroups/devices.js';
import { loadCgroupManager } from '../cgroups/manager.js';
import { mergeResources } from '../cgroups/merge.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Logger } from '../log/logger.js';
import type { Resources } from '../spec/types.js';
import type { StateStore } from '../state/store.js';
import { statusOf } from './status.js';

export interface UpdateRequest {
  resources: Resources;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

// runc intelrdt IsCATEnabled/IsMBAEnabled: resctrl mounted with the
// feature's info directory. runt has no Intel RDT support, so a schema can
// only be refused: with runc's message when the host lacks the feature,
// as unsupported otherwise.
function checkIntelRdt(req: UpdateRequest): void {
  const want: Array<[string | undefined, string, string]> = [
    [req.l3CacheSchema, 'L3', 'Intel RDT/CAT: l3 cache schema is not enabled'],
    [req.memBwSchema, 'MB', 'Intel RDT/MBA: memory bandwidth schema is not enabled'],
  ];
  for (const [schema, info, disabled] of want) {
    if (!schema) continue;
    const mount = resctrlMount();
    if (mount === undefined || !fs.existsSync(`${mount}/info/${info}`)) {
      throw new RuntimeError(Codes.UnsupportedFeature, disabled.toLowerCase(), {
        hint: mount === undefined ? 'the resctrl filesystem is not mounted (mount -t resctrl resctrl /sys/fs/resctrl on a CPU with Intel RDT)' : `${mount}/info/${info} does not exist: the CPU lacks this feature`,
      });
    }
    throw new RuntimeError(Codes.UnsupportedFeature, 'intel rdt (linux.intelRdt, --l3-cache-schema, --mem-bw-schema) is not supported by runt', {
      hint: 'leave the schema out, or use runc for containers that need Intel RDT',
    });
  }
}

function resctrlMount(): string | undefined {
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      const sep = f.indexOf('-', 6);
      if (sep > 0 && f[sep + 1] === 'resctrl') return f[4];
    }
  } catch {
    // no /proc: no resctrl either
  }
  return undefined;
}

// runc update's fix-ups of the request before merging, plus what runt warns
// about instead of silently dropping.
function fixUp(update: Resources, stored: Resources | undefined, devicePaths: string[], log: Logger): Resources {
  const u: Resources = JSON.parse(JSON.stringify(update)) as Resources;
  if (u.memory && (u.memory.kernel !== undefined || u.memory.kernelTCP !== undefined)) {
    log.warn('kernel memory settings are ignored and will be removed');
    delete u.memory.kernel;
    delete u.memory.kernelTCP;
  }
  // "To avoid error 'unable to set swap limit without memory limit'".
  if (u.memory?.limit === -1 && u.memory.swap === undefined) u.memory.swap = 0;
  if (u.devices !== undefined) {
    const same = (() => {
      try {
        return DeviceEmulator.build(effectiveDeviceRules(u.devices, devicePaths)).equals(DeviceEmulator.build(effectiveDeviceRules(stored?.devices, devicePaths)));
      } catch {
        return false;
      }
    })();
    if (!same) log.warn('linux.resources.devices cannot be changed by update (as with runc); the device rules are left as they are');
    delete u.devices;
  }
  return u;
}

// Under the container's lock: two updates (or an update and a start) must
// not both read the old state and the last writer drop the other's change.
export function updateContainer(store: StateStore, id: string, req: UpdateRequest, log: Logger): Resources {
  const release = store.lock(id);
  try {
    return updateLocked(store, id, req, log);
  } finally {
    release();
  }
}

function updateLocked(store: StateStore, id: string, req: UpdateRequest, log: Logger): Resources {
  const st = store.read(id);
  const status = statusOf(store, st);
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw new RuntimeError(Codes.WrongStatus, `cannot update container "${id}": it is ${status}`, {
      hint: 'only a created, running or paused container can be updated',
    });
  }
  checkIntelRdt(req);
  if (!st.cgroup) throw new RuntimeError(Codes.CgroupSetup, `container "${id}" has no cgroup to update`);

  const old = st.config.linux?.resources;
  const devicePaths = (st.config.linux?.devices ?? []).map((d) => d.path);
  const update = fixUp(req.resources, old, devicePaths, log);
  const merged = mergeResources(old, update);
  // checkBeforeUpdate holds for this update only (runc resets it to false).
  if (merged.memory) {
    if (update.memory?.checkBeforeUpdate) merged.memory.checkBeforeUpdate = true;
    else delete merged.memory.checkBeforeUpdate;
  }
  // cpu.weight cannot be written while cpu.idle is 1 (EINVAL): runc drops
  // the shares when only idle is given.
  if (update.cpu?.idle !== undefined && update.cpu.shares === undefined && merged.cpu) delete merged.cpu.shares;

  const cg = loadCgroupManager(st.cgroup);
  let warnings: string[];
  try {
    warnings = cg.apply(merged, { skipDevices: true });
  } catch (err) {
    try {
      cg.apply(old, { skipDevices: true });
    } catch (err2) {
      log.warn(`update of "${id}" failed and the previous resources could not be restored: ${(err2 as Error).message}`);
    }
    throw err;
  }
  for (const w of warnings) log.warn(w);
  if (merged.memory) delete merged.memory.checkBeforeUpdate;
  st.config.linux = { ...st.config.linux, resources: merged };
  store.write(st);
  return merged;
}
