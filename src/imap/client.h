/*
 * client: an IMAP client connection: login, tagged commands with a bounded
 * pipeline, literals, capabilities, and dispatch of untagged responses.
 *
 * Contract:
 *  - imap_client_open() connects, reads the greeting, upgrades with
 *    STARTTLS when asked (a server that does not offer it is an error,
 *    never a downgrade), logs in, and re-reads the capabilities after
 *    STARTTLS and after login. It copies what it needs from the options;
 *    the caller keeps ownership of them. The client is freed by
 *    imap_client_free() (which sends LOGOUT when the connection is
 *    healthy, and closes without waiting for its answer).
 *  - imap_client_submit() sends one command (or, corked, holds it for the
 *    next wait: imap_client_cork()); up to the pipeline depth may
 *    be in flight, more make it read responses first. It returns once the
 *    whole command (with every literal) is written, so literal memory and
 *    descriptors need to stay valid only until then. Non-synchronizing
 *    literals are used when the server offers LITERAL+ (or LITERAL- for
 *    literals up to 4096 bytes); otherwise the client waits for the
 *    server's "+" before each literal. done() is called with the tagged
 *    response when the command completes, from inside a later
 *    submit()/wait(); done() and the handlers must not submit commands.
 *  - Untagged responses (EXISTS, EXPUNGE, FETCH, codes in OK lines, at any
 *    time) go to the handlers set by imap_client_set_handlers(), after the
 *    client has taken what it needs (CAPABILITY, BYE). Large literals
 *    stream to handlers.literal (see parser.h).
 *  - Every failing function returns -1 with a one-line message naming the
 *    server. A failed read or write, a malformed response or a handler
 *    error breaks the connection: every later call fails with the same
 *    message, and no done() is called for commands still in flight.
 *  - When the server offers QRESYNC and ENABLE (and neither it nor
 *    CONDSTORE is disabled), ENABLE QRESYNC is sent right after login,
 *    without waiting: its answer arrives with the next command's. From
 *    then on the server reports expunges as VANISHED, not EXPUNGE.
 *  - Every byte sent and received goes to the protocol trace (trace.h)
 *    under the connection's label. Passwords and tokens never reach a log
 *    at any level: a secret in a command is redacted (cmdline.h), and
 *    AUTHENTICATE's initial response and every answer to the server's
 *    challenges show by their size only.
 */
#ifndef TWINBOX_IMAP_CLIENT_H
#define TWINBOX_IMAP_CLIENT_H

#include "util/buf.h"
#include "imap/caps.h"
#include "imap/cmdline.h"
#include "imap/parser.h"
#include "imap/secret.h"
#include "imap/transport.h"
#include "util/log.h"
#include "store.h"

/* Commands in flight when PipelineDepth is 0 (unlimited). */
#define IMAP_PIPELINE_MAX 64

struct imap_client_options {
	struct transport_options tr;	/* tls STARTTLS means upgrade */
	const char *label;		/* the connection's name in the
					   protocol trace; NULL: the
					   server's */
	const char *user;
	const char *user_cmd;
	const char *pass;		/* secret */
	const char *pass_cmd;
	struct imap_secrets *secrets;	/* UserCmd and PassCmd run once for
					   all connections; NULL: each time */
	const struct strlist *auth_mechs;	/* NULL or empty: "*" */
	int pipeline_depth;		/* 0: IMAP_PIPELINE_MAX */
	const struct strlist *disabled_exts;
};

struct imap_client_handlers {
	int (*untagged)(void *ctx, const struct imap_response *r);
	int (*literal)(void *ctx, const struct imap_literal_info *where,
	    const char *p, size_t n);
	void *ctx;
};

/* tagged is the completion (status OK, NO or BAD). */
typedef void (*imap_done_fn)(void *ctx, const struct imap_response *tagged);

struct imap_client;

struct imap_client *imap_client_open(const struct imap_client_options *o,
    const struct logger *lg, struct buf *err);
void imap_client_free(struct imap_client *c);

void imap_client_set_handlers(struct imap_client *c,
    const struct imap_client_handlers *h);
int imap_client_submit(struct imap_client *c, const struct imap_cmdline *l,
    imap_done_fn done, void *ctx, struct buf *err);
/* Send what is held (imap_client_cork()) and read until no command is
 * in flight. */
int imap_client_wait(struct imap_client *c, struct buf *err);
/*
 * The commands submitted from now until the next imap_client_wait() are
 * held in the client's buffer and leave together, in one write, at that
 * wait, or earlier when the client must read first (a full pipeline, a
 * synchronizing literal). A burst then reaches the server at once: on a
 * loopback or a busy machine, a command written alone wakes the server,
 * which may take the CPU before the next one is written. What a command
 * refers to is copied at submit(), so nothing needs to outlive it.
 */
void imap_client_cork(struct imap_client *c);
/* Send what is held now and stop holding, without reading: the commands
 * stay in flight, answered at the next wait. For a burst whose answers
 * the caller collects later, after other work. */
int imap_client_uncork(struct imap_client *c, struct buf *err);
/* Submit, wait, and fail unless the status is OK: the message is
 * "PEER: COMMAND: NO text" with the command as logged. */
int imap_client_simple(struct imap_client *c, const struct imap_cmdline *l,
    struct buf *err);

const struct imap_caps *imap_client_caps(const struct imap_client *c);
int imap_client_has(const struct imap_client *c, unsigned cap);
/* 1 if the server enabled cap (ENABLE, RFC 5161), 0 if not; waits for
 * the answer to ENABLE if it is still out; -1 with err if that fails. */
int imap_client_enabled(struct imap_client *c, unsigned cap,
    struct buf *err);
const char *imap_client_peer(const struct imap_client *c);
/* 1 once the connection is broken (every later call fails). */
int imap_client_broken(const struct imap_client *c);
/* The flag that cuts the connection's waits short from now on (see
 * transport_set_stop()). */
void imap_client_set_stop(struct imap_client *c, const interrupt_flag *stop);

/*
 * IDLE (RFC 2177), for watch mode. idle_start() waits for every command
 * in flight, sends IDLE and waits for the server's "+" (a server without
 * IDLE, or one that refuses it, is an error). While idling, the caller
 * polls imap_client_fd() (and reads at once while imap_client_buffered()
 * says bytes wait inside the client or its transport); imap_client_read()
 * reads what came (at least one byte, waiting up to the Timeout) and
 * hands every untagged response to the handlers. idle_done() sends DONE
 * and waits for IDLE's tagged answer. An untagged BYE seen by
 * idle_start() or imap_client_read() ends the connection at once: they
 * fail with the server's words, as if it had closed, whether or not it
 * has.
 */
int imap_client_idle_start(struct imap_client *c, struct buf *err);
int imap_client_idle_done(struct imap_client *c, struct buf *err);
/* -1 once broken. */
int imap_client_fd(const struct imap_client *c);
int imap_client_buffered(const struct imap_client *c);
int imap_client_read(struct imap_client *c, struct buf *err);

/* "NO [CODE] text" of a tagged response, for messages. */
void imap_describe_status(const struct imap_response *r, struct buf *out);

#endif
