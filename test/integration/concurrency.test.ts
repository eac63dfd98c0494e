// Concurrency: engines call the runtime in parallel. Two creates of one id
// (exactly one wins, nothing of the loser remains), kill/delete/state
// racing with the container's exit, two workers creating, starting,
// killing and deleting containers side by side in one state root, and
// concurrent updates of one container (no lost update of state.json).
// `make soak` runs the long version (RUNT_SOAK=1).

import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { leftovers, stateEntries, taggedMounts, waitNoLeftovers } from '../helpers/leaks.js';
import { RUNT, isRoot, setup, stateOf, uniqueId, type Env } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;
const SOAK = process.env.RUNT_SOAK === '1';
const PER_WORKER = SOAK ? 100 : 20;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

// The CLI, asynchronously, so that calls overlap; output to files (a
// created container inherits them; pipes would stay open).
let calls = 0;
function runtAsync(env: Env, args: string[]): Promise<Result> {
  const n = calls++;
  const out = path.join(env.tmp, `async-out-${n}`);
  const err = path.join(env.tmp, `async-err-${n}`);
  const o = fs.openSync(out, 'w');
  const e = fs.openSync(err, 'w');
  return new Promise((resolve) => {
    const child = spawn(RUNT, ['--root', env.root, ...args], { stdio: ['ignore', o, e], cwd: env.tmp });
    fs.closeSync(o);
    fs.closeSync(e);
    child.on('exit', (status) => {
      const r = { status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
      fs.rmSync(out);
      fs.rmSync(err);
      resolve(r);
    });
  });
}

function oneErrorLine(r: Result): boolean {
  return /^runt: [^\n]* \[RUNT\d{4}\][^\n]*\n$/.test(r.stderr);
}

t('two creates of one id at once: exactly one wins, the loser leaves nothing', async (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  for (let round = 0; round < 8; round++) {
    const id = uniqueId('dup');
    const rs = await Promise.all([runtAsync(env, ['create', '--bundle', b, id]), runtAsync(env, ['create', '--bundle', b, id])]);
    const won = rs.filter((r) => r.status === 0);
    const lost = rs.filter((r) => r.status !== 0);
    tt.is(won.length, 1, `round ${round}`);
    tt.is(lost.length, 1);
    tt.is(lost[0]!.status, 1);
    tt.true(oneErrorLine(lost[0]!), lost[0]!.stderr);
    tt.regex(lost[0]!.stderr, new RegExp(`^runt: container "${id}" already exists \\[RUNT3002\\]`));
    // the winner is whole: its init waits, its cgroup is there
    const st = stateOf(env, id);
    tt.is(st.status, 'created');
    tt.is(fs.readFileSync(`/proc/${st.pid}/comm`, 'utf8').trim(), 'runt-init');
    tt.is((await runtAsync(env, ['delete', id])).status, 0);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
  }
});

t('kill, state and delete racing with the container\'s exit: clear answers, one delete wins, nothing is left', async (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.args = ['sh', '-c', 'sleep 0.2']));
  const allowed = /it is (stopped|created|running)|does not exist/;
  for (let round = 0; round < 5; round++) {
    const id = uniqueId('race');
    tt.is((await runtAsync(env, ['create', '--bundle', b, id])).status, 0);
    tt.is((await runtAsync(env, ['start', id])).status, 0);
    let deleted = 0;
    const hammer = async (args: string[]): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        const r = await runtAsync(env, args);
        if (r.status === 0) {
          if (args[0] === 'state') tt.regex(JSON.parse(r.stdout).status, /^(running|stopped)$/);
          if (args[0] === 'delete') deleted++;
        } else {
          tt.is(r.status, 1, args.join(' '));
          tt.true(oneErrorLine(r), r.stderr);
          tt.regex(r.stderr, allowed, args.join(' '));
        }
      }
    };
    await Promise.all([hammer(['kill', id, 'KILL']), hammer(['state', id]), hammer(['delete', id]), hammer(['delete', id])]);
    tt.is(deleted, 1, `round ${round}: exactly one delete removed it`);
    tt.deepEqual(waitNoLeftovers({ root: env.root, ids: [id] }), []);
  }
});

t(`2 workers x ${PER_WORKER} containers created, started, killed and deleted in parallel: nothing leaks`, async (tt) => {
  tt.timeout(PER_WORKER * 8000 + 60_000);
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const ids: string[] = [];
  const problems: string[] = [];
  const step = async (id: string, args: string[]): Promise<Result> => {
    const r = await runtAsync(env, args);
    if (r.status !== 0) problems.push(`${id}: ${args[0]}: ${r.stderr.trim()}`);
    return r;
  };
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; i < PER_WORKER; i++) {
      const id = uniqueId(`w${w}`);
      ids.push(id);
      if ((await step(id, ['create', '--bundle', b, id])).status !== 0) continue;
      await step(id, ['start', id]);
      const st = JSON.parse((await step(id, ['state', id])).stdout || '{}') as { status?: string; pid?: number };
      if (st.status !== 'running') problems.push(`${id}: ${st.status} after start`);
      await step(id, ['kill', id, 'KILL']);
      // delete waits for the init to be gone; as an engine does, stop first
      for (let k = 0; k < 200; k++) {
        const s = JSON.parse((await runtAsync(env, ['state', id])).stdout || '{}') as { status?: string };
        if (s.status === 'stopped') break;
      }
      await step(id, ['delete', id]);
    }
  };
  const started = Date.now();
  await Promise.all([worker(0), worker(1)]);
  tt.log(`${ids.length} containers in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  tt.deepEqual(problems, []);
  tt.deepEqual(stateEntries(env.root), [], 'no state dir, no half-deleted grave');
  tt.deepEqual(taggedMounts([env.tmp]), []);
  tt.deepEqual(waitNoLeftovers({ root: env.root, ids, paths: [env.root + '/'] }), []);
});

t('concurrent updates of one container: no update of state.json is lost', async (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.args = ['sleep', '1000']));
  const id = uniqueId('upd');
  tt.is((await runtAsync(env, ['create', '--bundle', b, id])).status, 0);
  tt.is((await runtAsync(env, ['start', id])).status, 0);
  for (let round = 0; round < 10; round++) {
    const pids = 100 + round;
    const shares = 500 + round;
    const rs = await Promise.all([runtAsync(env, ['update', '--pids-limit', String(pids), id]), runtAsync(env, ['update', '--cpu-share', String(shares), id])]);
    for (const r of rs) tt.is(r.status, 0, r.stderr);
    const saved = JSON.parse(fs.readFileSync(path.join(env.root, id, 'state.json'), 'utf8')) as { config: { linux: { resources: { pids?: { limit: number }; cpu?: { shares: number } } } } };
    tt.is(saved.config.linux.resources.pids?.limit, pids, `round ${round}: pids`);
    tt.is(saved.config.linux.resources.cpu?.shares, shares, `round ${round}: cpu shares`);
  }
  tt.is((await runtAsync(env, ['delete', '--force', id])).status, 0);
  tt.deepEqual(leftovers({ root: env.root, ids: [id] }), []);
});
