// Linux signal numbers for x86_64 and the name parsing `runt kill` uses.
//
// runc parses with strconv.Atoi, then upper-cases the name, adds a "SIG"
// prefix if missing and looks it up with x/sys/unix.SignalNum, which knows
// only the 31 classic names. moby/sys/signal.ParseSignal (used by Docker and
// containerd) also knows the aliases CLD, IOT, POLL and the real-time names
// RTMIN, RTMIN+1..RTMIN+15, RTMAX-14..RTMAX-1, RTMAX. We accept the union,
// which is a superset of runc's. Unlike runc (which passes any integer to
// kill(2), even 0 or 99), numbers must be in 1..64.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

export const SIGRTMIN = 34; // glibc's SIGRTMIN; the kernel's 32 and 33 are reserved by libc
export const SIGRTMAX = 64;

// Canonical names by number (the names x/sys/unix prints).
const CLASSIC: readonly (readonly [string, number])[] = [
  ['HUP', 1],
  ['INT', 2],
  ['QUIT', 3],
  ['ILL', 4],
  ['TRAP', 5],
  ['ABRT', 6],
  ['BUS', 7],
  ['FPE', 8],
  ['KILL', 9],
  ['USR1', 10],
  ['SEGV', 11],
  ['USR2', 12],
  ['PIPE', 13],
  ['ALRM', 14],
  ['TERM', 15],
  ['STKFLT', 16],
  ['CHLD', 17],
  ['CONT', 18],
  ['STOP', 19],
  ['TSTP', 20],
  ['TTIN', 21],
  ['TTOU', 22],
  ['URG', 23],
  ['XCPU', 24],
  ['XFSZ', 25],
  ['VTALRM', 26],
  ['PROF', 27],
  ['WINCH', 28],
  ['IO', 29],
  ['PWR', 30],
  ['SYS', 31],
];

// Second names for the same numbers, as moby's SignalMap has them.
const ALIASES: readonly (readonly [string, number])[] = [
  ['IOT', 6],
  ['CLD', 17],
  ['POLL', 29],
];

// moby names 34..49 from RTMIN up and 50..64 from RTMAX down.
const RT_SPLIT = SIGRTMIN + 15;

function rtName(n: number): string {
  if (n === SIGRTMIN) return 'RTMIN';
  if (n === SIGRTMAX) return 'RTMAX';
  return n <= RT_SPLIT ? `RTMIN+${n - SIGRTMIN}` : `RTMAX-${SIGRTMAX - n}`;
}

const byName = new Map<string, number>();
const byNumber = new Map<number, string>();
for (const [name, n] of CLASSIC) {
  byName.set(name, n);
  byNumber.set(n, name);
}
for (const [name, n] of ALIASES) byName.set(name, n);
for (let n = SIGRTMIN; n <= SIGRTMAX; n++) {
  byName.set(rtName(n), n);
  byNumber.set(n, rtName(n));
}

// Every accepted name without the SIG prefix, canonical names first.
export function signalNames(): string[] {
  return [...byName.keys()];
}

const HINT = 'use a number from 1 to 64 or a name such as TERM, KILL, HUP, INT, USR1, RTMIN+3';

function invalid(raw: string): RuntimeError {
  return new RuntimeError(Codes.BadSignal, `invalid signal ${JSON.stringify(raw)}`, { hint: HINT });
}

// Accepts "9", "KILL", "SIGKILL", "kill", "sigrtmin+3"; throws BadSignal otherwise.
export function parseSignal(raw: string): number {
  // Atoi allows a sign; "-9" then fails the range check rather than the name lookup.
  if (/^[+-]?[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1 || n > SIGRTMAX) throw invalid(raw);
    return n;
  }
  let name = raw.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const n = byName.get(name);
  if (n === undefined) throw invalid(raw);
  return n;
}

// "SIGKILL" for 9, "SIGRTMIN+3" for 37; undefined outside 1..64 and for 32, 33.
export function signalName(n: number): string | undefined {
  const name = byNumber.get(n);
  return name === undefined ? undefined : `SIG${name}`;
}
