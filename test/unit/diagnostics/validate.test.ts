import test from 'ava';
import { bindOptionDiagnostics, exitStatus, renderText, valuesAt } from '../../../src/diagnostics/validate.js';
import type { Spec } from '../../../src/spec/types.js';

test('valuesAt finds the set members a support-table pattern names', (t) => {
  const doc = { mounts: [{ destination: '/a', uidMappings: [] }, { destination: '/b', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }], linux: { seccomp: {}, personality: { domain: 'LINUX' } } };
  t.deepEqual(valuesAt(doc, '/mounts/*/uidMappings'), ['/mounts/1/uidMappings']);
  t.deepEqual(valuesAt(doc, '/linux/personality'), ['/linux/personality']);
  t.deepEqual(valuesAt(doc, '/linux/seccomp'), []); // empty: nothing asked for
  t.deepEqual(valuesAt(doc, '/process/args'), []);
});

test('bind mount options that are no mount flag are flagged, with a suggestion', (t) => {
  const spec = { mounts: [{ destination: '/x', type: 'bind', source: '/s', options: ['rbind', 'ro', 'nosiud'] }, { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }] } as unknown as Spec;
  const d = bindOptionDiagnostics(spec);
  t.is(d.length, 1);
  t.is(d[0]!.field, '/mounts/0/options');
  t.regex(d[0]!.message, /ignores unknown option "nosiud"; did you mean "nosuid"\?/);
});

test('exit status and summary: errors 1, warnings only 2, clean 0', (t) => {
  const base = { bundle: '/b', configPath: '/b/config.json', skipped: [] };
  const w = { ...base, diagnostics: [{ severity: 'warning' as const, check: 'unknown-key' as const, code: 'RUNT2017', message: 'm', field: '/x' }], errors: 0, warnings: 1 };
  t.is(exitStatus(w), 2);
  t.is(exitStatus({ ...w, errors: 1 }), 1);
  t.is(exitStatus({ ...base, diagnostics: [], errors: 0, warnings: 0 }), 0);
  t.is(renderText(w), 'warning: /x: m [RUNT2017]\n/b/config.json: valid, with warnings (0 errors, 1 warning)\n');
});
