import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { createSleeping, isGone, isRoot, runContainer, setup, sh, stateOf, uniqueId, waitStatus } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

t('create, start, state, kill, delete: the runc usage pattern', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  let st = stateOf(env, id);
  tt.is(st.status, 'created');
  tt.is(st.ociVersion, '1.3.0');
  tt.true(pid > 0);
  // the user process must not run before start: the init is still our stage
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  tt.is(comm, 'runt-init');

  tt.is(env.runt(['start', id]).status, 0);
  st = stateOf(env, id);
  tt.is(st.status, 'running');
  tt.is(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');

  const again = env.runt(['start', id]);
  tt.is(again.status, 1);
  tt.regex(again.stderr, /cannot start container ".*": it is running/);

  const del = env.runt(['delete', id]);
  tt.is(del.status, 1);
  tt.regex(del.stderr, /it is running/);

  tt.is(env.runt(['kill', id, 'KILL']).status, 0);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  tt.is(stateOf(env, id).pid, 0);
  tt.is(env.runt(['delete', id]).status, 0);
  tt.false(fs.existsSync(path.join(env.root, id)));
  const gone = env.runt(['state', id]);
  tt.is(gone.status, 1);
  tt.regex(gone.stderr, /container ".*" does not exist/);
});

t('run prints from inside and returns the exit status', (tt) => {
  const env = setup(tt);
  const r = runContainer(env, sh('echo hello from inside; exit 7'));
  tt.is(r.stdout, 'hello from inside\n');
  tt.is(r.status, 7);
  tt.deepEqual(fs.readdirSync(env.root).filter((n) => !n.startsWith('.')), []);
});

t('run --detach leaves a running container; --pid-file records the pid', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const pidFile = path.join(env.tmp, 'pid');
  const r = env.runt(['run', '-d', '--pid-file', pidFile, '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  const st = stateOf(env, id);
  tt.is(st.status, 'running');
  tt.is(Number(fs.readFileSync(pidFile, 'utf8')), st.pid);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  tt.true(isGone(st.pid));
});

t('delete of a created container succeeds, as in runc', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  tt.is(env.runt(['delete', id]).status, 0);
  tt.true(isGone(pid));
});

t('kill accepts names with and without SIG, and numbers; rejects bad signals', (tt) => {
  const env = setup(tt);
  // PID 1 of a pid namespace ignores signals it has no handler for: trap TERM
  const trapping = (s: import('../../src/spec/types.js').Spec): void => {
    s.process!.args = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done'];
  };
  for (const sig of ['TERM', 'SIGKILL', '9']) {
    const { id } = createSleeping(env, trapping);
    tt.is(env.runt(['start', id]).status, 0);
    tt.is(env.runt(['kill', id, sig]).status, 0, sig);
    tt.is(waitStatus(env, id, 'stopped'), 'stopped', sig);
  }
  const { id } = createSleeping(env);
  const bad = env.runt(['kill', id, 'SIGFOO']);
  tt.is(bad.status, 1);
  tt.regex(bad.stderr, /invalid signal "SIGFOO"/);
  tt.is(stateOf(env, id).status, 'created');
});

t('state JSON is valid against the runtime-spec state schema', async (tt) => {
  const env = setup(tt);
  const { id } = createSleeping(env);
  const { checkStateSchema } = await import('../../src/spec/schema.js');
  const st = stateOf(env, id);
  tt.deepEqual(await checkStateSchema(st), []);
});

t('duplicate id, unknown id and a missing rootfs are clear errors that leave nothing', (tt) => {
  const env = setup(tt);
  const { id, bundle } = createSleeping(env);
  const dup = env.runt(['create', '--bundle', bundle, id]);
  tt.is(dup.status, 1);
  tt.regex(dup.stderr, /container ".*" already exists/);
  tt.is(stateOf(env, id).status, 'created');

  const unknown = env.runt(['start', 'no-such-container']);
  tt.is(unknown.status, 1);
  tt.regex(unknown.stderr, /container "no-such-container" does not exist/);

  const nofs = env.bundle((s) => (s.root = { path: '/nonexistent/rootfs' }));
  const id2 = uniqueId();
  const r = env.runt(['create', '--bundle', nofs, id2]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /rootfs \/nonexistent\/rootfs does not exist/);
  tt.false(fs.existsSync(path.join(env.root, id2)));
});

t('an invalid config names the JSON path and leaves nothing behind', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => {
    (s.linux!.namespaces as unknown as { type: string }[])[1] = { type: 'bogus' };
  });
  const id = uniqueId();
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /config\.json: \/linux\/namespaces\/1\/type: must be one of/);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('a process that cannot be found fails create with the path and errno', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.args = ['/no/such/binary']));
  const id = uniqueId();
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /\/no\/such\/binary/);
  tt.regex(r.stderr, /ENOENT/);
  tt.false(fs.existsSync(path.join(env.root, id)));
});

t('list shows containers as a table and as JSON', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  const table = env.runt(['list']);
  tt.is(table.status, 0);
  tt.regex(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
  tt.regex(table.stdout, new RegExp(`${id}\\s+${pid}\\s+created`));
  const json = JSON.parse(env.runt(['list', '--format', 'json']).stdout);
  tt.is(json.length, 1);
  tt.is(json[0].id, id);
  tt.is(env.runt(['list', '-q']).stdout, `${id}\n`);
});

t('the init dying before start: start says so and state shows stopped', (tt) => {
  const env = setup(tt);
  const { id, pid } = createSleeping(env);
  process.kill(pid, 'SIGKILL');
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  const r = env.runt(['start', id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /it is stopped/);
});
