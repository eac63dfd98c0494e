// libseccomp (libseccomp.so.2) through koffi: just the calls that turn a
// rule set into a BPF program. Functions return a negative errno on failure
// (seccomp_init(3)); nothing here reads errno.

import { fs } from './fs.js';
import * as path from './paths.js';
import { loadKoffi, loadKoffiSync, type Koffi } from './ffi.js';

// Where distributions put the library; the first hit is loaded by path, so
// the cache key (its realpath, size and mtime) names the library in use.
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];

export interface LibseccompFile {
  path: string;
  // changes whenever the library does: realpath (has the version), size, mtime
  identity: string;
}

let found: LibseccompFile | null | undefined;

export function findLibseccomp(): LibseccompFile | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  for (const dir of LIB_DIRS) {
    const p = path.join(dir, 'libseccomp.so.2');
    try {
      const real = fs.realpathSync(p);
      const st = fs.statSync(real);
      found = { path: p, identity: `${real}:${st.size}:${Math.trunc(st.mtimeMs)}` };
      break;
    } catch {
      // not here
    }
  }
  return found ?? undefined;
}

export interface ArgCmp {
  index: number;
  op: number;
  a: bigint;
  b: bigint;
}

// A rule's conditions as libseccomp takes them (an array of struct
// scmp_arg_cmp), packed once and added to several filters.
export interface PackedArgs {
  count: number;
  buf: Buffer;
}

export function packArgs(args: ArgCmp[]): PackedArgs {
  // struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op;
  // scmp_datum_t datum_a, datum_b; }: 24 bytes
  const buf = Buffer.alloc(24 * Math.max(args.length, 1));
  args.forEach((c, i) => {
    buf.writeUInt32LE(c.index, i * 24);
    buf.writeInt32LE(c.op, i * 24 + 4);
    buf.writeBigUInt64LE(c.a, i * 24 + 8);
    buf.writeBigUInt64LE(c.b, i * 24 + 16);
  });
  return { count: args.length, buf };
}

export interface Libseccomp {
  version: string;
  // an opaque filter context
  init(defaultAction: number): unknown;
  release(ctx: unknown): void;
  archResolve(name: string): number; // 0: unknown to this libseccomp
  archNative(): number;
  archAdd(ctx: unknown, token: number): number;
  archRemove(ctx: unknown, token: number): number;
  attrSet(ctx: unknown, attr: number, value: number): number;
  attrGet(ctx: unknown, attr: number): number | undefined;
  syscallResolve(name: string): number; // __NR_SCMP_ERROR (-1): unknown
  ruleAdd(ctx: unknown, action: number, syscall: number, args: PackedArgs): number;
  exportBpf(ctx: unknown, fd: number): number;
}

// enum scmp_filter_attr
export const SCMP_FLTATR_ACT_BADARCH = 2;
export const SCMP_FLTATR_CTL_OPTIMIZE = 8;

let opened: Libseccomp | undefined;

export async function openLibseccomp(file: LibseccompFile): Promise<Libseccomp> {
  const koffi = await loadKoffi();
  return opened ?? bind(koffi, file);
}

export function openLibseccompSync(file: LibseccompFile): Libseccomp | undefined {
  if (opened) return opened;
  const koffi = loadKoffiSync();
  return koffi ? bind(koffi, file) : undefined;
}

function bind(koffi: Koffi, file: LibseccompFile): Libseccomp {
  const lib = koffi.load(file.path);
  // anonymous: a named type can be declared only once per process
  const version = koffi.struct({ major: 'uint', minor: 'uint', micro: 'uint' });
  const seccompVersion = lib.func('seccomp_version', koffi.pointer(version), []);
  const init = lib.func('void *seccomp_init(uint32_t def_action)');
  const release = lib.func('void seccomp_release(void *ctx)');
  const archResolve = lib.func('uint32_t seccomp_arch_resolve_name(const char *name)');
  const archNative = lib.func('uint32_t seccomp_arch_native(void)');
  const archAdd = lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)');
  const archRemove = lib.func('int seccomp_arch_remove(void *ctx, uint32_t arch_token)');
  const attrSet = lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)');
  const attrGet = lib.func('int seccomp_attr_get(void *ctx, int attr, _Out_ uint32_t *value)');
  const syscallResolve = lib.func('int seccomp_syscall_resolve_name(const char *name)');
  const ruleAdd = lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *args)');
  const exportBpf = lib.func('int seccomp_export_bpf(void *ctx, int fd)');
  const v = koffi.decode(seccompVersion(), version) as { major: number; minor: number; micro: number };
  return (opened = {
    version: `${v.major}.${v.minor}.${v.micro}`,
    init: (a) => init(a >>> 0),
    release: (ctx) => release(ctx),
    archResolve: (name) => Number(archResolve(name)),
    archNative: () => Number(archNative()),
    archAdd: (ctx, token) => Number(archAdd(ctx, token >>> 0)),
    archRemove: (ctx, token) => Number(archRemove(ctx, token >>> 0)),
    attrSet: (ctx, attr, value) => Number(attrSet(ctx, attr, value >>> 0)),
    attrGet: (ctx, attr) => {
      const out = [0];
      return Number(attrGet(ctx, attr, out)) === 0 ? out[0]! >>> 0 : undefined;
    },
    syscallResolve: (name) => Number(syscallResolve(name)),
    ruleAdd: (ctx, action, syscall, args) => Number(ruleAdd(ctx, action >>> 0, syscall, args.count, args.buf)),
    exportBpf: (ctx, fd) => Number(exportBpf(ctx, fd)),
  });
}
