/*
 * cmdline: one IMAP command being built, as the bytes to send (text
 * segments, each optionally followed by a literal) and, in parallel, the
 * line that may be shown in messages, in which every secret is replaced
 * by "<secret>" and every literal by "{N} <N bytes>".
 *
 * Contract:
 *  - struct imap_cmdline owns its segments and the copies of strings that
 *    became literals; imap_cmd_free() releases them. A literal added with
 *    imap_cmd_add_literal() points to the caller's memory or descriptor,
 *    which must stay valid until the command has been sent.
 *  - The tag and the final CRLF are not part of it; the client adds them.
 *  - Secrets never reach the log text: imap_cmd_add_string() with secret
 *    set and imap_cmd_add_secret() are the only ways to add one.
 *  - A secret is the last thing added to its segment (a later addition
 *    could move the buffer and leave a copy behind); imap_cmd_free()
 *    wipes every segment's text and literal copy (buf_wipe()).
 *  - Each segment's shown text is its text for the protocol trace
 *    (trace.h): the same bytes, but every secret in it replaced by
 *    "<redacted N bytes>" (N: the bytes sent for it); a literal that is
 *    a secret has lit_secret set and is shown by its size only.
 */
#ifndef TWINBOX_IMAP_CMDLINE_H
#define TWINBOX_IMAP_CMDLINE_H

#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

struct imap_lit {
	const char *mem;	/* the bytes, or NULL to read them from fd */
	int fd;
	off_t off;
	uint64_t len;
};

struct imap_cmdseg {
	struct buf text;	/* sent before the literal */
	struct buf shown;	/* text with its secrets redacted */
	int has_lit;
	int lit_secret;		/* the literal is a secret */
	struct imap_lit lit;
	struct buf owned;	/* backing store of a string literal */
};

struct imap_cmdline {
	struct imap_cmdseg *seg;
	size_t nseg;
	struct buf log;		/* what may be logged */
	int secret;		/* holds a secret: the client wipes what
				   it sent (client.c) */
};

void imap_cmd_init(struct imap_cmdline *l);
void imap_cmd_free(struct imap_cmdline *l);
/* Raw protocol text (atoms, numbers, parentheses). */
void imap_cmd_add(struct imap_cmdline *l, const char *s);
void imap_cmd_addf(struct imap_cmdline *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An astring argument: quoted when it can be, else a literal. */
void imap_cmd_add_string(struct imap_cmdline *l, const char *s, int secret);
/* Raw text that is a secret (a SASL initial response). */
void imap_cmd_add_secret(struct imap_cmdline *l, const char *s);
void imap_cmd_add_literal(struct imap_cmdline *l, const struct imap_lit *lit);

#endif
