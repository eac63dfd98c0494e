# runt: build, example bundle, tests. `make` builds everything and leaves the
# CLI at bin/runt. Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
ROOT := $(CURDIR)
BUN := $(ROOT)/node_modules/@oven/bun-linux-x64/bin/bun
TSC := $(ROOT)/node_modules/.bin/tsc
AVA := $(ROOT)/node_modules/.bin/ava
APT_PACKAGES := busybox-static libseccomp-dev jq runc iproute2
CFLAGS ?= -O2 -Wall -Wextra -Werror=implicit-function-declaration

.PHONY: all build deps apt-deps npm-deps engine-deps bundles demo test test-unit test-integration test-engines bench clean docs test-cgroup-v2 test-systemd fuzz soak

all: build bundles

deps: apt-deps npm-deps

# Debian packages: busybox for the example rootfs, runc as the reference
# the tests compare against, libseccomp for seccomp.
apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The engines the engine suites drive (test/integration/engine-*.test.ts):
# containerd (with ctr and the runc shim v2), podman with conmon, Docker.
ENGINE_PACKAGES := containerd podman conmon docker.io
engine-deps:
	@missing=""; for p in $(ENGINE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm-deps: node_modules/.installed

build: npm-deps bin/runt bin/runt-sys.node bin/runt-init bin/reaper bin/recvtty bin/seccomp-agent

dist/.built: npm-deps $(shell find src test -name '*.ts') tsconfig.json $(wildcard schemas/*.json)
	$(TSC) -p .
	node dist/src/build/compile-schemas.js schemas dist/generated/validators.js
	@touch $@

bin/runt-init: src/native/runt-init.c src/native/plan-format.h $(filter-out src/native/sys-addon.c,$(wildcard src/native/*.c))
	@mkdir -p bin
	$(CC) $(CFLAGS) -static -o $@ src/native/runt-init.c

# The file syscalls of the lifecycle commands, a Node-API module that bin/runt
# (and Node running dist/) loads from beside itself instead of node:fs
# (src/sys/fs.ts says why). The Node-API headers are the ones koffi, a
# pinned dependency, ships.
NAPI_INCLUDE := $(ROOT)/node_modules/koffi/vendor/node-api-headers/include
bin/runt-sys.node: src/native/sys-addon.c | npm-deps
	@mkdir -p bin
	$(CC) $(CFLAGS) -shared -fPIC -I$(NAPI_INCLUDE) -o $@ $<

bin/reaper: test/helpers/reaper.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

bin/recvtty: test/helpers/recvtty.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

bin/seccomp-agent: test/helpers/seccomp-agent.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

# The shipped CLI: a Bun single-file executable (the pinned Bun plus our
# code precompiled to bytecode). Against a script run by bun it saves ~5 ms
# per call: no parsing, no bunfig/package.json lookups in the caller's
# directory. koffi (a native module) stays outside and is loaded from
# node_modules on demand (src/sys/install-root.ts). It must not read a
# .env or bunfig.toml from the caller's directory (Bun's default): those
# would set its environment or preload code, as root. A call lives ~10 ms:
# JIT tiers cost more than they win, so tier-up waits 1000x longer (create:
# -2 ms, peak RSS 45 -> 41 MiB). Split into chunks, each call loads only its
# command's code (ESM; one CommonJS file was ~1 ms and 2-3 MiB more per
# call); yargs is one of those chunks, loaded by --help alone.
bin/runt: dist/.built
	@mkdir -p bin
	$(BUN) build dist/src/cli/main.js --compile --splitting --bytecode --format=esm --minify --outfile=$@.tmp \
	  --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=1000 \
	  --external koffi --external ajv --external 'ajv/*' >/dev/null
	@mv $@.tmp $@

# Example bundle: config.json is committed, the rootfs is made from
# Debian's busybox-static.
bundles: bundles/busybox/rootfs/bin/busybox

bundles/busybox/rootfs/bin/busybox: | apt-deps
	test/helpers/make-rootfs.sh bundles/busybox/rootfs

demo: deps build bundles
	@echo '$$ sudo bin/runt run --bundle bundles/busybox demo-$$$$'
	@bin/runt --root /run/runt-demo run --bundle bundles/busybox demo-$$$$

# The systemd driver's guest suite (test-systemd, about 2 minutes) is part
# of it; RUNT_SKIP_GUEST=1 leaves it out where no QEMU guest can be run.
test: deps engine-deps build bundles
	test/run-tests.sh
	@if [ "$${RUNT_SKIP_GUEST:-}" = 1 ]; then echo "make test: RUNT_SKIP_GUEST=1, the systemd guest suite was NOT run"; else test/v2/run-in-guest.sh --systemd; fi

test-unit: build
	test/run-tests.sh unit

test-integration: build bundles
	test/run-tests.sh integration

# The engine suites alone, against runt and Debian's runc (the reference):
# containerd, podman and Docker drive each runtime through the same
# scenarios. `make test` runs them against runt only. RUNTIME=runt or
# RUNTIME=runc narrows this target to one runtime.
RUNTIME ?= runt,runc
test-engines: deps engine-deps build bundles
	RUNTIME=$(RUNTIME) test/run-tests.sh engines

# Reliability (README, "Reliability"): the full config fuzz (FUZZ_COUNT
# cases from FUZZ_SEED; a failing case is replayed with
# `node dist/test/fuzz/run.js --seed S --only N`) and the long soak of the
# concurrency and race tests. `make test` runs short versions of both.
FUZZ_SEED ?= 7
FUZZ_COUNT ?= 5000
fuzz: deps build bundles
	bin/reaper node dist/test/fuzz/run.js --seed $(FUZZ_SEED) --count $(FUZZ_COUNT)

soak: deps build bundles
	RUNT_SOAK=1 bin/reaper $(AVA) --timeout=30m --serial dist/test/integration/concurrency.test.js dist/test/integration/hostile-race.test.js

# The cgroup suites on a pure cgroup v2 host: a QEMU guest started by
# ../shared/tools/v2vm.sh (slow, emulated; not part of `make test`).
test-cgroup-v2: deps build bundles
	test/v2/run-in-guest.sh

# The systemd cgroup driver's suite (test/integration/systemd-*.test.ts) in
# the same guest booted with systemd as PID 1 (v2vm.sh --systemd).
test-systemd: deps build bundles
	test/v2/run-in-guest.sh --systemd

# Side by side with Debian's runc (and crun): see bench/run.sh.
bench: deps build
	@for p in crun hyperfine linux-libc-dev time; do dpkg -s $$p >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null; done
	bench/run.sh $(BENCH_ARGS)

# docs/errors.md and docs/spec-conformance.md are generated from the tables
# in src/errors/codes.ts and src/features/spec-support.ts; a unit test fails
# when they are stale.
docs: dist/.built
	node dist/src/diagnostics/gen-docs.js .

clean:
	rm -rf dist bin bundles/*/rootfs
