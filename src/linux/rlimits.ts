// POSIX resource limits (process.rlimits) for x86_64 Linux.
//
// Types are matched exactly ("RLIMIT_NOFILE"), as runc's rlimit map does.
// The runtime-spec says duplicated types MUST be an error; runc does not check
// this (the last entry silently wins, runc issue #5493), we do.
//
// Values are uint64, but JSON.parse gives doubles: anything above 2^53 has
// already lost precision before we see it. 2^64-1 (RLIM_INFINITY) parses to
// 18446744073709552000 = 2^64, so any value >= 2^64-1 is taken as infinity.
// A bigint from a lossless parser is used as is.

import type { Rlimit } from '../spec/types.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

const TYPES: readonly string[] = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

const numbers = new Map<string, number>(TYPES.map((t, i) => [t, i]));

export function allRlimitTypes(): string[] {
  return [...TYPES];
}

// field is the JSON pointer of the entry's "type", for the error.
export function rlimitNumber(type: string, field?: string): number {
  const n = numbers.get(type);
  if (n === undefined) {
    throw new RuntimeError(Codes.RlimitConfig, `unknown rlimit type ${JSON.stringify(type)}`, {
      field,
      hint: 'use one of RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_MEMLOCK, ...',
    });
  }
  return n;
}

// A JSON uint64 as the kernel's rlim_t.
export function rlimitValue(v: number | bigint, field?: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) throw badValue(v, field);
    return v >= RLIM_INFINITY ? RLIM_INFINITY : v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badValue(v, field);
  // 2^64 is the double nearest 2^64-1 (and to the ~1000 values below it,
  // which no double can tell apart from it anyway).
  if (v >= 2 ** 64) return RLIM_INFINITY;
  return BigInt(v);
}

function badValue(v: unknown, field: string | undefined): RuntimeError {
  return new RuntimeError(Codes.RlimitConfig, `invalid rlimit value ${String(v)}: must be an unsigned 64-bit integer`, {
    field,
  });
}

export interface ResolvedRlimit {
  type: string;
  resource: number;
  soft: bigint;
  hard: bigint;
}

// Checks and converts process.rlimits. pointer is where the array lives.
export function resolveRlimits(
  rlimits: readonly Rlimit[] | undefined,
  pointer = '/process/rlimits',
): ResolvedRlimit[] {
  const out: ResolvedRlimit[] = [];
  const seen = new Map<string, number>();
  (rlimits ?? []).forEach((r, i) => {
    const at = `${pointer}/${i}`;
    const resource = rlimitNumber(r.type, `${at}/type`);
    const first = seen.get(r.type);
    if (first !== undefined) {
      throw new RuntimeError(Codes.RlimitConfig, `duplicate rlimit type ${r.type} (also at index ${first})`, {
        field: `${at}/type`,
        hint: 'list each rlimit type once',
      });
    }
    seen.set(r.type, i);
    const soft = rlimitValue(r.soft as number | bigint, `${at}/soft`);
    const hard = rlimitValue(r.hard as number | bigint, `${at}/hard`);
    // setrlimit(2) would fail with a bare EINVAL; say why up front.
    if (soft > hard) {
      throw new RuntimeError(Codes.RlimitConfig, `rlimit ${r.type} soft limit ${soft} is above the hard limit ${hard}`, {
        field: `${at}/soft`,
      });
    }
    out.push({ type: r.type, resource, soft, hard });
  });
  return out;
}
