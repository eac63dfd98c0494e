// The state directory: <root>/<id>/state.json plus the exec fifo.
//
// Concurrency: mkdir of <root>/<id> is atomic, so exactly one `create` of an
// id wins; state.json is replaced by rename(2), so readers never see a torn
// file; `delete` renames the directory away before removing it, so a
// concurrent create sees the id gone or free. The commands that read, change
// and write an existing container's state (start, update, delete) hold its
// lock (lock() below), so no update is lost and exactly one delete wins. The
// state is written before any other side effect (intent first), so `delete
// --force` can always clean up after a create that was killed half way
// (runc#4534).

import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { isSameProcessAlive, processStartTime, sleepMs } from '../linux/proc.js';
import type { SavedCgroup } from '../cgroups/manager.js';
import type { Spec } from '../spec/types.js';
import { errnoOf, fs, renameExchange } from '../sys/fs.js';

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
  // create --no-new-keyring: exec'd processes keep the caller's keyring too
  noNewKeyring?: boolean;
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
  readonly root: string;

  constructor(root: string) {
    // "/run/runt/" and "/run/runt" name one root (ids never hold a "/")
    this.root = root.length > 1 ? root.replace(/\/+$/, '') || '/' : root;
  }

  dir(id: string): string {
    return this.root === '/' ? `/${id}` : `${this.root}/${id}`;
  }

  fifoPath(id: string): string {
    return `${this.dir(id)}/exec.fifo`;
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

  // Atomic for readers: a new file, then its name swapped in. Over an
  // existing state.json the names are exchanged and the old file unlinked,
  // not renamed over: on ext4, a rename over an existing file makes it
  // allocate the new file's blocks and start their writeback at once
  // (auto_da_alloc), 0.2-0.4 ms a write here, and the file's later unlink
  // then frees blocks too; exchange plus unlink took 0.1-0.16 ms. Like
  // runc, no fsync: a state that does not outlive the machine needs none.
  write(state: ContainerState): void {
    const dir = this.dir(state.id);
    const tmp = `${dir}/.state.json.${process.pid}`;
    const file = `${dir}/state.json`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600, flag: 'w' });
      if (!exchangeInto(tmp, file)) fs.renameSync(tmp, file);
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
    const file = `${this.dir(id)}/state.json`;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw this.notFound(id);
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

  private notFound(id: string): RuntimeError {
    return new RuntimeError(Codes.ContainerNotFound, `container "${id}" does not exist`, {
      path: this.dir(id),
      hint: `\`runt --root ${this.root} list\` shows the containers there`,
    });
  }

  // The lock of one container's state, for a read-change-write (start,
  // update, delete): <dir>/lock, a symlink whose target is "pid starttime"
  // of its holder. symlink(2) makes it whole, content included, or fails
  // with EEXIST, in one call. A holder killed with the lock leaves it stale:
  // the next locker finds that process gone and breaks it. Returns the
  // release function; throws ContainerNotFound when the container is gone
  // (deleted meanwhile). Not reentrant.
  lock(id: string, timeoutMs = 30_000): () => void {
    validateId(id);
    const dir = this.dir(id);
    const file = `${dir}/lock`;
    const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`;
    const deadline = Date.now() + timeoutMs;
    let delay = 0.2;
    for (;;) {
      try {
        fs.symlinkSync(me, file);
        return () => {
          try {
            if (readLock(file) === me) fs.unlinkSync(file);
          } catch {
            // removed with the container
          }
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') throw this.notFound(id);
        if (code !== 'EEXIST') {
          throw fromSystemError(Codes.StateWrite, `lock state of container "${id}"`, err, { path: file, hint: 'the state root (--root) must be writable' });
        }
      }
      let holder: string;
      try {
        holder = readLock(file);
      } catch {
        continue; // released meanwhile
      }
      const [pid = '', start = ''] = holder.split(' ');
      if (!isSameProcessAlive(Number(pid), start || undefined)) {
        breakStaleLock(file, holder);
        continue;
      }
      if (Date.now() > deadline) {
        throw new RuntimeError(Codes.StateWrite, `state of container "${id}" is locked by process ${pid}`, {
          path: file,
          hint: `another runt command is working on "${id}"; retry when it is done`,
        });
      }
      sleepMs(delay);
      delay = Math.min(delay * 2, 10);
    }
  }

  exists(id: string): boolean {
    return fs.existsSync(this.dir(id));
  }

  // Remove the directory: rename it out of the way first so that a
  // concurrent delete or create sees the id gone or free, never half removed.
  remove(id: string): boolean {
    const dir = this.dir(id);
    const grave = this.dir(`.deleted-${id}-${process.pid}-${Date.now()}`);
    try {
      fs.renameSync(dir, grave);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fromSystemError(Codes.StateWrite, `remove state of container "${id}"`, err, { path: dir });
    }
    // what the directory holds (state.json, the lock, the exec fifo until
    // start, a temporary file of a writer killed mid-write): listed rather
    // than tried by name, as a missing file's error costs more than the
    // listing; anything unexpected (a directory) is left to the recursive
    // removal
    try {
      for (const name of fs.readdirSync(grave)) fs.unlinkSync(`${grave}/${name}`);
      fs.rmdirSync(grave);
    } catch {
      fs.rmSync(grave, { recursive: true, force: true });
    }
    return true;
  }
}

// Swap tmp in for file and remove what was file; false where there is no
// file yet (the first write) or no exchange (no addon, or a filesystem
// without RENAME_EXCHANGE), for a plain rename.
function exchangeInto(tmp: string, file: string): boolean {
  if (!renameExchange) return false;
  try {
    renameExchange(tmp, file);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return false;
    throw err;
  }
  try {
    fs.unlinkSync(tmp); // the old state, now under the temporary name
  } catch {
    // the write is done; store.remove takes a leftover along
  }
  return true;
}

// The holder of a lock; a regular file is a lock taken by an older runt.
function readLock(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return fs.readFileSync(file, 'utf8');
    throw err;
  }
}

// Move a dead holder's lock aside; if what we moved is not the lock we saw
// (another locker broke it and took it first), put it back.
function breakStaleLock(file: string, holder: string): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return;
  }
  try {
    if (readLock(aside) !== holder) fs.linkSync(aside, file);
  } catch {
    // taken again meanwhile: that holder keeps it
  }
  fs.rmSync(aside, { force: true });
}
