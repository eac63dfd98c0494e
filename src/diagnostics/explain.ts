// `runt explain`: the ordered list of what `runt create` would do, from the
// runtime's own steps (state directory, cgroup, id maps, hooks it runs) and
// the plan the native stage executes (namespaces, mounts, devices,
// pivot_root, sysctls, rlimits, capabilities, seccomp, hooks), interleaved
// in the order they really happen (runtime/create.ts handshake), then what
// `start` and `delete` add. Nothing is done.

import { CLONE, type Field, type PlanOp } from '../plan/types.js';
import type { Hook, Spec } from '../spec/types.js';
import type { DryRun } from './dry-run.js';

export type Actor = 'runtime' | 'stage0' | 'init';
export type Stage = 'create' | 'start' | 'delete';

export interface Step {
  n: number;
  stage: Stage;
  actor: Actor;
  op: string; // a plan operation (MOUNT, PIVOT_ROOT, ...) or a runtime step (cgroup-write, ...)
  text: string;
  args?: (string | number)[]; // a plan operation's fields
  field?: string; // the config member it comes from, when known
}

export interface Explanation {
  bundle: string;
  id: string;
  rootfs: string;
  stateDir: string;
  steps: Step[];
  warnings: string[];
}

const NS_NAMES: [number, string][] = [
  [CLONE.NEWNS, 'mount'],
  [CLONE.NEWUTS, 'uts'],
  [CLONE.NEWIPC, 'ipc'],
  [CLONE.NEWUSER, 'user'],
  [CLONE.NEWPID, 'pid'],
  [CLONE.NEWNET, 'network'],
  [CLONE.NEWCGROUP, 'cgroup'],
  [CLONE.NEWTIME, 'time'],
];

export function namespaceNames(flags: number): string[] {
  return NS_NAMES.filter(([f]) => (flags & f) !== 0).map(([, n]) => n);
}

function fieldValue(f: Field): string | number {
  if ('i' in f) return typeof f.i === 'bigint' ? f.i.toString() : f.i;
  if ('s' in f) return f.s;
  return `<${f.b.length} bytes>`;
}

function opText(op: PlanOp): string {
  const first = op.fields[0];
  const flags = first && 'i' in first ? Number(first.i) : 0;
  if (op.name === 'CLONE' || op.name === 'UNSHARE') {
    const names = namespaceNames(flags);
    return `${op.text}: ${names.length ? names.join(', ') : 'no new namespaces'}`;
  }
  return op.text;
}

// Seccomp rules as lines, for the SECCOMP operation.
function seccompLines(spec: Spec): string[] {
  const sc = spec.linux?.seccomp as
    | { defaultAction?: string; defaultErrnoRet?: number; syscalls?: { names?: string[]; action?: string; errnoRet?: number; args?: unknown[] }[] }
    | undefined;
  if (!sc) return [];
  const act = (a: string | undefined, errno: number | undefined): string => `${a ?? '?'}${errno !== undefined ? `(${errno})` : ''}`;
  const out = [`default action ${act(sc.defaultAction, sc.defaultErrnoRet)}`];
  for (const r of sc.syscalls ?? []) {
    out.push(`${act(r.action, r.errnoRet)}: ${(r.names ?? []).join(', ')}${r.args?.length ? ` (with ${r.args.length} argument condition${r.args.length > 1 ? 's' : ''})` : ''}`);
  }
  return out;
}

function hookSteps(add: (s: Omit<Step, 'n'>) => void, stage: Stage, phase: string, hooks: Hook[] | undefined): void {
  (hooks ?? []).forEach((h, i) => {
    add({ stage, actor: 'runtime', op: 'hook', text: `run ${phase} hook ${[h.path, ...(h.args ?? []).slice(1)].join(' ')}${h.timeout ? ` (timeout ${h.timeout} s)` : ''} with the state on stdin`, field: `/hooks/${phase}/${i}` });
  });
}

export function explain(spec: Spec, bundle: string, rootfs: string, id: string, dry: DryRun, opts: { consoleSocket?: string | undefined; pidFile?: string | undefined; initBinary: string }): Explanation {
  const steps: Step[] = [];
  const add = (s: Omit<Step, 'n'>): void => {
    steps.push({ n: steps.length + 1, ...s });
  };
  const rt = (op: string, text: string, field?: string): void => add({ stage: 'create', actor: 'runtime', op, text, ...(field ? { field } : {}) });
  const plan = dry.plan;
  const cg = dry.cgroup;

  // without a console socket the native stage starts once config.json is
  // read (create.ts), and is ended if the config is refused
  const spawn = (): void =>
    rt('spawn', `spawn ${opts.initBinary} with the sync socket on fd ${dry.syncFd}; it waits for its plan${plan.netnsAhead ? ' and meanwhile makes the network namespace' : ''}`);
  rt('read', `read ${bundle}/config.json`);
  if (!opts.consoleSocket) spawn();
  rt('validate', `check config.json against the runtime-spec schema and runt's rules`);
  rt('plan', `compile the plan: ${plan.ops.length} operations for the native stage`);
  rt('state', `claim the id: mkdir ${dry.stateDir}, write state.json`);
  if (opts.consoleSocket) {
    rt('console', `connect to the console socket ${opts.consoleSocket}`, '/process/terminal');
    spawn();
  }
  for (const d of cg.mkdirs) rt('cgroup-mkdir', `create cgroup ${d}`, '/linux/cgroupsPath');
  for (const d of new Set(Object.values(cg.paths))) if (!cg.mkdirs.includes(d)) rt('cgroup-join', `use the existing cgroup ${d}`, '/linux/cgroupsPath');
  if (cg.mode === 'v2') rt('cgroup-controllers', `enable the available controllers in cgroup.subtree_control of each ancestor of ${cg.paths.unified}`);
  rt('send-plan', `send the plan on fd ${dry.planFd}: the native stage goes on while the limits are written`);
  for (const w of cg.writes) rt('cgroup-write', `write ${JSON.stringify(w.value)} to ${w.path}`, w.field);

  let stage: Stage = 'create';
  let actor: Actor = 'stage0';
  for (const op of plan.ops) {
    add({ stage, actor, op: op.name, text: opText(op), args: op.fields.map(fieldValue) });
    if (op.name === 'SECCOMP') for (const line of seccompLines(spec)) add({ stage, actor, op: 'seccomp-rule', text: line, field: '/linux/seccomp' });
    // the runtime answers the init's pid while the init goes on to WAIT_GO
    if (op.name === 'CLONE') {
      actor = 'init';
      const uidMap = plan.uidMap?.trim().replace(/\n/g, ', ');
      const gidMap = plan.gidMap?.trim().replace(/\n/g, ', ');
      add({ stage, actor: 'runtime', op: 'pid', text: 'receive the init\'s pid (P frame)' });
      if (plan.newUserNamespace) {
        add({ stage, actor: 'runtime', op: 'uid-map', text: `write /proc/<pid>/uid_map: ${uidMap}`, field: '/linux/uidMappings' });
        add({ stage, actor: 'runtime', op: 'gid-map', text: `write /proc/<pid>/gid_map: ${gidMap}`, field: '/linux/gidMappings' });
      }
      if (spec.process?.oomScoreAdj !== undefined) {
        add({ stage, actor: 'runtime', op: 'oom-score-adj', text: `write /proc/<pid>/oom_score_adj: ${spec.process.oomScoreAdj}`, field: '/process/oomScoreAdj' });
      }
    }
    if (op.name === 'WAIT_GO') {
      add({ stage, actor: 'runtime', op: 'go', text: 'send the "creating" state to the init (G frame): it goes on; record the pid in state.json' });
    }
    if (op.name === 'HOOKS_REQUEST') {
      hookSteps(add, stage, 'prestart', spec.hooks?.prestart);
      hookSteps(add, stage, 'createRuntime', spec.hooks?.createRuntime);
      add({ stage, actor: 'runtime', op: 'hooks-done', text: 'tell the init the hooks are done (h frame)' });
    }
    if (op.name === 'READY') {
      add({ stage, actor: 'runtime', op: 'ready', text: `receive "ready" (R frame); remove the creator from state.json${opts.pidFile ? `; write the pid to ${opts.pidFile}` : ''}; exit: the container is "created"` });
      stage = 'start';
      add({ stage, actor: 'runtime', op: 'open-fifo', text: `\`runt start ${id}\`: open ${dry.fifoPath} for reading, which lets the waiting init go on` });
    }
  }
  hookSteps(add, 'start', 'poststart', spec.hooks?.poststart);
  add({ stage: 'start', actor: 'runtime', op: 'started', text: 'the exec fifo is gone: the container is "running" (nothing is written)' });
  add({ stage: 'delete', actor: 'runtime', op: 'kill', text: `\`runt delete ${id}\`: SIGKILL what is left of the container and wait for its init` });
  for (const d of new Set(Object.values(cg.paths))) add({ stage: 'delete', actor: 'runtime', op: 'cgroup-remove', text: `remove cgroup ${d}${cg.mkdirs.includes(d) ? '' : ' (if no other container uses it)'}` });
  hookSteps(add, 'delete', 'poststop', spec.hooks?.poststop);
  add({ stage: 'delete', actor: 'runtime', op: 'state-remove', text: `remove ${dry.stateDir}` });

  const warnings = [...plan.warnings, ...cg.warnings, ...dry.notes];
  if (cg.note) warnings.push(cg.note);
  return { bundle, id, rootfs, stateDir: dry.stateDir, steps, warnings };
}

const ACTOR_TITLES: Record<Actor, string> = {
  runtime: 'runt (host)',
  stage0: 'runt-init, stage 0 (host, before clone)',
  init: 'container init',
};

export function renderText(e: Explanation): string {
  const out: string[] = [`runt explain: what \`runt create ${e.id}\` would do with ${e.bundle} (dry run: nothing was done)`];
  let last = '';
  const width = String(e.steps.length).length;
  for (const s of e.steps) {
    const head = `${s.stage === 'create' ? '' : `${s.stage}: `}${ACTOR_TITLES[s.actor]}`;
    if (head !== last) {
      out.push('', `${head}:`);
      last = head;
    }
    out.push(`  ${String(s.n).padStart(width)}. ${s.text}${s.field ? `  [${s.field}]` : ''}`);
  }
  if (e.warnings.length) {
    out.push('', 'warnings:');
    for (const w of e.warnings) out.push(`  - ${w}`);
  }
  return out.join('\n') + '\n';
}

export function renderJson(e: Explanation): string {
  return JSON.stringify({ dryRun: true, ...e }, null, 2) + '\n';
}
