/*
 * store_imap: the IMAP implementation of the store interface (store.h).
 *
 * Contract:
 *  - imap_store_new() connects and logs in at once (so a wrong password
 *    or certificate is reported when the store is opened), learns the
 *    personal namespace prefix and the hierarchy delimiter, and returns
 *    the store, released by s->ops->free(s) (which logs out). It copies
 *    every string of the options; the caller keeps its own.
 *  - Canonical names map to the server's: the namespace prefix (when
 *    UseNamespace) and Path are prepended, '/' becomes the server's
 *    delimiter, and the result is encoded in modified UTF-7. A name whose
 *    component holds the server's delimiter is refused; a server name that
 *    cannot be mapped back is skipped by list() with a warning.
 *  - With subscribed_only, list() asks LSUB instead of LIST, as mbsync's
 *    SubscribedOnly does: only subscribed mailboxes are listed.
 *  - Messages are passed through unchanged: IMAP data is already in the
 *    canonical CRLF form.
 *  - Appends are spooled (in memory up to a small limit, then in an
 *    unlinked 0600 file under $TMPDIR), so memory does not grow with the
 *    size of a message or of a batch. Nothing reaches the server before
 *    commit(), which sends every queued APPEND (pipelined), waits for all
 *    of them, and reports the new UIDs (APPENDUID with UIDPLUS; without
 *    it, by looking for each message's size and Message-ID among the UIDs
 *    at or above the UIDNEXT seen before the batch). planned_uid is
 *    always 0.
 *  - set_flags() and expunge() send one command per UID set; results say
 *    STORE_GONE for UIDs the server no longer has. Without UIDPLUS,
 *    expunge() refuses (with an explanation) when another message is
 *    marked \Deleted, because a plain EXPUNGE would remove it too.
 */
#ifndef TWINBOX_IMAP_STORE_IMAP_H
#define TWINBOX_IMAP_STORE_IMAP_H

#include "util/buf.h"
#include "imap/secret.h"
#include "interrupt.h"
#include "util/log.h"
#include "store.h"
#include "imap/tls_mode.h"

/* Where an IMAPStore's mailboxes live on the server: the namespace
 * prefix followed by Path, in the server's form, and the hierarchy
 * delimiter. Owned by whoever holds it (imap_hierarchy_free()). */
struct imap_hierarchy {
	char *prefix;
	char delim;
};

struct imap_store_options {
	const char *name;		/* the store's name, for messages */
	const char *label;		/* the connection's name in the
					   protocol trace; NULL: the
					   server's */
	const char *host;
	int port;			/* 0: 993 for IMAPS, else 143 */
	int timeout;			/* seconds; 0: none */
	const char *tunnel;
	enum tls_mode tls;
	unsigned tls_versions;		/* TLS_V1_* bits; 0: 1.2 and 1.3 */
	const char *ciphers;		/* CipherString; NULL: default */
	int system_certs;
	const char *ca_file;
	const char *client_cert;	/* ClientCertificate */
	const char *client_key;		/* ClientKey */
	const char *user;
	const char *user_cmd;
	const char *pass;		/* secret */
	const char *pass_cmd;
	struct imap_secrets *secrets;	/* see client.h; NULL: none */
	const struct strlist *auth_mechs;	/* NULL: "*" */
	int pipeline_depth;		/* 0: a built-in bound */
	const struct strlist *disabled_exts;
	int use_namespace;
	char path_delimiter;		/* '\0': ask the server */
	const char *path;		/* prefix of every mailbox but INBOX */
	int no_list;			/* list() will not be called (another
					   connection of the run listed): no
					   LIST goes out with NAMESPACE */
	const struct imap_hierarchy *hierarchy;	/* NULL: ask the server
					   (NAMESPACE, or LIST "" ""); else
					   what another connection of the run
					   to the same IMAPStore was told:
					   nothing is asked */
	int copy_arrival_date;		/* APPEND with the INTERNALDATE */
	int subscribed_only;		/* SubscribedOnly: list() lists the
					   subscribed mailboxes (LSUB) */
	const interrupt_flag *stop;	/* NULL, or see interrupt.h */
};

struct store *imap_store_new(const struct imap_store_options *o,
    const struct logger *lg, struct buf *err);

/* A copy of s's hierarchy into *out (the caller's, to be released with
 * imap_hierarchy_free()): 0, or -1 when s is no IMAP store or has none
 * yet. */
int imap_store_hierarchy(const struct store *s, struct imap_hierarchy *out);

void imap_hierarchy_free(struct imap_hierarchy *h);

/* An open store, idle (no mailbox in use), made to serve another
 * IMAPStore of the same IMAPAccount: it takes o's name, UseNamespace,
 * PathDelimiter, Path and SubscribedOnly (and o's hierarchy, else asking
 * the server again for the namespace) and
 * keeps its connection and login; o's connection options are not looked
 * at. 0, or -1 with err set: the store is then to be freed. */
int imap_store_rebind(struct store *s, const struct imap_store_options *o,
    struct buf *err);

/*
 * Watch mode: IDLE (RFC 2177) on the mailbox open() selected, on a store
 * that does nothing else meanwhile (its own connection).
 *  - idle_start() sends IDLE and waits for the server's "+"; it fails on
 *    a server without IDLE or one that refuses it.
 *  - idle_fd() is the descriptor to poll; *buffered is set when bytes
 *    already wait inside the connection (read them without polling).
 *  - idle_read() reads what came and adds to *changed the responses that
 *    say the mailbox changed (EXISTS, EXPUNGE, VANISHED, FETCH).
 *  - idle_done() sends DONE and waits for IDLE's answer: a bounded round
 *    trip (the account's Timeout) that proves the connection alive; what
 *    came before that answer is added to *changed as by idle_read().
 * Every failure is -1 with err set; the store is then to be freed.
 */
int imap_store_idle_start(struct store *s, struct buf *err);
int imap_store_idle_fd(const struct store *s, int *buffered);
int imap_store_idle_read(struct store *s, unsigned *changed,
    struct buf *err);
int imap_store_idle_done(struct store *s, unsigned *changed,
    struct buf *err);

/* The flag that cuts the store's network waits short from now on, in
 * place of its options' stop. Does nothing to a store of another kind. */
void imap_store_set_stop(struct store *s, const interrupt_flag *stop);

/*
 * Watch mode with NOTIFY (RFC 5465), on a store with no mailbox open and
 * nothing else to do (its own connection): one connection is told of
 * changes in several mailboxes.
 *  - notify_start() sends NOTIFY SET for the mailboxes named (canonical
 *    names, as open() takes them; new and expunged mail, flag changes),
 *    then IDLE: 0 once idling. IMAP_NOTIFY_NOT_OFFERED or
 *    IMAP_NOTIFY_REFUSED with err set when the server does not offer
 *    NOTIFY or refuses the command (the connection still works: the
 *    caller falls back to IDLE per mailbox); -1 on a failure.
 *  - notify_read() is idle_read() (idle_fd() gives the descriptor); it
 *    adds to *changed, once each, the canonical names of the mailboxes
 *    whose STATUS came.
 *  - notify_done() sends DONE and waits for IDLE's answer, adding to
 *    *changed what came before it; notify_again() starts IDLE again.
 * Every other failure is -1 with err set; the store is then to be freed.
 */
#define IMAP_NOTIFY_REFUSED	1
#define IMAP_NOTIFY_NOT_OFFERED	2
int imap_store_notify_start(struct store *s, const struct strlist *boxes,
    struct buf *err);
int imap_store_notify_read(struct store *s, struct strlist *changed,
    struct buf *err);
int imap_store_notify_done(struct store *s, struct strlist *changed,
    struct buf *err);
int imap_store_notify_again(struct store *s, struct buf *err);

struct store_conf;
/* The options of a configured IMAPStore; they point into sc. */
void imap_store_options_from_conf(const struct store_conf *sc,
    struct imap_store_options *o);

#endif
