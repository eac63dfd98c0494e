import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tracer } from '../../../src/diagnostics/trace.js';

test('one JSON line per phase, then the total; finish is idempotent', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-trace-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'log');
  const tr = new Tracer({ command: 'create', file, mainStart: performance.now() });
  tr.phase('import');
  tr.phase('cgroup');
  tr.finish(0);
  tr.finish(1);
  tr.phase('late');
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines.map((l) => l.phase), ['startup', 'parse', 'import', 'cgroup', 'total']);
  for (const l of lines) {
    t.is(l.level, 'trace');
    t.true(l.ms >= 0 && l.startMs >= 0);
    t.truthy(Date.parse(l.time));
  }
  t.is(lines.at(-1).command, 'create');
  t.is(lines.at(-1).exit, 0);
  // phases are contiguous
  for (let i = 2; i < lines.length - 1; i++) t.true(Math.abs(lines[i].startMs - (lines[i - 1].startMs + lines[i - 1].ms)) < 0.01);
});
