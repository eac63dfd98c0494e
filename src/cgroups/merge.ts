// `update`: combine the resources a container was created (or last updated)
// with and the new ones, with runc's update.go semantics:
//
// - a field present in the update wins; anything it does not mention keeps
//   its old value (for cpu quota/period runc says "if only one of
//   {quota,period} is set … leave the unset parameter at the old value");
// - blockIO weightDevice and throttle entries are upserted by major:minor
//   (upsertWeightDevice / upsertThrottleDevice);
// - `unified` is replaced by the update's (runc assigns r.Unified): keeping
//   old raw keys would let them override the values just updated, since
//   unified is written last;
// - device rules are never changed by an update (runc sets SkipDevices: a
//   device plugin may have added rules after create, and re-applying ours
//   would revoke them);
// - hugepageLimits merge by page size, rdma and network by key (runc's
//   update ignores these; applying them again is harmless and lets an
//   engine's full LinuxResources document through).
//
// The result is what is stored in state and passed to apply(): re-writing an
// unchanged value is idempotent.

import type { Resources, ThrottleDevice } from '../spec/types.js';

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

type WeightDevice = NonNullable<NonNullable<Resources['blockIO']>['weightDevice']>[number];

function upsertWeight(old: WeightDevice[] | undefined, upd: WeightDevice[] | undefined): WeightDevice[] | undefined {
  if (upd === undefined) return clone(old);
  const out = clone(old) ?? [];
  for (const wd of upd) {
    // the last duplicate wins, as runc iterates backwards
    const i = out.map((d) => `${d.major}:${d.minor}`).lastIndexOf(`${wd.major}:${wd.minor}`);
    if (i < 0) {
      out.push({ ...wd });
      continue;
    }
    const cur = out[i] as WeightDevice;
    if (wd.weight !== undefined) cur.weight = wd.weight;
    if (wd.leafWeight !== undefined) cur.leafWeight = wd.leafWeight;
  }
  return out;
}

function upsertThrottle(old: ThrottleDevice[] | undefined, upd: ThrottleDevice[] | undefined): ThrottleDevice[] | undefined {
  if (upd === undefined) return clone(old);
  const out = clone(old) ?? [];
  for (const td of upd) {
    const i = out.map((d) => `${d.major}:${d.minor}`).lastIndexOf(`${td.major}:${td.minor}`);
    if (i < 0) out.push({ ...td });
    else (out[i] as ThrottleDevice).rate = td.rate;
  }
  return out;
}

const THROTTLES = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;

function mergeBlockIO(a: Resources['blockIO'], b: Resources['blockIO']): Resources['blockIO'] {
  if (a === undefined && b === undefined) return undefined;
  const out: NonNullable<Resources['blockIO']> = mergeObj(a, b) ?? {};
  const wd = upsertWeight(a?.weightDevice, b?.weightDevice);
  if (wd !== undefined) out.weightDevice = wd;
  for (const k of THROTTLES) {
    const l = upsertThrottle(a?.[k], b?.[k]);
    if (l !== undefined) out[k] = l;
  }
  return out;
}

export function mergeResources(old: Resources | undefined, update: Resources | undefined): Resources {
  const a = old ?? {};
  const b = update ?? {};
  const out: Resources = {};

  if (a.devices !== undefined) out.devices = clone(a.devices);
  const memory = mergeObj(a.memory, b.memory);
  if (memory !== undefined) out.memory = memory;
  const cpu = mergeObj(a.cpu, b.cpu);
  if (cpu !== undefined) out.cpu = cpu;
  const pids = mergeObj(a.pids, b.pids);
  if (pids !== undefined) out.pids = pids;
  const blockIO = mergeBlockIO(a.blockIO, b.blockIO);
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
  if (b.unified !== undefined) out.unified = { ...b.unified };
  return out;
}
