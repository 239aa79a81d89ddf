/*
 * state_rec: the text form of state records, shared by the state file and
 * the journal (docs/state-format.md).
 *
 * Contract:
 *  - A line is a payload of space-separated fields followed by one space,
 *    the CRC-32 of the payload as 8 lowercase hex digits, and '\n'. The
 *    checksum makes a torn or damaged line recognisable on its own.
 *  - rec_format() and rec_parse() are exact inverses for every valid
 *    journal_rec; rec_parse() accepts nothing that rec_format() would not
 *    write (no leading zeros, no signs, no extra spaces), so that a
 *    damaged field is an error, not a different value.
 *  - Nothing here allocates except into the caller's bufs, and nothing
 *    touches a file: reading and writing them is state_file.h's.
 */
#ifndef TWINBOX_SYNC_STATE_REC_H
#define TWINBOX_SYNC_STATE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "sync/state.h"

#define REC_MAX_FIELDS 12

/* A payload split at single spaces; fields point into the payload. */
struct rec_fields {
	const char *p[REC_MAX_FIELDS];
	size_t len[REC_MAX_FIELDS];
	size_t n;
};

/* Append the payload of rec (no checksum, no newline) to out. */
void rec_format(const struct journal_rec *rec, struct buf *out);
/* Append " <crc>\n" to out, sealing the payload that starts at start. */
void rec_seal(struct buf *out, size_t start);
/* Append the whole line of rec to out: rec_format(), then rec_seal(). */
void rec_add_sealed(const struct journal_rec *rec, struct buf *out);
/*
 * Check a sealed line of len bytes (without its '\n'). Returns 0 and the
 * payload length in *payload_len, or -1 with err set if the checksum or
 * its place is wrong.
 */
int rec_unseal(const char *line, size_t len, size_t *payload_len,
    struct buf *err);
/* Split a payload into fields; -1 with err set on an empty field or too
 * many fields. */
int rec_split(const char *payload, size_t len, struct rec_fields *f,
    struct buf *err);
/* Parse field i as a decimal number no larger than max; what names the
 * field in the error. */
int rec_number(const struct rec_fields *f, size_t i, uint64_t max,
    const char *what, uint64_t *out, struct buf *err);
/* Field i as exactly 16 lower-case hex digits (a 64-bit digest). */
int rec_hex64(const struct rec_fields *f, size_t i, const char *what,
    uint64_t *out, struct buf *err);
/* 1 if field i is exactly word. */
int rec_is(const struct rec_fields *f, size_t i, const char *word);
/* Parse the fields of a record line into rec; -1 with err set. */
int rec_parse(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err);

/* Both files carry this version in their header line. */
#define REC_VERSION "1"

/* Walks a file's bytes line by line; lineno counts from 1. */
struct rec_reader {
	const char *data;
	size_t len;
	size_t pos;
	unsigned lineno;
};

/*
 * The next line (without '\n'): returns 1, or 0 at the end. *complete is
 * 0 for a last line that lacks its '\n' (a torn write).
 */
int rec_next_line(struct rec_reader *r, const char **line, size_t *len,
    int *complete);
/* Check "<magic> <version>"; -1 with err naming what was found. */
int rec_check_header(const char *line, size_t len, const char *magic,
    const char *what, struct buf *err);

#endif
