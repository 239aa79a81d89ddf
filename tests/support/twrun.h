/*
 * twrun: helpers for the tests that drive the real twinbox binary on
 * Maildir folders built from scratch in a temporary directory.
 *
 *  - tw_run() runs $TWINBOX_BIN (default build/twinbox) with fork and
 *    execve, stdout and stderr going to a file whose text is returned. The
 *    child's environment is the test's, without any TWINBOX_* or XDG_*
 *    variable, with HOME set to the caller's directory, plus the caller's
 *    extra variables: nothing of the user's setup leaks into a test.
 *  - The Maildir helpers write messages as real files with explicit UIDs
 *    (",U=" names and a ".uidvalidity" file, as the Maildir store keeps
 *    them). Every message holds "Message-ID: <ID@scen.example>", which is
 *    how the tests recognise it on either side, whatever its file name.
 *  - tw_read_box() lists a mailbox as (ID, UID, flags) entries sorted by ID
 *    then flags, so two lists compare entry by entry and a duplicate shows.
 *  - tw_tree_text() renders a directory tree (names and contents) as text,
 *    to prove that a run changed nothing on disk.
 *
 * Ownership: every returned string and list is the caller's (free(),
 * tw_box_free()). Every helper fails the current Check test with the path
 * and the errno text when the file system refuses something.
 */
#ifndef TWINBOX_TWRUN_H
#define TWINBOX_TWRUN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Run the binary: args is NULL-terminated (without argv[0]); env is a
 * NULL-terminated list of "NAME=value" added to the environment (may be
 * NULL). Returns the exit status, 128 + the signal number when the process
 * was killed. The combined output is appended to out. */
int tw_run(const char *home, const char *out_path, const char *const *args,
    const char *const *env, struct buf *out);

/* Take the run's total line (report.h: "twinbox: N mailbox pairs: ...
 * S.s s") out of out: 1 if there was one, removed; 0 if none. The total
 * holds the run's time, which a test cannot compare. */
int tw_strip_total(struct buf *out);

/* One message of a mailbox as found on disk. */
struct tw_msg {
	char id[64];		/* the Message-ID's local part */
	uint32_t uid;		/* from ",U="; 0 = none */
	char flags[16];		/* the ":2," letters */
	char *path;		/* the file */
};

struct tw_box {
	struct tw_msg *v;
	size_t n;
};

/* Make cur/ new/ tmp/ and a .uidvalidity holding uidvalidity and last. */
void tw_make_box(const char *dir, uint32_t uidvalidity, uint32_t last);
/* Read and write the two numbers of dir/.uidvalidity. */
void tw_read_uidvalidity(const char *dir, uint32_t *uidvalidity,
    uint32_t *last);
void tw_write_uidvalidity(const char *dir, uint32_t uidvalidity,
    uint32_t last);
/* Add a message with the next UID (raising .uidvalidity's last UID); big
 * messages are over 2 KiB, the others under 200 bytes. */
void tw_add_msg(const char *dir, const char *id, const char *flags, int big);

/* List a mailbox (cur/ and new/); a missing directory gives n = 0. */
void tw_read_box(const char *dir, struct tw_box *box);
void tw_box_free(struct tw_box *box);
/* The entry with this ID, or NULL. */
const struct tw_msg *tw_box_find(const struct tw_box *box, const char *id);
/* "id=uid:flags id=uid:flags ..." (with_uids) or "id:flags ...". */
void tw_box_format(const struct tw_box *box, int with_uids, struct buf *out);

/* Rename a message file so that it carries these flags (in cur/). */
void tw_set_flags(const struct tw_msg *m, const char *dir, const char *flags);
/* Rename a message file to carry another UID. */
void tw_set_uid(const struct tw_msg *m, uint32_t uid);

/* A new UIDVALIDITY (the old one + 1000) and every message renumbered
 * 1..n in descending Message-ID order, as a server rebuilding its index
 * might do. */
void tw_reset_uidvalidity(const char *dir);

/* Names and contents of every file under dir, sorted, as text; files whose
 * name starts with skip_prefix (may be NULL) are left out. */
void tw_tree_text(const char *dir, const char *skip_prefix, struct buf *out);
/* cp -R src dst (dst must not exist). */
void tw_copy_tree(const char *src, const char *dst);

#endif
