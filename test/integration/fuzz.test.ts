// Config fuzzing, short version: a few hundred mutated configs (fixed seed,
// so a failure can be replayed with `node dist/test/fuzz/run.js --seed S
// --only N`) through `runt create` and `delete --force`. `make fuzz` runs
// thousands with a seed of its own. The checks are in test/fuzz/run.ts.

import test from 'ava';
import { runFuzz } from '../fuzz/run.js';
import { isRoot } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;
const SEED = 20261123;
const COUNT = Number(process.env.RUNT_FUZZ_COUNT ?? 300);

t(`${COUNT} fuzzed configs: no crash, no hang, one line naming the field, nothing left`, async (tt) => {
  tt.timeout(COUNT * 1000 + 60_000);
  const report = await runFuzz({ seed: SEED, count: COUNT, workers: 2 });
  tt.log(`seed ${SEED}: ${report.tried} tried, ${report.created} created and deleted, ${report.refused} refused; by code ${JSON.stringify(report.byCode)}`);
  tt.is(report.tried, COUNT);
  tt.deepEqual(report.problems, []);
  // the mix must stay useful: some succeed, most are refused
  tt.true(report.created > COUNT / 50, 'some configs create a container');
  tt.true(report.refused > COUNT / 2, 'most are refused');
});
