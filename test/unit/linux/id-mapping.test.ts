import test from 'ava';
import {
  formatIdMap,
  mapToContainer,
  mapToHost,
  MAX_ID_MAP_LINES,
  validateIdMappings,
} from '../../../src/linux/id-mapping.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { Codes } from '../../../src/errors/codes.js';
import type { IdMapping } from '../../../src/spec/types.js';

const P = '/linux/uidMappings';

function fails(t: import('ava').ExecutionContext, maps: IdMapping[], field: string, msg: RegExp): void {
  const err = t.throws(() => validateIdMappings(maps, P), { instanceOf: RuntimeError });
  t.is(err?.code, Codes.IdMappingConfig);
  t.is(err?.field, field);
  t.regex(err?.message ?? '', msg);
}

test('typical rootless and multi-range mappings pass', (t) => {
  t.notThrows(() => validateIdMappings([{ containerID: 0, hostID: 1000, size: 1 }], P));
  t.notThrows(() =>
    validateIdMappings(
      [
        { containerID: 0, hostID: 1000, size: 1 },
        { containerID: 1, hostID: 100000, size: 65536 },
      ],
      P,
    ),
  );
  t.notThrows(() => validateIdMappings([{ containerID: 0, hostID: 0, size: 4294967295 }], P));
  t.notThrows(() => validateIdMappings(undefined, P));
  t.notThrows(() => validateIdMappings([], P));
});

test('adjacent ranges do not overlap', (t) => {
  t.notThrows(() =>
    validateIdMappings(
      [
        { containerID: 0, hostID: 100, size: 10 },
        { containerID: 10, hostID: 110, size: 10 },
      ],
      P,
    ),
  );
});

test('size must be positive', (t) => {
  fails(t, [{ containerID: 0, hostID: 0, size: 0 }], `${P}/0/size`, /greater than 0/);
});

test('container ranges must not overlap', (t) => {
  fails(
    t,
    [
      { containerID: 0, hostID: 1000, size: 10 },
      { containerID: 5, hostID: 5000, size: 10 },
    ],
    `${P}/1`,
    /container id range overlaps \/linux\/uidMappings\/0/,
  );
  // one range inside another
  fails(
    t,
    [
      { containerID: 0, hostID: 1000, size: 100 },
      { containerID: 200, hostID: 2000, size: 1 },
      { containerID: 50, hostID: 3000, size: 1 },
    ],
    `${P}/2`,
    /overlaps \/linux\/uidMappings\/0/,
  );
});

test('host ranges must not overlap', (t) => {
  fails(
    t,
    [
      { containerID: 0, hostID: 1000, size: 10 },
      { containerID: 100, hostID: 1009, size: 10 },
    ],
    `${P}/1`,
    /host id range overlaps/,
  );
  fails(
    t,
    [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 1000, size: 1 },
    ],
    `${P}/1`,
    /host id range overlaps/,
  );
});

test('ranges must stay below 2^32-1', (t) => {
  fails(t, [{ containerID: 1, hostID: 0, size: 4294967295 }], `${P}/0`, /container ids/);
  fails(t, [{ containerID: 0, hostID: 4294967295, size: 1 }], `${P}/0`, /host ids/);
  t.notThrows(() => validateIdMappings([{ containerID: 4294967294, hostID: 4294967294, size: 1 }], P));
});

test('values must be uint32 integers', (t) => {
  fails(t, [{ containerID: -1, hostID: 0, size: 1 }], `${P}/0/containerID`, /containerID -1/);
  fails(t, [{ containerID: 0, hostID: 1.5, size: 1 }], `${P}/0/hostID`, /hostID 1.5/);
  fails(t, [{ containerID: 0, hostID: 0, size: 2 ** 32 }], `${P}/0/size`, /size/);
  fails(t, [{ containerID: 0, hostID: '0' as unknown as number, size: 1 }], `${P}/0/hostID`, /hostID/);
});

test('at most 340 lines', (t) => {
  const ok = Array.from({ length: MAX_ID_MAP_LINES }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
  t.notThrows(() => validateIdMappings(ok, P));
  const tooMany = [...ok, { containerID: 340, hostID: 1340, size: 1 }];
  fails(t, tooMany, P, /too many id mappings: 341/);
});

test('the text must fit one page', (t) => {
  // 24 bytes a line: 171 lines (fewer than 340) are over 4095 bytes
  const big = Array.from({ length: 171 }, (_, i) => ({
    containerID: 4000000000 + i,
    hostID: 4100000000 + i,
    size: 1,
  }));
  t.true(formatIdMap(big).length > 4095);
  fails(t, big, P, /bytes/);
});

test('the field pointer follows the given base', (t) => {
  const err = t.throws(() => validateIdMappings([{ containerID: 0, hostID: 0, size: 0 }], '/mounts/3/gidMappings'));
  t.is((err as RuntimeError).field, '/mounts/3/gidMappings/0/size');
});

test('formatIdMap', (t) => {
  t.is(
    formatIdMap([
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ]),
    '0 1000 1\n1 100000 65536\n',
  );
  t.is(formatIdMap([]), '');
});

const MAPS: IdMapping[] = [
  { containerID: 0, hostID: 1000, size: 1 },
  { containerID: 1, hostID: 100000, size: 65536 },
];

test('mapToHost', (t) => {
  t.is(mapToHost(0, MAPS), 1000);
  t.is(mapToHost(1, MAPS), 100000);
  t.is(mapToHost(1000, MAPS), 100999);
  t.is(mapToHost(65536, MAPS), 165535);
  t.is(mapToHost(65537, MAPS), undefined);
  t.is(mapToHost(0, []), undefined);
});

test('mapToContainer', (t) => {
  t.is(mapToContainer(1000, MAPS), 0);
  t.is(mapToContainer(100000, MAPS), 1);
  t.is(mapToContainer(165535, MAPS), 65536);
  t.is(mapToContainer(165536, MAPS), undefined);
  t.is(mapToContainer(999, MAPS), undefined);
  t.is(mapToContainer(0, MAPS), undefined);
});

test('mapToHost and mapToContainer are inverses on mapped ids', (t) => {
  for (const id of [0, 1, 2, 500, 65535, 65536]) t.is(mapToContainer(mapToHost(id, MAPS)!, MAPS), id);
});
