import test from 'ava';
import {
  knownMountOptions,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
  parseMountOptions,
  parsePropagation,
  type MountOptions,
} from '../../../src/linux/mount-options.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { Codes } from '../../../src/errors/codes.js';

const EMPTY: MountOptions = {
  flags: 0,
  clearFlags: 0,
  propagation: [],
  recAttrSet: 0,
  recAttrClr: 0,
  data: '',
  idmap: 'none',
  tmpcopyup: false,
};

function parsed(over: Partial<MountOptions>): MountOptions {
  return { ...EMPTY, ...over };
}

test('constants match linux/mount.h', (t) => {
  t.is(MS_RDONLY, 0x1);
  t.is(MS_NOSYMFOLLOW, 0x100);
  t.is(MS_BIND, 0x1000);
  t.is(MS_REC, 0x4000);
  t.is(MS_UNBINDABLE, 0x20000);
  t.is(MS_PRIVATE, 0x40000);
  t.is(MS_SLAVE, 0x80000);
  t.is(MS_SHARED, 0x100000);
  t.is(MS_RELATIME, 0x200000);
  t.is(MS_I_VERSION, 0x800000);
  t.is(MS_STRICTATIME, 0x1000000);
  t.is(MS_LAZYTIME, 0x2000000);
  t.is(MOUNT_ATTR__ATIME, 0x70);
  t.is(MOUNT_ATTR_NOSYMFOLLOW, 0x200000);
});

test('empty and missing options', (t) => {
  t.deepEqual(parseMountOptions(undefined), EMPTY);
  t.deepEqual(parseMountOptions([]), EMPTY);
});

test('runc default /dev tmpfs', (t) => {
  t.deepEqual(
    parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    parsed({ flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' }),
  );
});

test('runc default /dev/pts', (t) => {
  t.deepEqual(
    parseMountOptions(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']),
    parsed({ flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' }),
  );
});

test('runc default /sys/fs/cgroup', (t) => {
  t.deepEqual(
    parseMountOptions(['nosuid', 'noexec', 'nodev', 'relatime', 'ro']),
    parsed({ flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY }),
  );
});

test('rbind with rro', (t) => {
  t.deepEqual(
    parseMountOptions(['rbind', 'rro']),
    parsed({ flags: MS_BIND | MS_REC, recAttrSet: MOUNT_ATTR_RDONLY }),
  );
});

test('bind ro with propagation', (t) => {
  t.deepEqual(
    parseMountOptions(['bind', 'ro', 'rprivate']),
    parsed({ flags: MS_BIND | MS_RDONLY, propagation: [MS_PRIVATE | MS_REC] }),
  );
});

test('clear flags: rw and suid', (t) => {
  t.deepEqual(parseMountOptions(['rw']), parsed({ clearFlags: MS_RDONLY }));
  t.deepEqual(parseMountOptions(['suid']), parsed({ clearFlags: MS_NOSUID }));
  t.deepEqual(
    parseMountOptions(['rw', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime', 'loud', 'nomand']),
    parsed({
      clearFlags: MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOATIME | MS_NODIRATIME | MS_SILENT | MS_MANDLOCK,
    }),
  );
});

test('later options undo earlier ones', (t) => {
  t.deepEqual(parseMountOptions(['ro', 'rw']), parsed({ clearFlags: MS_RDONLY }));
  t.deepEqual(parseMountOptions(['rw', 'ro']), parsed({ flags: MS_RDONLY }));
  t.deepEqual(parseMountOptions(['nosuid', 'suid', 'nosuid']), parsed({ flags: MS_NOSUID }));
});

test('every set flag', (t) => {
  const cases: [string, number][] = [
    ['ro', MS_RDONLY], ['nosuid', MS_NOSUID], ['nodev', MS_NODEV], ['noexec', MS_NOEXEC],
    ['sync', MS_SYNCHRONOUS], ['remount', MS_REMOUNT], ['mand', MS_MANDLOCK], ['dirsync', MS_DIRSYNC],
    ['nosymfollow', MS_NOSYMFOLLOW], ['noatime', MS_NOATIME], ['nodiratime', MS_NODIRATIME],
    ['bind', MS_BIND], ['rbind', MS_BIND | MS_REC], ['silent', MS_SILENT], ['relatime', MS_RELATIME],
    ['iversion', MS_I_VERSION], ['strictatime', MS_STRICTATIME], ['lazytime', MS_LAZYTIME],
  ];
  for (const [o, f] of cases) t.deepEqual(parseMountOptions([o]), parsed({ flags: f }), o);
});

test('every clear flag', (t) => {
  const cases: [string, number][] = [
    ['rw', MS_RDONLY], ['suid', MS_NOSUID], ['dev', MS_NODEV], ['exec', MS_NOEXEC],
    ['async', MS_SYNCHRONOUS], ['nomand', MS_MANDLOCK], ['symfollow', MS_NOSYMFOLLOW],
    ['atime', MS_NOATIME], ['diratime', MS_NODIRATIME], ['loud', MS_SILENT],
    ['norelatime', MS_RELATIME], ['noiversion', MS_I_VERSION], ['nostrictatime', MS_STRICTATIME],
    ['nolazytime', MS_LAZYTIME],
  ];
  for (const [o, f] of cases) t.deepEqual(parseMountOptions([o]), parsed({ clearFlags: f }), o);
});

test('propagation options, in order', (t) => {
  t.deepEqual(
    parseMountOptions(['private', 'rslave', 'shared', 'runbindable', 'rshared', 'slave', 'unbindable', 'rprivate']).propagation,
    [
      MS_PRIVATE, MS_SLAVE | MS_REC, MS_SHARED, MS_UNBINDABLE | MS_REC,
      MS_SHARED | MS_REC, MS_SLAVE, MS_UNBINDABLE, MS_PRIVATE | MS_REC,
    ],
  );
});

test('recursive attributes set and clear', (t) => {
  t.deepEqual(
    parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow']),
    parsed({
      flags: MS_BIND | MS_REC,
      recAttrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
    }),
  );
  t.deepEqual(
    parseMountOptions(['rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']),
    parsed({
      recAttrClr: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
    }),
  );
  t.deepEqual(parseMountOptions(['rro', 'rrw']), parsed({ recAttrClr: MOUNT_ATTR_RDONLY }));
  t.deepEqual(parseMountOptions(['rrw', 'rro']), parsed({ recAttrSet: MOUNT_ATTR_RDONLY }));
});

test('recursive atime attributes also clear the whole atime field', (t) => {
  t.deepEqual(parseMountOptions(['rnoatime']), parsed({ recAttrSet: MOUNT_ATTR_NOATIME, recAttrClr: MOUNT_ATTR__ATIME }));
  t.deepEqual(
    parseMountOptions(['rstrictatime']),
    parsed({ recAttrSet: MOUNT_ATTR_STRICTATIME, recAttrClr: MOUNT_ATTR__ATIME }),
  );
  // MOUNT_ATTR_RELATIME is 0: only the field clear shows.
  t.deepEqual(parseMountOptions(['rrelatime']), parsed({ recAttrClr: MOUNT_ATTR__ATIME }));
  // runc quirks: clearing RELATIME (0) clears nothing; ratime clears one bit.
  t.deepEqual(parseMountOptions(['rnorelatime']), EMPTY);
  t.deepEqual(parseMountOptions(['ratime']), parsed({ recAttrClr: MOUNT_ATTR_NOATIME }));
  t.deepEqual(parseMountOptions(['rnostrictatime']), parsed({ recAttrClr: MOUNT_ATTR_STRICTATIME }));
  // rnodiratime is not part of the atime field
  t.deepEqual(parseMountOptions(['rnodiratime']), parsed({ recAttrSet: MOUNT_ATTR_NODIRATIME }));
});

test('extensions: tmpcopyup, idmap, ridmap', (t) => {
  t.deepEqual(
    parseMountOptions(['tmpcopyup', 'mode=1777']),
    parsed({ tmpcopyup: true, data: 'mode=1777' }),
  );
  t.is(parseMountOptions(['bind', 'idmap']).idmap, 'idmap');
  t.is(parseMountOptions(['rbind', 'ridmap']).idmap, 'ridmap');
  t.is(parseMountOptions(['idmap', 'ridmap']).idmap, 'ridmap');
  t.is(parseMountOptions(['ridmap', 'idmap']).idmap, 'idmap');
  t.is(parseMountOptions(['idmap']).data, '');
});

test('unknown options go to data verbatim, in order', (t) => {
  t.deepEqual(
    parseMountOptions(['size=10m', 'RO', 'acl', 'uid=1000', 'x-foo', 'nouser']),
    parsed({ data: 'size=10m,RO,acl,uid=1000,x-foo,nouser' }),
  );
});

test('defaults is passed to the filesystem as data, as runc does', (t) => {
  t.deepEqual(parseMountOptions(['defaults']), parsed({ data: 'defaults' }));
  t.deepEqual(parseMountOptions(['ro', 'defaults', 'mode=755']), parsed({ flags: MS_RDONLY, data: 'defaults,mode=755' }));
});

test('knownMountOptions matches runc features', (t) => {
  const known = knownMountOptions();
  t.deepEqual(known, [...known].sort());
  t.is(known.length, 33 + 8 + 18 + 1);
  for (const o of ['defaults', 'ro', 'rbind', 'rprivate', 'rro', 'rnosymfollow', 'tmpcopyup', 'nosymfollow']) {
    t.true(known.includes(o), o);
  }
  t.false(known.includes('idmap'));
  t.false(known.includes('ridmap'));
  t.is(new Set(known).size, known.length);
});

test('parsePropagation', (t) => {
  t.is(parsePropagation('shared'), MS_SHARED);
  t.is(parsePropagation('rshared'), MS_SHARED | MS_REC);
  t.is(parsePropagation('slave'), MS_SLAVE);
  t.is(parsePropagation('rslave'), MS_SLAVE | MS_REC);
  t.is(parsePropagation('private'), MS_PRIVATE);
  t.is(parsePropagation('rprivate'), MS_PRIVATE | MS_REC);
  t.is(parsePropagation('unbindable'), MS_UNBINDABLE);
  t.is(parsePropagation('runbindable'), MS_UNBINDABLE | MS_REC);
});

test('parsePropagation rejects others', (t) => {
  for (const name of ['', 'SHARED', 'rro', 'bind', 'recursive']) {
    const err = t.throws(() => parsePropagation(name), { instanceOf: RuntimeError });
    t.is(err?.code, Codes.MountConfig);
    t.is(err?.field, '/linux/rootfsPropagation');
    t.is(err?.message, `rootfsPropagation ${JSON.stringify(name)} is not supported`);
  }
});
