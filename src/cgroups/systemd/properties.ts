// linux.resources → systemd unit properties (systemd.resource-control(5)),
// for StartTransientUnit and SetUnitProperties. Pure: the systemd version
// and the device major → name table are passed in.
//
// Follows runc's systemd driver (libcontainer/cgroups/systemd/common.go
// addCpuQuota/addCpuset, v2.go genV2ResourcesProperties and
// unifiedResToSystemdProps, devices/systemd.go); like runc, every resource is
// then also written to the scope's cgroup files (the v2 manager's apply), so
// whatever systemd cannot express (io throttling, hugetlb, rdma, cpu.idle,
// unified keys it has no property for, our own device eBPF program) still
// lands, and what it can express agrees with the files.

import { Codes } from '../../errors/codes.js';
import { RuntimeError } from '../../errors/runtime-error.js';
import type { Resources } from '../../spec/types.js';
import { convertBlkIOToIOWeightValue, convertCPUSharesToCgroupV2Value, convertMemorySwapToCgroupV2Value } from '../convert.js';
import { DeviceEmulator, type DeviceRule, WILDCARD } from '../devices.js';

const R = '/linux/resources';
export const U64_MAX = 0xffffffffffffffffn;
// kernel default cpu.max period (us), for v1 and v2 alike
const DEFAULT_CPU_PERIOD = 100000n;

// One property and its D-Bus signature.
export type Prop =
  | { name: string; sig: 't'; value: bigint }
  | { name: string; sig: 'b'; value: boolean }
  | { name: string; sig: 's'; value: string }
  | { name: string; sig: 'ay'; value: Uint8Array }
  | { name: string; sig: 'au'; value: number[] }
  | { name: string; sig: 'a(ss)'; value: Array<[string, string]> };

export interface PropertyContext {
  // systemd's version (Manager.Version): CPUQuotaPeriodUSec needs 242,
  // AllowedCPUs/AllowedMemoryNodes 244 (runc checks the same).
  systemdVersion: number;
  // the effective device rules (spec + defaults), or undefined to leave the
  // device properties alone (update, as runc's SkipDevices)
  deviceRules?: DeviceRule[] | undefined;
  // /proc/devices: major → driver name, per type, for "char-<name>" entries
  charMajors?: Map<number, string>;
  blockMajors?: Map<number, string>;
}

export interface PropertyResult {
  props: Prop[];
  // settings left to the cgroup files only (debug notes)
  notes: string[];
}

const u64 = (n: number | bigint): bigint => BigInt.asUintN(64, BigInt(n));
// spec's -1 (unlimited) → USEC_INFINITY / CGROUP_LIMIT_MAX
const limit = (n: number): bigint => (n < 0 ? U64_MAX : u64(n));

function resourceError(field: string, msg: string): RuntimeError {
  return new RuntimeError(Codes.CgroupResource, `cannot apply ${field}: ${msg}`, { field });
}

// The properties of a new transient scope (runc v2.go Apply): its slice, the
// pid systemd moves into it, delegation (the container may manage its own
// sub-cgroups) and accounting, then the resources.
export function scopeProperties(opts: { id: string; slice: string; pid: number }, resources: Prop[]): Prop[] {
  return [
    { name: 'Description', sig: 's', value: `runt container ${opts.id}` },
    { name: 'Slice', sig: 's', value: opts.slice },
    { name: 'PIDs', sig: 'au', value: [opts.pid] },
    { name: 'Delegate', sig: 'b', value: true },
    { name: 'MemoryAccounting', sig: 'b', value: true },
    { name: 'CPUAccounting', sig: 'b', value: true },
    { name: 'IOAccounting', sig: 'b', value: true },
    { name: 'TasksAccounting', sig: 'b', value: true },
    // no implicit Conflicts=shutdown.target etc. on a container's scope
    { name: 'DefaultDependencies', sig: 'b', value: false },
    ...resources,
  ];
}

export function resourceProperties(r: Resources | undefined, ctx: PropertyContext): PropertyResult {
  const props: Prop[] = [];
  const notes: string[] = [];
  if (!r) r = {};
  if (ctx.deviceRules) props.push(...deviceProperties(ctx.deviceRules, ctx, notes));

  const m = r.memory;
  if (m) {
    const lim = m.limit ?? 0;
    if (lim !== 0) props.push({ name: 'MemoryMax', sig: 't', value: limit(lim) });
    if ((m.reservation ?? 0) !== 0) props.push({ name: 'MemoryLow', sig: 't', value: limit(m.reservation!) });
    const swap = convertMemorySwapToCgroupV2Value(m.swap ?? 0, lim);
    if (typeof swap === 'object') throw resourceError(`${R}/memory/swap`, swap.error);
    if (swap !== 0) props.push({ name: 'MemorySwapMax', sig: 't', value: limit(swap) });
    // memory+swap equal to memory: no swap at all (the file gets "0")
    else if ((m.swap ?? 0) > 0 && m.swap === lim) props.push({ name: 'MemorySwapMax', sig: 't', value: 0n });
  }

  const c = r.cpu;
  if (c) {
    if ((c.shares ?? 0) !== 0) props.push({ name: 'CPUWeight', sig: 't', value: u64(convertCPUSharesToCgroupV2Value(c.shares!)) });
    addCpuQuota(props, c.quota ?? 0, u64(c.period ?? 0), ctx, notes);
    addCpuset(props, c.cpus ?? '', c.mems ?? '', ctx, notes);
  }

  const pids = r.pids?.limit;
  // 0 becomes 1 as in the files (resources-v1.ts pidsMaxValue): systemd
  // cannot say TasksMax=0
  if (pids !== undefined) props.push({ name: 'TasksMax', sig: 't', value: pids > 0 ? u64(pids) : pids === 0 ? 1n : U64_MAX });

  const w = r.blockIO?.weight ?? 0;
  if (w !== 0) props.push({ name: 'IOWeight', sig: 't', value: u64(convertBlkIOToIOWeightValue(w)) });

  if (r.unified) props.push(...unifiedProperties(r.unified, ctx, notes));
  return { props, notes };
}

// runc addCpuQuota: CPUQuotaPerSecUSec is quota per second of CPU time,
// rounded up to whole percent (systemd keeps a percentage), unlimited when
// the quota is not positive.
function addCpuQuota(props: Prop[], quota: number, period: bigint, ctx: PropertyContext, notes: string[]): void {
  if (period !== 0n) {
    if (ctx.systemdVersion >= 242) props.push({ name: 'CPUQuotaPeriodUSec', sig: 't', value: period });
    else notes.push(`systemd ${ctx.systemdVersion} has no CPUQuotaPeriodUSec (< 242): the period is written to cpu.max only`);
  }
  if (quota === 0 && period === 0n) return;
  let perSec = U64_MAX;
  if (quota > 0) {
    const p = period === 0n ? DEFAULT_CPU_PERIOD : period;
    perSec = (BigInt(quota) * 1000000n) / p;
    if (perSec % 10000n !== 0n) perSec = (perSec / 10000n + 1n) * 10000n;
  }
  props.push({ name: 'CPUQuotaPerSecUSec', sig: 't', value: perSec });
}

function addCpuset(props: Prop[], cpus: string, mems: string, ctx: PropertyContext, notes: string[]): void {
  if (cpus === '' && mems === '') return;
  if (ctx.systemdVersion < 244) {
    notes.push(`systemd ${ctx.systemdVersion} has no AllowedCPUs/AllowedMemoryNodes (< 244): the cpuset is written to the files only`);
    return;
  }
  if (cpus !== '') props.push({ name: 'AllowedCPUs', sig: 'ay', value: rangeToBits(cpus, `${R}/cpu/cpus`) });
  if (mems !== '') props.push({ name: 'AllowedMemoryNodes', sig: 'ay', value: rangeToBits(mems, `${R}/cpu/mems`) });
}

// runc RangeToBits: "0-2,7" → a bit mask, least significant byte first (the
// order systemd's cpu_set_from_dbus reads).
export function rangeToBits(list: string, field: string): Uint8Array {
  const bits: number[] = [];
  for (const part of list.split(',')) {
    const s = part.trim();
    if (s === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw resourceError(field, `invalid cpu/node list ${JSON.stringify(list)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw resourceError(field, `invalid range ${JSON.stringify(s)} in ${JSON.stringify(list)}`);
    if (b >= 1 << 16) throw resourceError(field, `cpu/node ${b} out of range in ${JSON.stringify(list)}`);
    for (let i = a; i <= b; i++) bits.push(i);
  }
  const max = bits.length ? Math.max(...bits) : 0;
  const out = new Uint8Array(Math.floor(max / 8) + 1);
  for (const i of bits) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

// runc unifiedResToSystemdProps: the unified keys systemd has a property
// for; the rest are written to the files only.
function unifiedProperties(unified: Record<string, string>, ctx: PropertyContext, notes: string[]): Prop[] {
  const props: Prop[] = [];
  const memNames: Record<string, string> = {
    'memory.high': 'MemoryHigh',
    'memory.low': 'MemoryLow',
    'memory.min': 'MemoryMin',
    'memory.max': 'MemoryMax',
    'memory.swap.max': 'MemorySwapMax',
  };
  for (const [k, raw] of Object.entries(unified)) {
    const field = `${R}/unified/${k}`;
    if (k.includes('/')) throw resourceError(field, `unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
    if (k.split('.').length < 2) throw resourceError(field, `unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
    const v = raw.trim();
    const num = (s: string): bigint => {
      if (!/^\d+$/.test(s)) throw resourceError(field, `value ${JSON.stringify(raw)} is not a number`);
      return BigInt(s);
    };
    switch (k) {
      case 'cpu.max': {
        const f = v.split(/\s+/);
        if (f.length < 1 || f.length > 2 || f[0] === '') throw resourceError(field, `value ${JSON.stringify(raw)} is invalid`);
        const quota = f[0] === 'max' ? 0 : Number(num(f[0]!));
        const period = f.length === 2 ? num(f[1]!) : DEFAULT_CPU_PERIOD;
        addCpuQuota(props, quota, period, ctx, notes);
        break;
      }
      case 'cpu.weight':
        props.push({ name: 'CPUWeight', sig: 't', value: num(v) });
        break;
      case 'cpuset.cpus':
      case 'cpuset.mems':
        addCpuset(props, k === 'cpuset.cpus' ? v : '', k === 'cpuset.mems' ? v : '', ctx, notes);
        break;
      case 'memory.high':
      case 'memory.low':
      case 'memory.min':
      case 'memory.max':
      case 'memory.swap.max':
        props.push({ name: memNames[k]!, sig: 't', value: v === 'max' ? U64_MAX : num(v) });
        break;
      case 'pids.max':
        props.push({ name: 'TasksMax', sig: 't', value: v === 'max' ? U64_MAX : num(v) });
        break;
      default:
        notes.push(`unified ${k} has no systemd property: written to the cgroup file only`);
    }
  }
  return props;
}

// runc devices/systemd.go systemdProperties: the rule list, run through the
// emulator, becomes DevicePolicy=strict plus one DeviceAllow per allowed
// device (or class of devices); an allow-all list is DevicePolicy=auto with
// no DeviceAllow. systemd cannot express a deny list ("everything but X"):
// as runc, allow everything there and let the eBPF program that runt
// attaches itself (devices-v2.ts) do the denying.
export function deviceProperties(rules: DeviceRule[], ctx: PropertyContext, notes: string[] = []): Prop[] {
  const emu = new DeviceEmulator();
  for (const r of rules) emu.apply(r);
  // an empty DeviceAllow resets the list set by StartTransientUnit/earlier updates
  if (emu.isBlacklist()) {
    if (!emu.isAllowAll()) notes.push('systemd cannot express device deny rules: they are enforced by runt\'s eBPF filter only');
    return [
      { name: 'DevicePolicy', sig: 's', value: 'auto' },
      { name: 'DeviceAllow', sig: 'a(ss)', value: [] },
    ];
  }
  const allow: Array<[string, string]> = [];
  for (const r of emu.exceptions()) {
    const kind = r.type === 'b' ? 'block' : 'char';
    let entry: string | undefined;
    if (r.major === WILDCARD) entry = `${kind}-*`;
    else if (r.minor === WILDCARD) {
      const name = (r.type === 'b' ? ctx.blockMajors : ctx.charMajors)?.get(r.major);
      if (name === undefined) notes.push(`no /proc/devices name for ${kind} major ${r.major}: left to the eBPF filter`);
      else entry = `${kind}-${name}`;
    } else entry = `/dev/${kind}/${r.major}:${r.minor}`;
    if (entry !== undefined) allow.push([entry, r.access]);
  }
  return [
    { name: 'DevicePolicy', sig: 's', value: 'strict' },
    { name: 'DeviceAllow', sig: 'a(ss)', value: allow },
  ];
}

// /proc/devices: "Character devices:\n  1 mem\n  4 /dev/vc/0\n…\nBlock devices:\n…"
export function parseProcDevices(text: string): { char: Map<number, string>; block: Map<number, string> } {
  const char = new Map<number, string>();
  const block = new Map<number, string>();
  let cur: Map<number, string> | undefined;
  for (const line of text.split('\n')) {
    if (/^Character devices:/.test(line)) cur = char;
    else if (/^Block devices:/.test(line)) cur = block;
    else {
      const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
      // the first name wins: systemd looks a name up the same way
      if (m && cur && !cur.has(Number(m[1]))) cur.set(Number(m[1]), m[2]!);
    }
  }
  return { char, block };
}
