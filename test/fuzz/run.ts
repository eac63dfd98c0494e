// Run fuzzed configs (generate.ts) through `runt create`, and `delete
// --force` when one succeeds, asserting for each case:
//   - exit status 0 or 1, never a signal, within the timeout;
//   - on failure exactly one line on stderr, `runt: <msg> [RUNTxxxx]…`, no
//     stack trace and never the internal-error code (RUNT9001);
//   - when the failure is about the config, the error names the field: the
//     --log json line has `field`, a JSON pointer into the config (a member
//     it has, or one it lacks), and the message shows it;
//   - nothing is left: no state dir, cgroup, mount or process of the case;
//   - the host is unchanged: hostname, domainname, the sysctls a case may
//     name, the entries of /.
// Reproducible: a case is made from (seed, index) alone.
//
//   node dist/test/fuzz/run.js [--seed N] [--count N] [--from N] [--only N] [--workers N]
//
// (as root; `make fuzz` runs thousands). test/integration/fuzz.test.ts runs
// a few hundred in the normal suite.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyRootfs, taggedCgroups, taggedMounts, taggedProcesses } from '../helpers/leaks.js';
import { loadContext, makeCase, type FuzzCase, type FuzzContext } from './generate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');

export interface FuzzOptions {
  seed: number;
  count: number;
  from?: number;
  only?: number[];
  workers?: number;
  runt?: string;
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface FuzzReport {
  seed: number;
  tried: number;
  created: number; // created and deleted again
  lateInitFailures: number; // created, but the init died before start (see runCase)
  refused: number; // failed with a clean error
  byCode: Record<string, number>;
  problems: string[]; // each names the case: reproduce with --seed S --only N
}

interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

function runtOnce(runt: string, args: string[], dir: string, timeoutMs: number): Promise<Result> {
  const errFile = path.join(dir, `stderr-${args[args.length - 1]}-${args.includes('delete') ? 'd' : 'c'}`);
  const err = fs.openSync(errFile, 'w');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(runt, args, { stdio: ['ignore', 'ignore', err], cwd: dir });
    fs.closeSync(err);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      const stderr = fs.readFileSync(errFile, 'utf8');
      fs.rmSync(errFile, { force: true });
      resolve({ status, signal, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

// The codes whose errors are about the config and must name a field.
const FIELD_CODES = /^RUNT(20(0[3-9]|1[0-57-9]|2\d)|500[34]|600[12]|800[13])$/;

const TOP_LEVEL = new Set(['ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'hooks', 'annotations', 'linux', 'solaris', 'windows', 'vm', 'zos', 'freebsd']);

function resolvesIn(config: unknown, pointer: string): boolean {
  let node: unknown = config;
  for (const raw of pointer.split('/').slice(1)) {
    const tok = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(tok in (node as object))) return false;
    node = (node as Record<string, unknown>)[tok];
  }
  return true;
}

function lastLogLine(file: string): Record<string, string> | undefined {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Record<string, string>;
  } catch {
    return undefined;
  }
}

interface HostFacts {
  text: string;
}

// (not net.ipv4.ip_forward, which the pool has too: dockerd, started by the
// engine tests that may run meanwhile, turns it on)
const SYSCTLS = ['net/core/somaxconn', 'kernel/shmmax', 'kernel/msgmax', 'fs/mqueue/queues_max', 'kernel/hostname', 'kernel/domainname'];

function hostFacts(): HostFacts {
  const parts = SYSCTLS.map((s) => {
    try {
      return `${s}=${fs.readFileSync(`/proc/sys/${s}`, 'utf8').trim()}`;
    } catch {
      return `${s}=?`;
    }
  });
  parts.push(`/: ${fs.readdirSync('/').sort().join(' ')}`);
  return { text: parts.join('\n') };
}

// What a case may have left: its state dir, cgroups, processes, mounts.
function leftoversOf(c: FuzzCase, stateRoot: string, work: string): string[] {
  const out: string[] = [];
  if (fs.existsSync(path.join(stateRoot, c.id))) out.push(`state dir ${c.id}`);
  out.push(...taggedCgroups([c.id]));
  out.push(...taggedProcesses([c.id, `${stateRoot}/${c.id}/`]));
  out.push(...taggedMounts([c.id, `${work}/`]));
  return out;
}

async function waitClean(c: FuzzCase, stateRoot: string, work: string): Promise<string[]> {
  let left = leftoversOf(c, stateRoot, work);
  for (let i = 0; left.length && i < 60; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = leftoversOf(c, stateRoot, work);
  }
  return left;
}

async function runCase(c: FuzzCase, env: { runt: string; stateRoot: string; work: string; timeoutMs: number }, report: FuzzReport): Promise<void> {
  const dir = path.join(env.work, 'bundles', String(c.index));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), c.text);
  const log = path.join(dir, 'log.json');
  const label = `case ${c.index} [${c.ops.join('; ')}]`;
  const problem = (msg: string): void => {
    report.problems.push(`${label}: ${msg}`);
  };
  const r = await runtOnce(env.runt, ['--root', env.stateRoot, '--log', log, '--log-format', 'json', 'create', '--bundle', dir, c.id], dir, env.timeoutMs);
  if (r.timedOut) problem(`create did not finish within ${env.timeoutMs} ms`);
  else if (r.signal) problem(`create died of ${r.signal}`);
  else if (r.status !== 0 && r.status !== 1) problem(`create exited with ${r.status}`);
  if (r.status === 0) {
    report.created++;
    // the init may still fail after it reported ready (e.g. an
    // RLIMIT_NOFILE so low that it cannot open the exec fifo, as runc's
    // would): it has no channel left but its stderr, and `start` reports it
    const late = r.stderr.split('\n').filter((l) => l !== '');
    if (late.length && late.every((l) => l.startsWith('runt-init: wait-start\t'))) report.lateInitFailures++;
    else if (r.stderr !== '') problem(`create succeeded but wrote to stderr: ${r.stderr.slice(0, 300)}`);
    const d = await runtOnce(env.runt, ['--root', env.stateRoot, 'delete', '--force', c.id], dir, env.timeoutMs);
    if (d.status !== 0) problem(`delete --force failed (${d.status ?? d.signal}): ${d.stderr.slice(0, 300)}`);
  } else if (r.status === 1) {
    report.refused++;
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const m = /^runt: (.+) \[(RUNT\d{4})\]( \(hint: .+\))?$/.exec(lines[0] ?? '');
    if (lines.length !== 1 || !m) problem(`stderr is not one error line: ${JSON.stringify(r.stderr.slice(0, 500))}`);
    else {
      const code = m[2]!;
      report.byCode[code] = (report.byCode[code] ?? 0) + 1;
      if (code === 'RUNT9001') problem(`internal error: ${lines[0]}`);
      if (/\n\s+at /.test(r.stderr)) problem('stack trace on stderr');
      if (FIELD_CODES.test(code)) {
        const last = lastLogLine(log);
        const field = last?.field;
        let config: unknown;
        try {
          config = JSON.parse(c.text);
        } catch {
          config = undefined;
        }
        if (!field) problem(`${code} error without a field: ${lines[0]}`);
        else if (!/^(\/[^/]*)*$/.test(field)) problem(`field ${JSON.stringify(field)} is not a JSON pointer: ${lines[0]}`);
        // it is in the config, or names a member the config lacks
        else if (config !== undefined && field !== '/' && !resolvesIn(config, field) && !TOP_LEVEL.has(field.split('/')[1] ?? '')) problem(`field ${field} is not in the config: ${lines[0]}`);
        else if (!mentionsField(m[1]!, field)) problem(`the message does not name ${field}: ${lines[0]}`);
      }
    }
  }
  const left = await waitClean(c, env.stateRoot, env.work);
  if (left.length) problem(`left behind: ${left.join(', ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

// The message names the field: its pointer, or its path in dotted form
// ("linux.namespaces[1].type", "process.user.uid"), or one of its last two
// member names ("duplicate pid namespace" for /linux/namespaces/5/type).
function mentionsField(message: string, field: string): boolean {
  if (field === '' || field === '/' || message.includes(field)) return true;
  const toks = field.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const dotted = toks.map((t, i) => (/^\d+$/.test(t) ? `[${t}]` : (i ? '.' : '') + t)).join('');
  if (message.includes(dotted)) return true;
  const names = toks.filter((t) => !/^\d+$/.test(t)).slice(-2);
  const lower = message.toLowerCase();
  return names.some((n) => n !== '' && (lower.includes(n.toLowerCase()) || lower.includes(n.toLowerCase().replace(/s$/, ''))));
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const runt = opts.runt ?? path.join(REPO, 'bin/runt');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-fuzz-'));
  fs.chmodSync(work, 0o755);
  const stateRoot = path.join(work, 'state');
  const report: FuzzReport = { seed: opts.seed, tried: 0, created: 0, lateInitFailures: 0, refused: 0, byCode: {}, problems: [] };
  try {
    const rootfs = copyRootfs(path.join(REPO, 'bundles/busybox/rootfs'), path.join(work, 'rootfs'));
    const bindSource = path.join(work, 'bind-source');
    fs.mkdirSync(bindSource);
    const notNamespace = path.join(work, 'not-a-namespace');
    fs.writeFileSync(notNamespace, '');
    const ctx: FuzzContext = loadContext(REPO, { rootfs, bindSource, notNamespace });
    const prefix = `fz${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
    const indexes = opts.only ?? Array.from({ length: opts.count }, (_, i) => (opts.from ?? 0) + i);
    const before = hostFacts();
    let next = 0;
    const env = { runt, stateRoot, work, timeoutMs: opts.timeoutMs ?? 30_000 };
    const worker = async (): Promise<void> => {
      while (next < indexes.length) {
        const c = makeCase(opts.seed, indexes[next++]!, ctx, prefix);
        report.tried++;
        await runCase(c, env, report);
        const now = hostFacts();
        if (now.text !== before.text) {
          report.problems.push(`case ${c.index} [${c.ops.join('; ')}]: the host changed:\n${now.text}\nwas:\n${before.text}`);
          before.text = now.text;
        }
        opts.onProgress?.(report.tried, indexes.length);
      }
    };
    await Promise.all(Array.from({ length: opts.workers ?? 2 }, worker));
    // .cache holds compiled seccomp filters (src/seccomp/filter.ts)
    const graves = fs.existsSync(stateRoot) ? fs.readdirSync(stateRoot).filter((e) => e !== '.cache') : [];
    if (graves.length) report.problems.push(`state root not empty at the end: ${graves.join(' ')}`);
    // what a failed case left: try once more, so that no init outlives us
    for (const id of graves.filter((g) => !g.startsWith('.'))) await runtOnce(runt, ['--root', stateRoot, 'delete', '--force', id], work, 30_000);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return report;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const seed = Number(arg('seed') ?? 7);
  const count = Number(arg('count') ?? 3000);
  const only = arg('only')?.split(',').map(Number);
  const started = Date.now();
  const report = await runFuzz({
    seed,
    count,
    from: Number(arg('from') ?? 0),
    ...(only ? { only } : {}),
    workers: Number(arg('workers') ?? 2),
    onProgress: (done, total) => {
      if (done % 100 === 0 || done === total) process.stderr.write(`\r${done}/${total} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
  });
  process.stderr.write('\n');
  for (const p of report.problems) console.log(`PROBLEM ${p}`);
  console.log(
    `fuzz seed ${seed}: ${report.tried} configs tried, ${report.created} created and deleted (${report.lateInitFailures} of them with an init that failed after ready), ${report.refused} refused with a clean error, ${report.problems.length} problems (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  console.log(`errors by code: ${JSON.stringify(report.byCode)}`);
  process.exit(report.problems.length ? 1 : 0);
}
