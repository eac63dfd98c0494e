// Cgroup file I/O. Every access is a synchronous node:fs call on an absolute
// path given by the caller, so tests can point a manager at a temp-dir fake
// cgroupfs. Writes open an existing file O_WRONLY|O_TRUNC and never create
// it (opencontainers/cgroups file.go WriteFile): a missing file means the
// controller or knob is not there, and that must be an error, not a new
// regular file.

import { errnoOf, fs } from '../sys/fs.js';
import { Codes, type ErrorCode } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

export interface WriteRecord {
  path: string;
  value: string;
  field?: string;
}

// the cgroup modules take it from here
export { errnoOf };

export function joinPath(dir: string, file: string): string {
  return dir.endsWith('/') ? dir + file : `${dir}/${file}`;
}

// A synchronous sleep: cgroup operations are short waits (freezer state,
// rmdir EBUSY) in a CLI that has nothing else to do meanwhile.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

const U64_MAX = 18446744073709551615n;

export interface WriteContext {
  field?: string; // JSON pointer of the config field being applied
  hint?: string;
  code?: ErrorCode;
}

export class CgroupFiles {
  // When given, every successful write is appended (tests assert on it).
  constructor(readonly log?: WriteRecord[]) {}

  // Returns the errno code on failure, undefined on success.
  tryWrite(dir: string, file: string, value: string, field?: string): string | undefined {
    const path = joinPath(dir, file);
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    } catch (err) {
      return errnoOf(err) ?? 'EIO';
    }
    try {
      // One write(2) per value: cgroup files parse each write as one command.
      fs.writeSync(fd, value);
    } catch (err) {
      return errnoOf(err) ?? 'EIO';
    } finally {
      fs.closeSync(fd);
    }
    this.log?.push(field === undefined ? { path, value } : { path, value, field });
    return undefined;
  }

  write(dir: string, file: string, value: string, ctx: WriteContext = {}): void {
    const errno = this.tryWrite(dir, file, value, ctx.field);
    if (errno !== undefined) throw writeError(dir, file, value, errno, ctx);
  }

  read(dir: string, file: string, ctx: WriteContext = {}): string {
    const path = joinPath(dir, file);
    try {
      return fs.readFileSync(path, 'utf8');
    } catch (err) {
      const errno = errnoOf(err);
      throw new RuntimeError(ctx.code ?? Codes.CgroupResource, `cannot read ${path}: ${errno ?? String(err)}`, {
        ...(ctx.field === undefined ? {} : { field: ctx.field }),
        path,
        syscall: 'read',
        ...(errno === undefined ? {} : { errno }),
        ...(ctx.hint === undefined ? {} : { hint: ctx.hint }),
        cause: err,
      });
    }
  }

  readOptional(dir: string, file: string): string | undefined {
    try {
      return fs.readFileSync(joinPath(dir, file), 'utf8');
    } catch (err) {
      const e = errnoOf(err);
      if (e === 'ENOENT' || e === 'ENODEV' || e === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  exists(dir: string, file?: string): boolean {
    return fs.existsSync(file === undefined ? dir : joinPath(dir, file));
  }

  // A single unsigned value; "max" reads as 2^64-1 (opencontainers/cgroups
  // fscommon ParseUint / GetCgroupParamUint), negative values clamp to 0.
  readU64(dir: string, file: string, ctx: WriteContext = {}): bigint {
    return parseU64(this.read(dir, file, ctx).trim());
  }
}

export function parseU64(s: string): bigint {
  if (s === 'max') return U64_MAX;
  if (/^-\d+$/.test(s)) return 0n;
  if (!/^\d+$/.test(s)) throw new Error(`not an unsigned integer: ${JSON.stringify(s)}`);
  const v = BigInt(s);
  return v > U64_MAX ? U64_MAX : v;
}

export { U64_MAX };

export function writeError(dir: string, file: string, value: string, errno: string, ctx: WriteContext): RuntimeError {
  const path = joinPath(dir, file);
  const what = ctx.field === undefined ? '' : `cannot apply ${ctx.field}: `;
  const message =
    errno === 'ENOENT'
      ? `${what}${path} does not exist (the kernel or this cgroup lacks that controller or knob)`
      : `${what}writing ${JSON.stringify(value)} to ${path} failed: ${errno}`;
  return new RuntimeError(ctx.code ?? Codes.CgroupResource, message, {
    ...(ctx.field === undefined ? {} : { field: ctx.field }),
    path,
    syscall: errno === 'ENOENT' ? 'open' : 'write',
    errno,
    ...(ctx.hint === undefined ? {} : { hint: ctx.hint }),
  });
}

// Integers from config.json as cgroup file text. Large int64 values
// (e.g. 9223372036854775807) are already rounded by JSON.parse; BigInt keeps
// them out of exponent notation.
export function formatInt(n: number, field: string): string {
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new RuntimeError(Codes.CgroupResource, `${field} must be an integer, got ${JSON.stringify(n)}`, { field });
  }
  return BigInt(n).toString();
}
