/* report: a run's outcomes and its total line; see report.h. The JSON
 * form is in report_json.c. */
#include "report.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/units.h"

struct report {
	pthread_mutex_t lock;
	struct pair_outcome *v;
	size_t n;
};

struct report *
report_new(void)
{
	struct report *rp = xcalloc(1, sizeof(*rp));

	pthread_mutex_init(&rp->lock, NULL);
	return rp;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
report_free(struct report *rp)
{
	if (rp == NULL)
		return;
	for (size_t i = 0; i < rp->n; i++) {
		free((char *)rp->v[i].channel);
		free((char *)rp->v[i].name);
		free((char *)rp->v[i].box[0]);
		free((char *)rp->v[i].box[1]);
		free((char *)rp->v[i].error);
	}
	free(rp->v);
	pthread_mutex_destroy(&rp->lock);
	free(rp);
}

void
report_add(struct report *rp, const struct pair_outcome *o)
{
	struct pair_outcome c = *o;

	if (rp == NULL)
		return;
	c.channel = dup_or_null(o->channel);
	c.name = dup_or_null(o->name);
	c.box[0] = dup_or_null(o->box[0]);
	c.box[1] = dup_or_null(o->box[1]);
	c.error = dup_or_null(o->error);
	pthread_mutex_lock(&rp->lock);
	rp->v = xreallocarray(rp->v, rp->n + 1, sizeof(*rp->v));
	rp->v[rp->n++] = c;
	pthread_mutex_unlock(&rp->lock);
}

size_t
report_count(const struct report *rp)
{
	return rp != NULL ? rp->n : 0;
}

const struct pair_outcome *
report_get(const struct report *rp, size_t i)
{
	return &rp->v[i];
}

/* What the total line adds up. */
struct tally {
	size_t pairs, changed, failed, skipped, channels_failed, trashed;
	struct exec_stats sum;
};

static void
tally(const struct report *rp, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < report_count(rp); i++) {
		const struct pair_outcome *o = &rp->v[i];

		if (o->name == NULL) {
			t->channels_failed++;
			continue;
		}
		t->pairs++;
		t->changed += exec_stats_changed(&o->stats);
		t->failed += o->result == PAIR_FAILED;
		t->skipped += o->result == PAIR_SKIPPED;
		for (int s = 0; s < 2; s++) {
			t->sum.copied[s] += o->stats.copied[s];
			t->sum.flagged[s] += o->stats.flagged[s];
			t->sum.expunged[s] += o->stats.expunged[s];
			t->sum.bytes[s] += o->stats.bytes[s];
			t->trashed += o->stats.trashed[s];
		}
	}
}

/* "far->near: 5 copied (12.0 KiB), 1 flagged, 0 expunged" for what
 * changed on side s. */
static void
add_direction(struct buf *line, const struct exec_stats *st, enum side s)
{
	buf_addf(line, "%s: %zu copied (", s == SIDE_NEAR ? "far->near" :
	    "near->far", st->copied[s]);
	units_add_bytes(line, st->bytes[s]);
	buf_addf(line, "), %zu flagged, %zu expunged", st->flagged[s],
	    st->expunged[s]);
}

void
report_total(const struct report *rp, double seconds, int always,
    const struct logger *lg)
{
	struct buf line = BUF_INIT;
	struct tally t;

	tally(rp, &t);
	if (!always && t.changed == 0 && t.failed == 0 &&
	    t.channels_failed == 0)
		return;
	buf_addf(&line, "twinbox: %zu mailbox pair%s: %zu changed, %zu "
	    "failed, %zu skipped", t.pairs, t.pairs == 1 ? "" : "s",
	    t.changed, t.failed, t.skipped);
	if (t.channels_failed > 0)
		buf_addf(&line, "; %zu channel%s failed", t.channels_failed,
		    t.channels_failed == 1 ? "" : "s");
	buf_adds(&line, "; ");
	add_direction(&line, &t.sum, SIDE_NEAR);
	buf_adds(&line, "; ");
	add_direction(&line, &t.sum, SIDE_FAR);
	if (t.trashed > 0)
		buf_addf(&line, "; %zu copied to Trash", t.trashed);
	buf_adds(&line, "; ");
	units_add_seconds(&line, seconds);
	log_info(lg, "%s", line.data);
	buf_free(&line);
}
