# Fuzzing the IMAP response parser with libFuzzer.
#
# Included by the main Makefile; `make fuzz` builds $(FUZZ_BUILD)/fuzz_parser
# with clang and runs it for FUZZ_TIME seconds on a copy of the seed corpus,
# so that the committed seeds stay small. Needs clang and its fuzzer
# runtime (Debian: clang, libclang-rt-14-dev); no pkg-config.

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
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_PARSER_SRC)

.PHONY: fuzz-parser

fuzz-parser: $(FUZZ_BUILD)/fuzz_parser
	@mkdir -p $(FUZZ_BUILD)/corpus-parser
	cp $(FUZZ_PARSER_SEEDS)/* $(FUZZ_BUILD)/corpus-parser/
	$(FUZZ_BUILD)/fuzz_parser -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=$(FUZZ_BUILD)/ \
		$(FUZZ_BUILD)/corpus-parser
