// The synchronous file calls of the lifecycle commands, shaped like node:fs.
//
// On Bun, importing node:fs costs every CLI call ~1.1-1.4 ms and ~5 MiB (it
// pulls in node:events and more): a sixth of a `runt state`. state, start,
// kill and delete need a dozen plain syscalls, so they come from
// bin/runt-sys.node (src/native/sys-addon.c, a Node-API module: ~0.2 ms to
// load), which throws the errors node:fs throws (code, errno, syscall,
// path). Where that file is missing (a copied executable, the tsc output
// before `make`), node:fs does the same job. Modules of the hot commands
// import `fs` from here, never node:fs.

import { builtin } from './builtin.js';
import { isCompiledExecutable } from './executable.js';
import { dirname } from './paths.js';

export interface DirEntry {
  name: string;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface OpenFlags {
  O_RDONLY: number;
  O_WRONLY: number;
  O_RDWR: number;
  O_CREAT: number;
  O_EXCL: number;
  O_TRUNC: number;
  O_APPEND: number;
  O_NONBLOCK: number;
  O_DIRECTORY: number;
  O_NOFOLLOW: number;
}

type FlagName = 'r' | 'w' | 'wx' | 'wx+' | 'a';

export interface FileStat {
  mode: number;
  size: number;
  mtimeMs: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

// The subset of node:fs runt's hot modules use (node:fs itself satisfies it).
export interface SyncFs {
  constants: OpenFlags;
  readFileSync(path: string, encoding: 'utf8' | 'latin1'): string;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: string | Uint8Array, options?: { mode?: number; flag?: FlagName }): void;
  openSync(path: string, flags: number | FlagName, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  writeSync(fd: number, data: string): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  rmdirSync(path: string): void;
  mkdirSync(path: string, options?: { mode?: number; recursive?: boolean }): unknown;
  statSync(path: string): FileStat;
  lstatSync(path: string): FileStat;
  realpathSync(path: string): string;
  existsSync(path: string): boolean;
  symlinkSync(target: string, path: string): void;
  readlinkSync(path: string): string;
  linkSync(existingPath: string, newPath: string): void;
  rmSync(path: string, options: { recursive?: boolean; force: true }): void;
  readdirSync(path: string): string[];
  readdirSync(path: string, options: { withFileTypes: true }): DirEntry[];
}

// What runt-sys.node exports (src/native/sys-addon.c).
export interface SysAddon {
  constants: OpenFlags & { S_IFMT: number; S_IFDIR: number; S_IFREG: number; S_IFLNK: number; DT_DIR: number; DT_REG: number; DT_LNK: number };
  open(path: string, flags: number, mode: number): number;
  close(fd: number): void;
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  waitRead(fd: number, maxBytes: number): Buffer;
  pollIn(fd: number, timeoutMs: number): boolean;
  readFile(path: string, as: 0 | 1): string;
  readFile(path: string, as: 2): Buffer;
  write(fd: number, data: string): number;
  writeBytes(fd: number, data: Uint8Array, offset: number, length: number): number;
  stat(path: string, follow: boolean): [number, number, number];
  realpath(path: string): string;
  writeFile(path: string, data: string | Uint8Array, flags: number, mode: number): void;
  unlink(path: string): void;
  rmdir(path: string): void;
  mkdir(path: string, mode: number): void;
  rename(from: string, to: string): void;
  exchange(a: string, b: string): void;
  symlink(target: string, path: string): void;
  link(from: string, to: string): void;
  exists(path: string): boolean;
  readlink(path: string): string;
  readdir(path: string): (string | number)[];
}

// The errno name of a failed call ("ENOENT"), of either implementation.
export function errnoOf(err: unknown): string | undefined {
  const c = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

// node:fs on top of the addon, for the calls and options SyncFs names.
export function addonFs(sys: SysAddon): SyncFs {
  const k = sys.constants;
  const flagsOf = (f: number | FlagName): number => {
    if (typeof f === 'number') return f;
    if (f === 'r') return k.O_RDONLY;
    if (f === 'a') return k.O_WRONLY | k.O_CREAT | k.O_APPEND;
    if (f === 'wx+') return k.O_RDWR | k.O_CREAT | k.O_TRUNC | k.O_EXCL;
    return k.O_WRONLY | k.O_CREAT | k.O_TRUNC | (f === 'wx' ? k.O_EXCL : 0);
  };
  const fileStat = ([mode, size, mtimeMs]: [number, number, number]): FileStat => ({
    mode,
    size,
    mtimeMs,
    isDirectory: () => (mode & k.S_IFMT) === k.S_IFDIR,
    isFile: () => (mode & k.S_IFMT) === k.S_IFREG,
    isSymbolicLink: () => (mode & k.S_IFMT) === k.S_IFLNK,
  });
  const isDirectory = (p: string): boolean => {
    try {
      return fileStat(sys.stat(p, true)).isDirectory();
    } catch {
      return false;
    }
  };
  // returns the first directory it made, as node:fs does
  const mkdirRecursive = (p: string, mode: number): string | undefined => {
    try {
      sys.mkdir(p, mode);
      return p;
    } catch (err) {
      if (errnoOf(err) === 'EEXIST' && isDirectory(p)) return undefined;
      if (errnoOf(err) !== 'ENOENT' || dirname(p) === p) throw err;
    }
    const first = mkdirRecursive(dirname(p), mode);
    try {
      sys.mkdir(p, mode);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST' || !isDirectory(p)) throw err;
    }
    return first ?? p;
  };
  return {
    constants: k,
    readFileSync: ((p: string, encoding?: 'utf8' | 'latin1') =>
      encoding === undefined ? sys.readFile(p, 2) : sys.readFile(p, encoding === 'latin1' ? 1 : 0)) as SyncFs['readFileSync'],
    writeFileSync: (p, data, o) => sys.writeFile(p, data, flagsOf(o?.flag ?? 'w'), o?.mode ?? 0o666),
    openSync: (p, flags, mode = 0o666) => sys.open(p, flagsOf(flags), mode),
    closeSync: (fd) => sys.close(fd),
    readSync: (fd, buffer, offset, length) => sys.read(fd, buffer, offset, length),
    writeSync: ((fd: number, data: string | Uint8Array, offset?: number, length?: number) =>
      typeof data === 'string' ? sys.write(fd, data) : sys.writeBytes(fd, data, offset ?? 0, length ?? data.length - (offset ?? 0))) as SyncFs['writeSync'],
    renameSync: (from, to) => sys.rename(from, to),
    unlinkSync: (p) => sys.unlink(p),
    rmdirSync: (p) => sys.rmdir(p),
    mkdirSync: (p, o) => (o?.recursive ? mkdirRecursive(p, o.mode ?? 0o777) : sys.mkdir(p, o?.mode ?? 0o777)),
    statSync: (p) => fileStat(sys.stat(p, true)),
    lstatSync: (p) => fileStat(sys.stat(p, false)),
    realpathSync: (p) => sys.realpath(p),
    existsSync: (p) => {
      try {
        return sys.exists(p);
      } catch {
        return false; // not a path at all, as node:fs says
      }
    },
    symlinkSync: (target, p) => sys.symlink(target, p),
    readlinkSync: (p) => sys.readlink(p),
    linkSync: (from, to) => sys.link(from, to),
    rmSync: (p, o) => {
      // a tree is rare (a state directory with strays): node:fs walks it
      if (o.recursive) return builtin<SyncFs>('node:fs').rmSync(p, o);
      try {
        sys.unlink(p);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
      }
    },
    readdirSync: ((p: string, o?: { withFileTypes: true }) => {
      const flat = sys.readdir(p);
      if (!o?.withFileTypes) return flat.filter((_, i) => i % 2 === 0);
      const out: DirEntry[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const name = flat[i] as string;
        const type = flat[i + 1] as number;
        out.push({
          name,
          isDirectory: () => type === k.DT_DIR,
          isFile: () => type === k.DT_REG,
          isSymbolicLink: () => type === k.DT_LNK,
        });
      }
      return out;
    }) as SyncFs['readdirSync'],
  };
}

// bin/runt-sys.node of this install: beside the executable, or under the
// checkout root when running the tsc output (dist/src/sys/fs.js).
export function addonPath(): string {
  if (isCompiledExecutable()) return `${dirname(process.execPath)}/runt-sys.node`;
  return new URL('../../../bin/runt-sys.node', import.meta.url).pathname;
}

export function loadAddon(file: string): SysAddon {
  const mod = { exports: {} as SysAddon };
  process.dlopen(mod, file);
  return mod.exports;
}

function load(): { fs: SyncFs; addon: SysAddon | undefined } {
  try {
    const addon = loadAddon(addonPath());
    return { fs: addonFs(addon), addon };
  } catch {
    return { fs: builtin<SyncFs>('node:fs'), addon: undefined };
  }
}

const loaded = load();
export const fs: SyncFs = loaded.fs;
// whether the addon serves the calls (`runt doctor` says so)
export const nativeFs: boolean = loaded.addon !== undefined;

// A blocking read of what a (non-blocking) fd has next, once it has
// something: a Buffer, empty at end of file. Only with the addon (node:fs
// cannot wait on a socket); undefined otherwise.
export const waitRead: ((fd: number, maxBytes: number) => Buffer) | undefined = loaded.addon ? (fd, max) => loaded.addon!.waitRead(fd, max) : undefined;

// Wait up to timeoutMs for a fd to become readable (data, or its writer
// gone); only with the addon, undefined otherwise.
export const pollIn: ((fd: number, timeoutMs: number) => boolean) | undefined = loaded.addon ? (fd, ms) => loaded.addon!.pollIn(fd, ms) : undefined;

// Swap two existing names atomically (renameat2 RENAME_EXCHANGE); only with
// the addon (node:fs has no such call), undefined otherwise. Throws what
// renameSync would, with ENOENT when either name is missing and EINVAL
// where the filesystem cannot exchange.
export const renameExchange: ((a: string, b: string) => void) | undefined = loaded.addon ? (a, b) => loaded.addon!.exchange(a, b) : undefined;
