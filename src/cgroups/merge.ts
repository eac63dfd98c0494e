// `update`: combine the resources a container was created (or last updated)
// with and the new ones. A field present in the update wins; anything it
// does not mention keeps its old value. This matches runc update.go, where an
// unspecified value is left alone (and, for cpu quota/period, "if only one of
// {quota,period} is set … leave the unset parameter at the old value").
// Lists (device rules, throttle lists, priorities) are replaced wholesale;
// hugepageLimits merge by page size; rdma and unified merge by key.
//
// The result is what should be stored in state and passed to apply():
// re-applying an unchanged value is idempotent (device rules go through the
// emulator's minimal transition, so nothing is rewritten).

import type { Resources } from '../spec/types.js';

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function mergeObj<T extends object>(a: T | undefined, b: T | undefined): T | undefined {
  if (b === undefined) return clone(a);
  if (a === undefined) return clone(b);
  const out = clone(a) as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = clone(v);
  return out as T;
}

export function mergeResources(old: Resources | undefined, update: Resources | undefined): Resources {
  const a = old ?? {};
  const b = update ?? {};
  const out: Resources = {};

  const devices = b.devices ?? a.devices;
  if (devices !== undefined) out.devices = clone(devices);
  const memory = mergeObj(a.memory, b.memory);
  if (memory !== undefined) out.memory = memory;
  const cpu = mergeObj(a.cpu, b.cpu);
  if (cpu !== undefined) out.cpu = cpu;
  const pids = mergeObj(a.pids, b.pids);
  if (pids !== undefined) out.pids = pids;
  const blockIO = mergeObj(a.blockIO, b.blockIO);
  if (blockIO !== undefined) out.blockIO = blockIO;
  const network = mergeObj(a.network, b.network);
  if (network !== undefined) out.network = network;

  if (a.hugepageLimits !== undefined || b.hugepageLimits !== undefined) {
    const bySize = new Map<string, { pageSize: string; limit: number }>();
    for (const l of a.hugepageLimits ?? []) bySize.set(l.pageSize, { ...l });
    for (const l of b.hugepageLimits ?? []) bySize.set(l.pageSize, { ...l });
    out.hugepageLimits = [...bySize.values()];
  }
  if (a.rdma !== undefined || b.rdma !== undefined) out.rdma = { ...clone(a.rdma), ...clone(b.rdma) };
  if (a.unified !== undefined || b.unified !== undefined) out.unified = { ...a.unified, ...b.unified };
  return out;
}
