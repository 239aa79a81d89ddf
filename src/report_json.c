/* report_json: --json, one JSON object per mailbox pair; see report.h
 * and the JSON OUTPUT section of twinbox(1). */
#include "report.h"

#include <errno.h>
#include <string.h>

#include "util/json.h"

static const char *
result_name(enum pair_result r)
{
	switch (r) {
	case PAIR_OK:
		return "ok";
	case PAIR_FAILED:
		return "failed";
	case PAIR_SKIPPED:
		return "skipped";
	}
	return "failed";
}

/* What changed on side s: {"copied":..,"flagged":..,...}. */
static void
add_side(struct buf *out, const struct exec_stats *st, enum side s)
{
	buf_addf(out, "{\"copied\":%zu,\"flagged\":%zu,\"expunged\":%zu,"
	    "\"trashed\":%zu,\"bytes\":%llu,\"empty\":%zu}", st->copied[s],
	    st->flagged[s], st->expunged[s], st->trashed[s],
	    (unsigned long long)st->bytes[s], st->empty[s]);
}

static void
add_outcome(struct buf *out, const struct pair_outcome *o)
{
	buf_adds(out, "{\"channel\":");
	json_add_cstr(out, o->channel);
	buf_adds(out, ",\"mailbox\":");
	json_add_cstr(out, o->name);
	buf_adds(out, ",\"far\":");
	json_add_cstr(out, o->box[SIDE_FAR]);
	buf_adds(out, ",\"near\":");
	json_add_cstr(out, o->box[SIDE_NEAR]);
	buf_addf(out, ",\"result\":\"%s\",\"far_to_near\":",
	    result_name(o->result));
	add_side(out, &o->stats, SIDE_NEAR);
	buf_adds(out, ",\"near_to_far\":");
	add_side(out, &o->stats, SIDE_FAR);
	buf_addf(out, ",\"recovered\":%zu,\"seconds\":%.3f,\"errors\":[",
	    o->stats.recovered, o->seconds);
	if (o->error != NULL)
		json_add_cstr(out, o->error);
	buf_adds(out, "]}\n");
}

int
report_write_json(const struct report *rp, FILE *out, struct buf *err)
{
	struct buf line = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < report_count(rp) && rc == 0; i++) {
		buf_reset(&line);
		add_outcome(&line, report_get(rp, i));
		if (fwrite(line.data, 1, line.len, out) != line.len)
			rc = -1;
	}
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	if (rc != 0)
		buf_setf(err, "cannot write the --json report to standard "
		    "output: %s", strerror(errno));
	buf_free(&line);
	return rc;
}
