/* verify_mailbox: one mailbox pair verified; see verify_mailbox.h. */
#include "sync/verify_mailbox.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "sync/verify.h"
#include "sync/verify_read.h"
#include "sync/verify_report.h"

/* The reading of one side, in the calling thread or another. */
struct side_read {
	struct store *store;
	const char *box;
	int sizes;
	struct verify_side *out;
	struct buf err;
	int rc;
};

static void
read_one(struct side_read *r)
{
	r->rc = verify_read_side(r->store, r->box, r->sizes, r->out, &r->err);
}

static void *
read_thread(void *arg)
{
	read_one(arg);
	return NULL;
}

/*
 * Both sides read at once: the near side in a second thread while the
 * far side's server works, since a side mostly waits (a server's answer,
 * a Maildir's files). The two stores share nothing but the logger, whose
 * streams lock each line; a capturing logger (tests) is not safe to share,
 * so then the sides are read one after the other. The second thread
 * blocks every signal: they reach the main thread, whose waits they cut
 * short (interrupt.h).
 */
static void
read_sides(const struct verify_job *job, struct side_read r[2])
{
	sigset_t all, old;
	pthread_t t;
	int started = 0;

	if (job->lg == NULL || job->lg->capture == NULL) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		started = pthread_create(&t, NULL, read_thread,
		    &r[SIDE_NEAR]) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	read_one(&r[SIDE_FAR]);
	if (started)
		pthread_join(t, NULL);
	else
		read_one(&r[SIDE_NEAR]);
}

int
verify_mailbox(const struct verify_job *job, struct buf *err)
{
	struct verify_side sides[2] = { { 0 }, { 0 } };
	struct verify_result res = { 0 };
	struct side_read r[2];
	int rc = -1;

	for (int s = 0; s < 2; s++) {
		r[s].store = job->store[s];
		r[s].box = job->box[s];
		r[s].sizes = job->compare_sizes;
		r[s].out = &sides[s];
		buf_init(&r[s].err);
		r[s].rc = 0;
	}
	read_sides(job, r);
	for (int s = 0; s < 2; s++) {
		if (r[s].rc != 0) {
			buf_setf(err, "%s mailbox '%s': %s",
			    side_names[s], job->box[s],
			    buf_cstr(&r[s].err));
			goto out;
		}
	}
	verify_compare(sides, job->compare_sizes, &res);
	verify_report(job->label, sides, &res, job->lg);
	rc = res.ndiff == 0 ? 0 : 1;
out:
	for (int s = 0; s < 2; s++) {
		buf_free(&r[s].err);
		verify_side_free(&sides[s]);
	}
	verify_result_free(&res);
	return rc;
}
