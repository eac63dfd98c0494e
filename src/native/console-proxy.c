/* A foreground terminal without --console-socket (runc's tty.go does the
 * same): stage 0, which stays as the process's parent, receives the pty
 * master from the child over a socketpair and copies our stdin to it and
 * its output to our stdout until the pty closes, with our terminal in raw
 * mode and its size followed on SIGWINCH. Included by runt-init.c. */

#include <termios.h>

static int proxy_sock[2] = { -1, -1 }; /* [0]: stage 0, [1]: the child */
static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
  (void) sig;
  winch = 1;
}

static void proxy_prepare(void)
{
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, proxy_sock) < 0)
    fail("socketpair", errno, NULL, "socket pair for the terminal");
}

static int recv_master(int sock)
{
  char name[128];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { name, sizeof name };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  ssize_t n;
  do
    n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
  if (!c || c->cmsg_type != SCM_RIGHTS)
    return -1; /* the child failed before its terminal existed: it said why */
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static void copy_winsize(int master)
{
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Until the pty closes (every slave fd is gone). */
static void proxy_run(void)
{
  close(proxy_sock[1]);
  int master = recv_master(proxy_sock[0]);
  close(proxy_sock[0]);
  if (master < 0)
    return;
  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    copy_winsize(master);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
  }
  int in_open = 1;
  char buf[8192];
  for (;;) {
    if (winch) {
      winch = 0;
      copy_winsize(master);
    }
    struct pollfd p[2] = { { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
    if (poll(p, in_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0 && !(n < 0 && errno == EINTR))
        break; /* EIO: the last slave fd was closed */
      if (n > 0)
        write_all(1, buf, (size_t) n);
    }
    if (in_open && p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0)
        write_all(master, buf, (size_t) n);
      else if (!(n < 0 && errno == EINTR))
        in_open = 0;
    }
  }
  if (raw)
    tcsetattr(0, TCSANOW, &saved);
  close(master);
}
