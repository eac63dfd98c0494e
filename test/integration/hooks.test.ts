// Hooks: every phase runs at its point, in the right namespaces, with the
// state on stdin, its args and env; failures and timeouts fail as the spec
// says.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { Hook } from '../../src/spec/types.js';
import { isRoot, setup, sh, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

// A hook that appends "<phase> <state json> <mnt ns> <argv> <env>" to a log.
function recorder(log: string, phase: string): Hook {
  return {
    path: '/bin/sh',
    args: ['sh', '-c', `read -r state; echo "${phase} $state $(readlink /proc/self/ns/mnt) $0 $HOOKVAR" >> ${log}`, 'argzero'],
    env: ['HOOKVAR=hv-' + phase, 'PATH=/bin:/usr/bin'],
  };
}

t('every hook phase runs once, in order, with the state on stdin', (tt) => {
  const env = setup(tt);
  // the log must be reachable from inside the container too (createContainer
  // and startContainer run there): bind mount a host dir at the same path
  const dir = fs.mkdtempSync(path.join(env.tmp, 'hooks-'));
  const log = path.join(dir, 'log');
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    // a tmpfs first, so the bind target is created there and not in the shared rootfs
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }, { destination: dir, type: 'bind', source: dir, options: ['bind'] });
    s.hooks = {
      prestart: [recorder(log, 'prestart')],
      createRuntime: [recorder(log, 'createRuntime')],
      createContainer: [recorder(log, 'createContainer')],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', `read -r state; echo "startContainer $state $(readlink /proc/self/ns/mnt) $0 $HOOKVAR" >> ${log}`, 'argzero'], env: ['HOOKVAR=hv-startContainer'] }],
      poststart: [recorder(log, 'poststart')],
      poststop: [recorder(log, 'poststop')],
    };
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);
  const pid = stateOf(env, id).pid;
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');
  const ctrMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  tt.is(env.runt(['start', id]).status, 0);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  const phases = lines.map((l) => l.split(' ')[0]);
  tt.deepEqual(phases, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  for (const line of lines) {
    const [phase, json, mnt, argv0, hv] = line.split(' ');
    const state = JSON.parse(json!);
    tt.is(state.id, id, phase);
    tt.is(state.bundle, b, phase);
    tt.is(argv0, 'argzero', phase);
    tt.is(hv, `hv-${phase}`, phase);
    const inContainer = phase === 'createContainer' || phase === 'startContainer';
    tt.is(mnt, inContainer ? ctrMnt : hostMnt, `${phase} runs in the ${inContainer ? 'container' : 'runtime'} mount namespace`);
    if (phase !== 'poststop') tt.true(state.pid > 0, phase);
  }
  tt.is(JSON.parse(lines[0]!.split(' ')[1]!).status, 'creating');
  tt.is(JSON.parse(lines[4]!.split(' ')[1]!).status, 'running');
  tt.is(JSON.parse(lines[5]!.split(' ')[1]!).status, 'stopped');
});

t('a failing createRuntime hook fails create and leaves nothing', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken hook >&2; exit 3'] }] };
  });
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /createRuntime hook \/bin\/sh exited with status 3: broken hook/);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('a failing createContainer hook fails create with its status', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.hooks = { createContainer: [{ path: '/bin/false' }] };
  });
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /createContainer hook \/bin\/false exited with status 1/);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('a hook that hangs is killed at its timeout', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '100'], timeout: 1 }] };
  });
  const started = Date.now();
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /prestart hook \/bin\/sleep timed out after 1 s/);
  tt.true(Date.now() - started < 20_000);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('a hook that exits without reading stdin does not break the runtime', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.annotations = { big: 'x'.repeat(200_000) }; // more than a pipe buffer of state
    s.hooks = { prestart: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/true' }] };
  });
  const r = env.runt(['run', '--bundle', b, uniqueId()]);
  tt.is(r.status, 0, r.stderr);
});

t('a failing startContainer hook fails start and stops the container', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '1000'];
    s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] };
  });
  tt.is(env.runt(['create', '--bundle', b, id]).status, 0);
  const r = env.runt(['start', id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /startContainer hook \/bin\/sh exited with status 4/);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
});

t('a failing poststop hook is only a warning', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    s.hooks = { poststop: [{ path: '/bin/false' }] };
    sh('true')(s);
  });
  const r = env.runt(['run', '--bundle', b, uniqueId()]);
  tt.is(r.status, 0);
  tt.regex(r.stderr, /warning: poststop hook \/bin\/false exited with status 1/);
});
