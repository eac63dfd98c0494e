// The "container process state" a seccomp agent receives with the notify fd
// (config-linux.md, "The Container Process State"). runt-init asks for it
// (frame 'S') just before it installs a filter with a listener; the runtime
// answers with this JSON (frame 'N'), which goes with the fd in one sendmsg.

import type { OciState } from '../spec/types.js';

export function containerProcessState(pid: number, metadata: string | undefined, state: OciState): string {
  const s: Record<string, unknown> = { ociVersion: state.ociVersion, fds: ['seccompFd'], pid };
  if (metadata) s.metadata = metadata;
  s.state = state;
  return JSON.stringify(s);
}
