// Facts about processes from /proc, with the pid-reuse guard: a pid only
// names our process while its start time (field 22 of /proc/<pid>/stat)
// matches the one recorded when it was created.

import { fs } from '../sys/fs.js';

interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  return { state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

// Alive and still the same process; a zombie counts as dead (its reaper may
// not be us, or may never come).
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

// Sleep without spinning and without the event loop (Atomics.wait works on
// the main thread in Node and Bun).
const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

// Wait until the process is gone (or a zombie); false on timeout.
export function waitForExit(pid: number, startTime: string | undefined, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  let delay = 0.2;
  while (isSameProcessAlive(pid, startTime)) {
    if (Date.now() > deadline) return false;
    sleepMs(delay);
    delay = Math.min(delay * 2, 20);
  }
  return true;
}

export function readLastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
  } catch {
    return 40;
  }
}
