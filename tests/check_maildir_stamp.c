/*
 * Unit tests: a Maildir folder's stamp (docs/maildir.md) on real
 * directories, and the scan the stamp lets a run skip. The store reads
 * "now" from the test's clock (maildir_options.clock), which stands
 * still unless a test moves it, and directory times are set explicitly
 * (utimensat) relative to it to make a folder look old or fresh; no
 * test waits for the clock, and none depends on how long it takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "store.h"
#include "support/testlib.h"

struct box {
	char *root;		/* Maildir++: INBOX is the root */
	struct buf log, err;
	struct logger lg;
	struct store *s;
	struct timespec now;	/* what the store's clock tells */
	int clock_fails;	/* the clock cannot tell */
};

static int
box_clock(void *arg, struct timespec *now)
{
	const struct box *b = arg;

	if (b->clock_fails)
		return -1;
	*now = b->now;
	return 0;
}

static char *
in_box(const struct box *b, const char *rel)
{
	return tl_path(b->root, rel);
}

static struct timespec
mtime_of(const struct box *b, const char *rel)
{
	char *p = in_box(b, rel);
	struct stat st;

	ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
	free(p);
	return TW_ST_MTIM(st);
}

static int
later(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	    (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* The clock at the moment the later of cur/ and new/ last changed, as
 * a run would read it right after that change. */
static void
clock_at_change(struct box *b)
{
	struct timespec c = mtime_of(b, "cur"), n = mtime_of(b, "new");

	b->now = later(c, n) ? c : n;
}

/* INBOX made, and the clock at the moment it was made. */
static void
box_start(struct box *b)
{
	struct maildir_options opt = { .subfolders = MAILDIR_SUB_MAILDIRPP,
	    .fsync = 0, .clock = box_clock };

	memset(b, 0, sizeof(*b));
	b->root = tl_mkdtemp("stamp");
	b->lg.level = LOG_DEBUG;
	b->lg.capture = &b->log;
	opt.path = b->root;
	opt.clock_arg = b;
	b->s = maildir_store_new(&opt, &b->lg, &b->err);
	ck_assert_msg(b->s != NULL, "%s", buf_cstr(&b->err));
	ck_assert_msg(b->s->ops->create(b->s, "INBOX", &b->err) == 0, "%s",
	    buf_cstr(&b->err));
	clock_at_change(b);
}

static void
box_end(struct box *b)
{
	b->s->ops->free(b->s);
	tl_rmtree(b->root);
	free(b->root);
	buf_free(&b->log);
	buf_free(&b->err);
}

static void
put_text(const struct box *b, const char *rel, const char *text)
{
	char *p = in_box(b, rel);

	tl_write_str(p, text);
	free(p);
}

static void
put(const struct box *b, const char *rel)
{
	put_text(b, rel, "Subject: x\n\nbody\n");
}

/* Give sub (cur or new) the mtime of the test's clock + delta seconds,
 * with nsec nanoseconds. */
static void
age(const struct box *b, const char *sub, long delta, long nsec)
{
	char *p = in_box(b, sub);
	struct timespec t[2];

	t[0].tv_sec = b->now.tv_sec + delta;
	t[0].tv_nsec = nsec;
	t[1] = t[0];
	ck_assert_msg(utimensat(AT_FDCWD, p, t, 0) == 0, "utimensat %s: %s",
	    p, strerror(errno));
	free(p);
}

/* Both directories at one fixed old time, as a folder unchanged for an
 * hour (the same value every call, so that equal stamps are expected). */
static void
age_both(const struct box *b, time_t when)
{
	struct timespec t[2] = { { when, 123 }, { when, 123 } };

	for (int i = 0; i < 2; i++) {
		char *p = in_box(b, i == 0 ? "cur" : "new");

		ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
		free(p);
	}
}

/* INBOX's status by open() (opening it), or by peek(). */
static struct mbox_status
box_status(struct box *b, int peek)
{
	struct mbox_status st;
	int rc = peek ? b->s->ops->peek(b->s, "INBOX", &st, &b->err) - 1 :
	    b->s->ops->open(b->s, "INBOX", &st, &b->err);

	ck_assert_msg(rc == 0, "%s: %s", peek ? "peek" : "open",
	    buf_cstr(&b->err));
	return st;
}

static struct mbox_status
box_open(struct box *b)
{
	return box_status(b, 0);
}

/* open() and peek() agree on UIDVALIDITY, UIDNEXT and the stamp. */
static uint64_t
stamp_of(struct box *b)
{
	struct mbox_status o = box_open(b), p = box_status(b, 1);

	ck_assert_uint_eq(o.uidvalidity, p.uidvalidity);
	ck_assert_uint_eq(o.uidnext, p.uidnext);
	ck_assert_uint_eq(o.stamp, p.stamp);
	ck_assert_uint_eq(p.highestmodseq, 0);
	return o.stamp;
}

static void
box_scan(struct box *b, struct msg_list *l)
{
	memset(l, 0, sizeof(*l));
	ck_assert_msg(b->s->ops->scan(b->s, NULL, l, &b->err) == 0, "scan: %s",
	    buf_cstr(&b->err));
}

#define OLD ((time_t)1700000000)

static int
exists(const struct box *b, const char *rel)
{
	char *p = in_box(b, rel);
	int ok = tl_exists(p);

	free(p);
	return ok;
}

/* A listing in *l, then INBOX opened again at its stamp and *l standing
 * in for its listing (the scan_changes() result in *out). */
static void
open_known(struct box *b, struct msg_list *l, struct msg_list *out)
{
	struct mbox_status st = box_open(b);

	box_scan(b, l);
	st = box_open(b);
	ck_assert_uint_ne(st.stamp, 0);
	/* A mark that is not the folder's stamp is refused. */
	ck_assert_int_eq(b->s->ops->scan_changes(b->s, l, st.stamp + 1, out,
	    &b->err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b->err), "stamp"));
	ck_assert_int_eq(b->s->ops->scan_changes(b->s, l, st.stamp, out,
	    &b->err), 0);
}

START_TEST(test_old_folder_has_stamp)
{
	struct box b;
	struct mbox_status st;
	uint64_t s1;

	box_start(&b);
	put(&b, "cur/1.a,U=1:2,S");
	put_text(&b, ".uidvalidity", "42\n1\n");
	age_both(&b, OLD);
	s1 = stamp_of(&b);
	ck_assert_uint_ne(s1, 0);
	st = box_status(&b, 1);
	ck_assert_uint_eq(st.uidvalidity, 42);
	ck_assert_uint_eq(st.uidnext, 2);
	/* Reading (and listing) changes nothing. */
	ck_assert_uint_eq(stamp_of(&b), s1);
	/* The same times on another folder, or a folder made again (a
	 * restore keeps times, not inodes): another stamp. */
	{
		char *cur = in_box(&b, "cur"), *keep = in_box(&b, "cur.old");

		ck_assert_int_eq(rename(cur, keep), 0);
		ck_assert_int_eq(mkdir(cur, 0700), 0);
		age_both(&b, OLD);
		ck_assert_uint_ne(stamp_of(&b), s1);
		ck_assert_uint_ne(stamp_of(&b), 0);
		free(cur);
		free(keep);
	}
	box_end(&b);
}
END_TEST

/* Fresh (a change within the 3 s margin: now, or a second ahead as a
 * coarse clock may round) or future times give no stamp; one directory
 * is enough. */
START_TEST(test_fresh_or_future_has_none)
{
	static const struct {
		const char *sub;
		long delta;
	} cases[] = {
		{ "cur", 0 }, { "new", 0 }, { "cur", -2 }, { "new", -1 },
		{ "cur", 1 }, { "new", 1 }, { "cur", 5 }, { "new", 3600 },
	};
	struct box b;

	box_start(&b);
	/* Just made, read at that moment: no stamp. */
	ck_assert_uint_eq(stamp_of(&b), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		age_both(&b, OLD);
		ck_assert_uint_ne(stamp_of(&b), 0);
		age(&b, cases[i].sub, cases[i].delta, b.now.tv_nsec);
		ck_assert_msg(stamp_of(&b) == 0, "%s at now%+ld s has a stamp",
		    cases[i].sub, cases[i].delta);
	}
	/* Older than the margin: a stamp again. */
	age(&b, "cur", -4, 0);
	age(&b, "new", -60, 0);
	ck_assert_uint_ne(stamp_of(&b), 0);
	box_end(&b);
}
END_TEST

/* The margin to the nanosecond: a time exactly 3 s before the clock is
 * still fresh, one a nanosecond older is old; and the same directories
 * earn a stamp once the clock alone moves past the margin. */
START_TEST(test_margin_edge)
{
	struct box b;

	box_start(&b);
	b.now.tv_nsec = 500;
	age_both(&b, OLD);
	age(&b, "cur", -3, 500);
	ck_assert_msg(stamp_of(&b) == 0, "a stamp at exactly the margin");
	age(&b, "cur", -3, 499);
	ck_assert_msg(stamp_of(&b) != 0, "no stamp past the margin");
	age(&b, "new", 0, 500);
	ck_assert_uint_eq(stamp_of(&b), 0);
	b.now.tv_sec += 3;
	ck_assert_uint_eq(stamp_of(&b), 0);
	b.now.tv_nsec++;
	ck_assert_uint_ne(stamp_of(&b), 0);
	box_end(&b);
}
END_TEST

/* A clock that cannot tell vouches for nothing: no stamp, though open()
 * and peek() still report the folder. */
START_TEST(test_clock_fails)
{
	struct box b;

	box_start(&b);
	put_text(&b, ".uidvalidity", "42\n1\n");
	age_both(&b, OLD);
	ck_assert_uint_ne(stamp_of(&b), 0);
	b.clock_fails = 1;
	ck_assert_uint_eq(stamp_of(&b), 0);
	ck_assert_uint_eq(box_status(&b, 1).uidvalidity, 42);
	box_end(&b);
}
END_TEST

enum change { CH_RENAME, CH_NEW, CH_DELETE, CH_CLASH, CH_COUNT };
static const char *const change_names[CH_COUNT] = {
	"flag rename in cur/", "new file in new/", "deletion",
	"file moved in with the same ,U=",
};

static void
make_change(struct box *b, enum change c)
{
	char *from = in_box(b, "cur/1.a,U=1:2,S");
	char *to = in_box(b, "cur/1.a,U=1:2,FS");

	switch (c) {
	case CH_RENAME:
		ck_assert_int_eq(rename(from, to), 0);
		break;
	case CH_NEW:
		put(b, "new/9.z");
		break;
	case CH_DELETE:
		ck_assert_int_eq(unlink(from), 0);
		break;
	case CH_CLASH:
		put(b, "cur/7.other,U=1:2,");
		break;
	case CH_COUNT:
		break;
	}
	free(from);
	free(to);
}

/*
 * Every kind of change to a folder: right after it no stamp (too recent
 * to vouch for), and once its times are old (any old time but the one
 * the first stamp was given for: the clock moved on), another stamp.
 */
START_TEST(test_change_changes_stamp)
{
	enum change c = (enum change)_i;
	struct box b;
	uint64_t s1, s2;

	box_start(&b);
	put_text(&b, ".uidvalidity", "42\n1\n");
	put(&b, "cur/1.a,U=1:2,S");
	age_both(&b, OLD);
	s1 = stamp_of(&b);
	ck_assert_uint_ne(s1, 0);
	make_change(&b, c);
	/* Read right after the change, and a second later. */
	clock_at_change(&b);
	ck_assert_msg(stamp_of(&b) == 0, "%s: a stamp right after it",
	    change_names[c]);
	b.now.tv_sec++;
	ck_assert_msg(stamp_of(&b) == 0, "%s: a stamp a second after it",
	    change_names[c]);
	/* Only the directory the change touched moved on. */
	age_both(&b, OLD);
	age(&b, c == CH_NEW ? "new" : "cur", -3600, 7);
	s2 = stamp_of(&b);
	ck_assert_msg(s2 != 0 && s2 != s1, "%s: stamp %llx, before %llx",
	    change_names[c], (unsigned long long)s2,
	    (unsigned long long)s1);
	box_end(&b);
}
END_TEST

/* A mail reader renames file from to to (both relative to the box). */
static void
reader_move(const struct box *b, const char *from, const char *to)
{
	char *p = in_box(b, from), *q = in_box(b, to);

	ck_assert_int_eq(rename(p, q), 0);
	free(p);
	free(q);
}

/* How many times the log says the folder was read for its names. */
static size_t
name_reads(struct box *b)
{
	size_t n = 0;

	for (const char *p = buf_cstr(&b->log);
	    (p = strstr(p, "listed for the names")) != NULL; p++)
		n++;
	return n;
}

/*
 * scan_changes() stands the caller's list in for a listing at the
 * folder's stamp, reads no directory for a no-op, and names the files
 * once an operation needs them: a file deleted meanwhile is gone, a
 * file renamed by a reader is followed, also from new/ to cur/. Loop 1:
 * prefetch() reads the names at once (while a caller waits for the
 * other side), and what the reader does after it is found by the
 * operation all the same, without reading the names again; on a folder
 * scan() listed it reads nothing.
 */
START_TEST(test_known_list_stands_in)
{
	struct box b;
	struct msg_list l, out = { 0 };
	uint32_t uids[4] = { 1, 2, 3, 4 };
	int res[4];
	int ahead = _i;
	char *p;

	box_start(&b);
	put_text(&b, ".uidvalidity", "42\n4\n");
	put(&b, "cur/1.a,U=1:2,S");
	put(&b, "new/2.b,U=2");
	put(&b, "cur/3.c,U=3:2,F");
	put(&b, "new/4.d,U=4");
	age_both(&b, OLD);
	open_known(&b, &l, &out);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_uint_eq(out.n, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert(out.v[i].uid == l.v[i].uid &&
		    out.v[i].flags == l.v[i].flags);
	ck_assert_uint_eq(name_reads(&b), 0);
	if (ahead) {
		b.s->ops->prefetch(b.s);
		ck_assert_ptr_nonnull(strstr(buf_cstr(&b.log), "listed for "
		    "the names of 4 messages; 0 of them gone"));
	}

	/* Meanwhile a reader deletes 2, renames 3 and reads 4 (new/ to
	 * cur/, seen). */
	p = in_box(&b, "new/2.b,U=2");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	reader_move(&b, "cur/3.c,U=3:2,F", "cur/3.c,U=3:2,FS");
	reader_move(&b, "new/4.d,U=4", "cur/4.d,U=4:2,S");
	ck_assert_int_eq(b.s->ops->set_flags(b.s, uids, 4, MSG_ANSWERED, 0,
	    res, &b.err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert_int_eq(res[1], STORE_GONE);
	ck_assert_int_eq(res[2], STORE_OK);
	ck_assert_int_eq(res[3], STORE_OK);
	ck_assert(ahead || strstr(buf_cstr(&b.log), "listed for the names "
	    "of 3 messages; 1 of them gone") != NULL);
	ck_assert_uint_eq(name_reads(&b), 1);
	ck_assert(exists(&b, "cur/1.a,U=1:2,RS"));
	ck_assert(exists(&b, "cur/3.c,U=3:2,FRS"));
	ck_assert(exists(&b, "cur/4.d,U=4:2,RS"));
	ck_assert(!exists(&b, "new/4.d,U=4"));
	if (ahead) {
		box_open(&b);
		msg_list_free(&l);
		box_scan(&b, &l);
		b.s->ops->prefetch(b.s);
		ck_assert_uint_eq(name_reads(&b), 1);
	}
	msg_list_free(&l);
	msg_list_free(&out);
	box_end(&b);
}
END_TEST

/* A second file claiming a known UID after open(): which one is the
 * message is not guessed; the operation fails, nothing is renamed. Loop
 * 1: prefetch() meets the clash first, reports nothing, and leaves it to
 * the operation. */
START_TEST(test_known_list_clash_fails)
{
	struct box b;
	struct msg_list l, out = { 0 };
	uint32_t uid = 1;
	int res;

	box_start(&b);
	put_text(&b, ".uidvalidity", "42\n1\n");
	put(&b, "cur/1.a,U=1:2,S");
	age_both(&b, OLD);
	open_known(&b, &l, &out);
	put(&b, "cur/8.moved,U=1:2,");
	if (_i) {
		b.s->ops->prefetch(b.s);
		ck_assert_uint_eq(name_reads(&b), 0);
	}
	ck_assert_int_eq(b.s->ops->set_flags(b.s, &uid, 1, MSG_FLAGGED, 0,
	    &res, &b.err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b.err), "claims UID 1"));
	ck_assert(exists(&b, "cur/1.a,U=1:2,S"));
	msg_list_free(&l);
	msg_list_free(&out);
	box_end(&b);
}
END_TEST

/* A sink that keeps the one message it is given: its meta and text. */
struct one_msg {
	struct msg_meta meta;
	struct buf text;
	int begun, ended;
};

static int
one_begin(void *ctx, const struct msg_meta *m, struct buf *err)
{
	struct one_msg *o = ctx;

	(void)err;
	o->meta = *m;
	o->begun++;
	return 0;
}

static int
one_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	(void)err;
	buf_add(&((struct one_msg *)ctx)->text, p, n);
	return 0;
}

static int
one_end(void *ctx, struct buf *err)
{
	(void)err;
	((struct one_msg *)ctx)->ended++;
	return 0;
}

static void
one_gone(void *ctx, uint32_t uid)
{
	(void)ctx;
	ck_abort_msg("UID %u reported gone", uid);
}

/* Fetch uid: the text (CRLF) must be want, the size reported size. */
static void
expect_whole(struct box *b, uint32_t uid, const char *want, uint64_t size)
{
	struct one_msg o = { .text = BUF_INIT };
	struct msg_sink sink = { one_begin, one_data, one_end, one_gone, &o,
	    NULL };

	ck_assert_msg(b->s->ops->fetch(b->s, &uid, 1, &sink, &b->err) == 0,
	    "fetch %u: %s", uid, buf_cstr(&b->err));
	ck_assert_int_eq(o.begun, 1);
	ck_assert_int_eq(o.ended, 1);
	ck_assert_uint_eq(o.meta.uid, uid);
	ck_assert_uint_eq(o.meta.size, size);
	ck_assert_str_eq(buf_cstr(&o.text), want);
	buf_free(&o.text);
}

/* A message delivered into cur/ as a Maildir writer does (written in
 * tmp/, dated long ago, renamed), under base name name. */
static void
deliver_old(const struct box *b, const char *name, const char *text)
{
	struct timespec t[2] = { { 1000, 0 }, { 1000, 0 } };
	char *tmp = tl_path(b->root, "tmp"), *cur = tl_path(b->root, "cur");
	char *from = tl_path(tmp, name), *to = tl_path(cur, name);

	tl_write_str(from, text);
	ck_assert_int_eq(utimensat(AT_FDCWD, from, t, 0), 0);
	ck_assert_int_eq(rename(from, to), 0);
	free(tmp);
	free(cur);
	free(from);
	free(to);
}

/*
 * A folder settled under a stamp, then a reader delivers (tmp/, then a
 * rename into cur/) an older message under a ,U= the folder holds, and
 * the folder is old again: the mark's stamp no longer stands in, the
 * listing reports the clash with the size and date of both files though
 * the hint wants neither (both names carry UID 1, below its sizes_from;
 * either may turn out new and be copied, and MaxSize reads its size:
 * store.h, clashes()), and once settled the file that takes the new UID
 * is read whole, with its own size.
 */
START_TEST(test_clash_after_mark_read_whole)
{
	static const char moved[] = "Subject: moved\n\nA longer body.\n";
	struct box b;
	struct msg_list l, out = { 0 }, again = { 0 };
	struct scan_hint hint = { .sizes_from = 3 };
	const struct uid_clash *v;
	struct uid_clash c;
	struct mbox_status st;
	uint64_t mark;
	uint32_t moved_to = 1;

	box_start(&b);
	put_text(&b, ".uidvalidity", "42\n2\n");
	put(&b, "cur/1.a,U=1:2,S");
	put(&b, "cur/2.b,U=2:2,");
	age_both(&b, OLD);
	open_known(&b, &l, &out);
	mark = box_open(&b).stamp;
	deliver_old(&b, "9.moved,U=1:2,F", moved);
	age_both(&b, OLD + 3600);
	st = box_open(&b);
	ck_assert(st.stamp != 0 && st.stamp != mark);
	ck_assert_int_eq(b.s->ops->scan_changes(b.s, &l, mark, &again,
	    &b.err), -1);
	ck_assert_msg(b.s->ops->scan(b.s, &hint, &again, &b.err) == 0,
	    "scan: %s", buf_cstr(&b.err));
	/* The older file keeps UID 1 for now; the recorded one is 3. */
	ck_assert_uint_eq(again.n, 3);
	ck_assert_uint_eq(again.v[0].uid, 1);
	ck_assert_uint_eq(again.v[0].size, strlen(moved));
	ck_assert_int_eq(again.v[0].date, 1000);
	ck_assert_uint_eq(again.v[2].uid, 3);
	ck_assert_uint_eq(again.v[2].size, strlen("Subject: x\n\nbody\n"));
	ck_assert_int_ne(again.v[2].date, 0);
	ck_assert_uint_eq(b.s->ops->clashes(b.s, &v), 1);
	c = v[0];
	ck_assert(c.uid == 1 && c.other == 3);
	/* The recorded message is the one the scan called 3: a swap. */
	ck_assert_msg(b.s->ops->settle_clash(b.s, &c, 1, &moved_to,
	    &b.err) == 0, "settle: %s", buf_cstr(&b.err));
	ck_assert_uint_eq(moved_to, 0);
	ck_assert(exists(&b, "cur/9.moved,U=3:2,F"));
	ck_assert(exists(&b, "cur/1.a,U=1:2,S"));
	expect_whole(&b, 3, "Subject: moved\r\n\r\nA longer body.\r\n",
	    strlen(moved));
	expect_whole(&b, 1, "Subject: x\r\n\r\nbody\r\n",
	    strlen("Subject: x\n\nbody\n"));
	msg_list_free(&l);
	msg_list_free(&out);
	msg_list_free(&again);
	box_end(&b);
}
END_TEST

/* No UID file, or no folder: peek cannot tell (open() would say why). */
START_TEST(test_peek_unknown)
{
	struct box b;
	struct mbox_status st;

	box_start(&b);
	ck_assert_int_eq(b.s->ops->peek(b.s, "INBOX", &st, &b.err), 0);
	ck_assert_int_eq(b.s->ops->peek(b.s, "Nowhere", &st, &b.err), 0);
	put_text(&b, ".uidvalidity", "garbage\n");
	ck_assert_int_eq(b.s->ops->peek(b.s, "INBOX", &st, &b.err), 0);
	box_end(&b);
}
END_TEST

static Suite *
stamp_suite(void)
{
	Suite *s = suite_create("maildir_stamp");
	TCase *tc = tcase_create("stamp");

	tcase_add_test(tc, test_old_folder_has_stamp);
	tcase_add_test(tc, test_fresh_or_future_has_none);
	tcase_add_test(tc, test_margin_edge);
	tcase_add_test(tc, test_clock_fails);
	tcase_add_loop_test(tc, test_change_changes_stamp, 0, CH_COUNT);
	tcase_add_loop_test(tc, test_known_list_stands_in, 0, 2);
	tcase_add_loop_test(tc, test_known_list_clash_fails, 0, 2);
	tcase_add_test(tc, test_clash_after_mark_read_whole);
	tcase_add_test(tc, test_peek_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(stamp_suite());
}
