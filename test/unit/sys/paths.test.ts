// src/sys/paths.ts must say what node:path's posix functions say: compared
// on hand-picked paths and on 20,000 generated ones (fixed seed).
import path from 'node:path';
import test from 'ava';
import * as paths from '../../../src/sys/paths.js';

const PICKED = ['', '/', '//', '///', '.', '..', './', '../', 'a', '/a', 'a/', '/a/', '//a', 'a//b', '/a/b/../c', '/a/./b/', '../../a', 'a/../../b', '/..', '/../a', '/a/..', '.a', '..a', 'a/...', '/run/runt/', 'rootfs', '../rootfs/./x'];

function* generated(): Generator<string> {
  const atoms = ['a', 'bc', '.', '..', '/', '//', '', '...', '.a'];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    for (let k = next(7); k > 0; k--) s += atoms[next(atoms.length)]! + (next(10) < 6 ? '/' : '');
    yield s;
  }
}

test('normalize, join, resolve, dirname and basename match node:path', (t) => {
  const inputs = [...PICKED, ...generated()];
  let compared = 0;
  for (let i = 0; i < inputs.length; i++) {
    const a = inputs[i]!;
    const b = inputs[(i * 7 + 3) % inputs.length]!;
    const checks: [string, string, string][] = [
      ['normalize', paths.normalize(a), path.posix.normalize(a)],
      ['join', paths.join(a, b), path.posix.join(a, b)],
      ['join3', paths.join(b, a, 'x'), path.posix.join(b, a, 'x')],
      ['resolve', paths.resolve(a, b), path.posix.resolve(a, b)],
      ['resolve1', paths.resolve(a), path.posix.resolve(a)],
      ['dirname', paths.dirname(a), path.posix.dirname(a)],
      ['basename', paths.basename(a), path.posix.basename(a)],
    ];
    for (const [name, got, want] of checks) {
      compared++;
      if (got !== want) t.fail(`${name}(${JSON.stringify(a)}, ${JSON.stringify(b)}): ${JSON.stringify(got)}, node:path says ${JSON.stringify(want)}`);
    }
  }
  t.true(compared > 140_000);
  t.pass();
});
