import test from 'ava';
import { encodePlan } from '../../../src/plan/encode.js';

test('the wire format: magic, op header, typed fields', (t) => {
  const buf = encodePlan({
    ops: [{ name: 'HOSTNAME', fields: [{ s: 'box' }], text: '' }, { name: 'RLIMIT', fields: [{ i: 7 }, { i: -1n }, { i: 2 ** 40 }], text: '' }],
    warnings: [],
    newUserNamespace: false,
    uidMap: undefined,
    gidMap: undefined,
  });
  t.is(buf.subarray(0, 8).toString(), 'RUNTPLN1');
  t.is(buf.readUInt16LE(8), 41); // OP_HOSTNAME
  t.is(buf.readUInt16LE(10), 1);
  t.is(String.fromCharCode(buf[12]!), 's');
  t.is(buf.readUInt32LE(13), 4);
  t.is(buf.subarray(17, 21).toString('latin1'), 'box\0');
  t.is(buf.readUInt16LE(21), 43); // OP_RLIMIT
  t.is(buf.readUInt16LE(23), 3);
  t.is(buf.readBigInt64LE(25 + 5), 7n);
  t.is(buf.readBigInt64LE(25 + 13 + 5), -1n);
  t.is(buf.readBigInt64LE(25 + 26 + 5), 2n ** 40n);
});
