// pause/resume, ps, kill --all and delete --force through the cgroup; shared
// (pod style), nested and pre-existing cgroups with runc's semantics.
import test from 'ava';
import fs from 'node:fs';
import { createSleeping, isGone, isRoot, setup, sleep, stateOf, uniqueId, waitStatus, type Env } from '../helpers/runt.js';
import { alive, cgDir, cgDirs, isV2, layout, procsOf, readCg, waitFor } from './cgroups-common.js';

const t = isRoot ? test : test.skip;

// A started container whose init has two children; resolves to the init's
// pid once all three are in the cgroup.
function runFamily(env: Env, id: string, mutate?: Parameters<typeof createSleeping>[1]): number {
  const { pid } = createSleeping(env, (s) => {
    s.process!.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
    s.linux!.cgroupsPath = `/${id}`;
    mutate?.(s);
  }, id);
  const r = env.runt(['start', id]);
  if (r.status !== 0) throw new Error(r.stderr);
  if (!waitFor(() => procsOf(cgDir(env, id, 'pids')).length === 3)) throw new Error('children did not show up');
  return pid;
}

function frozen(env: Env, id: string): boolean {
  return isV2 ? /^frozen 1$/m.test(readCg(env, id, 'unified', 'cgroup.events')) : readCg(env, id, 'freezer', 'freezer.state') === 'FROZEN';
}

t('pause and resume: status paused, every process frozen, then thawed', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  runFamily(env, id);
  const pids = procsOf(cgDir(env, id, 'pids'));
  const r = env.runt(['pause', id]);
  tt.is(r.status, 0, r.stderr);
  tt.is(stateOf(env, id).status, 'paused');
  tt.true(frozen(env, id));
  const list = JSON.parse(env.runt(['list', '--format', 'json']).stdout) as Array<{ id: string; status: string }>;
  tt.is(list.find((c) => c.id === id)?.status, 'paused');
  // the tasks do not run: their cpu time does not move while a signal is pending
  for (const p of pids) tt.regex(fs.readFileSync(`/proc/${p}/status`, 'utf8'), /^State:\s+[DS]/m);
  tt.is(env.runt(['pause', id]).status, 1, 'pausing twice is an error');
  const res = env.runt(['resume', id]);
  tt.is(res.status, 0, res.stderr);
  tt.is(stateOf(env, id).status, 'running');
  tt.false(frozen(env, id));
  const again = env.runt(['resume', id]);
  tt.is(again.status, 1);
  tt.regex(again.stderr, /cannot resume container "[^"]+": it is running/);
  // delete --force of a paused container leaves nothing frozen behind
  tt.is(env.runt(['pause', id]).status, 0);
  const dirs = cgDirs(env, id);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  for (const p of pids) tt.true(waitFor(() => isGone(p)), `pid ${p}`);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
});

t('ps --format json lists the pids of the cgroup; ps passes its arguments to ps(1)', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  const init = runFamily(env, id);
  const r = env.runt(['ps', '--format', 'json', id]);
  tt.is(r.status, 0, r.stderr);
  const pids = JSON.parse(r.stdout) as number[];
  tt.deepEqual([...pids].sort((a, b) => a - b), procsOf(cgDir(env, id, 'pids')).sort((a, b) => a - b));
  tt.true(pids.includes(init));
  tt.is(pids.length, 3);
  const table = env.runt(['ps', id, '-o', 'pid,comm']);
  tt.is(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  tt.regex(lines[0] ?? '', /PID\s+COMMAND/);
  tt.is(lines.length, 4);
  tt.is(lines.filter((l) => /\bsleep$/.test(l)).length, 2);
});

t('kill --all signals every process of the cgroup', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  runFamily(env, id);
  const pids = procsOf(cgDir(env, id, 'pids'));
  const r = env.runt(['kill', '--all', id, 'KILL']);
  tt.is(r.status, 0, r.stderr);
  for (const p of pids) tt.true(waitFor(() => isGone(p)), `pid ${p}`);
  tt.is(waitStatus(env, id, 'stopped'), 'stopped');
  tt.is(env.runt(['delete', id]).status, 0);
});

t('delete --force without a pid namespace reaches processes that left the init, and forks racing with it', (tt) => {
  const env = setup(tt);
  const id = uniqueId();
  // no pid namespace: killing the init kills nothing else; double-forked
  // sleeps are not its children, and a loop keeps forking
  const { pid } = createSleeping(env, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    s.process!.args = ['sh', '-c', '(sleep 1000 &); (sleep 1000 &); while :; do sleep 2 & sleep 0.01; done'];
    s.linux!.cgroupsPath = `/${id}`;
    s.linux!.resources = { pids: { limit: 400 } };
  }, id);
  tt.is(env.runt(['start', id]).status, 0);
  tt.true(waitFor(() => procsOf(cgDir(env, id, 'pids')).length >= 6));
  const before = procsOf(cgDir(env, id, 'pids'));
  const dirs = cgDirs(env, id);
  const r = env.runt(['delete', '--force', id]);
  tt.is(r.status, 0, r.stderr);
  tt.true(isGone(pid) || !alive(pid));
  for (const p of before) tt.true(waitFor(() => isGone(p)), `pid ${p} survived`);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
});

t('a cgroup shared by two containers (pod style): deleting one kills and removes nothing of the other', (tt) => {
  const env = setup(tt);
  const shared = `/${uniqueId('t-pod')}`;
  const a = uniqueId();
  const b = uniqueId();
  const pa = runFamily(env, a, (s) => (s.linux!.cgroupsPath = shared));
  const { pid: pb } = createSleeping(env, (s) => (s.linux!.cgroupsPath = shared), b);
  // runc 1.1 warns about a non-empty cgroup and goes on
  const bAll = procsOf(cgDir(env, b, 'pids'));
  tt.true(bAll.includes(pa) && bAll.includes(pb));
  const dirs = cgDirs(env, a);
  tt.deepEqual(dirs, cgDirs(env, b));

  const r = env.runt(['delete', '--force', a]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stderr, /still has 1 process\(es\) that are not the container's/);
  tt.true(waitFor(() => isGone(pa)));
  tt.true(alive(pb), "b's init survived a's delete");
  tt.is(stateOf(env, b).status, 'created');
  for (const d of dirs) tt.true(fs.existsSync(d), `${d} kept for b`);
  tt.deepEqual(procsOf(cgDir(env, b, 'pids')), [pb]);

  // the last one out removes it, although b did not create it
  tt.is(env.runt(['delete', '--force', b]).status, 0);
  for (const d of dirs) tt.false(fs.existsSync(d), d);
});

t('the second container of a shared cgroup is created with runc 1.1\'s warning', (tt) => {
  const env = setup(tt);
  const shared = `/${uniqueId('t-pod')}`;
  const a = uniqueId();
  createSleeping(env, (s) => (s.linux!.cgroupsPath = shared), a);
  const b = uniqueId();
  const bb = env.bundle((s) => {
    s.process!.args = ['sleep', '100'];
    s.linux!.cgroupsPath = shared;
  });
  const r = env.runt(['create', '--bundle', bb, b]);
  tt.is(r.status, 0, r.stderr);
  tt.regex(r.stderr, /container's cgroup is not empty: 1 process\(es\) found/);
  tt.is(env.runt(['delete', '--force', b]).status, 0);
  tt.is(stateOf(env, a).status, 'created');
  tt.is(env.runt(['delete', '--force', a]).status, 0);
});

t('nested cgroupsPath: parents made by runt go at delete, pre-existing ones stay', (tt) => {
  const env = setup(tt);
  const top = uniqueId('t-nest');
  const id = uniqueId();
  createSleeping(env, (s) => (s.linux!.cgroupsPath = `/${top}/a/${id}`), id);
  for (const d of cgDirs(env, id)) tt.true(d.endsWith(`/${top}/a/${id}`));
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  const mounts = [...layout.v1.map((h) => h.mountpoint), ...(layout.unified ? [layout.unified.mountpoint] : [])];
  for (const m of mounts) tt.false(fs.existsSync(`${m}/${top}`), `${m}/${top} removed`);

  // pre-existing parent (e.g. a pod's cgroup made by an engine)
  const pre = uniqueId('t-pre');
  const made: string[] = [];
  tt.teardown(() => {
    for (const d of made.reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        // already gone
      }
    }
  });
  for (const m of mounts) {
    fs.mkdirSync(`${m}/${pre}`);
    made.push(`${m}/${pre}`);
  }
  if (isV2) fs.writeFileSync(`${layout.unified!.mountpoint}/${pre}/cgroup.subtree_control`, '+pids +memory +cpu');
  const id2 = uniqueId();
  createSleeping(env, (s) => {
    s.linux!.cgroupsPath = `/${pre}/${id2}`;
    s.linux!.resources = { pids: { limit: 5 } };
  }, id2);
  tt.is(readCg(env, id2, 'pids', 'pids.max'), '5');
  tt.is(env.runt(['delete', '--force', id2]).status, 0);
  for (const m of mounts) {
    tt.true(fs.existsSync(`${m}/${pre}`), `${m}/${pre} kept`);
    tt.false(fs.existsSync(`${m}/${pre}/${id2}`));
  }
});

t('a pre-existing leaf is joined and removed at delete; a frozen one is refused', (tt) => {
  const env = setup(tt);
  const leaf = uniqueId('t-leaf');
  const mounts = [...layout.v1.map((h) => h.mountpoint), ...(layout.unified ? [layout.unified.mountpoint] : [])];
  tt.teardown(() => {
    for (const m of mounts) {
      try {
        fs.rmdirSync(`${m}/${leaf}`);
      } catch {
        // removed by delete
      }
    }
  });
  for (const m of mounts) fs.mkdirSync(`${m}/${leaf}`);
  // freeze it: create must refuse rather than hang its init in it
  const freezer = isV2 ? `${layout.unified!.mountpoint}/${leaf}/cgroup.freeze` : `${layout.v1.find((h) => h.controllers.includes('freezer'))!.mountpoint}/${leaf}/freezer.state`;
  fs.writeFileSync(freezer, isV2 ? '1' : 'FROZEN');
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.process!.args = ['sleep', '100'];
    s.linux!.cgroupsPath = `/${leaf}`;
  });
  const r = env.runt(['create', '--bundle', b, id]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /container's cgroup unexpectedly frozen \[RUNT5001\]/);
  tt.false(fs.existsSync(`${env.root}/${id}`));
  for (const m of mounts) tt.true(fs.existsSync(`${m}/${leaf}`), 'a refused create removes nothing that was there');

  fs.writeFileSync(freezer, isV2 ? '0' : 'THAWED');
  const c = env.runt(['create', '--bundle', b, id]);
  tt.is(c.status, 0, c.stderr);
  tt.is(env.runt(['delete', '--force', id]).status, 0);
  // runc's RemovePaths removes the container's cgroup whoever made it
  for (const m of mounts) tt.false(fs.existsSync(`${m}/${leaf}`), `${m}/${leaf}`);
  sleep(1);
});
