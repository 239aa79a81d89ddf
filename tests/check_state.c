/* Unit tests: state file, journal, replay, fold, lock and state location
 * of a mailbox pair (src/sync). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "store.h"
#include "sync/journal.h"
#include "sync/lock.h"
#include "sync/state.h"
#include "sync/state_path.h"
#include "sync/state_rec.h"
#include "support/records.h"
#include "support/testlib.h"

/* The records of a run that touches every kind; sample_state() applies
 * them. */
static size_t
sample_records(struct journal_rec *v)
{
	size_t n = 0;

	v[n++] = r_header(JR_UIDVALIDITY, SIDE_FAR, 1700000000);
	v[n++] = r_header(JR_UIDVALIDITY, SIDE_NEAR, 42);
	v[n++] = r_header(JR_HIGHESTMODSEQ, SIDE_FAR, 18446744073709551615u);
	v[n++] = r_pair(JR_PAIR_NEW, 3, 1, MSG_SEEN, 0);
	v[n++] = r_pair(JR_PAIR_NEW, 1, 2, MSG_SEEN | MSG_FLAGGED, 0);
	v[n++] = r_pair(JR_PAIR_NEW, 0, 7, 0, PAIR_TOO_BIG);
	v[n++] = r_pair(JR_PAIR_NEW, 9, 0, MSG_DRAFT, PAIR_EXPIRED);
	v[n++] = r_pair(JR_PAIR_NEW, 5, 5, 0, 0);
	v[n++] = r_pair(JR_PAIR_FLAGS, 1, 2, MSG_ANSWERED | MSG_SEEN, 0);
	v[n++] = r_pair(JR_PAIR_STATUS, 3, 1, 0, PAIR_GONE_MARKED);
	v[n++] = r_pair(JR_PAIR_FORGET, 5, 5, 0, 0);
	v[n++] = r_copy(SIDE_FAR, 10, MSG_SEEN, 8, 0, 1234, 0xdeadbeefcafef00d);
	v[n++] = r_copy(SIDE_NEAR, 11, 0, 0, 20, 99, 7);
	v[n++] = r_copy(SIDE_FAR, 12, MSG_FLAGGED, 9, 0, 55, 1);
	v[n++] = r_done(JR_COPY_DONE, SIDE_FAR, 10, 8);
	v[n++] = r_copy(SIDE_NEAR, 13, MSG_DELETED | MSG_FORWARDED, 0, 21, 0,
	    0);
	v[n++] = r_done(JR_COPY_ABORT, SIDE_NEAR, 13, 0);
	v[n++] = r_header(JR_MAXUID, SIDE_FAR, 12);
	v[n++] = r_header(JR_MAXUID, SIDE_NEAR, 8);
	return n;
}
#define MAX_SAMPLE 32

static void
sample_state(struct sync_state *st)
{
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v);

	state_init(st);
	for (size_t i = 0; i < n; i++)
		apply_ok(st, v[i]);
}

/* A file's lines with their checksums checked and removed. */
static char *
payloads(const char *path)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t len;
	char *text = tl_read_file(path, &len);
	struct rec_reader r = { .data = text, .len = len };
	const char *line;
	size_t llen, plen;
	int complete;

	while (rec_next_line(&r, &line, &llen, &complete)) {
		ck_assert(complete);
		if (r.lineno == 1) {
			plen = llen;
		} else {
			ck_assert_msg(rec_unseal(line, llen, &plen, &why) == 0,
			    "%s:%u: %s", path, r.lineno, buf_cstr(&why));
		}
		buf_add(&out, line, plen);
		buf_addc(&out, '\n');
	}
	free(text);
	buf_free(&why);
	return buf_detach(&out);
}

START_TEST(test_state_file_text)
{
	char *dir = tl_mkdtemp("state");
	char *path = tl_path(dir, "st");
	struct sync_state st;
	struct buf err = BUF_INIT;
	char *text;

	sample_state(&st);
	ck_assert_int_eq(state_write(path, &st, &err), 0);
	text = payloads(path);
	ck_assert_str_eq(text,
	    "twinbox-state 2\n"
	    "generation 0\n"
	    "uidvalidity far 1700000000\n"
	    "uidvalidity near 42\n"
	    "maxuid far 12\n"
	    "maxuid near 8\n"
	    "highestmodseq far 18446744073709551615\n"
	    "highestmodseq near 0\n"
	    "summary 4 4 2 0000000000000000\n"
	    "pair 0 7 - 1\n"
	    "pair 1 2 RS 0\n"
	    "pair 3 1 S 2\n"
	    "pair 9 0 D 4\n"
	    "pair 10 8 S 0\n"
	    "copy far>near 12 F 9 0 55 1\n"
	    "copy near>far 11 - 0 20 99 7\n"
	    "end 5 2\n");
	free(text);
	text = tl_path(dir, "st.new");
	ck_assert(!tl_exists(text));
	free(text);
	free(path);
	state_free(&st);
	buf_free(&err);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_state_round_trip)
{
	char *dir = tl_mkdtemp("state");
	char *path = tl_path(dir, "st"), *path2 = tl_path(dir, "st2");
	struct sync_state st, back;
	struct buf err = BUF_INIT;
	char *a, *b;
	int found = -1;

	sample_state(&st);
	st.generation = 41;
	ck_assert_int_eq(state_write(path, &st, &err), 0);
	state_init(&back);
	ck_assert_msg(state_read(path, &back, &found, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_int_eq(found, 1);
	ck_assert(state_equal(&st, &back));
	/* Written again, over itself, without the directory's sync: the
	 * same bytes and no PATH.new left. */
	ck_assert_int_eq(state_write_rebuildable(path2, &back, &err), 0);
	ck_assert_int_eq(state_write_rebuildable(path2, &back, &err), 0);
	a = tl_read_file(path, NULL);
	b = tl_read_file(path2, NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = tl_path(dir, "st2.new");
	ck_assert(!tl_exists(a));
	free(a);
	free(path);
	free(path2);
	state_free(&st);
	state_free(&back);
	buf_free(&err);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_state_missing_is_empty)
{
	char *dir = tl_mkdtemp("state");
	char *path = tl_path(dir, "none");
	struct sync_state st, empty;
	struct buf err = BUF_INIT;
	int found = -1;

	state_init(&st);
	state_init(&empty);
	ck_assert_int_eq(state_read(path, &st, &found, &err), 0);
	ck_assert_int_eq(found, 0);
	ck_assert(state_equal(&st, &empty));
	ck_assert_int_eq(tl_count_entries(dir), 0);
	free(path);
	buf_free(&err);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

/* A mailbox pair's state directory, with a logger capturing debug
 * output. */
struct fixture {
	char *dir;
	char *state;
	char *journal;
	struct buf log;
	struct logger lg;
	struct buf err;
};

static void
fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = tl_mkdtemp("pair");
	fx->state = tl_path(fx->dir, ".twinboxstate");
	fx->journal = tl_path(fx->dir, ".twinboxstate.journal");
	fx->lg.level = LOG_DEBUG;
	fx->lg.capture = &fx->log;
}

static void
fx_free(struct fixture *fx)
{
	tl_rmtree(fx->dir);
	free(fx->dir);
	free(fx->state);
	free(fx->journal);
	buf_free(&fx->log);
	buf_free(&fx->err);
}

static void
load_ok(struct fixture *fx, struct sync_state *st, struct journal_info *info)
{
	state_init(st);
	ck_assert_msg(state_load(fx->state, fx->journal, st, info, &fx->lg,
	    &fx->err) == 0, "load: %s", buf_cstr(&fx->err));
}

/* One run: load, journal the records (flushing every batch records),
 * then fold or just close, as a run that ends early does. */
static void
run_records(struct fixture *fx, const struct journal_rec *v, size_t n,
    size_t batch, int fold, struct sync_state *st)
{
	struct journal_info info;
	struct journal *j;

	load_ok(fx, st, &info);
	ck_assert_msg(journal_open(fx->journal, st, &info, &fx->lg, &j,
	    &fx->err) == 0, "open: %s", buf_cstr(&fx->err));
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(journal_append(j, &v[i], &fx->err) == 0,
		    "append %zu: %s", i, buf_cstr(&fx->err));
		if ((i + 1) % batch == 0)
			ck_assert_int_eq(journal_flush(j, &fx->err), 0);
	}
	if (fold)
		ck_assert_msg(journal_fold(j, fx->state, NULL, &fx->err) == 0,
		    "fold: %s", buf_cstr(&fx->err));
	else
		ck_assert_int_eq(journal_close(j, &fx->err), 0);
}

/* Every entry of a directory with its contents, sorted by name. */
static char *
snapshot(const char *dir)
{
	struct strlist names = { 0 };
	struct buf out = BUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL)
		strlist_add(&names, e->d_name);
	closedir(d);
	strlist_sort(&names);
	for (size_t i = 0; i < names.n; i++) {
		char *p = tl_path(dir, names.v[i]);
		struct stat st;

		ck_assert_int_eq(lstat(p, &st), 0);
		buf_addf(&out, "== %s %o\n", names.v[i], st.st_mode);
		if (S_ISREG(st.st_mode)) {
			char *data = tl_read_file(p, NULL);

			buf_adds(&out, data);
			free(data);
		}
		free(p);
	}
	strlist_free(&names);
	return buf_detach(&out);
}

START_TEST(test_replay_rebuilds_state)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v);
	struct sync_state run, replayed, expect;
	struct journal_info info;
	struct buf a = BUF_INIT, b = BUF_INIT;

	fx_init(&fx);
	run_records(&fx, v, n, 4, 0, &run);
	sample_state(&expect);
	ck_assert(state_equal(&run, &expect));
	ck_assert(!tl_exists(fx.state));
	load_ok(&fx, &replayed, &info);
	ck_assert_int_eq(info.found, 1);
	ck_assert_int_eq(info.nrecs, n);
	ck_assert_int_eq(info.torn, 0);
	ck_assert(state_equal(&replayed, &run));
	state_format(&replayed, &a);
	state_format(&run, &b);
	ck_assert_str_eq(a.data, b.data);
	buf_setf(&a, "debug: %s: replayed %zu records\n", fx.journal, n);
	ck_assert_str_eq(fx.log.data, a.data);
	buf_reset(&a);
	buf_free(&a);
	buf_free(&b);
	state_free(&run);
	state_free(&replayed);
	state_free(&expect);
	fx_free(&fx);
}
END_TEST

START_TEST(test_fold_keeps_intents)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v);
	struct sync_state run, back;
	struct journal_info info;
	struct journal_rec more[2];

	fx_init(&fx);
	run_records(&fx, v, n, 1000, 1, &run);
	ck_assert(!tl_exists(fx.journal));
	ck_assert_uint_eq(run.generation, 1);
	ck_assert_uint_eq(run.nintents, 2);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.found, 0);
	ck_assert(state_equal(&run, &back));
	ck_assert_ptr_nonnull(state_find_intent(&back, SIDE_NEAR, 11));
	ck_assert_uint_eq(state_find_intent(&back, SIDE_FAR, 12)->planned_uid,
	    9);
	state_free(&back);

	/* The next run resolves both pending copies. */
	more[0] = r_done(JR_COPY_DONE, SIDE_FAR, 12, 9);
	more[1] = r_done(JR_COPY_ABORT, SIDE_NEAR, 11, 0);
	state_free(&run);
	run_records(&fx, more, 2, 1, 1, &run);
	ck_assert_uint_eq(run.generation, 2);
	ck_assert_uint_eq(run.nintents, 0);
	ck_assert_uint_eq(state_find_far(&run, 12)->uid[SIDE_NEAR], 9);
	ck_assert_uint_eq(state_find_far(&run, 12)->flags, MSG_FLAGGED);
	load_ok(&fx, &back, &info);
	ck_assert(state_equal(&run, &back));
	state_free(&run);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

/* A crash after the new state file is renamed into place and before the
 * journal is removed leaves an already-folded journal behind. */
START_TEST(test_folded_journal_is_ignored)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v);
	struct sync_state run, back;
	struct journal_info info;
	struct journal *j;
	struct journal_rec extra = r_pair(JR_PAIR_NEW, 20, 20, 0, 0);
	char *journal_text, *expect;

	fx_init(&fx);
	run_records(&fx, v, n, 3, 0, &run);
	journal_text = tl_read_file(fx.journal, NULL);
	state_free(&run);
	run_records(&fx, NULL, 0, 1, 1, &run);
	tl_write_str(fx.journal, journal_text);
	buf_reset(&fx.log);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.stale, 1);
	ck_assert(state_equal(&run, &back));
	buf_setf(&fx.err, "debug: %s: already folded into state generation 1, "
	    "ignored\n", fx.journal);
	ck_assert_str_eq(fx.log.data, fx.err.data);

	/* The next run starts a fresh journal over it. */
	ck_assert_int_eq(journal_open(fx.journal, &back, &info, &fx.lg, &j,
	    &fx.err), 0);
	ck_assert_int_eq(journal_append(j, &extra, &fx.err), 0);
	ck_assert_int_eq(journal_close(j, &fx.err), 0);
	expect = payloads(fx.journal);
	ck_assert_str_eq(expect, "twinbox-journal 1\nbase 1\npair 20 20 - 0\n");
	state_free(&run);
	load_ok(&fx, &run, &info);
	ck_assert(state_equal(&run, &back));
	free(expect);
	free(journal_text);
	state_free(&run);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

/* Cut the journal at every byte of its last record: the result is the
 * state without that record, and the next run continues cleanly. */
/*
 * What a crash during journal_open() can leave of a fresh journal, whose
 * base names a state file renamed into place without a directory sync
 * of its own (state_write_rebuildable()): the directory is synced while
 * the journal is empty, so the base is either absent or on disk with
 * that state file. An empty journal, or one cut in its header or base,
 * has nothing to replay and is started anew.
 */
START_TEST(test_fresh_journal_cut_before_base)
{
	static const char *const left[] = {
		"", "twinbox-", "twinbox-journal 1\n",
		"twinbox-journal 1\nbase 4",
	};
	struct fixture fx;
	struct sync_state st, back;
	struct journal_info info;
	struct journal *j;

	fx_init(&fx);
	sample_state(&st);
	st.generation = 4;
	ck_assert_int_eq(state_write_rebuildable(fx.state, &st, &fx.err), 0);
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		tl_write_file(fx.journal, left[i], strlen(left[i]));
		load_ok(&fx, &back, &info);
		ck_assert_msg(state_equal(&back, &st), "left: \"%s\"",
		    left[i]);
		ck_assert_uint_eq(info.nrecs, 0);
		ck_assert_msg(journal_open(fx.journal, &back, &info, &fx.lg,
		    &j, &fx.err) == 0, "open: %s", buf_cstr(&fx.err));
		ck_assert_int_eq(journal_close(j, &fx.err), 0);
		state_free(&back);
		load_ok(&fx, &back, &info);
		ck_assert(info.usable);
		ck_assert(state_equal(&back, &st));
		state_free(&back);
	}
	state_free(&st);
	fx_free(&fx);
}
END_TEST

START_TEST(test_torn_last_record_every_offset)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v), full_len, last_start;
	struct sync_state run, without, back;
	struct journal_info info;
	char *full;

	fx_init(&fx);
	run_records(&fx, v, n, 5, 0, &run);
	full = tl_read_file(fx.journal, &full_len);
	last_start = full_len - 1;
	while (last_start > 0 && full[last_start - 1] != '\n')
		last_start--;
	state_init(&without);
	for (size_t i = 0; i + 1 < n; i++)
		apply_ok(&without, v[i]);
	for (size_t cut = last_start; cut < full_len; cut++) {
		tl_write_file(fx.journal, full, cut);
		buf_reset(&fx.log);
		load_ok(&fx, &back, &info);
		ck_assert_msg(state_equal(&back, &without), "cut at %zu", cut);
		ck_assert_int_eq(info.torn, cut > last_start);
		ck_assert_uint_eq(info.good_len, last_start);
		if (cut > last_start)
			ck_assert_msg(strstr(fx.log.data, ": discarding a "
			    "torn or zero-filled journal tail (1 line from "
			    "here, no end of line) left by a crash; the stores "
			    "are compared by content instead\n") != NULL, "%s",
			    fx.log.data);
		state_free(&back);
	}
	/* Continue after a torn tail: it is cut off before appending. */
	tl_write_file(fx.journal, full, full_len - 3);
	state_free(&run);
	run_records(&fx, &v[n - 1], 1, 1, 0, &run);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.torn, 0);
	ck_assert(state_equal(&back, &run));
	free(full);
	state_free(&run);
	state_free(&without);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

START_TEST(test_bad_checksum_on_last_line_is_torn)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v), len;
	struct sync_state run, back, without;
	struct journal_info info;
	char *full;

	fx_init(&fx);
	run_records(&fx, v, n, 5, 0, &run);
	full = tl_read_file(fx.journal, &len);
	full[len - 3] = full[len - 3] == '0' ? '1' : '0';
	tl_write_file(fx.journal, full, len);
	buf_reset(&fx.log);
	load_ok(&fx, &back, &info);
	state_init(&without);
	for (size_t i = 0; i + 1 < n; i++)
		apply_ok(&without, v[i]);
	ck_assert(state_equal(&back, &without));
	buf_setf(&fx.err, "twinbox: warning: %s:%zu: discarding a torn or "
	    "zero-filled journal tail (1 line from here, checksum mismatch) "
	    "left by a crash; the stores are compared by content instead\n"
	    "debug: %s: replayed %zu records\n", fx.journal, n + 2,
	    fx.journal, n - 1);
	ck_assert_str_eq(fx.log.data, fx.err.data);
	free(full);
	state_free(&run);
	state_free(&back);
	state_free(&without);
	fx_free(&fx);
}
END_TEST

/* Replace line lineno (1-based) of a file with text (sealed if asked). */
static void
replace_line(const char *path, unsigned lineno, const char *text, int seal)
{
	size_t len;
	char *data = tl_read_file(path, &len);
	struct rec_reader r = { .data = data, .len = len };
	struct buf out = BUF_INIT;
	const char *line;
	size_t llen;
	int complete;

	while (rec_next_line(&r, &line, &llen, &complete)) {
		size_t start = out.len;

		if (r.lineno != lineno) {
			buf_add(&out, line, llen);
			buf_addc(&out, '\n');
			continue;
		}
		buf_adds(&out, text);
		if (seal)
			rec_seal(&out, start);
		else
			buf_addc(&out, '\n');
	}
	tl_write_file(path, out.data, out.len);
	buf_free(&out);
	free(data);
}

/* Load must fail with exactly want ("%s" is the journal path) and leave
 * the directory as it was. */
static void
assert_load_fails(struct fixture *fx, const char *path, const char *want)
{
	struct sync_state st;
	char *before = snapshot(fx->dir), *after;
	struct buf expect = BUF_INIT;

	state_init(&st);
	buf_reset(&fx->err);
	ck_assert_int_eq(state_load(fx->state, fx->journal, &st, NULL, &fx->lg,
	    &fx->err), -1);
	buf_setf(&expect, want, path);
	ck_assert_str_eq(fx->err.data, expect.data);
	ck_assert_uint_eq(st.npairs, 0);
	ck_assert_ptr_null(st.pairs);
	after = snapshot(fx->dir);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	buf_free(&expect);
}

/*
 * The journal's lines from lineno on are discarded with one warning:
 * the state is that of the first nrecs records of v (the state file's
 * included); nlines lines were dropped.
 */
static void
assert_tail_discarded(struct fixture *fx, const struct journal_rec *v,
    size_t nrecs, unsigned lineno, unsigned nlines, const char *why)
{
	struct sync_state back, want;
	struct journal_info info;
	struct buf line = BUF_INIT;

	buf_reset(&fx->log);
	load_ok(fx, &back, &info);
	state_init(&want);
	for (size_t i = 0; i < nrecs; i++)
		apply_ok(&want, v[i]);
	want.generation = back.generation;
	ck_assert(state_equal(&back, &want));
	ck_assert_int_eq(info.torn, 1);
	buf_setf(&line, "twinbox: warning: %s:%u: discarding a torn or "
	    "zero-filled journal tail (%u line%s from here, %s) left by a "
	    "crash; the stores are compared by content instead\n",
	    fx->journal, lineno, nlines, nlines == 1 ? "" : "s", why);
	ck_assert_msg(strstr(buf_cstr(&fx->log), line.data) != NULL,
	    "log:\n%s\nwanted:\n%s", buf_cstr(&fx->log), line.data);
	buf_free(&line);
	state_free(&back);
	state_free(&want);
}

/*
 * A crash can leave zeros where the last unflushed writes should be (a
 * file extended before its data reached the disk): with or without lines
 * after them, everything from the first damaged line is discarded with a
 * warning, never replayed past, and the next run continues the journal
 * from the last good line.
 */
START_TEST(test_zero_filled_tail)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v), len, six;
	struct sync_state run, back;
	struct journal_info info;
	struct journal *j;
	struct journal_rec extra = r_pair(JR_PAIR_NEW, 40, 40, 0, 0);
	struct buf text = BUF_INIT;
	char *full;

	fx_init(&fx);
	run_records(&fx, v, 3, 1, 1, &run);
	state_free(&run);
	run_records(&fx, v + 3, n - 3, 4, 0, &run);
	full = tl_read_file(fx.journal, &len);
	/* Zeros after the last line, without and with an end of line. */
	buf_add(&text, full, len);
	buf_add(&text, "\0\0\0\0\0\0\0\0", 8);
	tl_write_file(fx.journal, text.data, text.len);
	assert_tail_discarded(&fx, v, n, (unsigned)n, 1, "no end of line");
	buf_addc(&text, '\n');
	tl_write_file(fx.journal, text.data, text.len);
	assert_tail_discarded(&fx, v, n, (unsigned)n, 1, "no checksum");
	/* A zero-filled block over lines 6 and 7 (one line of zeros now),
	 * then lines that reached the disk before it: not replayed. */
	six = 0;
	for (int i = 0; i < 5; i++)
		six += strcspn(full + six, "\n") + 1;
	buf_reset(&text);
	buf_add(&text, full, len);
	memset(text.data + six, 0, strcspn(full + six, "\n") + 1 +
	    strcspn(full + six + strcspn(full + six, "\n") + 1, "\n"));
	tl_write_file(fx.journal, text.data, text.len);
	assert_tail_discarded(&fx, v, 6, 6, (unsigned)(n - 7), "no checksum");
	/* The next run cuts the tail off and continues after line 5. */
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(journal_open(fx.journal, &back, &info, &fx.lg, &j,
	    &fx.err), 0);
	ck_assert_int_eq(journal_append(j, &extra, &fx.err), 0);
	ck_assert_int_eq(journal_close(j, &fx.err), 0);
	state_free(&back);
	buf_reset(&fx.log);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.torn, 0);
	ck_assert_uint_eq(info.nrecs, 4);
	ck_assert_ptr_nonnull(state_find_pair(&back, 40, 40));
	free(full);
	buf_free(&text);
	state_free(&run);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

START_TEST(test_corrupt_middle_line)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v), len;
	struct sync_state run;
	char *full, *fifth;

	fx_init(&fx);
	run_records(&fx, v, 3, 1, 1, &run);
	state_free(&run);
	run_records(&fx, v + 3, n - 3, 1, 0, &run);
	full = tl_read_file(fx.journal, &len);
	fifth = full;
	for (int i = 0; i < 4; i++)
		fifth = strchr(fifth, '\n') + 1;
	fifth[2] ^= 0x01;
	tl_write_file(fx.journal, full, len);
	assert_tail_discarded(&fx, v, 5, 5, (unsigned)(n - 5),
	    "checksum mismatch");

	/* A line cut short in the middle: the same. */
	fifth[2] ^= 0x01;
	memmove(fifth + 4, fifth + 9, len - (size_t)(fifth + 9 - full) + 1);
	tl_write_file(fx.journal, full, strlen(full));
	assert_tail_discarded(&fx, v, 5, 5, (unsigned)(n - 5),
	    "checksum mismatch");

	/* Well sealed, but not a record this version knows: an error. */
	tl_write_file(fx.journal, full, len);
	replace_line(fx.journal, 4, "zap 1 2", 1);
	assert_load_fails(&fx, fx.journal,
	    "%s:4: bad record: unknown record kind \"zap\"");
	replace_line(fx.journal, 4, "pair 01 2 S 0", 1);
	assert_load_fails(&fx, fx.journal,
	    "%s:4: bad record: bad far UID \"01\"");
	replace_line(fx.journal, 4, "pair 1 2 SR 0", 1);
	assert_load_fails(&fx, fx.journal, "%s:4: bad record: bad flags \"SR\"");
	replace_line(fx.journal, 4, "flags 77 78 S", 1);
	assert_load_fails(&fx, fx.journal,
	    "%s:4: bad record: no pair far UID 77 / near UID 78");
	replace_line(fx.journal, 4, "done far>near 500 3", 1);
	assert_load_fails(&fx, fx.journal,
	    "%s:4: bad record: no pending copy of far UID 500");
	replace_line(fx.journal, 2, "base 7", 1);
	assert_load_fails(&fx, fx.journal, "%s:2: bad record: journal extends "
	    "state generation 7, but the state file is generation 1");
	replace_line(fx.journal, 1, "twinbox-journal 2", 0);
	assert_load_fails(&fx, fx.journal, "%s:1: unsupported journal version "
	    "\"2\" (this twinbox reads version 1)");
	free(full);
	state_free(&run);
	fx_free(&fx);
}
END_TEST

/* One line of sample_state()'s file replaced (sealed or not), and maybe
 * a second one, and the error the load must give. */
static const struct {
	unsigned line;
	const char *with;
	int seal;
	unsigned line2;
	const char *with2;
	const char *want;
} damage[] = {
	{ 10, "pair 0 7 - 1", 0, 0, NULL, "%s:10: bad record: no checksum" },
	{ 11, "pair 0 6 - 0", 1, 0, NULL,
	    "%s:11: bad record: pair out of order" },
	{ 11, "flags 1 2 S", 1, 0, NULL,
	    "%s:11: bad record: record kind not allowed in a state file" },
	{ 17, "end 4 2", 1, 0, NULL, "%s:17: bad record: end: file holds 5 "
	    "pairs and 2 intents, end record says 4 and 2" },
	{ 13, "pair 9 7 D 4", 1, 9, "summary 4 5 2 0000000000000000",
	    "%s: bad state: near UID 7 is in two pairs" },
	/* The summary: its counts must be those of the file. */
	{ 9, "summary 4 3 2 0000000000000000", 1, 0, NULL, "%s:17: bad "
	    "record: end: the summary's counts do not match the pairs and "
	    "intents of the file" },
	{ 9, "summary 4 4 1 0000000000000000", 1, 0, NULL, "%s:17: bad "
	    "record: end: the summary's counts do not match the pairs and "
	    "intents of the file" },
	{ 9, "summary 4 4 2 00000000000000ff0", 1, 0, NULL,
	    "%s:9: bad record: bad policy digest \"00000000000000ff0\"" },
	{ 9, "summary 4 4 2 00000000000000FF", 1, 0, NULL,
	    "%s:9: bad record: bad policy digest \"00000000000000FF\"" },
	{ 9, "pair 0 7 - 1", 1, 0, NULL, "%s:9: bad record: expected a "
	    "settled mark or the summary record" },
	/* In version 2 a mark belongs to the head, never after the pairs. */
	{ 16, "settled far 13 9", 1, 0, NULL,
	    "%s:16: bad record: record kind not allowed in a state file" },
	{ 4, "maxuid far 12", 1, 0, NULL,
	    "%s:4: bad record: header records out of order" },
};
#define NDAMAGE (sizeof(damage) / sizeof(damage[0]))

START_TEST(test_state_file_errors)
{
	struct fixture fx;
	struct sync_state st;
	struct buf text = BUF_INIT;
	size_t len;

	fx_init(&fx);
	sample_state(&st);
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	state_format(&st, &text);
	len = text.len;

	replace_line(fx.state, 1, "twinbox-state 3", 0);
	assert_load_fails(&fx, fx.state, "%s:1: unsupported state file version "
	    "\"3\" (this twinbox reads versions 1 and 2)");
	replace_line(fx.state, 1, "mbsync-state 1", 0);
	assert_load_fails(&fx, fx.state, "%s:1: not a twinbox state file (no "
	    "\"twinbox-state\" header)");
	tl_write_file(fx.state, "", 0);
	assert_load_fails(&fx, fx.state, "%s:1: not a twinbox state file (no "
	    "\"twinbox-state\" header)");

	/* Truncated: at a line boundary, and inside a line. */
	tl_write_file(fx.state, text.data, len - 17);
	assert_load_fails(&fx, fx.state,
	    "%s:17: bad record: truncated file (no end record)");
	tl_write_file(fx.state, text.data, len - 5);
	assert_load_fails(&fx, fx.state, "%s:17: bad record: truncated line");

	for (size_t i = 0; i < NDAMAGE; i++) {
		tl_write_file(fx.state, text.data, len);
		replace_line(fx.state, damage[i].line, damage[i].with,
		    damage[i].seal);
		if (damage[i].line2 != 0)
			replace_line(fx.state, damage[i].line2, damage[i].with2,
			    1);
		assert_load_fails(&fx, fx.state, damage[i].want);
	}
	buf_free(&text);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/* The old state file survives a failed write untouched. */
START_TEST(test_state_write_is_atomic)
{
	struct fixture fx;
	struct sync_state st, back;
	char *tmp, *before, *after;
	struct buf want = BUF_INIT;
	int found;

	fx_init(&fx);
	sample_state(&st);
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	before = tl_read_file(fx.state, NULL);
	tmp = tl_path(fx.dir, ".twinboxstate.new");
	tl_mkdirs(tmp);
	st.maxuid[SIDE_FAR] = 99;
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), -1);
	buf_setf(&want, "%s: cannot create: Is a directory", tmp);
	ck_assert_str_eq(fx.err.data, want.data);
	after = tl_read_file(fx.state, NULL);
	ck_assert_str_eq(before, after);
	free(after);
	rmdir(tmp);
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	ck_assert(!tl_exists(tmp));
	ck_assert_int_eq(tl_count_entries(fx.dir), 1);
	state_init(&back);
	ck_assert_int_eq(state_read(fx.state, &back, &found, &fx.err), 0);
	ck_assert_uint_eq(back.maxuid[SIDE_FAR], 99);
	free(before);
	free(tmp);
	buf_free(&want);
	state_free(&st);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

/* A failed fold keeps the journal, so the next run still has it all. */
START_TEST(test_failed_fold_keeps_journal)
{
	struct fixture fx;
	struct journal_rec v[MAX_SAMPLE];
	size_t n = sample_records(v);
	struct sync_state run, back;
	struct journal_info info;
	struct journal *j;
	char *tmp;

	fx_init(&fx);
	tmp = tl_path(fx.dir, ".twinboxstate.new");
	tl_mkdirs(tmp);
	load_ok(&fx, &run, &info);
	ck_assert_int_eq(journal_open(fx.journal, &run, &info, &fx.lg, &j,
	    &fx.err), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(journal_append(j, &v[i], &fx.err), 0);
	ck_assert_int_eq(journal_fold(j, fx.state, NULL, &fx.err), -1);
	ck_assert_uint_eq(run.generation, 0);
	ck_assert(tl_exists(fx.journal));
	ck_assert(!tl_exists(fx.state));
	rmdir(tmp);
	load_ok(&fx, &back, &info);
	ck_assert(state_equal(&run, &back));
	free(tmp);
	state_free(&run);
	state_free(&back);
	fx_free(&fx);
}
END_TEST

START_TEST(test_apply_rejects_inconsistent_records)
{
	struct sync_state st, before;
	struct buf err = BUF_INIT;
	static const struct {
		struct journal_rec rec;
		const char *msg;
	} bad[] = {
		{ { .kind = JR_PAIR_NEW }, "pair with no UID on either side" },
		{ { .kind = JR_PAIR_NEW, .pair = { { 1, 50 }, 0, 0 } },
		    "far UID 1 is already paired" },
		{ { .kind = JR_PAIR_NEW, .pair = { { 0, 7 }, 0, 0 } },
		    "near UID 7 is already recorded" },
		{ { .kind = JR_PAIR_NEW, .pair = { { 60, 60 }, 64, 0 } },
		    "unknown flag bits 0x40" },
		{ { .kind = JR_PAIR_STATUS, .pair = { { 1, 2 }, 0, 32 } },
		    "unknown status bits 0x20" },
		{ { .kind = JR_PAIR_FORGET, .pair = { { 1, 3 }, 0, 0 } },
		    "no pair far UID 1 / near UID 3" },
		{ { .kind = JR_MAXUID, .value = 1ull << 32 },
		    "value 4294967296 is not a 32-bit number" },
		{ { .kind = JR_COPY_INTENT, .copy = { SIDE_FAR, 12, 0, 0, 0, 0,
		    0 } }, "copy of far UID 12 is already pending" },
		{ { .kind = JR_COPY_INTENT }, "copy of UID 0" },
		{ { .kind = JR_COPY_DONE, .copy = { SIDE_FAR, 12, 0, 0, 0, 0,
		    0 } }, "copy done with target UID 0" },
		{ { .kind = JR_COPY_DONE, .copy = { SIDE_NEAR, 11, 0, 0, 0, 0,
		    0 }, .target_uid = 3 }, "far UID 3 is already paired" },
		{ { .kind = JR_COPY_ABORT, .copy = { SIDE_NEAR, 12, 0, 0, 0, 0,
		    0 } }, "no pending copy of near UID 12" },
	};

	sample_state(&st);
	sample_state(&before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(state_apply(&st, &bad[i].rec, &err), -1);
		ck_assert_str_eq(err.data, bad[i].msg);
		ck_assert_msg(state_equal(&st, &before), "changed by %zu", i);
	}
	ck_assert_int_eq(state_check(&st, &err), 0);
	state_free(&st);
	state_free(&before);
	buf_free(&err);
}
END_TEST

/*
 * A finished copy of a message recorded on one side only replaces that
 * record. When the new pair cannot be inserted, the record must still be
 * there: state_apply() leaves st unchanged on failure.
 */
START_TEST(test_failed_copy_done_keeps_one_sided_record)
{
	struct sync_state st, before;
	struct buf err = BUF_INIT;
	struct journal_rec intent = r_copy(SIDE_NEAR, 7, 0, 0, 20, 99, 7);
	struct journal_rec done = r_done(JR_COPY_DONE, SIDE_NEAR, 7, 3);

	sample_state(&st);
	sample_state(&before);
	apply_ok(&st, intent);
	apply_ok(&before, intent);
	ck_assert_int_eq(state_apply(&st, &done, &err), -1);
	ck_assert_str_eq(err.data, "far UID 3 is already paired");
	ck_assert(state_equal(&st, &before));
	ck_assert(state_find_pair(&st, 0, 7) != NULL);
	ck_assert(state_find_intent(&st, SIDE_NEAR, 7) != NULL);
	/* The same copy with a free target UID goes through. */
	done.target_uid = 30;
	apply_ok(&st, done);
	ck_assert(state_find_pair(&st, 0, 7) == NULL);
	ck_assert_uint_eq(state_find_far(&st, 30)->uid[SIDE_NEAR], 7);
	state_free(&st);
	state_free(&before);
	buf_free(&err);
}
END_TEST

/* state_check() finds a near UID in two pairs whether the pairs' near
 * UIDs come in ascending order (no sort needed) or not. */
START_TEST(test_state_check_near_twice)
{
	static const uint32_t nears[][3] = {
		{ 1, 2, 2 }, { 2, 5, 9 }, { 9, 2, 9 }, { 9, 5, 2 },
	};
	static const int dup[] = { 2, 0, 9, 0 };
	struct buf err = BUF_INIT, want = BUF_INIT;

	for (size_t c = 0; c < sizeof(dup) / sizeof(dup[0]); c++) {
		struct sync_state st;

		state_init(&st);
		for (uint32_t i = 0; i < 3; i++)
			apply_ok(&st, r_pair(JR_PAIR_NEW, i + 1, nears[c][i],
			    0, 0));
		buf_reset(&err);
		if (dup[c] == 0) {
			ck_assert_int_eq(state_check(&st, &err), 0);
		} else {
			ck_assert_int_eq(state_check(&st, &err), -1);
			buf_setf(&want, "near UID %d is in two pairs", dup[c]);
			ck_assert_str_eq(err.data, want.data);
		}
		state_free(&st);
	}
	buf_free(&err);
	buf_free(&want);
}
END_TEST

START_TEST(test_record_text_round_trip)
{
	struct journal_rec v[MAX_SAMPLE], back;
	size_t n = sample_records(v);
	struct buf line = BUF_INIT, err = BUF_INIT, again = BUF_INIT;
	struct rec_fields f;
	size_t plen;

	for (size_t i = 0; i < n; i++) {
		buf_reset(&line);
		buf_reset(&again);
		rec_format(&v[i], &line);
		rec_seal(&line, 0);
		ck_assert_int_eq(line.data[line.len - 1], '\n');
		ck_assert_int_eq(rec_unseal(line.data, line.len - 1, &plen,
		    &err), 0);
		ck_assert_int_eq(rec_split(line.data, plen, &f, &err), 0);
		ck_assert_msg(rec_parse(&f, &back, &err) == 0, "%s: %s",
		    line.data, buf_cstr(&err));
		rec_format(&back, &again);
		ck_assert_int_eq(memcmp(line.data, again.data, plen), 0);
	}
	buf_setf(&line, "pair 1  2 S 0");
	ck_assert_int_eq(rec_split(line.data, line.len, &f, &err), -1);
	ck_assert_str_eq(err.data, "empty field");
	buf_setf(&line, "pair 1 2 S");
	ck_assert_int_eq(rec_split(line.data, line.len, &f, &err), 0);
	ck_assert_int_eq(rec_parse(&f, &back, &err), -1);
	ck_assert_str_eq(err.data, "pair: 4 fields, expected 5");
	buf_setf(&line, "maxuid far 4294967296");
	ck_assert_int_eq(rec_split(line.data, line.len, &f, &err), 0);
	ck_assert_int_eq(rec_parse(&f, &back, &err), -1);
	ck_assert_str_eq(err.data, "bad value \"4294967296\"");
	buf_setf(&line, "copy far<near 1 - 0 0 0 0");
	ck_assert_int_eq(rec_split(line.data, line.len, &f, &err), 0);
	ck_assert_int_eq(rec_parse(&f, &back, &err), -1);
	ck_assert_str_eq(err.data, "bad direction \"far<near\"");
	buf_free(&line);
	buf_free(&err);
	buf_free(&again);
}
END_TEST

/*
 * Settled marks (JR_SETTLED): their text, their place in the state file,
 * and which records clear them.
 */

/* Format, seal, unseal, split and parse one record: returns its payload
 * (checked to round-trip exactly) in line. */
static void
text_round_trip(const struct journal_rec *rec, struct buf *line,
    struct journal_rec *back)
{
	struct buf err = BUF_INIT, again = BUF_INIT;
	struct rec_fields f;
	size_t plen;

	buf_reset(line);
	rec_format(rec, line);
	rec_seal(line, 0);
	ck_assert_int_eq(rec_unseal(line->data, line->len - 1, &plen, &err),
	    0);
	ck_assert_int_eq(rec_split(line->data, plen, &f, &err), 0);
	ck_assert_msg(rec_parse(&f, back, &err) == 0, "%s: %s", line->data,
	    buf_cstr(&err));
	rec_format(back, &again);
	ck_assert_uint_eq(again.len, plen);
	ck_assert_int_eq(memcmp(line->data, again.data, plen), 0);
	line->len = plen;
	line->data[plen] = '\0';
	buf_free(&err);
	buf_free(&again);
}

/* rec_parse() of one unsealed payload must fail with exactly want. */
static void
assert_parse_fails(const char *payload, const char *want)
{
	struct buf err = BUF_INIT;
	struct rec_fields f;
	struct journal_rec back;

	ck_assert_int_eq(rec_split(payload, strlen(payload), &f, &err), 0);
	ck_assert_msg(rec_parse(&f, &back, &err) == -1, "accepted \"%s\"",
	    payload);
	ck_assert_str_eq(err.data, want);
	buf_free(&err);
}

START_TEST(test_settled_record_text)
{
	struct journal_rec rec = r_settled(SIDE_FAR, 2001, 9120), back;
	struct buf line = BUF_INIT;

	text_round_trip(&rec, &line, &back);
	ck_assert_str_eq(line.data, "settled far 2001 9120");
	ck_assert_int_eq(back.kind, JR_SETTLED);
	ck_assert_int_eq(back.side, SIDE_FAR);
	ck_assert_uint_eq(back.mark.uidnext, 2001);
	ck_assert_uint_eq(back.mark.modseq, 9120);

	/* The largest values each field holds. */
	rec = r_settled(SIDE_NEAR, UINT32_MAX, UINT64_MAX);
	text_round_trip(&rec, &line, &back);
	ck_assert_str_eq(line.data,
	    "settled near 4294967295 18446744073709551615");
	ck_assert_int_eq(back.side, SIDE_NEAR);
	ck_assert_uint_eq(back.mark.uidnext, UINT32_MAX);
	ck_assert_uint_eq(back.mark.modseq, UINT64_MAX);

	assert_parse_fails("settled far 2001", "settled: 3 fields, "
	    "expected 4");
	assert_parse_fails("settled far 2001 9120 1", "settled: 5 fields, "
	    "expected 4");
	assert_parse_fails("settled both 1 1", "bad side \"both\"");
	assert_parse_fails("settled far 02001 9120",
	    "bad UIDNEXT \"02001\"");
	assert_parse_fails("settled far 4294967296 9120",
	    "bad UIDNEXT \"4294967296\"");
	assert_parse_fails("settled far 1 18446744073709551616",
	    "bad HIGHESTMODSEQ \"18446744073709551616\"");
	assert_parse_fails("settled far 1 -5", "bad HIGHESTMODSEQ \"-5\"");
	buf_free(&line);
}
END_TEST

/* A small state with two pairs, one pending copy and both marks. */
static void
marked_state(struct sync_state *st)
{
	state_init(st);
	apply_ok(st, r_header(JR_UIDVALIDITY, SIDE_FAR, 7));
	apply_ok(st, r_header(JR_UIDVALIDITY, SIDE_NEAR, 8));
	apply_ok(st, r_header(JR_MAXUID, SIDE_FAR, 3));
	apply_ok(st, r_header(JR_MAXUID, SIDE_NEAR, 4));
	apply_ok(st, r_header(JR_HIGHESTMODSEQ, SIDE_FAR, 9120));
	apply_ok(st, r_header(JR_HIGHESTMODSEQ, SIDE_NEAR, 77));
	apply_ok(st, r_pair(JR_PAIR_NEW, 3, 4, 0, 0));
	apply_ok(st, r_pair(JR_PAIR_NEW, 1, 2, MSG_SEEN, 0));
	apply_ok(st, r_copy(SIDE_NEAR, 9, MSG_FLAGGED, 0, 5, 10, 11));
	apply_ok(st, r_settled(SIDE_NEAR, 5, 77));
	apply_ok(st, r_settled(SIDE_FAR, 2001, 9120));
	st->generation = 3;
}

/* The lines of marked_state()'s file (without header and checksums). */
static const char *const marked_lines[] = {
	"generation 3",
	"uidvalidity far 7",
	"uidvalidity near 8",
	"maxuid far 3",
	"maxuid near 4",
	"highestmodseq far 9120",
	"highestmodseq near 77",
	"pair 1 2 S 0",
	"pair 3 4 - 0",
	"copy near>far 9 F 0 5 10 11",
	"settled far 2001 9120",
	"settled near 5 77",
	"end 2 1",
};
#define NMARKED_LINES (sizeof(marked_lines) / sizeof(marked_lines[0]))

/* The same state as written now (version 2): the marks and the summary
 * in the head, before the pairs. */
static const char *const marked_lines_v2[] = {
	"generation 3",
	"uidvalidity far 7",
	"uidvalidity near 8",
	"maxuid far 3",
	"maxuid near 4",
	"highestmodseq far 9120",
	"highestmodseq near 77",
	"settled far 2001 9120",
	"settled near 5 77",
	"summary 2 2 1 0000000000000000",
	"pair 1 2 S 0",
	"pair 3 4 - 0",
	"copy near>far 9 F 0 5 10 11",
	"end 2 1",
};
#define NMARKED_V2 (sizeof(marked_lines_v2) / sizeof(marked_lines_v2[0]))

/* A state file of the given header line and payload lines, each sealed
 * with its checksum. */
static void
write_state_version(const char *path, const char *header,
    const char *const *lines, size_t n)
{
	struct buf out = BUF_INIT;

	buf_adds(&out, header);
	for (size_t i = 0; i < n; i++) {
		size_t start = out.len;

		buf_adds(&out, lines[i]);
		rec_seal(&out, start);
	}
	tl_write_file(path, out.data, out.len);
	buf_free(&out);
}

/* A version 1 state file, as twinbox wrote it before version 2. */
static void
write_state_lines(const char *path, const char *const *lines, size_t n)
{
	write_state_version(path, "twinbox-state 1\n", lines, n);
}

START_TEST(test_settled_state_file_text)
{
	char *dir = tl_mkdtemp("state");
	char *path = tl_path(dir, "st"), *want_path = tl_path(dir, "want");
	struct sync_state st;
	struct buf err = BUF_INIT, text = BUF_INIT;
	char *got, *want;
	size_t got_len, want_len;

	marked_state(&st);
	ck_assert_int_eq(state_write(path, &st, &err), 0);
	write_state_version(want_path, "twinbox-state 2\n", marked_lines_v2,
	    NMARKED_V2);
	got = tl_read_file(path, &got_len);
	want = tl_read_file(want_path, &want_len);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(got_len, want_len);
	free(got);
	free(want);

	/* A side without a mark has no line; the other keeps its own. */
	st.settled[SIDE_FAR].uidnext = 0;
	st.settled[SIDE_FAR].modseq = 0;
	state_format(&st, &text);
	ck_assert_ptr_null(strstr(text.data, "settled far"));
	ck_assert_ptr_nonnull(strstr(text.data, "\nsettled near 5 77 "));
	buf_reset(&text);
	st.settled[SIDE_NEAR].uidnext = 0;
	st.settled[SIDE_NEAR].modseq = 0;
	state_format(&st, &text);
	ck_assert_ptr_null(strstr(text.data, "settled"));
	free(path);
	free(want_path);
	buf_free(&err);
	buf_free(&text);
	state_free(&st);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_settled_state_round_trip)
{
	char *dir = tl_mkdtemp("state");
	char *path = tl_path(dir, "st"), *path2 = tl_path(dir, "st2");
	struct sync_state st, back;
	struct buf err = BUF_INIT;
	char *a, *b;
	int found = -1;

	/* The sample state touches every record kind; marks go last. */
	sample_state(&st);
	apply_ok(&st, r_settled(SIDE_FAR, 13, 18446744073709551615u));
	apply_ok(&st, r_settled(SIDE_NEAR, 4294967295u, 1));
	ck_assert_int_eq(state_write(path, &st, &err), 0);
	state_init(&back);
	ck_assert_msg(state_read(path, &back, &found, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_int_eq(found, 1);
	ck_assert(state_equal(&st, &back));
	ck_assert_uint_eq(back.settled[SIDE_FAR].uidnext, 13);
	ck_assert_uint_eq(back.settled[SIDE_FAR].modseq,
	    18446744073709551615u);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].uidnext, 4294967295u);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].modseq, 1);
	ck_assert_int_eq(state_write(path2, &back, &err), 0);
	a = tl_read_file(path, NULL);
	b = tl_read_file(path2, NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);

	/* Only a near mark. */
	state_free(&back);
	st.settled[SIDE_FAR].uidnext = 0;
	st.settled[SIDE_FAR].modseq = 0;
	ck_assert_int_eq(state_write(path, &st, &err), 0);
	ck_assert_int_eq(state_read(path, &back, &found, &err), 0);
	ck_assert(state_equal(&st, &back));
	ck_assert_uint_eq(back.settled[SIDE_FAR].uidnext, 0);

	/* state_equal() sees a mark, and each of its fields. */
	back.settled[SIDE_NEAR].modseq++;
	ck_assert(!state_equal(&st, &back));
	back.settled[SIDE_NEAR].modseq--;
	back.settled[SIDE_NEAR].uidnext--;
	ck_assert(!state_equal(&st, &back));
	back.settled[SIDE_NEAR].uidnext++;
	back.settled[SIDE_FAR].uidnext = 1;
	back.settled[SIDE_FAR].modseq = 1;
	ck_assert(!state_equal(&st, &back));
	free(path);
	free(path2);
	state_free(&st);
	state_free(&back);
	buf_free(&err);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

/* marked_lines with line `at` (an index into it) replaced by `with`, or
 * with `with` inserted before it when insert is set. */
static void
write_marked_variant(const char *path, size_t at, const char *with,
    int insert)
{
	const char *lines[NMARKED_LINES + 1];
	size_t n = 0;

	for (size_t i = 0; i < NMARKED_LINES; i++) {
		if (i == at) {
			lines[n++] = with;
			if (!insert)
				continue;
		}
		lines[n++] = marked_lines[i];
	}
	write_state_lines(path, lines, n);
}

START_TEST(test_settled_state_file_errors)
{
	struct fixture fx;
	struct sync_state st;
	struct journal_info info;
	const char *lines[NMARKED_LINES];
	size_t n = 0;
	/* Indexes into marked_lines; file line = index + 2. */
	enum { L_PAIR2 = 8, L_COPY = 9, L_FAR = 10, L_NEAR = 11,
	    L_END = 12 };

	fx_init(&fx);

	/* The unaltered file loads, with both marks. */
	write_state_lines(fx.state, marked_lines, NMARKED_LINES);
	load_ok(&fx, &st, &info);
	ck_assert_uint_eq(st.settled[SIDE_FAR].uidnext, 2001);
	ck_assert_uint_eq(st.settled[SIDE_NEAR].modseq, 77);
	state_free(&st);

	/* A mark before a pair or an intent: reading the pair would
	 * clear it, so the file cannot have been written that way. */
	write_marked_variant(fx.state, L_PAIR2, "settled far 2001 9120", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:11: bad record: pair after a settled mark");
	write_marked_variant(fx.state, L_COPY, "settled near 5 77", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:12: bad record: copy intent after a settled mark");

	/* Near before far, and each side at most once. */
	write_marked_variant(fx.state, L_FAR, "settled near 5 77", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:13: bad record: settled mark out of order");
	write_marked_variant(fx.state, L_NEAR, "settled far 2001 9120", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:13: bad record: settled mark out of order");
	write_marked_variant(fx.state, L_END, "settled near 5 77", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:14: bad record: settled mark out of order");
	write_marked_variant(fx.state, L_NEAR, "settled far 2001 9120", 0);
	assert_load_fails(&fx, fx.state,
	    "%s:13: bad record: settled mark out of order");

	/* No mark of nothing. */
	write_marked_variant(fx.state, L_FAR, "settled far 0 9120", 0);
	assert_load_fails(&fx, fx.state, "%s:12: bad record: settled mark "
	    "with UIDNEXT 0 and HIGHESTMODSEQ 9120 (both must be above 0)");
	write_marked_variant(fx.state, L_NEAR, "settled near 5 0", 0);
	assert_load_fails(&fx, fx.state, "%s:13: bad record: settled mark "
	    "with UIDNEXT 5 and HIGHESTMODSEQ 0 (both must be above 0)");

	/* Not among the header records. */
	write_marked_variant(fx.state, 1, "settled far 2001 9120", 1);
	assert_load_fails(&fx, fx.state,
	    "%s:3: bad record: header records out of order");

	/* A near mark alone is fine. */
	for (size_t i = 0; i < NMARKED_LINES; i++)
		if (i != L_FAR)
			lines[n++] = marked_lines[i];
	write_state_lines(fx.state, lines, n);
	load_ok(&fx, &st, &info);
	ck_assert_uint_eq(st.settled[SIDE_FAR].uidnext, 0);
	ck_assert_uint_eq(st.settled[SIDE_NEAR].uidnext, 5);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/*
 * The head reader sees what a skip decides by, without the pairs: the
 * marks, the counts per side, the pending intents and the policy digest.
 * A version 1 file, a missing file or a damaged head tells nothing.
 */
START_TEST(test_state_head)
{
	struct fixture fx;
	struct sync_state st;
	struct state_head h;
	char *missing;

	fx_init(&fx);
	marked_state(&st);
	st.policy = 0x0123456789abcdefu;
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	memset(&h, 0xff, sizeof(h));
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	ck_assert_uint_eq(h.generation, 3);
	ck_assert_uint_eq(h.uidvalidity[SIDE_FAR], 7);
	ck_assert_uint_eq(h.uidvalidity[SIDE_NEAR], 8);
	ck_assert_uint_eq(h.settled[SIDE_FAR].uidnext, 2001);
	ck_assert_uint_eq(h.settled[SIDE_FAR].modseq, 9120);
	ck_assert_uint_eq(h.settled[SIDE_NEAR].uidnext, 5);
	ck_assert_uint_eq(h.settled[SIDE_NEAR].modseq, 77);
	ck_assert_uint_eq(h.count[SIDE_FAR], 2);
	ck_assert_uint_eq(h.count[SIDE_NEAR], 2);
	ck_assert_uint_eq(h.nintents, 1);
	ck_assert_uint_eq(h.policy, 0x0123456789abcdefu);

	/* Only the head is read: a damaged pair further on is the full
	 * reader's to report. */
	replace_line(fx.state, 13, "pair 3 4 - 0", 0);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	/* A damaged head, or no summary, tells nothing. */
	replace_line(fx.state, 10, "settled near 5 77", 0);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	write_state_lines(fx.state, marked_lines, NMARKED_LINES);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	missing = tl_path(fx.dir, "none");
	ck_assert_int_eq(state_read_head(missing, &h, &fx.err), 0);
	free(missing);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/* What the head reader and the full reader make of text written as the
 * state file: the head must tell nothing, the full read must fail. */
static void
assert_head_refused(struct fixture *fx, const char *text, size_t len,
    const char *what, size_t k)
{
	struct state_head h;
	struct sync_state st;
	int found;

	tl_write_file(fx->state, text, len);
	ck_assert_msg(state_read_head(fx->state, &h, &fx->err) == 0,
	    "%s %zu: the head vouches for the file", what, k);
	state_init(&st);
	ck_assert_msg(state_read(fx->state, &st, &found, &fx->err) == -1,
	    "%s %zu: the full read accepts the file", what, k);
}

/* Damage at the end of the file text of len bytes: cut at every length
 * from cut_from on, the last 1..zero_max bytes zeroed, zeros added. */
static void
assert_ends_checked(struct fixture *fx, const char *text, size_t len,
    size_t cut_from, size_t zero_max)
{
	char *copy = xmalloc(len + 4096);

	for (size_t k = cut_from; k < len; k++)
		assert_head_refused(fx, text, k, "cut at", k);
	for (size_t k = 1; k <= zero_max && k <= len; k++) {
		memcpy(copy, text, len);
		memset(copy + len - k, 0, k);
		assert_head_refused(fx, copy, len, "last bytes zeroed:", k);
	}
	memcpy(copy, text, len);
	memset(copy + len, 0, 4096);
	assert_head_refused(fx, copy, len + 1, "zeros added:", (size_t)1);
	assert_head_refused(fx, copy, len + 4096, "zeros added:",
	    (size_t)4096);
	free(copy);
}

/*
 * The head proves the body: the head reader takes a file only when its
 * last line is the end record with counts that fit the summary, so a
 * file cut short or ending in zeros (a crash before its data reached
 * the disk) is never skipped on its head's word. Both a file the head
 * read holds whole and one larger than that read (the end read apart).
 */
START_TEST(test_state_head_proves_body)
{
	struct fixture fx;
	struct sync_state st;
	struct state_head h;
	char *text;
	size_t len;

	fx_init(&fx);
	marked_state(&st);
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	text = tl_read_file(fx.state, &len);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	assert_ends_checked(&fx, text, len, 1, len);
	/* A sealed end whose counts do not fit the summary (2 far, 2 near,
	 * 1 intent). */
	tl_write_file(fx.state, text, len);
	replace_line(fx.state, 15, "end 2 0", 1);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	replace_line(fx.state, 15, "end 5 1", 1);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	replace_line(fx.state, 15, "end 1 1", 1);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	replace_line(fx.state, 15, "end 2 1", 1);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	free(text);

	/* 500 pairs more: about 8 KiB, twice what the head read takes. */
	for (uint32_t u = 10; u < 510; u++)
		apply_ok(&st, r_pair(JR_PAIR_NEW, u, u, MSG_SEEN, 0));
	ck_assert_int_eq(state_write(fx.state, &st, &fx.err), 0);
	text = tl_read_file(fx.state, &len);
	ck_assert_uint_gt(len, 8000);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	ck_assert_uint_eq(h.count[SIDE_FAR], 502);
	assert_ends_checked(&fx, text, len, len - 200, 100);
	assert_head_refused(&fx, text, 4096, "cut at", (size_t)4096);
	assert_head_refused(&fx, text, 4097, "cut at", (size_t)4097);
	free(text);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/* Pairs (u, u * scale) added to a small state until its file passes 4 KiB
 * by 200 bytes: the head read of every file from 100 bytes below 4 KiB on
 * vouches for it, and refuses it cut by a byte. 1 if one of the files
 * had its end record cut by 4096, the first read's end. */
static int
head_sizes_checked(struct fixture *fx, uint32_t scale)
{
	struct sync_state st;
	struct state_head h;
	struct buf text = BUF_INIT;
	const char *end;
	int spans = 0;

	marked_state(&st);
	for (uint32_t u = 10; text.len < 4096 + 200; u++) {
		apply_ok(&st, r_pair(JR_PAIR_NEW, u, u * scale, MSG_SEEN, 0));
		/* The file's text as state_write() writes it, without its
		 * fsync()s: a few hundred of them would make the test slow on
		 * a busy disk. */
		buf_reset(&text);
		state_format(&st, &text);
		if (text.len + 100 < 4096)
			continue;
		tl_write_file(fx->state, text.data, text.len);
		ck_assert_msg(state_read_head(fx->state, &h, &fx->err) == 1,
		    "a whole file of %zu bytes", text.len);
		ck_assert_uint_eq(h.count[SIDE_FAR], u - 7);
		assert_head_refused(fx, text.data, text.len - 1, "cut by a "
		    "byte at", text.len);
		end = memrchr(text.data, '\n', text.len - 1);
		ck_assert_ptr_nonnull(end);
		spans |= (size_t)(end + 1 - text.data) < 4096 && text.len > 4096;
	}
	state_free(&st);
	buf_free(&text);
	return spans;
}

/*
 * A whole file vouches for its head at every size around the first read's
 * 4 KiB: wholly within it, and with its end record cut by that boundary
 * (the last line then read apart, from the same file); one byte short,
 * it is refused. Near UIDs of one more digit give other sizes: one of
 * those files has its end record across the boundary.
 */
START_TEST(test_state_head_read_boundary)
{
	struct fixture fx;
	int spans = 0;

	fx_init(&fx);
	spans |= head_sizes_checked(&fx, 1);
	spans |= head_sizes_checked(&fx, 10);
	ck_assert_msg(spans, "no file had its end record across 4096");
	fx_free(&fx);
}
END_TEST

/*
 * Upgrade: a version 1 file as the previous twinbox wrote it, with
 * pairs, an intent and both marks, reads as the same state, is written
 * back as version 2 by the next write, and that reads the same again.
 */
START_TEST(test_state_upgrade_v1)
{
	struct fixture fx;
	struct sync_state want, v1, v2;
	struct journal_info info;
	struct state_head h;
	char *text, *want_text, *want_path;

	fx_init(&fx);
	marked_state(&want);
	write_state_lines(fx.state, marked_lines, NMARKED_LINES);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 0);
	load_ok(&fx, &v1, &info);
	ck_assert(state_equal(&v1, &want));
	ck_assert_uint_eq(v1.policy, 0);
	ck_assert_int_eq(state_write(fx.state, &v1, &fx.err), 0);
	want_path = tl_path(fx.dir, "want");
	write_state_version(want_path, "twinbox-state 2\n", marked_lines_v2,
	    NMARKED_V2);
	text = tl_read_file(fx.state, NULL);
	want_text = tl_read_file(want_path, NULL);
	ck_assert_str_eq(text, want_text);
	free(text);
	free(want_text);
	free(want_path);
	load_ok(&fx, &v2, &info);
	ck_assert(state_equal(&v2, &want));
	ck_assert_uint_eq(v2.settled[SIDE_FAR].uidnext, 2001);
	ck_assert_uint_eq(v2.settled[SIDE_NEAR].modseq, 77);
	ck_assert_int_eq(state_read_head(fx.state, &h, &fx.err), 1);
	ck_assert_uint_eq(h.settled[SIDE_FAR].uidnext, 2001);
	state_free(&want);
	state_free(&v1);
	state_free(&v2);
	fx_free(&fx);
}
END_TEST

/* Every record that changes the pairs or a UIDVALIDITY clears both marks;
 * the others keep them. */
START_TEST(test_settled_cleared_by_pair_records)
{
	static const struct {
		struct journal_rec rec;
		int clears;
	} cases[] = {
		{ { .kind = JR_UIDVALIDITY, .side = SIDE_FAR, .value = 7 }, 1 },
		{ { .kind = JR_UIDVALIDITY, .side = SIDE_NEAR, .value = 9 },
		    1 },
		{ { .kind = JR_PAIR_NEW, .pair = { { 5, 6 }, 0, 0 } }, 1 },
		{ { .kind = JR_PAIR_NEW, .pair = { { 0, 6 }, 0,
		    PAIR_TOO_BIG } }, 1 },
		{ { .kind = JR_PAIR_FLAGS, .pair = { { 1, 2 }, MSG_FLAGGED,
		    0 } }, 1 },
		/* Even a record that changes nothing in the pair. */
		{ { .kind = JR_PAIR_FLAGS, .pair = { { 1, 2 }, MSG_SEEN, 0 } },
		    1 },
		{ { .kind = JR_PAIR_STATUS, .pair = { { 3, 4 }, 0,
		    PAIR_GONE_MARKED } }, 1 },
		{ { .kind = JR_PAIR_FORGET, .pair = { { 3, 4 }, 0, 0 } }, 1 },
		{ { .kind = JR_COPY_DONE, .copy = { SIDE_NEAR, 9, 0, 0, 0, 0,
		    0 }, .target_uid = 12 }, 1 },
		{ { .kind = JR_MAXUID, .side = SIDE_FAR, .value = 3000 }, 0 },
		{ { .kind = JR_MAXUID, .side = SIDE_NEAR, .value = 5 }, 0 },
		{ { .kind = JR_HIGHESTMODSEQ, .side = SIDE_FAR,
		    .value = 9999 }, 0 },
		{ { .kind = JR_HIGHESTMODSEQ, .side = SIDE_NEAR,
		    .value = 1 }, 0 },
		{ { .kind = JR_COPY_INTENT, .copy = { SIDE_FAR, 40, 0, 5, 0, 1,
		    2 } }, 0 },
		{ { .kind = JR_COPY_ABORT, .copy = { SIDE_NEAR, 9, 0, 0, 0, 0,
		    0 } }, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sync_state st;

		marked_state(&st);
		apply_ok(&st, cases[i].rec);
		if (cases[i].clears) {
			ck_assert_msg(st.settled[SIDE_FAR].uidnext == 0 &&
			    st.settled[SIDE_FAR].modseq == 0 &&
			    st.settled[SIDE_NEAR].uidnext == 0 &&
			    st.settled[SIDE_NEAR].modseq == 0,
			    "case %zu kept a mark", i);
		} else {
			ck_assert_msg(st.settled[SIDE_FAR].uidnext == 2001 &&
			    st.settled[SIDE_FAR].modseq == 9120 &&
			    st.settled[SIDE_NEAR].uidnext == 5 &&
			    st.settled[SIDE_NEAR].modseq == 77,
			    "case %zu changed a mark", i);
		}
		state_free(&st);
	}
}
END_TEST

/* A mark replaces its own side's only; a rejected record, a rejected
 * mark included, changes nothing. */
START_TEST(test_settled_set_and_rejected)
{
	struct sync_state st, before;
	struct buf err = BUF_INIT;
	static const struct {
		struct journal_rec rec;
		const char *msg;
	} bad[] = {
		{ { .kind = JR_SETTLED, .side = SIDE_FAR, .mark = { 0, 5 } },
		    "settled mark with UIDNEXT 0 and HIGHESTMODSEQ 5 (both "
		    "must be above 0)" },
		{ { .kind = JR_SETTLED, .side = SIDE_NEAR, .mark = { 5, 0 } },
		    "settled mark with UIDNEXT 5 and HIGHESTMODSEQ 0 (both "
		    "must be above 0)" },
		{ { .kind = JR_SETTLED, .side = SIDE_NEAR },
		    "settled mark with UIDNEXT 0 and HIGHESTMODSEQ 0 (both "
		    "must be above 0)" },
		{ { .kind = JR_PAIR_FORGET, .pair = { { 8, 8 }, 0, 0 } },
		    "no pair far UID 8 / near UID 8" },
		{ { .kind = JR_PAIR_NEW, .pair = { { 1, 50 }, 0, 0 } },
		    "far UID 1 is already paired" },
		{ { .kind = JR_COPY_DONE, .copy = { SIDE_FAR, 9, 0, 0, 0, 0,
		    0 }, .target_uid = 12 }, "no pending copy of far UID 9" },
		{ { .kind = JR_UIDVALIDITY, .side = SIDE_FAR,
		    .value = 1ull << 32 },
		    "value 4294967296 is not a 32-bit number" },
	};

	marked_state(&st);
	apply_ok(&st, r_settled(SIDE_NEAR, 6, 80));
	ck_assert_uint_eq(st.settled[SIDE_NEAR].uidnext, 6);
	ck_assert_uint_eq(st.settled[SIDE_NEAR].modseq, 80);
	ck_assert_uint_eq(st.settled[SIDE_FAR].uidnext, 2001);
	ck_assert_uint_eq(st.settled[SIDE_FAR].modseq, 9120);
	marked_state(&before);
	apply_ok(&before, r_settled(SIDE_NEAR, 6, 80));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(state_apply(&st, &bad[i].rec, &err), -1);
		ck_assert_str_eq(err.data, bad[i].msg);
		ck_assert_msg(state_equal(&st, &before), "changed by %zu", i);
	}
	state_free(&st);
	state_free(&before);
	buf_free(&err);
}
END_TEST

/* The journal carries marks like any record: replayed, cleared by a
 * later pair record, and folded into the state file. */
START_TEST(test_settled_journal_replay)
{
	struct fixture fx;
	struct journal_rec run1[] = {
		r_header(JR_UIDVALIDITY, SIDE_FAR, 7),
		r_header(JR_UIDVALIDITY, SIDE_NEAR, 8),
		r_pair(JR_PAIR_NEW, 1, 1, MSG_SEEN, 0),
		r_pair(JR_PAIR_NEW, 2, 2, 0, 0),
		r_settled(SIDE_FAR, 3, 10),
		r_settled(SIDE_NEAR, 3, 12),
	};
	struct journal_rec run2[] = { r_pair(JR_PAIR_FLAGS, 1, 1, 0, 0) };
	struct journal_rec run3[] = { r_settled(SIDE_FAR, 3, 11) };
	struct sync_state run, back;
	struct journal_info info;
	char *text;

	fx_init(&fx);
	run_records(&fx, run1, 6, 1, 0, &run);
	ck_assert_uint_eq(run.settled[SIDE_FAR].uidnext, 3);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.found, 1);
	ck_assert_uint_eq(info.nrecs, 6);
	ck_assert(state_equal(&back, &run));
	ck_assert_uint_eq(back.settled[SIDE_FAR].uidnext, 3);
	ck_assert_uint_eq(back.settled[SIDE_FAR].modseq, 10);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].uidnext, 3);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].modseq, 12);
	state_free(&back);
	state_free(&run);

	/* The same journal continued with a flag change: no mark. */
	run_records(&fx, run2, 1, 1, 0, &run);
	load_ok(&fx, &back, &info);
	ck_assert_uint_eq(info.nrecs, 7);
	ck_assert(state_equal(&back, &run));
	ck_assert_uint_eq(back.settled[SIDE_FAR].uidnext, 0);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].uidnext, 0);
	state_free(&back);
	state_free(&run);

	/* A run that ends with a mark, folded. */
	run_records(&fx, run3, 1, 1, 1, &run);
	ck_assert(!tl_exists(fx.journal));
	text = payloads(fx.state);
	ck_assert_str_eq(text,
	    "twinbox-state 2\n"
	    "generation 1\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 8\n"
	    "maxuid far 0\n"
	    "maxuid near 0\n"
	    "highestmodseq far 0\n"
	    "highestmodseq near 0\n"
	    "settled far 3 11\n"
	    "summary 2 2 0 0000000000000000\n"
	    "pair 1 1 - 0\n"
	    "pair 2 2 - 0\n"
	    "end 2 0\n");
	free(text);
	load_ok(&fx, &back, &info);
	ck_assert_int_eq(info.found, 0);
	ck_assert(state_equal(&back, &run));
	ck_assert_uint_eq(back.settled[SIDE_FAR].modseq, 11);
	ck_assert_uint_eq(back.settled[SIDE_NEAR].uidnext, 0);
	state_free(&back);
	state_free(&run);
	fx_free(&fx);
}
END_TEST

/* A bad mark in the middle of a journal is a bad record, not a torn
 * one. */
START_TEST(test_settled_bad_in_journal)
{
	struct fixture fx;
	struct journal_rec v[] = {
		r_header(JR_UIDVALIDITY, SIDE_FAR, 7),
		r_settled(SIDE_FAR, 3, 10),
		r_header(JR_MAXUID, SIDE_FAR, 2),
	};
	struct sync_state run;

	fx_init(&fx);
	run_records(&fx, v, 3, 1, 0, &run);
	/* Lines: header, base, uidvalidity, settled, maxuid. */
	replace_line(fx.journal, 4, "settled far 3 0", 1);
	assert_load_fails(&fx, fx.journal, "%s:4: bad record: settled mark "
	    "with UIDNEXT 3 and HIGHESTMODSEQ 0 (both must be above 0)");
	replace_line(fx.journal, 4, "settled here 3 1", 1);
	assert_load_fails(&fx, fx.journal,
	    "%s:4: bad record: bad side \"here\"");
	state_free(&run);
	fx_free(&fx);
}
END_TEST

static void
read_byte(int fd)
{
	char c;

	ck_assert_int_eq(read(fd, &c, 1), 1);
}

static void
write_byte(int fd)
{
	ck_assert_int_eq(write(fd, "x", 1), 1);
}

/*
 * The lock holder: a child process that takes the lock, says so on one
 * pipe and holds it until the other pipe says stop. It runs this program
 * again (exec) so that it shares nothing with the test's heap.
 */
static int
hold_lock(const char *lock_path, const char *tell, const char *hear)
{
	struct buf err = BUF_INIT;
	int fd;
	char c;

	if (pair_lock(lock_path, &fd, &err) != 0) {
		fprintf(stderr, "lock holder: %s\n", err.data);
		return 3;
	}
	if (write(atoi(tell), "L", 1) != 1 || read(atoi(hear), &c, 1) != 1)
		return 4;
	pair_unlock(fd);
	return 0;
}

static pid_t
spawn_lock_holder(const char *lock_path, int *tell_fd, int *hear_fd)
{
	int to_child[2], from_child[2];
	char self[4096], tell[16], hear[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(from_child), 0);
	snprintf(tell, sizeof(tell), "%d", from_child[1]);
	snprintf(hear, sizeof(hear), "%d", to_child[0]);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(self, self, "--hold-lock", lock_path, tell, hear,
		    (char *)NULL);
		_exit(5);
	}
	close(to_child[0]);
	close(from_child[1]);
	*tell_fd = to_child[1];
	*hear_fd = from_child[0];
	return pid;
}

START_TEST(test_lock_contention)
{
	char *dir = tl_mkdtemp("lock");
	char *lock = tl_path(dir, ".twinboxstate.lock");
	struct buf err = BUF_INIT, want = BUF_INIT;
	int tell, hear, status, fd, fd2;
	pid_t pid = spawn_lock_holder(lock, &tell, &hear);

	read_byte(hear);
	ck_assert_int_eq(pair_lock(lock, &fd, &err), PAIR_LOCK_BUSY);
	ck_assert_int_eq(fd, -1);
	buf_setf(&want, "another twinbox is syncing this mailbox pair (%s is "
	    "locked)", lock);
	ck_assert_str_eq(err.data, want.data);
	write_byte(tell);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(pair_lock(lock, &fd, &err), 0);
	/* A second holder in the same process is refused as well. */
	ck_assert_int_eq(pair_lock(lock, &fd2, &err), PAIR_LOCK_BUSY);
	ck_assert_str_eq(err.data, want.data);
	pair_unlock(fd);
	ck_assert_int_eq(pair_lock(lock, &fd2, &err), 0);
	pair_unlock(fd2);
	ck_assert(tl_exists(lock));
	close(tell);
	close(hear);
	buf_free(&err);
	buf_free(&want);
	free(lock);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_lock_open_error)
{
	struct buf err = BUF_INIT;
	int fd;

	ck_assert_int_eq(pair_lock("/nonexistent-dir-for-twinbox/x.lock", &fd,
	    &err), -1);
	ck_assert_str_eq(err.data, "/nonexistent-dir-for-twinbox/x.lock: "
	    "cannot open lock file: No such file or directory");
	buf_free(&err);
}
END_TEST

static void
assert_paths(const struct state_location *loc, const char *dir,
    const char *state)
{
	struct state_paths p;
	struct buf err = BUF_INIT, want = BUF_INIT;

	ck_assert_msg(state_paths_compute(loc, &p, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_str_eq(p.dir, dir);
	ck_assert_str_eq(p.state, state);
	buf_setf(&want, "%s.journal", state);
	ck_assert_str_eq(p.journal, want.data);
	buf_setf(&want, "%s.lock", state);
	ck_assert_str_eq(p.lock, want.data);
	state_paths_free(&p);
	buf_free(&err);
	buf_free(&want);
}

static void
assert_paths_fail(const struct state_location *loc, const char *msg)
{
	struct state_paths p;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(state_paths_compute(loc, &p, &err), -1);
	ck_assert_str_eq(err.data, msg);
	buf_free(&err);
}

START_TEST(test_state_paths)
{
	struct state_location loc = {
		.far_store = "far", .far_box = "INBOX",
		.near_store = "near", .near_box = "INBOX",
		.near_dir = "/home/u/Mail/INBOX/", .home = "/home/u",
	};

	loc.sync_state = "*";
	assert_paths(&loc, "/home/u/Mail/INBOX",
	    "/home/u/Mail/INBOX/.twinboxstate");
	loc.sync_state = NULL;
	assert_paths(&loc, "/home/u/.local/state/twinbox",
	    "/home/u/.local/state/twinbox/:far:INBOX_:near:INBOX.twinboxstate");
	loc.xdg_state_home = "/x/state";
	assert_paths(&loc, "/x/state/twinbox",
	    "/x/state/twinbox/:far:INBOX_:near:INBOX.twinboxstate");
	loc.xdg_state_home = "relative/ignored";
	assert_paths(&loc, "/home/u/.local/state/twinbox",
	    "/home/u/.local/state/twinbox/:far:INBOX_:near:INBOX.twinboxstate");
	loc.sync_state = "~/.mbsync/";
	assert_paths(&loc, "/home/u/.mbsync",
	    "/home/u/.mbsync/:far:INBOX_:near:INBOX.twinboxstate");
	loc.sync_state = "/var/tw/pfx-";
	assert_paths(&loc, "/var/tw",
	    "/var/tw/pfx-:far:INBOX_:near:INBOX.twinboxstate");
	loc.sync_state = "rel";
	assert_paths(&loc, ".", "rel:far:INBOX_:near:INBOX.twinboxstate");

	/* Hostile names stay one component of the state directory. */
	loc.sync_state = "/s/";
	loc.far_box = "../../etc/passwd";
	loc.near_box = "a:b_:c%d\n\x7f";
	loc.near_store = "/";
	assert_paths(&loc, "/s", "/s/:far:..%2F..%2Fetc%2Fpasswd_:%2F:"
	    "a%3Ab_%3Ac%25d%0A%7F.twinboxstate");
	loc.far_box = "..";
	loc.near_box = ".";
	assert_paths(&loc, "/s", "/s/:far:.._:%2F:..twinboxstate");

	/* FieldDelimiter ';' (mbsync's global key) separates the fields;
	 * a ';' inside a name is escaped, and ':' still is. */
	loc.field_delim = ';';
	loc.far_box = "a;b:c";
	loc.near_box = "INBOX";
	assert_paths(&loc, "/s", "/s/;far;a%3Bb%3Ac_;%2F;INBOX.twinboxstate");
	loc.field_delim = '\0';

	loc.sync_state = "*";
	loc.near_dir = NULL;
	assert_paths_fail(&loc, "SyncState *: near store / is not a Maildir, "
	    "so the state cannot live in the mailbox");
	loc.sync_state = "";
	assert_paths_fail(&loc, "SyncState is empty");
	loc.sync_state = "~/st/";
	loc.home = NULL;
	assert_paths_fail(&loc, "SyncState ~/st/: HOME is not set to an "
	    "absolute path");
}
END_TEST

START_TEST(test_state_paths_long_names)
{
	char box[400];
	struct state_location loc = {
		.sync_state = "/s/", .far_store = "far", .far_box = box,
		.near_store = "near", .near_box = "INBOX",
	};
	struct state_paths a, b;
	struct buf err = BUF_INIT;
	const char *name;

	memset(box, '/', sizeof(box) - 2);
	box[sizeof(box) - 2] = 'a';
	box[sizeof(box) - 1] = '\0';
	ck_assert_int_eq(state_paths_compute(&loc, &a, &err), 0);
	box[sizeof(box) - 2] = 'b';
	ck_assert_int_eq(state_paths_compute(&loc, &b, &err), 0);
	name = strrchr(a.state, '/') + 1;
	ck_assert_uint_le(strlen(name), 200 + strlen(STATE_PREFIX_SUFFIX));
	ck_assert_str_ne(a.state, b.state);
	ck_assert_int_eq(strncmp(name, ":far:%2F%2F", 11), 0);
	/* Never a broken escape before the hash. */
	ck_assert_ptr_nonnull(strstr(name, "%2F~"));
	ck_assert_str_eq(name + strlen(name) - strlen(STATE_PREFIX_SUFFIX),
	    STATE_PREFIX_SUFFIX);
	ck_assert_uint_le(strlen(strrchr(a.journal, '/') + 1), 255);
	state_paths_free(&a);
	state_paths_free(&b);
	buf_free(&err);
}
END_TEST

START_TEST(test_state_paths_mkdir)
{
	char *dir = tl_mkdtemp("paths");
	struct buf prefix = BUF_INIT, err = BUF_INIT;
	struct state_location loc = {
		.far_store = "f", .far_box = "INBOX",
		.near_store = "n", .near_box = "INBOX",
	};
	struct state_paths p;
	struct stat st;

	buf_setf(&prefix, "%s/a/b/", dir);
	loc.sync_state = prefix.data;
	ck_assert_int_eq(state_paths_compute(&loc, &p, &err), 0);
	ck_assert_int_eq(state_paths_mkdir(&p, &err), 0);
	ck_assert_int_eq(stat(p.dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(state_paths_mkdir(&p, &err), 0);
	state_paths_free(&p);
	buf_free(&prefix);
	buf_free(&err);
	tl_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	/* Check's 4 s per case is too short on a busy disk: the head cases
	 * write a file for every length they cut it at. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_state_file_text);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_missing_is_empty);
	tcase_add_test(tc, test_replay_rebuilds_state);
	tcase_add_test(tc, test_fold_keeps_intents);
	tcase_add_test(tc, test_folded_journal_is_ignored);
	tcase_add_test(tc, test_fresh_journal_cut_before_base);
	tcase_add_test(tc, test_torn_last_record_every_offset);
	tcase_add_test(tc, test_bad_checksum_on_last_line_is_torn);
	tcase_add_test(tc, test_zero_filled_tail);
	tcase_add_test(tc, test_corrupt_middle_line);
	tcase_add_test(tc, test_state_file_errors);
	tcase_add_test(tc, test_state_write_is_atomic);
	tcase_add_test(tc, test_failed_fold_keeps_journal);
	tcase_add_test(tc, test_apply_rejects_inconsistent_records);
	tcase_add_test(tc, test_failed_copy_done_keeps_one_sided_record);
	tcase_add_test(tc, test_state_check_near_twice);
	tcase_add_test(tc, test_record_text_round_trip);
	tcase_add_test(tc, test_settled_record_text);
	tcase_add_test(tc, test_settled_state_file_text);
	tcase_add_test(tc, test_settled_state_round_trip);
	tcase_add_test(tc, test_settled_state_file_errors);
	tcase_add_test(tc, test_settled_cleared_by_pair_records);
	tcase_add_test(tc, test_settled_set_and_rejected);
	tcase_add_test(tc, test_settled_journal_replay);
	tcase_add_test(tc, test_settled_bad_in_journal);
	tcase_add_test(tc, test_lock_contention);
	tcase_add_test(tc, test_lock_open_error);
	tcase_add_test(tc, test_state_paths);
	tcase_add_test(tc, test_state_paths_long_names);
	tcase_add_test(tc, test_state_paths_mkdir);
	tcase_add_test(tc, test_state_head);
	tcase_add_test(tc, test_state_head_proves_body);
	tcase_add_test(tc, test_state_head_read_boundary);
	tcase_add_test(tc, test_state_upgrade_v1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--hold-lock") == 0)
		return hold_lock(argv[2], argv[3], argv[4]);
	return run_suite(state_suite());
}
