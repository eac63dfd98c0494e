// The input of `update`: runc's command-line flags or a LinuxResources JSON
// document (`-r FILE`, `-r -` for stdin, what containerd's shim sends), turned
// into a Resources object with runc's parsing rules (update.go): sizes with
// docker/go-units RAMInBytes, cpu values with strconv.ParseUint/ParseInt.
// Pure: the CLI passes the flag values and the document's text.

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Resources } from '../spec/types.js';

// docker/go-units RAMInBytes: "512m", "1.5g", "100", "2 GiB"; binary units.
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function ramInBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text);
  if (!m || m[1] === undefined) return undefined;
  const size = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  return Number.isFinite(size) ? Math.trunc(size) : undefined;
}

function bad(flag: string, value: string, what: string): RuntimeError {
  return new RuntimeError(Codes.BadFlagValue, `invalid value ${JSON.stringify(value)} for --${flag}: ${what}`);
}

const INT64_MAX = 9223372036854775807n;
const UINT64_MAX = 18446744073709551615n;

function parseInteger(flag: string, value: string, signed: boolean): number {
  if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(value)) throw bad(flag, value, signed ? 'not an integer' : 'not an unsigned integer');
  const n = BigInt(value);
  if (n > (signed ? INT64_MAX : UINT64_MAX) || n < -INT64_MAX - 1n) throw bad(flag, value, 'out of range');
  return Number(n);
}

// Flag values as parsed by the CLI (undefined when not given).
export interface UpdateFlags {
  'blkio-weight'?: number;
  'cpu-period'?: string;
  'cpu-quota'?: string;
  'cpu-burst'?: string;
  'cpu-share'?: string;
  'cpu-rt-period'?: string;
  'cpu-rt-runtime'?: string;
  'cpuset-cpus'?: string;
  'cpuset-mems'?: string;
  'cpu-idle'?: string;
  memory?: string;
  'memory-swap'?: string;
  'memory-reservation'?: string;
  'kernel-memory'?: string;
  'kernel-memory-tcp'?: string;
  'pids-limit'?: number;
}

export function resourcesFromFlags(f: UpdateFlags): Resources {
  const r: Resources = {};
  const cpu: NonNullable<Resources['cpu']> = {};
  const memory: NonNullable<Resources['memory']> = {};
  if (f['blkio-weight'] !== undefined && f['blkio-weight'] !== 0) r.blockIO = { weight: f['blkio-weight'] };
  if (f['cpuset-cpus']) cpu.cpus = f['cpuset-cpus'];
  if (f['cpuset-mems']) cpu.mems = f['cpuset-mems'];
  if (f['cpu-idle']) cpu.idle = parseInteger('cpu-idle', f['cpu-idle'], true);
  for (const [flag, key] of [['cpu-burst', 'burst'], ['cpu-period', 'period'], ['cpu-rt-period', 'realtimePeriod'], ['cpu-share', 'shares']] as const) {
    const v = f[flag];
    if (v) cpu[key] = parseInteger(flag, v, false);
  }
  for (const [flag, key] of [['cpu-quota', 'quota'], ['cpu-rt-runtime', 'realtimeRuntime']] as const) {
    const v = f[flag];
    if (v) cpu[key] = parseInteger(flag, v, true);
  }
  for (const [flag, key] of [['memory', 'limit'], ['memory-swap', 'swap'], ['kernel-memory', 'kernel'], ['kernel-memory-tcp', 'kernelTCP'], ['memory-reservation', 'reservation']] as const) {
    const v = f[flag];
    if (!v) continue;
    const n = v === '-1' ? -1 : ramInBytes(v);
    if (n === undefined) throw bad(flag, v, "not a size (bytes, or a number with a unit like 512m or 1.5g, or -1 for unlimited)");
    memory[key] = n;
  }
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (Object.keys(memory).length) r.memory = memory;
  if (f['pids-limit'] !== undefined) r.pids = { limit: f['pids-limit'] };
  return r;
}

// ---- the JSON document ----------------------------------------------------------

type Kind = 'int' | 'uint' | 'string' | 'bool';
const SHAPE: Record<string, Record<string, Kind>> = {
  memory: { limit: 'int', reservation: 'int', swap: 'int', kernel: 'int', kernelTCP: 'int', swappiness: 'uint', disableOOMKiller: 'bool', useHierarchy: 'bool', checkBeforeUpdate: 'bool' },
  cpu: { shares: 'uint', quota: 'int', burst: 'uint', period: 'uint', realtimeRuntime: 'int', realtimePeriod: 'uint', cpus: 'string', mems: 'string', idle: 'int' },
  pids: { limit: 'int' },
  blockIO: { weight: 'uint', leafWeight: 'uint' },
  network: { classID: 'uint' },
};

function docError(source: string, pointer: string, what: string): RuntimeError {
  return new RuntimeError(Codes.BadFlagValue, `invalid resources document ${source}: ${pointer || '/'} ${what}`, {
    field: pointer || '/',
    hint: 'the document is a runtime-spec LinuxResources object, e.g. {"memory":{"limit":536870912},"cpu":{"shares":512}}',
  });
}

function checkKind(source: string, pointer: string, v: unknown, kind: Kind): void {
  const ok =
    kind === 'string' ? typeof v === 'string' :
    kind === 'bool' ? typeof v === 'boolean' :
    typeof v === 'number' && Number.isInteger(v) && (kind === 'int' || v >= 0);
  if (!ok) throw docError(source, pointer, `must be ${kind === 'int' ? 'an integer' : kind === 'uint' ? 'a non-negative integer' : kind === 'bool' ? 'a boolean' : 'a string'}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Parse and type-check a LinuxResources document. Unknown members are
// ignored, as Go's json.Decoder does for runc; a member of the wrong type
// is an error naming its JSON pointer.
export function parseResourcesDoc(text: string, source: string): Resources {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RuntimeError(Codes.BadFlagValue, `invalid resources document ${source}: ${(err as Error).message}`, {
      hint: 'the document is a runtime-spec LinuxResources object in JSON',
    });
  }
  if (!isObject(doc)) throw docError(source, '', 'must be a JSON object');
  for (const [section, fields] of Object.entries(SHAPE)) {
    const sec = doc[section];
    if (sec === undefined || sec === null) continue;
    if (!isObject(sec)) throw docError(source, `/${section}`, 'must be an object');
    for (const [k, kind] of Object.entries(fields)) {
      if (sec[k] !== undefined && sec[k] !== null) checkKind(source, `/${section}/${k}`, sec[k], kind);
    }
  }
  const bio = doc.blockIO;
  if (isObject(bio)) {
    for (const list of ['weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
      const l = bio[list];
      if (l === undefined || l === null) continue;
      if (!Array.isArray(l)) throw docError(source, `/blockIO/${list}`, 'must be an array');
      l.forEach((e: unknown, i) => {
        const p = `/blockIO/${list}/${i}`;
        if (!isObject(e)) throw docError(source, p, 'must be an object');
        checkKind(source, `${p}/major`, e.major, 'int');
        checkKind(source, `${p}/minor`, e.minor, 'int');
        if (list === 'weightDevice') {
          for (const k of ['weight', 'leafWeight']) if (e[k] !== undefined) checkKind(source, `${p}/${k}`, e[k], 'uint');
        } else {
          checkKind(source, `${p}/rate`, e.rate, 'uint');
        }
      });
    }
  }
  if (doc.unified !== undefined && doc.unified !== null) {
    if (!isObject(doc.unified)) throw docError(source, '/unified', 'must be an object of strings');
    for (const [k, v] of Object.entries(doc.unified)) checkKind(source, `/unified/${k}`, v, 'string');
  }
  if (doc.hugepageLimits !== undefined && doc.hugepageLimits !== null) {
    if (!Array.isArray(doc.hugepageLimits)) throw docError(source, '/hugepageLimits', 'must be an array');
    doc.hugepageLimits.forEach((e: unknown, i) => {
      if (!isObject(e)) throw docError(source, `/hugepageLimits/${i}`, 'must be an object');
      checkKind(source, `/hugepageLimits/${i}/pageSize`, e.pageSize, 'string');
      checkKind(source, `/hugepageLimits/${i}/limit`, e.limit, 'uint');
    });
  }
  // null members mean "absent" to Go's decoder; drop them.
  return JSON.parse(JSON.stringify(doc, (_k, v: unknown) => (v === null ? undefined : v))) as Resources;
}
