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
runtimes=(runc)
command -v crun >/dev/null && runtimes+=(crun)
runtimes+=("runt=$here/bin/runt")
exec bash "$harness" "$@" "${runtimes[@]}"
