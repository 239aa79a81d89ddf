/* journal_replay: rebuilding the state of a mailbox pair from its state
 * file and journal; see journal.h. */
#include "sync/journal.h"

#include <string.h>

#include "sync/state_file.h"
#include "sync/state_rec.h"

#define JOURNAL_MAGIC "twinbox-journal"

struct replay {
	const char *path;
	struct rec_reader r;
	struct sync_state *st;
	struct journal_info *info;
	const struct logger *lg;
};

/* Lines from the reader's position to the end (the current one
 * included, its end already passed). */
static unsigned
lines_left(const struct rec_reader *r)
{
	unsigned n = 1;

	for (size_t i = r->pos; i < r->len; i++)
		if (r->data[i] == '\n' || i + 1 == r->len)
			n++;
	return n;
}

/*
 * Check a line's completeness and checksum. A damaged line is what a
 * crash leaves of the writes after the last durable flush: an append cut
 * short, a block the file system extended the file with before its data
 * reached the disk (zeros), later lines written before earlier ones. The
 * line and everything after it are discarded with a warning (returns 1):
 * replaying a record past a hole would apply it to a state that misses
 * what the hole held. What the discarded records described is found again
 * in the stores (recovery and first contact compare by content,
 * docs/sync-rules.md), so nothing is copied twice.
 */
static int
unseal_line(struct replay *rp, const char *line, size_t len, int complete,
    size_t *plen, struct buf *why)
{
	unsigned n;

	if (complete && rec_unseal(line, len, plen, why) == 0)
		return 0;
	n = lines_left(&rp->r);
	log_warn(rp->lg, "%s:%u: discarding a torn or zero-filled journal "
	    "tail (%u line%s from here, %s) left by a crash; the stores are "
	    "compared by content instead", rp->path, rp->r.lineno, n,
	    n == 1 ? "" : "s", complete ? buf_cstr(why) : "no end of line");
	rp->info->torn = 1;
	return 1;
}

/* The base record: which state file generation this journal extends. */
static int
check_base(struct replay *rp, const struct rec_fields *f, struct buf *why)
{
	uint64_t base, gen = rp->st->generation;

	if (!rec_is(f, 0, "base") || f->n != 2) {
		buf_setf(why, "expected the base record");
		return -1;
	}
	if (rec_number(f, 1, UINT64_MAX, "base", &base, why) != 0)
		return -1;
	if (base == gen)
		return 0;
	if (gen > 0 && base == gen - 1) {
		log_debug(rp->lg, "%s: already folded into state generation "
		    "%llu, ignored", rp->path, (unsigned long long)gen);
		rp->info->stale = 1;
		return 1;
	}
	buf_setf(why, "journal extends state generation %llu, but the "
	    "state file is generation %llu", (unsigned long long)base,
	    (unsigned long long)gen);
	return -1;
}

/* Header and base. 0: records follow; 1: nothing to replay; -1 error. */
static int
replay_start(struct replay *rp, struct buf *why)
{
	const char *line;
	size_t len, plen;
	int complete, rc;
	struct rec_fields f;

	if (!rec_next_line(&rp->r, &line, &len, &complete))
		return 1;
	if (!complete) {
		log_debug(rp->lg, "%s:1: discarding torn header", rp->path);
		rp->info->torn = 1;
		return 1;
	}
	if (rec_check_header(line, len, JOURNAL_MAGIC, "journal", why) != 0)
		return -1;
	if (!rec_next_line(&rp->r, &line, &len, &complete))
		return 1;
	rc = unseal_line(rp, line, len, complete, &plen, why);
	if (rc != 0)
		return rc;
	if (rec_split(line, plen, &f, why) != 0)
		return -1;
	rc = check_base(rp, &f, why);
	if (rc != 0)
		return rc;
	rp->info->usable = 1;
	rp->info->good_len = rp->r.pos;
	return 0;
}

static int
replay_records(struct replay *rp, struct buf *why)
{
	const char *line;
	size_t len, plen;
	int complete, rc;
	struct rec_fields f;
	struct journal_rec rec;

	while (rec_next_line(&rp->r, &line, &len, &complete)) {
		rc = unseal_line(rp, line, len, complete, &plen, why);
		if (rc == 1)
			break;
		if (rc != 0 || rec_split(line, plen, &f, why) != 0 ||
		    rec_parse(&f, &rec, why) != 0 ||
		    state_apply(rp->st, &rec, why) != 0)
			return -1;
		rp->info->nrecs++;
		rp->info->good_len = rp->r.pos;
	}
	return 0;
}

int
journal_replay(const char *path, struct sync_state *st,
    struct journal_info *info, const struct logger *lg, struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct replay rp = { .path = path, .st = st, .info = info, .lg = lg };
	int rc;

	memset(info, 0, sizeof(*info));
	if (state_file_read(path, &text, &info->found, err) != 0) {
		buf_free(&text);
		return -1;
	}
	rp.r.data = text.data;
	rp.r.len = text.len;
	rc = info->found ? replay_start(&rp, &why) : 1;
	if (rc == 0)
		rc = replay_records(&rp, &why);
	if (rc < 0) {
		if (rp.r.lineno == 1)
			buf_setf(err, "%s:1: %s", path, why.data);
		else
			buf_setf(err, "%s:%u: bad record: %s", path,
			    rp.r.lineno, why.data);
	}
	buf_free(&text);
	buf_free(&why);
	return rc < 0 ? -1 : 0;
}

int
state_load(const char *state_path, const char *journal_path,
    struct sync_state *st, struct journal_info *info,
    const struct logger *lg, struct buf *err)
{
	struct journal_info local;
	struct buf why = BUF_INIT;
	int found;

	if (info == NULL)
		info = &local;
	if (state_read(state_path, st, &found, err) != 0)
		return -1;
	if (journal_replay(journal_path, st, info, lg, err) != 0) {
		state_free(st);
		return -1;
	}
	if (info->nrecs > 0 && state_check(st, &why) != 0) {
		buf_setf(err, "%s: bad state after replay: %s", journal_path,
		    why.data);
		buf_free(&why);
		state_free(st);
		return -1;
	}
	if (info->nrecs > 0)
		log_debug(lg, "%s: replayed %zu records", journal_path,
		    info->nrecs);
	return 0;
}
