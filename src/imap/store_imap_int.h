/*
 * store_imap_int: the IMAP store's private state, shared by its files.
 * Nothing outside src/imap/store_imap*.c includes this header.
 *
 * Contract:
 *  - struct imap_store owns the client, every string and array it points
 *    to, and the append spool.
 *  - seq[i] is the UID of message sequence number i + 1 of the selected
 *    mailbox, 0 while unknown; it follows EXISTS, EXPUNGE and FETCH
 *    responses at any time, so it is right whenever no command is in
 *    flight.
 *  - known is the last scan's result (sorted), used for the flags and
 *    dates of bodies that stream before the rest of their FETCH; the
 *    STOREs of set_flags() update its flags, and expunge() marks
 *    \Deleted only the messages it does not show marked.
 *  - vanished holds every UID a VANISHED response named since open()
 *    (RFC 7162; with QRESYNC enabled they replace EXPUNGE); a VANISHED
 *    without (EARLIER) also removes its messages from seq, as EXPUNGE.
 *  - qr is what open() asked with QRESYNC and what the server answered;
 *    mark() fills its mark for one open() (see store_imap_qresync.c).
 *  - op_fn, when set, sees every untagged response after the generic
 *    handling; it is set for the duration of one operation only (for an
 *    open_begin(), until the open() that waits for its answers).
 *  - opening is open()'s burst while it is in flight: nothing else is
 *    sent on the connection until the open() of its mailbox, or a
 *    close, has waited for it.
 *  - Error texts are one line: "imap store '<name>' mailbox '<box>': ...".
 */
#ifndef TWINBOX_IMAP_STORE_IMAP_INT_H
#define TWINBOX_IMAP_STORE_IMAP_INT_H

#include <stdint.h>

#include "imap/client.h"
#include "imap/store_imap.h"
#include "imap/uidset.h"

/* Appends up to this many bytes (all queued ones together) stay in
 * memory; beyond, the spool moves to a temporary file. */
#define SPOOL_MEM_MAX (1024 * 1024)

struct spool {
	struct buf mem;
	int fd;			/* the spool file, or -1 before its first use */
	int in_file;		/* the queue is in the file, not in mem */
	uint64_t size;
};

struct queued_append {
	uint64_t off;
	uint64_t len;
	unsigned flags;
	int64_t date;
};

struct store_append {
	struct imap_store *s;
	uint64_t off;
	unsigned flags;
	int64_t date;
};

typedef int (*imap_op_fn)(void *ctx, const struct imap_response *r);

/* A mailbox's status as LIST-STATUS or STATUS reported it (peek()). */
struct ims_peeked {
	char *wire;		/* the server's name of the mailbox */
	struct mbox_status st;
};

/*
 * What peek() answers from, filled by list() (LIST-STATUS) or by one
 * burst of STATUS commands at the first peek() without it. An entry is
 * dropped when this store opens or trashes into its mailbox: from then
 * on only open() tells the truth about it.
 */
struct ims_peek {
	struct ims_peeked *v;	/* sorted by wire */
	size_t n;
	struct strlist listed;	/* wire names list() saw, selectable */
	int list_status;	/* list() asked for statuses (LIST-STATUS) */
	int prelisted;		/* listed with NAMESPACE, not yet taken */
	int burst_done;		/* the STATUS burst was sent */
	int warned;		/* one warning per listing */
};

/* QRESYNC: the mark for the next open(), then the open()'s answers. */
struct qresync {
	int have_mark;		/* mark() was told, for the next open() */
	uint32_t uidvalidity;	/* the mark's */
	uint32_t uidnext;
	uint64_t modseq;
	struct buf known_set;	/* its UIDs as a set; empty: not sent */
	int selected;		/* the SELECT's tagged answer came */
	int sent_known;		/* known-uids went with the SELECT */
	const char *wrong;	/* why the answer cannot be used, or NULL */
	struct msg_list changed;	/* current flags below uidnext */
	struct msg_list fresh;	/* messages at or above uidnext */
	struct uid_ranges earlier;	/* what VANISHED (EARLIER) named */
	size_t nknown;		/* messages the mark holds */
	int listed;		/* the listing's status of the mailbox came
				   with the mark: */
	uint32_t listed_uidnext;	/* its UIDNEXT */
	uint32_t listed_count;		/* and MESSAGES */
	int searching;		/* a UID SEARCH RETURN (ALL) went with it */
	int search_late;	/* ESEARCH is offered but the SEARCH was left
				   out: the listing saw nothing come or go */
	int searched;		/* its ESEARCH answer came */
	struct uid_ranges all;	/* the UIDs that answer names */
	struct uid_ranges after;	/* what VANISHED named after it */
	int disabled;		/* a wrong answer was seen: no more */
	int closing;		/* the SELECT closes another mailbox: until
				   [CLOSED] the answers are about that one
				   (RFC 7162 3.2.11) */
};

/* One command of a burst, with its tagged answer kept for the caller. */
struct ims_answer {
	struct imap_store *s;
	int is_select;		/* the burst's SELECT */
	int ok;
	struct buf status;	/* the tagged answer, described */
	struct buf log;		/* the command as logged, for the error */
};

/*
 * open()'s burst: the SELECT, and with QRESYNC its UID FETCH and UID
 * SEARCH. open_begin() sends it and the open() that follows waits for
 * the answers; op_fn takes the untagged ones meanwhile.
 */
#define IMS_OPEN_CMDS 3
struct ims_opening {
	int sent;		/* in flight, not yet waited for */
	int qresync;		/* the burst is store_imap_qresync.c's */
	size_t n;
	struct ims_answer a[IMS_OPEN_CMDS];
};

struct imap_store {
	struct store base;
	struct imap_client *c;
	char *name;
	int copy_arrival_date;
	int subscribed_only;	/* list() sends LSUB instead of LIST */
	char delim;		/* the server's hierarchy delimiter */
	char *prefix;		/* namespace prefix + Path, server form */

	char *mbox;		/* open mailbox (canonical), or NULL */
	char *wire;		/* its server name */
	struct mbox_status st;
	uint32_t uidnext_hint;	/* no UID below it is ours to append */
	int was_selected;	/* a SELECT succeeded on this connection, so
				   the next one closes a mailbox first */
	uint32_t *seq;
	size_t nseq;
	struct msg_list known;
	uint32_t *expunged;	/* UIDs of EXPUNGE responses, when wanted */
	size_t nexpunged;
	int track_expunges;
	struct uid_ranges vanished;
	struct qresync qr;
	struct ims_opening opening;

	imap_op_fn op_fn;
	void *op_ctx;
	unsigned idle_changes;	/* watch mode: changes reported while
				   idling (store_imap_idle.c) */
	struct strlist *notify_seen;	/* watch mode with NOTIFY: where
					   the mailboxes a STATUS names go
					   (store_imap_notify.c) */

	struct ims_peek peek;

	struct spool spool;
	struct queued_append *queue;
	size_t nqueue;
	struct store_append *busy;	/* append begun, not finished */
};

/* store_imap.c */
void ims_err(struct imap_store *s, struct buf *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ims_untagged(void *ctx, const struct imap_response *r);
/* An expunge of uid seen (EXPUNGE or VANISHED): expunge() results. */
void ims_note_expunged(struct imap_store *s, uint32_t uid);
/* After a burst sent with op_fn set (rc: 0 if every command went out):
 * wait for every answer, unset op_fn, and say which store failed. */
int ims_wait_burst(struct imap_store *s, int rc, struct buf *err);
int ims_run(struct imap_store *s, const struct imap_cmdline *l,
    imap_op_fn fn, void *ctx, struct buf *err);
/* Submit l with an answer a (its command's log kept) that done fills;
 * ims_answer_done() is the plain done. */
int ims_answer_submit(struct imap_store *s, const struct imap_cmdline *l,
    imap_done_fn done, struct ims_answer *a, struct buf *err);
void ims_answer_done(void *ctx, const struct imap_response *r);
/* 0 if every answer of a[n] is OK, else -1 with err naming the first
 * command refused. */
int ims_answers_check(struct imap_store *s, const struct ims_answer *a,
    size_t n, struct buf *err);
void ims_answers_free(struct ims_answer *a, size_t n);
int ims_require_open(struct imap_store *s, struct buf *err);
/* store_imap_idle.c: IDLE sent with note taking the untagged responses
 * that come while idling; -1 with err (note unset) if it failed. */
int ims_idle_begin(struct imap_store *s, imap_op_fn note, struct buf *err);
unsigned ims_parse_flags(const struct imap_item *list);
void ims_add_flags(struct imap_cmdline *l, unsigned flags);

/* store_imap_names.c */
int ims_to_wire(struct imap_store *s, const char *name, struct buf *out,
    struct buf *err);
/* The canonical name of a server name; 1 if it has none (outside our
 * prefix, or not representable), -1 on a malformed name. */
int ims_from_wire(struct imap_store *s, const char *wire, struct buf *out,
    struct buf *err);
int ims_create(struct store *st, const char *mbox, struct buf *err);
int ims_remove(struct store *st, const char *mbox, struct buf *err);

/* store_imap_list.c */
/* no_list: the store's list() will not be called, so no LIST goes out
 * with NAMESPACE. */
int ims_discover_hierarchy(struct imap_store *s, int use_namespace,
    char delim_override, const char *path, int no_list, struct buf *err);
int ims_list(struct store *st, struct strlist *names, struct buf *err);

/* store_imap_peek.c */
int ims_peek(struct store *st, const char *mbox, struct mbox_status *out,
    struct buf *err);
/* The status items a LIST-STATUS or STATUS asks for, " (...)". */
const char *ims_peek_items(const struct imap_store *s);
/* Take one untagged STATUS response of a listing or a burst. */
void ims_peek_take(struct imap_store *s, const struct imap_response *r);
/* After list(): drop statuses of mailboxes the listing did not name. */
void ims_peek_listed(struct imap_store *s);
void ims_peek_forget(struct imap_store *s, const char *wire);
void ims_peek_clear(struct imap_store *s);

/* store_imap_select.c */
int ims_select_response(void *ctx, const struct imap_response *r);
/* Fills m from a FETCH's list; seq_uid for an answer without UID. */
int ims_parse_meta(const struct imap_item *list, uint32_t seq_uid,
    struct msg_meta *m);
/* A "* n FETCH" with FLAGS: 0 with its list and m (the UID from the
 * sequence number map if the answer has none), 1 if r is no such
 * response, -1 if its UID is unknown. */
int ims_fetch_flags(const struct imap_store *s, const struct imap_response *r,
    const struct imap_item **list, struct msg_meta *m);
/* Merge m into sorted l (see the file's comment). */
void ims_merge_meta(struct msg_list *l, const struct msg_meta *m, int add,
    int flags_only);
/* Keep got (taken over) as the scan's result; out gets a sorted copy. */
void ims_keep_scan(struct imap_store *s, struct msg_list *got,
    struct msg_list *out);
int ims_open_begin(struct store *st, const char *mbox, struct buf *err);
int ims_open(struct store *st, const char *mbox, struct mbox_status *out,
    struct buf *err);
int ims_scan_changes(struct store *st, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err);
int ims_scan(struct store *st, const struct scan_hint *hint,
    struct msg_list *out, struct buf *err);
void ims_close(struct imap_store *s);
uint32_t *ims_present_uids(const struct imap_store *s, size_t *n);
/* results[i]: STORE_GONE if the mailbox no longer holds uids[i], else
 * STORE_OK. */
void ims_present_results(const struct imap_store *s, const uint32_t *uids,
    size_t n, int *results);

/* store_imap_qresync.c */
void ims_mark(struct store *st, const struct store_mark *m);
/* 1 if the open() under way may SELECT with QRESYNC, 0 if not, -1 with
 * err if asking the client failed. */
int ims_qresync_usable(struct imap_store *s, struct buf *err);
/* Submit the QRESYNC SELECT burst into s->opening (corked). */
int ims_qresync_send(struct imap_store *s, struct buf *err);
/* Its answers came (rc: 0, or -1 with err set if the wait or a command
 * failed): what they make of the open(); a failed FETCH or SEARCH after
 * a good SELECT only costs the QRESYNC answer. */
int ims_qresync_opened(struct imap_store *s, int rc);
/* Drop the mark (after every open(), whatever happened). */
void ims_qresync_forget(struct imap_store *s);
/* Drop the open()'s answers (on close). */
void ims_qresync_reset(struct imap_store *s);
int ims_qresync_changes(struct imap_store *s, const struct msg_list *known,
    struct msg_list *out, struct buf *err);
/* A VANISHED response (items after the word VANISHED). */
int ims_on_vanished(struct imap_store *s, const struct imap_item *it);

/* store_imap_qrsearch.c */
/* UID SEARCH RETURN (ALL) ALL, sent after the QRESYNC SELECT's FETCH
 * where the server offers ESEARCH. */
void ims_qrsearch_cmd(struct imap_cmdline *l);
/* Take its ESEARCH answer (any other response is ignored). */
void ims_qrsearch_response(struct imap_store *s,
    const struct imap_response *r);
/* NULL if got (the mailbox put together, sorted) holds exactly the UIDs
 * the answer named (or no SEARCH was sent), else why not. */
const char *ims_qrsearch_check(const struct imap_store *s,
    const struct msg_list *got);

/* store_imap_sets.c */
/* Writes the command for one UID set into l. */
typedef void (*ims_set_cmd)(struct imap_cmdline *l, const char *set,
    const void *arg);
/* Called with each command that ims_each_uidset() builds. */
typedef int (*ims_send_fn)(void *ctx, const struct imap_cmdline *l,
    struct buf *err);
/* One command per chunk of sorted (ascending), built by add() with arg,
 * each given to send() with ctx; stops at the first that fails. */
int ims_each_uidset(const uint32_t *sorted, size_t n, ims_set_cmd add,
    const void *arg, ims_send_fn send, void *ctx, struct buf *err);
/* One command per chunk of sorted (ascending), built by add() with arg,
 * each tagged answer given to done() with res; pipelined, then waits for
 * all. 0, or -1 with err (the store's words) when sending or reading
 * failed; what the server answered is done()'s to keep. */
int ims_over_uidsets(struct imap_store *s, const uint32_t *sorted, size_t n,
    ims_set_cmd add, const void *arg, imap_done_fn done, void *res,
    struct buf *err);

/* store_imap_trash.c */
int ims_trash(struct store *st, const char *trash, const uint32_t *uids,
    size_t n, int *results, struct buf *err);
int ims_trash_in(struct store *st, const char *trash,
    const struct msg_meta *meta, int fd, uint64_t len, struct buf *err);

/* store_imap_fetch.c */
int ims_fetch(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err);
int ims_fetch_headers(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err);

/* store_imap_append.c */
int ims_append_begin(struct store *st, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err);
int ims_append_write(struct store_append *a, const char *p, size_t n,
    struct buf *err);
int ims_append_finish(struct store_append *a, struct buf *err);
void ims_append_cancel(struct store_append *a);
void ims_spool_reset(struct imap_store *s);

/* store_imap_commit.c */
int ims_commit(struct store *st, struct append_result **res, size_t *nres,
    struct buf *err);

/* store_imap_flags.c */
int ims_set_flags(struct store *st, const uint32_t *uids, size_t n,
    unsigned add, unsigned del, int *results, struct buf *err);
int ims_expunge(struct store *st, const uint32_t *uids, size_t n,
    int *results, struct buf *err);
int ims_update(struct store *st, const struct store_update *u,
    struct buf *err);

#endif
