/*
 * client_int: the client's private state, shared by client.c (commands,
 * responses) and client_login.c (greeting, STARTTLS, authentication).
 *
 * Contract:
 *  - The client owns the transport, the parser and every pending entry.
 *  - pending[] lists the commands in flight, oldest first; an entry is
 *    removed right after its done() ran.
 *  - Once broken is set, err_text holds the message every call returns.
 *  - Every byte sent goes through client_queue() or client_write_raw(),
 *    every byte received through the parser's feed, and both through the
 *    connection's traces (trace.h), which say which bytes are secret.
 *  - What wbuf held is wiped (buf_wipe()) once sent when a secret was
 *    among it: a secret-marked command line (cmdline.h) or bytes queued
 *    as a secret; and when the client is freed.
 *  - In bytewise mode the client feeds the parser one byte at a time and
 *    stops right after a tagged response, so that nothing past a
 *    STARTTLS or COMPRESS OK line is consumed; the unread rest stays in
 *    rbuf.
 */
#ifndef TWINBOX_IMAP_CLIENT_INT_H
#define TWINBOX_IMAP_CLIENT_INT_H

#include "imap/client.h"
#include "imap/trace.h"

struct pending {
	char tag[16];
	imap_done_fn done;
	void *ctx;
};

struct imap_client {
	struct transport *t;
	struct imap_parser *parser;
	const struct logger *lg;
	struct imap_caps caps;
	unsigned caps_updates;		/* bumped by every capability set */
	struct imap_client_handlers h;
	unsigned tag_counter;
	size_t depth;

	struct pending *pending;
	size_t npending;

	char rbuf[65536];
	size_t rpos, rlen;
	int bytewise;
	int tagged_seen;		/* bytewise: stop feeding */

	int greeted;			/* 0, or 1 OK, 2 PREAUTH, 3 BYE */
	struct buf greeting_text;
	int continuation;		/* a "+" arrived */
	struct buf cont_text;		/* the text of the last "+" */
	int broken;
	int bye;			/* an untagged BYE came: the server
					   ends the session */
	struct buf err_text;
	struct buf cb_err;		/* why a callback stopped the parser */
	struct buf wbuf;
	int wbuf_secret;		/* wbuf held a secret: wiped, not
					   reset, once sent */
	int corked;			/* submit() leaves its command in
					   wbuf (imap_client_cork()) */
	unsigned enabled;		/* CAP_ bits a * ENABLED listed */
	int enable_pending;		/* ENABLE sent, not yet answered */
	struct imap_trace tr_out;	/* what we send */
	struct imap_trace tr_in;	/* what the server sends */
};

/* client.c */
int client_pump(struct imap_client *c, struct buf *err);
int client_flush(struct imap_client *c, struct buf *err);
/* Queue bytes to send at the next flush; the trace shows them (a
 * secret: by its size only). */
void client_queue(struct imap_client *c, const char *p, size_t n,
    int secret);
void client_queues(struct imap_client *c, const char *s);
/* Flush, then send these bytes now. */
int client_write_raw(struct imap_client *c, const char *p, size_t n,
    int secret, struct buf *err);
/* Start a command: writes "TAG " + text and registers it. */
const char *client_begin(struct imap_client *c, imap_done_fn done,
    void *ctx);
int client_is_pending(const struct imap_client *c, const char *tag);
int client_break(struct imap_client *c, struct buf *err);
void client_reset_parser(struct imap_client *c);

/* client_login.c */
int client_login(struct imap_client *c, const struct imap_client_options *o,
    struct buf *err);
int client_greeting(struct imap_client *c, struct buf *err);
int client_starttls(struct imap_client *c, struct buf *err);
int client_capability(struct imap_client *c, struct buf *err);
int client_enable(struct imap_client *c, struct buf *err);

#endif
