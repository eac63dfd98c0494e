// Small helpers for starting runt-init that `exec` needs without importing
// create.ts (which loads the schema validator: ~25 ms that exec must not pay).

import { fs } from '../sys/fs.js';
import type net from 'node:net';
import * as path from '../sys/paths.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { installRoot } from '../sys/install-root.js';

export function findInitBinary(): string {
  if (process.env.RUNT_INIT) return process.env.RUNT_INIT;
  const candidate = `${installRoot()}/bin/runt-init`;
  if (fs.existsSync(candidate)) return candidate;
  throw new RuntimeError(Codes.InitSpawn, `the native stage runt-init was not found at ${candidate}`, { path: candidate, hint: 'run `make` to build bin/runt-init, or set RUNT_INIT' });
}

export async function connectUnix(p: string): Promise<net.Socket> {
  // node:net only when a console socket is used
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect({ path: p });
    sock.once('connect', () => resolve(sock));
    sock.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new RuntimeError(Codes.ConsoleSocket, `cannot connect to console socket ${p}: ${err.code ?? err.message}`, {
          path: p,
          errno: err.code,
          hint: 'the console socket must be a listening unix socket (e.g. recvtty)',
        }),
      ),
    );
  });
}

// Atomically, so that a reader (containerd) never sees an empty file.
export function writePidFileAtomic(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
  try {
    fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
    fs.renameSync(tmp, abs);
  } catch (err) {
    throw fromSystemError(Codes.PidFile, `write pid file ${abs}`, err, { path: abs });
  }
}
