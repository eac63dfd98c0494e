// Serialise a plan into the wire format of src/native/plan-format.h.

import { OP, type Plan, type Field } from './types.js';

const MAGIC = 'RUNTPLN1';

const utf8 = new TextEncoder();
const TWO_32 = 4294967296;

// One buffer, sized first and then filled through a DataView: a plan has
// hundreds of fields, and a Buffer per field cost create about a
// millisecond; Buffer's write methods and a BigInt per integer ~0.2 ms more.
export function encodePlan(plan: Plan): Buffer {
  const strings: Uint8Array[] = [];
  let size = MAGIC.length;
  for (const op of plan.ops) {
    size += 4;
    for (const f of op.fields) {
      if ('i' in f) size += 13;
      else if ('s' in f) {
        const bytes = utf8.encode(f.s);
        strings.push(bytes);
        size += 5 + bytes.length + 1;
      } else size += 5 + f.b.length;
    }
  }
  const buf = Buffer.allocUnsafe(size);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = buf.write(MAGIC, 0, 'latin1');
  let nextString = 0;
  for (const op of plan.ops) {
    dv.setUint16(off, OP[op.name], true);
    dv.setUint16(off + 2, op.fields.length, true);
    off += 4;
    for (const f of op.fields) {
      if ('i' in f) {
        dv.setUint8(off, 0x69 /* i */);
        dv.setUint32(off + 1, 8, true);
        if (typeof f.i === 'bigint') {
          dv.setBigInt64(off + 5, BigInt.asIntN(64, f.i), true);
        } else {
          // two's complement int64 from a safe integer, without a BigInt
          const hi = Math.floor(f.i / TWO_32);
          dv.setUint32(off + 5, f.i - hi * TWO_32, true);
          dv.setInt32(off + 9, hi, true);
        }
        off += 13;
      } else if ('s' in f) {
        const bytes = strings[nextString++]!;
        dv.setUint8(off, 0x73 /* s */);
        dv.setUint32(off + 1, bytes.length + 1, true);
        buf.set(bytes, off + 5);
        off += 5 + bytes.length;
        dv.setUint8(off++, 0);
      } else {
        dv.setUint8(off, 0x62 /* b */);
        dv.setUint32(off + 1, f.b.length, true);
        buf.set(f.b, off + 5);
        off += 5 + f.b.length;
      }
    }
  }
  if (off !== size) throw new Error(`plan encoding: wrote ${off} of ${size} bytes`);
  return buf;
}
