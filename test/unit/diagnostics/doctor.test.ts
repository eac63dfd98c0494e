import test from 'ava';
import { doctorChecks, renderJson, renderText, subordinateIds, type DoctorInput } from '../../../src/diagnostics/doctor.js';
import { gatherHostFacts } from '../../../src/diagnostics/host-facts.js';
import { V2_HOST, fakeHost } from './_fake-host.js';

function input(t: Parameters<typeof fakeHost>[0], over: Partial<DoctorInput> = {}, files: Record<string, string | { mode: number; text: string }> = {}): DoctorInput {
  const { reader } = fakeHost(t, { ...V2_HOST, 'etc/subuid': 'alice:100000:65536\n', 'etc/subgid': 'alice:100000:65536\n', 'usr/bin/newuidmap': { mode: 0o755, text: '' }, ...files });
  const probe = () => ({ openat2: 'missing', clone3: 'blocked', pidfd_open: 'available', open_tree: 'available', mount_setattr: 'available' }) as const;
  return {
    facts: gatherHostFacts(reader, probe),
    reader,
    stateRoot: '/run/runt',
    initBinary: '/opt/runt/bin/runt-init',
    sysAddon: '/opt/runt/bin/runt-sys.node',
    user: { name: 'alice', uid: 1000 },
    bun: { path: '/opt/runt/bun', version: '1.4.5', pinned: '1.4.5' },
    node: 'v20.20.2',
    setuidOrCaps: () => true,
    ...over,
  };
}

const byId = (c: ReturnType<typeof doctorChecks>, id: string) => c.find((x) => x.id === id)!;

test('subordinate ids are summed by name or uid', (t) => {
  t.is(subordinateIds('alice:100000:65536\n1000:200000:10\nbob:1:5\n', { name: 'alice', uid: 1000 }), 65546);
  t.is(subordinateIds(undefined, { name: 'alice', uid: 1000 }), 0);
});

test('each check passes, warns or fails with a fix', (t) => {
  const c = doctorChecks(input(t));
  t.is(byId(c, 'runt-init').status, 'pass');
  t.is(byId(c, 'runt-sys').status, 'pass');
  t.is(byId(c, 'userns').status, 'fail'); // max_user_namespaces 0 in the fake host
  t.regex(byId(c, 'userns').fix!, /max_user_namespaces/);
  t.is(byId(c, 'openat2').status, 'fail');
  t.regex(byId(c, 'openat2').detail, /ENOSYS/);
  t.is(byId(c, 'clone3').status, 'warn');
  t.regex(byId(c, 'clone3').detail, /blocked/);
  t.is(byId(c, 'subids').status, 'pass');
  t.is(byId(c, 'newuidmap').status, 'pass');
  t.is(byId(c, 'newgidmap').status, 'warn');
  t.is(byId(c, 'cgroup-layout').status, 'pass');
  t.is(byId(c, 'time-ns').status, 'warn');
  t.is(byId(c, 'privileges').status, 'warn'); // uid 1000
  for (const x of c) if (x.status !== 'pass') t.truthy(x.fix, `${x.id} needs a fix`);
  const json = JSON.parse(renderJson(c));
  t.false(json.ok);
  t.is(json.fail, c.filter((x) => x.status === 'fail').length);
  t.regex(renderText(c), /FAIL  openat2 +missing/);
});

test('a missing native stage, a stale Bun and missing subordinate ids are reported', (t) => {
  const c = doctorChecks(input(t, { initBinary: undefined, sysAddon: undefined, bun: { path: '/x/bun', version: '1.3.0', pinned: '1.4.5' }, user: { name: 'bob', uid: 1001 } }));
  t.is(byId(c, 'runt-init').status, 'fail');
  t.is(byId(c, 'runt-sys').status, 'warn');
  t.regex(byId(c, 'runt-sys').fix!, /make/);
  t.regex(byId(c, 'bun').detail, /pins 1.4.5/);
  t.is(byId(c, 'subids').status, 'warn');
  t.regex(byId(c, 'subids').fix!, /usermod --add-subuids 100000-165535 --add-subgids 100000-165535 bob/);
});
