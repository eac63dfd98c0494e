// Fuzzed config.json files, reproducible from (seed, index): a base config
// (the example bundle, plain or with hooks, devices, limits or a user
// namespace) goes through one to three mutations (wrong types, huge
// numbers, negative ids, empty or very long strings, duplicate or deleted
// entries, unknown enum values, deep nesting, missing required fields,
// values generated from the runtime-spec schema), then through a safety
// pass: whatever the mutation, a case may only fail, or create a container
// that is deleted at once, never touch the host (see makeSafe).

import fs from 'node:fs';
import { resolveCgroupsPath } from '../../src/cgroups/path.js';
import { Rng } from './rng.js';
import { SchemaIndex } from './schema-walk.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface FuzzContext {
  schemas: SchemaIndex;
  example: Obj; // bundles/busybox/config.json
  rootfs: string; // the run's private copy of the rootfs
  bindSource: string; // a host directory that may be bind mounted
  notNamespace: string; // a regular file, for namespace paths
  hostInterfaces: Set<string>;
}

export interface FuzzCase {
  index: number;
  id: string; // the container id, also the tag of everything it may make
  ops: string[];
  text: string; // config.json
}

// ---- JSON pointer helpers

type Ref = { parent: Obj | Json[]; key: string | number; pointer: string; value: Json };

function refs(root: Json): Ref[] {
  const out: Ref[] = [];
  const stack: [Json, string][] = [[root, '']];
  while (stack.length) {
    const [v, ptr] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, child] of entries) {
      const p = `${ptr}/${k}`;
      out.push({ parent: v, key: k, pointer: p, value: child });
      if (out.length < 5000) stack.push([child, p]);
    }
  }
  return out;
}

function setRef(r: Ref, value: Json): void {
  (r.parent as Record<string | number, Json>)[r.key] = value;
}

function del(r: Ref): void {
  if (Array.isArray(r.parent)) r.parent.splice(r.key as number, 1);
  else delete (r.parent as Obj)[r.key as string];
}

// Set a value at a schema path ("*" array item, "#" map key), making the
// objects and arrays on the way.
function setAt(root: Obj, tokens: string[], value: Json, rng: Rng): string {
  let cur: Obj | Json[] = root;
  const ptr: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const last = i === tokens.length - 1;
    const nextIsArray = tokens[i + 1] === '*';
    let key: string | number;
    if (tok === '*') {
      const arr = cur as Json[];
      key = arr.length && rng.chance(0.7) ? rng.int(arr.length) : arr.length;
    } else if (tok === '#') {
      const keys = Object.keys(cur);
      key = keys.length && rng.chance(0.5) ? rng.pick(keys) : rng.string(10) || 'k';
    } else key = tok;
    ptr.push(String(key));
    const c = cur as Record<string | number, Json>;
    if (last) {
      c[key] = value;
      break;
    }
    const existing = c[key];
    if (existing === null || typeof existing !== 'object' || Array.isArray(existing) !== nextIsArray) c[key] = nextIsArray ? [] : {};
    cur = c[key] as Obj | Json[];
  }
  return '/' + ptr.join('/');
}

// ---- the bases

function bases(ctx: FuzzContext): Obj[] {
  const plain = structuredClone(ctx.example);
  (plain.process as Obj).args = ['sleep', '1000'];
  (plain.process as Obj).terminal = false;
  const hooks = structuredClone(plain);
  const t = [{ path: '/bin/true' }];
  hooks.hooks = { prestart: t, createRuntime: t, createContainer: t, startContainer: t, poststart: t, poststop: t };
  const rich = structuredClone(plain);
  const linux = rich.linux as Obj;
  linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
  linux.sysctl = { 'net.core.somaxconn': '1024', 'kernel.shmmax': '65536' };
  linux.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 64 << 20 }, pids: { limit: 64 }, cpu: { shares: 512 } };
  (rich.process as Obj).rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }, { type: 'RLIMIT_NPROC', hard: 100, soft: 100 }];
  (rich.process as Obj).user = { uid: 1000, gid: 1000, additionalGids: [5, 10], umask: 18 };
  rich.mounts = [...(rich.mounts as Json[]), { destination: '/data', type: 'bind', source: ctx.bindSource, options: ['rbind', 'ro'] }, { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }];
  linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  const userns = structuredClone(plain);
  (userns.linux as Obj).namespaces = [...((userns.linux as Obj).namespaces as Json[]), { type: 'user' }, { type: 'cgroup' }];
  (userns.linux as Obj).uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  (userns.linux as Obj).gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  for (const b of [plain, hooks, rich, userns]) b.root = { path: ctx.rootfs, readonly: true };
  return [plain, plain, hooks, rich, userns];
}

// ---- the mutations: each returns a description, or undefined if it had nothing to work on

type Mutator = (cfg: Obj, rng: Rng, ctx: FuzzContext, raw: Map<string, string>) => string | undefined;

const pickRef = (cfg: Obj, rng: Rng, want?: (r: Ref) => boolean): Ref | undefined => {
  const all = refs(cfg).filter((r) => !want || want(r));
  return all.length ? rng.pick(all) : undefined;
};

const ENUM_FIELDS = /\/(type|action|defaultAction|op|rootfsPropagation|policy|class|mode|domain|architectures\/\d+|flags\/\d+|personality\/domain)$/;
const ID_FIELDS = /\/(uid|gid|additionalGids\/\d+|containerID|hostID|size|major|minor|fileMode)$/;

export const MUTATORS: Record<string, Mutator> = {
  wrongType(cfg, rng) {
    const r = pickRef(cfg, rng);
    if (!r) return undefined;
    setRef(r, rng.wrongTypeFor(typeof r.value === 'number' ? 'number' : Array.isArray(r.value) ? 'array' : r.value === null ? 'null' : typeof r.value) as Json);
    return `wrong type at ${r.pointer}`;
  },
  hugeNumber(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => typeof x.value === 'number') ?? pickRef(cfg, rng);
    if (!r) return undefined;
    setRef(r, rng.pick([2 ** 64, 2 ** 63, -(2 ** 63), 2 ** 53 + 1, 1e308, -1e308, 2 ** 32, 4294967295, -2147483649, 1.5]));
    return `huge number at ${r.pointer}`;
  },
  hugeLiteral(cfg, rng, _ctx, raw) {
    const r = pickRef(cfg, rng, (x) => typeof x.value === 'number');
    if (!r) return undefined;
    const token = `__raw_${raw.size}__`;
    raw.set(token, rng.pick(['18446744073709551616', '-9223372036854775809', '1e400', '-1e400', '123456789012345678901234567890', '0.0000000000000000000000001', '1E+2']));
    setRef(r, token);
    return `number literal beyond 64 bits at ${r.pointer}`;
  },
  negativeId(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => ID_FIELDS.test(x.pointer));
    if (!r) return undefined;
    setRef(r, rng.pick([-1, -2, -65536, -(2 ** 31), -(2 ** 32)]));
    return `negative id at ${r.pointer}`;
  },
  emptyString(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => typeof x.value === 'string');
    if (!r) return undefined;
    setRef(r, '');
    return `empty string at ${r.pointer}`;
  },
  longString(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => typeof x.value === 'string') ?? pickRef(cfg, rng);
    if (!r) return undefined;
    setRef(r, rng.pick(['a', '/', 'x/', '.']).repeat(rng.pick([4097, 65536, 1 << 20])));
    return `long string at ${r.pointer}`;
  },
  oddString(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => typeof x.value === 'string');
    if (!r) return undefined;
    setRef(r, rng.string());
    return `odd string at ${r.pointer}`;
  },
  duplicateEntry(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => Array.isArray(x.value) && x.value.length > 0);
    if (!r) return undefined;
    const arr = r.value as Json[];
    arr.push(structuredClone(rng.pick(arr)));
    return `duplicate entry in ${r.pointer}`;
  },
  duplicateNamespace(cfg, rng) {
    const ns = ((cfg.linux as Obj | undefined)?.namespaces as Json[] | undefined) ?? [];
    if (!Array.isArray(ns) || !ns.length) return undefined;
    ns.push(structuredClone(rng.pick(ns)));
    return 'duplicate namespace';
  },
  unknownEnum(cfg, rng) {
    const r = pickRef(cfg, rng, (x) => ENUM_FIELDS.test(x.pointer) && typeof x.value === 'string');
    if (!r) return undefined;
    setRef(r, rng.pick(['', 'bogus', 'SCMP_ACT_BOGUS', 'RLIMIT_BOGUS', String(r.value).toLowerCase(), String(r.value).toUpperCase(), `${String(r.value)} `, 'x'.repeat(300)]));
    return `unknown enum value at ${r.pointer}`;
  },
  deepNesting(cfg, rng, _ctx, raw) {
    const r = pickRef(cfg, rng);
    if (!r) return undefined;
    const depth = rng.pick([64, 999, 1000, 1001, 5000, 100_000]);
    const token = `__raw_${raw.size}__`;
    raw.set(token, rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    setRef(r, token);
    return `nesting ${depth} deep at ${r.pointer}`;
  },
  missingRequired(cfg, rng) {
    const required = ['/ociVersion', '/root/path', '/process/cwd', '/process/user', '/process/user/uid', '/process/args', '/linux/namespaces/0/type', '/mounts/0/destination', '/linux/devices/0/type', '/linux/devices/0/path', '/hooks/prestart/0/path', '/linux/resources/devices/0/allow', '/process/rlimits/0/type', '/linux/uidMappings/0/size', '/linux/seccomp/defaultAction'];
    const present = new Set(refs(cfg).map((x) => x.pointer));
    const candidates = required.filter((p) => present.has(p));
    if (!candidates.length) return undefined;
    const p = rng.pick(candidates);
    del(refs(cfg).find((x) => x.pointer === p)!);
    return `missing ${p}`;
  },
  randomDeletion(cfg, rng) {
    const r = pickRef(cfg, rng);
    if (!r) return undefined;
    del(r);
    return `deleted ${r.pointer}`;
  },
  schemaValue(cfg, rng, ctx) {
    const p = rng.pick(ctx.schemas.paths.filter((x) => ['linux', 'process', 'mounts', 'hooks', 'root', 'hostname', 'domainname', 'annotations', 'ociVersion'].includes(x.tokens[0]!)));
    const ptr = setAt(cfg, p.tokens, ctx.schemas.value(p.file, p.schema, rng, true) as Json, rng);
    return `schema value at ${ptr}`;
  },
  schemaInvalid(cfg, rng, ctx) {
    const p = rng.pick(ctx.schemas.paths.filter((x) => x.tokens[0] === 'linux' || x.tokens[0] === 'process' || x.tokens[0] === 'mounts'));
    const ptr = setAt(cfg, p.tokens, ctx.schemas.value(p.file, p.schema, rng, false) as Json, rng);
    return `schema-invalid value at ${ptr}`;
  },
  wholeSchemaObject(cfg, rng, ctx) {
    const top = rng.pick(ctx.schemas.paths.filter((x) => x.tokens.length === 1 || (x.tokens[0] === 'linux' && x.tokens.length === 2)));
    const ptr = setAt(cfg, top.tokens, ctx.schemas.value(top.file, top.schema, rng, true) as Json, rng);
    return `generated ${ptr} from the schema`;
  },
};

const MUTATOR_NAMES = Object.keys(MUTATORS);

// ---- safety: what a fuzzed config may point at on the host

const HOOK_POOL = ['/bin/true', '/bin/false', '/nonexistent/hook', 'bin/true', ''];
const NS_POOL = (ctx: FuzzContext): string[] => ['', '/nonexistent/ns', ctx.notNamespace, 'relative/ns'];
const SYSCTL_POOL = ['net.core.somaxconn', 'net.ipv4.ip_forward', 'kernel.shmmax', 'kernel.msgmax', 'fs.mqueue.queues_max', 'kernel.fuzz_nonexistent', '', '..', 'net..ipv4', '.net', 'net.', 'NET.IPV4.IP_FORWARD', 'net/ipv4/ip_forward'];

function isBind(m: Obj): boolean {
  const opts = Array.isArray(m.options) ? m.options : [];
  return m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
}

export function makeSafe(cfg: Json, id: string, ctx: FuzzContext, rng: Rng): void {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) return;
  // the rootfs: the run's private copy, or something that does not work
  const root = cfg.root;
  if (root && typeof root === 'object' && !Array.isArray(root) && typeof root.path === 'string') {
    const pool = [ctx.rootfs, '/nonexistent/rootfs', '', ctx.notNamespace, 'rootfs'];
    if (!pool.includes(root.path)) root.path = rng.chance(0.8) ? ctx.rootfs : rng.pick(pool);
  }
  // hooks run on the host: only harmless programs
  if (cfg.hooks && typeof cfg.hooks === 'object' && !Array.isArray(cfg.hooks)) {
    for (const list of Object.values(cfg.hooks)) {
      if (!Array.isArray(list)) continue;
      for (const h of list) if (h && typeof h === 'object' && !Array.isArray(h) && typeof h.path === 'string' && !HOOK_POOL.includes(h.path)) h.path = rng.pick(HOOK_POOL);
    }
  }
  // mounts: a bind source is a host path; a non-bind source must not name a
  // real device, and no option may remount an existing (host) superblock
  if (Array.isArray(cfg.mounts)) {
    for (const m of cfg.mounts) {
      if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
      const srcPool = isBind(m) ? [ctx.bindSource, `${ctx.rootfs}/etc`, '/nonexistent/src', 'relative/src', ''] : ['tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'shm', 'cgroup', 'none', '', 'fuzz'];
      if (m.source !== undefined && !srcPool.includes(m.source as string)) m.source = rng.pick(srcPool);
      if (Array.isArray(m.options)) m.options = m.options.filter((o) => typeof o !== 'string' || !/remount/i.test(o));
    }
  }
  const linux = cfg.linux;
  if (!linux || typeof linux !== 'object' || Array.isArray(linux)) return;
  // never join a host namespace (mount, uts: the host's mounts and hostname)
  if (Array.isArray(linux.namespaces)) {
    for (const n of linux.namespaces) {
      if (n && typeof n === 'object' && !Array.isArray(n) && typeof n.path === 'string' && !NS_POOL(ctx).includes(n.path)) n.path = rng.pick(NS_POOL(ctx));
    }
  }
  // a cgroup of the case's own (by its id), or a path runt must refuse
  if (typeof linux.cgroupsPath === 'string') {
    let own = false;
    try {
      own = resolveCgroupsPath(linux.cgroupsPath, id, false).path.includes(id);
    } catch {
      own = true; // refused: nothing is made
    }
    if (!own) linux.cgroupsPath = rng.chance(0.5) ? `/${id}` : `/${id}/${rng.pick(['a', 'b/c', 'x'.repeat(200)])}`;
  }
  if (linux.rootfsPropagation === 'shared' || linux.rootfsPropagation === 'rshared') linux.rootfsPropagation = 'rslave';
  if (linux.sysctl && typeof linux.sysctl === 'object' && !Array.isArray(linux.sysctl)) {
    const safe: Obj = {};
    for (const [k, v] of Object.entries(linux.sysctl)) safe[SYSCTL_POOL.includes(k) ? k : rng.pick(SYSCTL_POOL)] = v;
    linux.sysctl = safe;
  }
  // never move a host interface into the container
  if (linux.netDevices && typeof linux.netDevices === 'object' && !Array.isArray(linux.netDevices)) {
    const safe: Obj = {};
    for (const [k, v] of Object.entries(linux.netDevices)) safe[ctx.hostInterfaces.has(k) ? `fz${rng.int(1000)}` : k] = v;
    linux.netDevices = safe;
  }
  const sc = linux.seccomp;
  if (sc && typeof sc === 'object' && !Array.isArray(sc) && typeof sc.listenerPath === 'string' && sc.listenerPath !== '') sc.listenerPath = '/nonexistent/seccomp-agent.sock';
}

// ---- one case

export function makeCase(seed: number, index: number, ctx: FuzzContext, idPrefix: string): FuzzCase {
  const rng = Rng.forCase(seed, index);
  const id = `${idPrefix}-${index}`;
  const cfg = structuredClone(rng.pick(bases(ctx)));
  const raw = new Map<string, string>();
  const ops: string[] = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const name = rng.pick(MUTATOR_NAMES);
    const what = MUTATORS[name]!(cfg, rng, ctx, raw);
    if (what) ops.push(what);
  }
  makeSafe(cfg, id, ctx, rng);
  let text = JSON.stringify(cfg);
  for (const [token, value] of raw) text = text.replace(JSON.stringify(token), value);
  return { index, id, ops, text };
}

export function loadContext(repo: string, dirs: { rootfs: string; bindSource: string; notNamespace: string }): FuzzContext {
  let ifaces: string[] = [];
  try {
    ifaces = fs.readdirSync('/sys/class/net');
  } catch {
    // no sysfs: nothing to protect there
  }
  return {
    schemas: new SchemaIndex(`${repo}/schemas`),
    example: JSON.parse(fs.readFileSync(`${repo}/bundles/busybox/config.json`, 'utf8')) as Obj,
    ...dirs,
    hostInterfaces: new Set(ifaces),
  };
}
