/* runt-init: the native stage of runt.
 *
 * The TypeScript runtime compiles config.json into a plan (plan-format.h) and
 * spawns this program with the plan on one fd and a sync socket on another:
 *
 *   runt-init <plan-fd> <sync-fd>
 *
 * It is a dumb executor: no JSON, no policy. Stage 0 runs on the host (open
 * cgroup and fifo fds, join namespaces, prepare bind/idmapped mounts), then
 * clones the container's init, which runs every later operation in order and
 * finally execs the user process. Any failure is sent to the runtime as an
 * error frame naming the step, operation index, syscall, errno and path, so
 * the user sees the root cause (see runc#4928 for what happens otherwise).
 *
 * It must run single-threaded: setns(2) into user and mount namespaces and
 * unshare(CLONE_NEWUSER) refuse multi-threaded callers, which is why this is
 * not done from Node (DESIGN.md, facts 1-3). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "plan-format.h"

/* Constants of the new mount API and openat2, spelled out so we do not
 * depend on the libc headers having them. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define R_MOUNT_ATTR_IDMAP 0x00100000
#define R_RESOLVE_NO_MAGICLINKS 0x02
#define R_RESOLVE_IN_ROOT 0x10
#define R_RESOLVE_NO_SYMLINKS 0x04
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define SYS_keyctl_nr 250

struct r_open_how { uint64_t flags, mode, resolve; };
struct r_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

/* ---------- plan parsing ---------- */

struct field { char kind; uint32_t len; const unsigned char *data; };
struct op { int code; int nfields; struct field *f; };

static struct op *ops;
static int nops;
static int cur_op = -1;
static const char *cur_step = "start";

/* ---------- fds and state shared by the steps ---------- */

static int sync_fd = -1;
static int preserve_fds = 0;
static int cgroup_fds[64];
static int n_cgroup_fds;
/* the v2 cgroup directory to clone the init straight into
 * (clone3 CLONE_INTO_CGROUP), and which cgroup_fds entry it stands for */
static int into_cgroup_dir = -1;
static int into_cgroup_idx = -1;
static int fifo_fd = -1;      /* O_PATH fd of the exec fifo */
static int proc_fd = -1;      /* O_PATH fd of the host /proc, to reopen the fifo */
static int rootfs_fd = -1;    /* O_PATH fd of the rootfs, for RESOLVE_IN_ROOT */
static int prepared[256];     /* detached mounts prepared by stage 0 */
static char *state_json;      /* from the runtime's GO frame, fed to in-container hooks */
static size_t state_len;
static int exec_fifo_write = -1;
static char *exec_path;
static char **exec_argv;
static char **exec_envp;

/* ---------- error reporting ---------- */

static void write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    p += n;
    len -= (size_t) n;
  }
}

static void send_frame(char type, const void *payload, uint32_t len)
{
  if (sync_fd < 0)
    return;
  unsigned char hdr[5];
  memcpy(hdr, &len, 4);
  hdr[4] = (unsigned char) type;
  struct iovec iov[2] = { { hdr, 5 }, { (void *) payload, len } };
  size_t total = 5 + len, done = 0;
  while (done < total) {
    ssize_t n = writev(sync_fd, iov, 2);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    done += (size_t) n;
    /* advance the iovecs past what was written */
    size_t k = (size_t) n;
    for (int i = 0; i < 2; i++) {
      size_t take = k < iov[i].iov_len ? k : iov[i].iov_len;
      iov[i].iov_base = (char *) iov[i].iov_base + take;
      iov[i].iov_len -= take;
      k -= take;
    }
  }
}

static void clean_copy(char *dst, size_t cap, const char *src)
{
  size_t i = 0;
  for (; src && *src && i + 1 < cap; src++)
    dst[i++] = (*src == '\t' || *src == '\n') ? ' ' : *src;
  dst[i] = 0;
}

/* Report a failure and exit. After OP_READY the sync socket is closed; the
 * error then goes into the exec fifo, where `start` reads it. */
__attribute__ ((noreturn, format (printf, 4, 5)))
static void fail(const char *syscall_name, int err, const char *path, const char *fmt, ...)
{
  char msg[1024], p[1024], buf[2400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  clean_copy(p, sizeof p, path ? path : "");
  char m2[1024];
  clean_copy(m2, sizeof m2, msg);
  int n = snprintf(buf, sizeof buf, "%s\t%d\t%s\t%d\t%s\t%s", cur_step, cur_op, syscall_name ? syscall_name : "", err, p, m2);
  if (n < 0)
    n = 0;
  if ((size_t) n >= sizeof buf)
    n = sizeof buf - 1;
  if (sync_fd >= 0)
    send_frame(FRAME_ERROR, buf, (uint32_t) n);
  else if (exec_fifo_write >= 0) {
    write_all(exec_fifo_write, "E", 1);
    write_all(exec_fifo_write, buf, (size_t) n);
  } else {
    write_all(2, "runt-init: ", 11);
    write_all(2, buf, (size_t) n);
    write_all(2, "\n", 1);
  }
  _exit(1);
}

__attribute__ ((format (printf, 1, 2)))
static void warn(const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t) n >= sizeof msg)
    n = sizeof msg - 1;
  send_frame(FRAME_WARN, msg, (uint32_t) n);
}

/* ---------- small helpers ---------- */

static int64_t I(const struct op *o, int k)
{
  if (k >= o->nfields || o->f[k].kind != 'i' || o->f[k].len != 8)
    fail(NULL, EINVAL, NULL, "malformed plan: op %d field %d is not an integer", o->code, k);
  int64_t v;
  memcpy(&v, o->f[k].data, 8);
  return v;
}

static const char *S(const struct op *o, int k)
{
  if (k >= o->nfields || o->f[k].kind != 's' || o->f[k].len == 0 || o->f[k].data[o->f[k].len - 1] != 0)
    fail(NULL, EINVAL, NULL, "malformed plan: op %d field %d is not a string", o->code, k);
  return (const char *) o->f[k].data;
}

static void read_exact(int fd, void *buf, size_t len)
{
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(1); /* the runtime went away: nothing to report to */
    p += n;
    len -= (size_t) n;
  }
}

/* Wait for one frame of the given type from the runtime. */
static char *recv_frame(char want, uint32_t *len_out)
{
  unsigned char hdr[5];
  read_exact(sync_fd, hdr, 5);
  uint32_t len;
  memcpy(&len, hdr, 4);
  if (hdr[4] != (unsigned char) want)
    fail(NULL, EPROTO, NULL, "sync protocol: expected frame '%c', got '%c'", want, hdr[4]);
  if (len > (64u << 20))
    fail(NULL, EPROTO, NULL, "sync protocol: frame too large");
  char *buf = malloc(len + 1);
  if (!buf)
    fail("malloc", ENOMEM, NULL, "out of memory");
  read_exact(sync_fd, buf, len);
  buf[len] = 0;
  if (len_out)
    *len_out = len;
  return buf;
}

static int fd_path(char *buf, size_t cap, int fd)
{
  return snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
  struct r_open_how how = { flags, 0, resolve };
  int r;
  do
    r = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (r < 0 && errno == EINTR);
  return r;
}

static void write_file(const char *path, const char *data, size_t len)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    fail("open", errno, path, "open %s", path);
  ssize_t n = write(fd, data, len);
  if (n < 0 || (size_t) n != len)
    fail("write", n < 0 ? errno : EIO, path, "write %s", path);
  close(fd);
}

/* ---------- paths inside the rootfs ----------
 * Every path under the rootfs is resolved with openat2(RESOLVE_IN_ROOT), so a
 * symlink in the (untrusted) image can never lead outside the rootfs, and
 * missing components are created one level at a time under a parent fd that
 * was itself resolved that way. */

static int resolve_in_root(const char *path, int create /* 0, 'd', 'f' */, int depth);

static int create_in_parent(const char *path, int create, int depth)
{
  char tmp[4096];
  if (strlen(path) >= sizeof tmp)
    fail(NULL, ENAMETOOLONG, path, "path too long");
  strcpy(tmp, path);
  while (strlen(tmp) > 1 && tmp[strlen(tmp) - 1] == '/')
    tmp[strlen(tmp) - 1] = 0;
  char *slash = strrchr(tmp, '/');
  const char *base;
  int parent;
  if (!slash || slash == tmp) {
    parent = dup(rootfs_fd);
    base = slash ? slash + 1 : tmp;
  } else {
    *slash = 0;
    parent = resolve_in_root(tmp, 'd', depth + 1);
    base = slash + 1;
    /* e.g. a dangling symlink on the way: it is not followed out of the root */
    if (parent < 0)
      fail("openat2", errno, path, "resolve %s inside the rootfs (a dangling symlink on the way?)", tmp);
  }
  if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0 || base[0] == 0)
    fail(NULL, EINVAL, path, "refusing to create %s", path);
  if (create == 'd') {
    if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
      fail("mkdirat", errno, path, "create directory %s in the rootfs", path);
  } else {
    int fd = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EEXIST)
      fail("openat", errno, path, "create file %s in the rootfs", path);
    if (fd >= 0)
      close(fd);
  }
  close(parent);
  return 0;
}

static int resolve_in_root(const char *path, int create, int depth)
{
  if (depth > 64)
    fail(NULL, ELOOP, path, "path nests too deep");
  if (rootfs_fd < 0)
    fail(NULL, EINVAL, path, "internal: rootfs not prepared");
  const char *rel = path;
  while (*rel == '/')
    rel++;
  if (*rel == 0)
    return dup(rootfs_fd);
  int fd = sys_openat2(rootfs_fd, rel, O_PATH | O_CLOEXEC, R_RESOLVE_IN_ROOT | R_RESOLVE_NO_MAGICLINKS);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd;
  create_in_parent(rel, create, depth);
  fd = sys_openat2(rootfs_fd, rel, O_PATH | O_CLOEXEC, R_RESOLVE_IN_ROOT | R_RESOLVE_NO_MAGICLINKS);
  return fd;
}

/* A mount target inside the rootfs: resolved safely, created if asked. */
static int open_target(const char *dest, int create)
{
  int fd = resolve_in_root(dest, create, 0);
  if (fd < 0)
    fail("openat2", errno, dest, "resolve mount destination %s inside the rootfs", dest);
  if (create) {
    struct stat st;
    if (fstat(fd, &st) == 0) {
      if (create == 'd' && !S_ISDIR(st.st_mode))
        fail(NULL, ENOTDIR, dest, "mount destination %s is not a directory", dest);
      if (create == 'f' && S_ISDIR(st.st_mode))
        fail(NULL, EISDIR, dest, "mount destination %s is a directory, but the source is a file", dest);
    }
  }
  return fd;
}

/* ---------- stage 0 operations ---------- */

static int make_idmap_userns(const char *uid_map, const char *gid_map)
{
  /* A throwaway child unshares a user namespace; we write its maps from the
   * host and keep a handle to the namespace for mount_setattr(MOUNT_ATTR_IDMAP). */
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    fail("pipe2", errno, NULL, "pipe for idmap helper");
  pid_t pid = fork();
  if (pid < 0)
    fail("fork", errno, NULL, "fork idmap helper");
  if (pid == 0) {
    close(p[1]);
    if (unshare(CLONE_NEWUSER) < 0)
      _exit(1);
    char c;
    while (read(p[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(p[0]);
  char path[64];
  /* wait until the child has unshared: its ns link changes */
  char self_ns[64] = "", child_ns[64] = "";
  readlink("/proc/self/ns/user", self_ns, sizeof self_ns - 1);
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  for (int i = 0; i < 10000; i++) {
    memset(child_ns, 0, sizeof child_ns);
    if (readlink(path, child_ns, sizeof child_ns - 1) > 0 && strcmp(child_ns, self_ns) != 0)
      break;
    usleep(100);
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  write_file(path, uid_map, strlen(uid_map));
  snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
  write_file(path, "deny", 4);
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  write_file(path, gid_map, strlen(gid_map));
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail("open", errno, path, "open idmap user namespace");
  close(p[1]);
  waitpid(pid, NULL, 0);
  return fd;
}

static void prepare_mount(const struct op *o, int idmap)
{
  int slot = (int) I(o, 0);
  const char *src = S(o, 1);
  int recursive = (int) I(o, 2);
  int base = idmap ? 5 : 3;
  if (slot < 0 || slot >= 256)
    fail(NULL, EINVAL, NULL, "bad prepared mount slot");
  int fd = (int) syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (fd < 0)
    fail("open_tree", errno, src, "open bind mount source %s", src);
  struct r_mount_attr attr = { (uint64_t) I(o, base), (uint64_t) I(o, base + 1), 0, 0 };
  if (idmap) {
    int ns = make_idmap_userns(S(o, 3), S(o, 4));
    attr.attr_set |= R_MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t) ns;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
      fail("mount_setattr", errno, src, "idmap mount of %s", src);
    close(ns);
    attr.attr_set &= ~(uint64_t) R_MOUNT_ATTR_IDMAP;
    attr.userns_fd = 0;
  }
  if (attr.attr_set || attr.attr_clr) {
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
      fail("mount_setattr", errno, src, "set attributes of bind mount %s", src);
  }
  struct r_mount_attr rec = { (uint64_t) I(o, base + 2), (uint64_t) I(o, base + 3), 0, 0 };
  if (rec.attr_set || rec.attr_clr) {
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &rec, sizeof rec) < 0)
      fail("mount_setattr", errno, src, "set recursive attributes of bind mount %s", src);
  }
  prepared[slot] = fd;
}

static const char *ns_name(int64_t flag)
{
  switch (flag) {
  case CLONE_NEWUSER: return "user";
  case CLONE_NEWNS: return "mount";
  case CLONE_NEWPID: return "pid";
  case CLONE_NEWNET: return "network";
  case CLONE_NEWIPC: return "ipc";
  case CLONE_NEWUTS: return "uts";
  case CLONE_NEWCGROUP: return "cgroup";
  case CLONE_NEWTIME: return "time";
  }
  return "?";
}

/* Join every namespace given by path. A namespace owned by the host user
 * namespace must be joined before we enter a joined user namespace (we lose
 * host privileges there), one owned by the joined user namespace after it;
 * so try all non-user ones first, then the user one, then retry. */
static void join_namespaces(int first, int last)
{
  int fds[16], flags[16], n = 0, user_idx = -1;
  for (int i = first; i < last && n < 16; i++) {
    if (ops[i].code != OP_JOIN_NS)
      continue;
    cur_op = i;
    const char *path = S(&ops[i], 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      fail("open", errno, path, "open %s namespace %s", ns_name(I(&ops[i], 0)), path);
    fds[n] = fd;
    flags[n] = (int) I(&ops[i], 0);
    if (flags[n] == CLONE_NEWUSER)
      user_idx = n;
    n++;
  }
  int done[16] = { 0 };
  for (int pass = 0; pass < 2; pass++) {
    for (int k = 0; k < n; k++) {
      if (done[k] || k == user_idx)
        continue;
      if (setns(fds[k], flags[k]) == 0)
        done[k] = 1;
      else if (pass == 1 || user_idx < 0)
        fail("setns", errno, NULL, "join %s namespace", ns_name(flags[k]));
    }
    if (pass == 0 && user_idx >= 0) {
      if (setns(fds[user_idx], CLONE_NEWUSER) < 0)
        fail("setns", errno, NULL, "join user namespace");
      done[user_idx] = 1;
    }
  }
  for (int k = 0; k < n; k++)
    close(fds[k]);
}

/* ---------- in-container operations ---------- */

/* proc and sysfs go only on an ordinary directory reached without a
 * symlink, as in runc ("must be mounted on ordinary directory"): an image
 * that redirects /proc would get what the runtime later writes there
 * (CVE-2019-16884). */
static void check_ordinary_dir(const char *fstype, const char *dest)
{
  const char *rel = dest;
  while (*rel == '/')
    rel++;
  int fd = sys_openat2(rootfs_fd, *rel ? rel : ".", O_PATH | O_CLOEXEC, R_RESOLVE_IN_ROOT | R_RESOLVE_NO_SYMLINKS);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
    fail("openat2", fd < 0 ? errno : ENOTDIR, dest, "filesystem %s must be mounted on an ordinary directory; %s is a symlink or not a directory", fstype, dest);
  close(fd);
}

static void do_mount(const struct op *o)
{
  const char *src = S(o, 0), *dest = S(o, 1), *fstype = S(o, 2), *data = S(o, 4);
  unsigned long flags = (unsigned long) I(o, 3);
  int create = (int) I(o, 5);
  unsigned long remount = (unsigned long) I(o, 6);
  int fd = open_target(dest, create);
  if (strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0)
    check_ordinary_dir(fstype, dest);
  char target[64];
  fd_path(target, sizeof target, fd);
  if (mount(src, target, fstype, flags, data[0] ? data : NULL) < 0)
    fail("mount", errno, dest, "mount %s (%s) on %s", src, fstype, dest);
  close(fd);
  if (remount) {
    /* reopen: the old fd points below the new mount */
    fd = open_target(dest, 0);
    fd_path(target, sizeof target, fd);
    if (mount(NULL, target, NULL, remount, NULL) < 0)
      fail("mount", errno, dest, "remount %s", dest);
    close(fd);
  }
}

static void do_move_prepared(const struct op *o)
{
  int slot = (int) I(o, 0);
  const char *dest = S(o, 1);
  if (slot < 0 || slot >= 256 || prepared[slot] < 0)
    fail(NULL, EINVAL, dest, "internal: no prepared mount for %s", dest);
  int fd = open_target(dest, (int) I(o, 2));
  if (syscall(SYS_move_mount, prepared[slot], "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail("move_mount", errno, dest, "bind mount on %s", dest);
  close(fd);
  close(prepared[slot]);
  prepared[slot] = -1;
}

static void do_propagation(const struct op *o)
{
  const char *dest = S(o, 0);
  int fd = open_target(dest, 0);
  char target[64];
  fd_path(target, sizeof target, fd);
  if (mount(NULL, target, NULL, (unsigned long) I(o, 1), NULL) < 0)
    fail("mount", errno, dest, "set propagation of %s", dest);
  close(fd);
}

static void do_mknod(const struct op *o)
{
  const char *dest = S(o, 0);
  mode_t mode = (mode_t) I(o, 1);
  dev_t dev = makedev((unsigned) I(o, 2), (unsigned) I(o, 3));
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", dest);
  char *slash = strrchr(dir, '/');
  if (!slash || slash[1] == 0)
    fail(NULL, EINVAL, dest, "bad device path %s", dest);
  *slash = 0;
  int parent = resolve_in_root(dir[0] ? dir : "/", 'd', 0);
  if (parent < 0)
    fail("openat2", errno, dir, "resolve %s inside the rootfs", dir);
  /* O_PATH fds cannot be used for mknodat; reopen the directory for real */
  char pp[64];
  fd_path(pp, sizeof pp, parent);
  int dfd = open(pp, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dfd < 0)
    fail("open", errno, dir, "open %s", dir);
  const char *base = slash + 1;
  if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
    fail("unlinkat", errno, dest, "replace %s", dest);
  if (mknodat(dfd, base, mode, dev) < 0)
    fail("mknodat", errno, dest, "create device %s", dest);
  /* chown and chmod the node we made, through an fd, never what a racing
   * process put in its place: fchmodat(2) follows a symlink, and before
   * pivot_root an absolute one leads to the host */
  int nfd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat nst;
  if (nfd < 0 || fstat(nfd, &nst) < 0 || (nst.st_mode & S_IFMT) != (mode & S_IFMT))
    fail("openat", nfd < 0 ? errno : EEXIST, dest, "device %s was replaced while it was created", dest);
  if (fchownat(nfd, "", (uid_t) I(o, 4), (gid_t) I(o, 5), AT_EMPTY_PATH) < 0)
    fail("fchownat", errno, dest, "chown device %s", dest);
  char np[64];
  fd_path(np, sizeof np, nfd);
  if (chmod(np, mode & 07777) < 0)
    fail("chmod", errno, dest, "chmod device %s", dest);
  close(nfd);
  close(dfd);
  close(parent);
}

static void do_symlink(const struct op *o)
{
  const char *target = S(o, 0), *link = S(o, 1);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", link);
  char *slash = strrchr(dir, '/');
  if (!slash || slash[1] == 0)
    fail(NULL, EINVAL, link, "bad symlink path %s", link);
  *slash = 0;
  int parent = resolve_in_root(dir[0] ? dir : "/", 'd', 0);
  if (parent < 0)
    fail("openat2", errno, dir, "resolve %s inside the rootfs", dir);
  char pp[64];
  fd_path(pp, sizeof pp, parent);
  int dfd = open(pp, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dfd < 0)
    fail("open", errno, dir, "open %s", dir);
  if (symlinkat(target, dfd, slash + 1) < 0 && errno != EEXIST)
    fail("symlinkat", errno, link, "create symlink %s -> %s", link, target);
  close(dfd);
  close(parent);
}

/* Run one hook: fork, state JSON on stdin, wait with a timeout via pidfd. */
static void run_hook(const struct op *o)
{
  const char *phase = S(o, 0), *path = S(o, 1);
  int64_t timeout = I(o, 2);
  int k = 3;
  int argc = (int) I(o, k++);
  char **argv = calloc((size_t) argc + 2, sizeof *argv);
  for (int i = 0; i < argc; i++)
    argv[i] = (char *) S(o, k++);
  if (argc == 0)
    argv[0] = (char *) path;
  int envc = (int) I(o, k++);
  char **envp = calloc((size_t) envc + 1, sizeof *envp);
  for (int i = 0; i < envc; i++)
    envp[i] = (char *) S(o, k++);
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    fail("pipe2", errno, path, "%s hook pipe", phase);
  pid_t pid = fork();
  if (pid < 0)
    fail("fork", errno, path, "%s hook %s", phase, path);
  if (pid == 0) {
    dup2(in[0], 0);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execve(path, argv, envp);
    _exit(127);
  }
  close(in[0]);
  /* a hook that exits without reading its stdin must not kill us with SIGPIPE */
  signal(SIGPIPE, SIG_IGN);
  write_all(in[1], state_json ? state_json : "{}", state_json ? state_len : 2);
  close(in[1]);
  int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
  if (pfd >= 0 && timeout > 0) {
    struct pollfd p = { pfd, POLLIN, 0 };
    int r;
    do
      r = poll(&p, 1, timeout > INT_MAX / 1000 ? INT_MAX : (int) (timeout * 1000));
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      fail(NULL, ETIMEDOUT, path, "%s hook %s timed out after %lld s", phase, path, (long long) timeout);
    }
  }
  if (pfd >= 0)
    close(pfd);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  signal(SIGPIPE, SIG_DFL);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    fail("execve", ENOENT, path, "%s hook %s could not be executed", phase, path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      fail(NULL, ECANCELED, path, "%s hook %s was killed by signal %d", phase, path, WTERMSIG(status));
    fail(NULL, ECANCELED, path, "%s hook %s exited with status %d", phase, path, WEXITSTATUS(status));
  }
  free(argv);
  free(envp);
}

static void do_pivot_root(const char *rootfs)
{
  /* pivot_root(".", ".") then detach the old root: no temporary directory is
   * needed (the trick runc and lxc use). Make the old root a slave first so
   * unmounting it never propagates to the host. */
  int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (oldroot < 0)
    fail("open", errno, "/", "open old root");
  if (chdir(rootfs) < 0)
    fail("chdir", errno, rootfs, "chdir to rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    fail("pivot_root", errno, rootfs, "pivot_root into %s", rootfs);
  if (fchdir(oldroot) < 0)
    fail("fchdir", errno, NULL, "enter old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    fail("mount", errno, NULL, "make old root a slave");
  if (umount2(".", MNT_DETACH) < 0)
    fail("umount2", errno, NULL, "detach old root");
  if (chdir("/") < 0)
    fail("chdir", errno, "/", "chdir to the new root");
  close(oldroot);
}

static void do_chroot(const char *rootfs)
{
  if (chdir(rootfs) < 0)
    fail("chdir", errno, rootfs, "chdir to rootfs");
  if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    fail("mount", errno, rootfs, "move rootfs to /");
  if (chroot(".") < 0)
    fail("chroot", errno, rootfs, "chroot into rootfs");
  if (chdir("/") < 0)
    fail("chdir", errno, "/", "chdir to the new root");
}

static void send_fd(int sock, int fd, const char *name)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { (void *) name, strlen(name) };
  struct msghdr msg = { 0 };
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) < 0)
    fail("sendmsg", errno, NULL, "send the pty master to the console socket");
}

/* terminal: true. The pty comes from the container's own devpts; its master
 * goes to the console socket, its slave becomes our stdio and controlling
 * terminal, and is bind mounted on /dev/console. */
static int proxy_child_sock(void);

static void do_console(const struct op *o)
{
  int sock = (int) I(o, 0);
  if (sock == -2)
    sock = proxy_child_sock();
  int rows = (int) I(o, 1), cols = (int) I(o, 2);
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    fail("open", errno, "/dev/ptmx", "open the container's /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    fail("ioctl", errno, "/dev/ptmx", "unlock pty");
  int n;
  if (ioctl(master, TIOCGPTN, &n) < 0)
    fail("ioctl", errno, "/dev/ptmx", "get pty number");
  char slave_path[64];
  snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", n);
  if (rows > 0 || cols > 0) {
    struct winsize ws = { (unsigned short) rows, (unsigned short) cols, 0, 0 };
    ioctl(master, TIOCSWINSZ, &ws);
  }
  int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    fail("open", errno, slave_path, "open pty slave");
  send_fd(sock, master, slave_path);
  close(master);
  close(sock);
  /* /dev/console: bind the slave over a file we create if needed; not for
   * exec, whose terminal is its own (runc setupConsole(mount=false)) */
  if (o->nfields < 4 || I(o, 3)) {
    int cfd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (cfd >= 0)
      close(cfd);
    if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
      fail("mount", errno, "/dev/console", "bind %s on /dev/console", slave_path);
  }
  if (setsid() < 0 && errno != EPERM)
    fail("setsid", errno, NULL, "new session for the terminal");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    fail("ioctl", errno, slave_path, "make the pty our controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      fail("dup2", errno, slave_path, "pty as stdio");
  if (slave > 2)
    close(slave);
}

static int open_no_magic(const char *path)
{
  return sys_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC, R_RESOLVE_NO_MAGICLINKS);
}

static void do_mask(const char *path)
{
  int fd = open_no_magic(path);
  if (fd < 0) {
    if (errno == ENOENT)
      return;
    fail("openat2", errno, path, "open masked path %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0)
    fail("fstat", errno, path, "stat masked path %s", path);
  char target[64];
  fd_path(target, sizeof target, fd);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,nr_inodes=1") < 0)
      fail("mount", errno, path, "mask directory %s", path);
  } else {
    /* only the real null device may be bound over a masked file
     * (CVE-2025-31133: /dev/null replaced by a symlink or another file) */
    int null = sys_openat2(AT_FDCWD, "/dev/null", O_PATH | O_CLOEXEC, R_RESOLVE_NO_MAGICLINKS);
    struct stat ns;
    if (null < 0 || fstat(null, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
      fail(NULL, EPERM, "/dev/null", "/dev/null in the container is not the null device; cannot mask %s", path);
    char src[64];
    fd_path(src, sizeof src, null);
    if (mount(src, target, NULL, MS_BIND, NULL) < 0)
      fail("mount", errno, path, "mask %s", path);
    close(null);
  }
  close(fd);
}

/* Flags a bind remount must keep: in a user namespace the kernel refuses to
 * drop nosuid/nodev/noexec/atime flags that the mount already has. */
static unsigned long locked_flags(const char *path)
{
  struct statvfs s;
  unsigned long f = 0;
  if (statvfs(path, &s) < 0)
    return 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static void do_readonly(const char *path)
{
  int fd = open_no_magic(path);
  if (fd < 0) {
    if (errno == ENOENT)
      return;
    fail("openat2", errno, path, "open read-only path %s", path);
  }
  char target[64];
  fd_path(target, sizeof target, fd);
  if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    fail("mount", errno, path, "bind %s for read-only", path);
  close(fd);
  fd = open_no_magic(path);
  if (fd < 0)
    fail("openat2", errno, path, "reopen read-only path %s", path);
  fd_path(target, sizeof target, fd);
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(target), NULL) < 0)
    fail("mount", errno, path, "remount %s read-only", path);
  close(fd);
}

static void do_sysctl(const char *key, const char *value)
{
  char path[512];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", key);
  if (n < 0 || (size_t) n >= sizeof path)
    fail(NULL, ENAMETOOLONG, key, "sysctl name too long");
  for (char *p = path + 10; *p; p++)
    if (*p == '.')
      *p = '/';
  int fd = sys_openat2(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, R_RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    fail("open", errno, path, "sysctl %s", key);
  if (write(fd, value, strlen(value)) < 0)
    fail("write", errno, path, "sysctl %s=%s", key, value);
  close(fd);
}

static int capset_sets(uint32_t eff[2], uint32_t prm[2], uint32_t inh[2])
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  for (int i = 0; i < 2; i++) {
    d[i].effective = eff[i];
    d[i].permitted = prm[i];
    d[i].inheritable = inh[i];
  }
  return (int) syscall(SYS_capset, &h, d);
}

static int has_cap(uint32_t set[2], int cap)
{
  return (set[cap / 32] >> (cap % 32)) & 1;
}

/* stdio that was created outside the container (pipes, the pty) must belong
 * to the container user, or it cannot reopen /proc/self/fd/N (runc
 * fixStdioPermissions). Regular files and /dev/null are left alone. */
static void fix_stdio(uid_t uid, gid_t gid)
{
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid == uid)
      continue;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
      continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
      continue;
    if (fchown(fd, uid, gid) < 0 && errno != EINVAL && errno != EPERM)
      fail("fchown", errno, NULL, "chown stdio fd %d", fd);
  }
}

static void do_identity(const struct op *o)
{
  int k = 0;
  uid_t uid = (uid_t) I(o, k++);
  gid_t gid = (gid_t) I(o, k++);
  int64_t um = I(o, k++);
  int ngroups = (int) I(o, k++);
  gid_t *groups = calloc((size_t) ngroups + 1, sizeof *groups);
  for (int i = 0; i < ngroups; i++)
    groups[i] = (gid_t) I(o, k++);
  int lastcap = (int) I(o, k++);
  uint32_t bnd[2], eff[2], prm[2], inh[2], amb[2];
  uint32_t *sets[5] = { bnd, eff, prm, inh, amb };
  for (int s = 0; s < 5; s++) {
    sets[s][0] = (uint32_t) I(o, k++);
    sets[s][1] = (uint32_t) I(o, k++);
  }
  fix_stdio(uid, gid);
  /* bounding set first: dropping needs CAP_SETPCAP, which we still have */
  for (int c = 0; c <= lastcap; c++)
    if (!has_cap(bnd, c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      fail("prctl", errno, NULL, "drop capability %d from the bounding set", c);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    fail("prctl", errno, NULL, "PR_SET_KEEPCAPS");
  if (setgroups((size_t) ngroups, groups) < 0 && !(errno == EPERM && ngroups == 0))
    fail("setgroups", errno, NULL, "set additional groups");
  if (setresgid(gid, gid, gid) < 0)
    fail("setresgid", errno, NULL, "switch to gid %u", gid);
  if (setresuid(uid, uid, uid) < 0)
    fail("setresuid", errno, NULL, "switch to uid %u", uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    fail("prctl", errno, NULL, "PR_SET_KEEPCAPS");
  if (capset_sets(eff, prm, inh) < 0)
    fail("capset", errno, NULL, "set capabilities");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* like runc: an ambient capability that cannot be raised (it must be
   * permitted and inheritable too) is a warning, not a failure */
  for (int c = 0; c <= lastcap; c++)
    if (has_cap(amb, c) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      warn("cannot raise ambient capability %d: it must also be in the permitted and inheritable sets", c);
  umask(um < 0 ? 022 : (mode_t) um);
  free(groups);
  /* a uid change resets dumpable to fs.suid_dumpable; we stay unreachable
   * from the container until execve (CVE-2016-9962) */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static const char *env_get(char **envp, const char *name)
{
  size_t n = strlen(name);
  for (char **e = envp; e && *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

/* HOME from the container's /etc/passwd when the config did not set it. */
static char *home_for(uid_t uid)
{
  FILE *f = fopen("/etc/passwd", "re");
  static char home[1024];
  if (!f)
    return "/";
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    char *fields[7] = { 0 };
    int nf = 0;
    char *p = line;
    fields[nf++] = p;
    while (*p && nf < 7) {
      if (*p == ':') {
        *p = 0;
        fields[nf++] = p + 1;
      }
      p++;
    }
    if (nf >= 6 && (uid_t) strtoul(fields[2], NULL, 10) == uid) {
      snprintf(home, sizeof home, "%s", fields[5]);
      fclose(f);
      return home;
    }
  }
  fclose(f);
  return "/";
}

static void do_resolve_exec(const struct op *o)
{
  int k = 0;
  const char *cwd = S(o, k++);
  int argc = (int) I(o, k++);
  exec_argv = calloc((size_t) argc + 1, sizeof *exec_argv);
  for (int i = 0; i < argc; i++)
    exec_argv[i] = (char *) S(o, k++);
  int envc = (int) I(o, k++);
  exec_envp = calloc((size_t) envc + 2, sizeof *exec_envp);
  for (int i = 0; i < envc; i++)
    exec_envp[i] = (char *) S(o, k++);
  if (!env_get(exec_envp, "HOME")) {
    char *home = home_for(getuid());
    size_t len = strlen(home) + 6;
    exec_envp[envc] = malloc(len);
    snprintf(exec_envp[envc], len, "HOME=%s", home);
  }
  if (chdir(cwd) < 0)
    fail("chdir", errno, cwd, "change to the working directory %s", cwd);
  /* The working directory must be below our root: a cwd such as
   * /proc/self/fd/N would reach a host directory we still hold open
   * (CVE-2024-21626). getcwd(3) fails with ENOENT for an unreachable
   * directory (runc verifyCwd). */
  char wd[4096];
  errno = 0;
  if (!getcwd(wd, sizeof wd) || wd[0] != '/')
    fail("getcwd", errno ? errno : ENOENT, cwd, "the working directory %s is outside the container", cwd);
  if (argc == 0)
    fail(NULL, EINVAL, NULL, "process.args is empty");
  const char *name = exec_argv[0];
  if (strchr(name, '/')) {
    exec_path = (char *) name;
    if (access(name, X_OK) < 0)
      fail("access", errno, name, "exec %s", name);
    return;
  }
  const char *path = env_get(exec_envp, "PATH");
  if (!path)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char cand[4096];
  int err = ENOENT;
  while (*path) {
    const char *end = strchr(path, ':');
    size_t n = end ? (size_t) (end - path) : strlen(path);
    snprintf(cand, sizeof cand, "%.*s/%s", (int) (n ? n : 1), n ? path : ".", name);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(cand, X_OK) == 0) {
        exec_path = strdup(cand);
        return;
      }
      err = EACCES;
    }
    path += n;
    if (*path == ':')
      path++;
  }
  fail("execve", err, name, "executable file \"%s\" not found in $PATH", name);
}

/* Tell the runtime we are ready, then block until `start` opens the exec
 * fifo. The write end stays open (close-on-exec) until execve succeeds, so
 * `start` knows exactly when the user process runs, and sees our error text
 * if a startContainer hook or the exec fails. */
static void do_ready(void)
{
  send_frame(FRAME_READY, "", 0);
  close(sync_fd);
  sync_fd = -1;
  if (fifo_fd < 0 || proc_fd < 0)
    fail(NULL, EINVAL, NULL, "internal: no exec fifo");
  char rel[64];
  snprintf(rel, sizeof rel, "self/fd/%d", fifo_fd);
  int fd;
  do
    fd = openat(proc_fd, rel, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    fail("open", errno, "exec.fifo", "open the exec fifo");
  close(proc_fd);
  close(fifo_fd);
  proc_fd = fifo_fd = -1;
  exec_fifo_write = fd;
  write_all(fd, "0", 1);
}

static void do_exec(void)
{
  /* Nothing of ours may reach the container (CVE-2024-21626): everything
   * above stdio and the preserved fds closes on exec. */
  syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  execve(exec_path, exec_argv, exec_envp);
  fail("execve", errno, exec_path, "exec %s", exec_path);
}

static void reset_signals(void)
{
  /* Node ignores SIGPIPE; none of the runtime's dispositions may leak. */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal(s, SIG_DFL);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
}

static void do_rlimit(const struct op *o)
{
  struct rlimit rl = { (rlim_t) I(o, 1), (rlim_t) I(o, 2) };
  if (setrlimit((int) I(o, 0), &rl) < 0)
    fail("setrlimit", errno, NULL, "set rlimit %lld to %llu/%llu", (long long) I(o, 0),
         (unsigned long long) rl.rlim_cur, (unsigned long long) rl.rlim_max);
}

#include "process-ops.c"
#include "netdev.c"
#include "console-proxy.c"

static int proxy_child_sock(void)
{
  if (proxy_sock[1] < 0)
    fail(NULL, EINVAL, NULL, "internal: no terminal proxy");
  return proxy_sock[1];
}

/* ---------- main ---------- */

static void load_plan(int fd)
{
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf)
        fail("realloc", ENOMEM, NULL, "plan too large");
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("read", errno, NULL, "read plan");
    if (n == 0)
      break;
    len += (size_t) n;
  }
  close(fd);
  if (len < 8 || memcmp(buf, PLAN_MAGIC, 8) != 0)
    fail(NULL, EINVAL, NULL, "not a runt plan");
  size_t pos = 8;
  int cap_ops = 64;
  ops = calloc((size_t) cap_ops, sizeof *ops);
  while (pos < len) {
    if (pos + 4 > len)
      fail(NULL, EINVAL, NULL, "truncated plan");
    uint16_t code, nf;
    memcpy(&code, buf + pos, 2);
    memcpy(&nf, buf + pos + 2, 2);
    pos += 4;
    if (nops == cap_ops) {
      cap_ops *= 2;
      ops = realloc(ops, (size_t) cap_ops * sizeof *ops);
    }
    struct op *o = &ops[nops++];
    o->code = code;
    o->nfields = nf;
    o->f = calloc((size_t) nf + 1, sizeof *o->f);
    for (int i = 0; i < nf; i++) {
      if (pos + 5 > len)
        fail(NULL, EINVAL, NULL, "truncated plan");
      o->f[i].kind = (char) buf[pos];
      memcpy(&o->f[i].len, buf + pos + 1, 4);
      pos += 5;
      if (o->f[i].len > len - pos)
        fail(NULL, EINVAL, NULL, "truncated plan");
      o->f[i].data = buf + pos;
      pos += o->f[i].len;
    }
  }
}

static const char *step_name(int code)
{
  switch (code) {
  case OP_PRESERVE_FDS: return "preserve-fds";
  case OP_CGROUP_PROCS: return "cgroup";
  case OP_EXEC_FIFO: return "exec-fifo";
  case OP_JOIN_NS: return "join-namespace";
  case OP_TIMENS: return "time-namespace";
  case OP_IDMAP_MOUNT: return "idmap-mount";
  case OP_BIND_PREPARE: return "bind-mount";
  case OP_CLONE: return "clone";
  case OP_ATTACH_CGROUPS: return "cgroup";
  case OP_WAIT_GO: return "id-mappings";
  case OP_BECOME_ROOT: return "user-namespace";
  case OP_UNSHARE: return "unshare";
  case OP_ROOT_PROPAGATION: return "rootfs-propagation";
  case OP_BIND_ROOTFS: return "rootfs";
  case OP_MOUNT: return "mount";
  case OP_MOVE_PREPARED: return "mount";
  case OP_PROPAGATION: return "mount-propagation";
  case OP_MKNOD: return "device";
  case OP_SYMLINK: return "symlink";
  case OP_MKDIR: return "mkdir";
  case OP_HOOKS_REQUEST: return "hooks";
  case OP_HOOK: return "hook";
  case OP_PIVOT_ROOT: return "pivot-root";
  case OP_CHROOT: return "chroot";
  case OP_CONSOLE: return "console";
  case OP_MASK_PATH: return "masked-path";
  case OP_READONLY_PATH: return "readonly-path";
  case OP_REMOUNT_ROOT_RO: return "readonly-rootfs";
  case OP_SYSCTL: return "sysctl";
  case OP_HOSTNAME: return "hostname";
  case OP_DOMAINNAME: return "domainname";
  case OP_RLIMIT: return "rlimit";
  case OP_IDENTITY: return "user";
  case OP_NO_NEW_PRIVS: return "no-new-privileges";
  case OP_SECCOMP: return "seccomp";
  case OP_RESOLVE_EXEC: return "exec";
  case OP_READY: return "wait-start";
  case OP_EXEC: return "exec";
  case OP_KEYRING: return "keyring";
  case OP_SETSID: return "setsid";
  case OP_SECCOMP_LISTENER: return "seccomp-listener";
  case OP_NET_DEVICE: return "net-device";
  case OP_CONSOLE_PROXY: return "console";
  case OP_PROC_WRITE: return "proc-write";
  case OP_SCHEDULER: return "scheduler";
  case OP_IOPRIO: return "io-priority";
  case OP_PERSONALITY: return "personality";
  case OP_MEMPOLICY: return "memory-policy";
  case OP_CPU_AFFINITY: return "cpu-affinity";
  case OP_LOOPBACK_UP: return "loopback";
  }
  return "unknown";
}

static int run_child(void *arg);
static int child_first_op;

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
struct runt_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* clone3(CLONE_INTO_CGROUP) when there is a v2 cgroup to join: fork-like
 * (no CLONE_VM, the child runs on a copy of our stack). Returns the pid, 0
 * in the child, or -1 when clone3 or the cgroup is not usable here (old
 * kernel, a v2 rule the write would report better); the caller then clones
 * the old way and the child writes cgroup.procs. */
static pid_t clone_into_cgroup(int flags)
{
  if (into_cgroup_dir < 0)
    return -1;
  struct runt_clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = (uint64_t) (unsigned) flags | CLONE_INTO_CGROUP;
  a.exit_signal = SIGCHLD;
  a.cgroup = (uint64_t) into_cgroup_dir;
  pid_t pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0)
    return -1;
  if (pid == 0) {
    /* already a member: the child must not write that cgroup.procs again */
    close(cgroup_fds[into_cgroup_idx]);
    cgroup_fds[into_cgroup_idx] = -1;
  }
  close(into_cgroup_dir);
  into_cgroup_dir = -1;
  return pid;
}

/* The container's network namespace, made ahead (`runt-init P S netns`).
 * Creating one is the dearest part of the init's clone (~0.5 ms here: every
 * pernet subsystem sets itself up), so runt starts us before it makes the
 * cgroups and sends the plan, and a helper process makes the namespace
 * meanwhile: it shares our fd table (CLONE_FILES, not our memory), opens
 * the new namespace there and exits with the fd's number. The clone then
 * leaves CLONE_NEWNET out and the child joins this namespace first thing,
 * before anything that depends on it (mounts of sysfs, sysctls, hooks).
 * runt asks for it only where the plan has a new network namespace and no
 * user namespace, no namespace joined by path and no network device to move
 * (all of which want the namespace made by the clone itself); the checks
 * at the clone repeat that, and any failure falls back to CLONE_NEWNET. */
static pid_t prenet_pid = -1;
static int child_netns_fd = -1; /* the child's copy: join, then close */

static void prenet_start(void)
{
  pid_t pid = (pid_t) syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);
  if (pid == 0) {
    /* no fail() here: its error frame would go out on the shared sync fd */
    if (unshare(CLONE_NEWNET) < 0)
      _exit(255);
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fd > 126)
      _exit(255);
    int lo = 0;
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl >= 0) {
      lo = nl_link_up(nl, 1) == 0;
      close(nl);
    }
    /* the fd's number, +128 when lo is up already */
    _exit(fd | (lo ? 128 : 0));
  }
  prenet_pid = pid; /* -1: no helper, the clone makes the namespace */
}

/* The helper's namespace fd (waiting for it if need be), or -1; *lo_up
 * says whether it set lo up in there. */
static int prenet_take(int *lo_up)
{
  *lo_up = 0;
  if (prenet_pid <= 0)
    return -1;
  int st;
  pid_t r;
  while ((r = waitpid(prenet_pid, &st, 0)) < 0 && errno == EINTR)
    ;
  prenet_pid = -1;
  if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 255)
    return -1;
  *lo_up = (WEXITSTATUS(st) & 128) != 0;
  return WEXITSTATUS(st) & 127;
}

int main(int argc, char **argv)
{
  int netns_ahead = argc == 4 && strcmp(argv[3], "netns") == 0;
  if (argc != 3 && !netns_ahead) {
    fprintf(stderr, "runt-init is runt's native stage; it is started by runt, not by hand\n");
    return 2;
  }
  /* Nobody may ptrace us or open /proc/<pid>/exe or mem while we run with
   * the runtime's privileges (CVE-2016-9962); execve resets it. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* the helper shares our fds: started only once we are not dumpable */
  if (netns_ahead)
    prenet_start();
  int plan_fd = atoi(argv[1]);
  sync_fd = atoi(argv[2]);
  reset_signals();
  for (int i = 0; i < 256; i++)
    prepared[i] = -1;
  load_plan(plan_fd);

  /* stage 0 */
  int i = 0;
  int joined = 0;
  for (; i < nops; i++) {
    struct op *o = &ops[i];
    cur_op = i;
    cur_step = step_name(o->code);
    switch (o->code) {
    case OP_PRESERVE_FDS:
      preserve_fds = (int) I(o, 0);
      /* everything above stdio, the preserved fds and our own two closes
       * on exec; our fds are re-marked in do_exec */
      break;
    case OP_CGROUP_PROCS: {
      const char *p = S(o, 0);
      if (n_cgroup_fds >= 64)
        fail(NULL, E2BIG, p, "too many cgroup hierarchies");
      int fd = open(p, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        fail("open", errno, p, "open %s", p);
      /* a v2 directory (cgroup.procs; v1 ones are joined through `tasks`):
       * clone can put the init there itself, which skips the RCU grace
       * period a write to cgroup.procs waits for (5-12 ms after a quiet
       * spell); the write stays as the fallback */
      size_t plen = strlen(p);
      if (into_cgroup_dir < 0 && plen > 13 && strcmp(p + plen - 13, "/cgroup.procs") == 0) {
        char dir[PATH_MAX];
        if (plen - 13 < sizeof dir) {
          memcpy(dir, p, plen - 13);
          dir[plen - 13] = 0;
          into_cgroup_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (into_cgroup_dir >= 0)
            into_cgroup_idx = n_cgroup_fds;
        }
      }
      cgroup_fds[n_cgroup_fds++] = fd;
      break;
    }
    case OP_EXEC_FIFO:
      /* `start` opens it for reading; we block opening it for writing */
      {
        mode_t old = umask(0);
        if (mknod(S(o, 0), S_IFIFO | 0622, 0) < 0)
          fail("mknod", errno, S(o, 0), "create exec fifo");
        umask(old);
        /* owned by the container's root, who opens it for writing */
        if (chown(S(o, 0), (uid_t) I(o, 1), (gid_t) I(o, 2)) < 0)
          fail("chown", errno, S(o, 0), "chown exec fifo");
      }
      fifo_fd = open(S(o, 0), O_PATH | O_CLOEXEC);
      if (fifo_fd < 0)
        fail("open", errno, S(o, 0), "open exec fifo");
      proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (proc_fd < 0)
        fail("open", errno, "/proc", "open /proc");
      break;
    case OP_JOIN_NS:
      if (!joined) {
        join_namespaces(i, nops);
        joined = 1;
      }
      break;
    case OP_TIMENS: {
      if (unshare(CLONE_NEWTIME) < 0)
        fail("unshare", errno, NULL, "create time namespace");
      const char *t = S(o, 0);
      write_file("/proc/self/timens_offsets", t, strlen(t));
      break;
    }
    case OP_IDMAP_MOUNT:
      prepare_mount(o, 1);
      break;
    case OP_BIND_PREPARE:
      prepare_mount(o, 0);
      break;
    case OP_SECCOMP_LISTENER:
      do_seccomp_listener(S(o, 0));
      break;
    case OP_NET_DEVICE:
      record_net_device(o, i);
      break;
    case OP_RLIMIT:
      /* exec: set on the host, before joining a user namespace, where
       * raising a hard limit would need CAP_SYS_RESOURCE we no longer have */
      do_rlimit(o);
      break;
    case OP_PROC_WRITE:
      do_proc_write(S(o, 0), S(o, 1));
      break;
    case OP_CPU_AFFINITY:
      /* execCPUAffinity.initial: before the child joins the cgroup */
      do_cpu_affinity(o);
      break;
    case OP_CONSOLE_PROXY:
      proxy_prepare();
      break;
    case OP_CLONE: {
      int flags = (int) I(o, 0);
      int stay = (int) I(o, 1);
      child_first_op = i + 1;
      int lo_up;
      int netns = prenet_take(&lo_up);
      if (netns >= 0 && (flags & CLONE_NEWNET) && !(flags & CLONE_NEWUSER) && !joined && n_netdevs == 0) {
        flags &= ~CLONE_NEWNET;
        child_netns_fd = netns;
        loopback_is_up = lo_up; /* the child's copy skips its LOOPBACK_UP */
      } else if (netns >= 0) {
        close(netns);
      }
      pid_t pid = clone_into_cgroup(flags);
      if (pid == 0)
        _exit(run_child(NULL));
      if (pid < 0) {
        size_t stack_size = 256 * 1024;
        char *stack = malloc(stack_size);
        if (!stack)
          fail("malloc", ENOMEM, NULL, "clone stack");
        pid = clone(run_child, stack + stack_size, flags | SIGCHLD, NULL);
      }
      if (pid < 0)
        fail("clone", errno, NULL, "create the container's namespaces");
      if (child_netns_fd >= 0) {
        close(child_netns_fd);
        child_netns_fd = -1;
      }
      move_net_devices(pid);
      cur_op = i;
      /* the agent must see EOF once the init has sent it the fd: our copy
       * of the connection may not outlive that (we stay in run mode) */
      if (seccomp_listener >= 0) {
        close(seccomp_listener);
        seccomp_listener = -1;
      }
      char buf[32];
      int n = snprintf(buf, sizeof buf, "%d", pid);
      send_frame(FRAME_PID, buf, (uint32_t) n);
      if (!stay)
        return 0;
      /* run mode: stay the init's parent so its exit status reaches the
       * runtime as ours; the runtime forwards signals to the init itself */
      close(sync_fd);
      for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
          signal(s, SIG_IGN);
      if (proxy_sock[0] >= 0)
        proxy_run();
      int status;
      while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
          return 255;
      if (WIFEXITED(status))
        return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    default:
      fail(NULL, EINVAL, NULL, "operation %d is not allowed before clone", o->code);
    }
  }
  fail(NULL, EINVAL, NULL, "plan has no clone operation");
}

static int run_child(void *arg)
{
  (void) arg;
  if (child_netns_fd >= 0) {
    cur_op = child_first_op - 1;
    if (setns(child_netns_fd, CLONE_NEWNET) < 0)
      fail("setns", errno, NULL, "join the network namespace made for the container");
    close(child_netns_fd);
    child_netns_fd = -1;
  }
  for (int i = child_first_op; i < nops; i++) {
    struct op *o = &ops[i];
    cur_op = i;
    cur_step = step_name(o->code);
    switch (o->code) {
    case OP_ATTACH_CGROUPS:
      /* join by writing our own pid: a single-threaded process attaching
       * itself does not wait for an RCU grace period (DESIGN.md) */
      for (int k = 0; k < n_cgroup_fds; k++) {
        if (cgroup_fds[k] < 0)
          continue; /* cloned into it */
        if (write(cgroup_fds[k], "0", 1) < 0)
          fail("write", errno, "cgroup.procs", "join the container's cgroup");
        close(cgroup_fds[k]);
      }
      n_cgroup_fds = 0;
      break;
    case OP_WAIT_GO:
      state_json = recv_frame(FRAME_GO, (uint32_t *) &state_len);
      break;
    case OP_BECOME_ROOT:
      if (setresgid(0, 0, 0) < 0)
        fail("setresgid", errno, NULL, "become root in the user namespace");
      if (setresuid(0, 0, 0) < 0)
        fail("setresuid", errno, NULL, "become root in the user namespace");
      break;
    case OP_UNSHARE:
      if (unshare((int) I(o, 0)) < 0)
        fail("unshare", errno, NULL, "unshare namespaces 0x%llx", (long long) I(o, 0));
      break;
    case OP_SETSID:
      if (setsid() < 0)
        fail("setsid", errno, NULL, "new session");
      break;
    case OP_ROOT_PROPAGATION:
      if (mount(NULL, "/", NULL, (unsigned long) I(o, 0), NULL) < 0)
        fail("mount", errno, "/", "set propagation of /");
      break;
    case OP_BIND_ROOTFS: {
      const char *r = S(o, 0);
      umask(0);
      if (mount(r, r, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail("mount", errno, r, "bind mount the rootfs %s", r);
      rootfs_fd = open(r, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (rootfs_fd < 0)
        fail("open", errno, r, "open the rootfs %s", r);
      break;
    }
    case OP_MOUNT:
      do_mount(o);
      break;
    case OP_MOVE_PREPARED:
      do_move_prepared(o);
      break;
    case OP_PROPAGATION:
      do_propagation(o);
      break;
    case OP_MKNOD:
      do_mknod(o);
      break;
    case OP_SYMLINK:
      do_symlink(o);
      break;
    case OP_MKDIR: {
      int fd = resolve_in_root(S(o, 0), 'd', 0);
      if (fd < 0)
        fail("openat2", errno, S(o, 0), "create directory %s", S(o, 0));
      close(fd);
      break;
    }
    case OP_HOOKS_REQUEST:
      send_frame(FRAME_HOOKS, "", 0);
      free(recv_frame(FRAME_HOOKS_DONE, NULL));
      break;
    case OP_HOOK:
      run_hook(o);
      break;
    case OP_PIVOT_ROOT:
      close(rootfs_fd);
      rootfs_fd = -1;
      do_pivot_root(S(o, 0));
      break;
    case OP_CHROOT:
      close(rootfs_fd);
      rootfs_fd = -1;
      do_chroot(S(o, 0));
      break;
    case OP_CONSOLE:
      do_console(o);
      break;
    case OP_MASK_PATH:
      do_mask(S(o, 0));
      break;
    case OP_READONLY_PATH:
      do_readonly(S(o, 0));
      break;
    case OP_REMOUNT_ROOT_RO:
      if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
        fail("mount", errno, "/", "remount the rootfs read-only");
      break;
    case OP_SYSCTL:
      do_sysctl(S(o, 0), S(o, 1));
      break;
    case OP_LOOPBACK_UP:
      if (!loopback_is_up)
        loopback_up();
      break;
    case OP_HOSTNAME:
      if (sethostname(S(o, 0), strlen(S(o, 0))) < 0)
        fail("sethostname", errno, NULL, "set hostname %s", S(o, 0));
      break;
    case OP_DOMAINNAME:
      if (setdomainname(S(o, 0), strlen(S(o, 0))) < 0)
        fail("setdomainname", errno, NULL, "set domainname %s", S(o, 0));
      break;
    case OP_RLIMIT:
      do_rlimit(o);
      break;
    case OP_KEYRING:
      /* a session keyring of our own, so keys never leak between containers;
       * EPERM/ENOSYS mean the kernel or a seccomp profile refuses keyrings */
      if (syscall(SYS_keyctl_nr, KEYCTL_JOIN_SESSION_KEYRING, S(o, 0)) < 0 && errno != ENOSYS && errno != EPERM)
        fail("keyctl", errno, NULL, "create a session keyring");
      break;
    case OP_IDENTITY:
      do_identity(o);
      break;
    case OP_NO_NEW_PRIVS:
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail("prctl", errno, NULL, "set no_new_privs");
      break;
    case OP_SECCOMP:
      do_seccomp(o);
      break;
    case OP_PROC_WRITE:
      do_proc_write(S(o, 0), S(o, 1));
      break;
    case OP_SCHEDULER:
      do_scheduler(o);
      break;
    case OP_IOPRIO:
      do_ioprio(o);
      break;
    case OP_PERSONALITY:
      do_personality(o);
      break;
    case OP_MEMPOLICY:
      do_mempolicy(o);
      break;
    case OP_CPU_AFFINITY:
      do_cpu_affinity(o);
      break;
    case OP_RESOLVE_EXEC:
      do_resolve_exec(o);
      break;
    case OP_READY:
      do_ready();
      break;
    case OP_EXEC:
      do_exec();
      break;
    default:
      fail(NULL, EINVAL, NULL, "operation %d is not allowed after clone", o->code);
    }
  }
  fail(NULL, EINVAL, NULL, "plan ended without exec");
}
