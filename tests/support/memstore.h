/*
 * memstore: an in-memory store behind the store.h interface, for tests of
 * the sync core (executor, model-based histories) that need two stores
 * without files or a network.
 *
 * Contract:
 *  - Mailboxes and messages live in memory until ops->free(). Message
 *    bodies are kept in canonical (CRLF) form exactly as appended.
 *  - Appends are invisible until commit(), like a real store's durability
 *    barrier; memstore_crash() drops every uncommitted append, which is what
 *    a kill -9 does to a real store.
 *  - The test may change the store behind the sync core's back with the
 *    memstore_* helpers (a user's mail client at work).
 */
#ifndef TWINBOX_TEST_MEMSTORE_H
#define TWINBOX_TEST_MEMSTORE_H

#include "store.h"

struct store *memstore_new(uint32_t uidvalidity);
/* Add a message directly (as if delivered by someone else); returns uid. */
uint32_t memstore_deliver(struct store *s, const char *mbox,
    const char *body, unsigned flags);
/* Change or remove a message directly; 0 on success, -1 if absent. */
int memstore_set(struct store *s, const char *mbox, uint32_t uid,
    unsigned flags);
int memstore_remove(struct store *s, const char *mbox, uint32_t uid);
/* Body of a message (NULL if absent); owned by the store. */
const char *memstore_body(struct store *s, const char *mbox, uint32_t uid);
/* Whether append_begin() tells the UID in advance, as a Maildir does (the
 * default), or not, as an IMAP server does. */
void memstore_plan_uids(struct store *s, int on);
/* Whether open() reports a HIGHESTMODSEQ, as a CONDSTORE server does
 * (off by default, as in a Maildir). Flag changes and new messages always
 * get a MODSEQ; expunges do not raise HIGHESTMODSEQ. scan_changes()
 * fails the sync when it is told a list that is not the mailbox's. */
void memstore_modseqs(struct store *s, int on);
/*
 * Whether open() reports a stamp, as a Maildir does (docs/maildir.md).
 * TRUE: a new stamp with every change of a mailbox. COARSE: the stamp is
 * the granule of the clock (memstore_tick()) in which the mailbox last
 * changed, so changes within one granule keep it, and it is given (not
 * 0) only once that granule is over, the Maildir's rule. With stamps and
 * no modification sequences, scan_changes() fails the sync unless it is
 * told the stamp open() gave and exactly the mailbox, flags included.
 */
enum memstore_stamp {
	MEMSTORE_STAMP_NONE = 0,
	MEMSTORE_STAMP_TRUE,
	MEMSTORE_STAMP_COARSE
};
void memstore_stamps(struct store *s, enum memstore_stamp mode);
/* One granule of the COARSE clock passes. */
void memstore_tick(struct store *s);
/* Whether peek() tells a mailbox's status (as open() would) or says
 * it cannot (0); off by default. */
void memstore_peek(struct store *s, int on);
/* Whether the store acts as a QRESYNC server (off by default; on turns
 * modseqs on): mark() is heeded, an expunge raises HIGHESTMODSEQ and is
 * remembered with it, and an open() after a mark of its UIDVALIDITY says
 * changes_known. scan_changes() then answers what a server answers
 * (known without what vanished since, changed flags, messages from the
 * mark's UIDNEXT on), and fails the sync unless that is the mailbox. */
void memstore_qresync(struct store *s, int on);
/* fetch() cannot read this UID either (up to 8 of them; 0: every UID
 * can be read again): it reports each through sink->failed(), with a text
 * naming the UID, as a server's NO does, or fails the fetch for a sink
 * without failed(). */
void memstore_fail_fetch(struct store *s, uint32_t uid);
/* Whether commit() refuses the messages that begin with
 * MEMSTORE_REFUSE_MARK (STORE_REFUSED, "memstore: NO [LIMIT] message
 * refused"; the rest of the batch arrives), as a server refuses one
 * APPEND; off by default. */
#define MEMSTORE_REFUSE_MARK "X-Refuse: yes\r\n"
void memstore_refuse_marked(struct store *s, int on);
/* Whether commit() loses the answers of the appends past the first n
 * (0: none): they arrive, but are reported STORE_FAILED, and commit()
 * fails, as when a connection drops before the server's last answers. */
void memstore_lose_answers_after(struct store *s, size_t n);
/* Whether commit() stores appended messages without their flags, as a
 * server whose APPEND ignores them does (off by default). */
void memstore_drop_flags(struct store *s, int on);
/* The next scan() first delivers body (no flags) to the open mailbox:
 * a message that arrived after open() reported the status. */
void memstore_arrive_on_scan(struct store *s, const char *body);
/* Drop every uncommitted append. */
void memstore_crash(struct store *s);
/* Whether the store has fetch_headers() (the default), or has only
 * fetch(), as a store without the operation. */
void memstore_headers(struct store *s, int on);
/* Whether the store has update() (off by default: the caller makes the
 * calls one by one), which works as an IMAP store's burst does. */
void memstore_updates(struct store *s, int on);
/* Whether update() refuses its change n (counted from 1; 0: none): the
 * change's messages keep their flags, the other changes, between() and
 * the expunge go on (a message whose refused change was its \Deleted
 * mark is not expunged), and update() fails naming the change. */
void memstore_refuse_change(struct store *s, size_t n);
/* How many calls of some operations the store received (open and peek
 * whatever they answered); fetched counts
 * the messages fetch() sent and fetched_bytes their bytes, headers and
 * header_bytes the same of fetch_headers(). */
struct memstore_calls {
	unsigned set_flags, expunge, commit, scan, scan_changes, fetched;
	unsigned update;
	unsigned qresync_moved;	/* scan_changes with messages gone or new */
	unsigned headers, open, peek;
	uint64_t fetched_bytes, header_bytes;
};
struct memstore_calls memstore_calls(struct store *s);
/* Give a mailbox a new UIDVALIDITY and renumber its messages from 1. */
void memstore_reset_uids(struct store *s, const char *mbox,
    uint32_t uidvalidity);

#endif
