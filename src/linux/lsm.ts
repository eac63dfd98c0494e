// Which LSMs this host has enabled, the way runc decides it: AppArmor when
// /sys/module/apparmor/parameters/enabled says Y (apparmor.IsEnabled),
// SELinux when selinuxfs is mounted (selinux.GetEnabled).

import { fs } from '../sys/fs.js';
import type { SecurityFacts } from '../spec/process-extras.js';

export function hostSecurityFacts(): SecurityFacts {
  let apparmor = false;
  try {
    apparmor = fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'latin1').startsWith('Y');
  } catch {
    // not built in
  }
  return {
    apparmor,
    selinux: fs.existsSync('/sys/fs/selinux/enforce'),
    // LSM stacking (Linux 5.8) gives each LSM its own attr directory
    apparmorExecAttr: fs.existsSync('/proc/self/attr/apparmor/exec') ? 'attr/apparmor/exec' : 'attr/exec',
  };
}
