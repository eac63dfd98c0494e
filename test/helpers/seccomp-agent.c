/* A seccomp agent for tests (like runc's contrib/cmd/seccompagent): listen
 * on a unix socket, receive the container process state (JSON) and the
 * seccomp notify fd sent with SCM_RIGHTS, print the state on stdout, then
 * answer every notification with errno ERRNO (or let it through with 0),
 * printing "notify <syscall nr>" for each, until the container is gone.
 * Usage: seccomp-agent SOCKET-PATH ERRNO */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/seccomp.h>

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: seccomp-agent SOCKET ERRNO\n");
    return 2;
  }
  int answer = atoi(argv[2]);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(s, (struct sockaddr *) &a, sizeof a) < 0 || listen(s, 1) < 0) {
    perror("bind/listen");
    return 1;
  }
  fprintf(stderr, "listening\n");
  fflush(stderr);
  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) {
    perror("accept");
    return 1;
  }
  static char buf[65536];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { buf, sizeof buf - 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n = recvmsg(c, &m, 0);
  if (n < 0) {
    perror("recvmsg");
    return 1;
  }
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "no fd received\n");
    return 1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(h), sizeof fd);
  /* the rest of the state, if it came in more than one chunk */
  for (;;) {
    ssize_t k = read(c, buf + n, sizeof buf - 1 - (size_t) n);
    if (k <= 0)
      break;
    n += k;
  }
  buf[n] = 0;
  printf("state %s\n", buf);
  fflush(stdout);

  struct seccomp_notif_sizes sz;
  if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
    perror("SECCOMP_GET_NOTIF_SIZES");
    return 1;
  }
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
  for (;;) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p.revents & (POLLHUP | POLLERR))
      break; /* every filtered process is gone */
    memset(req, 0, sz.seccomp_notif);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT)
        continue;
      break;
    }
    printf("notify %d\n", req->data.nr);
    fflush(stdout);
    memset(resp, 0, sz.seccomp_notif_resp);
    resp->id = req->id;
    if (answer)
      resp->error = -answer;
    else
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
      perror("SECCOMP_IOCTL_NOTIF_SEND");
  }
  return 0;
}
