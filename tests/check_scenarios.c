/*
 * Scenario suite: the sync core end to end through the real binary on a
 * Maildir<->Maildir channel, one table row per scenario.
 *
 * A scenario is: the initial messages of both sides, optionally a
 * preparatory sync followed by changes made on disk (as a user or a mail
 * reader would make them), then the sync under test with its channel
 * options, and the exact messages (by Message-ID, with flags and, where
 * given, UIDs) each side must hold afterwards. Every scenario is proved
 * four ways:
 *   (a) result: the run's exit status, output and both mailboxes;
 *   (b) replay: the state file before the run plus the run's journal alone
 *       rebuild the state file the run wrote;
 *   (c) idempotence: a dry run then plans nothing, and a real run changes
 *       no message file and no state but the generation;
 *   (d) crash: for every step N of the run, the input is rebuilt, the run
 *       is killed at step N, run again, and must reach the result of (a),
 *       after which nothing is left to do.
 *
 * Message specs: "id", "id:FLAGS", "id=UID:FLAGS", "id^" (a big message)
 * and "pfx*N" / "pfx*A-B" (pfx001..pfxN / pfxA..pfxB). Changes: "F+spec"
 * adds on far (N for near), "F-spec" deletes ("F-*" every message),
 * "F=id:FLAGS" sets flags, "F!" resets UIDVALIDITY and renumbers every
 * message, "F~N" lowers the last UID handed out to N (a restored backup).
 * "S-" removes the pair's state file and journal (lost state), "S>" keeps
 * a copy of them aside and "S<" puts that copy back (an older state
 * restored from a backup), "Y" runs a sync with the options of the sync
 * under test.
 * Options: channel lines; "F:" and "N:" lines go to the far and near store
 * sections.
 *
 * The crash sweep needs no step count: it raises N until the run ends by
 * itself (any exit but SIGKILL's 137), which proves N is past the last step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "sync/journal.h"
#include "sync/state.h"
#include "support/testlib.h"
#include "support/twrun.h"

struct scenario {
	const char *name;
	const char *far0, *near0;	/* NULL: the mailbox does not exist */
	const char *prep;		/* options of the preparatory sync;
					   NULL: the sync under test is the
					   first */
	const char *changes;		/* after the preparatory sync */
	const char *opts;		/* options of the sync under test */
	const char *arg;		/* one more argument, or NULL */
	int status;			/* its expected exit status */
	const char *msg;		/* a line its output holds, or NULL */
	const char *want[2];		/* far, near; NULL: no mailbox */
};

#define MODE_CHANGES "F+c N+d F=a:F N=b:S F-e N-f"

static const struct scenario scenarios[] = {
	{ "first sync pulls", "a:S b c:FS", "", NULL, NULL, "", NULL, 0,
	  NULL, { "a=1:S b=2 c=3:FS", "a=1:S b=2 c=3:FS" } },
	{ "first sync pushes", "", "a:R b:DS", NULL, NULL, "", NULL, 0,
	  NULL, { "a=1:R b=2:DS", "a=1:R b=2:DS" } },
	{ "first sync both ways", "a b:F", "c:S d", NULL, NULL, "", NULL, 0,
	  NULL, { "a=1 b=2:F c=3:S d=4", "a=3 b=4:F c=1:S d=2" } },
	{ "Create Near makes the near mailbox", "a b:S", NULL, NULL, NULL,
	  "Create Near", NULL, 0, NULL, { "a b:S", "a b:S" } },
	{ "Create Far makes the far mailbox", NULL, "a", NULL, NULL,
	  "Create Far", NULL, 0, NULL, { "a", "a" } },
	{ "Create None: a one-sided mailbox cannot be opened", "a b", NULL,
	  NULL, NULL, "Create None", NULL, 1, "error: c: near mailbox 'INBOX' "
	  "of store 'near' cannot be opened: it does not exist, and Create "
	  "does not allow creating it there", { "a b", NULL } },
	{ "new messages on both sides", "a b", "", "", "F+c:F N+d:S", "",
	  NULL, 0, NULL, { "a=1 b=2 c=3:F d=4:S", "a=1 b=2 c=4:F d=3:S" } },
	{ "flags far to near", "a b:S", "", "", "F=a:FS F=b:", "", NULL, 0,
	  NULL, { "a:FS b", "a:FS b" } },
	{ "flags near to far", "a b:S", "", "", "N=a:R N=b:RS", "", NULL, 0,
	  NULL, { "a:R b:RS", "a:R b:RS" } },
	{ "flag changes merged three-way", "a:S b:FS c:S", "", "",
	  "F=a:FS N=a:RS F=b:S N=b:FRS N=c:", "", NULL, 0, NULL,
	  { "a:FRS b:RS c", "a:FRS b:RS c" } },
	{ "flags removed on both sides", "a:FS", "", "", "F=a:F N=a:S", "",
	  NULL, 0, NULL, { "a", "a" } },
	{ "deleted on far, Expunge None", "a b", "", "", "F-a", "", NULL, 0,
	  NULL, { "b", "a:T b" } },
	{ "deleted on far, Expunge Near", "a b", "", "", "F-a",
	  "Expunge Near", NULL, 0, NULL, { "b", "b" } },
	{ "deleted on near, Expunge Far", "a b", "", "", "N-b",
	  "Expunge Far", NULL, 0, NULL, { "a", "a" } },
	{ "deleted on near, Expunge None", "a b", "", "", "N-b", "", NULL, 0,
	  NULL, { "a b:T", "a" } },
	{ "deleted on both sides", "a b", "", "", "F-a N-a", "", NULL, 0,
	  NULL, { "b", "b" } },
	{ "\\Deleted set on far, Expunge Both", "a b", "", "", "F=a:T",
	  "Expunge Both", NULL, 0, NULL, { "b", "b" } },
	{ "\\Deleted set on far, Expunge None", "a b", "", "", "F=a:T", "",
	  NULL, 0, NULL, { "a:T b", "a:T b" } },
	{ "\\Deleted set on near, Expunge Far", "a b", "", "", "N=a:ST",
	  "Expunge Far", NULL, 0, NULL, { "b", "a:ST b" } },
	{ "\\Deleted set on far, Expunge Near", "a b", "", "", "F=a:FT",
	  "Expunge Near", NULL, 0, NULL, { "a:FT b", "b" } },
	{ "new \\Deleted messages, Expunge Both", "a b:T", "c:T", NULL, NULL,
	  "Expunge Both", NULL, 0, NULL, { "a", "a" } },
	{ "new \\Deleted message, Expunge Near", "a b:T", "", NULL, NULL,
	  "Expunge Near", NULL, 0, NULL, { "a b:T", "a" } },
	{ "new \\Deleted message, Expunge None", "a b:T", "", NULL, NULL, "",
	  NULL, 0, NULL, { "a b:T", "a b:T" } },
	{ "Sync Pull", "a b e f", "", "", MODE_CHANGES, "Sync Pull", NULL, 0,
	  NULL, { "a:F b c f", "a:F b:S c d e:T" } },
	{ "Sync Push", "a b e f", "", "", MODE_CHANGES, "Sync Push", NULL, 0,
	  NULL, { "a:F b:S c d f:T", "a b:S d e" } },
	{ "Sync Pull New", "a b e f", "", "", MODE_CHANGES, "Sync Pull New",
	  NULL, 0, NULL, { "a:F b c f", "a b:S c d e" } },
	{ "Sync PushFlags", "a b e f", "", "", MODE_CHANGES, "Sync PushFlags",
	  NULL, 0, NULL, { "a:F b:S c f", "a b:S d e" } },
	{ "Sync Flags", "a b e f", "", "", MODE_CHANGES, "Sync Flags", NULL,
	  0, NULL, { "a:F b:S c f", "a:F b:S d e" } },
	{ "Sync New", "a b e f", "", "", MODE_CHANGES, "Sync New", NULL, 0,
	  NULL, { "a:F b c d f", "a b:S c d e" } },
	{ "Sync Gone", "a b e f", "", "", MODE_CHANGES, "Sync Gone", NULL, 0,
	  NULL, { "a:F b c f:T", "a b:S d e:T" } },
	{ "Sync All", "a b e f", "", "", MODE_CHANGES, "Sync All", NULL, 0,
	  NULL, { "a:F b:S c d f:T", "a:F b:S c d e:T" } },
	{ "Sync All, Expunge Both", "a b e f", "", "", MODE_CHANGES,
	  "Sync All\nExpunge Both", NULL, 0, NULL,
	  { "a:F b:S c d", "a:F b:S c d" } },
	{ "Sync Pull PushNew", "a b e f", "", "", MODE_CHANGES,
	  "Sync Pull PushNew", NULL, 0, NULL,
	  { "a:F b c d f", "a:F b:S c d e:T" } },
	{ "Sync None", "a b e f", "", "", MODE_CHANGES, "Sync None", NULL, 0,
	  NULL, { "a:F b c f", "a b:S d e" } },
	{ "MaxSize on near", "a big^", "", NULL, NULL, "N:MaxSize 1k", NULL,
	  0, NULL, { "a big", "a" } },
	{ "MaxSize on far", "", "a big^", NULL, NULL, "F:MaxSize 1k", NULL,
	  0, NULL, { "a", "a big" } },
	{ "MaxSize raised, ReNew", "a big^", "", "N:MaxSize 1k", NULL,
	  "N:MaxSize 10k", NULL, 0, NULL, { "a big", "a big" } },
	{ "MaxSize raised without ReNew", "a big^", "", "N:MaxSize 1k", NULL,
	  "N:MaxSize 10k\nSync New Gone Flags", NULL, 0, NULL,
	  { "a big", "a" } },
	{ "MaxSize raised, Sync PushUpgrade", "", "a big^", "F:MaxSize 1k",
	  NULL, "F:MaxSize 10k\nSync PushUpgrade", NULL, 0, NULL,
	  { "a big", "a big" } },
	{ "MaxMessages on a first sync", "a b:F c d e", "", NULL, NULL,
	  "MaxMessages 2\nExpireUnread yes", NULL, 0, NULL,
	  { "a b:F c d e", "b:F d e" } },
	{ "MaxMessages as the window moves", "a b c", "",
	  "MaxMessages 2\nExpireUnread yes", "F+d F+e",
	  "MaxMessages 2\nExpireUnread yes", NULL, 0, NULL,
	  { "a b c d e", "d e" } },
	{ "UIDVALIDITY reset on far", "a:S b c", "", "",
	  "F! F=a:FS N=b:R N+d", "", NULL, 0, NULL,
	  { "a=3:FS b=2:R c=1 d=4", "a=1:FS b=2:R c=3 d=4" } },
	{ "UIDVALIDITY reset on near", "a:S b c", "", "", "N! N=a:FS F+d",
	  "", NULL, 0, NULL,
	  { "a=1:FS b=2 c=3 d=4", "a=3:FS b=2 c=1 d=4" } },
	{ "UIDVALIDITY reset on both sides", "a:S b c", "", "",
	  "F! N! F=a:FS N=b:R", "", NULL, 0, NULL,
	  { "a=3:FS b=2:R c=1", "a=3:FS b=2:R c=1" } },
	{ "UIDVALIDITY reset and a deletion: resurrection, not loss",
	  "a:S b c", "", "", "F! F-b", "", NULL, 0, NULL,
	  { "a:S b c", "a:S b c" } },
	{ "far restored from a backup: no deletion", "a b c", "", "",
	  "F-c F~2 N=a:F", "Expunge Both", NULL, 0, NULL,
	  { "a:F b c", "a:F b c" } },
	{ "skipped message deleted at its source", "a big^", "",
	  "N:MaxSize 1k", "F-big", "N:MaxSize 1k", NULL, 0, NULL,
	  { "a", "a" } },
	{ "skipped message \\Deleted, Expunge Far", "a big^", "",
	  "N:MaxSize 1k", "F=big:T", "N:MaxSize 1k\nExpunge Far", NULL, 0,
	  NULL, { "a", "a" } },
	{ "old unrecorded \\Deleted message, Expunge Far", "a b:T", "",
	  "Expunge Near", NULL, "Expunge Far", NULL, 0, NULL,
	  { "a", "a" } },
	{ "Sync PushGone, Expunge Far", "a b e f", "", "", MODE_CHANGES,
	  "Sync PushGone\nExpunge Far", NULL, 0, NULL,
	  { "a:F b c", "a b:S d e" } },
	{ "everything at once", "a:S b:F c d:S e f g h", "", "",
	  "F+i:S N+j F=a:FS N=b: F-c N-d F=e:T N=f:RS F-g N-g",
	  "Expunge Both", NULL, 0, NULL,
	  { "a:FS b f:RS h i:S j", "a:FS b f:RS h i:S j" } },
	{ "everything at once with a UIDVALIDITY reset",
	  "a:S b:F c d:S e f g h", "", "",
	  "N! F+i:S N+j F=a:FS N=b: F-c N-d F=e:T N=f:RS F-g N-g",
	  "Expunge Both", NULL, 0, NULL,
	  { "a:FS b c d:S f:RS h i:S j", "a:FS b c d:S f:RS h i:S j" } },
	{ "everything at once with a far UIDVALIDITY reset",
	  "a:S b:F c d:S e f g h", "", "",
	  "F! F+i:S N+j F=a:FS N=b: F-c N-d F=e:T N=f:RS F-g N-g",
	  "Expunge Both", NULL, 0, NULL,
	  { "a:FS b c d:S f:RS h i:S j", "a:FS b c d:S f:RS h i:S j" } },
	{ "UIDVALIDITY reset on far, Sync Pull", "a:S b c", "", "",
	  "F! F=a:FS N=b:R N+d F-c", "Sync Pull", NULL, 0, NULL,
	  { "a:FS b", "a:FS b:R c d" } },
	{ "MaxMessages after a far UIDVALIDITY reset", "a b:F c d e", "",
	  "MaxMessages 2\nExpireUnread yes", "F!",
	  "MaxMessages 2\nExpireUnread yes", NULL, 0, NULL,
	  { "a b:F c d e", "a b:F" } },
	{ "MaxMessages lowered, nothing to copy", "a b c d", "",
	  "MaxMessages 4\nExpireUnread yes", "",
	  "MaxMessages 2\nExpireUnread yes", NULL, 0, NULL,
	  { "a b c d", "c d" } },
	/* a: the \Deleted an expiry sets before its expunge, its record
	 * lost with the journal; e: the user's, within the window */
	{ "MaxMessages, near copies marked \\Deleted", "a b c d e", "",
	  "MaxMessages 5\nExpireUnread yes", "N=a:T N=e:T",
	  "MaxMessages 2\nExpireUnread yes", NULL, 0, NULL,
	  { "a b c d e:T", "c d e:T" } },
	{ "skipped message after a far UIDVALIDITY reset", "a big^", "",
	  "N:MaxSize 1k", "F!", "N:MaxSize 1k", NULL, 0, NULL,
	  { "a big", "a" } },
	{ "Sync Pull, \\Deleted on far, Expunge Near", "a b", "", "",
	  "F=a:T", "Sync Pull\nExpunge Near", NULL, 0, NULL,
	  { "a:T b", "b" } },
	{ "Sync Push, \\Deleted on far, Expunge Both", "a b", "", "",
	  "F=a:T", "Sync Push\nExpunge Both", NULL, 0, NULL,
	  { "b", "a b" } },
	{ "first sync of two mailboxes holding the same mail", "a:S b c d",
	  "a b:F d e", NULL, NULL, "", NULL, 0, NULL,
	  { "a:S b:F c d e", "a:S b:F c d e" } },
	{ "first sync: the same message twice on one side pairs one to one",
	  "a a:S b", "a:F", NULL, NULL, "", NULL, 0, NULL,
	  { "a:F a:S b", "a:F a:S b" } },
	{ "lost state and journal: nothing copied again", "a:S b c:F", "d",
	  "", "S- F=a:FS N+e", "", NULL, 0, NULL,
	  { "a:FS b c:F d e", "a:FS b c:F d e" } },
	{ "older state restored: nothing copied again", "a b", "", "",
	  "S> F+c N+d Y F=c:S S<", "", NULL, 0, NULL,
	  { "a b c:S d", "a b c:S d" } },
	/* A run without copies renames its state file into place without
	 * syncing the directory: a crash may give the previous file back,
	 * after the run changed the stores. */
	{ "run without copies, its state file lost: flags", "a b:S c", "",
	  "", "S> F=a:FS N=b:R Y S<", "", NULL, 0, NULL,
	  { "a:FS b:R c", "a:FS b:R c" } },
	{ "run without copies, its state file lost: deletions", "a b c", "",
	  "", "S> F-a N-b Y S<", "Expunge Near", NULL, 0, NULL,
	  { "b:T c", "c" } },
	{ "ReNew copy whose journal was lost: nothing copied again",
	  "a big^", "", "N:MaxSize 1k", "S> Y S<", "N:MaxSize 10k", NULL, 0,
	  NULL, { "a big", "a big" } },
	{ "guard: far looks wiped", "m*25", "", "", "F-*", "Expunge Both",
	  NULL, 1, "error: c: 25 of the 25 messages recorded on far are gone "
	  "from it (more than 90%); refusing to propagate 25 deletions to "
	  "near (if they were meant, sync with --allow-mass-delete)",
	  { "", "m*25" } },
	{ "guard: near looks wiped", "", "m*25", "", "N-*", "", NULL, 1,
	  "error: c: 25 of the 25 messages recorded on near are gone from it "
	  "(more than 90%); refusing to propagate 25 deletions to far (if "
	  "they were meant, sync with --allow-mass-delete)",
	  { "m*25", "" } },
	{ "guard: allowed", "m*25", "", "", "F-*", "Expunge Both",
	  "--allow-mass-delete", 0, NULL, { "", "" } },
	{ "guard: more than half vanished", "m*110", "", "", "F-m*60", "",
	  NULL, 1, "error: c: 60 of the 110 messages recorded on far are "
	  "gone from it (more than 50%); refusing to propagate 60 deletions "
	  "to near (if they were meant, sync with --allow-mass-delete)",
	  { "m*61-110", "m*110" } },
	{ "guard: wiped side without Gone passes", "m*25", "", "", "F-*",
	  "Sync New Flags", NULL, 0, NULL, { "", "m*25" } },
	{ "small mailbox entirely deleted", "a b c", "", "", "F-*",
	  "Expunge Near", NULL, 0, NULL, { "", "" } },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/* One message of a spec, expanded. */
struct spec {
	char id[64];
	uint32_t uid;		/* 0: any */
	char flags[16];
	int big;
};

struct specs {
	struct spec *v;
	size_t n;
};

static struct spec *
spec_push(struct specs *ss)
{
	ss->v = xreallocarray(ss->v, ss->n + 1, sizeof(*ss->v));
	memset(&ss->v[ss->n], 0, sizeof(ss->v[0]));
	return &ss->v[ss->n++];
}

/* "pfx*N[:FLAGS]" or "pfx*A-B[:FLAGS]". */
static void
parse_range(const char *tok, const char *star, struct specs *ss)
{
	char *end;
	unsigned long from = 1, to = strtoul(star + 1, &end, 10);
	const char *colon = strchr(star, ':');

	if (*end == '-') {
		from = to;
		to = strtoul(end + 1, &end, 10);
	}
	for (unsigned long i = from; i <= to; i++) {
		struct spec *sp = spec_push(ss);

		snprintf(sp->id, sizeof(sp->id), "%.*s%03lu",
		    (int)(star - tok), tok, i);
		if (colon != NULL)
			snprintf(sp->flags, sizeof(sp->flags), "%s", colon + 1);
	}
}

/* "id[=UID][:FLAGS][^]" */
static void
parse_one(const char *tok, struct specs *ss)
{
	struct spec *sp = spec_push(ss);
	size_t idlen = strcspn(tok, "=:^");
	const char *p = tok + idlen;

	snprintf(sp->id, sizeof(sp->id), "%.*s", (int)idlen, tok);
	if (*p == '=')
		sp->uid = (uint32_t)strtoul(p + 1, (char **)&p, 10);
	if (*p == ':') {
		size_t n = strcspn(p + 1, "^");

		snprintf(sp->flags, sizeof(sp->flags), "%.*s", (int)n, p + 1);
		p += 1 + n;
	}
	sp->big = *p == '^';
}

/* Expand a space-separated list of specs. */
static void
parse_specs(const char *list, struct specs *ss)
{
	char *copy = xstrdup(list), *save = NULL;

	ss->v = NULL;
	ss->n = 0;
	for (char *tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		const char *star = strchr(tok, '*');

		if (star != NULL)
			parse_range(tok, star, ss);
		else
			parse_one(tok, ss);
	}
	free(copy);
}

static int
cmp_spec(const void *a, const void *b)
{
	const struct spec *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : strcmp(x->flags, y->flags);
}

/* Everything one scenario's runs share. */
struct scen_run {
	const struct scenario *sc;
	char *top, *work, *snap, *rc_prep, *rc, *out;
	char *box[2];
	char *state, *journal, *folded, *snap_state;
	struct buf err;		/* what went wrong, for the failure */
};

static void
scen_init(struct scen_run *r, const struct scenario *sc)
{
	memset(r, 0, sizeof(*r));
	r->sc = sc;
	r->top = tl_mkdtemp("scen");
	r->work = tl_path(r->top, "w");
	r->snap = tl_path(r->top, "snap");
	r->rc_prep = tl_path(r->top, "prep.rc");
	r->rc = tl_path(r->top, "sync.rc");
	r->out = tl_path(r->top, "out");
	if (asprintf(&r->box[0], "%s/far/INBOX", r->work) < 0 ||
	    asprintf(&r->box[1], "%s/near/INBOX", r->work) < 0 ||
	    asprintf(&r->snap_state, "%s/near/INBOX/.twinboxstate",
	    r->snap) < 0)
		ck_abort_msg("asprintf failed");
	r->state = tl_path(r->box[1], ".twinboxstate");
	r->journal = tl_path(r->box[1], ".twinboxstate.journal");
	r->folded = tl_path(r->box[1], ".twinboxstate.journal.folded");
}

static void
scen_free(struct scen_run *r)
{
	tl_rmtree(r->top);
	free(r->top);
	free(r->work);
	free(r->snap);
	free(r->rc_prep);
	free(r->rc);
	free(r->out);
	free(r->box[0]);
	free(r->box[1]);
	free(r->state);
	free(r->journal);
	free(r->folded);
	free(r->snap_state);
	buf_free(&r->err);
}

/* The option lines of opts meant for one section: prefix "F:", "N:" or
 * NULL for the channel (lines without a prefix). */
static void
section_lines(const char *opts, const char *prefix, struct buf *out)
{
	const char *p = opts;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");
		int mine = prefix ? strncmp(p, prefix, 2) == 0 :
		    !(n >= 2 && p[1] == ':');

		if (mine && prefix)
			buf_addf(out, "%.*s\n", (int)(n - 2), p + 2);
		else if (mine && n > 0)
			buf_addf(out, "%.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void
write_config(const struct scen_run *r, const char *path, const char *opts)
{
	struct buf t = BUF_INIT;
	char *root;

	/* Each store's Path exists, even where its INBOX does not. */
	root = tl_path(r->work, "far");
	tl_mkdirs(root);
	free(root);
	root = tl_path(r->work, "near");
	tl_mkdirs(root);
	free(root);

	buf_addf(&t, "FSync no\n\nMaildirStore far\nPath %s/far/\n"
	    "Inbox %s/far/INBOX\n", r->work, r->work);
	section_lines(opts, "F:", &t);
	buf_addf(&t, "\nMaildirStore near\nPath %s/near/\n"
	    "Inbox %s/near/INBOX\n", r->work, r->work);
	section_lines(opts, "N:", &t);
	buf_adds(&t, "\nChannel c\nFar :far:INBOX\nNear :near:INBOX\n"
	    "SyncState *\n");
	section_lines(opts, NULL, &t);
	tl_write_str(path, t.data);
	buf_free(&t);
}

static void
make_side(const char *dir, const char *list, uint32_t uidvalidity)
{
	struct specs ss;

	if (list == NULL)
		return;
	tw_make_box(dir, uidvalidity, 0);
	parse_specs(list, &ss);
	for (size_t i = 0; i < ss.n; i++)
		tw_add_msg(dir, ss.v[i].id, ss.v[i].flags, ss.v[i].big);
	free(ss.v);
}

/* Remove the messages named by list ("*": all of them). */
static void
delete_msgs(const char *dir, const char *list)
{
	struct tw_box box;
	struct specs ss = { NULL, 0 };

	tw_read_box(dir, &box);
	if (strcmp(list, "*") != 0)
		parse_specs(list, &ss);
	for (size_t i = 0; i < box.n; i++) {
		int chosen = ss.n == 0;

		for (size_t k = 0; k < ss.n && !chosen; k++)
			chosen = strcmp(ss.v[k].id, box.v[i].id) == 0;
		if (chosen)
			ck_assert_msg(unlink(box.v[i].path) == 0,
			    "unlink %s: %s", box.v[i].path, strerror(errno));
	}
	free(ss.v);
	tw_box_free(&box);
}

static void
set_flags(const char *dir, const char *spec)
{
	struct tw_box box;
	struct specs ss;
	const struct tw_msg *m;

	tw_read_box(dir, &box);
	parse_specs(spec, &ss);
	m = tw_box_find(&box, ss.v[0].id);
	ck_assert_msg(m != NULL, "%s: no message %s to change", dir,
	    ss.v[0].id);
	tw_set_flags(m, dir, ss.v[0].flags);
	free(ss.v);
	tw_box_free(&box);
}

/* Lower the last UID handed out, as a restore from a backup does. */
static void
set_last_uid(const char *dir, uint32_t last)
{
	uint32_t uv, old;

	tw_read_uidvalidity(dir, &uv, &old);
	tw_write_uidvalidity(dir, uv, last);
}

static int run_sync(const struct scen_run *r, const char *rc, int dry_run,
    const char *env, struct buf *out);

static void
remove_if_present(const char *path)
{
	ck_assert_msg(unlink(path) == 0 || errno == ENOENT, "unlink %s: %s",
	    path, strerror(errno));
}

/* Copy a file if it exists; remove the target if it does not. */
static void
copy_if_present(const char *from, const char *to)
{
	char *data;
	size_t len;

	if (!tl_exists(from)) {
		remove_if_present(to);
		return;
	}
	data = tl_read_file(from, &len);
	tl_write_file(to, data, len);
	free(data);
}

/* The state changes: S- (lose), S> (keep aside), S< (restore), Y. */
static void
apply_state_change(const struct scen_run *r, const char *tok)
{
	char *saved = tl_path(r->top, "saved-state");
	char *saved_j = tl_path(r->top, "saved-journal");
	struct buf out = BUF_INIT;

	if (strcmp(tok, "S-") == 0) {
		remove_if_present(r->state);
		remove_if_present(r->journal);
	} else if (strcmp(tok, "S>") == 0) {
		copy_if_present(r->state, saved);
		copy_if_present(r->journal, saved_j);
	} else if (strcmp(tok, "S<") == 0) {
		copy_if_present(saved, r->state);
		copy_if_present(saved_j, r->journal);
	} else if (strcmp(tok, "Y") == 0) {
		ck_assert_msg(run_sync(r, r->rc, 0, NULL, &out) == 0,
		    "scenario '%s': the sync of change Y failed:\n%s",
		    r->sc->name, out.data);
	} else {
		ck_abort_msg("bad change '%s'", tok);
	}
	buf_free(&out);
	free(saved);
	free(saved_j);
}

static void
apply_change(const struct scen_run *r, const char *tok)
{
	const char *dir = r->box[tok[0] == 'N'];
	struct specs ss;

	if (tok[0] == 'S' || tok[0] == 'Y') {
		apply_state_change(r, tok);
		return;
	}
	ck_assert_msg(tok[0] == 'F' || tok[0] == 'N', "bad change '%s'", tok);
	switch (tok[1]) {
	case '+':
		parse_specs(tok + 2, &ss);
		for (size_t i = 0; i < ss.n; i++)
			tw_add_msg(dir, ss.v[i].id, ss.v[i].flags,
			    ss.v[i].big);
		free(ss.v);
		break;
	case '-':
		delete_msgs(dir, tok + 2);
		break;
	case '=':
		set_flags(dir, tok + 2);
		break;
	case '!':
		tw_reset_uidvalidity(dir);
		break;
	case '~':
		set_last_uid(dir, (uint32_t)strtoul(tok + 2, NULL, 10));
		break;
	default:
		ck_abort_msg("bad change '%s'", tok);
	}
}

static void
apply_changes(const struct scen_run *r, const char *changes)
{
	char *copy = xstrdup(changes ? changes : ""), *save = NULL;

	for (char *tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		apply_change(r, tok);
	free(copy);
}

/* Run the binary on the scenario's channel; out gets the output. */
static int
run_sync(const struct scen_run *r, const char *rc, int dry_run,
    const char *env, struct buf *out)
{
	const char *args[6];
	const char *envv[2] = { env, NULL };
	size_t n = 0;

	args[n++] = "-c";
	args[n++] = rc;
	if (dry_run)
		args[n++] = "--dry-run";
	if (r->sc->arg != NULL)
		args[n++] = r->sc->arg;
	args[n++] = "c";
	args[n] = NULL;
	buf_reset(out);
	return tw_run(r->top, r->out, args, envv, out);
}

/* Initial messages, preparatory sync, changes; then keep a snapshot. */
static void
build(struct scen_run *r)
{
	const struct scenario *sc = r->sc;
	struct buf out = BUF_INIT;

	make_side(r->box[0], sc->far0, 1000);
	make_side(r->box[1], sc->near0, 2000);
	write_config(r, r->rc, sc->opts);
	if (sc->prep != NULL) {
		write_config(r, r->rc_prep, sc->prep);
		ck_assert_msg(run_sync(r, r->rc_prep, 0, NULL, &out) == 0,
		    "scenario '%s': the preparatory sync failed:\n%s",
		    sc->name, out.data);
		apply_changes(r, sc->changes);
	}
	tw_copy_tree(r->work, r->snap);
	buf_free(&out);
}

static void
restore(const struct scen_run *r)
{
	tl_rmtree(r->work);
	tw_copy_tree(r->snap, r->work);
}

/* " id=UID:FLAGS", without "=UID" when uid is 0. */
static void
add_entry(struct buf *out, const char *id, uint32_t uid, const char *flags)
{
	buf_addf(out, " %s", id);
	if (uid != 0)
		buf_addf(out, "=%u", uid);
	buf_addf(out, ":%s", flags);
}

/* Compare one side with the scenario's expectation; UIDs are compared
 * where the expectation gives them and with_uids is set. */
static int
check_side(struct scen_run *r, int side, int with_uids)
{
	const char *want = r->sc->want[side];
	struct buf exp = BUF_INIT, act = BUF_INIT;
	struct specs ss;
	struct tw_box box;
	int rc;

	if (want == NULL) {
		if (!tl_exists(r->box[side]))
			return 0;
		buf_addf(&r->err, "the %s mailbox exists but should not\n",
		    side_names[side]);
		return -1;
	}
	parse_specs(want, &ss);
	if (ss.n > 0)
		qsort(ss.v, ss.n, sizeof(*ss.v), cmp_spec);
	tw_read_box(r->box[side], &box);
	for (size_t i = 0; i < ss.n || i < box.n; i++) {
		int uid = i < ss.n && ss.v[i].uid != 0 && with_uids;

		if (i < ss.n)
			add_entry(&exp, ss.v[i].id, uid ? ss.v[i].uid : 0,
			    ss.v[i].flags);
		if (i < box.n)
			add_entry(&act, box.v[i].id, uid ? box.v[i].uid : 0,
			    box.v[i].flags);
	}
	rc = strcmp(buf_cstr(&exp), buf_cstr(&act)) == 0 ? 0 : -1;
	if (rc != 0)
		buf_addf(&r->err, "%s side differs:\n  want:%s\n  have:%s\n",
		    side_names[side], buf_cstr(&exp), buf_cstr(&act));
	free(ss.v);
	tw_box_free(&box);
	buf_free(&exp);
	buf_free(&act);
	return rc;
}

static int
check_result(struct scen_run *r, int with_uids)
{
	int a = check_side(r, 0, with_uids);
	int b = check_side(r, 1, with_uids);

	return a == 0 && b == 0 ? 0 : -1;
}

static int
read_state(struct scen_run *r, const char *path, struct sync_state *st)
{
	struct buf err = BUF_INIT;
	int found, rc;

	state_init(st);
	rc = state_read(path, st, &found, &err);
	if (rc != 0)
		buf_addf(&r->err, "%s\n", err.data);
	buf_free(&err);
	return rc;
}

/* (b) The state before the run plus the kept journal give the state file
 * the run wrote (the generation is one higher after the fold). */
static int
check_replay(struct scen_run *r)
{
	struct sync_state replayed, written;
	struct journal_info info;
	struct logger lg = { .level = LOG_NORMAL };
	struct buf err = BUF_INIT, cap = BUF_INIT;
	int rc = -1;

	lg.capture = &cap;
	if (read_state(r, r->snap_state, &replayed) != 0)
		goto out;
	if (journal_replay(r->folded, &replayed, &info, &lg, &err) != 0) {
		buf_addf(&r->err, "replay: %s\n", err.data);
		goto out;
	}
	if (read_state(r, r->state, &written) != 0)
		goto out_written;
	if (written.generation != replayed.generation + 1) {
		buf_addf(&r->err, "generation %llu after a run from %llu\n",
		    (unsigned long long)written.generation,
		    (unsigned long long)replayed.generation);
		goto out_written;
	}
	replayed.generation = written.generation;
	if (state_equal(&replayed, &written))
		rc = 0;
	else
		buf_addf(&r->err, "the replayed journal gives another state "
		    "than the state file\n");
out_written:
	state_free(&written);
out:
	state_free(&replayed);
	buf_free(&err);
	buf_free(&cap);
	return rc;
}

/* (b) for a run that did not fold (it failed, or had nothing to do): the
 * state file stays as it was. */
static int
check_no_fold(struct scen_run *r)
{
	char *before, *after;
	int rc = 0;

	if (tl_exists(r->folded)) {
		buf_addf(&r->err, "a failed run folded its journal\n");
		return -1;
	}
	if (!tl_exists(r->snap_state))
		return tl_exists(r->state) ? -1 : 0;
	before = tl_read_file(r->snap_state, NULL);
	after = tl_read_file(r->state, NULL);
	if (strcmp(before, after) != 0) {
		buf_addf(&r->err, "a run that did not fold changed the state "
		    "file\n");
		rc = -1;
	}
	free(before);
	free(after);
	return rc;
}

/* The state checks of (b), after the run under test. */
static int
check_state(struct scen_run *r)
{
	if (r->sc->want[1] == NULL) {
		/* No near mailbox: nothing synced, no state anywhere. */
		if (!tl_exists(r->state) && !tl_exists(r->folded))
			return 0;
		buf_addf(&r->err, "a state file exists without a near "
		    "mailbox\n");
		return -1;
	}
	/* A run with nothing to do writes nothing: no journal to keep, and
	 * the state file stays as it was, as after a failed run. */
	if (r->sc->status != 0 || !tl_exists(r->folded))
		return check_no_fold(r);
	if (tl_exists(r->journal)) {
		buf_addf(&r->err, "the journal outlived the fold\n");
		return -1;
	}
	return check_replay(r);
}

static void
scen_fail(struct scen_run *r, const char *way, const char *out)
{
	ck_abort_msg("scenario '%s', %s:\n%soutput:\n%s", r->sc->name, way,
	    buf_cstr(&r->err), out);
}

/* (a) and (b): the run gives the expected result, and its journal alone
 * rebuilds its state. */
static void
way_result(struct scen_run *r)
{
	struct buf out = BUF_INIT;
	int status = run_sync(r, r->rc, 0, "TWINBOX_KEEP_JOURNAL=1", &out);

	if (status != r->sc->status)
		buf_addf(&r->err, "exit status %d, want %d\n", status,
		    r->sc->status);
	if (r->sc->msg != NULL && strstr(out.data, r->sc->msg) == NULL)
		buf_addf(&r->err, "the output lacks \"%s\"\n", r->sc->msg);
	if (r->err.len > 0 || check_result(r, 1) != 0)
		scen_fail(r, "way (a) result", out.data);
	if (check_state(r) != 0)
		scen_fail(r, "way (b) journal replay", out.data);
	buf_free(&out);
}

/* A dry run plans nothing: one "nothing to do" when the pair exists, and
 * not a single "would". */
static int
check_nothing_planned(struct scen_run *r, int status, const char *out)
{
	int pairs = r->sc->want[0] != NULL && r->sc->want[1] != NULL;
	const char *hit = strstr(out, "c: dry run: nothing to do\n");

	if (r->sc->status != 0)
		return status == r->sc->status ? 0 : -1;
	if (status == 0 && strstr(out, "would ") == NULL &&
	    (hit != NULL) == pairs)
		return 0;
	buf_addf(&r->err, "the dry run plans something (exit status %d)\n",
	    status);
	return -1;
}

/* (c) A second run plans nothing and changes nothing. */
static void
way_idempotent(struct scen_run *r)
{
	struct buf out = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	struct sync_state s1, s2;
	int status;

	tw_tree_text(r->work, NULL, &before);
	status = run_sync(r, r->rc, 1, NULL, &out);
	tw_tree_text(r->work, NULL, &after);
	if (check_nothing_planned(r, status, out.data) != 0)
		scen_fail(r, "way (c) idempotence, dry run", out.data);
	if (strcmp(before.data, after.data) != 0)
		buf_adds(&r->err, "the dry run changed files\n");
	buf_reset(&before);
	tw_tree_text(r->work, ".twinboxstate", &before);
	read_state(r, r->state, &s1);
	status = run_sync(r, r->rc, 0, NULL, &out);
	buf_reset(&after);
	tw_tree_text(r->work, ".twinboxstate", &after);
	read_state(r, r->state, &s2);
	s1.generation = s2.generation;
	if (status != r->sc->status || strcmp(before.data, after.data) != 0 ||
	    !state_equal(&s1, &s2))
		buf_addf(&r->err, "the second run (exit status %d) changed "
		    "something:\n--- before\n%s--- after\n%s", status,
		    before.data, after.data);
	if (r->err.len > 0)
		scen_fail(r, "way (c) idempotence", out.data);
	state_free(&s1);
	state_free(&s2);
	buf_free(&out);
	buf_free(&before);
	buf_free(&after);
}

/* Upper bound of the crash sweep, far above any scenario's step count. */
#define MAX_STEPS 2000

/* Resume after the crash at step n and check the outcome. */
static void
resume(struct scen_run *r, unsigned n)
{
	struct buf out = BUF_INIT, way = BUF_INIT;
	int status = run_sync(r, r->rc, 0, NULL, &out);

	buf_addf(&way, "way (d) crash at step %u, then resume", n);
	if (status != r->sc->status)
		buf_addf(&r->err, "exit status %d, want %d\n", status,
		    r->sc->status);
	if (r->err.len > 0 || check_result(r, 0) != 0)
		scen_fail(r, way.data, out.data);
	status = run_sync(r, r->rc, 1, NULL, &out);
	if (check_nothing_planned(r, status, out.data) != 0)
		scen_fail(r, way.data, out.data);
	buf_free(&out);
	buf_free(&way);
}

/* (d) Crash at every step, then resume. */
static void
way_crash(struct scen_run *r)
{
	struct buf out = BUF_INIT;
	char env[64];

	for (unsigned n = 1; n <= MAX_STEPS; n++) {
		int status;

		restore(r);
		snprintf(env, sizeof(env), "TWINBOX_CRASH_AFTER=%u", n);
		status = run_sync(r, r->rc, 0, env, &out);
		if (status != 137) {
			if (status != r->sc->status) {
				buf_addf(&r->err, "exit status %d, want %d "
				    "(step %u is beyond the run)\n", status,
				    r->sc->status, n);
				scen_fail(r, "way (d) crash sweep", out.data);
			}
			buf_free(&out);
			return;
		}
		resume(r, n);
	}
	buf_free(&out);
	ck_abort_msg("scenario '%s': still crashing at step %u", r->sc->name,
	    MAX_STEPS);
}

START_TEST(test_scenario)
{
	struct scen_run r;

	scen_init(&r, &scenarios[_i]);
	build(&r);
	way_result(&r);
	way_idempotent(&r);
	way_crash(&r);
	scen_free(&r);
}
END_TEST

static Suite *
scenario_suite(void)
{
	Suite *s = suite_create("scenarios");
	TCase *tc = tcase_create("maildir<->maildir");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_scenario, 0, (int)NSCEN);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(scenario_suite());
}
