/*
 * store: the one interface behind which an IMAP server and a Maildir look
 * alike to the sync core (planner and executor never know which they have).
 *
 * Contract:
 *  - Mailbox names cross this interface in canonical form: UTF-8, '/' as
 *    the hierarchy separator, "INBOX" for the inbox. Each store maps them to
 *    its own form (Maildir++ dots, IMAP delimiter and modified UTF-7) and
 *    refuses names it cannot represent safely.
 *  - Message data crosses this interface in canonical form: CRLF line
 *    endings, as on the wire. A Maildir store converts to and from LF at its
 *    boundary so that IMAP -> Maildir -> IMAP round-trips byte for byte.
 *  - Operations are batch-shaped: fetch, set_flags and expunge take many
 *    UIDs and report per message, appends are queued and made durable by
 *    one commit, so that an IMAP store can pipeline and a Maildir store can
 *    batch its fsyncs. The Maildir store simply loops.
 *  - Every function returns 0 on success and -1 on failure with a one-line
 *    message in err that names the mailbox, the file or command, and the
 *    cause. What a failure means is typed, never read from err's text:
 *    per message, enum store_result (failed this run, or confirmed gone);
 *    beyond one message, enum store_fail from ops->failure().
 *  - One mailbox is open at a time per store; open() closes the previous.
 *  - The caller owns every list it passes in and frees it with the matching
 *    *_free function; the store owns itself and is released by ops->free().
 */
#ifndef TWINBOX_STORE_H
#define TWINBOX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/log.h"

/* System flags. Bit order is the Maildir letter order D F P R S T. */
enum msg_flag {
	MSG_DRAFT = 1u << 0,	 /* D  \Draft */
	MSG_FLAGGED = 1u << 1,	 /* F  \Flagged */
	MSG_FORWARDED = 1u << 2, /* P  $Forwarded */
	MSG_ANSWERED = 1u << 3,	 /* R  \Answered */
	MSG_SEEN = 1u << 4,	 /* S  \Seen */
	MSG_DELETED = 1u << 5,	 /* T  \Deleted */
	MSG_FLAG_COUNT = 6
};
#define MSG_ALL_FLAGS ((1u << MSG_FLAG_COUNT) - 1)

/* The Maildir letters, index = bit number: "DFPRST". */
extern const char msg_flag_letters[MSG_FLAG_COUNT + 1];
/* The IMAP names, index = bit number ("\\Draft", ..., "\\Deleted"). */
extern const char *const msg_flag_names[MSG_FLAG_COUNT];

/* Write the Maildir letters of flags, sorted, into out (needs 7 bytes). */
void msg_flags_to_letters(unsigned flags, char out[MSG_FLAG_COUNT + 1]);

/*
 * One message as a scan reports it. uid and flags are always filled.
 * size and date are filled for the messages the scan's hint asks for
 * (struct scan_hint) and may be 0 elsewhere: there 0 means "not fetched",
 * never "empty". fetch() always reports the real size.
 */
struct msg_meta {
	uint32_t uid;
	unsigned flags;		/* enum msg_flag bits */
	uint64_t size;		/* bytes as this store holds the message */
	int64_t date;		/* arrival time, seconds since the epoch; 0 if unknown */
	uint64_t modseq;	/* 0 if the store has none */
};

/*
 * What a scan must report in full. Sizes and dates cost a server a lot
 * more than flags (and a Maildir a stat() per file) and matter only for
 * messages that may be copied: those above the state's maxuid that no
 * record holds and the few one-sided records that MaxSize held back.
 * The hint names them: size and date are wanted for every uid in
 * size_uids, and for every uid >= sizes_from that is not in skip_uids
 * (both arrays ascending). A NULL hint, or sizes_from <= 1 with no
 * skip_uids, wants them everywhere.
 */
struct scan_hint {
	uint32_t sizes_from;
	const uint32_t *size_uids;
	size_t nsize_uids;
	const uint32_t *skip_uids;
	size_t nskip_uids;
};

/* 1 if the hint (NULL: everything) wants the size and date of uid. */
int scan_hint_wants(const struct scan_hint *h, uint32_t uid);
/* 1 if the hint wants the size and date of every message. */
int scan_hint_wants_all(const struct scan_hint *h);

/* A growable array of msg_meta, sorted by uid after a scan. */
struct msg_list {
	struct msg_meta *v;
	size_t n;
	size_t cap;
};

void msg_list_add(struct msg_list *l, const struct msg_meta *m);
/* The entry of uid in a sorted list; NULL if absent. */
const struct msg_meta *msg_list_find(const struct msg_list *l, uint32_t uid);
/* Index of the first entry of sorted l not below uid (l->n if none). */
size_t msg_list_lower_bound(const struct msg_list *l, uint32_t uid);
void msg_list_sort(struct msg_list *l);
/* 0 if l is a valid scan: UIDs above 0, strictly ascending (so each at
 * most once); else -1 with the first offending UIDs in err. The sync
 * core checks every scan a store returns with it. */
int msg_list_check(const struct msg_list *l, struct buf *err);
void msg_list_free(struct msg_list *l);

/* A growable array of owned C strings. */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};

void strlist_add(struct strlist *l, const char *s);
void strlist_sort(struct strlist *l);
int strlist_contains(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

struct mbox_status {
	uint32_t uidvalidity;
	uint32_t uidnext;	/* every existing UID is below this */
	uint64_t highestmodseq;	/* 0 if unknown */
	uint32_t count;		/* messages, if cheaply known; else 0 */
	/* Maildir: changes whenever a message or its flags may have
	 * changed; 0 if the store has none or cannot vouch for it now. */
	uint64_t stamp;
	/* 1 when open() learned from the server what vanished and what
	 * changed since the mark given by mark() (QRESYNC): scan_changes()
	 * may then stand in for scan() although messages came or went. */
	int changes_known;
};

/*
 * What the sync core recorded of a mailbox when it last held exactly the
 * messages of known (sorted UIDs and flags): its UIDVALIDITY, UIDNEXT and
 * HIGHESTMODSEQ then (sync/plan_known.c, the settled mark).
 */
struct store_mark {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;
	const struct msg_list *known;
	/* NULL, or the mailbox's status as the run's listing found it
	 * (peek()): a hint of what the open() will meet, never taken for
	 * it. */
	const struct mbox_status *listed;
};

/*
 * Per-message outcome in batch operations. A message is STORE_GONE only on
 * its store's own word (an EXPUNGE or VANISHED seen, absent from a fresh
 * listing, [EXPUNGEISSUED], a NIL body, a Maildir file no longer there);
 * any other failure to handle it is STORE_FAILED: it failed for this run
 * and stays wanted (DESIGN.md invariant 8; mbsync's MSG_BAD).
 */
enum store_result {
	STORE_OK = 0,
	STORE_GONE = 1,		/* the message vanished (another client) */
	/* The store said no to this one message (an APPEND answered with
	 * a tagged NO): it did not arrive, and the others were not held
	 * back by it. A failure of this message for this run. */
	STORE_REFUSED = 2,
	/* The source's message holds no byte at all (an empty Maildir
	 * file): there is nothing to copy, and no store was asked to
	 * (sync/copy.c). It stays as it is and stays wanted. */
	STORE_EMPTY = 3,
	STORE_FAILED = -1	/* not done this run, for any other reason;
				   a target that failed before it answered
				   may still have it (recovery looks) */
};

/*
 * What a failure (-1) of a store function means beyond one message, from
 * the narrowest to the widest. The sync core decides by it what to give
 * up: the mailbox pair, every later mailbox of the store, or the run.
 */
enum store_fail {
	STORE_FAIL_MAILBOX = 0,	/* this mailbox, this run (mbsync BOX_BAD) */
	STORE_FAIL_CONNECTION,	/* the store is unusable for the rest of
				   this run: connection lost, timed out,
				   closed by the server (mbsync FAIL_TEMP) */
	STORE_FAIL_FATAL	/* no later run succeeds without the user:
				   stop the run (mbsync FAIL_FINAL) */
};

struct store;
/* The class of s's last failure: ops->failure(s), or STORE_FAIL_MAILBOX
 * for a store without that operation. */
enum store_fail store_failure(const struct store *s);

/*
 * What commit() says of one queued append. STORE_OK: it arrived as uid
 * (0 if the store cannot tell). STORE_REFUSED: it did not arrive; why
 * holds the store's words ("NO Can't save a zero byte message").
 * STORE_FAILED: the store failed before it answered (a connection
 * lost): the message may have arrived.
 */
struct append_result {
	int status;		/* enum store_result */
	uint32_t uid;
	struct buf why;
};

void append_results_free(struct append_result *r, size_t n);

/*
 * Where fetch() delivers messages, one at a time: begin, data (zero or
 * more chunks, canonical CRLF form), end. A callback returning -1 stops
 * the fetch, which then fails with the sink's message in err.
 * A message that vanished before it could be read (STORE_GONE) is
 * reported through gone() instead and does not stop the batch. A message
 * the store could not read for any other reason (STORE_FAILED: a server's
 * NO without [EXPUNGEISSUED]) is reported through failed(), with why,
 * and does not stop the batch either; a sink without failed() (NULL)
 * cannot take such an answer, and the fetch then fails as a whole.
 * gone() and failed() may come after later messages were delivered (a
 * server's answer for the whole command decides), at most once a UID.
 */
struct msg_sink {
	int (*begin)(void *ctx, const struct msg_meta *meta, struct buf *err);
	int (*data)(void *ctx, const char *p, size_t n, struct buf *err);
	int (*end)(void *ctx, struct buf *err);
	void (*gone)(void *ctx, uint32_t uid);
	void *ctx;
	void (*failed)(void *ctx, uint32_t uid, const char *why);
};

/*
 * Where a message's header ends, in any chunking, for a store's
 * fetch_headers(): at its first empty line in canonical form, that is an
 * LF, any CRs, an LF (CR* LF is one line end, so the file's LF LF and
 * the wire's CRLF CRLF alike). Zero-initialise; header_scan_add() returns
 * how many of the n bytes belong to the header and sets done once its
 * last byte was seen.
 */
struct header_scan {
	int after_lf;		/* the last line end was not followed by
				 * anything but CRs yet */
	int done;
};

size_t header_scan_add(struct header_scan *h, const char *p, size_t n);

/*
 * Two messages of one mailbox that claimed the same UID: a Maildir file
 * moved in from another folder keeps its ",U=". The scan reported one of
 * them as uid and the other as other, a new UID; see clashes().
 */
struct uid_clash {
	uint32_t uid;
	uint32_t other;
};

struct store_append;

/* One set_flags() call of an update(): add and del on uids[0..n),
 * results[i] per uid as set_flags() fills them. */
struct flag_change {
	const uint32_t *uids;
	size_t n;
	unsigned add, del;
	int *results;
};

/*
 * What update() does, in this order: the flag changes chg[0..nchg);
 * then between(ctx), when set (the caller's work elsewhere that must
 * come after these changes and before the expunge, e.g. the other
 * store's flags); then the expunge of exp[0..nexp) (none when nexp is
 * 0), exp_results[i] per uid as expunge() fills them.
 */
struct store_update {
	const struct flag_change *chg;
	size_t nchg;
	int (*between)(void *ctx, struct buf *err);
	void *ctx;
	const uint32_t *exp;
	size_t nexp;
	int *exp_results;
};

struct store_ops {
	const char *kind;	/* "maildir", "imap" */

	/* All mailboxes of the store, canonical names, sorted. */
	int (*list)(struct store *s, struct strlist *names, struct buf *err);
	int (*create)(struct store *s, const char *mbox, struct buf *err);
	/* Remove an empty mailbox (the Remove policy). */
	int (*remove)(struct store *s, const char *mbox, struct buf *err);
	/*
	 * Optional (NULL: open() does it all). Sends what open() of mbox
	 * asks the server and returns without waiting for the answer, so
	 * that the caller works on the other side meanwhile; mark() goes
	 * before it. The caller's next call on this store is open() of the
	 * same mbox, which waits for the answer. -1 with err: nothing is
	 * in flight and no mailbox is open (typed by failure()).
	 */
	int (*open_begin)(struct store *s, const char *mbox, struct buf *err);
	/* Open a mailbox for reading and writing; fills st. */
	int (*open)(struct store *s, const char *mbox, struct mbox_status *st,
	    struct buf *err);
	/* Every message of the open mailbox, sorted by uid; sizes and
	 * dates at least where hint wants them (NULL: everywhere). */
	int (*scan)(struct store *s, const struct scan_hint *hint,
	    struct msg_list *out, struct buf *err);
	/*
	 * Optional: NULL for a store without modification sequences. In
	 * place of scan(), for a caller that knows (plan_known_scan()) that
	 * the open mailbox holds exactly the messages of known (sorted; uid
	 * and flags), except that those with a MODSEQ above since may carry
	 * other flags now. out gets them with their current flags, sorted,
	 * without any that vanished meanwhile. No sizes or dates. Where
	 * since is a stamp, the mailbox may also hold empty messages
	 * (size 0, no message) that known leaves out (sync/plan.h,
	 * plan_side_settled()); out leaves them out too.
	 * When open() set changes_known, known is the mark's list, some of
	 * its messages may have vanished and new ones may have come above
	 * the mark's UIDNEXT: out gets known without the vanished, with
	 * current flags, plus every new message with its size and date.
	 * Returns 1, with a warning logged and out left empty, when the
	 * server's answers do not add up (a count that is not the
	 * server's): the caller then scans.
	 */
	int (*scan_changes)(struct store *s, const struct msg_list *known,
	    uint64_t since, struct msg_list *out, struct buf *err);
	/*
	 * Optional (NULL: nothing to read ahead). Called after
	 * scan_changes() while the caller waits for the other side's
	 * answer: reads now what the first operation on a message would
	 * read (a Maildir's file names), so that the wait hides it. Changes
	 * nothing the caller sees; a failure is left to that operation,
	 * which reads again and reports it.
	 */
	void (*prefetch)(struct store *s);
	/* Optional (NULL: the store cannot tell without open()). mbox's status as the store
	 * knows it without opening it: IMAP from LIST-STATUS or a STATUS sent with others in one
	 * burst; Maildir from its UID file and its directories' times (stamp). 1: *st filled;
	 * 0: not known cheaply (the caller opens the mailbox as before); -1: a failure, typed by
	 * ops->failure() as for every operation. */
	int (*peek)(struct store *s, const char *mbox, struct mbox_status *st, struct buf *err);
	/*
	 * Optional (NULL: a store that cannot ask what changed since a
	 * mark). Tells the store the mark of the mailbox the next open()
	 * opens; m and what it points to need to live only until then.
	 * open() may then ask the server what vanished and changed since
	 * (and say so in changes_known). A mark for one open() only.
	 */
	void (*mark)(struct store *s, const struct store_mark *m);
	/*
	 * Optional (NULL: a store that never makes a UIDVALIDITY of its
	 * own). The UIDVALIDITY the caller recorded of the mailbox the next
	 * open() opens (0: none), for that open() only. A store that makes
	 * a new UIDVALIDITY there (a Maildir whose UID file is missing, all
	 * of whose messages get new UIDs) makes one that differs from it:
	 * made from the clock's second, it could be the recorded one again,
	 * and the records' UIDs would be taken for the new ones, in this
	 * run and in every run after a crash.
	 */
	void (*recorded)(struct store *s, uint32_t uidvalidity);
	/*
	 * Optional: NULL for a store in which no two messages ever claim one
	 * UID. clashes() lists the clashes the last scan() found (the array
	 * is the store's, valid until the next scan or open). Which of the
	 * two the scan reported as uid is provisional and nothing on disk
	 * says it yet, so a scan after a crash finds the clash again. The
	 * caller, who knows whose message uid was, settles each clash
	 * before anything else: swap = 1 gives uid to the message the scan
	 * reported as other, and other to the first; the caller swaps what
	 * its scan list holds for the two UIDs likewise. swap = 2 gives uid
	 * to neither: the message reported as other keeps other, the first
	 * gets a UID above every other, which *moved receives (0 if the
	 * file vanished; always 0 for swap 0 and 1); the caller moves its
	 * scan entry there. The scan reports the size and date of both
	 * messages of every clash whatever its hint wanted: either may
	 * turn out new and be copied, and MaxSize reads its size, which
	 * a swap or a move carries along (0 would be "not fetched").
	 */
	size_t (*clashes)(struct store *s, const struct uid_clash **v);
	int (*settle_clash)(struct store *s, const struct uid_clash *c,
	    int swap, uint32_t *moved, struct buf *err);
	/* Stream the given messages to sink, in the order given. */
	int (*fetch)(struct store *s, const uint32_t *uids, size_t n,
	    const struct msg_sink *sink, struct buf *err);
	/*
	 * Optional (NULL: only fetch() reads a message). As fetch(), but
	 * each message's data is its header alone: at least up to and
	 * including the empty line that ends it (struct header_scan), or
	 * the whole message when it has none; a store may send more, never
	 * less. meta->size is the store's and says nothing of the header.
	 * Gone and failed as in fetch(). First contact's cheap pass: the
	 * hash part of a fingerprint needs no more (sync/fingerprint.h).
	 */
	int (*fetch_headers)(struct store *s, const uint32_t *uids, size_t n,
	    const struct msg_sink *sink, struct buf *err);

	/*
	 * Appending one message: begin, write (canonical CRLF data, any
	 * chunking), finish. meta gives flags, date and the size if known.
	 * *planned_uid is the UID the message will get if the store knows it
	 * in advance (Maildir: always), else 0; the executor journals it.
	 * finish queues the message; it is durable and visible only after
	 * commit(). cancel() drops an unfinished append.
	 */
	int (*append_begin)(struct store *s, const struct msg_meta *meta,
	    struct store_append **out, uint32_t *planned_uid, struct buf *err);
	int (*append_write)(struct store_append *a, const char *p, size_t n,
	    struct buf *err);
	int (*append_finish)(struct store_append *a, struct buf *err);
	void (*append_cancel)(struct store_append *a);
	/*
	 * Make every queued append durable. *res gets one result per
	 * append finished since the last commit, in queue order (*nres set
	 * to their number; free with append_results_free()), whether
	 * commit() succeeds or not. It returns 0 when every message got an
	 * answer (STORE_OK or STORE_REFUSED: a refusal does not fail the
	 * batch), -1 with err set when the store failed as a whole; the
	 * results then still say which messages arrived before it did.
	 */
	int (*commit)(struct store *s, struct append_result **res,
	    size_t *nres, struct buf *err);
	/* Optional (NULL: "UID n"): how a user finds message uid of the
	 * open mailbox, for messages about it (a Maildir: its file name). */
	void (*msg_name)(struct store *s, uint32_t uid, struct buf *out);

	/* Add and remove flags on many messages; results[i] per uid. */
	int (*set_flags)(struct store *s, const uint32_t *uids, size_t n,
	    unsigned add, unsigned del, int *results, struct buf *err);
	/*
	 * Optional (NULL: the store cannot trash). Copy the given messages
	 * of the open mailbox, with their flags, into mailbox trash of the
	 * same store (mbsync's Trash), creating it first if it does not
	 * exist (as mbsync does). results[i] per uid: STORE_OK committed
	 * there, STORE_GONE no longer in the open mailbox. -1 with err when
	 * the copy failed (the Trash cannot be created or written): results
	 * are then unset, and the caller expunges none of them.
	 */
	int (*trash)(struct store *s, const char *trash,
	    const uint32_t *uids, size_t n, int *results, struct buf *err);
	/*
	 * Optional (NULL: the store cannot take a message from the other
	 * store into its Trash). mbsync's TrashRemoteNew: store one message,
	 * the len bytes of canonical CRLF data at offset 0 of descriptor fd,
	 * with the flags of meta, into mailbox trash of this store (not the
	 * open one, which is left as it is), creating the mailbox first if
	 * it does not exist. 0: the copy is durable there. -1 with err: it
	 * is not (failure() says whether the store as a whole failed).
	 */
	int (*trash_in)(struct store *s, const char *trash,
	    const struct msg_meta *meta, int fd, uint64_t len,
	    struct buf *err);
	/* Remove messages for good; results[i] per uid. */
	int (*expunge)(struct store *s, const uint32_t *uids, size_t n,
	    int *results, struct buf *err);
	/*
	 * Optional (NULL: the caller makes the calls of struct store_update
	 * one by one). The same as those calls, as one batch: an IMAP
	 * store sends the changes before it runs between(), the expunge
	 * after, and reads the answers at the end, so that all of it costs
	 * one round trip. The server runs them in order; a change it
	 * refuses holds back neither the later ones nor the expunge (which
	 * removes only what is marked \Deleted by then), and every result
	 * is filled from its own command's answer. -1 with err naming the
	 * first command refused, or why the store failed (a connection lost
	 * leaves the results of every unanswered command STORE_FAILED: done
	 * or not), or between()'s error: the expunge is then not sent.
	 */
	int (*update)(struct store *s, const struct store_update *u,
	    struct buf *err);

	/*
	 * Optional (NULL: the store's mailboxes are no directories of this
	 * machine). The directory of mailbox mbox (canonical name; it need
	 * not exist yet) into *dir, the caller's to free: where SyncState
	 * "*" keeps the state of a pair whose near side it is, and where
	 * mbsync keeps its own. -1 with err for a name the store refuses.
	 */
	int (*local_dir)(struct store *s, const char *mbox, char **dir,
	    struct buf *err);
	/*
	 * Optional (NULL: the store always keeps the date an append's meta
	 * gives, as a Maildir does in the file's time). CopyArrivalDate, a
	 * channel's option, for the appends that follow: on, an append
	 * gives the server meta's date; off, the server dates it.
	 */
	void (*copy_arrival_date)(struct store *s, int on);

	/* Release the store and everything it holds. */
	void (*free)(struct store *s);
	/* Optional: the class of the last failure (see enum store_fail). */
	enum store_fail (*failure)(const struct store *s);
};

/* Every store implementation begins with this. */
struct store {
	const struct store_ops *ops;
	const struct logger *lg;
};

#endif
