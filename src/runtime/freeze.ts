// pause / resume: the cgroup freezer (v1 freezer.state, v2 cgroup.freeze).

import { loadCgroupManager } from '../cgroups/manager.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { StateStore } from '../state/store.js';
import { statusOf } from './status.js';

export function freezeContainer(store: StateStore, id: string, freeze: boolean): void {
  const st = store.read(id);
  const status = statusOf(store, st);
  const want = freeze ? 'running' : 'paused';
  if (status !== want) {
    throw new RuntimeError(Codes.WrongStatus, `cannot ${freeze ? 'pause' : 'resume'} container "${id}": it is ${status}`, {
      hint: freeze ? 'only a running container can be paused' : 'only a paused container can be resumed',
    });
  }
  if (!st.cgroup) throw new RuntimeError(Codes.CgroupSetup, `container "${id}" has no cgroup to freeze`);
  const cg = loadCgroupManager(st.cgroup);
  if (freeze) cg.freeze();
  else cg.thaw();
}
