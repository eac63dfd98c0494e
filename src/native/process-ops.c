/* Process settings beyond user and capabilities: scheduler, I/O priority,
 * personality, NUMA memory policy, CPU affinity, writes below /proc (LSM
 * labels, oom_score_adj) and the seccomp filter with its notify listener.
 *
 * Included by runt-init.c (one translation unit, so the helpers there --
 * fail, I, S, send_frame, recv_frame, sys_openat2 -- are in scope). Every
 * value was computed and validated by the runtime; this only makes the
 * syscalls and reports failures. */

#include <sys/statfs.h>
#include <sys/personality.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#define R_RESOLVE_NO_XDEV 0x01
#define R_RESOLVE_BENEATH 0x08
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* struct sched_attr, SCHED_ATTR_SIZE_VER0 (sched_setattr(2)) */
struct r_sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

static int seccomp_listener = -1; /* connected to the agent in stage 0 */

static void do_scheduler(const struct op *o)
{
  struct r_sched_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.sched_policy = (uint32_t) I(o, 0);
  a.sched_flags = (uint64_t) I(o, 1);
  a.sched_nice = (int32_t) I(o, 2);
  a.sched_priority = (uint32_t) I(o, 3);
  a.sched_runtime = (uint64_t) I(o, 4);
  a.sched_deadline = (uint64_t) I(o, 5);
  a.sched_period = (uint64_t) I(o, 6);
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
    fail("sched_setattr", errno, NULL, "set the scheduling policy %u", a.sched_policy);
}

static void do_ioprio(const struct op *o)
{
  /* IOPRIO_WHO_PROCESS = 1, pid 0 = ourselves */
  if (syscall(SYS_ioprio_set, 1, 0, (int) I(o, 0)) < 0)
    fail("ioprio_set", errno, NULL, "set the I/O priority");
}

static void do_personality(const struct op *o)
{
  if (personality((unsigned long) I(o, 0)) < 0)
    fail("personality", errno, NULL, "set the execution domain 0x%llx", (long long) I(o, 0));
}

static void do_mempolicy(const struct op *o)
{
  const struct field *mask = &o->f[1];
  if (o->nfields < 2 || mask->kind != 'b')
    fail(NULL, EINVAL, NULL, "malformed plan: memory policy without a node mask");
  /* the kernel reads maxnode - 1 bits (set_mempolicy(2), NOTES) */
  unsigned long maxnode = mask->len ? mask->len * 8 + 1 : 0;
  if (syscall(SYS_set_mempolicy, (int) I(o, 0), mask->len ? (const unsigned long *) mask->data : NULL, maxnode) < 0)
    fail("set_mempolicy", errno, NULL, "set the NUMA memory policy");
}

static void do_cpu_affinity(const struct op *o)
{
  const struct field *mask = &o->f[0];
  if (o->nfields < 1 || mask->kind != 'b' || mask->len == 0)
    fail(NULL, EINVAL, NULL, "malformed plan: CPU affinity without a mask");
  if (sched_setaffinity(0, mask->len, (const cpu_set_t *) mask->data) < 0)
    fail("sched_setaffinity", errno, NULL, "set the CPU affinity");
}

/* Write a value below /proc: LSM attributes (attr/exec, attr/apparmor/exec,
 * attr/keycreate) and oom_score_adj. Inside the container /proc is the
 * container's own, so make sure it is a real procfs and that nothing on the
 * way is a symlink out or a mount over it: a write meant for an LSM label
 * must never land in another file (runc CVE-2025-52881). */
static void do_proc_write(const char *rel, const char *value)
{
  int proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (proc < 0)
    fail("open", errno, "/proc", "open /proc to write %s", rel);
  struct statfs sf;
  if (fstatfs(proc, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
    fail(NULL, EXDEV, "/proc", "/proc is not a procfs mount; refusing to write %s", rel);
  int fd = sys_openat2(proc, rel, O_WRONLY | O_CLOEXEC, R_RESOLVE_BENEATH | R_RESOLVE_NO_MAGICLINKS | R_RESOLVE_NO_XDEV);
  if (fd < 0)
    fail("openat2", errno, rel, "open /proc/%s", rel);
  ssize_t n;
  do
    n = write(fd, value, strlen(value));
  while (n < 0 && errno == EINTR);
  if (n < 0 || (size_t) n != strlen(value))
    fail("write", n < 0 ? errno : EIO, rel, "write %s to /proc/%s", value, rel);
  close(fd);
  close(proc);
}

/* Stage 0, on the host: the listener path names a host socket, which the
 * init can no longer reach once it sits in the container's mount namespace. */
static void do_seccomp_listener(const char *path)
{
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path)
    fail(NULL, ENAMETOOLONG, path, "seccomp listenerPath %s is too long for a unix socket", path);
  strcpy(a.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    fail("socket", errno, path, "socket for the seccomp agent");
  int r;
  do
    r = connect(s, (struct sockaddr *) &a, sizeof a);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    fail("connect", errno, path, "connect to the seccomp agent at %s", path);
  seccomp_listener = s;
}

/* SCM_RIGHTS with a payload; the fd goes with the first chunk only
 * (config-linux.md, "The Container Process State"). */
static void send_fd_payload(int sock, int fd, const char *buf, size_t len, const char *what)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { (void *) buf, len };
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    fail("sendmsg", errno, NULL, "send %s", what);
  if ((size_t) n < len)
    write_all(sock, buf + n, len - (size_t) n);
}

/* Install the BPF the runtime compiled. With a notify rule the kernel hands
 * us a listener fd, which goes to the seccomp agent with the container
 * process state. The state is fetched before the filter is in place: after
 * it, the sendmsg below is the only syscall made before the agent holds the
 * fd (the runtime refuses NOTIFY on it, as runc refuses it on write). */
static void do_seccomp(const struct op *o)
{
  if (o->nfields < 2 || o->f[0].kind != 'b' || o->f[0].len % sizeof(struct sock_filter) != 0)
    fail(NULL, EINVAL, NULL, "malformed plan: seccomp filter");
  struct sock_fprog prog = { (unsigned short) (o->f[0].len / sizeof(struct sock_filter)), (struct sock_filter *) o->f[0].data };
  unsigned long flags = (unsigned long) I(o, 1);
  int notify = o->nfields > 2 && I(o, 2);
  char *state = NULL;
  uint32_t state_len_n = 0;
  if (notify) {
    if (seccomp_listener < 0)
      fail(NULL, EINVAL, NULL, "internal: no connection to the seccomp agent");
    send_frame(FRAME_SECCOMP, "", 0);
    state = recv_frame(FRAME_SECCOMP_STATE, &state_len_n);
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  }
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0)
    fail("seccomp", errno, NULL, "install the seccomp filter");
  if (notify) {
    send_fd_payload(seccomp_listener, (int) r, state, state_len_n, "the seccomp notify fd to the agent");
    close((int) r);
    close(seccomp_listener);
    seccomp_listener = -1;
    free(state);
  }
}
