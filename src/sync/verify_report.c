/* verify_report: printing a verification; see verify_report.h. */
#include "sync/verify_report.h"

#include "store.h"

static void
describe_msg(const struct verify_msg *m, struct buf *out)
{
	buf_addf(out, "Date: %s; From: %s; Subject: %s; Message-ID: %s",
	    m->date, m->from, m->subject, m->msgid);
}

static void
add_flags(unsigned flags, struct buf *out)
{
	char letters[MSG_FLAG_COUNT + 1];

	msg_flags_to_letters(flags, letters);
	buf_adds(out, letters[0] ? letters : "none");
}

/* One message on one side: only there, or an extra copy. */
static void
describe_one(const struct verify_side sides[2], const struct verify_diff *d,
    struct buf *out)
{
	const struct verify_msg *m = &sides[d->side].v[d->a[d->side]];

	buf_addf(out, "%s on %s: UID %u: ", d->kind == VD_ONLY ? "only" :
	    "extra copy", side_names[d->side], m->uid);
	describe_msg(m, out);
}

/* A pair whose content or flags differ. */
static void
describe_pair(const struct verify_side sides[2], const struct verify_diff *d,
    struct buf *out)
{
	const struct verify_msg *f = &sides[SIDE_FAR].v[d->a[SIDE_FAR]];
	const struct verify_msg *n = &sides[SIDE_NEAR].v[d->a[SIDE_NEAR]];

	if (d->kind == VD_CONTENT) {
		buf_addf(out, "content differs: far UID %u, near UID %u: ",
		    f->uid, n->uid);
	} else {
		buf_addf(out, "flags differ: far UID %u (", f->uid);
		add_flags(f->flags, out);
		buf_addf(out, "), near UID %u (", n->uid);
		add_flags(n->flags, out);
		buf_adds(out, "): ");
	}
	describe_msg(f, out);
}

/* Empty files: not messages, so not differences, but said. */
static void
report_empty(const char *label, const struct verify_side sides[2],
    const struct logger *lg)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sides[s].n; i++)
			if (sides[s].v[i].empty)
				log_info(lg, "%s: empty on %s: UID %u: 0 bytes, "
				    "not a message: not compared", label,
				    side_names[s], sides[s].v[i].uid);
}

void
verify_report(const char *label, const struct verify_side sides[2],
    const struct verify_result *r, const struct logger *lg)
{
	struct buf line = BUF_INIT;

	for (size_t i = 0; i < r->ndiff; i++) {
		buf_reset(&line);
		if (r->v[i].kind == VD_ONLY || r->v[i].kind == VD_EXTRA)
			describe_one(sides, &r->v[i], &line);
		else
			describe_pair(sides, &r->v[i], &line);
		log_info(lg, "%s: %s", label, buf_cstr(&line));
	}
	report_empty(label, sides, lg);
	if (r->ndiff == 0)
		log_info(lg, "%s: %zu on far, %zu on near, %zu on both: agree",
		    label, r->n[SIDE_FAR], r->n[SIDE_NEAR], r->both);
	else
		log_info(lg, "%s: %zu on far, %zu on near, %zu on both: differ "
		    "(%zu difference%s)", label, r->n[SIDE_FAR],
		    r->n[SIDE_NEAR], r->both, r->ndiff, r->ndiff == 1 ? "" :
		    "s");
	buf_free(&line);
}
