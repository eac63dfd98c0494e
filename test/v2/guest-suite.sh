#!/bin/bash
# Runs inside the cgroup v2 guest (started by run-in-guest.sh, in the copied
# tree): check that the guest really is pure cgroup v2, then run ava
# serially (2 emulated vCPUs) with a generous per-test timeout, under the
# subreaper as run-tests.sh does. Afterwards the tests must have left
# nothing: no test cgroup and no process. A leftover is a failure; leftover
# processes are killed by pid, since they would keep the subreaper (and the
# guest) waiting until v2vm's timeout.
set -u
if [ "${1:-}" != --inner ]; then
  fs=$(stat -f -c %T /sys/fs/cgroup)
  echo "# guest: kernel $(uname -r), /sys/fs/cgroup is $fs, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  [ "$fs" = cgroup2fs ] || { echo "not a cgroup v2 guest" >&2; exit 3; }
  exec bin/reaper "$0" --inner "$@"
fi
shift
node_modules/.bin/ava --tap --serial --timeout=10m "$@"
status=$?
left=$(ps -o pid= --ppid "$PPID" | grep -vw "$$")
cgs=$(find /sys/fs/cgroup -maxdepth 3 -type d \( -name 't-*' -o -name '*runt*' \))
if [ -n "$left$cgs" ]; then
  echo "not ok - the tests left processes ($(echo $left)) or cgroups ($(echo $cgs))"
  [ -z "$left" ] || kill -9 $left
  status=1
fi
exit "$status"
