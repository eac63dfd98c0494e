/* The plan wire format shared by src/plan/encode.ts and runt-init.c.
 *
 * A plan is "RUNTPLN1" followed by operations. Each operation is
 *   u16 op, u16 nfields, then nfields fields;
 * each field is u8 kind ('i' = int64 LE, 's' = NUL-terminated string,
 * 'b' = bytes), u32 length, then the bytes. Everything little endian.
 *
 * Keep the numbers in step with OP in src/plan/types.ts. */
#ifndef RUNT_PLAN_FORMAT_H
#define RUNT_PLAN_FORMAT_H

#define PLAN_MAGIC "RUNTPLN1"

enum plan_op {
  /* stage 0: on the host, before clone */
  OP_PRESERVE_FDS = 1,     /* i count: fds 3..3+count-1 go to the container */
  OP_CGROUP_PROCS = 2,     /* s path: open now, the child joins by writing "0" */
  OP_EXEC_FIFO = 3,        /* s path, i uid, i gid: mkfifo + open O_PATH now, reopened for write at start */
  OP_JOIN_NS = 4,          /* i clone flag, s path */
  OP_TIMENS = 5,           /* s offsets text for /proc/self/timens_offsets */
  OP_IDMAP_MOUNT = 6,      /* i slot, s source, i recursive, s uid_map, s gid_map, i attr_set, i attr_clr, i rec_set, i rec_clr */
  OP_BIND_PREPARE = 7,     /* i slot, s source, i recursive, i attr_set, i attr_clr, i rec_set, i rec_clr */
  OP_CLONE = 8,            /* i clone flags, i stay (run mode: wait for the child and exit with its status) */
  OP_SECCOMP_LISTENER = 9, /* s path: connect to the seccomp agent's socket while still on the host */
  OP_NET_DEVICE = 10,      /* s host name, s name inside: moved into the child's netns right after clone */
  OP_CONSOLE_PROXY = 11,   /* foreground terminal without a console socket: stage 0 gets the pty master
                              (OP_CONSOLE socket fd -2) and copies between it and our stdio */
  /* the container's init, after clone */
  OP_ATTACH_CGROUPS = 20,
  OP_WAIT_GO = 21,
  OP_BECOME_ROOT = 22,
  OP_UNSHARE = 23,         /* i flags */
  OP_ROOT_PROPAGATION = 24,/* i flags */
  OP_BIND_ROOTFS = 25,     /* s rootfs */
  OP_MOUNT = 26,           /* s source, s dest, s fstype, i flags, s data, i create ('d'|'f'), i remount_flags (0 = none) */
  OP_MOVE_PREPARED = 27,   /* i slot, s dest, i create */
  OP_PROPAGATION = 28,     /* s dest, i flags */
  OP_MKNOD = 29,           /* s dest, i mode, i major, i minor, i uid, i gid */
  OP_SYMLINK = 30,         /* s target, s linkpath */
  OP_MKDIR = 31,           /* s path, i mode */
  OP_HOOKS_REQUEST = 32,
  OP_HOOK = 33,            /* s phase, s path, i timeout, i argc, s args..., i envc, s env... */
  OP_PIVOT_ROOT = 34,      /* s rootfs */
  OP_CHROOT = 35,          /* s rootfs (--no-pivot: MS_MOVE + chroot) */
  OP_CONSOLE = 36,         /* i socket fd (-2: OP_CONSOLE_PROXY's), i rows, i cols[, i bind /dev/console (default 1)] */
  OP_MASK_PATH = 37,       /* s path */
  OP_READONLY_PATH = 38,   /* s path */
  OP_REMOUNT_ROOT_RO = 39,
  OP_SYSCTL = 40,          /* s key, s value */
  OP_HOSTNAME = 41,        /* s name */
  OP_DOMAINNAME = 42,      /* s name */
  OP_RLIMIT = 43,          /* i resource, i soft, i hard (stage 0 or init) */
  OP_IDENTITY = 44,        /* i uid, i gid, i umask (-1 = 022), i ngroups, i groups..., i lastcap, i bnd_lo, i bnd_hi, i eff_lo, i eff_hi, i prm_lo, i prm_hi, i inh_lo, i inh_hi, i amb_lo, i amb_hi */
  OP_NO_NEW_PRIVS = 45,
  OP_SECCOMP = 46,         /* b sock_filter array, i flags[, i notify: hand the listener fd to the agent] */
  OP_RESOLVE_EXEC = 47,    /* s cwd, i argc, s args..., i envc, s env... */
  OP_READY = 48,           /* tell the runtime we are set up, then wait on the exec fifo */
  OP_EXEC = 49,
  OP_KEYRING = 50,         /* s name */
  OP_SETSID = 51,
  OP_PROC_WRITE = 52,      /* s path below /proc, s value (stage 0 or init): oom_score_adj, LSM attrs */
  OP_SCHEDULER = 53,       /* i policy, i flags, i nice, i priority, i runtime, i deadline, i period */
  OP_IOPRIO = 54,          /* i ioprio value (class << 13 | level) */
  OP_PERSONALITY = 55,     /* i persona */
  OP_MEMPOLICY = 56,       /* i mode | flags, b nodemask (whole longs) */
  OP_CPU_AFFINITY = 57,    /* b cpu mask (whole longs) (stage 0 or init) */
  OP_LOOPBACK_UP = 58      /* (init, in its new network namespace) */
};

/* Frames on the sync socket, both ways: u32 payload length, u8 type, payload. */
#define FRAME_PID 'P'      /* init -> runtime: decimal host pid of the container init */
#define FRAME_HOOKS 'H'    /* init -> runtime: run prestart/createRuntime hooks now */
#define FRAME_READY 'R'    /* init -> runtime: waiting on the exec fifo */
#define FRAME_ERROR 'E'    /* init -> runtime: step \t op \t syscall \t errno \t path \t message */
#define FRAME_WARN 'W'     /* init -> runtime: text */
#define FRAME_GO 'G'       /* runtime -> init: state JSON for in-container hooks */
#define FRAME_HOOKS_DONE 'h'
#define FRAME_SECCOMP 'S'  /* init -> runtime: about to install a notify filter; send the agent's state */
#define FRAME_SECCOMP_STATE 'N' /* runtime -> init: container process state JSON for the seccomp agent */

#endif
