// bin/runt-sys.node against node:fs: every call SyncFs names must return
// what node:fs returns and throw what it throws (code, syscall, path), since
// the hot commands' error handling reads those fields.

import * as nodeFs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import test from 'ava';
import { addonFs, addonPath, loadAddon, nativeFs, renameExchange, type SyncFs } from '../../../src/sys/fs.js';

// node:fs is the fallback, so it must fit the interface (a compile-time check)
const nodeFits: SyncFs = nodeFs;
const native = addonFs(loadAddon(addonPath()));
const impls: [string, SyncFs][] = [
  ['node:fs', nodeFits],
  ['runt-sys.node', native],
];

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const d = nodeFs.mkdtempSync(`${os.tmpdir()}/runt-sysfs-`);
  t.teardown(() => nodeFs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// What a call did: its value, or the fields of its error that runt reads.
function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    return { ok: v === undefined ? null : v };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { dest?: string };
    return { code: e.code, syscall: e.syscall, path: e.path, dest: e.dest };
  }
}

// Run the same steps with each implementation in its own directory; the
// outcomes, with the directory name masked, must be equal.
function sameAsNodeFs(t: import('ava').ExecutionContext, steps: (fs: SyncFs, dir: string) => unknown[]): void {
  const results = impls.map(([, fs]) => {
    const dir = tempDir(t);
    return JSON.parse(JSON.stringify(steps(fs, dir)).split(dir).join('<dir>'));
  });
  t.deepEqual(results[1], results[0]);
}

test('bin/runt-sys.node is built and serves the calls', (t) => {
  t.true(nodeFs.existsSync(addonPath()), addonPath());
  t.true(nativeFs);
});

test('files: write, read, rename, unlink, and their errors', (t) => {
  sameAsNodeFs(t, (fs, d) => [
    outcome(() => fs.writeFileSync(`${d}/default`, 'mode 0o666 less the umask')),
    nodeFs.statSync(`${d}/default`).mode & 0o777,
    outcome(() => fs.mkdirSync(`${d}/defaultdir`)),
    nodeFs.statSync(`${d}/defaultdir`).mode & 0o777,
    outcome(() => fs.writeFileSync(`${d}/a`, 'héllo\n', { mode: 0o600, flag: 'w' })),
    nodeFs.statSync(`${d}/a`).mode & 0o777,
    outcome(() => fs.readFileSync(`${d}/a`, 'utf8')),
    outcome(() => fs.readFileSync(`${d}/a`, 'latin1')),
    outcome(() => fs.writeFileSync(`${d}/a`, 'x', { mode: 0o600, flag: 'wx' })),
    outcome(() => fs.renameSync(`${d}/a`, `${d}/b`)),
    outcome(() => fs.renameSync(`${d}/a`, `${d}/c`)),
    outcome(() => fs.readFileSync(`${d}/a`, 'utf8')),
    outcome(() => fs.readFileSync(`${d}/b/x`, 'utf8')),
    outcome(() => fs.existsSync(`${d}/b`)),
    outcome(() => fs.existsSync(`${d}/a`)),
    outcome(() => fs.existsSync(`${d}/b\0x`)),
    outcome(() => fs.unlinkSync(`${d}/b`)),
    outcome(() => fs.unlinkSync(`${d}/b`)),
    outcome(() => fs.writeFileSync(`${d}/nodir/a`, 'x', { mode: 0o600, flag: 'w' })),
  ]);
});

test('renameExchange swaps two names; a missing one fails as rename does', (t) => {
  t.truthy(renameExchange);
  const d = tempDir(t);
  nodeFs.writeFileSync(`${d}/a`, 'new');
  nodeFs.writeFileSync(`${d}/b`, 'old');
  const inode = nodeFs.statSync(`${d}/a`).ino;
  renameExchange!(`${d}/a`, `${d}/b`);
  t.is(nodeFs.readFileSync(`${d}/b`, 'utf8'), 'new');
  t.is(nodeFs.readFileSync(`${d}/a`, 'utf8'), 'old');
  t.is(nodeFs.statSync(`${d}/b`).ino, inode, 'the same file, under the other name');
  t.like(outcome(() => renameExchange!(`${d}/a`, `${d}/missing`)), { code: 'ENOENT', syscall: 'rename', path: `${d}/a`, dest: `${d}/missing` });
});

test('binary files: bytes in, a Buffer out; wx+ creates a new file for reading and writing', (t) => {
  const bytes = Uint8Array.from([0, 1, 2, 255, 0xc3, 0x28, 10]);
  sameAsNodeFs(t, (fs, d) => [
    outcome(() => fs.writeFileSync(`${d}/bin`, bytes, { mode: 0o600, flag: 'wx' })),
    [...fs.readFileSync(`${d}/bin`)],
    Buffer.isBuffer(fs.readFileSync(`${d}/bin`)),
    outcome(() => fs.closeSync(fs.openSync(`${d}/new`, 'wx+', 0o600))),
    nodeFs.statSync(`${d}/new`).mode & 0o777,
    outcome(() => fs.openSync(`${d}/new`, 'wx+', 0o600)),
    outcome(() => fs.readFileSync(`${d}/none`)),
  ]);
});

test('a file of any size, and /proc files that report size 0', (t) => {
  const big = 'x'.repeat(100_000) + 'é';
  sameAsNodeFs(t, (fs, d) => {
    fs.writeFileSync(`${d}/big`, big, { mode: 0o644, flag: 'w' });
    return [fs.readFileSync(`${d}/big`, 'utf8') === big, fs.readFileSync('/proc/self/status', 'latin1').startsWith('Name:')];
  });
});

test('directories: mkdir (also recursive), readdir with types, rmdir', (t) => {
  sameAsNodeFs(t, (fs, d) => [
    outcome(() => fs.mkdirSync(`${d}/x`, { mode: 0o711 })),
    nodeFs.statSync(`${d}/x`).mode & 0o777,
    outcome(() => fs.mkdirSync(`${d}/x`, { mode: 0o711 })),
    outcome(() => fs.mkdirSync(`${d}/x`, { mode: 0o711, recursive: true })),
    outcome(() => fs.mkdirSync(`${d}/p/q/r`, { mode: 0o755, recursive: true })),
    outcome(() => fs.existsSync(`${d}/p/q/r`)),
    outcome(() => fs.writeFileSync(`${d}/x/f`, '', { mode: 0o644, flag: 'w' })),
    outcome(() => fs.symlinkSync('f', `${d}/x/l`)),
    outcome(() => fs.mkdirSync(`${d}/x/f`, { mode: 0o755, recursive: true })),
    outcome(() => fs.mkdirSync(`${d}/x/f/g`, { mode: 0o755, recursive: true })),
    fs
      .readdirSync(`${d}/x`, { withFileTypes: true })
      .map((e) => [e.name, e.isDirectory(), e.isFile(), e.isSymbolicLink()])
      .sort(),
    outcome(() => fs.readdirSync(`${d}/none`, { withFileTypes: true })),
    outcome(() => fs.rmdirSync(`${d}/x`)),
    outcome(() => fs.rmdirSync(`${d}/none`)),
    outcome(() => fs.rmdirSync(`${d}/p/q/r`)),
  ]);
});

test('links: symlink, readlink, link, rmSync', (t) => {
  sameAsNodeFs(t, (fs, d) => [
    outcome(() => fs.symlinkSync('123 456', `${d}/lock`)),
    outcome(() => fs.symlinkSync('other', `${d}/lock`)),
    outcome(() => fs.readlinkSync(`${d}/lock`)),
    outcome(() => fs.readlinkSync(`${d}/none`)),
    outcome(() => fs.writeFileSync(`${d}/f`, 'x', { mode: 0o644, flag: 'w' })),
    outcome(() => fs.readlinkSync(`${d}/f`)),
    outcome(() => fs.linkSync(`${d}/f`, `${d}/g`)),
    outcome(() => fs.linkSync(`${d}/f`, `${d}/g`)),
    outcome(() => fs.rmSync(`${d}/g`, { force: true })),
    outcome(() => fs.rmSync(`${d}/g`, { force: true })),
    outcome(() => fs.rmSync(`${d}/f`, { force: true })),
    outcome(() => fs.existsSync(`${d}/f`)),
    outcome(() => fs.mkdirSync(`${d}/t/u`, { mode: 0o755, recursive: true })),
    outcome(() => fs.rmSync(`${d}/t`, { recursive: true, force: true })),
    outcome(() => fs.existsSync(`${d}/t`)),
  ]);
});

test('stat, lstat and realpath', (t) => {
  sameAsNodeFs(t, (fs, d) => {
    fs.mkdirSync(`${d}/real`, { mode: 0o750 });
    fs.writeFileSync(`${d}/real/f`, 'x', { mode: 0o640 });
    fs.symlinkSync('real', `${d}/link`);
    fs.symlinkSync('nowhere', `${d}/dangling`);
    const kinds = (st: { mode: number; size: number; mtimeMs: number; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }) => [
      st.mode,
      st.isDirectory() ? 'dir' : st.size,
      st.mtimeMs === nodeFs.statSync(`${d}/real/f`).mtimeMs || st.isDirectory() || st.isSymbolicLink(),
      st.isDirectory(),
      st.isFile(),
      st.isSymbolicLink(),
    ];
    return [
      kinds(fs.statSync(`${d}/real`)),
      kinds(fs.statSync(`${d}/real/f`)),
      kinds(fs.statSync(`${d}/link`)),
      kinds(fs.lstatSync(`${d}/link`)),
      kinds(fs.lstatSync(`${d}/dangling`)),
      outcome(() => fs.statSync(`${d}/dangling`)),
      outcome(() => fs.statSync(`${d}/real/f/x`)),
      outcome(() => fs.realpathSync(`${d}/link/./f`)),
      outcome(() => fs.realpathSync(`${d}/link/../link`)),
      fs.readdirSync(d).sort(),
    ];
  });
  // node:fs walks the path itself (its error says lstat), the module asks realpath(3)
  const d = tempDir(t);
  t.is((t.throws(() => native.realpathSync(`${d}/nothing`)) as NodeJS.ErrnoException).code, 'ENOENT');
});

test('fds: open with flags, read, write, append, close; O_CLOEXEC always', (t) => {
  sameAsNodeFs(t, (fs, d) => {
    const k = fs.constants;
    const out: unknown[] = [];
    const fd = fs.openSync(`${d}/log`, 'a', 0o640);
    out.push(nodeFs.readlinkSync(`/proc/self/fd/${fd}`));
    const flags = /flags:\s+(\d+)/.exec(nodeFs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
    out.push((parseInt(flags, 8) & 0o2000000) !== 0 || 'no O_CLOEXEC');
    out.push(fs.writeSync(fd, 'one\n'), fs.writeSync(fd, 'twö\n'), fs.writeSync(fd, new TextEncoder().encode('(bytes)\n'), 1, 6));
    fs.closeSync(fd);
    out.push(outcome(() => fs.openSync(`${d}/log`, k.O_WRONLY | k.O_CREAT | k.O_EXCL, 0o600)));
    const rd = fs.openSync(`${d}/log`, k.O_RDONLY | k.O_NONBLOCK);
    const buf = new Uint8Array(6);
    out.push(fs.readSync(rd, buf, 1, 4, null), Array.from(buf));
    fs.closeSync(rd);
    out.push(fs.readFileSync(`${d}/log`, 'utf8'));
    out.push(outcome(() => fs.openSync(`${d}/none/x`, 'r')));
    return out;
  });
});

test('a path too long for the kernel fails as the kernel says', (t) => {
  const long = '/' + 'a'.repeat(5000);
  t.deepEqual(outcome(() => native.readFileSync(long, 'utf8')), { code: 'ENAMETOOLONG', syscall: 'open', path: undefined, dest: undefined });
  t.false(native.existsSync(long));
});

test('errors read like node:fs messages', (t) => {
  const err = t.throws(() => native.readFileSync('/nonexistent-runt-sysfs', 'utf8')) as NodeJS.ErrnoException;
  t.is(err.message, "ENOENT: no such file or directory, open '/nonexistent-runt-sysfs'");
  t.is(err.errno, -2);
  t.true(err instanceof Error);
});

test('bytes into a full non-blocking pipe: a partial count, then EAGAIN', (t) => {
  sameAsNodeFs(t, (fs, d) => {
    t.is(spawnSync('mkfifo', [`${d}/fifo`]).status, 0);
    const k = fs.constants;
    const fd = fs.openSync(`${d}/fifo`, k.O_RDWR | k.O_NONBLOCK);
    const data = new Uint8Array(200_000).fill(120);
    const first = fs.writeSync(fd, data, 0, data.length);
    const second = outcome(() => fs.writeSync(fd, data, first, data.length - first));
    fs.closeSync(fd);
    return [first > 0 && first < data.length, first, second];
  });
});
