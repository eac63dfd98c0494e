// linux.seccomp -> the BPF bytes runt-init installs, through a cache: a
// profile seen before (same JSON, same libseccomp, same kernel) costs a file
// read, and neither koffi nor libseccomp is loaded (the first compile costs
// their start-up, a few ms). Cache entries live in <root>/.cache/seccomp,
// written by rename so a reader never sees half a program. An entry holds
// its whole key and is used only when that matches exactly, so the file
// name needs only a cheap hash (node:crypto alone costs ~10 ms to load on
// Bun, five times the budget of a cached profile).

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Seccomp } from '../spec/types.js';
import { builtin } from '../sys/builtin.js';
import { fs } from '../sys/fs.js';
import { findLibseccomp, openLibseccomp } from '../sys/libseccomp.js';
import * as path from '../sys/paths.js';
import { compileProfile, type KernelFacts, type SeccompProgram } from './profile.js';

export interface SeccompFilter {
  program: SeccompProgram;
  bpf: Buffer;
  cached: boolean;
  skipped: string[]; // unknown syscall names (compiled now; empty on a cache hit)
}

// uname -r, without node:os (a cached profile must stay cheap)
let osRelease: string | undefined;
function kernelRelease(): string {
  osRelease ??= fs.readFileSync('/proc/sys/kernel/osrelease', 'latin1').trim();
  return osRelease;
}

export function kernelFacts(release = kernelRelease()): KernelFacts {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return { version: m ? [Number(m[1]), Number(m[2])] : [0, 0] };
}

const SOCK_FILTER_SIZE = 8; // struct sock_filter

// Everything the program depends on.
function cacheKey(s: Seccomp, libIdentity: string): Buffer {
  return Buffer.from(`${JSON.stringify(s)}\0${libIdentity}\0${kernelRelease()} ${process.arch}`, 'utf8');
}

// The file name: Bun's native hash where there is one (a cached profile's
// key is ~15 KB of JSON; hashing it in JS cost ~0.8 ms), else cyrb53.
function fileHash(b: Buffer): string {
  const bunHash = (globalThis as { Bun?: { hash(data: Uint8Array): number | bigint } }).Bun?.hash;
  return bunHash ? bunHash(b).toString(16).padStart(16, '0') : hash53(b);
}

// cyrb53: a 53-bit string hash.
function hash53(b: Buffer): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let k = 0; k < b.length; k++) {
    const c = b[k]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

// An entry: u32 key length (LE), the key, the BPF program.
function readCached(file: string, key: Buffer): Buffer | undefined {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (b.length < 4) return undefined;
  const klen = b.readUInt32LE(0);
  if (4 + klen > b.length || !b.subarray(4, 4 + klen).equals(key)) return undefined;
  const bpf = b.subarray(4 + klen);
  return bpf.length > 0 && bpf.length % SOCK_FILTER_SIZE === 0 ? bpf : undefined;
}

function writeCached(dir: string, file: string, key: Buffer, bpf: Buffer): void {
  const tmp = path.join(dir, `.entry-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);
  try {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(key.length, 0);
    fs.writeFileSync(tmp, Buffer.concat([head, key, bpf]), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch {
    // a read-only or full cache only costs speed
    fs.rmSync(tmp, { force: true });
  }
}

// cacheDir undefined: no cache (compile into a temporary file).
export async function seccompFilter(s: Seccomp, cacheDir: string | undefined, pointer = '/linux/seccomp'): Promise<SeccompFilter> {
  const program = compileProfile(s, kernelFacts(), pointer);
  const lib = findLibseccomp();
  if (!lib) {
    throw new RuntimeError(Codes.SeccompUnavailable, 'linux.seccomp is set but libseccomp (libseccomp.so.2) was not found', {
      field: pointer,
      hint: 'install libseccomp (Debian: apt-get install libseccomp2)',
    });
  }
  const key = cacheKey(s, lib.identity);
  const final = cacheDir ? path.join(cacheDir, `${fileHash(key)}.bpf`) : undefined;
  if (final) {
    const hit = readCached(final, key);
    if (hit) return { program, bpf: hit, cached: true, skipped: [] };
  }
  // libseccomp writes the program to a file descriptor (2.5 has no
  // seccomp_export_bpf_mem): a temporary file, removed below
  // a miss: compile (koffi and libseccomp are loaded for it anyway)
  const { compileFilter } = await import('./compile.js');
  const tmp = path.join(builtin<typeof import('node:os')>('node:os').tmpdir(), `.runt-seccomp-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);
  const fd = fs.openSync(tmp, 'wx+', 0o600);
  try {
    const libseccomp = await openLibseccomp(lib);
    const { bpf, skipped } = compileFilter(libseccomp, program, fd);
    if (bpf.length === 0 || bpf.length % SOCK_FILTER_SIZE !== 0) {
      throw new RuntimeError(Codes.SeccompCompile, `libseccomp exported a BPF program of ${bpf.length} bytes`, { field: pointer });
    }
    if (final && cacheDir) {
      try {
        fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        writeCached(cacheDir, final, key, bpf);
      } catch {
        // an unwritable cache only costs speed
      }
    }
    return { program, bpf, cached: false, skipped };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
  }
}

// Where a state root keeps its compiled filters.
export function seccompCacheDir(stateRoot: string): string {
  return path.join(stateRoot, '.cache', 'seccomp');
}
