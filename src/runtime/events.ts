// events: the container's cgroup statistics and OOM notifications as JSON
// lines, in the shape of runc's events.go / types/events.go:
//   {"type":"stats","id":"c1","data":{"cpu":{...},...,"intel_rdt":{},"network_interfaces":null}}
//   {"type":"oom","id":"c1"}
// containerd's go-runc (Events/Stats) decodes exactly these.
//
// runc learns about OOMs from an eventfd on memory.oom_control (v1,
// cgroup.event_control) or inotify on memory.events (v2). runt polls the
// counters instead (every 100 ms, or the stats interval if shorter): two
// small file reads, no FFI, and the same events: one per poll in which the
// OOM kill count rose (v1 with the OOM killer disabled: each time the cgroup
// enters under_oom). The stream ends when the container stops (its init is
// gone) or is deleted; the OOM that killed it is reported first.

import { fs } from '../sys/fs.js';
import { loadCgroupManager, type CgroupManager, type OomState } from '../cgroups/manager.js';
import { stringifyWithBigInt } from '../cgroups/stats.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Logger } from '../log/logger.js';
import type { ContainerState, StateStore } from '../state/store.js';
import { initAlive, statusOf } from './status.js';

const OOM_POLL_MS = 100;

// Go's time.ParseDuration, which runc's --interval uses ("5s", "1m30s",
// "250ms", "1.5h"); returns milliseconds.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || m[1] === undefined || m[2] === undefined) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2]] ?? NaN);
    s = s.slice(m[0].length);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

class ReaderGone extends Error {}

// One JSON line on stdout (Go's json.Encoder adds the newline).
function emit(event: Record<string, unknown>): void {
  try {
    fs.writeSync(1, stringifyWithBigInt(event) + '\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new ReaderGone();
    throw err;
  }
}

function statsData(cg: CgroupManager): Record<string, unknown> {
  // The members of runc's types.Stats that are not cgroup statistics: Intel
  // RDT (not supported: all of it omitempty) and the network interfaces
  // (nil without a network namespace runc manages).
  return { ...cg.stats(), intel_rdt: {}, network_interfaces: null };
}

function loadRunning(store: StateStore, id: string): { st: ContainerState; cg: CgroupManager } {
  const st = store.read(id);
  if (statusOf(store, st) === 'stopped') {
    throw new RuntimeError(Codes.WrongStatus, `container with id ${id} is not running`, {
      hint: 'events and statistics are only available while the container exists and has not stopped',
    });
  }
  if (!st.cgroup) throw new RuntimeError(Codes.CgroupEvents, `container "${id}" has no cgroup to read statistics from`);
  return { st, cg: loadCgroupManager(st.cgroup) };
}

// `events --stats`: one stats event.
export function printStats(store: StateStore, id: string): void {
  const { cg } = loadRunning(store, id);
  let data: Record<string, unknown>;
  try {
    data = statsData(cg);
  } catch (err) {
    if (err instanceof RuntimeError) throw err;
    throw new RuntimeError(Codes.CgroupEvents, `cannot read the statistics of container "${id}": ${(err as Error).message}`, { cause: err });
  }
  emit({ type: 'stats', id, data });
}

function oomHappened(prev: OomState, cur: OomState): boolean {
  if (cur.killerDisabled) return cur.underOom && !prev.underOom;
  return cur.kills > prev.kills;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// `events [--interval D]`: stats every interval, OOM events as they are seen.
export async function streamEvents(store: StateStore, id: string, intervalMs: number, log: Logger): Promise<void> {
  try {
    await follow(store, id, intervalMs, log);
  } catch (err) {
    // whoever read our output went away: nothing left to do
    if (!(err instanceof ReaderGone)) throw err;
  }
}

async function follow(store: StateStore, id: string, intervalMs: number, log: Logger): Promise<void> {
  const { st, cg } = loadRunning(store, id);
  const readOom = (): OomState | undefined => {
    try {
      return cg.oomState();
    } catch {
      return undefined; // the cgroup went away under us
    }
  };
  let prev = readOom() ?? { kills: 0, underOom: false, killerDisabled: false };
  const poll = Math.min(OOM_POLL_MS, intervalMs);
  let nextStats = Date.now() + intervalMs;
  for (;;) {
    // Decide "stopped" before reading the counters: an OOM kill that ended
    // the container is counted by then, so it is reported before we leave.
    const stopped = !initAlive(st) || !store.exists(id);
    const cur = readOom();
    if (cur !== undefined) {
      if (oomHappened(prev, cur)) emit({ type: 'oom', id });
      prev = cur;
    }
    if (stopped) return;
    if (Date.now() >= nextStats) {
      try {
        emit({ type: 'stats', id, data: statsData(cg) });
      } catch (err) {
        if (err instanceof ReaderGone) throw err;
        // runc logs a failed Stats() and goes on with the next tick
        log.error(`cannot read the statistics of container "${id}": ${(err as Error).message}`);
      }
      nextStats += intervalMs * Math.max(1, Math.ceil((Date.now() - nextStats) / intervalMs));
    }
    await sleep(Math.max(1, Math.min(poll, nextStats - Date.now())));
  }
}
