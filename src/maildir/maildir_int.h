/*
 * maildir_int: the parts of the Maildir store shared between its files.
 * Nothing outside src/maildir/ includes this header.
 *
 * Contract:
 *  - struct md_store owns every string and array it points to; md_close()
 *    releases what belongs to the open mailbox, md_store_free() the rest.
 *  - While a mailbox is open, uvfd is an open descriptor of its
 *    .uidvalidity file holding an exclusive open-file-description lock, so
 *    no other twinbox or mbsync assigns UIDs in that mailbox meanwhile, and
 *    lastuid in memory is the authority: it is never below the value on
 *    disk, and every UID handed out (scan renames, planned appends) is at
 *    most lastuid.
 *  - ents is sorted by uid, holds unique uids, and remembers the file name
 *    each message had when last seen (it may be stale: a mail reader can
 *    rename or delete files at any time; md_locate() finds them again).
 *  - Error texts are one line: "maildir <mailbox>: <file>: <what>: <errno>".
 */
#ifndef TWINBOX_MAILDIR_INT_H
#define TWINBOX_MAILDIR_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/strpool.h"
#include "maildir/maildir.h"
#include "store.h"

#define MD_SUBDIR_CUR 0
#define MD_SUBDIR_NEW 1

/* One message file as last seen. */
struct md_entry {
	char *name;		/* base name inside cur/ or new/ */
	int pooled;		/* name lives in the listing's pool (names of
				   md_store), else it is malloc()ed: see
				   md_entry_name_set() */
	uint32_t uid;
	unsigned flags;
	int subdir;		/* MD_SUBDIR_CUR or MD_SUBDIR_NEW */
	uint64_t size;		/* from ",S=" or stat(); 0 = not known */
	int64_t mtime;		/* 0 = not known (not stat()ed) */
	int stated;		/* size and mtime come from stat() */
	uint32_t claimed;	/* an unsettled clash: the UID the file
				   name still carries (uid is the new one);
				   0 = the name carries uid */
};

/* One append in progress or finished and waiting for commit(). */
struct md_append {
	struct md_store *s;
	int fd;			/* -1 once finished, unless held
				   open for the barrier (maildir_commit.c) */
	char *base;		/* final base name, also its name in tmp/ */
	uint32_t uid;
	unsigned flags;
	int64_t date;
	int pending_cr;		/* a CR ended the previous chunk */
	uint64_t size;		/* bytes written to the file */
	struct buf out;		/* converted bytes of the current chunk */
};

struct md_store {
	struct store base;
	char *path;		/* NULL: only INBOX exists */
	char *inbox;
	enum maildir_subfolders subfolders;
	int fsync;
	struct maildir_barrier barrier;	/* its rule's thresholds */
	int read_only;		/* see maildir_options */
	char info_delim;	/* InfoDelimiter: ':' unless configured */
	int utf7_names;		/* see maildir_options */
	int (*clock)(void *, struct timespec *);	/* never NULL */
	void *clock_arg;
	unsigned name_counter;	/* makes unique names unique per store */
	/* "P<pid>R<store>Q" then ".<host>" (escaped: 4 bytes a character
	 * at most) for unique names, split after the Q; unique_split 0:
	 * not yet worked out (maildir_fname.c). */
	char unique_fixed[4 * 256 + 64];
	size_t unique_split;

	/* The open mailbox, or mbox == NULL. */
	char *mbox;
	char *dir;
	int uvfd;
	int dirfd;		/* the mailbox directory, for syncfs() */
	uint32_t uidvalidity;
	uint32_t lastuid;
	int uid_fresh;		/* .uidvalidity was just created */
	uint32_t recorded;	/* recorded(): a new UIDVALIDITY differs */
	uint64_t stamp;		/* md_stamp() at open(), before any listing */
	int unlisted;		/* ents came from the caller (scan_changes)
				   and their names are not read yet: those
				   with name NULL are to be found, not gone */
	struct md_entry *ents;
	size_t nents;
	size_t capents;
	struct strpool names;	/* the pooled names of ents */
	struct uid_clash *clashes;	/* the last scan's, unsettled ones */
	size_t nclashes;
	struct md_append **queue;	/* finished, not yet committed */
	size_t nqueue;
	size_t capqueue;
	size_t nheld;		/* queued appends whose fd is still open */
	size_t nbusy;		/* begun and not yet finished or cancelled */
	int mode_exact;		/* the umask keeps new files 0600 (no
				   fchmod needed; maildir_deliver.c) */
};

/* maildir_fs.c: errors, paths, directories. */
void md_err(struct buf *err, const char *mbox, const char *file,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void md_syserr(struct buf *err, const char *mbox, const char *file,
    const char *what);
char *md_join(const char *dir, const char *name);
/* maildir_spelling.c: the spelling of canonical name that the folder has
 * on disk (or, for a new folder, will have); rel maps a name to its
 * directory relative to Path. The caller frees the result. */
char *md_disk_name(const struct md_store *s, const char *name,
    char *(*rel)(const char *, enum maildir_subfolders));
/* Folder names spelt in modified UTF-7 on disk become their UTF-8
 * canonical names (unless that name is listed too). */
void md_decode_names(struct strlist *names);
/* 0 for a writable store; -1 with err set for a read-only one. */
int md_refuse_write(const struct md_store *s, const char *mbox,
    const char *what, struct buf *err);
char *md_subpath(const char *dir, int subdir, const char *name);
/*
 * Rename e's file to NAME in SUBDIR (MD_SUBDIR_*), which e then names.
 * NAME is taken over: e's on success, freed otherwise. 1 done, 0 the file
 * is no longer there (ENOENT), -1 failed with err set.
 */
int md_rename_entry(struct md_store *s, struct md_entry *e, int subdir,
    char *name, struct buf *err);
const char *md_subdir_name(int subdir);
int md_is_maildir(const char *dir);
int md_mkdirs(const char *path, const char *mbox, struct buf *err);
int md_make_maildir_under(const char *root, const char *rel,
    const char *mbox, int maildirpp_folder, struct buf *err);
int md_fsync_dir(const char *dir, const char *mbox, struct buf *err);
/*
 * fsync() of cur/ and new/ of the open mailbox, each only if
 * touched[MD_SUBDIR_*] (nothing with FSync no): the renames made in them
 * are on disk. Every rename that gives a file the UID a sync state may
 * record (a delivery's, a scan's, a settled clash's) is followed by this
 * before the store returns, so the state never names a UID that a crash
 * can take back from its file (docs/maildir.md).
 */
int md_fsync_subdirs(struct md_store *s, const int touched[2],
    struct buf *err);
/* fn for every name in subdir (MD_SUBDIR_*) of the open mailbox but dot
 * files, until it returns non-zero, which is returned (-1: failed, err
 * set); -1 with err set if the directory cannot be read. */
typedef int (*md_name_fn)(struct md_store *s, int subdir, const char *name,
    void *ctx, struct buf *err);
int md_each_name(struct md_store *s, int subdir, md_name_fn fn, void *ctx,
    struct buf *err);
int md_dir_is_empty(const char *dir, const char *mbox, int *empty,
    struct buf *err);

/* maildir_names.c: canonical names <-> directories. */
int md_check_name(const char *name, enum maildir_subfolders style,
    struct buf *err);
int md_mbox_dir(const struct md_store *s, const char *name, char **dir,
    char **root, char **rel, struct buf *err);

/* maildir_list.c */
int md_list(struct md_store *s, struct strlist *names, struct buf *err);

/* maildir_scan.c: an entry's name given up (a pooled one stays in its
 * pool until the listing goes), or replaced by name, malloc()ed, which
 * the entry takes over. */
void md_entry_name_drop(struct md_entry *e);
void md_entry_name_set(struct md_entry *e, char *name);

/* maildir_fname.c: file names "<unique>,U=<uid>:2,<flags>", where delim
 * (the store's info_delim) stands for ':'. */
struct md_name_fields {
	uint32_t uid;		/* 0: none */
	unsigned flags;
	int has_size;		/* a ",S=" field gave size */
	uint64_t size;
};
void md_name_parse(const char *name, char delim, struct md_name_fields *f);
uint32_t md_name_uid(const char *name, char delim);
unsigned md_name_flags(const char *name, char delim);
int md_name_size(const char *name, char delim, uint64_t *size);
size_t md_name_unique_len(const char *name, char delim);
char *md_name_with(const char *name, char delim, uint32_t uid,
    unsigned flags);
char *md_name_set_uid(const char *name, char delim, uint32_t uid);
char *md_unique_base(struct md_store *s);

/* maildir_uid.c: .uidvalidity. */
int md_uid_open(struct md_store *s, struct buf *err);
void md_recorded(struct store *st, uint32_t uidvalidity);
int md_uid_save(struct md_store *s, int sync, struct buf *err);
/* The UID file of folder dir, read without opening the mailbox: 1 with
 * both values, 0 if it is missing or unreadable (open() says why). */
int md_uid_peek(const char *dir, uint32_t *validity, uint32_t *last);

/* maildir_stamp.c: the stamp of folder dir (docs/maildir.md; 0: it
 * cannot vouch at the moment s's clock tells), the real clock, and
 * store_ops.peek. */
uint64_t md_stamp(const struct md_store *s, const char *dir);
int md_real_clock(void *unused, struct timespec *now);
int md_peek(struct store *st, const char *mbox, struct mbox_status *status,
    struct buf *err);

/* maildir_known.c: store_ops.scan_changes, which stands the caller's
 * list in for a listing while the folder's stamp is the caller's mark;
 * file names are read once, by the first operation that needs them. */
int md_scan_known(struct store *st, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err);
int md_resolve(struct md_store *s, struct buf *err);
void md_prefetch(struct store *st);

/* maildir_scan.c */
int md_scan(struct md_store *s, const struct scan_hint *hint,
    struct buf *err);
struct md_entry *md_find(struct md_store *s, uint32_t uid);
int md_locate(struct md_store *s, struct md_entry *e, int *found,
    struct buf *err);
void md_entries_free(struct md_store *s);
void md_forget(struct md_store *s, struct md_entry *e);

/* maildir_clash.c: two files claiming one UID. */
void md_clash_add(struct md_store *s, uint32_t uid, uint32_t other);
void md_clashes_free(struct md_store *s);
size_t md_clashes(struct store *st, const struct uid_clash **v);
int md_settle_clash(struct store *st, const struct uid_clash *c, int swap,
    uint32_t *moved, struct buf *err);

/* maildir_fetch.c */
int md_fetch(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err);
int md_fetch_headers(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err);

/* maildir_deliver.c */
int md_append_begin(struct store *st, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err);
/* CRLF -> LF of one chunk, appended to out; *pending_cr (0 at the
 * start of a message) holds a CR that ended the chunk until the next byte
 * is seen; one still pending at the end is the message's last byte and
 * is the caller's to write. The one conversion of every message a
 * Maildir store writes (appends, TrashRemoteNew). */
void md_lf_chunk(struct buf *out, int *pending_cr, const char *p, size_t n);
/* All n bytes to fd; -1 with errno set. */
int md_write_fd(int fd, const char *p, size_t n);
int md_append_write(struct store_append *sa, const char *p, size_t n,
    struct buf *err);
int md_append_finish(struct store_append *sa, struct buf *err);
void md_append_cancel(struct store_append *sa);
int md_commit(struct store *st, struct append_result **res, size_t *nres,
    struct buf *err);
void md_append_free(struct md_append *a);
void md_queue_release(struct md_store *s, size_t delivered);
char *md_tmp_path(const struct md_store *s, const char *base);
/* "tmp/<base>": the same file relative to the mailbox's dirfd. */
char *md_tmp_rel(const char *base);
void md_clean_tmp(struct md_store *s);

/* maildir_flags.c */
int md_set_flags(struct store *st, const uint32_t *uids, size_t n,
    unsigned add, unsigned del, int *results, struct buf *err);
/* Trash mailbox trash's directory in *dir (made if missing). */
int md_trash_dir(struct md_store *s, const char *trash, char **dir,
    struct buf *err);
/* maildir_trash_in.c: store_ops.trash_in. */
int md_trash_in(struct store *st, const char *trash,
    const struct msg_meta *meta, int fd, uint64_t len, struct buf *err);
int md_trash(struct store *st, const char *trash, const uint32_t *uids,
    size_t n, int *results, struct buf *err);
int md_expunge(struct store *st, const uint32_t *uids, size_t n,
    int *results, struct buf *err);

#endif
