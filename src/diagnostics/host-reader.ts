// Read-only access to the host's /proc, /sys and /etc for the diagnostics
// (validate, explain, doctor, features --host). Nothing here writes, so all
// of it works without root. `root` prefixes every path: unit tests point it
// at a fake tree.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface HostReader {
  uid: number;
  release: string; // uname -r
  machine: string; // uname -m
  env: NodeJS.ProcessEnv;
  read(p: string): string | undefined; // undefined when missing or unreadable
  exists(p: string): boolean;
  writable(p: string): boolean;
  list(p: string): string[] | undefined;
  stat(p: string): fs.Stats | undefined;
  readlink(p: string): string | undefined; // undefined unless p is a symlink
  openError(p: string): string | undefined; // errno of opening p read-only, undefined if it opens
  // a command's absolute path, searched in $PATH
  which(cmd: string): string | undefined;
}

export interface HostReaderOptions {
  root?: string;
  uid?: number;
  release?: string;
  machine?: string;
  env?: NodeJS.ProcessEnv;
}

export function hostReader(opts: HostReaderOptions = {}): HostReader {
  const root = opts.root ?? '';
  const at = (p: string): string => (root ? path.join(root, p) : p);
  const reader: HostReader = {
    uid: opts.uid ?? process.getuid?.() ?? 0,
    release: opts.release ?? os.release(),
    machine: opts.machine ?? os.machine(),
    env: opts.env ?? process.env,
    read(p) {
      try {
        return fs.readFileSync(at(p), 'utf8');
      } catch {
        return undefined;
      }
    },
    exists(p) {
      return fs.existsSync(at(p));
    },
    writable(p) {
      try {
        fs.accessSync(at(p), fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    list(p) {
      try {
        return fs.readdirSync(at(p)).sort();
      } catch {
        return undefined;
      }
    },
    stat(p) {
      try {
        return fs.statSync(at(p));
      } catch {
        return undefined;
      }
    },
    readlink(p) {
      try {
        return fs.readlinkSync(at(p));
      } catch {
        return undefined;
      }
    },
    openError(p) {
      try {
        fs.closeSync(fs.openSync(at(p), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
        return undefined;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'EIO';
      }
    },
    which(cmd) {
      for (const dir of (reader.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
        if (!dir) continue;
        const p = path.join(dir, cmd);
        const st = reader.stat(p);
        if (st?.isFile()) return p;
      }
      return undefined;
    },
  };
  return reader;
}

// "6.1.0-18-amd64" -> [6, 1, 0]
export function kernelVersion(release: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const [a, b] = kernelVersion(release);
  return a > major || (a === major && b >= minor);
}
