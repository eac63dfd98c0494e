// linux.netDevices (runtime-spec 1.3): host interfaces moved into the
// container's network namespace by runt-init's stage 0 right after clone.
// The checks are runc's (libcontainer/configs/validate: netdevices).

import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { OpSpec } from './process-extras.js';
import type { Spec } from './types.js';
import { namespaceOf } from './validate.js';

const IFNAMSIZ = 16;

// dev_valid_name() in the kernel: 1-15 bytes, not "." or "..", no "/", ":"
// or whitespace.
export function validInterfaceName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < IFNAMSIZ && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

function bad(message: string, field: string, hint?: string): RuntimeError {
  return new RuntimeError(Codes.NetDeviceConfig, message, { field, hint });
}

const ptr = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

export function netDeviceOps(spec: Spec): OpSpec[] {
  const devs = spec.linux?.netDevices;
  if (!devs || Object.keys(devs).length === 0) return [];
  const net = namespaceOf(spec, 'network');
  if (!net) {
    throw bad('unable to move network devices without a NET namespace', '/linux/netDevices', 'add {"type": "network"} to linux.namespaces');
  }
  const names = new Map<string, string>();
  return Object.entries(devs).map(([host, d]) => {
    const at = `/linux/netDevices/${ptr(host)}`;
    if (!validInterfaceName(host)) throw bad(`invalid network device name ${JSON.stringify(host)}`, at);
    const name = d?.name || host;
    if (!validInterfaceName(name)) throw bad(`invalid network device name ${JSON.stringify(name)} for the container`, `${at}/name`);
    const other = names.get(name);
    if (other !== undefined && !name.includes('%d')) {
      throw bad(`network devices ${other} and ${host} would both be ${name} in the container`, `${at}/name`);
    }
    names.set(name, host);
    return {
      name: 'NET_DEVICE',
      fields: [{ s: host }, { s: name }],
      text: `move network device ${host} into the container${name !== host ? ` as ${name}` : ''}, keep its addresses and set it up`,
    };
  });
}
