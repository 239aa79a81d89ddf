/*
 * End to end through the binary and a sync.rc: a Verbatim Maildir tree
 * (far) and a Maildir++ tree (near) with a few hundred messages in nested
 * folders, some folders on one side only, kept in step with Patterns * and
 * Create Both; then changes on both sides, a UIDVALIDITY reset, a held
 * lock, a dry run, and the exit statuses and messages of command-line and
 * configuration errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/buf.h"
#include "support/testlib.h"
#include "support/twrun.h"

/* A folder: its name, its directories on both sides, and how many
 * messages each side starts with. */
struct folder {
	const char *name;
	const char *far_dir;	/* under far/ (Verbatim) */
	const char *near_dir;	/* under near/ (Maildir++) */
	int far_msgs, near_msgs;	/* -1: the folder does not exist */
};

static const struct folder folders[] = {
	{ "INBOX", "INBOX", ".", 100, 30 },
	{ "Work", "Work", ".Work", 60, 20 },
	{ "Work/2024", "Work/2024", ".Work.2024", 50, -1 },
	{ "Lists/dev", "Lists/dev", ".Lists.dev", 40, -1 },
	{ "Personal", "Personal", ".Personal", -1, 30 },
	{ "Personal/Trips", "Personal/Trips", ".Personal.Trips", -1, 20 },
};

#define NFOLDERS (sizeof(folders) / sizeof(folders[0]))

struct e2e {
	char *top, *rc, *out;
	char *dir[NFOLDERS][2];	/* each folder's mailbox on far, near */
	struct buf output;
};

static void
e2e_init(struct e2e *e)
{
	struct buf t = BUF_INIT;

	memset(e, 0, sizeof(*e));
	e->top = tl_mkdtemp("e2e");
	e->rc = tl_path(e->top, "sync.rc");
	e->out = tl_path(e->top, "out");
	for (size_t i = 0; i < NFOLDERS; i++)
		if (asprintf(&e->dir[i][0], "%s/far/%s", e->top,
		    folders[i].far_dir) < 0 || asprintf(&e->dir[i][1],
		    "%s/near/%s", e->top, folders[i].near_dir) < 0)
			ck_abort_msg("asprintf failed");
	buf_addf(&t, "FSync no\n\nMaildirStore far\nPath %s/far/\n"
	    "Inbox %s/far/INBOX\nSubFolders Verbatim\n\n"
	    "MaildirStore near\nInbox %s/near\n"
	    "SubFolders Maildir++\n\nChannel e2e\nFar :far:\nNear :near:\n"
	    "Patterns *\nCreate Both\nExpunge Both\nSyncState *\n",
	    e->top, e->top, e->top);
	tl_write_str(e->rc, t.data);
	buf_free(&t);
}

static void
e2e_free(struct e2e *e)
{
	tl_rmtree(e->top);
	free(e->top);
	free(e->rc);
	free(e->out);
	for (size_t i = 0; i < NFOLDERS; i++) {
		free(e->dir[i][0]);
		free(e->dir[i][1]);
	}
	buf_free(&e->output);
}

/* Messages "<folder-tag>-<side>-NNN", every third one \Seen. */
static void
fill(const char *dir, size_t folder, int side, int count)
{
	char id[64];

	tw_make_box(dir, side == 0 ? 7000 : 8000, 0);
	if (side == 1 && folder > 0) {
		char *marker = tl_path(dir, "maildirfolder");

		tl_write_str(marker, "");
		free(marker);
	}
	for (int k = 1; k <= count; k++) {
		snprintf(id, sizeof(id), "f%zu-%s-%03d", folder,
		    side == 0 ? "far" : "near", k);
		tw_add_msg(dir, id, k % 3 == 0 ? "S" : "", 0);
	}
}

static void
populate(struct e2e *e)
{
	for (size_t i = 0; i < NFOLDERS; i++)
		for (int s = 0; s < 2; s++) {
			int n = s == 0 ? folders[i].far_msgs :
			    folders[i].near_msgs;

			if (n >= 0)
				fill(e->dir[i][s], i, s, n);
		}
}

static int
run(struct e2e *e, const char *a1, const char *a2, const char *a3)
{
	const char *args[5] = { "-c", e->rc, a1, a2, a3 };

	buf_reset(&e->output);
	return tw_run(e->top, e->out, args, NULL, &e->output);
}

/* Both sides of folder i hold the same messages with the same flags,
 * count of them, each once. */
static void
check_folder(struct e2e *e, size_t i, size_t count)
{
	struct tw_box box[2];
	struct buf text[2] = { BUF_INIT, BUF_INIT };

	for (int s = 0; s < 2; s++) {
		tw_read_box(e->dir[i][s], &box[s]);
		tw_box_format(&box[s], 0, &text[s]);
		for (size_t k = 1; k < box[s].n; k++)
			ck_assert_msg(strcmp(box[s].v[k - 1].id,
			    box[s].v[k].id) != 0, "%s: %s twice on side %d",
			    folders[i].name, box[s].v[k].id, s);
	}
	ck_assert_msg(strcmp(buf_cstr(&text[0]), buf_cstr(&text[1])) == 0,
	    "%s differs:\nfar:  %s\nnear: %s\noutput:\n%s", folders[i].name,
	    buf_cstr(&text[0]), buf_cstr(&text[1]), e->output.data);
	ck_assert_msg(box[0].n == count, "%s: %zu messages, want %zu",
	    folders[i].name, box[0].n, count);
	for (int s = 0; s < 2; s++) {
		tw_box_free(&box[s]);
		buf_free(&text[s]);
	}
}

static void
check_flags(struct e2e *e, size_t i, int side, const char *id,
    const char *flags)
{
	struct tw_box box;
	const struct tw_msg *m;

	tw_read_box(e->dir[i][side], &box);
	m = tw_box_find(&box, id);
	ck_assert_msg(m != NULL, "%s: %s missing", folders[i].name, id);
	ck_assert_msg(strcmp(m->flags, flags) == 0, "%s: %s has flags "
	    "\"%s\", want \"%s\"", folders[i].name, id, m->flags, flags);
	tw_box_free(&box);
}

static void
set_flags(struct e2e *e, size_t i, int side, const char *id,
    const char *flags)
{
	struct tw_box box;
	const struct tw_msg *m;

	tw_read_box(e->dir[i][side], &box);
	m = tw_box_find(&box, id);
	ck_assert_msg(m != NULL, "%s: %s missing", folders[i].name, id);
	tw_set_flags(m, e->dir[i][side], flags);
	tw_box_free(&box);
}

static void
delete_msg(struct e2e *e, size_t i, int side, const char *id)
{
	struct tw_box box;
	const struct tw_msg *m;

	tw_read_box(e->dir[i][side], &box);
	m = tw_box_find(&box, id);
	ck_assert_msg(m != NULL, "%s: %s missing", folders[i].name, id);
	ck_assert_msg(unlink(m->path) == 0, "unlink %s: %s", m->path,
	    strerror(errno));
	tw_box_free(&box);
}

/* Occurrences of needle in hay. */
static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	    p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A dry run changes nothing on disk; returns whether it planned work. */
static int
dry_run_changes_nothing(struct e2e *e)
{
	struct buf before = BUF_INIT, after = BUF_INIT;
	char *root = tl_path(e->top, "far");
	char *near = tl_path(e->top, "near");

	tw_tree_text(root, NULL, &before);
	tw_tree_text(near, NULL, &before);
	ck_assert_int_eq(run(e, "--dry-run", "e2e", NULL), 0);
	tw_tree_text(root, NULL, &after);
	tw_tree_text(near, NULL, &after);
	ck_assert_msg(strcmp(before.data, after.data) == 0,
	    "the dry run changed files; output:\n%s", e->output.data);
	free(root);
	free(near);
	buf_free(&before);
	buf_free(&after);
	return count_of(e->output.data, ": would ") > 0;
}

static void
check_all(struct e2e *e, const size_t *counts)
{
	for (size_t i = 0; i < NFOLDERS; i++)
		check_folder(e, i, counts[i]);
}

/* Run with KEEP_JOURNAL so that the folded journal stays. */
static int
run_keep(struct e2e *e)
{
	const char *args[] = { "-c", e->rc, "e2e", NULL };
	const char *env[] = { "TWINBOX_KEEP_JOURNAL=1", NULL };

	buf_reset(&e->output);
	return tw_run(e->top, e->out, args, env, &e->output);
}

/* After the interrupted fold, nothing is left to do and nothing is
 * copied twice. */
static void
check_fold_resumed(struct e2e *e, const size_t *counts)
{
	ck_assert_msg(run(e, "--dry-run", "e2e", NULL) == 0, "%s", e->output.data);
	ck_assert_msg(count_of(e->output.data, "dry run: nothing to do") ==
	    NFOLDERS, "%s", e->output.data);
	ck_assert_msg(run(e, "e2e", NULL, NULL) == 0, "%s", e->output.data);
	check_all(e, counts);
}

static const size_t initial_counts[NFOLDERS] = { 130, 80, 50, 40, 30, 20 };

START_TEST(test_initial_sync_both_ways)
{
	struct e2e e;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(dry_run_changes_nothing(&e), "the dry run planned "
	    "nothing:\n%s", e.output.data);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	check_all(&e, initial_counts);
	ck_assert(tl_exists(e.dir[3][1]));	/* created on near */
	ck_assert(tl_exists(e.dir[5][0]));	/* created on far */
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	ck_assert_uint_eq(count_of(e.output.data, "dry run: nothing to do"),
	    NFOLDERS);
	e2e_free(&e);
}
END_TEST

/* New mail, flag changes and deletions on both sides. */
static void
change_both_sides(struct e2e *e)
{
	char id[32];

	for (int k = 1; k <= 5; k++) {
		snprintf(id, sizeof(id), "new-far-%d", k);
		tw_add_msg(e->dir[0][0], id, k == 1 ? "F" : "", 0);
	}
	for (int k = 1; k <= 3; k++) {
		snprintf(id, sizeof(id), "new-near-%d", k);
		tw_add_msg(e->dir[4][1], id, "S", 0);
	}
	set_flags(e, 1, 0, "f1-far-001", "FS");
	set_flags(e, 1, 0, "f1-far-003", "");
	set_flags(e, 0, 1, "f0-near-001", "R");
	set_flags(e, 0, 1, "f0-near-003", "R");
	delete_msg(e, 3, 0, "f3-far-001");
	delete_msg(e, 3, 0, "f3-far-002");
	delete_msg(e, 2, 1, "f2-far-010");
	delete_msg(e, 2, 1, "f2-far-011");
}

START_TEST(test_changes_propagate)
{
	static const size_t counts[NFOLDERS] = { 135, 80, 48, 38, 33, 20 };
	struct e2e e;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	change_both_sides(&e);
	ck_assert_msg(dry_run_changes_nothing(&e), "%s", e.output.data);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	check_all(&e, counts);
	check_flags(&e, 0, 1, "new-far-1", "F");
	check_flags(&e, 1, 1, "f1-far-001", "FS");
	check_flags(&e, 1, 1, "f1-far-003", "");
	check_flags(&e, 0, 0, "f0-near-001", "R");
	check_flags(&e, 0, 0, "f0-near-003", "R");
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	e2e_free(&e);
}
END_TEST

START_TEST(test_uidvalidity_reset_repairs)
{
	struct e2e e;
	struct buf before = BUF_INIT, after = BUF_INIT;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	tw_reset_uidvalidity(e.dir[1][1]);
	tw_tree_text(e.dir[1][0], NULL, &before);
	tw_tree_text(e.dir[1][1], ".twinboxstate", &before);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	tw_tree_text(e.dir[1][0], NULL, &after);
	tw_tree_text(e.dir[1][1], ".twinboxstate", &after);
	/* Re-paired in place: not one message copied, renamed or removed. */
	ck_assert_msg(strcmp(before.data, after.data) == 0, "%s",
	    e.output.data);
	check_all(&e, initial_counts);
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	buf_free(&before);
	buf_free(&after);
	e2e_free(&e);
}
END_TEST

/* What a crash in the middle of an append leaves: a line without its
 * end. */
static void
append_torn_line(const char *path)
{
	FILE *f = fopen(path, "a");

	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs("copy far>near 99 S 7", f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* A crash in the middle of journal_fold(): before the new state file is
 * renamed into place (old state, whole journal, plus a torn line), and
 * after it but before the journal is removed (the journal is stale). */
START_TEST(test_interrupted_fold)
{
	static const size_t counts[NFOLDERS] = { 131, 80, 50, 40, 30, 20 };
	struct e2e e;
	static const size_t more_counts[NFOLDERS] = { 132, 80, 50, 40, 30,
	    20 };
	char *state, *journal, *folded, *old;
	size_t len;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	state = tl_path(e.dir[0][1], ".twinboxstate");
	journal = tl_path(e.dir[0][1], ".twinboxstate.journal");
	folded = tl_path(e.dir[0][1], ".twinboxstate.journal.folded");
	old = tl_read_file(state, &len);
	tw_add_msg(e.dir[0][0], "late", "S", 0);
	ck_assert_msg(run_keep(&e) == 0, "%s", e.output.data);
	ck_assert_int_eq(rename(folded, journal), 0);
	/* Stale journal: base one below the state file's generation. */
	check_fold_resumed(&e, counts);
	ck_assert(!tl_exists(journal));
	check_flags(&e, 0, 1, "late", "S");
	/* Old state file and the whole journal, with a torn last line. */
	free(old);
	old = tl_read_file(state, &len);
	tw_add_msg(e.dir[0][0], "later", "", 0);
	ck_assert_msg(run_keep(&e) == 0, "%s", e.output.data);
	tl_write_file(state, old, len);
	ck_assert_int_eq(rename(folded, journal), 0);
	append_torn_line(journal);
	check_fold_resumed(&e, more_counts);
	free(old);
	free(state);
	free(journal);
	free(folded);
	e2e_free(&e);
}
END_TEST

START_TEST(test_locked_pair_fails)
{
	struct e2e e;
	struct buf want = BUF_INIT;
	char *lock, *conf;
	int fd;

	e2e_init(&e);
	/* LockWait 0: skip the locked pair at once (no wait of its own). */
	conf = tl_read_file(e.rc, NULL);
	buf_addf(&want, "%sLockWait 0\n", conf);
	tl_write_str(e.rc, want.data);
	buf_reset(&want);
	free(conf);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	tw_add_msg(e.dir[0][0], "late-inbox", "", 0);
	tw_add_msg(e.dir[1][0], "late-work", "", 0);
	lock = tl_path(e.dir[1][1], ".twinboxstate.lock");
	fd = open(lock, O_RDWR);
	ck_assert_msg(fd >= 0, "open %s: %s", lock, strerror(errno));
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(run(&e, "e2e", NULL, NULL), 1);
	buf_addf(&want, "twinbox: error: e2e:Work: another twinbox is syncing "
	    "this mailbox pair (%s is locked)\n", lock);
	ck_assert_msg(strstr(e.output.data, want.data) != NULL, "%s",
	    e.output.data);
	/* The other pairs were synced; the locked one was not touched. */
	ck_assert_int_eq(tl_count_entries(e.dir[0][1]) > 0, 1);
	check_folder(&e, 0, 131);
	ck_assert_msg(strstr(e.output.data, "e2e:Work: 1 copied") == NULL,
	    "%s", e.output.data);
	close(fd);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	check_folder(&e, 1, 81);
	free(lock);
	buf_free(&want);
	e2e_free(&e);
}
END_TEST

/*
 * Remove: a folder deleted on far is removed on near once it is empty
 * there; while near still holds messages it stays (nothing is lost) and
 * the run says why.
 */
START_TEST(test_remove_propagates_when_empty)
{
	struct e2e e;
	char *cmd, *cur, *new;

	e2e_init(&e);
	{
		struct buf t = BUF_INIT;

		buf_addf(&t, "FSync no\n\nMaildirStore far\nPath %s/far/\n"
		    "Inbox %s/far/INBOX\nSubFolders Verbatim\n\n"
		    "MaildirStore near\nInbox %s/near\n"
		    "SubFolders Maildir++\n\nChannel e2e\nFar :far:\n"
		    "Near :near:\nPatterns *\nCreate Both\nRemove Near\n"
		    "Expunge Both\nSyncState *\n", e.top, e.top, e.top);
		tl_write_str(e.rc, t.data);
		buf_free(&t);
	}
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	/* Lists/dev (folder 3) vanishes from far. */
	tl_rmtree(e.dir[3][0]);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	ck_assert_msg(strstr(e.output.data, "Lists/dev") != NULL, "%s",
	    e.output.data);
	cur = tl_path(e.dir[3][1], "cur");
	new = tl_path(e.dir[3][1], "new");
	ck_assert_int_eq(tl_count_entries(cur) + tl_count_entries(new), 40);
	/* The user empties it on near too: now it goes. */
	if (asprintf(&cmd, "rm -f '%s'/cur/* '%s'/new/*", e.dir[3][1],
	    e.dir[3][1]) < 0)
		ck_abort_msg("asprintf failed");
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	ck_assert_msg(!tl_exists(cur), "%s still exists", cur);
	ck_assert_msg(run(&e, "--dry-run", "e2e", NULL) == 0, "%s", e.output.data);
	ck_assert_msg(strstr(e.output.data, "Lists/dev") == NULL, "%s",
	    e.output.data);
	free(cmd);
	free(cur);
	free(new);
	e2e_free(&e);
}
END_TEST

/*
 * The mass-deletion guard on real folders: 80 messages synced, 79 of them
 * \Seen (in near's cur/) and one not (in new/); emptying near's cur/
 * leaves one message in the scan, yet 79 of the 80 recorded ones are
 * gone. The
 * run stops for that mailbox, exits 1, says why and leaves far alone;
 * --allow-mass-delete then propagates the deletions.
 */
START_TEST(test_wiped_cur_is_refused)
{
	struct e2e e;
	struct buf t = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	char *far, *near, *cmd, *root;
	char id[32];

	e2e_init(&e);
	if (asprintf(&far, "%s/far/INBOX", e.top) < 0 ||
	    asprintf(&near, "%s/near/INBOX", e.top) < 0)
		ck_abort_msg("asprintf failed");
	buf_addf(&t, "FSync no\n\nMaildirStore far\nPath %s/far/\n"
	    "Inbox %s\n\nMaildirStore near\nPath %s/near/\nInbox %s\n\n"
	    "Channel wipe\nFar :far:\nNear :near:\nCreate Near\n"
	    "Expunge Both\nSyncState *\n", e.top, far, e.top, near);
	tl_write_str(e.rc, t.data);
	tw_make_box(far, 7000, 0);
	root = tl_path(e.top, "near");
	tl_mkdirs(root);
	free(root);
	for (int k = 1; k <= 80; k++) {
		snprintf(id, sizeof(id), "wipe-%02d", k);
		tw_add_msg(far, id, k == 80 ? "" : "S", 0);
	}
	ck_assert_msg(run(&e, "wipe", NULL, NULL) == 0, "%s", e.output.data);
	if (asprintf(&cmd, "rm -f '%s'/cur/*", near) < 0)
		ck_abort_msg("asprintf failed");
	ck_assert_int_eq(system(cmd), 0);
	tw_tree_text(far, NULL, &before);
	ck_assert_int_eq(run(&e, "wipe", NULL, NULL), 1);
	ck_assert(tw_strip_total(&e.output));
	ck_assert_str_eq(e.output.data, "twinbox: error: wipe: 79 of the 80 "
	    "messages recorded on near are gone from it (more than 90%); "
	    "refusing to propagate 79 deletions to far (if they were meant, "
	    "sync with --allow-mass-delete)\n");
	tw_tree_text(far, NULL, &after);
	ck_assert_str_eq(after.data, before.data);
	ck_assert_msg(run(&e, "--allow-mass-delete", "wipe", NULL) == 0, "%s",
	    e.output.data);
	ck_assert_msg(strstr(e.output.data, "79 expunged") != NULL, "%s",
	    e.output.data);
	ck_assert_msg(run(&e, "wipe", NULL, NULL) == 0, "%s", e.output.data);
	ck_assert_str_eq(buf_cstr(&e.output), "");
	ck_assert_msg(run(&e, "-V", "wipe", NULL) == 0, "%s", e.output.data);
	ck_assert(tw_strip_total(&e.output));
	ck_assert_str_eq(e.output.data, "wipe: up to date\n");
	free(far);
	free(near);
	free(cmd);
	buf_free(&t);
	buf_free(&before);
	buf_free(&after);
	e2e_free(&e);
}
END_TEST

/* Move a message file into another folder keeping its name, the way a
 * mail reader or `mv` does, and make it older than every file there. */
static void
move_msg(struct e2e *e, size_t from, size_t to, const char *id)
{
	struct tw_box box;
	const struct tw_msg *m;
	const char *base;
	char *dst;
	struct timeval tv[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };

	tw_read_box(e->dir[from][1], &box);
	m = tw_box_find(&box, id);
	ck_assert_msg(m != NULL, "%s: %s missing", folders[from].name, id);
	base = strrchr(m->path, '/') + 1;
	if (asprintf(&dst, "%s/cur/%s", e->dir[to][1], base) < 0)
		ck_abort_msg("asprintf failed");
	ck_assert_int_eq(utimes(m->path, tv), 0);
	ck_assert_msg(rename(m->path, dst) == 0, "rename %s: %s", m->path,
	    strerror(errno));
	free(dst);
	tw_box_free(&box);
}

/*
 * A file moved from .Work into the inbox keeps its ",U=5", which the
 * inbox's own f0-near-005 has: the recorded pair's message keeps the
 * UID, the moved one gets a new one and is uploaded; its absence from
 * Work is an ordinary deletion there. Nothing lost, nothing twice, and
 * the next run has nothing to do.
 */
START_TEST(test_moved_file_keeps_uid)
{
	static const size_t counts[NFOLDERS] = { 131, 79, 50, 40, 30, 20 };
	struct e2e e;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	move_msg(&e, 1, 0, "f1-near-005");
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	check_all(&e, counts);
	check_flags(&e, 0, 0, "f1-near-005", "");
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	e2e_free(&e);
}
END_TEST

/*
 * The same move, but the far copy of the inbox's f0-near-005 (whose
 * ",U=5" the moved file repeats) was deleted since the last sync: no
 * content tells which of the two files the record means. Neither keeps
 * the UID, so the deletion is not propagated to either: f0-near-005
 * comes back on far rather than risk expunging a message that was never
 * synced, and the moved message gets a UID of its own and is uploaded.
 */
START_TEST(test_moved_file_claims_uid_of_deleted_pair)
{
	static const size_t counts[NFOLDERS] = { 131, 79, 50, 40, 30, 20 };
	struct e2e e;

	e2e_init(&e);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	delete_msg(&e, 0, 0, "f0-near-005");
	move_msg(&e, 1, 0, "f1-near-005");
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	ck_assert_msg(strstr(e.output.data, "e2e:INBOX: two near messages "
	    "claimed UID 5, which has no far copy; neither keeps it") !=
	    NULL, "%s", e.output.data);
	check_all(&e, counts);
	check_flags(&e, 0, 0, "f1-near-005", "");
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	e2e_free(&e);
}
END_TEST

/*
 * With Expunge None, the far copy of f0-near-005 deleted leaves a
 * one-sided record of near UID 5, its message marked \Deleted; then
 * f1-near-005 moves in from .Work with ",U=5". The moved file must not
 * take the record's place, where nothing would ever copy it: it reaches
 * far, once.
 */
START_TEST(test_moved_file_claims_uid_of_one_sided_record)
{
	struct e2e e;
	char *rc;
	struct buf t = BUF_INIT;
	struct tw_box box;

	e2e_init(&e);
	rc = tl_read_file(e.rc, NULL);
	buf_adds(&t, rc);
	ck_assert(strstr(t.data, "Expunge Both") != NULL);
	memcpy(strstr(t.data, "Expunge Both"), "Expunge None", 12);
	tl_write_str(e.rc, t.data);
	populate(&e);
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	delete_msg(&e, 0, 0, "f0-near-005");
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	check_flags(&e, 0, 1, "f0-near-005", "T");
	move_msg(&e, 1, 0, "f1-near-005");
	ck_assert_msg(run(&e, "e2e", NULL, NULL) == 0, "%s", e.output.data);
	for (int s = 0; s < 2; s++) {
		tw_read_box(e.dir[0][s], &box);
		ck_assert_msg(tw_box_find(&box, "f1-near-005") != NULL,
		    "INBOX side %d: f1-near-005 missing\n%s", s,
		    e.output.data);
		for (size_t k = 1; k < box.n; k++)
			ck_assert_msg(strcmp(box.v[k - 1].id, box.v[k].id) !=
			    0, "%s twice on side %d", box.v[k].id, s);
		tw_box_free(&box);
	}
	ck_assert_msg(!dry_run_changes_nothing(&e), "%s", e.output.data);
	free(rc);
	buf_free(&t);
	e2e_free(&e);
}
END_TEST

START_TEST(test_unknown_channel)
{
	struct e2e e;

	e2e_init(&e);
	ck_assert_int_eq(run(&e, "nosuch", NULL, NULL), 2);
	ck_assert_str_eq(e.output.data, "twinbox: error: no channel or group "
	    "named 'nosuch' in the configuration\n");
	e2e_free(&e);
}
END_TEST

START_TEST(test_config_errors)
{
	struct e2e e;
	struct buf want = BUF_INIT;

	e2e_init(&e);
	tl_write_str(e.rc, "FSync no\nFrobnicate yes\n");
	ck_assert_int_eq(run(&e, "e2e", NULL, NULL), 2);
	buf_addf(&want, "twinbox: error: %s:2: unknown keyword 'Frobnicate': "
	    "expected a section (IMAPAccount, IMAPStore, MaildirStore, "
	    "Channel or Group) or a global option\n", e.rc);
	ck_assert_str_eq(e.output.data, want.data);
	tl_write_str(e.rc, "MaildirStore a\nPath /nonexistent/\n\n"
	    "Channel e2e\nFar :a:\nNear :nostore:\n");
	ck_assert_int_eq(run(&e, "e2e", NULL, NULL), 2);
	buf_setf(&want, "twinbox: error: %s:6: Channel 'e2e' refers to "
	    "undefined store 'nostore'\n", e.rc);
	ck_assert_str_eq(e.output.data, want.data);
	buf_free(&want);
	e2e_free(&e);
}
END_TEST

static Suite *
e2e_suite(void)
{
	Suite *s = suite_create("e2e maildir");
	TCase *tc = tcase_create("binary");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_initial_sync_both_ways);
	tcase_add_test(tc, test_changes_propagate);
	tcase_add_test(tc, test_uidvalidity_reset_repairs);
	tcase_add_test(tc, test_interrupted_fold);
	tcase_add_test(tc, test_locked_pair_fails);
	tcase_add_test(tc, test_remove_propagates_when_empty);
	tcase_add_test(tc, test_wiped_cur_is_refused);
	tcase_add_test(tc, test_moved_file_keeps_uid);
	tcase_add_test(tc, test_moved_file_claims_uid_of_deleted_pair);
	tcase_add_test(tc, test_moved_file_claims_uid_of_one_sided_record);
	tcase_add_test(tc, test_unknown_channel);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(e2e_suite());
}
