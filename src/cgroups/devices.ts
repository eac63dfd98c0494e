// Device cgroup rules.
//
// runc semantics (libcontainer/specconv CreateCgroupConfig + cgroups/devices):
// - the effective rule list is the spec's linux.resources.devices, in order,
//   followed by runc's AllowedDevices defaults (minus those whose /dev path is
//   also listed in linux.devices, specconv createDevices);
// - the list is evaluated by an emulator that starts in deny-all (white-list)
//   mode; a rule of type "a" (or with no type) resets the emulator to
//   allow-all or deny-all;
// - on cgroup v1 the emulator state of the cgroup (parsed from devices.list)
//   is compared with the target and only the minimal transition is written
//   (devices/devices_emulator.go Transition), so `update` of a running
//   container never briefly denies /dev/null.
//
// cgroup v2 has no devices files: the same emulated rules become a
// BPF_PROG_TYPE_CGROUP_DEVICE program (devicefilter.ts, devices-v2.ts).

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { DeviceCgroup } from '../spec/types.js';
import type { CgroupFiles } from './fsio.js';

export type DeviceType = 'a' | 'b' | 'c';
export const WILDCARD = -1;

export interface DeviceRule {
  type: DeviceType;
  major: number; // WILDCARD (-1) for "*"
  minor: number;
  access: string; // subset of "rwm"
  allow: boolean;
}

const FIELD = '/linux/resources/devices';

interface DefaultDevice extends DeviceRule {
  path?: string;
}

// runc libcontainer/specconv AllowedDevices, in runc's order (including the
// /dev/net/tun rule runc restored for compatibility, runc#3468).
export const DEFAULT_DEVICE_RULES: readonly DefaultDevice[] = [
  { type: 'c', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true },
  { type: 'b', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true },
  { path: '/dev/null', type: 'c', major: 1, minor: 3, access: 'rwm', allow: true },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, access: 'rwm', allow: true },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, access: 'rwm', allow: true },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, access: 'rwm', allow: true },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, access: 'rwm', allow: true },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, access: 'rwm', allow: true },
  { type: 'c', major: 136, minor: WILDCARD, access: 'rwm', allow: true }, // /dev/pts/*
  { type: 'c', major: 5, minor: 2, access: 'rwm', allow: true }, // /dev/ptmx
  { type: 'c', major: 10, minor: 200, access: 'rwm', allow: true }, // /dev/net/tun
];

// Spec rules + runc defaults. linuxDevicePaths: the paths of linux.devices
// (a spec device with the same path as a default drops that default's rule).
export function effectiveDeviceRules(spec: DeviceCgroup[] | undefined, linuxDevicePaths: string[] = []): DeviceRule[] {
  const out: DeviceRule[] = [];
  (spec ?? []).forEach((d, i) => {
    const field = `${FIELD}/${i}`;
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (type !== 'a' && type !== 'b' && type !== 'c') {
      throw new RuntimeError(Codes.CgroupResource, `invalid cgroup device type ${JSON.stringify(d.type)}`, {
        field: `${field}/type`,
        hint: 'use "a", "b" or "c"',
      });
    }
    if (d.access === undefined || d.access === '') {
      throw new RuntimeError(Codes.CgroupResource, `device access at ${i} field cannot be empty`, { field: `${field}/access` });
    }
    if (!isValidAccess(d.access)) {
      throw new RuntimeError(Codes.CgroupResource, `invalid device access ${JSON.stringify(d.access)}`, {
        field: `${field}/access`,
        hint: 'access is a combination of "r", "w" and "m"',
      });
    }
    out.push({ type, major: d.major ?? WILDCARD, minor: d.minor ?? WILDCARD, access: d.access, allow: d.allow });
  });
  for (const def of DEFAULT_DEVICE_RULES) {
    if (def.path !== undefined && linuxDevicePaths.includes(def.path)) continue;
    out.push({ type: def.type, major: def.major, minor: def.minor, access: def.access, allow: def.allow });
  }
  return out;
}

function isValidAccess(a: string): boolean {
  return /^[rwm]+$/.test(a);
}

// Permissions as a canonical "rwm" subset (devices/config Permissions).
function toSet(p: string): number {
  let s = 0;
  for (const ch of p) s |= ch === 'r' ? 1 : ch === 'w' ? 2 : ch === 'm' ? 4 : 0;
  return s;
}
function fromSet(s: number): string {
  return (s & 1 ? 'r' : '') + (s & 2 ? 'w' : '') + (s & 4 ? 'm' : '');
}

interface Meta {
  type: 'b' | 'c';
  major: number;
  minor: number;
}
const metaKey = (m: Meta): string => `${m.type}:${m.major}:${m.minor}`;
function keyMeta(k: string): Meta {
  const [t, ma, mi] = k.split(':');
  return { type: t as 'b' | 'c', major: Number(ma), minor: Number(mi) };
}

export class DeviceEmulator {
  defaultAllow = false;
  rules = new Map<string, number>(); // metaKey → permission set

  isBlacklist(): boolean {
    return this.defaultAllow;
  }
  isAllowAll(): boolean {
    return this.defaultAllow && this.rules.size === 0;
  }

  private addRule(meta: Meta, perms: number): void {
    const k = metaKey(meta);
    this.rules.set(k, (this.rules.get(k) ?? 0) | perms);
  }

  private rmRule(meta: Meta, perms: number): void {
    // cgroup v1 silently ignores removal of part of a wildcard exception;
    // runc refuses instead of giving a false sense of security.
    for (const partial of [
      { type: meta.type, major: WILDCARD, minor: meta.minor },
      { type: meta.type, major: meta.major, minor: WILDCARD },
      { type: meta.type, major: WILDCARD, minor: WILDCARD },
    ]) {
      if (metaKey(partial) === metaKey(meta)) continue;
      const pp = this.rules.get(metaKey(partial)) ?? 0;
      if ((pp & perms) !== 0) {
        throw new RuntimeError(
          Codes.CgroupResource,
          `device rule ${ruleString({ ...meta, access: fromSet(perms) })} cannot punch a hole in the wildcard rule ${ruleString({ ...partial, access: fromSet(pp) })} on cgroup v1`,
          { field: FIELD },
        );
      }
    }
    const k = metaKey(meta);
    const left = (this.rules.get(k) ?? 0) & ~perms;
    if (left === 0) this.rules.delete(k);
    else this.rules.set(k, left);
  }

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      // "a" resets the whole state (runc emulator allow(nil)/deny(nil)).
      this.defaultAllow = rule.allow;
      this.rules = new Map();
      return;
    }
    const meta: Meta = { type: rule.type, major: rule.major, minor: rule.minor };
    const perms = toSet(rule.access);
    if (rule.allow === this.defaultAllow) this.rmRule(meta, perms);
    else this.addRule(meta, perms);
  }

  static build(rules: DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  // devices.list is an allow list; "a *:* rwm" means black-list mode, whose
  // deny exceptions cannot be read back (emulatorFromList).
  static fromList(text: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const f = line.trim().split(/[ :]+/);
      if (f.length !== 4) throw new Error(`malformed devices.list rule ${JSON.stringify(line)}`);
      const [node, ma, mi, perms] = f as [string, string, string, string];
      if (node === 'a') {
        e.apply({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: true });
        continue;
      }
      if (node !== 'b' && node !== 'c') throw new Error(`unknown device type ${JSON.stringify(node)}`);
      if (!isValidAccess(perms)) throw new Error(`invalid access ${JSON.stringify(perms)} in devices.list`);
      e.apply({
        type: node,
        major: ma === '*' ? WILDCARD : Number(ma),
        minor: mi === '*' ? WILDCARD : Number(mi),
        access: perms,
        allow: true,
      });
    }
    return e;
  }

  private ordered(): Array<[Meta, number]> {
    return [...this.rules.entries()]
      .map(([k, p]): [Meta, number] => [keyMeta(k), p])
      .sort(([a], [b]) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  // The exceptions to the default action, each with the opposite action, in
  // a stable order (emulator Rules() minus the leading "a" rule).
  exceptions(): DeviceRule[] {
    return this.ordered().map(([meta, perms]) => ({ ...meta, access: fromSet(perms), allow: !this.defaultAllow }));
  }

  // The minimally disruptive rules taking this state to target (Transition).
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let oldRules = this.rules;
    if (this.isBlacklist() || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: target.defaultAllow });
      oldRules = new Map();
    }
    const oldOrdered = [...oldRules.entries()]
      .map(([k, p]): [Meta, number] => [keyMeta(k), p])
      .sort(([a], [b]) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    for (const [meta, oldPerms] of oldOrdered) {
      const dropped = oldPerms & ~(target.rules.get(metaKey(meta)) ?? 0);
      if (dropped !== 0) out.push({ ...meta, access: fromSet(dropped), allow: target.defaultAllow });
    }
    for (const [meta, newPerms] of target.ordered()) {
      const gained = newPerms & ~(oldRules.get(metaKey(meta)) ?? 0);
      if (gained !== 0) out.push({ ...meta, access: fromSet(gained), allow: !target.defaultAllow });
    }
    return out;
  }

  equals(other: DeviceEmulator): boolean {
    if (this.defaultAllow !== other.defaultAllow || this.rules.size !== other.rules.size) return false;
    for (const [k, p] of this.rules) if (other.rules.get(k) !== p) return false;
    return true;
  }
}

// "c 1:3 rwm" as written to devices.allow/deny (devices/config Rule.CgroupString).
export function ruleString(r: { type: string; major: number; minor: number; access: string }): string {
  const ma = r.major === WILDCARD ? '*' : String(r.major);
  const mi = r.minor === WILDCARD ? '*' : String(r.minor);
  return `${r.type} ${ma}:${mi} ${r.access}`;
}

// cgroup v1: write the transition from the cgroup's current state
// (devices.list) to the target, then check the result (fs/devices.go Set).
export function applyDevicesV1(io: CgroupFiles, dir: string, rules: DeviceRule[], verify = true): void {
  const target = DeviceEmulator.build(rules);
  const current = DeviceEmulator.fromList(io.read(dir, 'devices.list', { field: FIELD }));
  for (const rule of current.transition(target)) {
    io.write(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleString(rule), { field: FIELD });
  }
  if (!verify) return;
  const after = DeviceEmulator.fromList(io.read(dir, 'devices.list', { field: FIELD }));
  if (!target.isBlacklist() && !after.equals(target)) {
    throw new RuntimeError(Codes.CgroupResource, `resulting devices cgroup in ${dir} doesn't precisely match the requested rules`, {
      field: FIELD,
      path: `${dir}/devices.list`,
    });
  }
  if (target.isBlacklist() !== after.isBlacklist()) {
    throw new RuntimeError(Codes.CgroupResource, `resulting devices cgroup in ${dir} doesn't match the requested mode`, {
      field: FIELD,
      path: `${dir}/devices.list`,
    });
  }
}
