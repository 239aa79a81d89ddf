# twinbox — build, tests and tooling.
#
#   make            build ./twinbox (installs nothing; see below)
#   make build-all  the binary, the test programs and the test tools
#   make check      build and run every test (unit and integration) twice:
#                   on this build and on a COMPAT=portable one (into
#                   build-portable/), CHECK_JOBS tests at once
#   make run-portable-tests
#                   the fallbacks' tests only, on the portable build
#   make demo       a private IMAP server mirrored to a Maildir, step by step
#   make asan       the same suite under AddressSanitizer + UBSan
#   make bench      twinbox against mbsync and interimap (scripts/bench.sh, docs/benchmarks.md)
#   make valgrind   the unit tests and an end-to-end run under valgrind
#   make fuzz       the IMAP parser and an IMAP store session under
#                   libFuzzer (tests/fuzz/fuzz.mk)
#   make install    install into $(DESTDIR)$(PREFIX) (the systemd user
#                   units of docs/systemd under $(PREFIX)/lib/systemd/user);
#                   make uninstall
#   make clean
#
# Packages. make, build-all and install never install anything: they ask
# pkg-config for openssl and zlib (and check for the test programs) and,
# when one is missing, name the Debian and Fedora packages that provide
# it and stop (scripts/check-build-deps.sh). The developer targets check,
# demo, asan, valgrind, bench and fuzz first run scripts/install-deps.sh
# --if-missing, which on Debian installs what is missing when run as root
# (or prints the apt-get line otherwise), so that a fresh machine with gcc
# and make is enough; the test targets add --servers (Cyrus IMAP, Courier
# IMAP, mailutils for the interoperability tests). Those targets do the
# rest in a sub-make, so that pkg-config is asked once the packages are in.
#
# Variables. CC, CPPFLAGS, CFLAGS, LDFLAGS, LDLIBS, AR and PKG_CONFIG are
# the caller's (command line or environment). CFLAGS defaults to -O2 -g
# and a caller's CFLAGS replaces it; the flags the code needs (-std=c11,
# -D_GNU_SOURCE, -pthread, -Isrc) and the warnings are always added.
# COMPAT=portable builds the POSIX fallback of every Linux-only call
# (src/compat.h) even on Linux; COMPAT=native (the default) uses what the
# platform has. WERROR=1 makes warnings errors; check, asan and valgrind
# set it unless the caller sets WERROR (WERROR=0 to build the tests with
# a compiler that warns). Install paths: DESTDIR, PREFIX, BINDIR, MANDIR, DOCDIR,
# EXAMPLEDIR. BUILD is the build directory.
#
# A change of compiler or flags rebuilds everything: the effective
# command lines are kept in $(BUILD)/.flags, rewritten only when they
# change, and every object depends on it. Header dependencies come from
# -MMD -MP.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/twinbox
EXAMPLEDIR ?= $(DOCDIR)/examples
INSTALL ?= install
SYSTEMD_USER_DIR ?= $(PREFIX)/lib/systemd/user
SYSTEMD_UNITS = twinbox-watch@.service twinbox@.service twinbox@.timer
BUILD ?= build
PKG_CONFIG ?= pkg-config

# GNU make's built-in CC and AR make "CC ?= ..." a no-op; only a caller's
# value (command line or environment) replaces the default. Under make -R
# they are not defined at all.
ifneq ($(filter default undefined,$(origin CC)),)
CC = cc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR = ar
endif
CFLAGS ?= -O2 -g

PKGS = openssl zlib
# -pthread: --verify reads a mailbox pair's two sides at once (glibc has
# the threads in libc; the BSDs and macOS need the flag).
REQ_CPPFLAGS = -Isrc -D_GNU_SOURCE
REQ_CFLAGS = -std=c11 -pthread
COMPAT ?= native
ifeq ($(filter native portable,$(COMPAT)),)
$(error COMPAT=$(COMPAT): use COMPAT=native (the default) or COMPAT=portable)
endif
# Read by src/compat.h and src/compat.c only.
COMPAT_CPPFLAGS = $(if $(filter portable,$(COMPAT)),-DTW_COMPAT_PORTABLE)
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	$(if $(filter 1,$(WERROR)),-Werror)
# The test targets' WERROR: 1 unless the caller chose.
TEST_WERROR = $(if $(filter undefined,$(origin WERROR)),1,$(WERROR))
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# pkg-config runs once per make, and only from recipes, which run after
# have-build-deps (or have-test-deps) found the modules.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell $(PKG_CONFIG) --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell $(PKG_CONFIG) --libs $(PKGS)))$(PKG_LIBS)
CHECK_CFLAGS = $(eval CHECK_CFLAGS := $$(shell $(PKG_CONFIG) --cflags check))$(CHECK_CFLAGS)
CHECK_LIBS = $(eval CHECK_LIBS := $$(shell $(PKG_CONFIG) --libs check))$(CHECK_LIBS)

# The effective flags. EXTRA_CFLAGS and EXTRA_LDFLAGS are the sanitizer
# build's (make asan).
ALL_CFLAGS = $(REQ_CPPFLAGS) $(COMPAT_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) \
	$(REQ_CFLAGS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
ALL_LIBS = $(PKG_LIBS) -pthread $(LDLIBS)
FLAGS_FILE = $(BUILD)/.flags
FLAGS_COMPILE = compile: $(strip $(CC) $(ALL_CFLAGS))
FLAGS_LINK = link: $(strip $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) OBJECTS $(ALL_LIBS))
FLAGS_AR = archive: $(AR)

LIB_SRC = $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/check_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT = $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ = $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
TOOL_BIN = $(patsubst %.c,$(BUILD)/%,$(wildcard tests/tools/*.c))
DEP_FILES = $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d \
	$(TEST_SUPPORT_OBJ:.o=.d) $(TEST_BIN:=.d) $(TOOL_BIN:=.d)

.SECONDARY:

.PHONY: all build-all deps test-deps fuzz-deps have-build-deps have-test-deps \
	check run-tests run-portable-tests demo bench asan valgrind fuzz install uninstall \
	clean FORCE

all: twinbox

twinbox: $(BUILD)/twinbox
	@cp $(BUILD)/twinbox twinbox

# have-test-deps first: without Check, a serial make stops before compiling.
build-all: have-test-deps $(BUILD)/twinbox $(TEST_BIN) $(TOOL_BIN)

have-build-deps:
	@PKG_CONFIG='$(PKG_CONFIG)' scripts/check-build-deps.sh $(PKGS)

have-test-deps:
	@PKG_CONFIG='$(PKG_CONFIG)' scripts/check-build-deps.sh check

# The targets that install packages (Debian, scripts/install-deps.sh).
deps:
	@scripts/install-deps.sh --if-missing

test-deps:
	@scripts/install-deps.sh --if-missing --servers

fuzz-deps:
	@scripts/install-deps.sh --if-missing --fuzz

# make check: the whole suite on this build and on the COMPAT=portable
# build of build-portable/ (every fallback of src/compat.h on this
# platform), CHECK_JOBS tests at once (tests/run-all.sh: JOBS, and the
# portable suite's files on a tmpfs). Most tests wait on servers, time
# outs and signals more than they compute: twice the processors keeps
# them busy (docs/testing.md, "Running time"). The two builds use the
# processors unless the caller gave -j.
NPROC = $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
CHECK_JOBS = $(shell echo $$(($(NPROC) * 2)))
CHECK_MAKE_J = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(NPROC))

check: test-deps
	@$(MAKE) --no-print-directory $(CHECK_MAKE_J) WERROR=$(TEST_WERROR) \
		build-all
	@$(MAKE) --no-print-directory $(CHECK_MAKE_J) WERROR=$(TEST_WERROR) \
		BUILD=build-portable COMPAT=portable build-all
	@$(MAKE) --no-print-directory $(CHECK_MAKE_J) WERROR=$(TEST_WERROR) \
		fuzz-replay
	@JOBS=$(CHECK_JOBS) PORTABLE_BUILD=build-portable \
		TWINBOX_BIN=$${TWINBOX_BIN:-$(BUILD)/twinbox} BUILD=$(BUILD) \
		tests/run-all.sh

run-tests: build-all
	@TWINBOX_BIN=$${TWINBOX_BIN:-$(BUILD)/twinbox} BUILD=$(BUILD) \
		tests/run-all.sh

# A developer's quick look at the fallbacks of src/compat.h (make check
# runs the whole suite on that build): the lock and the durability
# barrier (Maildir, state), the sockets, send() without SIGPIPE and the
# 1.1 OpenSSL calls (transport, Dovecot with STARTTLS, IMAPS and client
# certificates), the pipe (PassCmd), the test tools built on the
# fallbacks (relay, faultproxy), and watch mode's wait (pselect) and its
# periodic sync without inotify (watch.sh). Any other test with
# make run-portable-tests PORTABLE_TESTS="...".
PORTABLE_TESTS = check_compat check_maildir check_maildir_barrier \
	check_maildir_stamp check_state \
	check_transport check_imap_dovecot check_relay check_faultproxy \
	imap_sync.sh imap_auth.sh watch.sh

run-portable-tests:
	@$(MAKE) --no-print-directory BUILD=build-portable COMPAT=portable \
		build-all
	@ONLY='$(PORTABLE_TESTS)' TWINBOX_BIN=build-portable/twinbox \
		BUILD=build-portable tests/run-all.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@TWINBOX_BIN=$(BUILD)/twinbox scripts/demo.sh

bench: deps
	@scripts/bench.sh $(BENCH_ARGS)

asan: test-deps
	@$(MAKE) --no-print-directory BUILD=build-asan WERROR=$(TEST_WERROR) \
		EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
		TWINBOX_BIN=build-asan/twinbox run-tests

valgrind: test-deps
	@$(MAKE) --no-print-directory WERROR=$(TEST_WERROR) build-all
	@VALGRIND=1 TWINBOX_BIN=$(BUILD)/twinbox BUILD=$(BUILD) \
		tests/run-all.sh

# The effective command lines, rewritten only when they change (through
# a file of this make's own, so that two makes at once in one tree never
# read each other's half-written one).
$(FLAGS_FILE): have-build-deps FORCE
	@mkdir -p $(BUILD)
	@new=$@.new.$$$$; \
	printf '%s\n' '$(subst ','\'',$(FLAGS_COMPILE))' \
		'$(subst ','\'',$(FLAGS_LINK))' \
		'$(subst ','\'',$(FLAGS_AR))' >"$$new" || exit 1; \
	if cmp -s "$$new" $@; then rm -f "$$new"; \
	else echo "  FLAGS   $@"; mv -f "$$new" $@; fi

$(BUILD)/twinbox: $(BUILD)/src/main.o $(BUILD)/libtwinbox.a $(FLAGS_FILE)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/src/main.o \
		$(BUILD)/libtwinbox.a $(ALL_LIBS)

$(BUILD)/libtwinbox.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@$(AR) rcs $@ $^

$(BUILD)/src/%.o: src/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/support/%.o: tests/support/%.c $(FLAGS_FILE) | have-test-deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests -MMD -MP -c -o $@ $<

# The tools link compat.o alone (no OpenSSL): their sockets, pipes and
# waits go through src/compat.h as twinbox's do.
$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/src/compat.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -MMD -MP -o $@ $< \
		$(BUILD)/src/compat.o -pthread $(LDLIBS)

# A Check program that watches the allocator (tests/support/alloc_watch.h)
# gets free(), realloc() and fclose() through its own wrappers (GNU ld's
# --wrap).
ALLOC_WATCH_LDFLAGS = -Wl,--wrap=free -Wl,--wrap=realloc -Wl,--wrap=fclose
LDFLAGS_check_trace_auth = $(ALLOC_WATCH_LDFLAGS)
LDFLAGS_check_config = $(ALLOC_WATCH_LDFLAGS)

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJ) $(BUILD)/libtwinbox.a \
		$(FLAGS_FILE) | have-test-deps
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests $(ALL_LDFLAGS) -MMD -MP \
		$(LDFLAGS_$(notdir $@)) \
		-o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/libtwinbox.a \
		$(CHECK_LIBS) $(ALL_LIBS)

# make install: one install-PART and one uninstall-PART per part; a new
# part of the installation is a name added to INSTALL_PARTS and its two
# rules below the others.
INSTALL_PARTS = bin man examples systemd

install: $(INSTALL_PARTS:%=install-%)

uninstall: $(INSTALL_PARTS:%=uninstall-%)

.PHONY: $(INSTALL_PARTS:%=install-%) $(INSTALL_PARTS:%=uninstall-%)

install-bin: all
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)"
	$(INSTALL) -m 755 $(BUILD)/twinbox "$(DESTDIR)$(BINDIR)/twinbox"

uninstall-bin:
	rm -f "$(DESTDIR)$(BINDIR)/twinbox"

install-man:
	$(INSTALL) -d "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man5"
	$(INSTALL) -m 644 docs/twinbox.1 "$(DESTDIR)$(MANDIR)/man1/twinbox.1"
	$(INSTALL) -m 644 docs/sync.rc.5 "$(DESTDIR)$(MANDIR)/man5/sync.rc.5"

uninstall-man:
	rm -f "$(DESTDIR)$(MANDIR)/man1/twinbox.1" \
		"$(DESTDIR)$(MANDIR)/man5/sync.rc.5"

install-examples:
	$(INSTALL) -d "$(DESTDIR)$(EXAMPLEDIR)"
	$(INSTALL) -m 644 sync.rc.sample "$(DESTDIR)$(EXAMPLEDIR)/sync.rc.sample"

uninstall-examples:
	rm -f "$(DESTDIR)$(EXAMPLEDIR)/sync.rc.sample"

# The units name the binary by its installed path (@BINDIR@).
install-systemd:
	$(INSTALL) -d "$(DESTDIR)$(SYSTEMD_USER_DIR)"
	for u in $(SYSTEMD_UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' docs/systemd/$$u \
			>"$(DESTDIR)$(SYSTEMD_USER_DIR)/$$u" && \
		chmod 644 "$(DESTDIR)$(SYSTEMD_USER_DIR)/$$u" || exit 1; \
	done

uninstall-systemd:
	for u in $(SYSTEMD_UNITS); do \
		rm -f "$(DESTDIR)$(SYSTEMD_USER_DIR)/$$u" || exit 1; \
	done

clean:
	rm -rf build build-asan build-portable build-fuzz twinbox

include tests/fuzz/fuzz.mk

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-parser
	@$(MAKE) --no-print-directory fuzz-session

-include $(DEP_FILES)
