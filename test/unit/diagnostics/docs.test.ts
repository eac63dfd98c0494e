// The generated documents are up to date, the error codes are unique and
// well formed, and `features` says what the support table says.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCS, conformanceDoc, errorsDoc } from '../../../src/diagnostics/docs.js';
import { CODE_DESCRIPTIONS, CODE_FAMILIES, Codes } from '../../../src/errors/codes.js';
import { features } from '../../../src/features/features.js';
import { SPEC_FEATURES, implementedNames, isImplemented } from '../../../src/features/spec-support.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

for (const [rel, build] of Object.entries(DOCS)) {
  test(`${rel} is up to date (regenerate with \`make docs\`)`, (t) => {
    const file = path.join(REPO, rel);
    t.true(fs.existsSync(file), `${rel} is missing: run make docs`);
    t.is(fs.readFileSync(file, 'utf8'), build(), `${rel} is stale: run make docs`);
  });
}

test('no error code value is used twice, and each is RUNTnnnn of a known family', (t) => {
  const seen = new Map<string, string>();
  for (const [name, code] of Object.entries(Codes)) {
    t.regex(code, /^RUNT\d{4}$/, name);
    t.false(seen.has(code), `${code} is used by both ${seen.get(code)} and ${name}`);
    seen.set(code, name);
    t.truthy(CODE_FAMILIES[code[4]!], `${code}: no family ${code[4]}xxx`);
  }
});

test('every code has a description, and every description a code', (t) => {
  t.deepEqual(Object.keys(CODE_DESCRIPTIONS).sort(), Object.keys(Codes).sort());
  for (const [name, d] of Object.entries(CODE_DESCRIPTIONS)) t.true(d.length > 10, name);
});

test('errors.md lists every code with its description', (t) => {
  const doc = errorsDoc();
  for (const [name, code] of Object.entries(Codes)) t.true(doc.includes(`| ${code} | ${name} |`), code);
});

test('the support table has unique ids and an issue for whatever is missing', (t) => {
  const ids = SPEC_FEATURES.map((f) => f.id);
  t.is(new Set(ids).size, ids.length);
  for (const f of SPEC_FEATURES) {
    if (f.status === 'not-implemented' || f.status === 'partial') t.truthy(f.issue, `${f.id} needs the issue that brings it`);
    for (const p of f.fields) t.regex(p, /^\/[\w/*]+$/, f.id);
  }
  const doc = conformanceDoc();
  for (const f of SPEC_FEATURES) t.true(doc.includes(f.title.replace(/\|/g, '\\|')), f.id);
});

test('features is fed by the support table', (t) => {
  const f = features() as { hooks: string[]; linux: Record<string, unknown> };
  const linux = f.linux as {
    namespaces: string[];
    cgroup: Record<string, boolean>;
    seccomp: { enabled: boolean };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  t.deepEqual(f.hooks, implementedNames('hooks'));
  t.deepEqual(linux.namespaces, implementedNames('namespaces'));
  t.is(linux.cgroup.systemd, isImplemented('cgroup.systemd'));
  t.is(linux.cgroup.rdma, isImplemented('resources.rdma'));
  t.is(linux.seccomp.enabled, isImplemented('linux.seccomp'));
  t.is(linux.apparmor.enabled, isImplemented('lsm.apparmor'));
  t.is(linux.selinux.enabled, isImplemented('lsm.selinux'));
  t.is(linux.intelRdt.enabled, isImplemented('linux.intelRdt'));
  t.is(linux.mountExtensions.idmap.enabled, isImplemented('config.mounts.idmap'));
});
