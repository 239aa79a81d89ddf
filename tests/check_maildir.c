/*
 * Unit tests: the Maildir store on real files in temporary directories:
 * scanning odd names, UID assignment and persistence, duplicate UIDs,
 * fetch (LF -> CRLF) and append (CRLF -> LF) round trips, flag renames,
 * messages that vanish or move between scan and use, crash safety of
 * delivery, error texts and file modes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "store.h"
#include "support/testlib.h"

struct fixture {
	char *root;
	char *inbox;		/* the INBOX directory (= root, Maildir++) */
	struct buf cap;
	struct logger lg;
	struct buf err;
	struct store *s;
	char info_delim;	/* InfoDelimiter; '\0': the default */
	int (*clock)(void *, struct timespec *);	/* NULL: real time */
	void *clock_arg;
};

static void
fx_start(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->root = tl_mkdtemp("maildir");
	fx->inbox = strdup(fx->root);
	fx->lg.level = LOG_DEBUG;
	fx->lg.capture = &fx->cap;
}

static struct store *
fx_store(struct fixture *fx)
{
	struct maildir_options opt = {
		.path = fx->root, .subfolders = MAILDIR_SUB_MAILDIRPP,
		.fsync = 1, .info_delimiter = fx->info_delim,
		.clock = fx->clock, .clock_arg = fx->clock_arg
	};

	if (fx->s != NULL)
		fx->s->ops->free(fx->s);
	fx->s = maildir_store_new(&opt, &fx->lg, &fx->err);
	ck_assert_msg(fx->s != NULL, "%s", buf_cstr(&fx->err));
	return fx->s;
}

static void
fx_end(struct fixture *fx)
{
	if (fx->s != NULL)
		fx->s->ops->free(fx->s);
	tl_rmtree(fx->root);
	free(fx->root);
	free(fx->inbox);
	buf_free(&fx->cap);
	buf_free(&fx->err);
}

static void
fx_open(struct fixture *fx, struct mbox_status *st)
{
	struct mbox_status dummy;
	int rc = fx->s->ops->open(fx->s, "INBOX", st ? st : &dummy,
	    &fx->err);

	ck_assert_msg(rc == 0, "open: %s", buf_cstr(&fx->err));
}

static void
fx_scan(struct fixture *fx, struct msg_list *l)
{
	msg_list_free(l);
	ck_assert_msg(fx->s->ops->scan(fx->s, NULL, l, &fx->err) == 0, "scan: %s",
	    buf_cstr(&fx->err));
}

/* Write INBOX/<rel> with the given mtime (0: leave it). */
static void
put(struct fixture *fx, const char *rel, const char *data, time_t mtime)
{
	char *p = tl_path(fx->inbox, rel);
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

	tl_write_str(p, data);
	if (mtime != 0)
		ck_assert_int_eq(utimes(p, tv), 0);
	free(p);
}

static int
has(struct fixture *fx, const char *rel)
{
	char *p = tl_path(fx->inbox, rel);
	int ok = tl_exists(p);

	free(p);
	return ok;
}

static char *
slurp(struct fixture *fx, const char *rel, size_t *len)
{
	char *p = tl_path(fx->inbox, rel);
	char *data = tl_read_file(p, len);

	free(p);
	return data;
}

static void
make_inbox(struct fixture *fx)
{
	fx_store(fx);
	ck_assert_msg(fx->s->ops->create(fx->s, "INBOX", &fx->err) == 0,
	    "%s", buf_cstr(&fx->err));
}

/* A sink that records everything it is given. */
struct collect {
	struct buf data;	/* all messages, concatenated */
	uint32_t begun[16];
	struct msg_meta meta[16];
	size_t nbegun;
	uint32_t gone[16];
	size_t ngone;
	size_t ended;
};

static int
c_begin(void *ctx, const struct msg_meta *m, struct buf *err)
{
	struct collect *c = ctx;

	(void)err;
	ck_assert_uint_lt(c->nbegun, 16);
	c->meta[c->nbegun] = *m;
	c->begun[c->nbegun++] = m->uid;
	return 0;
}

static int
c_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	(void)err;
	buf_add(&((struct collect *)ctx)->data, p, n);
	return 0;
}

static int
c_end(void *ctx, struct buf *err)
{
	(void)err;
	((struct collect *)ctx)->ended++;
	return 0;
}

static void
c_gone(void *ctx, uint32_t uid)
{
	struct collect *c = ctx;

	ck_assert_uint_lt(c->ngone, 16);
	c->gone[c->ngone++] = uid;
}

static void
fetch(struct fixture *fx, const uint32_t *uids, size_t n, struct collect *c)
{
	struct msg_sink sink = { c_begin, c_data, c_end, c_gone, c, NULL };

	memset(c, 0, sizeof(*c));
	ck_assert_msg(fx->s->ops->fetch(fx->s, uids, n, &sink, &fx->err) == 0,
	    "fetch: %s", buf_cstr(&fx->err));
}

/* Append data in chunks of the given size; returns the planned UID. */
static uint32_t
append(struct fixture *fx, unsigned flags, const char *data, size_t len,
    size_t chunk)
{
	struct msg_meta m = { .flags = flags, .date = 1000000000 };
	struct store_append *a;
	uint32_t uid = 0;

	ck_assert_msg(fx->s->ops->append_begin(fx->s, &m, &a, &uid,
	    &fx->err) == 0, "%s", buf_cstr(&fx->err));
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		/* A separate buffer, so that reading past a chunk shows. */
		char *piece = malloc(n + 1);

		ck_assert_ptr_nonnull(piece);
		memcpy(piece, data + off, n);
		piece[n] = 'Z';
		ck_assert_int_eq(fx->s->ops->append_write(a, piece, n,
		    &fx->err), 0);
		free(piece);
	}
	ck_assert_int_eq(fx->s->ops->append_finish(a, &fx->err), 0);
	return uid;
}

static void
commit(struct fixture *fx, size_t expect)
{
	struct append_result *res = NULL;
	size_t n = 0;

	ck_assert_msg(fx->s->ops->commit(fx->s, &res, &n, &fx->err) == 0,
	    "commit: %s", buf_cstr(&fx->err));
	ck_assert_uint_eq(n, expect);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(res[i].status, STORE_OK);
	append_results_free(res, n);
}

static const struct msg_meta *
find(const struct msg_list *l, uint32_t uid)
{
	const struct msg_meta *m = msg_list_find(l, uid);

	ck_assert_msg(m != NULL, "UID %u missing", uid);
	return m;
}

START_TEST(test_scan_odd_names)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	char *uv;

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "1234\n10\n", 0);
	put(&fx, "cur/100.a.h,U=3:2,FS", "x\n", 1000001);
	put(&fx, "cur/101.b.h:2,RS", "hello\n", 1000002);
	put(&fx, "cur/102.c.h:1,xyz", "1", 1000003);
	put(&fx, "cur/103.d.h", "22", 1000004);
	put(&fx, "cur/.hidden", "junk", 1000005);
	{
		char *d = tl_path(fx.root, "cur/subdir");

		tl_mkdirs(d);
		free(d);
	}
	put(&fx, "new/104.e.h", "333", 1000006);
	put(&fx, "new/105.f.h,U=5:2,S", "4444", 1000007);
	put(&fx, "cur/106.g.h,U=7,S=42:2,Sa", "55555", 1000008);
	put(&fx, "cur/107.h.h,U=abc:2,", "666666", 1000009);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 8);
	ck_assert_uint_eq(find(&l, 3)->flags, MSG_FLAGGED | MSG_SEEN);
	ck_assert_uint_eq(find(&l, 5)->flags, MSG_SEEN);
	ck_assert_uint_eq(find(&l, 7)->flags, MSG_SEEN);
	ck_assert_uint_eq(find(&l, 7)->size, 42);
	ck_assert_uint_eq(find(&l, 11)->flags, MSG_ANSWERED | MSG_SEEN);
	ck_assert_uint_eq(find(&l, 11)->size, 6);
	ck_assert_int_eq(find(&l, 11)->date, 1000002);
	ck_assert_uint_eq(find(&l, 12)->flags, 0);
	ck_assert_uint_eq(find(&l, 13)->flags, 0);
	ck_assert_uint_eq(find(&l, 14)->flags, 0);
	ck_assert_uint_eq(find(&l, 15)->size, 6);
	ck_assert(has(&fx, "cur/101.b.h,U=11:2,RS"));
	ck_assert(has(&fx, "cur/102.c.h,U=12:1,xyz"));
	ck_assert(has(&fx, "cur/103.d.h,U=13"));
	ck_assert(has(&fx, "new/104.e.h,U=14"));
	ck_assert(has(&fx, "cur/107.h.h,U=abc,U=15:2,"));
	ck_assert(has(&fx, "cur/.hidden"));
	uv = slurp(&fx, ".uidvalidity", NULL);
	ck_assert_str_eq(uv, "1234\n15\n");
	free(uv);
	/* A second scan finds the same UIDs and hands out no new ones. */
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 8);
	ck_assert_uint_eq(l.v[7].uid, 15);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

static int
still_clock(void *arg, struct timespec *now)
{
	now->tv_sec = *(const time_t *)arg;
	now->tv_nsec = 0;
	return 0;
}

/* The UID file made again in the second it was made: the UIDs are new,
 * and the UIDVALIDITY must be too, or the sync core's records of the old
 * UIDs would be taken for them (also by every run after a crash). */
static uint32_t
open_without_uidfile(struct fixture *fx, uint32_t recorded)
{
	struct mbox_status st;
	char *uv = tl_path(fx->inbox, ".uidvalidity");

	fx_store(fx);
	ck_assert_int_eq(unlink(uv), 0);
	if (recorded != 0)
		fx->s->ops->recorded(fx->s, recorded);
	fx_open(fx, &st);
	free(uv);
	return st.uidvalidity;
}

START_TEST(test_new_uidvalidity_not_recorded)
{
	struct fixture fx;
	struct mbox_status st;
	time_t t = 1700000000;

	fx_start(&fx);
	fx.clock = still_clock;
	fx.clock_arg = &t;
	make_inbox(&fx);
	put(&fx, "cur/1.a.h:2,S", "a\n", 1000001);
	fx_open(&fx, &st);
	ck_assert_uint_eq(st.uidvalidity, 1700000000);	/* the clock's */
	ck_assert_uint_eq(open_without_uidfile(&fx, 1700000000), 1700000001);
	ck_assert_uint_eq(open_without_uidfile(&fx, 5), 1700000000);
	/* For the next open() only. */
	fx_store(&fx);
	fx.s->ops->recorded(fx.s, 1700000000);
	fx_open(&fx, &st);
	ck_assert_uint_eq(st.uidvalidity, 1700000000);	/* read, not made */
	ck_assert_uint_eq(open_without_uidfile(&fx, 0), 1700000000);
	t = (time_t)UINT32_MAX;
	ck_assert_uint_eq(open_without_uidfile(&fx, UINT32_MAX), 1);
	fx_end(&fx);
}
END_TEST

START_TEST(test_uids_persist_across_runs)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	struct mbox_status st, st2;
	char *uv, want[64];

	fx_start(&fx);
	make_inbox(&fx);
	/* No .uidvalidity yet: foreign ,U= fields cannot be trusted. */
	put(&fx, "cur/1.a.h,U=77:2,S", "a\n", 1000001);
	put(&fx, "new/2.b.h", "b\n", 1000002);
	fx_open(&fx, &st);
	ck_assert_uint_ne(st.uidvalidity, 0);
	ck_assert_uint_eq(st.uidnext, 1);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[0].uid, 1);
	ck_assert_uint_eq(l.v[1].uid, 2);
	ck_assert(has(&fx, "cur/1.a.h,U=1:2,S"));
	ck_assert(has(&fx, "new/2.b.h,U=2"));

	fx_store(&fx);		/* a new run */
	fx_open(&fx, &st2);
	ck_assert_uint_eq(st2.uidvalidity, st.uidvalidity);
	ck_assert_uint_eq(st2.uidnext, 3);
	put(&fx, "new/3.c.h", "c\n", 1000003);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(l.v[0].uid, 1);
	ck_assert_uint_eq(l.v[1].uid, 2);
	ck_assert_uint_eq(l.v[2].uid, 3);
	uv = slurp(&fx, ".uidvalidity", NULL);
	snprintf(want, sizeof(want), "%u\n3\n", st.uidvalidity);
	ck_assert_str_eq(uv, want);
	free(uv);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/* The scan found exactly one clash, uid/other; settle it. */
static void
settle_one(struct fixture *fx, uint32_t uid, uint32_t other, int swap)
{
	const struct uid_clash *v;
	struct uid_clash c;
	uint32_t moved = 1;

	ck_assert_uint_eq(fx->s->ops->clashes(fx->s, &v), 1);
	ck_assert_uint_eq(v[0].uid, uid);
	ck_assert_uint_eq(v[0].other, other);
	c = v[0];
	ck_assert_msg(fx->s->ops->settle_clash(fx->s, &c, swap, &moved,
	    &fx->err) == 0, "settle: %s", buf_cstr(&fx->err));
	ck_assert_uint_eq(moved, 0);
	ck_assert_uint_eq(fx->s->ops->clashes(fx->s, &v), 0);
}

START_TEST(test_duplicate_and_foreign_uids)
{
	struct fixture fx;
	struct msg_list l = { 0 };

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "77\n9\n", 0);
	put(&fx, "cur/a.x,U=4:2,S", "first\n", 1000100);
	put(&fx, "cur/b.x,U=4:2,S", "copy\n", 1000200);
	put(&fx, "cur/c.x,U=50:2,", "far\n", 1000300);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(l.v[0].uid, 4);
	ck_assert_uint_eq(l.v[1].uid, 10);
	ck_assert_uint_eq(l.v[2].uid, 11);
	ck_assert(has(&fx, "cur/a.x,U=4:2,S"));
	/* The clash waits for the caller; the file from far is renamed. */
	ck_assert(has(&fx, "cur/b.x,U=4:2,S"));
	ck_assert(has(&fx, "cur/c.x,U=11:2,"));
	settle_one(&fx, 4, 10, 0);
	ck_assert(has(&fx, "cur/b.x,U=10:2,S"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&fx.cap), "twinbox: warning: "
	    "maildir INBOX: cur/b.x,U=4:2,S repeats UID 4; one of the two "
	    "files gets the new UID 10\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&fx.cap), "cur/c.x,U=50:2, has "
	    "UID 50, above the last one handed out (9)"));
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/* The text a fetch of uid gives, in canonical form. */
static void
expect_text(struct fixture *fx, uint32_t uid, const char *want)
{
	struct collect c;

	fetch(fx, &uid, 1, &c);
	ck_assert_uint_eq(c.nbegun, 1);
	ck_assert_str_eq(buf_cstr(&c.data), want);
	buf_free(&c.data);
}

/*
 * Two files claiming one UID: until the caller settles the clash both
 * names keep it (a crash then loses the question, not the answer), the
 * second file is read under its new UID, a rescan asks again; a swap
 * gives the UID to the file the scan had not chosen, with one rename.
 */
START_TEST(test_clash_settled_by_caller)
{
	struct fixture fx;
	struct msg_list l = { 0 };

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "77\n9\n", 0);
	put(&fx, "cur/moved.x,U=4:2,S", "moved\n", 1000100);
	put(&fx, "new/own.x,U=4", "own\n", 1000200);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[1].uid, 10);
	ck_assert_uint_eq(l.v[1].flags, 0);
	expect_text(&fx, 4, "moved\r\n");
	expect_text(&fx, 10, "own\r\n");
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.v[1].uid, 11);
	settle_one(&fx, 4, 11, 1);
	ck_assert(has(&fx, "cur/moved.x,U=11:2,S"));
	ck_assert(has(&fx, "new/own.x,U=4"));
	expect_text(&fx, 4, "own\r\n");
	expect_text(&fx, 11, "moved\r\n");
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[0].uid, 4);
	ck_assert_uint_eq(l.v[0].flags, 0);
	ck_assert_uint_eq(l.v[1].uid, 11);
	ck_assert_uint_eq(l.v[1].flags, MSG_SEEN);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

START_TEST(test_bad_uidvalidity_file)
{
	struct fixture fx;
	struct mbox_status st;
	char want[512];

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "garbage\n", 0);
	ck_assert_int_eq(fx.s->ops->open(fx.s, "INBOX", &st, &fx.err), -1);
	snprintf(want, sizeof(want), "maildir INBOX: %s/.uidvalidity: cannot "
	    "parse: expected two lines, UIDVALIDITY and the last UID; fix or "
	    "empty the file", fx.root);
	ck_assert_str_eq(buf_cstr(&fx.err), want);
	fx_end(&fx);
}
END_TEST

/* A creation cut short (cur/ made, new/ and tmp/ not yet) is completed
 * at open(); a folder holding mail with new/ gone is refused. */
START_TEST(test_cut_creation_completed)
{
	struct fixture fx;
	struct mbox_status st;
	char *new_dir, *tmp_dir, want[512];

	fx_start(&fx);
	make_inbox(&fx);
	new_dir = tl_path(fx.inbox, "new");
	tmp_dir = tl_path(fx.inbox, "tmp");
	ck_assert_int_eq(rmdir(tmp_dir), 0);
	ck_assert_int_eq(rmdir(new_dir), 0);
	fx_open(&fx, &st);
	ck_assert(tl_exists(new_dir) && tl_exists(tmp_dir));
	fx_store(&fx);
	put(&fx, "cur/1.a.h:2,S", "a\n", 1000001);
	ck_assert_int_eq(rmdir(new_dir), 0);
	ck_assert_int_eq(fx.s->ops->open(fx.s, "INBOX", &st, &fx.err), -1);
	snprintf(want, sizeof(want), "maildir INBOX: %s/new: not a mailbox: "
	    "No such file or directory", fx.root);
	ck_assert_str_eq(buf_cstr(&fx.err), want);
	ck_assert(!tl_exists(new_dir));
	free(new_dir);
	free(tmp_dir);
	fx_end(&fx);
}
END_TEST

START_TEST(test_fetch_converts_and_follows)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	struct collect c;
	struct buf big = BUF_INIT, want = BUF_INIT;
	uint32_t uids[3] = { 1, 2, 99 };
	char *from, *to;

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, "cur/1.a.h,U=1:2,S", "a\nb\r\nc\rd", 0);
	/* Big enough for several read chunks, LFs at chunk edges. */
	for (size_t i = 0; i < 3 * 65536; i++)
		buf_addc(&big, (i % 65536 == 65535 || i % 7 == 0) ? '\n' : 'x');
	for (size_t i = 0; i < big.len; i++)
		buf_adds(&want, big.data[i] == '\n' ? "\r\n" : "x");
	put(&fx, "new/2.b.h,U=2", big.data, 0);
	put(&fx, ".uidvalidity", "5\n2\n", 0);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	fetch(&fx, uids, 3, &c);
	ck_assert_uint_eq(c.nbegun, 2);
	ck_assert_uint_eq(c.ended, 2);
	ck_assert_uint_eq(c.ngone, 1);
	ck_assert_uint_eq(c.gone[0], 99);
	ck_assert_uint_eq(c.meta[0].flags, MSG_SEEN);
	ck_assert_uint_eq(c.data.len, 10 + want.len);
	ck_assert_int_eq(memcmp(c.data.data, "a\r\nb\r\r\nc\rd", 10), 0);
	ck_assert_int_eq(memcmp(c.data.data + 10, want.data, want.len), 0);
	buf_free(&c.data);

	/* Another reader marks message 1 flagged: it is found again. */
	from = tl_path(fx.root, "cur/1.a.h,U=1:2,S");
	to = tl_path(fx.root, "cur/1.a.h,U=1:2,FS");
	ck_assert_int_eq(rename(from, to), 0);
	fetch(&fx, uids, 1, &c);
	ck_assert_uint_eq(c.nbegun, 1);
	ck_assert_uint_eq(c.meta[0].flags, MSG_FLAGGED | MSG_SEEN);
	ck_assert_uint_eq(c.ngone, 0);
	buf_free(&c.data);
	/* ... and then deletes it: reported gone, the batch goes on. */
	ck_assert_int_eq(unlink(to), 0);
	fetch(&fx, uids, 2, &c);
	ck_assert_uint_eq(c.ngone, 1);
	ck_assert_uint_eq(c.gone[0], 1);
	ck_assert_uint_eq(c.nbegun, 1);
	ck_assert_uint_eq(c.begun[0], 2);
	buf_free(&c.data);
	free(from);
	free(to);
	buf_free(&big);
	buf_free(&want);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/* Canonical (CRLF) bodies and their LF form on disk. */
static const struct {
	const char *wire;
	const char *disk;
} bodies[] = {
	{ "Subject: x\r\n\r\nbody\r\n", "Subject: x\n\nbody\n" },
	{ "x\r\r\ny\r\n", "x\r\ny\n" },
	{ "lone\rcr\r\n", "lone\rcr\n" },
	{ "ends with cr\r", "ends with cr\r" },
	{ "no newline at end", "no newline at end" },
	{ "\r\n\r\n\r", "\n\n\r" },
	{ "\r\r\r\n\r", "\r\r\n\r" },
	{ "", "" },
};

/* The path of the file of uid in cur/ or new/, or NULL. */
static char *
file_of(struct fixture *fx, uint32_t uid, const char *sub)
{
	char *dir = tl_path(fx->root, sub), *found = NULL, tag[32];
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	snprintf(tag, sizeof(tag), ",U=%u:", uid);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, tag) != NULL)
			found = tl_path(dir, e->d_name);
	closedir(d);
	free(dir);
	return found;
}

START_TEST(test_append_round_trip)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 1000 };
	struct fixture fx;
	struct collect c;
	struct stat st;

	fx_start(&fx);
	make_inbox(&fx);
	fx_open(&fx, NULL);
	for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]);
		    k++) {
			const char *w = bodies[b].wire;
			unsigned flags = (k % 2) ? MSG_SEEN | MSG_FLAGGED : 0;
			uint32_t uid = append(&fx, flags, w, strlen(w),
			    chunks[k]);
			char *path, *data;
			size_t len;

			commit(&fx, 1);
			path = file_of(&fx, uid, (k % 2) ? "cur" : "new");
			ck_assert_msg(path != NULL, "UID %u not delivered",
			    uid);
			ck_assert_ptr_nonnull(strstr(path, (k % 2) ?
			    ":2,FS" : ":2,"));
			data = tl_read_file(path, &len);
			ck_assert_uint_eq(len, strlen(bodies[b].disk));
			ck_assert_int_eq(memcmp(data, bodies[b].disk, len), 0);
			ck_assert_int_eq(stat(path, &st), 0);
			ck_assert_uint_eq(st.st_mode & 07777, 0600);
			ck_assert_int_eq(st.st_mtime, 1000000000);
			fetch(&fx, &uid, 1, &c);
			ck_assert_uint_eq(c.data.len, strlen(w));
			ck_assert_int_eq(memcmp(buf_cstr(&c.data), w,
			    c.data.len), 0);
			buf_free(&c.data);
			free(data);
			free(path);
		}
	}
	{
		char *tmp = tl_path(fx.root, "tmp");

		ck_assert_int_eq(tl_count_entries(tmp), 0);
		free(tmp);
	}
	fx_end(&fx);
}
END_TEST

START_TEST(test_append_batch_uids)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	struct append_result *res = NULL;
	uint32_t p1, p2, p3;
	size_t n = 0;
	char *uv;

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "42\n7\n", 0);
	fx_open(&fx, NULL);
	p1 = append(&fx, MSG_SEEN, "a\r\n", 3, 10);
	p2 = append(&fx, 0, "b\r\n", 3, 10);
	p3 = append(&fx, MSG_DRAFT, "c\r\n", 3, 10);
	ck_assert_uint_eq(p1, 8);
	ck_assert_uint_eq(p2, 9);
	ck_assert_uint_eq(p3, 10);
	ck_assert_int_eq(fx.s->ops->commit(fx.s, &res, &n, &fx.err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(res[0].uid, 8);
	ck_assert_uint_eq(res[2].uid, 10);
	append_results_free(res, n);
	uv = slurp(&fx, ".uidvalidity", NULL);
	ck_assert_str_eq(uv, "42\n10\n");
	free(uv);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(find(&l, 10)->flags, MSG_DRAFT);
	ck_assert_uint_eq(find(&l, 8)->size, 2);
	/* An empty commit is fine and reports nothing. */
	commit(&fx, 0);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/* The child writes half a message and dies without finishing. */
static void
crash_child(struct fixture *fx, int finish)
{
	struct maildir_options opt = {
		.path = fx->root, .subfolders = MAILDIR_SUB_MAILDIRPP,
		.fsync = 1
	};
	struct buf err = BUF_INIT;
	struct logger quiet = { .level = LOG_QUIET };
	struct store *s = maildir_store_new(&opt, &quiet, &err);
	struct msg_meta m = { .flags = MSG_SEEN };
	struct mbox_status st;
	struct store_append *a;
	uint32_t uid;

	if (s == NULL || s->ops->open(s, "INBOX", &st, &err) != 0 ||
	    s->ops->append_begin(s, &m, &a, &uid, &err) != 0 ||
	    s->ops->append_write(a, "Subject: half\r\n", 15, &err) != 0)
		_exit(3);
	if (finish && s->ops->append_finish(a, &err) != 0)
		_exit(4);
	_exit(0);
}

START_TEST(test_crash_before_commit_leaves_nothing)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	int status;

	fx_start(&fx);
	make_inbox(&fx);
	for (int finish = 0; finish <= 1; finish++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			crash_child(&fx, finish);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 0);
	{
		char *cur = tl_path(fx.root, "cur");
		char *nw = tl_path(fx.root, "new");
		char *tmp = tl_path(fx.root, "tmp");

		ck_assert_int_eq(tl_count_entries(cur), 0);
		ck_assert_int_eq(tl_count_entries(nw), 0);
		/* Young leftovers stay in tmp/ until they are 36 h old. */
		ck_assert_int_eq(tl_count_entries(tmp), 2);
		free(cur);
		free(nw);
		free(tmp);
	}
	/* Delivery still works and the message is whole. */
	append(&fx, MSG_SEEN, "Subject: whole\r\n\r\nok\r\n", 22, 5);
	commit(&fx, 1);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.v[0].size, 19);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

START_TEST(test_cancel_removes_tmp_file)
{
	struct fixture fx;
	struct msg_meta m = { 0 };
	struct store_append *a;
	uint32_t uid;
	char *tmp;

	fx_start(&fx);
	make_inbox(&fx);
	fx_open(&fx, NULL);
	ck_assert_int_eq(fx.s->ops->append_begin(fx.s, &m, &a, &uid, &fx.err),
	    0);
	ck_assert_int_eq(fx.s->ops->append_write(a, "x\r", 2, &fx.err), 0);
	tmp = tl_path(fx.root, "tmp");
	ck_assert_int_eq(tl_count_entries(tmp), 1);
	fx.s->ops->append_cancel(a);
	ck_assert_int_eq(tl_count_entries(tmp), 0);
	commit(&fx, 0);
	free(tmp);
	fx_end(&fx);
}
END_TEST

START_TEST(test_set_flags_and_expunge)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	uint32_t u[4] = { 1, 2, 3, 44 };
	int res[4];
	char *from, *to;

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "9\n3\n", 0);
	put(&fx, "new/1.a.h,U=1", "1\n", 0);
	put(&fx, "cur/2.b.h,U=2:2,Sab", "2\n", 0);
	put(&fx, "cur/3.c.h,U=3:2,", "3\n", 0);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	/* 3 is renamed by another reader, 44 never existed. */
	from = tl_path(fx.root, "cur/3.c.h,U=3:2,");
	to = tl_path(fx.root, "cur/3.c.h,U=3:2,F");
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(fx.s->ops->set_flags(fx.s, u, 4, MSG_SEEN |
	    MSG_ANSWERED, 0, res, &fx.err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert_int_eq(res[1], STORE_OK);
	ck_assert_int_eq(res[2], STORE_OK);
	ck_assert_int_eq(res[3], STORE_GONE);
	ck_assert(has(&fx, "cur/1.a.h,U=1:2,RS"));
	ck_assert(!has(&fx, "new/1.a.h,U=1"));
	ck_assert(has(&fx, "cur/2.b.h,U=2:2,RSab"));
	ck_assert(has(&fx, "cur/3.c.h,U=3:2,FRS"));
	ck_assert_int_eq(fx.s->ops->set_flags(fx.s, u, 1, MSG_DELETED,
	    MSG_SEEN, res, &fx.err), 0);
	ck_assert(has(&fx, "cur/1.a.h,U=1:2,RT"));
	/* Deleted by another reader: gone, not an error. */
	free(to);
	to = tl_path(fx.root, "cur/2.b.h,U=2:2,RSab");
	ck_assert_int_eq(unlink(to), 0);
	ck_assert_int_eq(fx.s->ops->set_flags(fx.s, u + 1, 1, MSG_FLAGGED, 0,
	    res, &fx.err), 0);
	ck_assert_int_eq(res[0], STORE_GONE);
	/* Expunge: 1 goes, 2 is already gone, 3 goes, 44 never was. */
	ck_assert_int_eq(fx.s->ops->expunge(fx.s, u, 4, res, &fx.err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert_int_eq(res[1], STORE_GONE);
	ck_assert_int_eq(res[2], STORE_OK);
	ck_assert_int_eq(res[3], STORE_GONE);
	ck_assert_int_eq(fx.s->ops->expunge(fx.s, u, 1, res, &fx.err), 0);
	ck_assert_int_eq(res[0], STORE_GONE);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 0);
	free(from);
	free(to);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/*
 * InfoDelimiter ';' (mbsync's, for file systems without ':'): the flags
 * and the UID are read from and written after ';', a ':' is then part of
 * the base name, and new files carry ";2,".
 */
START_TEST(test_info_delimiter)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	const struct msg_meta *m;
	uint32_t u[1] = { 1 }, uid;
	int res[1];
	char *path;

	fx_start(&fx);
	fx.info_delim = ';';
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "9\n3\n", 0);
	put(&fx, "cur/1.a.h,U=1;2,FS", "1\n", 0);
	put(&fx, "cur/2.b.h,U=2:2,S", "2\n", 0);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_ptr_nonnull(m = find(&l, 1));
	ck_assert_uint_eq(m->flags, MSG_FLAGGED | MSG_SEEN);
	/* ":2,S" is no info under ';': no flags, and the UID field ends
	 * at no delimiter, so the file gets a new UID. */
	ck_assert_ptr_null(msg_list_find(&l, 2));
	ck_assert_ptr_nonnull(m = find(&l, 4));
	ck_assert_uint_eq(m->flags, 0);
	ck_assert_int_eq(fx.s->ops->set_flags(fx.s, u, 1, MSG_ANSWERED,
	    MSG_FLAGGED, res, &fx.err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert(has(&fx, "cur/1.a.h,U=1;2,RS"));
	uid = append(&fx, MSG_SEEN | MSG_DRAFT, "x\r\n", 3, 3);
	commit(&fx, 1);
	path = NULL;
	{
		char *dir = tl_path(fx.root, "cur"), tag[32];
		DIR *d = opendir(dir);
		struct dirent *e;

		ck_assert_ptr_nonnull(d);
		snprintf(tag, sizeof(tag), ",U=%u;2,DS", uid);
		while ((e = readdir(d)) != NULL)
			if (strstr(e->d_name, tag) != NULL)
				path = tl_path(dir, e->d_name);
		closedir(d);
		free(dir);
	}
	ck_assert_msg(path != NULL, "no file ending ,U=%u;2,DS", uid);
	ck_assert_ptr_null(strchr(strrchr(path, '/'), ':'));
	fx_scan(&fx, &l);
	ck_assert_ptr_nonnull(m = find(&l, uid));
	ck_assert_uint_eq(m->flags, MSG_SEEN | MSG_DRAFT);
	free(path);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

START_TEST(test_rename_error_text)
{
	struct fixture fx;
	struct msg_list l = { 0 };
	uint32_t u = 5;
	int res;
	char *block, want[1024];

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, ".uidvalidity", "9\n5\n", 0);
	put(&fx, "cur/5.e.h,U=5:2,", "5\n", 0);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	/* A directory where the renamed file should go (works as root). */
	block = tl_path(fx.root, "cur/5.e.h,U=5:2,S");
	tl_mkdirs(block);
	ck_assert_int_eq(fx.s->ops->set_flags(fx.s, &u, 1, MSG_SEEN, 0, &res,
	    &fx.err), -1);
	ck_assert_int_eq(res, STORE_FAILED);
	snprintf(want, sizeof(want), "maildir INBOX: %s/cur/5.e.h,U=5:2,: "
	    "rename to %s: Is a directory", fx.root, block);
	ck_assert_str_eq(buf_cstr(&fx.err), want);
	free(block);
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

/* A umask that takes the owner's write bit: every delivered file is
 * still 0600 (the fchmod() is skipped only once a file came out 0600). */
START_TEST(test_file_mode_under_narrow_umask)
{
	struct fixture fx;
	struct stat st;
	mode_t old;

	fx_start(&fx);
	make_inbox(&fx);
	fx_open(&fx, NULL);
	old = umask(0277);
	append(&fx, 0, "x\r\n", 3, 3);
	append(&fx, 0, "y\r\n", 3, 3);
	commit(&fx, 2);
	umask(old);
	for (uint32_t uid = 1; uid <= 2; uid++) {
		char *f = file_of(&fx, uid, "new");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(stat(f, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		free(f);
	}
	fx_end(&fx);
}
END_TEST

START_TEST(test_modes_ignore_umask)
{
	struct fixture fx;
	struct stat st;
	mode_t old = umask(0);
	static const char *const dirs[] = { "cur", "new", "tmp" };

	fx_start(&fx);
	make_inbox(&fx);
	ck_assert_int_eq(fx.s->ops->create(fx.s, "a/b", &fx.err), 0);
	fx_open(&fx, NULL);
	append(&fx, 0, "x\r\n", 3, 3);
	commit(&fx, 1);
	umask(old);
	for (size_t i = 0; i < 3; i++) {
		char *p = tl_path(fx.root, dirs[i]);
		char *q = tl_path(fx.root, ".a.b");
		char *r = tl_path(q, dirs[i]);

		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0700);
		ck_assert_int_eq(stat(q, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0700);
		ck_assert_int_eq(stat(r, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0700);
		free(p);
		free(q);
		free(r);
	}
	{
		char *uv = tl_path(fx.root, ".uidvalidity");
		char *mf = tl_path(fx.root, ".a.b/maildirfolder");
		char *f = file_of(&fx, 1, "new");

		ck_assert_int_eq(stat(uv, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		ck_assert_int_eq(stat(mf, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(stat(f, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		free(uv);
		free(mf);
		free(f);
	}
	fx_end(&fx);
}
END_TEST

START_TEST(test_second_open_is_refused)
{
	struct fixture fx;
	struct maildir_options opt = {
		.path = NULL, .subfolders = MAILDIR_SUB_MAILDIRPP
	};
	struct store *other;
	struct mbox_status st;
	char want[1024];

	fx_start(&fx);
	make_inbox(&fx);
	fx_open(&fx, NULL);
	opt.path = fx.root;
	other = maildir_store_new(&opt, &fx.lg, &fx.err);
	ck_assert_ptr_nonnull(other);
	/* The fallback's process lock does not refuse a second open in the
	 * same process (compat.h); the next test covers other processes. */
	if (!tw_lock_is_per_open()) {
		ck_assert_int_eq(other->ops->open(other, "INBOX", &st,
		    &fx.err), 0);
		other->ops->free(other);
		fx_end(&fx);
		return;
	}
	ck_assert_int_eq(other->ops->open(other, "INBOX", &st, &fx.err), -1);
	snprintf(want, sizeof(want), "maildir INBOX: %s/.uidvalidity: locked "
	    "by another process (mbsync or twinbox syncing this mailbox)",
	    fx.root);
	ck_assert_str_eq(buf_cstr(&fx.err), want);
	/* Once the first store lets go, the second gets in. */
	fx.s->ops->free(fx.s);
	fx.s = NULL;
	ck_assert_int_eq(other->ops->open(other, "INBOX", &st, &fx.err), 0);
	other->ops->free(other);
	fx_end(&fx);
}
END_TEST

/* Another process (mbsync, another twinbox) is kept out in every build. */
START_TEST(test_open_from_another_process_is_refused)
{
	struct fixture fx;
	struct maildir_options opt = {
		.path = NULL, .subfolders = MAILDIR_SUB_MAILDIRPP
	};
	struct mbox_status st;
	pid_t pid;
	int status;

	fx_start(&fx);
	make_inbox(&fx);
	fx_open(&fx, NULL);
	opt.path = fx.root;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *other = maildir_store_new(&opt, &fx.lg, &fx.err);
		int refused = other != NULL && other->ops->open(other, "INBOX",
		    &st, &fx.err) == -1 && strstr(buf_cstr(&fx.err),
		    "locked by another process") != NULL;

		/* Freed: under valgrind a leak would be the child's status. */
		if (other != NULL)
			other->ops->free(other);
		_exit(refused ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "a second process was not "
	    "refused the mailbox this one holds (status %d)",
	    WEXITSTATUS(status));
	fx_end(&fx);
}
END_TEST

/* The name of the one file in dir, from its "P" on (after the time);
 * the file is removed. */
static char *
take_name_after_time(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *found = NULL;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		const char *p = strchr(e->d_name, 'P');

		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(found == NULL && p != NULL, "%s", e->d_name);
		found = strdup(p);
		ck_assert_int_eq(unlinkat(dirfd(d), e->d_name, 0), 0);
	}
	closedir(d);
	ck_assert_ptr_nonnull(found);
	return found;
}

/* One message of INBOX (uid 1) or of Other, into Trash by store s. */
static void
trash_one(struct fixture *fx, struct store *s, const char *box,
    const char *dir)
{
	char *p = tl_path(dir, "new/1.x.h,U=1");
	struct mbox_status st;
	struct msg_list l = { 0 };
	uint32_t u = 1;
	int res;

	tl_write_str(p, "m\n");
	free(p);
	p = tl_path(dir, ".uidvalidity");
	tl_write_str(p, "9\n1\n");
	free(p);
	ck_assert_msg(s->ops->open(s, box, &st, &fx->err) == 0, "%s",
	    buf_cstr(&fx->err));
	ck_assert_msg(s->ops->scan(s, NULL, &l, &fx->err) == 0, "%s",
	    buf_cstr(&fx->err));
	ck_assert_int_eq(s->ops->trash(s, "Trash", &u, 1, &res, &fx->err), 0);
	ck_assert_int_eq(res, STORE_OK);
	msg_list_free(&l);
}

/*
 * Two stores of one process (two workers of Connections N) put messages
 * into one folder, a Trash: their unique names must differ in more than
 * the time, else two copies made in the same microsecond get one name
 * and a rename into cur/ replaces the other copy.
 */
START_TEST(test_two_stores_name_apart)
{
	struct fixture fx;
	struct maildir_options opt = { .subfolders = MAILDIR_SUB_MAILDIRPP };
	struct store *other;
	char *odir, *tdir, *names[2];

	fx_start(&fx);
	make_inbox(&fx);
	opt.path = fx.root;
	other = maildir_store_new(&opt, &fx.lg, &fx.err);
	ck_assert_ptr_nonnull(other);
	ck_assert_msg(other->ops->create(other, "Other", &fx.err) == 0, "%s",
	    buf_cstr(&fx.err));
	odir = tl_path(fx.root, ".Other");
	tdir = tl_path(fx.root, ".Trash/cur");
	trash_one(&fx, fx.s, "INBOX", fx.root);
	names[0] = take_name_after_time(tdir);
	trash_one(&fx, other, "Other", odir);
	names[1] = take_name_after_time(tdir);
	ck_assert_msg(strcmp(names[0], names[1]) != 0, "both stores name "
	    "their files ...%s", names[0]);
	free(names[0]);
	free(names[1]);
	free(odir);
	free(tdir);
	other->ops->free(other);
	fx_end(&fx);
}
END_TEST

/* A dry run's store: provisional UIDs in memory, nothing written. */
START_TEST(test_read_only_changes_nothing)
{
	struct fixture fx;
	struct maildir_options opt = { 0 };
	struct msg_list l = { 0 };
	struct store_append *a;
	uint32_t planned;
	struct msg_meta m = { 0 };

	fx_start(&fx);
	make_inbox(&fx);
	put(&fx, "new/1000.x", "Subject: a\n\nA\n", 0);
	put(&fx, "cur/1001.y:2,S", "Subject: b\n\nB\n", 0);
	fx.s->ops->free(fx.s);
	opt.path = fx.root;
	opt.subfolders = MAILDIR_SUB_MAILDIRPP;
	opt.read_only = 1;
	fx.s = maildir_store_new(&opt, &fx.lg, &fx.err);
	fx_open(&fx, NULL);
	fx_scan(&fx, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[0].uid, 1);
	ck_assert_uint_eq(l.v[1].uid, 2);
	ck_assert(has(&fx, "new/1000.x"));
	ck_assert(has(&fx, "cur/1001.y:2,S"));
	ck_assert(!has(&fx, ".uidvalidity"));
	ck_assert_int_eq(fx.s->ops->append_begin(fx.s, &m, &a, &planned,
	    &fx.err), -1);
	ck_assert_str_eq(buf_cstr(&fx.err), "maildir INBOX: append: the store "
	    "is read-only (dry run)");
	ck_assert_int_eq(fx.s->ops->create(fx.s, "Other", &fx.err), -1);
	ck_assert(!has(&fx, ".Other"));
	msg_list_free(&l);
	fx_end(&fx);
}
END_TEST

static Suite *
maildir_suite(void)
{
	Suite *s = suite_create("maildir");
	TCase *tc = tcase_create("store");

	tcase_add_test(tc, test_scan_odd_names);
	tcase_add_test(tc, test_uids_persist_across_runs);
	tcase_add_test(tc, test_new_uidvalidity_not_recorded);
	tcase_add_test(tc, test_duplicate_and_foreign_uids);
	tcase_add_test(tc, test_clash_settled_by_caller);
	tcase_add_test(tc, test_bad_uidvalidity_file);
	tcase_add_test(tc, test_cut_creation_completed);
	tcase_add_test(tc, test_fetch_converts_and_follows);
	tcase_add_test(tc, test_append_round_trip);
	tcase_add_test(tc, test_append_batch_uids);
	tcase_add_test(tc, test_crash_before_commit_leaves_nothing);
	tcase_add_test(tc, test_cancel_removes_tmp_file);
	tcase_add_test(tc, test_set_flags_and_expunge);
	tcase_add_test(tc, test_info_delimiter);
	tcase_add_test(tc, test_rename_error_text);
	tcase_add_test(tc, test_modes_ignore_umask);
	tcase_add_test(tc, test_file_mode_under_narrow_umask);
	tcase_add_test(tc, test_second_open_is_refused);
	tcase_add_test(tc, test_open_from_another_process_is_refused);
	tcase_add_test(tc, test_read_only_changes_nothing);
	tcase_add_test(tc, test_two_stores_name_apart);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(maildir_suite());
}
