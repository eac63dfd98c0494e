#!/bin/bash
# Run the ava suites from the compiled tree and print one closing line:
# "N passed, N failed, N skipped". Usage: test/run-tests.sh [unit|integration|engines|all]
# (engines: the containerd, podman and Docker suites alone; RUNTIME=runt,runc
# runs them against runt and Debian's runc, the default is runt)
set -u
cd "$(dirname "$0")/.."
kind=${1:-all}
files=()
if [ "$kind" = unit ] || [ "$kind" = all ]; then
  files+=(dist/test/unit)
fi
if [ "$kind" = integration ] || [ "$kind" = all ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "integration tests need root; skipping them" >&2
  else
    files+=(dist/test/integration)
  fi
fi
pattern='*.test.js'
if [ "$kind" = engines ]; then
  files+=(dist/test/integration)
  pattern='engine-*.test.js'
fi
# the engine suites remove the global paths engines make whatever they are
# told, unless they were here before (test/engines/common.ts, existedBefore):
# look before ava starts its concurrent workers
pre=""
for p in /run/containerd /run/docker /run/containers /var/lib/containers /run/runt /run/runc; do
  [ -e "$p" ] && pre="$pre:$p"
done
export RUNT_E2E_PREEXISTING="${pre#:}"
out=$(mktemp)
# --tap gives countable output; ava still exits non-zero on any failure
# under a subreaper, so container inits orphaned by `runt create` are reaped
bin/reaper node_modules/.bin/ava --tap --timeout=120s --concurrency=2 $(find "${files[@]}" -name "$pattern" | sort) | tee "$out"
status=${PIPESTATUS[0]}
pass=$(grep -c '^ok ' "$out" || true)
fail=$(grep -c '^not ok ' "$out" || true)
skip=$(grep -Ec '^ok .*# SKIP' "$out" || true)
pass=$((pass - skip))
rm -f "$out"
echo "$pass passed, $fail failed, $skip skipped"
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
  echo "ava exited with status $status" >&2
fi
exit "$status"
