import test from 'ava';
import { parseArgv, checkArgCount } from '../../../src/cli/parse.js';

test('global flags before the command, command flags after, both forms of values', (t) => {
  const p = parseArgv(['--root', '/r', '--log-format=json', 'create', '--bundle', '/b', '--pid-file=/p', 'c1']);
  t.is(p.global.root, '/r');
  t.is(p.global['log-format'], 'json');
  t.is(p.command?.name, 'create');
  t.is(p.flags.bundle, '/b');
  t.is(p.flags['pid-file'], '/p');
  t.deepEqual(p.args, ['c1']);
});

test('short aliases, booleans with values, defaults', (t) => {
  const p = parseArgv(['run', '-d', '-b', 'x', '--keep=false', 'c']);
  t.is(p.flags.detach, true);
  t.is(p.flags.bundle, 'x');
  t.is(p.flags.keep, false);
  t.is(p.flags['preserve-fds'], 0);
  t.is(p.global.root, '/run/runt');
});

test('kill takes the signal as a positional argument, as go-runc passes it', (t) => {
  const p = parseArgv(['kill', '--all', 'c1', '9']);
  t.deepEqual(p.args, ['c1', '9']);
  t.is(p.flags.all, true);
});

test('ps passes everything after the id to ps(1)', (t) => {
  const p = parseArgv(['ps', 'c1', '-o', 'pid,comm', '--format', 'x']);
  t.deepEqual(p.args, ['c1', '-o', 'pid,comm', '--format', 'x']);
});

test('unknown command, unknown flag, missing value, bad number', (t) => {
  t.throws(() => parseArgv(['bogus']), { message: /unknown command "bogus"/ });
  t.throws(() => parseArgv(['create', '--nope']), { message: /unknown flag --nope of create/ });
  t.throws(() => parseArgv(['create', '--bundle']), { message: /needs a value/ });
  t.throws(() => parseArgv(['create', '--preserve-fds', 'x']), { message: /not an integer/ });
});

test('argument counts', (t) => {
  const p = parseArgv(['start']);
  t.throws(() => checkArgCount(p.command!, p.args), { message: /missing <container-id>/ });
  const q = parseArgv(['state', 'a', 'b']);
  t.throws(() => checkArgCount(q.command!, q.args), { message: /unexpected argument "b"/ });
});
