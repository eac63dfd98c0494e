import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StateStore, validateId, type ContainerState } from '../../../src/state/store.js';
import { Codes } from '../../../src/errors/codes.js';

// each test's store is a temp dir, removed when the file's tests are done
const made: string[] = [];
test.after.always(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tmpStore(): StateStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-store-'));
  made.push(dir);
  return new StateStore(path.join(dir, 'root'));
}

function state(id: string): ContainerState {
  return { ociVersion: '1.3.0', id, bundle: '/b', rootfs: '/b/rootfs', created: 'now', owner: 'root', annotations: {}, config: { ociVersion: '1.3.0' } };
}

test('ids follow runc rules', (t) => {
  t.is(validateId('abc_1.2-3+x'), 'abc_1.2-3+x');
  for (const bad of ['', '.', '..', 'a/b', 'a b', '../x', 'x\n']) {
    t.throws(() => validateId(bad), undefined, bad);
  }
});

test('claim is exclusive: the second claim of an id fails with ContainerExists', (t) => {
  const s = tmpStore();
  s.claim('c1');
  const e = t.throws(() => s.claim('c1')) as unknown as { code: string };
  t.is(e.code, Codes.ContainerExists);
});

test('write then read round-trips; writes are atomic renames', (t) => {
  const s = tmpStore();
  s.claim('c1');
  s.write({ ...state('c1'), pid: 42 });
  t.is(s.read('c1').pid, 42);
  t.deepEqual(fs.readdirSync(s.dir('c1')), ['state.json']);
});

test('a rewrite swaps a whole new file in and leaves nothing beside it', (t) => {
  const s = tmpStore();
  s.claim('c1');
  s.write({ ...state('c1'), pid: 1 });
  const file = path.join(s.dir('c1'), 'state.json');
  const first = fs.statSync(file).ino;
  s.write({ ...state('c1'), pid: 2 });
  t.is(s.read('c1').pid, 2);
  t.not(fs.statSync(file).ino, first, 'a new file, not the old one rewritten in place');
  t.deepEqual(fs.readdirSync(s.dir('c1')), ['state.json']);
});

test('unknown id is ContainerNotFound with a hint; list skips hidden dirs', (t) => {
  const s = tmpStore();
  const e = t.throws(() => s.read('nope')) as unknown as { code: string; hint: string };
  t.is(e.code, Codes.ContainerNotFound);
  t.regex(e.hint, /list/);
  s.claim('b');
  s.claim('a');
  fs.mkdirSync(path.join(s.root, '.deleted-x'));
  t.deepEqual(s.list(), ['a', 'b']);
});

test('remove renames away then deletes; a second remove reports false', (t) => {
  const s = tmpStore();
  s.claim('c1');
  s.write(state('c1'));
  t.true(s.remove('c1'));
  t.false(s.exists('c1'));
  t.false(s.remove('c1'));
  t.deepEqual(fs.readdirSync(s.root), []);
});

test('corrupt state is a clear error', (t) => {
  const s = tmpStore();
  s.claim('c1');
  fs.writeFileSync(path.join(s.dir('c1'), 'state.json'), '{nope');
  const e = t.throws(() => s.read('c1')) as unknown as { code: string };
  t.is(e.code, Codes.StateCorrupt);
});
