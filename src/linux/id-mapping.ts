// User namespace ID mappings: the checks the kernel applies when
// /proc/<pid>/uid_map (or gid_map) is written (kernel/user_namespace.c,
// map_write), done up front so the error can name the config field instead
// of a bare EINVAL from the write. runc leaves all of this to the kernel.

import type { IdMapping } from '../spec/types.js';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';

export const MAX_ID_MAP_LINES = 340; // UID_GID_MAP_MAX_EXTENTS since Linux 4.15
export const MAX_ID_MAP_BYTES = 4095; // map_write takes one write of less than PAGE_SIZE
const U32_MAX = 0xffff_ffff;

function fail(message: string, field: string, hint?: string): never {
  throw new RuntimeError(Codes.IdMappingConfig, message, hint === undefined ? { field } : { field, hint });
}

function checkU32(v: unknown, field: string, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
    fail(`${name} ${String(v)} is not an unsigned 32-bit integer`, field);
  }
  return v;
}

function overlaps(a: number, aSize: number, b: number, bSize: number): boolean {
  return a < b + bSize && b < a + aSize;
}

// Throws IdMappingConfig naming the first bad entry. pointer is where the
// array lives, e.g. /linux/uidMappings. An empty list passes: whether one
// is needed is the caller's question.
export function validateIdMappings(maps: readonly IdMapping[] | undefined, pointer: string): void {
  const list = maps ?? [];
  if (list.length > MAX_ID_MAP_LINES) {
    fail(`too many id mappings: ${list.length}, the kernel takes at most ${MAX_ID_MAP_LINES}`, pointer);
  }
  list.forEach((m, i) => {
    const at = `${pointer}/${i}`;
    const containerID = checkU32(m.containerID, `${at}/containerID`, 'containerID');
    const hostID = checkU32(m.hostID, `${at}/hostID`, 'hostID');
    const size = checkU32(m.size, `${at}/size`, 'size');
    if (size === 0) fail('id mapping size must be greater than 0', `${at}/size`);
    // The kernel refuses first+count wrapping in u32, so ID 4294967295
    // ((uid_t)-1, "no id") can never be mapped.
    if (containerID + size > U32_MAX) {
      fail(`${at}: container ids ${containerID}+${size} run past ${U32_MAX - 1}`, at);
    }
    if (hostID + size > U32_MAX) {
      fail(`${at}: host ids ${hostID}+${size} run past ${U32_MAX - 1}`, at);
    }
    for (let j = 0; j < i; j++) {
      const o = list[j]!;
      if (overlaps(containerID, size, o.containerID, o.size)) {
        fail(`container id range overlaps ${pointer}/${j}`, at, 'each container id may be mapped only once');
      }
      if (overlaps(hostID, size, o.hostID, o.size)) {
        fail(`host id range overlaps ${pointer}/${j}`, at, 'each host id may be mapped only once');
      }
    }
  });
  const bytes = formatIdMap(list).length;
  if (bytes > MAX_ID_MAP_BYTES) {
    fail(`id mappings take ${bytes} bytes, the kernel takes at most ${MAX_ID_MAP_BYTES}`, pointer);
  }
}

// The text for /proc/<pid>/uid_map: "containerID hostID size" per line.
// It must go in with a single write(2).
export function formatIdMap(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

// The host id a container id maps to, or undefined if it is not mapped.
export function mapToHost(id: number, maps: readonly IdMapping[]): number | undefined {
  for (const m of maps) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  }
  return undefined;
}

// The container id a host id appears as, or undefined if it is not mapped.
export function mapToContainer(id: number, maps: readonly IdMapping[]): number | undefined {
  for (const m of maps) {
    if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
  }
  return undefined;
}
