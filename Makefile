# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make            build build/ccapm-trace
# make run        install missing packages, build, run the tracer (root)
# make test       install missing packages, build, run every test (root)
# make install    copy the binary to $(DESTDIR)$(PREFIX)/sbin
# V=1             print full commands

OUTPUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
VERSION := 0.1.0

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := vmlinux/$(ARCH)

CFLAGS ?= -g -O2
WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS_ALL := -Iinclude -Isrc -I$(OUTPUT) -D_GNU_SOURCE -DCCAPM_VERSION='"$(VERSION)"'
LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -Iinclude -I$(VMLINUX_DIR) -Wall -Werror

# Userspace modules that need no libbpf; the unit tests link them directly.
CORE_SRCS := utf8 log options uuid cmdline agent paths bookkeeping window textfile session path_set
CORE_OBJS := $(CORE_SRCS:%=$(OUTPUT)/obj/%.o)
APP_SRCS := $(patsubst src/%.c,%,$(wildcard src/*.c))
APP_OBJS := $(APP_SRCS:%=$(OUTPUT)/obj/%.o)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all clean install uninstall run test unit-tests integration e2e bench deps test-deps

all: $(OUTPUT)/ccapm-trace

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Every userspace object waits for the skeleton, which tracer.c includes.
$(OUTPUT)/obj/%.o: src/%.c $(OUTPUT)/ccapm.skel.h | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/ccapm-trace: $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS_ALL) -MMD -MP $< $(CORE_OBJS) -lcmocka -o $@

install: $(OUTPUT)/ccapm-trace
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(OUTPUT)/ccapm-trace $(DESTDIR)$(SBINDIR)/ccapm-trace
	install -m 0644 man/ccapm-trace.8 $(DESTDIR)$(MANDIR)/man8/ccapm-trace.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ccapm-trace $(DESTDIR)$(MANDIR)/man8/ccapm-trace.8

deps:
	$(Q)scripts/install-packages build

test-deps:
	$(Q)scripts/install-packages build test

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUTPUT)/ccapm-trace $(ARGS)

unit-tests: $(UNIT_TESTS)

test: test-deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)python3 tests/run.py

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/obj/*.d $(OUTPUT)/tests/*.d)

# Benchmark (bench/, docs/benchmarks.md). Runs as root.
# make bench          install missing packages, build, run the full benchmark
# make bench-smoke    the same with a short configuration, well under a minute
# BENCH_ARGS=...      more options for bench/run.py (see --help)
BENCH_OUT := $(OUTPUT)/bench
# Loaders with a BPF object each: bench/NAME.c and bench/NAME.bpf.c.
BENCH_LOADERS := floor wakeup
BENCH_WORKLOADS := file_loop connect_loop exec_loop spawn_sessions
BENCH_BINS := $(BENCH_LOADERS:%=$(BENCH_OUT)/%) $(BENCH_OUT)/claude \
	      $(BENCH_WORKLOADS:%=$(BENCH_OUT)/%)

.PHONY: bench-deps bench-build bench-smoke

$(BENCH_OUT):
	$(Q)mkdir -p $@

$(BENCH_LOADERS:%=$(BENCH_OUT)/%.bpf.o): $(BENCH_OUT)/%.bpf.o: bench/%.bpf.c | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(BENCH_LOADERS:%=$(BENCH_OUT)/%.skel.h): $(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BENCH_LOADERS:%=$(BENCH_OUT)/%): $(BENCH_OUT)/%: bench/%.c $(BENCH_OUT)/%.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -I$(BENCH_OUT) $(LIBBPF_CFLAGS) -MMD -MP $< $(LIBBPF_LIBS) -o $@

# The fake agent must be named claude: ccapm-trace starts a session when it is exec'd.
$(BENCH_OUT)/claude: bench/workloads/fake_agent.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -D_GNU_SOURCE -MMD -MP $< -o $@

$(BENCH_WORKLOADS:%=$(BENCH_OUT)/%): $(BENCH_OUT)/%: bench/workloads/%.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -D_GNU_SOURCE -MMD -MP -pthread $< -o $@

bench-deps:
	$(Q)scripts/install-packages build bench

bench-build: $(OUTPUT)/ccapm-trace $(BENCH_BINS)

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)python3 bench/run.py $(BENCH_ARGS)

bench-smoke: bench-deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)python3 bench/run.py --smoke $(BENCH_ARGS)

-include $(wildcard $(BENCH_OUT)/*.d)

# The end-to-end suite: the real Claude Code CLI, offline in a network
# namespace, traced by build/ccapm-trace (root; npm fetches the CLI once).
e2e: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 tests/run.py e2e

# Deployment checks (deploy/, Dockerfile, man page) against Debian's
# prometheus, promtool and prometheus-node-exporter. Runs as root.
.PHONY: deploy-test
deploy-test: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 tests/run.py deploy
