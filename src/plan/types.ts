// The plan: the ordered kernel operations that create performs, as data.
// spec/to-plan.ts builds it (pure), plan/encode.ts serialises it for the
// native stage (src/native/runt-init.c), and `explain` prints it.
// The numbers must match enum plan_op in src/native/plan-format.h.

export const OP = {
  PRESERVE_FDS: 1,
  CGROUP_PROCS: 2,
  EXEC_FIFO: 3,
  JOIN_NS: 4,
  TIMENS: 5,
  IDMAP_MOUNT: 6,
  BIND_PREPARE: 7,
  CLONE: 8,
  SECCOMP_LISTENER: 9,
  NET_DEVICE: 10,
  CONSOLE_PROXY: 11,
  ATTACH_CGROUPS: 20,
  WAIT_GO: 21,
  BECOME_ROOT: 22,
  UNSHARE: 23,
  ROOT_PROPAGATION: 24,
  BIND_ROOTFS: 25,
  MOUNT: 26,
  MOVE_PREPARED: 27,
  PROPAGATION: 28,
  MKNOD: 29,
  SYMLINK: 30,
  MKDIR: 31,
  HOOKS_REQUEST: 32,
  HOOK: 33,
  PIVOT_ROOT: 34,
  CHROOT: 35,
  CONSOLE: 36,
  MASK_PATH: 37,
  READONLY_PATH: 38,
  REMOUNT_ROOT_RO: 39,
  SYSCTL: 40,
  HOSTNAME: 41,
  DOMAINNAME: 42,
  RLIMIT: 43,
  IDENTITY: 44,
  NO_NEW_PRIVS: 45,
  SECCOMP: 46,
  RESOLVE_EXEC: 47,
  READY: 48,
  EXEC: 49,
  KEYRING: 50,
  SETSID: 51,
  PROC_WRITE: 52,
  SCHEDULER: 53,
  IOPRIO: 54,
  PERSONALITY: 55,
  MEMPOLICY: 56,
  CPU_AFFINITY: 57,
  LOOPBACK_UP: 58,
} as const;

export type OpName = keyof typeof OP;

export type Field = { i: number | bigint } | { s: string } | { b: Uint8Array };

export interface PlanOp {
  name: OpName;
  fields: Field[];
  // One line for `explain` and for error messages ("mount proc on /proc").
  text: string;
}

export interface Plan {
  ops: PlanOp[];
  warnings: string[];
  // What the runtime itself must do between the init's frames.
  newUserNamespace: boolean;
  uidMap: string | undefined; // /proc/<pid>/uid_map text
  gidMap: string | undefined;
  // The native stage may make the new network namespace ahead of the clone,
  // while the runtime sets up the cgroups (runt-init.c, prenet_start): a new
  // one, and neither a user namespace, a namespace joined by path nor a
  // network device to move, which all need the clone to make it.
  netnsAhead?: boolean;
}

// clone(2) flags, for namespaces.
export const CLONE = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;
