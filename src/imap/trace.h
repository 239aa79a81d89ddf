/*
 * trace: the protocol trace of one direction of one IMAP connection
 * (mbsync's -Dn and -DN, and the log file): every line sent or received,
 * in full, logged as "LABEL >> LINE" (sent) or "LABEL << LINE" (received).
 *
 * Contract:
 *  - imap_trace_init() copies the label and borrows the logger. When the
 *    logger wants no trace (log_trace_wanted(), log.h) every other call
 *    does nothing and nothing is kept.
 *  - imap_trace_bytes() takes the bytes of the stream as they go over the
 *    wire, in chunks cut anywhere. A line is logged when its LF arrives,
 *    without its CRLF.
 *  - A line that ends in a literal's announcement ("{N}", "{N+}", "~{N}";
 *    never in a status response's text or a "+" line, where the parser
 *    takes them for text too) goes on after N bytes of literal. With
 *    LOG_NET a literal shows within its line as its announcement and its
 *    first line, "{1234} Return-Path: <a@b>..." ("..." when more
 *    follows), and the line goes on after it. With LOG_NET_ALL the line is
 *    logged up to the announcement, then each line of the literal as
 *    "LABEL >> | TEXT", then the rest of the line as a line of its own.
 *  - imap_trace_secret() stands for n bytes sent that must never be shown
 *    (a password, a SASL response): they show as "<redacted N bytes>",
 *    within the line or as the whole of a literal. Nothing else redacts:
 *    whoever sends a secret says so.
 *  - imap_trace_flush() logs what is pending of a line now (a command
 *    waiting for the server's "+" before its literal); the rest of the
 *    line is logged as a line of its own, which starts with the literal
 *    ("{N} ..."). imap_trace_reset() logs what is pending and forgets a
 *    literal announced (the server refused the command, the connection
 *    broke). imap_trace_free() resets, then frees.
 *  - Control characters but tab (CR and LF within a line included)
 *    show as "\xNN": a server cannot drive the terminal. A line shows at most
 *    IMAP_TRACE_LINE_MAX bytes (the parser's longest line), the rest is
 *    counted (" ... (N more bytes)"): the memory held is bounded.
 *  - One connection's traces are used by one thread at a time; the
 *    logger keeps lines of several threads apart.
 */
#ifndef TWINBOX_IMAP_TRACE_H
#define TWINBOX_IMAP_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/log.h"

#define IMAP_TRACE_LINE_MAX	(1024 * 1024)
#define IMAP_TRACE_EXCERPT	100	/* bytes of a literal's first line */
#define IMAP_TRACE_TAIL		24	/* enough for "~{" 19 digits "+}" */

struct imap_trace {
	const struct logger *lg;
	char *label;
	const char *dir;		/* ">>" or "<<" */
	unsigned want;			/* log_trace_wanted() at init */
	struct buf line;		/* what the line shows so far */
	uint64_t more;			/* bytes of it beyond the limit */
	char tail[IMAP_TRACE_TAIL];	/* the last bytes received of the
					   line since its start or since
					   what was put in it */
	size_t ntail;
	int continued;			/* the line went on after a literal */
	uint64_t lit_left;		/* bytes of the literal still due */
	uint64_t lit_size;		/* 0 and lit_left 0: in a line */
	int in_lit;
	int lit_secret;
	int lit_flushed;		/* the line before it was logged */
	struct buf excerpt;		/* LOG_NET: its first line so far */
	int excerpt_done;
	int lit_more;			/* more than the excerpt follows */
	int lit_line_open;		/* LOG_NET_ALL: a line of it is
					   pending */
};

/* dir: ">>" for what is sent, "<<" for what is received. */
void imap_trace_init(struct imap_trace *tr, const struct logger *lg,
    const char *label, const char *dir);
void imap_trace_bytes(struct imap_trace *tr, const char *p, size_t n);
void imap_trace_secret(struct imap_trace *tr, size_t n);
void imap_trace_flush(struct imap_trace *tr);
void imap_trace_reset(struct imap_trace *tr);
void imap_trace_free(struct imap_trace *tr);

#endif
