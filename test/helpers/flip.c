/* Swap pairs of paths with renameat2(RENAME_EXCHANGE) as fast as possible
 * until SIGTERM: a directory and a symlink trade places, racing a runtime
 * that resolves one of them (the CVE-2021-30465 pattern). On SIGTERM it
 * prints how many swaps it made.
 * Usage: flip A B [A B]... (compiled by test/integration/hostile-race.test.ts) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
  (void) sig;
  stop = 1;
}

int main(int argc, char **argv)
{
  if (argc < 3 || argc % 2 == 0) {
    fprintf(stderr, "usage: flip A B [A B]...\n");
    return 2;
  }
  signal(SIGTERM, on_term);
  unsigned long n = 0;
  while (!stop)
    for (int i = 1; i + 1 < argc; i += 2)
      if (syscall(SYS_renameat2, AT_FDCWD, argv[i], AT_FDCWD, argv[i + 1], RENAME_EXCHANGE) == 0)
        n++;
  printf("%lu\n", n);
  return 0;
}
