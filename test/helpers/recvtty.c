/* A console-socket receiver for tests (like runc's recvtty): listen on a
 * unix socket, receive the pty master sent with SCM_RIGHTS, print the name
 * that came with it on stderr, then copy everything the container writes on
 * its terminal to stdout until the pty closes.
 * Usage: recvtty SOCKET-PATH [INPUT] — INPUT is written to the terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
    return 2;
  }
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(s, (struct sockaddr *) &a, sizeof a) < 0 || listen(s, 1) < 0) {
    perror("bind/listen");
    return 1;
  }
  /* tell the test we are listening */
  fprintf(stderr, "listening\n");
  fflush(stderr);
  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) {
    perror("accept");
    return 1;
  }
  char name[4096] = { 0 };
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { name, sizeof name - 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  if (recvmsg(c, &m, 0) < 0) {
    perror("recvmsg");
    return 1;
  }
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "no fd received\n");
    return 1;
  }
  int master;
  memcpy(&master, CMSG_DATA(h), sizeof master);
  fprintf(stderr, "name=%s\n", name);
  if (argc > 2)
    write(master, argv[2], strlen(argv[2]));
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* EIO once the last slave fd is closed */
    fwrite(buf, 1, (size_t) n, stdout);
    fflush(stdout);
  }
  return 0;
}
