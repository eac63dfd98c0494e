// The plan of `exec` ("join mode"): the same runt-init, given a process to
// start inside a running container instead of a container to build. Stage 0
// (on the host) opens the container's cgroup.procs files, sets what must be
// set while we still hold host privileges, joins every namespace of the
// container's init (its user namespace last) and clones; the child attaches
// itself to the cgroup and applies the process settings in runc's order
// (libcontainer/setns_init_linux.go), then execs. Pure, like to-plan.ts.

import { resolveCapabilities } from '../linux/capabilities.js';
import { resolveRlimits } from '../linux/rlimits.js';
import { CLONE, type Field, type OpName, type Plan, type PlanOp } from '../plan/types.js';
import {
  apparmorOp,
  cpuAffinityOp,
  ioPriorityOp,
  memoryPolicyOp,
  personalityOp,
  schedulerOp,
  seccompOp,
  selinuxExecOp,
  selinuxKeyOp,
  type OpSpec,
  type SeccompInstall,
  type SecurityFacts,
} from './process-extras.js';
import type { NamespaceType, Process, Spec } from './types.js';

export interface ExecPlanContext {
  id: string;
  // the namespaces to join, as /proc/<init pid>/ns/* paths; user first or
  // not, runt-init joins it last
  namespaces: { type: NamespaceType; path: string }[];
  cgroupProcs: string[];
  consoleSocketFd: number | undefined;
  // a foreground terminal without a console socket: runt-init proxies it
  consoleProxy?: boolean;
  preserveFds: number;
  noNewKeyring: boolean;
  lastCap: number;
  stay: boolean; // foreground: the native stage waits and exits with the status
  seccomp: SeccompInstall | undefined; // the container's filter, compiled
  host: SecurityFacts;
}

// clone(2) flag per type, for setns(2) (not imported from to-plan.ts, which
// would load the whole create compiler into exec)
const NS_FLAGS: Record<NamespaceType, number> = {
  user: CLONE.NEWUSER,
  mount: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

const i = (v: number | bigint): Field => ({ i: v });
const s = (v: string): Field => ({ s: v });

export function compileExecPlan(config: Spec, p: Process, ctx: ExecPlanContext): Plan {
  const stage0: PlanOp[] = [];
  const child: PlanOp[] = [];
  const warnings: string[] = [];
  const add = (list: PlanOp[], name: OpName, fields: Field[], text: string): void => {
    list.push({ name, fields, text });
  };
  const push = (list: PlanOp[], op: OpSpec | undefined): void => {
    if (op) list.push(op);
  };
  // the process's own fields are at /process/... of config.json, or at the
  // top of a --process file; errors name them as runc does: by the field
  const pf = (f: string): string => `/process/${f}`;

  // ---- stage 0, on the host
  add(stage0, 'PRESERVE_FDS', [i(ctx.preserveFds)], `pass ${ctx.preserveFds} extra fds to the process`);
  for (const c of ctx.cgroupProcs) add(stage0, 'CGROUP_PROCS', [s(c)], `open ${c}`);
  const seccomp = config.linux?.seccomp ? ctx.seccomp : undefined;
  if (seccomp?.notify && seccomp.listenerPath) add(stage0, 'SECCOMP_LISTENER', [s(seccomp.listenerPath)], `connect to the seccomp agent at ${seccomp.listenerPath}`);
  // runc nsexec: the container's oom_score_adj for every process it starts;
  // lowering it needs CAP_SYS_RESOURCE on the host
  if (p.oomScoreAdj !== undefined) add(stage0, 'PROC_WRITE', [s('self/oom_score_adj'), s(String(p.oomScoreAdj))], `set oom_score_adj ${p.oomScoreAdj}`);
  // runc sets rlimits from the host side (prlimit); before the user
  // namespace join raising a hard limit still works
  for (const r of resolveRlimits(p.rlimits, pf('rlimits'))) add(stage0, 'RLIMIT', [i(r.resource), i(r.soft), i(r.hard)], `set ${r.type} to ${r.soft}/${r.hard}`);
  if (p.execCPUAffinity?.initial) push(stage0, cpuAffinityOp(p.execCPUAffinity.initial, pf('execCPUAffinity/initial'), 'execCPUAffinity.initial, before joining the cgroup'));
  if (p.terminal && ctx.consoleProxy) add(stage0, 'CONSOLE_PROXY', [], 'relay the pty between our stdio and the process (no console socket)');
  for (const ns of ctx.namespaces) add(stage0, 'JOIN_NS', [i(NS_FLAGS[ns.type]), s(ns.path)], `join the container's ${ns.type} namespace ${ns.path}`);
  add(stage0, 'CLONE', [i(0), i(ctx.stay ? 1 : 0)], 'clone the process inside the joined namespaces');

  // ---- the process, inside the container
  if (ctx.cgroupProcs.length) add(child, 'ATTACH_CGROUPS', [], "join the container's cgroup");
  // runc: after the cgroup join, the final affinity, or a reset to all the
  // cgroup's CPUs (so the runtime's own pinning is not inherited)
  push(child, cpuAffinityOp(p.execCPUAffinity?.final, pf('execCPUAffinity/final'), p.execCPUAffinity?.final ? 'execCPUAffinity.final' : 'inside the cgroup'));
  if (!ctx.noNewKeyring) {
    push(child, selinuxKeyOp(p.selinuxLabel, ctx.host));
    add(child, 'KEYRING', [s(`_ses.${ctx.id}`)], 'join a new session keyring');
  }
  if (p.terminal) {
    add(
      child,
      'CONSOLE',
      [i(ctx.consoleProxy ? -2 : (ctx.consoleSocketFd ?? -1)), i(p.consoleSize?.height ?? 0), i(p.consoleSize?.width ?? 0), i(0)],
      `allocate a pty from the container's devpts, send its master to ${ctx.consoleProxy ? 'runt-init on the host' : 'the console socket'}, make it our terminal`,
    );
  }
  if (p.ioPriority) push(child, ioPriorityOp(p.ioPriority, pf('ioPriority')));
  if (p.scheduler) push(child, schedulerOp(p.scheduler, pf('scheduler')));
  const linux = config.linux ?? {};
  if (linux.personality) push(child, personalityOp(linux.personality));
  if (linux.memoryPolicy) push(child, memoryPolicyOp(linux.memoryPolicy));
  // without no_new_privs installing a filter needs CAP_SYS_ADMIN: before
  // the capabilities are dropped; with it, as late as possible
  if (config.linux?.seccomp && !p.noNewPrivileges) push(child, seccompOp(seccomp));
  if (p.noNewPrivileges) add(child, 'NO_NEW_PRIVS', [], 'set no_new_privs');
  push(child, selinuxExecOp(p.selinuxLabel, ctx.host, pf('selinuxLabel')));

  const caps = resolveCapabilities(p.capabilities, ctx.lastCap);
  if (caps.unknown.length) warnings.push(`ignoring unknown or unavailable capabilities: ${caps.unknown.join(', ')}`);
  const groups = p.user.additionalGids ?? [];
  const c = caps.sets;
  add(
    child,
    'IDENTITY',
    [
      i(p.user.uid),
      i(p.user.gid),
      i(p.user.umask ?? -1),
      i(groups.length),
      ...groups.map(i),
      i(ctx.lastCap),
      i(c.bounding[0]), i(c.bounding[1]),
      i(c.effective[0]), i(c.effective[1]),
      i(c.permitted[0]), i(c.permitted[1]),
      i(c.inheritable[0]), i(c.inheritable[1]),
      i(c.ambient[0]), i(c.ambient[1]),
    ],
    `switch to uid ${p.user.uid} gid ${p.user.gid}${groups.length ? ` groups ${groups.join(',')}` : ''} and set capabilities`,
  );
  push(child, apparmorOp(p.apparmorProfile, ctx.host, pf('apparmorProfile')));
  const args = p.args ?? [];
  const env = p.env ?? [];
  add(child, 'RESOLVE_EXEC', [s(p.cwd), i(args.length), ...args.map(s), i(env.length), ...env.map(s)], `chdir ${p.cwd} and find ${args[0]}`);
  if (config.linux?.seccomp && p.noNewPrivileges) push(child, seccompOp(seccomp));
  add(child, 'EXEC', [], `exec ${args.join(' ')}`);

  return { ops: [...stage0, ...child], warnings, newUserNamespace: false, uidMap: undefined, gidMap: undefined };
}
