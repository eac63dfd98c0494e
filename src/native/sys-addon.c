/* runt-sys.node: the plain file syscalls of the lifecycle commands, as a
 * Node-API module (loaded by src/sys/fs.ts).
 *
 * On Bun, importing node:fs costs ~1.1-1.4 ms and ~5 MiB per CLI call (it
 * pulls in node:events and more), a sixth of a `runt state`. The commands
 * containerd issues most (state, start, kill, delete) need a dozen plain
 * syscalls, which this module makes for ~0.2 ms of loading. Node-API is ABI
 * stable, so the same file serves Bun and Node.
 *
 * Every call is synchronous and throws what node:fs throws: an Error with
 * code ("ENOENT"), errno (negative), syscall and path (and dest). Every fd
 * is opened O_CLOEXEC. No policy here: the TypeScript side decides. */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>

#define MAX_ARGS 4

/* The arguments of one call: paths copied into fixed buffers, numbers as
 * int64. A failed conversion has already thrown. */
struct call {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
};

static int get_args(napi_env env, napi_callback_info info, struct call *c, size_t want) {
  c->env = env;
  c->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, NULL) != napi_ok) return -1;
  if (c->argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "runt-sys: missing argument");
    return -1;
  }
  return 0;
}

/* A path argument: a string without NUL bytes that fits PATH_MAX. */
static int get_path(struct call *c, size_t i, char *buf) {
  size_t len = 0;
  if (napi_get_value_string_utf8(c->env, c->argv[i], buf, PATH_MAX, &len) != napi_ok) {
    napi_throw_type_error(c->env, "ERR_INVALID_ARG_TYPE", "runt-sys: path must be a string");
    return -1;
  }
  if (len >= PATH_MAX - 1) {
    errno = ENAMETOOLONG;
    return -2;
  }
  if (strlen(buf) != len) {
    napi_throw_type_error(c->env, "ERR_INVALID_ARG_VALUE", "runt-sys: path must not contain null bytes");
    return -1;
  }
  return 0;
}

static int get_int(struct call *c, size_t i, int64_t *out) {
  if (napi_get_value_int64(c->env, c->argv[i], out) != napi_ok) {
    napi_throw_type_error(c->env, "ERR_INVALID_ARG_TYPE", "runt-sys: expected a number");
    return -1;
  }
  return 0;
}

/* A string argument of any length, malloc'd; NULL after a throw. */
static char *get_string(struct call *c, size_t i, size_t *len) {
  if (napi_get_value_string_utf8(c->env, c->argv[i], NULL, 0, len) != napi_ok) {
    napi_throw_type_error(c->env, "ERR_INVALID_ARG_TYPE", "runt-sys: data must be a string");
    return NULL;
  }
  char *s = malloc(*len + 1);
  if (!s) {
    napi_throw_error(c->env, "ENOMEM", "runt-sys: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(c->env, c->argv[i], s, *len + 1, len);
  return s;
}

/* A Uint8Array argument: its bytes and length; -1 after a throw. */
static int get_bytes(struct call *c, size_t i, char **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t byte_off;
  void *d;
  if (napi_get_typedarray_info(c->env, c->argv[i], &type, len, &d, &ab, &byte_off) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(c->env, "ERR_INVALID_ARG_TYPE", "runt-sys: expected a Uint8Array");
    return -1;
  }
  *data = d;
  return 0;
}

/* The (fd, Uint8Array, offset, length) of read and writeBytes: the fd and
 * the window into the array, checked; -1 after a throw. */
static int get_io_args(napi_env env, napi_callback_info info, struct call *c, int64_t *fd, char **window, size_t *size) {
  int64_t off, len;
  char *data;
  size_t count;
  if (get_args(env, info, c, 4) || get_int(c, 0, fd) || get_bytes(c, 1, &data, &count) || get_int(c, 2, &off) || get_int(c, 3, &len))
    return -1;
  if (off < 0 || len < 0 || (uint64_t)off + (uint64_t)len > count) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "runt-sys: offset and length exceed the buffer");
    return -1;
  }
  *window = data + off;
  *size = (size_t)len;
  return 0;
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

/* Throw errno the way node:fs does:
 *   ENOENT: no such file or directory, open '/x'   (code, errno, syscall, path) */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path, const char *dest) {
  const char *code = strerrorname_np(err);
  char desc[128];
  snprintf(desc, sizeof desc, "%s", strerror(err));
  if (desc[0] >= 'A' && desc[0] <= 'Z' && desc[1] >= 'a' && desc[1] <= 'z') desc[0] += 'a' - 'A';
  char msg[2 * PATH_MAX + 256];
  int n = snprintf(msg, sizeof msg, "%s: %s, %s", code ? code : "EUNKNOWN", desc, syscall);
  if (path && n < (int)sizeof msg) n += snprintf(msg + n, sizeof msg - n, " '%s'", path);
  if (dest && n < (int)sizeof msg) snprintf(msg + n, sizeof msg - n, " -> '%s'", dest);
  napi_value m, e, num;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  set_str(env, e, "code", code ? code : "EUNKNOWN");
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, e, "errno", num);
  set_str(env, e, "syscall", syscall);
  if (path) set_str(env, e, "path", path);
  if (dest) set_str(env, e, "dest", dest);
  napi_throw(env, e);
  return NULL;
}

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static napi_value int_value(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

/* Path arguments that failed: -1 has thrown, -2 left errno for the syscall's
 * own error (ENAMETOOLONG, as the kernel would say). */
#define PATH_ARG(c, i, buf, syscall)                                        \
  do {                                                                      \
    int r_ = get_path(c, i, buf);                                           \
    if (r_ == -1) return NULL;                                              \
    if (r_ == -2) return throw_errno((c)->env, ENAMETOOLONG, syscall, NULL, NULL); \
  } while (0)

/* open(path, flags, mode) -> fd; O_CLOEXEC always. */
static napi_value Open(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX];
  int64_t flags, mode;
  if (get_args(env, info, &c, 3) || get_int(&c, 1, &flags) || get_int(&c, 2, &mode)) return NULL;
  PATH_ARG(&c, 0, path, "open");
  int fd = open(path, (int)flags | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) return throw_errno(env, errno, "open", path, NULL);
  return int_value(env, fd);
}

static napi_value Close(napi_env env, napi_callback_info info) {
  struct call c;
  int64_t fd;
  if (get_args(env, info, &c, 1) || get_int(&c, 0, &fd)) return NULL;
  if (close((int)fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL, NULL);
  return undefined(env);
}

/* One read(2) or write(2) of a window of a Uint8Array -> the bytes moved. A
 * write may move part of them, as node:fs writeSync: a non-blocking pipe
 * takes what fits. */
static napi_value read_or_write(napi_env env, napi_callback_info info, bool writing) {
  struct call c;
  int64_t fd;
  char *p;
  size_t len;
  if (get_io_args(env, info, &c, &fd, &p, &len)) return NULL;
  ssize_t n;
  do n = writing ? write((int)fd, p, len) : read((int)fd, p, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, writing ? "write" : "read", NULL, NULL);
  return int_value(env, n);
}

/* read(fd, u8, offset, length), writeBytes(fd, u8, offset, length) */
static napi_value Read(napi_env env, napi_callback_info info) { return read_or_write(env, info, false); }
static napi_value WriteBytes(napi_env env, napi_callback_info info) { return read_or_write(env, info, true); }

/* waitRead(fd, maxBytes) -> a Buffer of what one read(2) returned once the
 * fd was readable; empty at end of file. Blocks (poll) on a non-blocking fd:
 * the runtime has nothing else to do while the native stage works. */
static napi_value WaitRead(napi_env env, napi_callback_info info) {
  struct call c;
  int64_t fd, max;
  if (get_args(env, info, &c, 2) || get_int(&c, 0, &fd) || get_int(&c, 1, &max)) return NULL;
  if (max <= 0 || max > (1 << 24)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "runt-sys: maxBytes out of range");
    return NULL;
  }
  char *buf = malloc((size_t)max);
  if (!buf) return throw_errno(env, ENOMEM, "read", NULL, NULL);
  ssize_t n;
  for (;;) {
    n = read((int)fd, buf, (size_t)max);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      int e = errno;
      free(buf);
      return throw_errno(env, e, "read", NULL, NULL);
    }
    struct pollfd p = {.fd = (int)fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) {
      int e = errno;
      free(buf);
      return throw_errno(env, e, "poll", NULL, NULL);
    }
  }
  napi_value out;
  void *data;
  napi_status st = napi_create_buffer_copy(env, (size_t)n, buf, &data, &out);
  free(buf);
  return st == napi_ok ? out : NULL;
}

/* pollIn(fd, timeoutMs) -> whether the fd became readable (data, or its
 * writer gone) within the timeout: a wait that ends at the event instead of
 * a sleep that overshoots it. */
static napi_value PollIn(napi_env env, napi_callback_info info) {
  struct call c;
  int64_t fd, timeout;
  if (get_args(env, info, &c, 2) || get_int(&c, 0, &fd) || get_int(&c, 1, &timeout)) return NULL;
  struct pollfd p = {.fd = (int)fd, .events = POLLIN};
  int r = poll(&p, 1, (int)timeout);
  if (r < 0 && errno != EINTR) return throw_errno(env, errno, "poll", NULL, NULL);
  napi_value v;
  napi_get_boolean(env, r > 0, &v);
  return v;
}

/* Read an open fd to its end (files in /proc and cgroupfs report size 0). */
static char *read_all(int fd, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (n == cap) {
      char *more = realloc(buf, cap *= 2);
      if (!more) {
        free(buf);
        errno = ENOMEM;
        return NULL;
      }
      buf = more;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

/* readFile(path, as) -> the whole file: as 0 a UTF-8 string, 1 a latin1
 * string, 2 a Buffer. */
static napi_value ReadFile(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX];
  int64_t as = 0;
  if (get_args(env, info, &c, 2) || get_int(&c, 1, &as)) return NULL;
  PATH_ARG(&c, 0, path, "open");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path, NULL);
  size_t len;
  char *buf = read_all(fd, &len);
  int err = errno;
  close(fd);
  if (!buf) return throw_errno(env, err, "read", path, NULL);
  napi_value s;
  void *copy;
  napi_status st = as == 2   ? napi_create_buffer_copy(env, len, buf, &copy, &s)
                   : as == 1 ? napi_create_string_latin1(env, buf, len, &s)
                             : napi_create_string_utf8(env, buf, len, &s);
  free(buf);
  return st == napi_ok ? s : NULL;
}

static int write_all(int fd, const char *s, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    s += n;
    len -= (size_t)n;
  }
  return 0;
}

/* write(fd, string) -> bytes written: all of them, or a throw (stdout,
 * stderr and log files, which block). */
static napi_value Write(napi_env env, napi_callback_info info) {
  struct call c;
  int64_t fd;
  size_t len;
  if (get_args(env, info, &c, 2) || get_int(&c, 0, &fd)) return NULL;
  char *s = get_string(&c, 1, &len);
  if (!s) return NULL;
  int r = write_all((int)fd, s, len);
  int err = errno;
  free(s);
  if (r < 0) return throw_errno(env, err, "write", NULL, NULL);
  return int_value(env, (int64_t)len);
}

/* writeFile(path, string or Uint8Array, flags, mode) */
static napi_value WriteFile(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX];
  int64_t flags, mode;
  size_t len;
  if (get_args(env, info, &c, 4) || get_int(&c, 2, &flags) || get_int(&c, 3, &mode)) return NULL;
  PATH_ARG(&c, 0, path, "open");
  char *s;
  bool is_bytes = false;
  napi_is_typedarray(env, c.argv[1], &is_bytes);
  if (is_bytes) {
    char *data;
    if (get_bytes(&c, 1, &data, &len)) return NULL;
    s = malloc(len + 1);
    if (!s) return throw_errno(env, ENOMEM, "write", path, NULL);
    memcpy(s, data, len);
  } else if (!(s = get_string(&c, 1, &len))) {
    return NULL;
  }
  int fd = open(path, (int)flags | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) {
    int err = errno;
    free(s);
    return throw_errno(env, err, "open", path, NULL);
  }
  int r = write_all(fd, s, len);
  int err = errno;
  free(s);
  close(fd);
  if (r < 0) return throw_errno(env, err, "write", path, NULL);
  return undefined(env);
}

/* The calls of one or two paths and an optional mode. */
/* OP_EXCHANGE: renameat2(RENAME_EXCHANGE), both names must exist; "rename"
 * in errors, as node:fs would name it. */
enum op { OP_UNLINK, OP_RMDIR, OP_MKDIR, OP_RENAME, OP_SYMLINK, OP_LINK, OP_ACCESS, OP_EXCHANGE };

static napi_value path_op(napi_env env, napi_callback_info info, enum op op) {
  static const char *names[] = {"unlink", "rmdir", "mkdir", "rename", "symlink", "link", "access", "rename"};
  const char *name = names[op];
  struct call c;
  char a[PATH_MAX], b[PATH_MAX];
  int64_t mode = 0;
  bool two = op == OP_RENAME || op == OP_SYMLINK || op == OP_LINK || op == OP_EXCHANGE;
  if (get_args(env, info, &c, two || op == OP_MKDIR ? 2 : 1)) return NULL;
  PATH_ARG(&c, 0, a, name);
  if (two) PATH_ARG(&c, 1, b, name);
  if (op == OP_MKDIR && get_int(&c, 1, &mode)) return NULL;
  int r;
  switch (op) {
  case OP_UNLINK: r = unlink(a); break;
  case OP_RMDIR: r = rmdir(a); break;
  case OP_MKDIR: r = mkdir(a, (mode_t)mode); break;
  case OP_RENAME: r = rename(a, b); break;
  case OP_EXCHANGE: r = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE); break;
  case OP_SYMLINK: r = symlink(a, b); break;
  case OP_LINK: r = link(a, b); break;
  case OP_ACCESS: {
    napi_value v;
    napi_get_boolean(env, access(a, F_OK) == 0, &v);
    return v;
  }
  default: r = -1; errno = EINVAL;
  }
  if (r < 0) return throw_errno(env, errno, name, a, two ? b : NULL);
  return undefined(env);
}

static napi_value Unlink(napi_env env, napi_callback_info info) { return path_op(env, info, OP_UNLINK); }
static napi_value Rmdir(napi_env env, napi_callback_info info) { return path_op(env, info, OP_RMDIR); }
static napi_value Mkdir(napi_env env, napi_callback_info info) { return path_op(env, info, OP_MKDIR); }
static napi_value Rename(napi_env env, napi_callback_info info) { return path_op(env, info, OP_RENAME); }
static napi_value Symlink(napi_env env, napi_callback_info info) { return path_op(env, info, OP_SYMLINK); }
static napi_value Exchange(napi_env env, napi_callback_info info) { return path_op(env, info, OP_EXCHANGE); }
static napi_value Link(napi_env env, napi_callback_info info) { return path_op(env, info, OP_LINK); }
static napi_value Exists(napi_env env, napi_callback_info info) { return path_op(env, info, OP_ACCESS); }

/* stat(path, follow) -> [st_mode, st_size, mtime in ms (as node:fs mtimeMs)]. */
static napi_value Stat(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX];
  bool follow = true;
  if (get_args(env, info, &c, 2)) return NULL;
  napi_get_value_bool(env, c.argv[1], &follow);
  PATH_ARG(&c, 0, path, follow ? "stat" : "lstat");
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) < 0) return throw_errno(env, errno, follow ? "stat" : "lstat", path, NULL);
  napi_value out, mtime;
  napi_create_array_with_length(env, 3, &out);
  napi_set_element(env, out, 0, int_value(env, st.st_mode));
  napi_set_element(env, out, 1, int_value(env, st.st_size));
  napi_create_double(env, (double)st.st_mtim.tv_sec * 1e3 + (double)st.st_mtim.tv_nsec / 1e6, &mtime);
  napi_set_element(env, out, 2, mtime);
  return out;
}

/* realpath(path) -> the path with every symlink, "." and ".." resolved. */
static napi_value Realpath(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX], real[PATH_MAX];
  if (get_args(env, info, &c, 1)) return NULL;
  PATH_ARG(&c, 0, path, "realpath");
  if (!realpath(path, real)) return throw_errno(env, errno, "realpath", path, NULL);
  napi_value s;
  napi_create_string_utf8(env, real, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value Readlink(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX], target[PATH_MAX];
  if (get_args(env, info, &c, 1)) return NULL;
  PATH_ARG(&c, 0, path, "readlink");
  ssize_t n = readlink(path, target, sizeof target);
  if (n < 0) return throw_errno(env, errno, "readlink", path, NULL);
  napi_value s;
  napi_create_string_utf8(env, target, (size_t)n, &s);
  return s;
}

/* readdir(path) -> [name, type, name, type, ...] without "." and "..";
 * type is the DT_* value, from lstat where the filesystem gives none. */
static napi_value Readdir(napi_env env, napi_callback_info info) {
  struct call c;
  char path[PATH_MAX];
  if (get_args(env, info, &c, 1)) return NULL;
  PATH_ARG(&c, 0, path, "scandir");
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "scandir", path, NULL);
  DIR *d = fdopendir(fd);
  if (!d) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "scandir", path, NULL);
  }
  napi_value out;
  napi_create_array(env, &out);
  uint32_t i = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    unsigned type = e->d_type;
    struct stat st;
    if (type == DT_UNKNOWN && fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) type = IFTODT(st.st_mode);
    napi_value name;
    napi_create_string_utf8(env, e->d_name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, out, i++, name);
    napi_set_element(env, out, i++, int_value(env, type));
    errno = 0;
  }
  int err = errno;
  closedir(d);
  if (err) return throw_errno(env, err, "scandir", path, NULL);
  return out;
}

static void set_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static void set_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_set_named_property(env, obj, name, int_value(env, v));
}

NAPI_MODULE_INIT() {
  set_fn(env, exports, "open", Open);
  set_fn(env, exports, "close", Close);
  set_fn(env, exports, "read", Read);
  set_fn(env, exports, "waitRead", WaitRead);
  set_fn(env, exports, "pollIn", PollIn);
  set_fn(env, exports, "readFile", ReadFile);
  set_fn(env, exports, "write", Write);
  set_fn(env, exports, "writeBytes", WriteBytes);
  set_fn(env, exports, "stat", Stat);
  set_fn(env, exports, "realpath", Realpath);
  set_fn(env, exports, "writeFile", WriteFile);
  set_fn(env, exports, "unlink", Unlink);
  set_fn(env, exports, "rmdir", Rmdir);
  set_fn(env, exports, "mkdir", Mkdir);
  set_fn(env, exports, "rename", Rename);
  set_fn(env, exports, "exchange", Exchange);
  set_fn(env, exports, "symlink", Symlink);
  set_fn(env, exports, "link", Link);
  set_fn(env, exports, "exists", Exists);
  set_fn(env, exports, "readlink", Readlink);
  set_fn(env, exports, "readdir", Readdir);
  /* the open(2) flags of this architecture (they differ on arm64) */
  napi_value k;
  napi_create_object(env, &k);
  set_int(env, k, "O_RDONLY", O_RDONLY);
  set_int(env, k, "O_WRONLY", O_WRONLY);
  set_int(env, k, "O_RDWR", O_RDWR);
  set_int(env, k, "O_CREAT", O_CREAT);
  set_int(env, k, "O_EXCL", O_EXCL);
  set_int(env, k, "O_TRUNC", O_TRUNC);
  set_int(env, k, "O_APPEND", O_APPEND);
  set_int(env, k, "O_NONBLOCK", O_NONBLOCK);
  set_int(env, k, "O_DIRECTORY", O_DIRECTORY);
  set_int(env, k, "O_NOFOLLOW", O_NOFOLLOW);
  set_int(env, k, "O_CLOEXEC", O_CLOEXEC);
  set_int(env, k, "S_IFMT", S_IFMT);
  set_int(env, k, "S_IFDIR", S_IFDIR);
  set_int(env, k, "S_IFREG", S_IFREG);
  set_int(env, k, "S_IFLNK", S_IFLNK);
  set_int(env, k, "DT_DIR", DT_DIR);
  set_int(env, k, "DT_REG", DT_REG);
  set_int(env, k, "DT_LNK", DT_LNK);
  napi_set_named_property(env, exports, "constants", k);
  return exports;
}
