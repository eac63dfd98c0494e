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

test('integers of either sign and size, UTF-8 strings and bytes', (t) => {
  const ints = [0, -1, -5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 40) - 3, 4294967295];
  const buf = encodePlan({
    ops: [{ name: 'RLIMIT', fields: [...ints.map((i) => ({ i })), { i: 2n ** 63n - 1n }, { s: 'é/ü' }, { b: Uint8Array.of(1, 0, 255) }], text: '' }],
    warnings: [],
    newUserNamespace: false,
    uidMap: undefined,
    gidMap: undefined,
  });
  let off = 12;
  for (const i of ints) {
    t.is(String.fromCharCode(buf[off]!), 'i');
    t.is(buf.readUInt32LE(off + 1), 8);
    t.is(buf.readBigInt64LE(off + 5), BigInt(i), String(i));
    off += 13;
  }
  t.is(buf.readBigInt64LE(off + 5), 2n ** 63n - 1n);
  off += 13;
  t.is(buf.readUInt32LE(off + 1), Buffer.byteLength('é/ü') + 1);
  t.is(buf.subarray(off + 5, off + 5 + Buffer.byteLength('é/ü')).toString('utf8'), 'é/ü');
  off += 5 + Buffer.byteLength('é/ü') + 1;
  t.is(String.fromCharCode(buf[off]!), 'b');
  t.deepEqual([...buf.subarray(off + 5, off + 8)], [1, 0, 255]);
  t.is(off + 8, buf.length);
});
