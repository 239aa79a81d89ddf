# Fuzzing with libFuzzer: the IMAP response parser (fuzz_parser) and an
# IMAP store session against a fake server (fuzz_session).
#
# Included by the main Makefile; `make fuzz` builds $(FUZZ_BUILD)/fuzz_parser
# and $(FUZZ_BUILD)/fuzz_session with clang and runs each for FUZZ_TIME
# seconds on a copy of its seed corpus, so that the committed seeds stay
# small. Needs clang and its fuzzer runtime (Debian: clang,
# libclang-rt-14-dev); the session harness also needs openssl and zlib
# (pkg-config).

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_PARSER_SRC = src/util/buf.c $(wildcard src/imap/parser*.c) \
	tests/fuzz/fuzz_parser.c
FUZZ_PARSER_SEEDS = tests/fuzz/corpus/parser

$(FUZZ_BUILD)/fuzz_parser: $(FUZZ_PARSER_SRC) $(wildcard src/imap/parser*.h) \
		src/util/buf.h
	@mkdir -p $(FUZZ_BUILD)
	@echo "  CCLD    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $(FUZZ_PARSER_SRC) \
		$(PKG_LIBS)

# The session harness links the whole library, built with the fuzzer's
# instrumentation into $(FUZZ_BUILD)/obj, and wraps net_connect() and
# net_wait() so that the server is the harness itself (fuzz_session.c).
FUZZ_OBJ_FLAGS = -std=c11 -D_GNU_SOURCE -pthread -g -O1 -Isrc \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Wall -Wextra \
	$(if $(filter 1,$(WERROR)),-Werror)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_SESSION_OBJ = $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_session.o
FUZZ_SESSION_SEEDS = tests/fuzz/corpus/session
FUZZ_WRAP = -Wl,--wrap=net_connect,--wrap=net_wait

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(FUZZ_CC) $(FUZZ_OBJ_FLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libtwinbox.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@$(AR) rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/fuzz_session: $(FUZZ_SESSION_OBJ) $(FUZZ_BUILD)/libtwinbox.a
	@echo "  CCLD    $@"
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -pthread -o $@ \
		$(FUZZ_SESSION_OBJ) $(FUZZ_BUILD)/libtwinbox.a $(FUZZ_WRAP) \
		$(PKG_LIBS) -pthread

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SESSION_OBJ:.o=.d)

.PHONY: fuzz-parser fuzz-session fuzz-replay

# make check runs every committed seed once, without fuzzing: the
# harnesses keep building, and what their seeds once found stays fixed
# (a crash, a sanitizer report or a leak fails the target).
fuzz-replay: $(FUZZ_BUILD)/fuzz_parser $(FUZZ_BUILD)/fuzz_session
	@$(FUZZ_BUILD)/fuzz_parser $(FUZZ_PARSER_SEEDS)/* >$(FUZZ_BUILD)/replay-parser.log 2>&1 || \
		{ cat $(FUZZ_BUILD)/replay-parser.log; exit 1; }
	@$(FUZZ_BUILD)/fuzz_session $(FUZZ_SESSION_SEEDS)/* >$(FUZZ_BUILD)/replay-session.log 2>&1 || \
		{ cat $(FUZZ_BUILD)/replay-session.log; exit 1; }
	@echo "fuzz-replay: $$(ls $(FUZZ_PARSER_SEEDS) | wc -l) parser and $$(ls $(FUZZ_SESSION_SEEDS) | wc -l) session seeds passed"

fuzz-parser: $(FUZZ_BUILD)/fuzz_parser
	@mkdir -p $(FUZZ_BUILD)/corpus-parser
	cp $(FUZZ_PARSER_SEEDS)/* $(FUZZ_BUILD)/corpus-parser/
	$(FUZZ_BUILD)/fuzz_parser -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=$(FUZZ_BUILD)/ \
		$(FUZZ_BUILD)/corpus-parser

fuzz-session: $(FUZZ_BUILD)/fuzz_session
	@mkdir -p $(FUZZ_BUILD)/corpus-session
	cp $(FUZZ_SESSION_SEEDS)/* $(FUZZ_BUILD)/corpus-session/
	$(FUZZ_BUILD)/fuzz_session -max_total_time=$(FUZZ_TIME) \
		-max_len=16384 -timeout=10 \
		-artifact_prefix=$(FUZZ_BUILD)/session- \
		$(FUZZ_BUILD)/corpus-session
