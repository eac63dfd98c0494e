#!/bin/bash
# Run the cgroup test suites on a pure cgroup v2 host: a throwaway QEMU guest
# started by ../shared/tools/v2vm.sh (Debian's kernel booted with
# cgroup_no_v1=all, the host's root shared read-only). The guest is emulated
# (no usable KVM here); see "Cgroups" in README.md for the last results.
#
# Usage: test/v2/run-in-guest.sh [--systemd] [ava test files...]   (root; after `make build bundles`)
# Default files: the cgroup integration suites and the host-level unit test;
# with --systemd: systemd as the guest's PID 1 and the systemd driver's
# suite (test/integration/systemd-*.test.ts), which must then run, not skip
# (RUNT_EXPECT_SYSTEMD=1).
# The built tree (dist, bin, bundles) is copied to a private directory first,
# so that a rebuild in the checkout during the (minutes long) run cannot pull
# the files from under the guest. Prints ava's TAP output and
# "cgroup v2 guest: N passed, N failed, N skipped in Ns"; exits non-zero on
# any failure. Env: V2VM (path to v2vm.sh), V2VM_TIMEOUT (seconds, 3600).
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd -P)
V2VM=${V2VM:-$ROOT/../shared/tools/v2vm.sh}
# a clone outside the workspace (CI) finds the workspace's copy
[ -x "$V2VM" ] || [ ! -x /work/shared/tools/v2vm.sh ] || V2VM=/work/shared/tools/v2vm.sh
vmargs=()
label="cgroup v2 guest"
if [ "${1:-}" = --systemd ]; then
  shift
  vmargs=(--systemd -e RUNT_EXPECT_SYSTEMD=1)
  label="cgroup v2 guest with systemd"
  [ $# -gt 0 ] || set -- dist/test/integration/systemd-*.test.js
fi
[ "$(id -u)" = 0 ] || { echo "run-in-guest: needs root (qemu shares / over 9p)" >&2; exit 2; }
[ -x "$V2VM" ] || { echo "run-in-guest: $V2VM not found (set V2VM)" >&2; exit 2; }
[ -x bin/runt ] && [ -x bin/runt-init ] && [ -x bin/reaper ] && [ -x bundles/busybox/rootfs/bin/busybox ] &&
  [ -f dist/test/integration/cgroups-resources.test.js ] || { echo "run-in-guest: build first (make build bundles)" >&2; exit 2; }
if [ $# -gt 0 ]; then files=("$@"); else
  files=(dist/test/integration/cgroups-*.test.js dist/test/integration/cgroup-membership.test.js dist/test/unit/cgroups/host.test.js)
fi

# /var/tmp is on the host's root, which the guest sees; --share makes it writable there.
snap=$(mktemp -d /var/tmp/runt-v2.XXXXXX)
out=$(mktemp)
trap 'rm -rf "$snap" "$out"' EXIT
mkdir -p "$snap/test"
cp -a dist bin bundles package.json "$snap/"
cp -a test/v2 "$snap/test/"
# a copy (hard links where the file system allows), not a symlink: the
# checkout may be under /tmp or /run, which are the guest's own tmpfs
cp -al node_modules "$snap/" 2>/dev/null || { rm -rf "$snap/node_modules"; cp -a node_modules "$snap/"; }

start=$(date +%s)
# Inside: test/v2/guest-suite.sh (checks the guest is cgroup v2, runs ava,
# fails on anything the tests left behind).
V2VM_TIMEOUT=${V2VM_TIMEOUT:-3600} "$V2VM" "${vmargs[@]}" --share "$snap" --cwd "$snap" -- test/v2/guest-suite.sh "${files[@]}" | tee "$out"
status=${PIPESTATUS[0]}
secs=$(( $(date +%s) - start ))
pass=$(grep -c '^ok ' "$out" || true)
fail=$(grep -c '^not ok ' "$out" || true)
skip=$(grep -Ec '^ok .*# SKIP' "$out" || true)
echo "$label: $((pass - skip)) passed, $fail failed, $skip skipped in ${secs}s"
exit "$status"
