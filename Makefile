# twinbox — build, tests and tooling.
#
#   make            build ./twinbox (installs missing build packages first)
#   make check      build and run every test (unit and integration)
#   make demo       a private IMAP server mirrored to a Maildir, step by step
#   make asan       the same suite under AddressSanitizer + UBSan
#   make bench      twinbox against mbsync and interimap (scripts/bench.sh, docs/benchmarks.md)
#   make valgrind   the unit tests and an end-to-end run under valgrind
#   make install    install into $(DESTDIR)$(PREFIX) (the systemd user
#                   units of docs/systemd under $(PREFIX)/lib/systemd/user)
#   make clean
#
# The targets that compile first run scripts/install-deps.sh --if-missing,
# which installs the Debian packages when run as root (or prints the exact
# apt-get line otherwise), so that a fresh machine with gcc and make is
# enough. The targets that run the tests add --servers: Cyrus IMAP and
# Courier IMAP for the interoperability tests, which a plain build does
# not need. The real work happens in a sub-make so that pkg-config is asked
# only after the packages are there.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSTEMD_USER_DIR ?= $(PREFIX)/lib/systemd/user
SYSTEMD_UNITS = twinbox-watch@.service twinbox@.service twinbox@.timer
CC ?= cc
BUILD ?= build

PKGS = openssl zlib
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# -pthread: --verify reads a mailbox pair's two sides at once (glibc has
# the threads in libc; the BSDs and macOS need the flag).
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -pthread $(WARN) -Isrc
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

LIB_SRC = $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/check_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT = $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ = $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
TOOL_BIN = $(patsubst %.c,$(BUILD)/%,$(wildcard tests/tools/*.c))

.SECONDARY:

.PHONY: all deps test-deps check asan valgrind install clean build-all run-tests \
	demo bench fuzz fuzz-deps

all: deps
	@$(MAKE) --no-print-directory twinbox

deps:
	@scripts/install-deps.sh --if-missing

test-deps:
	@scripts/install-deps.sh --if-missing --servers

check: test-deps
	@$(MAKE) --no-print-directory run-tests

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/twinbox
	@TWINBOX_BIN=$(BUILD)/twinbox scripts/demo.sh

bench: deps
	@scripts/bench.sh $(BENCH_ARGS)

asan: test-deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
		EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
		TWINBOX_BIN=build-asan/twinbox run-tests

valgrind: test-deps
	@$(MAKE) --no-print-directory build-all
	@VALGRIND=1 TWINBOX_BIN=$(BUILD)/twinbox BUILD=$(BUILD) \
		tests/run-all.sh

# Everything below runs with the packages present.
CFLAGS_ALL = $(BASE_CFLAGS) $(shell pkg-config --cflags $(PKGS)) \
	$(EXTRA_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS)) -pthread $(EXTRA_LDFLAGS) \
	$(LDFLAGS)
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

twinbox: $(BUILD)/twinbox
	@cp $(BUILD)/twinbox twinbox

build-all: $(BUILD)/twinbox $(TEST_BIN) $(TOOL_BIN)

run-tests: build-all
	@TWINBOX_BIN=$${TWINBOX_BIN:-$(BUILD)/twinbox} BUILD=$(BUILD) \
		tests/run-all.sh

$(BUILD)/twinbox: $(BUILD)/src/main.o $(BUILD)/libtwinbox.a
	@echo "  LD      $@"
	@$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libtwinbox.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Itests -MMD -MP -c -o $@ $<

$(BUILD)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $<

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJ) $(BUILD)/libtwinbox.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Itests -MMD -MP -o $@ $< \
		$(TEST_SUPPORT_OBJ) $(BUILD)/libtwinbox.a $(CHECK_LIBS) \
		$(LDLIBS_ALL)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 755 twinbox $(DESTDIR)$(BINDIR)/twinbox
	install -m 644 docs/twinbox.1 $(DESTDIR)$(MANDIR)/man1/twinbox.1
	install -m 644 docs/sync.rc.5 $(DESTDIR)$(MANDIR)/man5/sync.rc.5
	install -d $(DESTDIR)$(SYSTEMD_USER_DIR)
	for u in $(SYSTEMD_UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' docs/systemd/$$u \
			>$(DESTDIR)$(SYSTEMD_USER_DIR)/$$u && \
		chmod 644 $(DESTDIR)$(SYSTEMD_USER_DIR)/$$u || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz twinbox

include tests/fuzz/fuzz.mk

fuzz: fuzz-deps fuzz-parser

fuzz-deps:
	@scripts/install-deps.sh --if-missing --fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
