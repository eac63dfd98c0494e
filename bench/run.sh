#!/bin/bash
# Side-by-side benchmark of runt against Debian's runc (the baseline of every
# ratio) and crun where it is installed, with the workspace's harness
# (../shared/bench/bench.sh: interleaved, reshuffled calls; medians, ratios,
# memory per created container and peak RSS per CLI call).
#
#   sudo bench/run.sh [bench.sh options]     e.g. -n 40 --sections run,ops
#
# Results: the table on stdout and files under /tmp/oci-bench-results/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
harness=${BENCH_SH:-$here/../shared/bench/bench.sh}
[ -x "$harness" ] || [ -f "$harness" ] || { echo "bench: harness not found at $harness (set BENCH_SH)" >&2; exit 1; }
[ -x "$here/bin/runt" ] || { echo "bench: build first (make)" >&2; exit 1; }
# Every runtime is measured in one defined page-cache state: its executable
# read in by read(2), as `make` leaves bin/runt and as a boot-time
# `cat bin/runt >/dev/null` does. Pages first brought in by exec faults
# (after a reboot, or once the cache dropped them) are 4 KiB folios, and
# each runt call then takes ~1.8 ms more (README, Performance); runc's and
# crun's smaller executables do not care. Drop their cached pages (none is
# mapped now: none of them runs), then read each file once. A file just
# written (a fresh `make`) has dirty pages that cannot be dropped until
# written back (runt --version took 6.9 ms instead of 5.5 here): sync it
# first.
for f in "$here/bin/runt" "$here/bin/runt-init" "$(command -v runc)" "$(command -v crun || true)"; do
  [ -f "$f" ] || continue
  sync "$f"
  dd if="$f" iflag=nocache count=0 status=none
  cat "$f" >/dev/null
done
runtimes=(runc)
command -v crun >/dev/null && runtimes+=(crun)
runtimes+=("runt=$here/bin/runt")
exec bash "$harness" "$@" "${runtimes[@]}"
