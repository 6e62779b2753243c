# Build, test, install and benchmark pfutures.
# `make test` installs its system dependencies (popt, pkg-config) when they are
# missing and it runs as root on Debian; otherwise it names the command to run.

PREFIX ?= /usr/local
SWIFT  ?= swift
BINARY := .build/release/pfutures
FUTURES_BENCH := .build/release/futures-bench
# Fully static (Swift runtime, glibc, popt's libpopt.a): the binary runs on any
# Linux of its architecture and starts without a dynamic loader.
# Generic types' metadata through direct accessors rather than demangled at
# first use: start-up instantiates about twenty (arrays of our types, the
# parsed options), and demangling them was a tenth of an empty run's time.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -static-executable \
	-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
# The one linker warning a static build gives: the Swift runtime's debug hook
# for a prespecialized-metadata library may dlopen (only when
# SWIFT_DEBUG_LIB_PRESPECIALIZED_PATH is set); the package test traces that no
# shared object is ever opened. Any other warning is shown.
STATIC_DLOPEN_WARNING := LibPrespecialized.*Using 'dlopen' in statically linked
# $(call static_build,PRODUCT): a release build, that one warning left out.
static_build = log=$$(mktemp) && $(SWIFT) build $(RELEASE_FLAGS) --product $(1) > $$log 2>&1; \
	status=$$?; grep -v "$(STATIC_DLOPEN_WARNING)" $$log; rm -f $$log; exit $$status
# parallel: the tests compare pfutures' input sources with GNU parallel's.
# lintian, man-db, strace, file: the package test.
DEBIAN_DEPS := libpopt-dev pkg-config groff-base parallel openssh-server openssh-client slurm-wlm munge \
	lintian man-db strace file

.PHONY: all build deps test tsan lint-man install uninstall completions clean bench bench-core futures-bench deb dist package-test

all: build

# Installs what the build needs when it is missing; never silently skips it.
deps:
	@if [ -f /usr/include/popt.h ] && command -v pkg-config >/dev/null && command -v groff >/dev/null \
		&& command -v parallel >/dev/null && [ -x /usr/sbin/sshd ] && command -v slurmctld >/dev/null \
		&& [ -x /usr/sbin/munged ] && command -v lintian >/dev/null && command -v man >/dev/null \
		&& command -v strace >/dev/null && command -v file >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing $(DEBIAN_DEPS) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_DEPS) >/dev/null; \
	else \
		echo "make: build or test dependencies are missing; run: sudo apt-get install -y $(DEBIAN_DEPS)" >&2; exit 1; \
	fi

build: deps
	@$(call static_build,pfutures)
	@file -b $(BINARY) | grep -q 'statically linked' || { echo "make: $(BINARY) is not static" >&2; exit 1; }
	@echo "built $(BINARY), statically linked"

# The Debian package and the tarball of what `make` built (scripts/package.sh).
deb: build
	scripts/package.sh deb $(BINARY)

dist: build
	scripts/package.sh dist $(BINARY)

# The end-to-end tests drive the debug binary that `swift build` leaves in .build;
# they run once against the thread pool (with every other test) and once
# against the process pool. Before them, the package test builds the .deb and
# the tarball, installs the .deb with dpkg -i and removes it (root only).
test: deps lint-man package-test
	$(SWIFT) build --build-tests
	PFUTURES_E2E_POOL=process $(SWIFT) test --skip-build --parallel --filter EndToEndTests
	$(SWIFT) test --skip-build --parallel

tsan: deps
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --scratch-path .build-tsan --sanitize=thread \
		--filter 'FuturesTests|ProcessPoolExecutorTests|WorkerProtocolTests'

# Installs the .deb into this machine and removes it again (needs root).
package-test: deb dist
	scripts/test-package.sh

lint-man:
	@out=$$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z man/pfutures.1 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" >&2; echo "man/pfutures.1: groff warnings" >&2; exit 1; fi

# Installs what `make` built; it compiles nothing, so `sudo make install`
# never builds as root.
BASH_COMPLETIONS := $(PREFIX)/share/bash-completion/completions/pfutures
ZSH_COMPLETIONS := $(PREFIX)/share/zsh/vendor-completions/_pfutures
FISH_COMPLETIONS := $(PREFIX)/share/fish/vendor_completions.d/pfutures.fish

install:
	@[ -x $(BINARY) ] || { echo "make install: no built binary in $(BINARY); run make first" >&2; exit 1; }
	install -D -m 755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/pfutures
	install -D -m 644 man/pfutures.1 $(DESTDIR)$(PREFIX)/share/man/man1/pfutures.1
	install -D -m 644 completions/pfutures.bash $(DESTDIR)$(BASH_COMPLETIONS)
	install -D -m 644 completions/_pfutures $(DESTDIR)$(ZSH_COMPLETIONS)
	install -D -m 644 completions/pfutures.fish $(DESTDIR)$(FISH_COMPLETIONS)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pfutures $(DESTDIR)$(PREFIX)/share/man/man1/pfutures.1 \
		$(DESTDIR)$(BASH_COMPLETIONS) $(DESTDIR)$(ZSH_COMPLETIONS) $(DESTDIR)$(FISH_COMPLETIONS)

# Writes completions/ from the option table (a test fails when they drift).
completions: build
	for shell in bash zsh fish; do \
		$(BINARY) __completions $$shell > completions/$$shell.tmp || exit 1; \
	done
	mv completions/bash.tmp completions/pfutures.bash
	mv completions/zsh.tmp completions/_pfutures
	mv completions/fish.tmp completions/pfutures.fish

bench: build futures-bench
	PFUTURES_BIN=$(BINARY) FUTURES_BENCH=$(FUTURES_BENCH) bench/run.sh

futures-bench: deps
	@$(call static_build,futures-bench)

# Executor core alone: no-op submit -> result, Swift vs Python and the C
# floor (bench/core_limit.c), same run.
bench-core: futures-bench
	$(FUTURES_BENCH) 200000
	python3 bench/futures_bench.py 200000
	mkdir -p bench/out && cc -O2 -pthread -o bench/out/core_limit bench/core_limit.c && bench/out/core_limit 200000

clean:
	rm -rf .build .build-tsan dist
