import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUnknownKeys } from '../../../src/diagnostics/schema-keys.js';
import { levenshtein, suggest } from '../../../src/diagnostics/suggest.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

test('levenshtein and suggest', (t) => {
  t.is(levenshtein('kitten', 'sitting'), 3);
  t.is(levenshtein('', 'abc'), 3);
  t.is(suggest('rootPropagation', ['rootfsPropagation', 'readonlyPaths', 'resources']), 'rootfsPropagation');
  t.is(suggest('Hostname', ['hostname', 'domainname']), 'hostname');
  t.is(suggest('bogus', ['process', 'root', 'linux']), undefined);
});

test('the typo of runtime-tools#317 is found, with the name it meant', (t) => {
  const spec = defaultSpec({ rootless: false }) as unknown as Record<string, Record<string, unknown>>;
  spec.linux!.rootPropagation = 'shared';
  t.deepEqual(findUnknownKeys(spec), [{ pointer: '/linux/rootPropagation', key: 'rootPropagation', suggestion: 'rootfsPropagation' }]);
});

test('unknown keys at every depth: arrays, nested objects, misplaced keys', (t) => {
  const spec = defaultSpec({ rootless: false }) as unknown as { [k: string]: any };
  spec.bogus = 1;
  spec.process.user.uidd = 0;
  spec.mounts[1].optons = [];
  spec.linux.namespaces[0].paht = '/proc/1/ns/pid';
  spec.linux.hostname = 'x';
  spec.linux.resources = { memory: { limt: 1 } };
  const found = findUnknownKeys(spec);
  const by = (p: string) => found.find((u) => u.pointer === p);
  t.is(by('/bogus')?.suggestion, undefined);
  t.is(by('/process/user/uidd')?.suggestion, 'uid');
  t.is(by('/mounts/1/optons')?.suggestion, 'options');
  t.is(by('/linux/namespaces/0/paht')?.suggestion, 'path');
  t.is(by('/linux/resources/memory/limt')?.suggestion, 'limit');
  t.is(by('/linux/hostname')?.elsewhere, '/hostname');
  t.is(found.length, 6);
});

test('maps are free-form: annotations, sysctl, unified, keys with / are escaped', (t) => {
  const spec = defaultSpec({ rootless: false }) as unknown as { [k: string]: any };
  spec.annotations = { 'org.example/anything': 'x' };
  spec.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  spec.linux.resources = { unified: { 'memory.high': '1G' } };
  t.deepEqual(findUnknownKeys(spec), []);
  spec.linux['a/b'] = 1;
  t.is(findUnknownKeys(spec)[0]?.pointer, '/linux/a~1b');
});

test('no false alarms on the runtime-spec examples and the default configs', (t) => {
  const dir = path.join(REPO, 'test/fixtures/schema/config/good');
  // config.md's example has two real slips: oomScoreAdj moved to process
  // in 1.0, and the member is timeOffsets
  const expected: Record<string, unknown[]> = {
    'spec-example.json': [
      { pointer: '/linux/resources/oomScoreAdj', key: 'oomScoreAdj', elsewhere: '/process/oomScoreAdj' },
      { pointer: '/linux/timeOffset', key: 'timeOffset', suggestion: 'timeOffsets' },
    ],
  };
  for (const f of fs.readdirSync(dir)) {
    t.deepEqual(findUnknownKeys(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))), expected[f] ?? [], f);
  }
  t.deepEqual(findUnknownKeys(defaultSpec({ rootless: true })), []);
  t.deepEqual(findUnknownKeys(JSON.parse(fs.readFileSync(path.join(REPO, 'bundles/busybox/config.json'), 'utf8'))), []);
});
