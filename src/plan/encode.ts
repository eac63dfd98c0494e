// Serialise a plan into the wire format of src/native/plan-format.h.

import { OP, type Plan, type Field } from './types.js';

const MAGIC = 'RUNTPLN1';

function fieldSize(f: Field): number {
  if ('i' in f) return 13;
  if ('s' in f) return 5 + Buffer.byteLength(f.s, 'utf8') + 1;
  return 5 + f.b.length;
}

// One buffer, sized first and then filled: a plan has hundreds of fields,
// and a Buffer per field cost create about a millisecond.
export function encodePlan(plan: Plan): Buffer {
  let size = MAGIC.length;
  for (const op of plan.ops) {
    size += 4;
    for (const f of op.fields) size += fieldSize(f);
  }
  const buf = Buffer.allocUnsafe(size);
  let off = buf.write(MAGIC, 0, 'latin1');
  for (const op of plan.ops) {
    off = buf.writeUInt16LE(OP[op.name], off);
    off = buf.writeUInt16LE(op.fields.length, off);
    for (const f of op.fields) {
      if ('i' in f) {
        off = buf.writeUInt8(0x69 /* i */, off);
        off = buf.writeUInt32LE(8, off);
        off = buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(f.i)), off);
      } else if ('s' in f) {
        const len = Buffer.byteLength(f.s, 'utf8');
        off = buf.writeUInt8(0x73 /* s */, off);
        off = buf.writeUInt32LE(len + 1, off);
        off += buf.write(f.s, off, len, 'utf8');
        off = buf.writeUInt8(0, off);
      } else {
        off = buf.writeUInt8(0x62 /* b */, off);
        off = buf.writeUInt32LE(f.b.length, off);
        off += Buffer.from(f.b.buffer, f.b.byteOffset, f.b.length).copy(buf, off);
      }
    }
  }
  if (off !== size) throw new Error(`plan encoding: wrote ${off} of ${size} bytes`);
  return buf;
}
