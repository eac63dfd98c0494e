// The state directory: <root>/<id>/state.json plus the exec fifo.
//
// Concurrency without locks: mkdir of <root>/<id> is atomic, so exactly one
// `create` of an id wins; state.json is replaced by rename(2), so readers
// never see a torn file; `delete` renames the directory away before removing
// it, so exactly one deleter wins. The state is written before any other side
// effect (intent first), so `delete --force` can always clean up after a
// create that was killed half way (runc#4534).

import fs from 'node:fs';
import path from 'node:path';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import type { SavedCgroup } from '../cgroups/manager.js';
import type { Spec } from '../spec/types.js';

export const OCI_VERSION = '1.3.0';

export interface ContainerState {
  ociVersion: string;
  id: string;
  bundle: string;
  rootfs: string;
  created: string; // ISO time
  owner: string;
  annotations: Record<string, string>;
  // set once the init exists
  pid?: number;
  pidStartTime?: string; // field 22 of /proc/<pid>/stat: guards against pid reuse
  // the process that is creating the container, while it does
  creatorPid?: number;
  creatorStartTime?: string;
  cgroup?: SavedCgroup;
  config: Spec;
  started?: boolean;
}

const ID_RE = /^[\w+.-]+$/;

// runc's rule (libcontainer/utils: IsValidContainerID, less the length cap).
export function validateId(id: string | undefined): string {
  if (id === undefined || id === '') {
    throw new RuntimeError(Codes.MissingArgument, 'container id cannot be empty', { hint: 'pass the container id as the first argument' });
  }
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw new RuntimeError(Codes.InvalidId, `invalid container id ${JSON.stringify(id)}`, {
      hint: 'an id may contain only letters, digits, "_", "+", "-" and "."',
    });
  }
  return id;
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  // Claim the id: the atomic mkdir decides between racing creates.
  claim(id: string): string {
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw fromSystemError(Codes.StateRoot, `create state root ${this.root}`, err, {
        hint: 'the state root (--root) must be on a writable filesystem',
      });
    }
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new RuntimeError(Codes.ContainerExists, `container "${id}" already exists`, {
          path: dir,
          hint: `pick another id, or remove the old container with \`runt delete --force ${id}\``,
        });
      }
      throw fromSystemError(Codes.StateRoot, `create state directory ${dir}`, err);
    }
    return dir;
  }

  write(state: ContainerState): void {
    const dir = this.dir(state.id);
    const tmp = path.join(dir, `.state.json.${process.pid}`);
    try {
      fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600, flag: 'w' });
      fs.renameSync(tmp, path.join(dir, 'state.json'));
    } catch (err) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // nothing to clean
      }
      throw fromSystemError(Codes.StateWrite, `write state of container "${state.id}"`, err, { path: dir });
    }
  }

  read(id: string): ContainerState {
    validateId(id);
    const file = path.join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new RuntimeError(Codes.ContainerNotFound, `container "${id}" does not exist`, {
          path: this.dir(id),
          hint: `\`runt --root ${this.root} list\` shows the containers there`,
        });
      }
      throw fromSystemError(Codes.StateCorrupt, `read state of container "${id}"`, err, { path: file });
    }
    try {
      return JSON.parse(text) as ContainerState;
    } catch (err) {
      throw new RuntimeError(Codes.StateCorrupt, `state of container "${id}" is corrupt`, {
        path: file,
        hint: `remove it with \`runt delete --force ${id}\``,
        cause: err,
      });
    }
  }

  // Ids in the root; a directory without state.json is a create that died
  // before writing it (or is being written right now).
  list(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromSystemError(Codes.StateRoot, `read state root ${this.root}`, err);
    }
  }

  exists(id: string): boolean {
    return fs.existsSync(this.dir(id));
  }

  // Remove the directory: rename it out of the way first so that a
  // concurrent delete or create sees the id gone or free, never half removed.
  remove(id: string): boolean {
    const dir = this.dir(id);
    const grave = path.join(this.root, `.deleted-${id}-${process.pid}-${Date.now()}`);
    try {
      fs.renameSync(dir, grave);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fromSystemError(Codes.StateWrite, `remove state of container "${id}"`, err, { path: dir });
    }
    fs.rmSync(grave, { recursive: true, force: true });
    return true;
  }
}
