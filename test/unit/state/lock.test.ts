// The per-container state lock (StateStore.lock): exclusive, released,
// broken when its holder died, and gone with the container.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Codes } from '../../../src/errors/codes.js';
import { StateStore } from '../../../src/state/store.js';

// each test's store is a temp dir, removed when the file's tests are done
const made: string[] = [];
test.after.always(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tmpStore(): StateStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-lock-'));
  made.push(dir);
  return new StateStore(path.join(dir, 'root'));
}

test('a lock is exclusive until released, and leaves nothing behind', (t) => {
  const s = tmpStore();
  s.claim('c1');
  const release = s.lock('c1');
  t.deepEqual(fs.readdirSync(s.dir('c1')), ['lock']);
  const e = t.throws(() => s.lock('c1', 50)) as unknown as { code: string; message: string };
  t.is(e.code, Codes.StateWrite);
  t.regex(e.message, new RegExp(`locked by process ${process.pid}`));
  release();
  t.deepEqual(fs.readdirSync(s.dir('c1')), []);
  s.lock('c1')();
});

test('the lock of a holder that died is broken', (t) => {
  const s = tmpStore();
  s.claim('c1');
  // a process that has exited: its pid no longer names it
  const gone = spawnSync('true').pid!;
  fs.writeFileSync(path.join(s.dir('c1'), 'lock'), `${gone} 1`);
  const release = s.lock('c1', 1000);
  t.is(fs.readlinkSync(path.join(s.dir('c1'), 'lock')).split(' ')[0], String(process.pid));
  release();
  // a live pid with another start time is a reused pid: stale too (and a
  // symlink, as runt makes them)
  fs.symlinkSync(`${process.pid} 1`, path.join(s.dir('c1'), 'lock'));
  s.lock('c1', 1000)();
  t.deepEqual(fs.readdirSync(s.dir('c1')), []);
});

test('a live holder keeps its lock, a symlink or an older runt\'s file', (t) => {
  const s = tmpStore();
  s.claim('c1');
  const release = s.lock('c1');
  const holder = fs.readlinkSync(path.join(s.dir('c1'), 'lock'));
  t.regex(holder, new RegExp(`^${process.pid} \\d+$`));
  release();
  fs.writeFileSync(path.join(s.dir('c1'), 'lock'), holder);
  const e = t.throws(() => s.lock('c1', 50)) as unknown as { code: string; message: string };
  t.regex(e.message, new RegExp(`locked by process ${process.pid}`));
});

test('remove takes the state directory with whatever is in it', (t) => {
  const s = tmpStore();
  s.claim('c1');
  const release = s.lock('c1');
  fs.writeFileSync(path.join(s.dir('c1'), 'state.json'), '{}');
  fs.writeFileSync(path.join(s.dir('c1'), '.state.json.12345'), 'half');
  t.true(s.remove('c1'));
  release();
  t.false(s.exists('c1'));
  t.deepEqual(fs.readdirSync(s.root), []);
  t.false(s.remove('c1'));
});

test('locking a container that is gone says it does not exist; release after delete is harmless', (t) => {
  const s = tmpStore();
  const e = t.throws(() => s.lock('nope')) as unknown as { code: string };
  t.is(e.code, Codes.ContainerNotFound);
  s.claim('c1');
  const release = s.lock('c1');
  s.remove('c1');
  t.notThrows(release);
  t.throws(() => s.lock('../escape'));
});
