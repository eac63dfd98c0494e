# runt: build, example bundle, tests. `make` builds everything and leaves the
# CLI at bin/runt. Every target installs what it needs on a fresh machine.

SHELL := /bin/bash
ROOT := $(CURDIR)
BUN := $(ROOT)/node_modules/@oven/bun-linux-x64/bin/bun
TSC := $(ROOT)/node_modules/.bin/tsc
AVA := $(ROOT)/node_modules/.bin/ava
APT_PACKAGES := busybox-static libseccomp-dev jq runc iproute2
CFLAGS ?= -O2 -Wall -Wextra -Werror=implicit-function-declaration

.PHONY: all build deps apt-deps npm-deps bundles demo test test-unit test-integration clean

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

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm-deps: node_modules/.installed

build: npm-deps bin/runt bin/runt-init bin/reaper bin/recvtty

dist/.built: npm-deps $(shell find src test -name '*.ts') tsconfig.json $(wildcard schemas/*.json)
	$(TSC) -p .
	node dist/src/build/compile-schemas.js schemas dist/generated/validators.js
	@touch $@

bin/runt-init: src/native/runt-init.c src/native/plan-format.h
	@mkdir -p bin
	$(CC) $(CFLAGS) -static -o $@ src/native/runt-init.c

bin/reaper: test/helpers/reaper.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

bin/recvtty: test/helpers/recvtty.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

# The shipped CLI is one bundle (split per command, so each call loads only
# its own chunk) run by the pinned Bun; start-up is most of a state/kill call.
# Native and heavy modules stay outside and load from node_modules on demand.
dist/bundle/main.js: dist/.built
	rm -rf dist/bundle
	$(BUN) build dist/src/cli/main.js --target=bun --splitting --minify --outdir=dist/bundle \
	  --external koffi --external yargs --external ajv --external 'ajv/*' >/dev/null

bin/runt: dist/bundle/main.js
	@mkdir -p bin
	@printf '#!%s\nimport "%s/dist/bundle/main.js";\n' "$(BUN)" "$(ROOT)" > $@.tmp
	@chmod 755 $@.tmp && mv $@.tmp $@

# Example bundle: config.json is committed, the rootfs is made from
# Debian's busybox-static.
bundles: bundles/busybox/rootfs/bin/busybox

bundles/busybox/rootfs/bin/busybox: | apt-deps
	test/helpers/make-rootfs.sh bundles/busybox/rootfs

demo: deps build bundles
	@echo '$$ sudo bin/runt run --bundle bundles/busybox demo-$$$$'
	@bin/runt --root /run/runt-demo run --bundle bundles/busybox demo-$$$$

test: deps build bundles
	test/run-tests.sh

test-unit: build
	test/run-tests.sh unit

test-integration: build bundles
	test/run-tests.sh integration

clean:
	rm -rf dist bin bundles/*/rootfs
