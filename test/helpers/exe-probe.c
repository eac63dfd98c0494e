/* Runs inside a container for N seconds, watching /proc for a runt-init
 * (a process that is joining the container, e.g. for `exec`) and trying to
 * open its /proc/<pid>/exe and mem, as the CVE-2019-5736 exploit does to
 * overwrite the runtime's binary. Writes "seen=S opened=O" to the file given.
 * Usage: exe-probe SECONDS OUTFILE (built static by hostile-fds.test.ts) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  time_t end = time(NULL) + atoi(argv[1]);
  unsigned long seen = 0, opened = 0;
  int last = -1;
  while (time(NULL) < end) {
    DIR *d = opendir("/proc");
    if (!d)
      return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9')
        continue;
      char p[64], comm[32] = "";
      snprintf(p, sizeof p, "/proc/%s/comm", e->d_name);
      int fd = open(p, O_RDONLY);
      if (fd < 0)
        continue;
      ssize_t n = read(fd, comm, sizeof comm - 1);
      close(fd);
      if (n <= 0 || strncmp(comm, "runt-init", 9) != 0)
        continue;
      if (atoi(e->d_name) != last) {
        seen++;
        last = atoi(e->d_name);
      }
      const char *what[] = { "exe", "mem" };
      for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "/proc/%s/%s", e->d_name, what[i]);
        fd = open(p, O_RDONLY);
        if (fd < 0)
          continue;
        /* it counts only if it was still runt-init when we got in: the
         * process may have exec'd its own program meanwhile (then its exe
         * and mem are the container's, which is fine) */
        char c2[32] = "", link[256] = "", self[64];
        snprintf(p, sizeof p, "/proc/%s/comm", e->d_name);
        int cfd = open(p, O_RDONLY);
        if (cfd >= 0) {
          if (read(cfd, c2, sizeof c2 - 1) < 0)
            c2[0] = 0;
          close(cfd);
        }
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        if (readlink(self, link, sizeof link - 1) < 0)
          link[0] = 0;
        if (i == 0 ? strstr(link, "runt-init") != NULL : strncmp(c2, "runt-init", 9) == 0)
          opened++;
        close(fd);
      }
    }
    closedir(d);
  }
  FILE *f = fopen(argv[2], "w");
  if (!f)
    return 1;
  fprintf(f, "seen=%lu opened=%lu\n", seen, opened);
  fclose(f);
  return 0;
}
