// errno numbers to names and texts, from the runtime's own table. Loaded
// only when an error is reported: node:util is not free to import on Bun.

import { builtin } from '../sys/builtin.js';

let errnoMap: Map<number, [string, string]> | undefined | null = null;

function table(): Map<number, [string, string]> | undefined {
  if (errnoMap === null) {
    try {
      const util = builtin<typeof import('node:util')>('node:util');
      errnoMap = util.getSystemErrorMap();
    } catch {
      errnoMap = undefined;
    }
  }
  return errnoMap;
}

export function errnoName(n: number): { name: string; text: string } {
  const e = table()?.get(-n);
  if (e) return { name: e[0], text: e[1] };
  return { name: `errno ${n}`, text: `errno ${n}` };
}
