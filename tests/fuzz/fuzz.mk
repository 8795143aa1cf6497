# fuzz.mk: fuzz targets, included by the main Makefile (which defines CC,
# ALL_CFLAGS, WARN, PKGS, LDFLAGS, LDLIBS, BUILD and $(BUILD)/libmasthead.a).
#
#   make fuzz-replay   each target linked with tests/fuzz/replay.c by $(CC) and
#                      run over its seed corpus and its regression folder
#                      (CI: BUILD=build-san SANITIZE=address,undefined)
#   make fuzz          each target built with clang and libFuzzer against the
#                      sources compiled again into build-fuzz/, then run for
#                      FUZZ_SECONDS on a copy of its corpus in build-fuzz/corpus/
#   make fuzz FUZZ_TARGETS=template      the same for one target
#
# Crashes land in build-fuzz/artifacts/<target>/; once fixed, copy the input
# into tests/fuzz/regressions/<target>/ so fuzz-replay keeps it fixed.

# Included once, whether by the main Makefile or by -f on the command line.
ifndef MH_FUZZ_MK
MH_FUZZ_MK := 1

FUZZ_DIR      := tests/fuzz
FUZZ_TARGETS  := article frontmatter template text config proxy email meter gift xml
FUZZ_TARGETS  += search
FUZZ_TARGETS  += nql
FUZZ_TARGETS  += html csv bounce path form router stripe
FUZZ_TARGETS  += multipart
FUZZ_BUILD    ?= build-fuzz
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
# libFuzzer options. One template render that spends its whole step budget
# (TMPL_MAX_STEPS) takes about 15 s under the sanitizers: hence -timeout=30.
FUZZ_FLAGS    ?= -timeout=30 -rss_limit_mb=2048
FUZZ_SAN      := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS    = -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -I$(FUZZ_BUILD)/gen -g -O1 -DMH_FUZZ_LIBFUZZER \
                 $(shell pkg-config --cflags $(PKGS))

.PHONY: fuzz fuzz-replay fuzz-build fuzz-clean FORCE

# --- replay: the same sources, any compiler, no libFuzzer ------------------

FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%-replay)

# The objects come from the main Makefile's $(BUILD)/%.o rule.
$(BUILD)/fuzz/%-replay: $(BUILD)/$(FUZZ_DIR)/fuzz_%.o $(BUILD)/$(FUZZ_DIR)/replay.o $(BUILD)/libmasthead.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Keep the objects: they are intermediate files of a pattern-rule chain.
.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/$(FUZZ_DIR)/fuzz_%.o) $(BUILD)/$(FUZZ_DIR)/replay.o

fuzz-replay: $(FUZZ_REPLAY)
	@set -e; for t in $(FUZZ_TARGETS); do \
		printf '== fuzz-replay %-12s ' $$t; \
		$(BUILD)/fuzz/$$t-replay $(FUZZ_DIR)/corpus/$$t \
			$$(test -d $(FUZZ_DIR)/regressions/$$t && echo $(FUZZ_DIR)/regressions/$$t); \
	done

# --- libFuzzer: clang, coverage and sanitizers in every object ---------------

# A separate build dir: the library is compiled again by clang with
# coverage instrumentation (fuzzer-no-link), or libFuzzer would see only
# the harness. The sub-make decides whether anything is stale; inside it
# BUILD is $(FUZZ_BUILD) and the main Makefile's own rule builds the library.
ifneq ($(BUILD),$(FUZZ_BUILD))
$(FUZZ_BUILD)/libmasthead.a: FORCE
	+$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SANITIZE=fuzzer-no-link,address,undefined CFLAGS="-O1 -g" \
		$(FUZZ_BUILD)/libmasthead.a
endif

$(FUZZ_BUILD)/fuzz/%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_BUILD)/libmasthead.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $< $(FUZZ_BUILD)/libmasthead.a $(LDLIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/%)

# Runs each target on a copy of its seeds: libFuzzer writes new inputs into
# its corpus dir, so the seeds in git stay as they are. The regression
# folders are left to fuzz-replay: some of them are slow on purpose (a
# render that spends its whole step budget) and would drag every mutation.
# Every target runs even when an earlier one fails; the exit status tells.
# One target: make fuzz FUZZ_TARGETS=template
fuzz: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
		cp -R $(FUZZ_DIR)/corpus/$$t/. $(FUZZ_BUILD)/corpus/$$t/; \
		dict=; if [ -f $(FUZZ_DIR)/$$t.dict ]; then dict=-dict=$(FUZZ_DIR)/$$t.dict; fi; \
		$(FUZZ_BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ $$dict $(FUZZ_FLAGS) \
			$(FUZZ_BUILD)/corpus/$$t || rc=1; \
	done; exit $$rc

fuzz-clean:
	rm -rf $(FUZZ_BUILD) $(BUILD)/fuzz $(BUILD)/$(FUZZ_DIR)

FORCE:

-include $(wildcard $(BUILD)/$(FUZZ_DIR)/*.d)

endif
