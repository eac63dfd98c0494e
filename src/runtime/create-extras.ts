// What `create` needs beyond the plan for seccomp, the LSMs and Intel RDT,
// kept here so create.ts calls one function per step: compile the filter
// (before any side effect), put the init into its resctrl group once it
// exists, and answer runt-init's request for the seccomp agent's state.

import { hostSecurityFacts } from '../linux/lsm.js';
import { findResctrl, joinIntelRdt } from '../linux/resctrl.js';
import type { Logger } from '../log/logger.js';
import { containerProcessState } from '../seccomp/notify.js';
import type { SeccompInstall, SecurityFacts } from '../spec/process-extras.js';
import type { Spec } from '../spec/types.js';
import { ociState } from '../state/oci.js';
import type { ContainerState, StateStore } from '../state/store.js';

export interface CreateExtras {
  seccomp: SeccompInstall | undefined;
  host: SecurityFacts;
  resctrl: string | undefined;
}

export async function prepareCreateExtras(spec: Spec, store: StateStore, log: Logger): Promise<CreateExtras> {
  let seccomp: SeccompInstall | undefined;
  if (spec.linux?.seccomp) {
    const { seccompFilter, seccompCacheDir } = await import('../seccomp/filter.js');
    const f = await seccompFilter(spec.linux.seccomp, seccompCacheDir(store.root));
    if (f.skipped.length) log.debug('seccomp: syscalls unknown to libseccomp ignored', { names: f.skipped.join(',') });
    seccomp = { bpf: f.bpf, flags: f.program.flags, notify: f.program.notify, listenerPath: f.program.listenerPath };
  }
  return { seccomp, host: hostSecurityFacts(), resctrl: spec.linux?.intelRdt ? findResctrl() : undefined };
}

// Right after the 'P' frame, while the init waits for us.
export function initStarted(spec: Spec, id: string, pid: number): void {
  if (spec.linux?.intelRdt) joinIntelRdt(spec.linux.intelRdt, id, pid);
}

// The answer to runt-init's 'S' frame: the container process state.
export function seccompNotifyState(spec: Spec, state: ContainerState): string {
  return containerProcessState(state.pid ?? 0, spec.linux?.seccomp?.listenerMetadata, ociState(state, 'creating', state.pid));
}
