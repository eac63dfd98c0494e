import test from 'ava';
import {
  allRlimitTypes,
  RLIM_INFINITY,
  resolveRlimits,
  rlimitNumber,
  rlimitValue,
} from '../../../src/linux/rlimits.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { Codes } from '../../../src/errors/codes.js';
import type { Rlimit } from '../../../src/spec/types.js';

test('table matches asm-generic/resource.h', (t) => {
  const expected = [
    'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
    'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
    'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
  ];
  t.deepEqual(allRlimitTypes(), expected);
  expected.forEach((type, i) => t.is(rlimitNumber(type), i));
});

test('unknown type throws with the field', (t) => {
  for (const type of ['RLIMIT_FOO', 'rlimit_nofile', 'NOFILE', '']) {
    const err = t.throws(() => rlimitNumber(type, '/process/rlimits/2/type'), { instanceOf: RuntimeError });
    t.is(err?.code, Codes.RlimitConfig);
    t.is(err?.field, '/process/rlimits/2/type');
    t.is(err?.message, `unknown rlimit type ${JSON.stringify(type)}`);
  }
});

test('values become bigint', (t) => {
  t.is(rlimitValue(0), 0n);
  t.is(rlimitValue(1024), 1024n);
  t.is(rlimitValue(2 ** 53), 9007199254740992n);
  t.is(rlimitValue(2 ** 63), 9223372036854775808n);
  t.is(rlimitValue(123n), 123n);
});

test('2^64-1 from JSON is infinity', (t) => {
  const parsed = JSON.parse('18446744073709551615') as number;
  t.is(parsed, 18446744073709552000);
  t.is(rlimitValue(parsed), RLIM_INFINITY);
  t.is(rlimitValue(18446744073709552000), RLIM_INFINITY);
  t.is(rlimitValue(1e30), RLIM_INFINITY);
  t.is(rlimitValue(0xffff_ffff_ffff_ffffn), RLIM_INFINITY);
  t.is(rlimitValue(1n << 70n), RLIM_INFINITY);
  t.is(RLIM_INFINITY, 18446744073709551615n);
});

test('negative, fractional and non-numbers are rejected', (t) => {
  for (const v of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1n, '5' as unknown as number]) {
    const err = t.throws(() => rlimitValue(v, '/process/rlimits/0/hard'), { instanceOf: RuntimeError });
    t.is(err?.code, Codes.RlimitConfig);
    t.is(err?.field, '/process/rlimits/0/hard');
  }
});

test('resolveRlimits converts in order', (t) => {
  const rl: Rlimit[] = [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709552000 },
    { type: 'RLIMIT_RTTIME', soft: 18446744073709552000, hard: 18446744073709552000 },
  ];
  t.deepEqual(resolveRlimits(rl), [
    { type: 'RLIMIT_NOFILE', resource: 7, soft: 1024n, hard: 4096n },
    { type: 'RLIMIT_CORE', resource: 4, soft: 0n, hard: RLIM_INFINITY },
    { type: 'RLIMIT_RTTIME', resource: 15, soft: RLIM_INFINITY, hard: RLIM_INFINITY },
  ]);
  t.deepEqual(resolveRlimits(undefined), []);
  t.deepEqual(resolveRlimits([]), []);
});

test('duplicate types are an error naming the second entry', (t) => {
  const rl: Rlimit[] = [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
  ];
  const err = t.throws(() => resolveRlimits(rl), { instanceOf: RuntimeError });
  t.is(err?.code, Codes.RlimitConfig);
  t.is(err?.field, '/process/rlimits/2/type');
  t.regex(err?.message ?? '', /duplicate rlimit type RLIMIT_NOFILE/);
});

test('unknown type in a list names its index', (t) => {
  const err = t.throws(() => resolveRlimits([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_X', soft: 1, hard: 1 }]));
  t.is((err as RuntimeError).field, '/process/rlimits/1/type');
});

test('soft above hard is an error, infinity counts as the top', (t) => {
  const err = t.throws(() => resolveRlimits([{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }]), {
    instanceOf: RuntimeError,
  });
  t.is(err?.field, '/process/rlimits/0/soft');
  t.throws(() => resolveRlimits([{ type: 'RLIMIT_CORE', soft: 18446744073709552000, hard: 0 }]));
  t.notThrows(() => resolveRlimits([{ type: 'RLIMIT_CORE', soft: 5, hard: 18446744073709552000 }]));
});

test('a custom pointer is used for exec process files', (t) => {
  const err = t.throws(() => resolveRlimits([{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1 }], '/rlimits'));
  t.is((err as RuntimeError).field, '/rlimits/0/soft');
});
