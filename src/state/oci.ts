// The OCI state document (runtime-spec runtime.md "State") that hooks get on
// stdin, built from our stored state.

import type { OciState } from '../spec/types.js';
import { OCI_VERSION, type ContainerState } from './store.js';

export function ociState(st: ContainerState, status: OciState['status'], pid: number | undefined): OciState {
  const s: OciState = { ociVersion: OCI_VERSION, id: st.id, status, bundle: st.bundle };
  if (pid !== undefined) s.pid = pid;
  if (Object.keys(st.annotations).length) s.annotations = st.annotations;
  return s;
}
