# masthead build. `make` builds build/masthead; `make test` runs every test;
# `make sanitize` runs the whole suite under ASan and UBSan.

CC      ?= cc
BUILD   ?= build
PKGS     = libmicrohttpd sqlite3 libpq libsodium libcmark yaml-0.1 jansson inih libcurl gumbo libxml-2.0 libzip opendkim libcrypto libarchive vips
PY      ?= /usr/bin/python3
SANITIZE ?=

WARN     = -Wall -Wextra -Wshadow -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -I$(BUILD)/gen $(CFLAGS) \
             $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LDLIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

SRC      := $(shell find src -name '*.c' ! -path 'src/main.c' | sort)
OBJ      := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded_migrations.o $(BUILD)/gen/embedded_theme.o \
            $(BUILD)/gen/embedded_demo.o
MIGRATIONS := $(sort $(wildcard src/store/migrations/*/*.sql))
# Migrations live per engine: a file left directly in migrations/ would be
# compiled into neither.
ifneq ($(wildcard src/store/migrations/*.sql),)
$(error $(wildcard src/store/migrations/*.sql): move it into src/store/migrations/sqlite/ and write its twin in src/store/migrations/postgres/)
endif
THEME    := $(shell find themes/default -type f | sort)
DEMO     := $(sort $(wildcard demo/articles/*.md))
TESTS_C  := $(sort $(wildcard tests/unit/test_*.c))
TESTS    := $(TESTS_C:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: scan deb test-deb all test unit e2e dates faults browser api-client sanitize format format-check clean bench demo fuzz fuzz-replay test-pg test-cluster

all: $(BUILD)/masthead

$(BUILD)/masthead: $(BUILD)/src/main.o $(BUILD)/libmasthead.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libmasthead.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -Wall -Werror -o $@ $<

$(BUILD)/gen/embedded_migrations.c: $(BUILD)/tools/embed $(MIGRATIONS)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $@ embedded_migrations src/store/migrations/ $(MIGRATIONS)

$(BUILD)/gen/embedded_theme.c: $(BUILD)/tools/embed $(THEME)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $@ embedded_theme themes/default/ $(THEME)

$(BUILD)/gen/embedded_demo.c: $(BUILD)/tools/embed $(DEMO)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $@ embedded_demo demo/articles/ $(DEMO)

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(filter-out -Werror,$(ALL_CFLAGS)) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmasthead.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libmasthead.a $(LDLIBS) -lcmocka

# The official Mustache spec is another project's text and is not in this
# repository: the template tests run it when MUSTACHE_SPEC names a folder that
# holds it (CI has it beside the checkout), and say plainly when they did not.
MUSTACHE_SPEC ?= $(wildcard ../shared/testdata/mustache-spec)

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; MASTHEAD_MUSTACHE_SPEC=$(abspath $(MUSTACHE_SPEC)) $$t; done

# The same sources with fault points compiled in (core/fault.h), for the
# tests that make masthead crash or stall on purpose; never installed.
faults:
	$(MAKE) BUILD=$(BUILD)-faults CFLAGS="$(CFLAGS) -DMH_FAULTS" $(BUILD)-faults/masthead

e2e: $(BUILD)/masthead faults
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) MASTHEAD_FAULT_BIN=$(abspath $(BUILD)-faults/masthead) \
		$(PY) -m pytest -q tests/e2e

# The end-to-end suite once per awkward date (tests/dates): the 1st, the 28th
# to the 31st, 29 February, 31 December; DATES="..." runs only those.
dates: $(BUILD)/masthead faults
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) MASTHEAD_FAULT_BIN=$(abspath $(BUILD)-faults/masthead) \
		PY=$(PY) tests/dates $(DATES)

browser: $(BUILD)/masthead
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) npm run --silent test:browser

# The official Ghost Content API client (npm) against the real binary.
api-client: $(BUILD)/masthead
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) npm run --silent test:api-client

# The whole suite: unit tests, end-to-end tests against the real binary, then
# the same binary in a real browser.
test: all unit e2e browser api-client

# The store contract and the end-to-end suite again on PostgreSQL: a
# throwaway cluster (scripts/pg-cluster: initdb as the postgres user, a free
# port on 127.0.0.1, a temporary directory) for the run, stopped and removed
# after it, also when a test fails. Each contract test and each test's data
# dir gets a database of its own on it.
PG_ENV = $(abspath $(BUILD))/pg-cluster.env
test-pg: $(BUILD)/masthead $(BUILD)/tests/test_store_contract faults
	@set -e; url=$$(scripts/pg-cluster start $(PG_ENV)); \
	trap 'scripts/pg-cluster stop $(PG_ENV)' EXIT INT TERM; \
	echo "== store contract on $$url"; \
	MASTHEAD_STORE_URLS="$$url" $(BUILD)/tests/test_store_contract; \
	echo "== e2e on $$url"; \
	MASTHEAD_TEST_DB="$$url" MASTHEAD_BIN=$(abspath $(BUILD)/masthead) \
		MASTHEAD_FAULT_BIN=$(abspath $(BUILD)-faults/masthead) $(PY) -m pytest -q tests/e2e $(PYTEST_ARGS)

# Two nodes on one throwaway PostgreSQL behind HAProxy (deploy/haproxy.cfg),
# all on 127.0.0.1: sessions across nodes, kill -9 under load, both
# schedulers over the same due work. -rP prints the failover figures.
test-cluster: $(BUILD)/masthead
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) $(PY) -m pytest -q -rP tests/cluster $(PYTEST_ARGS)

# Everything C under ASan and UBSan: unit, end-to-end and the fuzz corpora.
sanitize:
	$(MAKE) BUILD=build-san SANITIZE=address,undefined CFLAGS="-O1 -g" all unit e2e fuzz-replay

format:
	clang-format -i $$(find src tests/unit tools -name '*.[ch]')

format-check:
	clang-format --dry-run --Werror $$(find src tests/unit tools -name '*.[ch]')

# make demo [PORT=8081] [DATA=dir]
demo: $(BUILD)/masthead
	$(BUILD)/masthead demo $(if $(PORT),--port $(PORT)) $(if $(DATA),--data $(DATA))

bench: $(BUILD)/masthead
	bench/run

# sqlmap, wapiti and slowhttptest against the demo on 127.0.0.1, their
# reports read and asserted (tests/scan); -rP prints the figures. ~6 min.
scan: $(BUILD)/masthead
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) $(PY) -m pytest -q -rPx tests/scan $(PYTEST_ARGS)

# A Debian package of build/masthead (scripts/build-deb: dpkg-deb only),
# into build/deb/; test-deb checks it and, as root, installs, runs and
# purges it on this machine (tests/deb).
deb: $(BUILD)/masthead
	scripts/build-deb $(BUILD)/masthead $(BUILD)/deb

test-deb: $(BUILD)/masthead
	MASTHEAD_BIN=$(abspath $(BUILD)/masthead) $(PY) -m pytest -q -rs tests/deb $(PYTEST_ARGS)

clean:
	rm -rf build build-san build-faults build-san-faults

-include $(OBJ:.o=.d) $(BUILD)/src/main.d

# Fuzz targets for every parser of outside input (fuzz, fuzz-replay).
-include tests/fuzz/fuzz.mk
