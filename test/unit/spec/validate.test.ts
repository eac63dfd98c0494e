import test from 'ava';
import { validateSpec } from '../../../src/spec/validate.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';
import type { Spec } from '../../../src/spec/types.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';

const opts = { consoleSocket: false, detached: true };

function check(mut: (s: Spec) => void, o = opts): RuntimeError | undefined {
  const s = defaultSpec({ rootless: false, cgroup2: false });
  s.process!.terminal = false;
  mut(s);
  try {
    validateSpec(s, o);
    return undefined;
  } catch (e) {
    return e as RuntimeError;
  }
}

test('the default spec (terminal off) is valid', (t) => {
  t.is(check(() => {}), undefined);
});

const cases: [string, (s: Spec) => void, RegExp, string][] = [
  ['duplicate namespace', (s) => s.linux!.namespaces!.push({ type: 'pid' }), /duplicate pid namespace/, '/linux/namespaces/5/type'],
  ['relative namespace path', (s) => (s.linux!.namespaces![0]!.path = 'proc/1/ns/pid'), /must be absolute/, '/linux/namespaces/0/path'],
  ['no mount namespace', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount')), /mount namespace is required/, '/linux/namespaces'],
  ['maps without userns', (s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), /no user namespace/, '/linux/uidMappings'],
  ['userns without maps', (s) => s.linux!.namespaces!.push({ type: 'user' }), /needs linux.uidMappings/, '/linux/uidMappings'],
  ['unmapped uid', (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.process!.user.uid = 50;
  }, /uid 50 is not mapped/, '/process/user/uid'],
  ['hostname without uts', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')), /hostname needs a private uts namespace/, '/hostname'],
  ['timeOffsets without time ns', (s) => (s.linux!.timeOffsets = { monotonic: { secs: 1 } }), /needs a time namespace/, '/linux/timeOffsets'],
  ['net sysctl without netns', (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  }, /needs a private network namespace/, '/linux/sysctl/net.ipv4.ip_forward'],
  ['host sysctl', (s) => (s.linux!.sysctl = { 'vm.swappiness': '1' }), /not namespaced/, '/linux/sysctl/vm.swappiness'],
  ['relative cwd', (s) => (s.process!.cwd = 'tmp'), /must be an absolute path/, '/process/cwd'],
  ['empty args', (s) => (s.process!.args = []), /process.args/, '/process/args'],
  ['bad env', (s) => s.process!.env!.push('NOEQUALS'), /NAME=value/, '/process/env/2'],
  ['relative hook path', (s) => (s.hooks = { poststop: [{ path: 'bin/true' }] }), /must be absolute/, '/hooks/poststop/0/path'],
  ['relative masked path', (s) => s.linux!.maskedPaths!.push('proc/x'), /must be an absolute path/, `/linux/maskedPaths/${defaultSpec({ rootless: false, cgroup2: false }).linux!.maskedPaths!.length}`],
  ['terminal without console socket', (s) => (s.process!.terminal = true), /no --console-socket/, '/process/terminal'],
  ['device without numbers', (s) => (s.linux!.devices = [{ path: '/dev/x', type: 'c' }]), /needs major and minor/, '/linux/devices/0'],
  ['duplicate rlimit', (s) => s.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), /duplicate rlimit/, '/process/rlimits/1/type'],
];

for (const [name, mut, re, field] of cases) {
  test(`rejects: ${name}`, (t) => {
    const e = check(mut);
    t.truthy(e, 'expected an error');
    t.regex(e!.message, re);
    t.is(e!.field, field);
    t.regex(e!.code, /^RUNT\d{4}$/);
  });
}
