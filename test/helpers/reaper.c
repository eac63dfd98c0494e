/* Run a command as a child subreaper and reap every orphan, as a containerd
 * shim does: container inits whose runtime exited are reparented here
 * instead of piling up as zombies under a PID 1 that never reaps.
 * Usage: reaper CMD [ARGS...]; exits with CMD's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: reaper CMD [ARGS...]\n");
    return 2;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  pid_t child = fork();
  if (child < 0)
    return 127;
  if (child == 0) {
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status, code = 0;
  for (;;) {
    pid_t p = wait(&status);
    if (p < 0) {
      if (errno == EINTR)
        continue;
      break; /* ECHILD: everything reaped */
    }
    if (p == child)
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return code;
}
