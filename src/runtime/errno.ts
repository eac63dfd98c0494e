// errno numbers to names and texts, from the runtime's own table.

import util from 'node:util';

const errnoMap: Map<number, [string, string]> | undefined = (() => {
  try {
    return util.getSystemErrorMap();
  } catch {
    return undefined;
  }
})();

export function errnoName(n: number): { name: string; text: string } {
  const e = errnoMap?.get(-n);
  if (e) return { name: e[0], text: e[1] };
  return { name: `errno ${n}`, text: `errno ${n}` };
}
