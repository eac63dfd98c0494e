// --trace / RUNT_TRACE: per-phase timings of one invocation as JSON lines.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { isRoot, setup, sh, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

type Line = { level: string; phase: string; ms: number; startMs: number; command?: string; exit?: number; msg: string };

const parse = (text: string): Line[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

t('--trace run: every phase on stderr, in order, the output untouched', (tt) => {
  const env = setup(tt);
  const r = env.runt(['--trace', 'run', '--bundle', env.bundle(sh('echo hi')), uniqueId()]);
  tt.is(r.status, 0, r.stderr);
  tt.is(r.stdout, 'hi\n');
  const lines = parse(r.stderr);
  tt.true(lines.every((l) => l.level === 'trace'));
  const phases = lines.map((l) => l.phase);
  const want = ['startup', 'parse', 'import', 'run', 'load', 'validate', 'plan', 'state', 'spawn', 'cgroup', 'stage0', 'runtime-setup', 'init-setup', 'record', 'exec-wait', 'hooks', 'container', 'kill', 'cgroup', 'hooks', 'state', 'total'];
  tt.deepEqual(phases, want);
  const total = lines.at(-1)!;
  tt.is(total.command, 'run');
  tt.is(total.exit, 0);
  const sum = lines.slice(0, -1).reduce((a, l) => a + l.ms, 0);
  tt.true(Math.abs(sum - total.ms) < 1, `phases add up to the total (${sum} vs ${total.ms})`);
});

t('RUNT_TRACE=1 with a JSON log: trace lines first, the error stays the last line', (tt) => {
  const env = setup(tt);
  const log = path.join(env.tmp, 'log.json');
  const b = env.bundle((s) => (s.process!.args = ['/missing/program']));
  const r = env.runt(['--log', log, '--log-format', 'json', 'create', '--bundle', b, uniqueId()], { env: { ...process.env, RUNT_TRACE: '1' } });
  tt.is(r.status, 1);
  const lines = parse(fs.readFileSync(log, 'utf8'));
  const last = lines.at(-1)!;
  tt.is(last.level, 'error');
  tt.is((last as unknown as { code: string }).code, 'RUNT4003');
  const total = lines.at(-2)!;
  tt.like(total, { level: 'trace', phase: 'total', command: 'create', exit: 1 });
  tt.true(lines.some((l) => l.phase === 'init-setup'));
});

t('without --trace nothing is printed', (tt) => {
  const env = setup(tt);
  const r = env.runt(['run', '--bundle', env.bundle(sh('true')), uniqueId()]);
  tt.is(r.status, 0);
  tt.is(r.stderr, '');
});
