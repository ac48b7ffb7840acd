# liblpnas — one Makefile for the library, examples, tests and benches.
#
#   make              build/liblpnas.a and every example program (build/bin/)
#   make test         build and run every Check suite (test/test_*.c)
#   make test-asan    the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-long    the exhaustive sweeps (LPNAS_TEST_LONG=1)
#   make fuzz         libFuzzer harnesses (clang), each run FUZZ_SECONDS (default 60)
#   make bench        throughput tables (bench/bench_*.c)
#   make tools        developer tools (build/tools/: fit_myriadx, docs/latency.md)
#   make demo         the main job: examples/vessel_search on synthetic data
#   make MPI=1        also liblpnas_mpi.a and vessel_search with MPI (mpirun -np N);
#                     the default when mpicc is found (MPI=0: without)
#   make install PREFIX=/usr/local   archive, headers and lpnas.pc
#   make clean
#
# Never add the compiler's "fast math" flags: they break IEEE special values
# and may set flush-to-zero process-wide. -ffp-contract=off keeps the compiler from fusing
# a*b+c into an fma behind our back (clang contracts by default), which would
# change rounding and break bit-exactness against the reference loops.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O3
VERSION := 0.1.0

APT_PACKAGES := build-essential pkg-config libopenblas-dev libpng-dev zlib1g-dev check

NEED_DEPS := $(filter-out clean help,$(or $(MAKECMDGOALS),all))
ifneq ($(NEED_DEPS),)
ifneq ($(shell pkg-config --exists openblas libpng zlib check 2>/dev/null && echo yes),yes)
$(error missing dependencies (pkg-config cannot find openblas, libpng, zlib or check): sh tools/install_deps.sh (or as root: apt-get install -y $(APT_PACKAGES)))
endif
endif

DEP_CFLAGS := $(shell pkg-config --cflags openblas libpng zlib 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs openblas libpng zlib 2>/dev/null) -lpthread -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -ffp-contract=off \
              -fno-strict-aliasing $(CFLAGS) $(SAN) -I. -Iinclude $(DEP_CFLAGS) -MMD -MP
LDFLAGS ?=

LIB_DIRS := base fp16 kernels lib nas
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBRARY  := $(BUILD)/liblpnas.a

EXAMPLES     := $(notdir $(patsubst %/,%,$(wildcard examples/*/)))
EXAMPLE_BINS := $(EXAMPLES:%=$(BUILD)/bin/%)

TEST_UTIL_SRC := $(filter-out test/test_%.c,$(wildcard test/*.c))
# The fuzz harnesses (test/fuzz/): replayed over their corpora by test_fuzz.
FUZZ_SRC  := $(wildcard test/fuzz/*.c)
FUZZ_OBJ  := $(FUZZ_SRC:%.c=$(BUILD)/obj/%.o)
FUZZ_NAMES := $(patsubst test/fuzz/fuzz_%.c,%,$(filter-out test/fuzz/fuzz_util.c,$(wildcard test/fuzz/fuzz_*.c)))
TEST_UTIL_OBJ := $(TEST_UTIL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(wildcard test/test_*.c)
TEST_BINS := $(TEST_SRC:test/%.c=$(BUILD)/test/%)

BENCH_UTIL_SRC := $(filter-out bench/bench_%.c,$(wildcard bench/*.c))
BENCH_UTIL_OBJ := $(BENCH_UTIL_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_SRC  := $(wildcard bench/bench_*.c)
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib examples tests benches tools test test-asan test-long bench demo install clean help fuzz fuzz-bins
.DEFAULT_GOAL := all
.SECONDARY:

all: lib examples
lib: $(LIBRARY)
examples: $(EXAMPLE_BINS)
tests: $(TEST_BINS)
benches: $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBRARY): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

# MPI (docs/distributed.md): the transport is compiled with mpicc's flags
# (and our compiler, so CC=clang and the sanitizers apply) into its own
# archive, so liblpnas.a never needs MPI; vessel_search links it when MPI=1.
MPICC ?= mpicc
MPI ?= $(if $(shell command -v $(MPICC) 2>/dev/null),1,0)
ifeq ($(MPI),1)
MPI_LIB   := $(BUILD)/liblpnas_mpi.a
MPI_LIBS  := $(shell $(MPICC) --showme:link 2>/dev/null)
MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null)
$(BUILD)/obj/mpi/%.o: mpi/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c $< -o $@
$(MPI_LIB): $(BUILD)/obj/mpi/transport_mpi.o
	@rm -f $@
	$(AR) rcs $@ $^
# the MPI flag is in the object's name, so switching MPI rebuilds it
$(BUILD)/obj/examples/vessel_search/main.mpi.o: examples/vessel_search/main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLPNAS_WITH_MPI -c $< -o $@
EXAMPLE_OBJ_vessel_search := $(BUILD)/obj/examples/vessel_search/main.mpi.o \
    $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out examples/vessel_search/main.c,$(wildcard examples/vessel_search/*.c)))
EXAMPLE_EXTRA_vessel_search := $(MPI_LIB) $(MPI_LIBS)
lib: $(MPI_LIB)
endif

# Each example is a folder examples/NAME/ whose .c files make build/bin/NAME.
define EXAMPLE_RULE
$(BUILD)/bin/$(1): $(or $(EXAMPLE_OBJ_$(1)),$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard examples/$(1)/*.c))) $(LIBRARY) $(filter %.a,$(EXAMPLE_EXTRA_$(1)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(filter %.a,$(EXAMPLE_EXTRA_$(1))) $(LIBRARY) $(filter-out %.a,$(EXAMPLE_EXTRA_$(1))) $$(DEP_LIBS)
endef
$(foreach e,$(EXAMPLES),$(eval $(call EXAMPLE_RULE,$(e))))

$(BUILD)/obj/test/%.o: test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(TEST_UTIL_OBJ) $(LIBRARY)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_UTIL_OBJ) $(LIBRARY) $(CHECK_LIBS) $(DEP_LIBS)

# test_fuzz replays every harness over its corpus (no libFuzzer needed).
$(BUILD)/test/test_fuzz: $(BUILD)/obj/test/test_fuzz.o $(FUZZ_OBJ) $(TEST_UTIL_OBJ) $(LIBRARY)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(FUZZ_OBJ) $(TEST_UTIL_OBJ) $(LIBRARY) $(CHECK_LIBS) $(DEP_LIBS)

# Developer tools: one program per tools/NAME.c (the Myriad X calibration fit).
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))
tools: $(TOOL_BINS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(LIBRARY)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBRARY) $(DEP_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BENCH_UTIL_OBJ) $(LIBRARY)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_UTIL_OBJ) $(LIBRARY) $(DEP_LIBS)

# The examples are built too, because some suites run them end to end.
test: $(TEST_BINS) $(EXAMPLE_BINS)
	@BUILD=$(BUILD) sh tools/run_tests.sh $(TEST_BINS)

test-long: $(TEST_BINS) $(EXAMPLE_BINS)
	@LPNAS_TEST_LONG=1 BUILD=$(BUILD) sh tools/run_tests.sh $(TEST_BINS)

# A separate build tree so sanitized and plain objects never mix.
# Sanitized code runs several times slower (test_onnx's every-network check
# took over 900 s on a busy core): Check multiplies each case's timeout by this.
test-asan:
	@CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-4} $(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" test

# libFuzzer (clang -fsanitize=fuzzer; Debian: clang libclang-rt-14-dev) in
# its own tree; new inputs go to build-fuzz/corpus/NAME, crashes to
# build-fuzz/crash-NAME-*; the seeds and every crash found live in test/fuzz/NAME/.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -rss_limit_mb=2048 -malloc_limit_mb=2048
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1" \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" fuzz-bins
	@for n in $(FUZZ_NAMES); do \
	  mkdir -p build-fuzz/corpus/$$n; echo "== fuzz $$n for $(FUZZ_SECONDS) s"; \
	  build-fuzz/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    -artifact_prefix=build-fuzz/crash-$$n- build-fuzz/corpus/$$n test/fuzz/$$n || exit 1; \
	done

fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_util.c test/fuzz/fuzz.h $(LIBRARY)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLPNAS_FUZZ_MAIN -fsanitize=fuzzer,address,undefined -o $@ $< test/fuzz/fuzz_util.c \
	  $(LIBRARY) $(DEP_LIBS)

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# The main job is examples/vessel_search; until it exists, a small fp16 example.
ifneq ($(wildcard examples/vessel_search),)
demo: $(BUILD)/bin/vessel_search
	$(BUILD)/bin/vessel_search --out out/demo
else
demo: $(BUILD)/bin/fp16_demo
	$(BUILD)/bin/fp16_demo
endif

install: $(LIBRARY)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/lpnas
	install -m 644 $(LIBRARY) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/lpnas.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/lpnas/*.h $(DESTDIR)$(PREFIX)/include/lpnas/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lpnas.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lpnas.pc

clean:
	rm -rf build build-asan build-fuzz

help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'
	@echo "this build: MPI=$(MPI) ($(if $(filter 1,$(MPI)),vessel_search runs under mpirun,no MPI: one process))"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
