# wardwall: plain GNU make with pkg-config. `make help` lists the targets.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CLANG ?= clang
# The release, and the commit it was built from (WW_GIT overrides it: a source package has no .git).
VERSION := 0.2.0
WW_GIT ?= $(shell git rev-parse --short HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d

PKGS := libnftnl libmnl libnetfilter_conntrack libnl-3.0 libnl-route-3.0 libcjson libbpf libsodium libcurl \
	libmicrohttpd openssl
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DWW_VERSION='"$(VERSION) $(WW_GIT)"' \
	$(addprefix -I,$(SRC_DIRS)) -I$(BUILD) -Ibpf $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# One folder per pipeline stage (docs/architecture.md). Everything but the command line
# (controller/cli/) forms the library the tests link against.
SRC_DIRS := $(sort $(dir $(wildcard controller/*/*.c)))
SRC_DIRS := $(SRC_DIRS:%/=%)
CMD_SRCS := $(wildcard controller/cli/*.c)
LIB_SRCS := $(filter-out $(CMD_SRCS),$(wildcard controller/*/*.c))
LIB_OBJS := $(patsubst controller/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
CMD_OBJS := $(patsubst controller/%.c,$(BUILD)/obj/%.o,$(CMD_SRCS))
HDRS := $(wildcard controller/*/*.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit demo demo-fleet fuzz bench bench-fleet soak install man deb-test clean help \
	format vm-test vm-kernel long-functions

all: $(BUILD)/wardwall

help:
	@echo "make            build $(BUILD)/wardwall"
	@echo "make deps       install missing Debian packages (root)"
	@echo "make test       install deps, build, run every suite; ends with 'N passed, N failed'"
	@echo "make demo       the example hospital policy on a simulated network"
	@echo "make fuzz       build and run every fuzz target, FUZZ_SECONDS=600 each (tests/fuzz/)"
	@echo "make bench      benchmarks (not part of make test)"
	@echo "make demo-fleet three gateways converging through etcd, a canary rollout, fleet status"
	@echo "make bench-fleet convergence at 1, 5 and 20 gateways on a 3-member etcd, and the fault table"
	@echo "make vm-test KERNEL=6.1|6.12|linux-image-...  doctor and the kernel suites on a Debian"
	@echo "                kernel under qemu (vm/run.sh; VM_SUITES=a,b to choose suites)"
	@echo "make soak       apply/rollback/remove killed at every step boundary, SOAK_ROUNDS=20 times (1,040 trials)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"
	@echo "make deb-test   build the Debian package, lintian, install/upgrade/purge it in a scratch root"
	@echo "make long-functions  functions over 100 lines without a 'Long:' reason (not part of make test)"

deps:
	@vm/install-deps.sh

$(BUILD)/obj/%.o: controller/%.c $(HDRS) | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The .d files of an older build may name a header since renamed or removed: that must not stop
# the build (the object is rebuilt anyway, every object depends on $(HDRS)).
controller/%.h: ;

$(BUILD)/obj $(BUILD)/tests:
	@mkdir -p $@

# The XDP program, compiled for BPF and embedded in the controller as a libbpf skeleton.
BPF_CFLAGS := -g -O2 -target bpf -D__bpf__ -Wall -Werror -Ibpf \
	-I/usr/include/$(shell uname -m)-linux-gnu
$(BUILD)/wardwall.bpf.o: bpf/wardwall.bpf.c bpf/wardwall.h | $(BUILD)/obj
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/wardwall.skel.h: $(BUILD)/wardwall.bpf.o
	bpftool gen skeleton $< name wardwall_bpf > $@

$(LIB_OBJS) $(CMD_OBJS): $(BUILD)/wardwall.skel.h

# Made afresh: `ar r` into an existing archive keeps the members of sources since renamed or
# removed, and the linker may take a stale one (a renamed file's old object) over the new one.
$(BUILD)/libwardwall.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/wardwall: $(CMD_OBJS) $(BUILD)/libwardwall.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libwardwall.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwardwall.a tests/unit/unit.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libwardwall.a $(LIBS) -lcmocka

# The nftables model (tests/unit/nfr_eval.c, test code) is linked into the test that uses it.
$(BUILD)/tests/test_nft_model: tests/unit/test_nft_model.c tests/unit/nfr_eval.c \
		tests/unit/nfr_eval.h tests/xdp/randgen.h $(BUILD)/libwardwall.a tests/unit/unit.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< tests/unit/nfr_eval.c $(BUILD)/libwardwall.a $(LIBS) -lcmocka

unit: $(UNIT_BINS)

# Suite 90-vm-smoke boots Debian 12's 6.1 kernel under qemu: `make test` fetches and prepares it
# first (vm/kernel.sh: once, kept in /var/cache/wardwall-vm). WW_VM_SMOKE=0 skips both.
vm-kernel:
	@if [ "$${WW_VM_SMOKE:-1}" != 0 ] && command -v qemu-system-x86_64 >/dev/null; then \
		vm/kernel.sh 6.1 >/dev/null || echo "make: no 6.1 kernel prepared: 90-vm-smoke will skip"; fi

test: deps vm-kernel
	@$(MAKE) --no-print-directory all unit
	@tests/run-all $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

demo-fleet: deps
	@$(MAKE) --no-print-directory all
	@tests/fleet/demo.sh $(BUILD)

bench-fleet: deps all
	@tests/bench/fleet.sh $(BUILD)

# ---- fuzzing (tests/fuzz/fuzz_*.c, libFuzzer). The library is built once with the fuzzer's
# coverage and ASan/UBSan into $(BUILD)/fuzz-obj/; each target links it. `make fuzz` runs every
# target for FUZZ_SECONDS, one after the other, each with its own corpus in $(BUILD)/fuzz-corpus/
# seeded from its folders below. `make unit` also builds each harness without libFuzzer as a
# replayer ($(BUILD)/tests-fuzz/), which tests/suites/13-fuzz-regress.sh runs over the seeds and
# regression inputs.
FUZZ_SECONDS ?= 600
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE $(addprefix -I,$(SRC_DIRS)) -Ibpf \
	-I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJS := $(patsubst controller/%.c,$(BUILD)/fuzz-obj/%.o,$(LIB_SRCS))
# Seeds and regression inputs of each target (the policy targets share theirs).
FUZZ_CORPUS_fuzz_policy := tests/fuzz/seeds tests/fuzz/regress
FUZZ_CORPUS_fuzz_nft := tests/fuzz/seeds tests/fuzz/regress
FUZZ_CORPUS_fuzz_xdp := tests/fuzz/seeds tests/fuzz/regress
FUZZ_CORPUS_fuzz_nflog := tests/fuzz/nflog
FUZZ_CORPUS_fuzz_events := tests/fuzz/events
FUZZ_CORPUS_fuzz_serve := tests/fuzz/http
FUZZ_OPTS_fuzz_policy := -max_len=65536 -dict=tests/fuzz/policy.dict
FUZZ_OPTS_fuzz_nft := -max_len=16384 -dict=tests/fuzz/policy.dict
FUZZ_OPTS_fuzz_xdp := -max_len=16384 -dict=tests/fuzz/policy.dict
FUZZ_OPTS_fuzz_nflog := -max_len=4096
FUZZ_OPTS_fuzz_events := -max_len=16384
FUZZ_OPTS_fuzz_serve := -max_len=8192 -dict=tests/fuzz/http.dict

$(BUILD)/fuzz-obj/%.o: controller/%.c $(HDRS) $(BUILD)/wardwall.skel.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/libwardwall-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(BUILD)/libwardwall-fuzz.a
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(BUILD)/libwardwall-fuzz.a $(LIBS)

$(BUILD)/tests-fuzz:
	@mkdir -p $@

$(BUILD)/tests-fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(BUILD)/libwardwall.a | $(BUILD)/tests-fuzz
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay.c $(BUILD)/libwardwall.a $(LIBS)

.PHONY: fuzz-replay
fuzz-replay: $(FUZZ_NAMES:%=$(BUILD)/tests-fuzz/%)
unit: fuzz-replay

fuzz: deps $(FUZZ_NAMES:%=$(BUILD)/%)
	@for t in $(FUZZ_NAMES); do mkdir -p $(BUILD)/fuzz-corpus/$$t; done
	$(foreach t,$(FUZZ_NAMES),$(BUILD)/$(t) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(FUZZ_OPTS_$(t)) $(BUILD)/fuzz-corpus/$(t) $(FUZZ_CORPUS_$(t)) &&) true

# ---- a distribution kernel under qemu (vm/run.sh, docs/kernel.md "Kernels tested").
KERNEL ?= 6.1
VM_SUITES ?=
vm-test: deps
	@$(MAKE) --no-print-directory all unit
	@BUILD=$(BUILD) vm/run.sh $(KERNEL) $(VM_SUITES)

# tests/bench/pktgen_afp.c: the AF_PACKET frame generator of tests/bench/nft-rate.sh.
$(BUILD)/bench/pktgen_afp: tests/bench/pktgen_afp.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o $@ $<

bench: deps all $(BUILD)/bench/pktgen_afp
	@tests/bench/run.sh $(BUILD)

# Crash-point soak: tests/e2e/crash.sh kills apply, rollback and remove at each of its 52
# (transition, step boundary) pairs, SOAK_ROUNDS times; suite 33 does one round.
SOAK_ROUNDS ?= 20
soak: deps all
	@tests/xdp/sandbox.sh tests/e2e/crash.sh $(SOAK_ROUNDS)


# Man pages from the docs (pandoc): wardwall(8) is docs/man/wardwall.8.md around docs/cli.md and
# docs/operations.md, wardwall-policy(5) docs/man/wardwall-policy.5.md around docs/policy.md.
MAN_DATE := $(shell date -u +%Y-%m-%d -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)})
PANDOC_MAN = pandoc -s -f markdown -t man --lua-filter packaging/man-tables.lua -M date=$(MAN_DATE) -M footer="wardwall $(VERSION)" \
	-M header="wardwall manual"
$(BUILD)/man/wardwall.8: docs/man/wardwall.8.md docs/cli.md docs/operations.md packaging/man-tables.lua
	@mkdir -p $(dir $@)
	{ sed '/^# FILES/,$$d' docs/man/wardwall.8.md; echo '# COMMANDS'; sed 1d docs/cli.md; \
	  echo '# OPERATION'; sed 1d docs/operations.md; sed -n '/^# FILES/,$$p' docs/man/wardwall.8.md; } | \
	  $(PANDOC_MAN) -M title=WARDWALL -M section=8 -o $@
$(BUILD)/man/wardwall-policy.5: docs/man/wardwall-policy.5.md docs/policy.md packaging/man-tables.lua
	@mkdir -p $(dir $@)
	{ sed '/^# SEE ALSO/,$$d' docs/man/wardwall-policy.5.md; echo '# THE LANGUAGE'; sed 1d docs/policy.md; \
	  sed -n '/^# SEE ALSO/,$$p' docs/man/wardwall-policy.5.md; } | \
	  $(PANDOC_MAN) -M title=WARDWALL-POLICY -M section=5 -o $@
man: $(BUILD)/man/wardwall.8 $(BUILD)/man/wardwall-policy.5

# Everything a Debian service needs (docs/operations.md). /etc/wardwall/policy.json is the example,
# marked as such, and is never overwritten: an existing one is the operator's.
install: all man
	install -D -m 0755 $(BUILD)/wardwall $(DESTDIR)$(SBINDIR)/wardwall
	install -D -m 0644 policies/wardwall.schema.json \
		$(DESTDIR)$(PREFIX)/share/wardwall/wardwall.schema.json
	install -D -m 0644 policies/example-hospital.json \
		$(DESTDIR)$(PREFIX)/share/wardwall/examples/example-hospital.json
	install -D -m 0644 $(BUILD)/man/wardwall.8 $(DESTDIR)$(PREFIX)/share/man/man8/wardwall.8
	install -D -m 0644 $(BUILD)/man/wardwall-policy.5 \
		$(DESTDIR)$(PREFIX)/share/man/man5/wardwall-policy.5
	install -D -m 0644 packaging/completion/wardwall.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wardwall
	install -D -m 0644 packaging/completion/_wardwall \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_wardwall
	for u in packaging/systemd/*; do \
		sed 's|/usr/sbin/wardwall|$(SBINDIR)/wardwall|g' $$u > $(BUILD)/$$(basename $$u) && \
		install -D -m 0644 $(BUILD)/$$(basename $$u) $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -D -m 0644 packaging/tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/wardwall.conf
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/wardwall
	[ -e $(DESTDIR)$(SYSCONFDIR)/wardwall/policy.json ] || { \
		sed -e 's|"description": "|"description": "EXAMPLE installed by wardwall: replace it with your own policy before enabling wardwall.service. |' \
		    -e 's|"\$$schema": "./wardwall.schema.json"|"$$schema": "$(PREFIX)/share/wardwall/wardwall.schema.json"|' \
		    policies/example-hospital.json > $(BUILD)/policy.json && \
		install -m 0644 $(BUILD)/policy.json $(DESTDIR)$(SYSCONFDIR)/wardwall/policy.json; }

# The Debian package: built from a copy of the tracked files, lintian, then installed, upgraded,
# removed and purged in a scratch root inside private namespaces (suite 19-deb, also in make test).
deb-test: deps
	@tests/suites/19-deb.sh

long-functions:
	@tests/long-functions.sh

format:
	clang-format -i controller/*/*.[ch] bpf/*.[ch] tests/unit/*.[ch] tests/xdp/*.[ch] tests/fuzz/*.c

clean:
	rm -rf $(BUILD)

# ---- XDP tests: the program on crafted frames (BPF_PROG_TEST_RUN), random-policy differential
# test, verifier and load test. Built into $(BUILD)/tests-xdp/, not $(BUILD)/tests/: tests/run-all
# runs every $(BUILD)/tests/test_* directly, and these must run inside tests/xdp/sandbox.sh (a
# private mount and network namespace with a private bpffs), as tests/suites/40-xdp-packets.sh
# runs them.
XDP_TEST_SRCS := $(wildcard tests/xdp/test_*.c)
XDP_TEST_BINS := $(XDP_TEST_SRCS:tests/xdp/%.c=$(BUILD)/tests-xdp/%)

.PHONY: xdp-tests
xdp-tests: $(XDP_TEST_BINS)
unit: xdp-tests

$(BUILD)/tests-xdp:
	@mkdir -p $@

$(BUILD)/tests-xdp/%: tests/xdp/%.c $(wildcard tests/xdp/*.h) $(BUILD)/libwardwall.a | $(BUILD)/tests-xdp
	$(CC) $(ALL_CFLAGS) -Itests/xdp -o $@ $< $(BUILD)/libwardwall.a $(LIBS) -lcmocka
# ---- end of the XDP tests

# ---- nftables tests against the kernel and nft (tests/nft/): built into $(BUILD)/tests-nft/, not
# $(BUILD)/tests/, because they must run in a network namespace of their own, as
# tests/suites/38-nft-flowmaps.sh runs them.
NFT_TEST_SRCS := $(wildcard tests/nft/test_*.c)
NFT_TEST_BINS := $(NFT_TEST_SRCS:tests/nft/%.c=$(BUILD)/tests-nft/%)

.PHONY: nft-tests
nft-tests: $(NFT_TEST_BINS)
unit: nft-tests

$(BUILD)/tests-nft:
	@mkdir -p $@

$(BUILD)/tests-nft/%: tests/nft/%.c $(BUILD)/libwardwall.a | $(BUILD)/tests-nft
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwardwall.a $(LIBS)
# ---- end of the nftables tests

-include $(wildcard $(BUILD)/obj/*/*.d)
.PRECIOUS: $(BUILD)/fuzz-obj/%.o
