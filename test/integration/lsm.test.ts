// AppArmor and SELinux: applied when the host has the LSM, a clear error
// naming the field when it does not. This machine has neither, so the tests
// check the refusal (and skip where the host has the LSM: there the
// profile or label would be applied instead).
import test from 'ava';
import fs from 'node:fs';
import { hostSecurityFacts } from '../../src/linux/lsm.js';
import { createSleeping, isRoot, setup, uniqueId } from '../helpers/runt.js';

const host = hostSecurityFacts();
const noAppArmor = isRoot && !host.apparmor ? test : test.skip;
const noSelinux = isRoot && !host.selinux ? test : test.skip;

noAppArmor('process.apparmorProfile without AppArmor: create fails naming the field, nothing left behind', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.apparmorProfile = 'runt-test-profile'));
  const r = env.runt(['create', '--bundle', b, uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /process\.apparmorProfile is set but AppArmor is not enabled on this host \[RUNT8005\]/);
  tt.deepEqual(fs.existsSync(env.root) ? fs.readdirSync(env.root).filter((e) => !e.startsWith('.')) : [], []);
  const json = env.runt(['--log-format', 'json', '--log', `${env.tmp}/log.json`, 'create', '--bundle', b, uniqueId()]);
  tt.is(json.status, 1);
  const last = JSON.parse(fs.readFileSync(`${env.tmp}/log.json`, 'utf8').trim().split('\n').at(-1)!) as Record<string, string>;
  tt.is(last.field, '/process/apparmorProfile');
  tt.is(last.code, 'RUNT8005');
});

noAppArmor('exec --apparmor without AppArmor: exit 255 and the same error', (tt) => {
  const env = setup(tt);
  const { id } = createSleeping(env);
  const r = env.runt(['exec', '--apparmor', 'runt-test-profile', id, 'true']);
  tt.is(r.status, 255);
  tt.regex(r.stderr, /process\.apparmorProfile is set but AppArmor is not enabled on this host/);
});

noSelinux('process.selinuxLabel and linux.mountLabel without SELinux: clear errors naming the field', (tt) => {
  const env = setup(tt);
  const label = env.bundle((s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'));
  const r = env.runt(['create', '--bundle', label, uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /process\.selinuxLabel is set but SELinux is not enabled on this host \[RUNT8005\]/);
  const mount = env.bundle((s) => (s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2'));
  const m = env.runt(['create', '--bundle', mount, uniqueId()]);
  tt.is(m.status, 1);
  tt.regex(m.stderr, /linux\.mountLabel is set but SELinux is not enabled on this host/);
  const { id } = createSleeping(env);
  const e = env.runt(['exec', '--process-label', 'system_u:system_r:container_t:s0', id, 'true']);
  tt.is(e.status, 255);
  tt.regex(e.stderr, /process\.selinuxLabel is set but SELinux is not enabled on this host/);
});
