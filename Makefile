# Stint — a thin wrapper over CMake. `make help` lists the targets.
#
#   make deps     install missing Debian packages (as root) or print the apt-get line
#   make          build (plain) into build/<compiler>/plain
#   make test     deps, then the whole suite twice: plain, then ASan+UBSan
#   make bench    build optimised and print the benchmark tables
#   make lint     the source checks (scripts/lint/run.sh): format, banned functions, file and
#                 function size, references outside the repo; .ci/run runs them first
#   make format   clang-format every tracked .c and .h in place
#   make install  build what is installed (no tests, bench or fuzz) and install it: binaries,
#                 libstint-codec (pkg-config, CMake), man pages, systemd units, docs, bash
#                 completion (PREFIX=/usr/local; DESTDIR= for staging)
#   make deb      the Debian packages stint-agent, stint-collector, libstint-codec-dev
#                 (dpkg-buildpackage), into build/deb/, checked by lintian
#   make deb-test build them, install them with apt-get, check, remove (root; CI runs it)
#
# CC=clang selects the compiler (each compiler has its own build folders).

CC ?= cc
CC_NAME := $(notdir $(firstword $(CC)))
BUILD ?= build/$(CC_NAME)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure

CONFIGURE = cmake -S . -G "Unix Makefiles" -DCMAKE_C_COMPILER=$(CC) $(CMAKE_FLAGS)
# A build folder configured for another checkout (a copied tree, a moved clone) cannot be reused:
# CMake refuses its cache. FRESH removes such a folder (only that one) before configuring.
FRESH = sh scripts/fresh-build-dir.sh

.PHONY: all deps build build-asan test test-plain test-asan bench install deb deb-test \
        lint format format-check clean help

all: build

help:
	@sed -n '2,/^$$/{/^#/p}' Makefile | sed 's/^# \{0,1\}//'

deps:
	@sh scripts/deps.sh

build: deps
	@$(FRESH) $(BUILD)/plain
	@$(CONFIGURE) -B $(BUILD)/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/plain -j $(JOBS)

build-asan: deps
	@$(FRESH) $(BUILD)/asan
	@$(CONFIGURE) -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DSTINT_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)

test-plain: build
	@echo "== tests: plain build ($(CC_NAME)) =="
	@cd $(BUILD)/plain && ctest $(CTEST_FLAGS) -j $(JOBS)

test-asan: build-asan
	@echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer ($(CC_NAME)) =="
	@cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory test-plain
	@$(MAKE) --no-print-directory test-asan

bench: deps
	@$(FRESH) $(BUILD)/bench
	@$(CONFIGURE) -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DSTINT_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)/bench -j $(JOBS)
	@cmake --build $(BUILD)/bench --target run-bench

# Its own build folder: only what is installed is built (no tests, benchmarks or fuzz
# harnesses), Release flags, and the prefix known at configure time.
install: deps
	@$(FRESH) $(BUILD)/install
	@$(CONFIGURE) -B $(BUILD)/install -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSTINT_BUILD_TESTS=OFF -DSTINT_BUILD_BENCH=OFF \
	    -DSTINT_BUILD_FUZZ=OFF >/dev/null
	@cmake --build $(BUILD)/install -j $(JOBS)
	@cmake --install $(BUILD)/install

deb: deps
	@sh scripts/build-deb.sh build/deb

deb-test: deb
	@sh tests/packaging/deb_test.sh build/deb

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@sh scripts/lint/format.sh

# LINT_FLAGS=--strict fails on the known findings too (scripts/lint/known.txt); --report on none.
lint: deps
	@sh scripts/lint/run.sh $(LINT_FLAGS)

clean:
	rm -rf build

# Targets of later components (fuzz, demo, ...) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))
