// Serialise a plan into the wire format of src/native/plan-format.h.

import { OP, type Plan, type Field } from './types.js';

const MAGIC = Buffer.from('RUNTPLN1', 'latin1');

function encodeField(f: Field, out: Buffer[]): void {
  if ('i' in f) {
    const b = Buffer.alloc(13);
    b.writeUInt8(0x69 /* i */, 0);
    b.writeUInt32LE(8, 1);
    b.writeBigInt64LE(BigInt.asIntN(64, BigInt(f.i)), 5);
    out.push(b);
  } else if ('s' in f) {
    const body = Buffer.from(f.s + '\0', 'utf8');
    const h = Buffer.alloc(5);
    h.writeUInt8(0x73 /* s */, 0);
    h.writeUInt32LE(body.length, 1);
    out.push(h, body);
  } else {
    const h = Buffer.alloc(5);
    h.writeUInt8(0x62 /* b */, 0);
    h.writeUInt32LE(f.b.length, 1);
    out.push(h, Buffer.from(f.b));
  }
}

export function encodePlan(plan: Plan): Buffer {
  const out: Buffer[] = [MAGIC];
  for (const op of plan.ops) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(OP[op.name], 0);
    h.writeUInt16LE(op.fields.length, 2);
    out.push(h);
    for (const f of op.fields) encodeField(f, out);
  }
  return Buffer.concat(out);
}
