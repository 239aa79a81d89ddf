/* verify_mailbox: one mailbox pair verified; see verify_mailbox.h. */
#include "sync/verify_mailbox.h"

#include "sync/verify.h"
#include "sync/verify_read.h"
#include "sync/verify_report.h"

int
verify_mailbox(const struct verify_job *job, struct buf *err)
{
	struct verify_side sides[2] = { { 0 }, { 0 } };
	struct verify_result res = { 0 };
	struct buf why = BUF_INIT;
	int rc = -1;

	for (int s = 0; s < 2; s++) {
		if (verify_read_side(job->store[s], job->box[s],
		    job->compare_sizes, &sides[s], &why) != 0) {
			buf_setf(err, "%s mailbox '%s': %s",
			    plan_side_name((enum side)s), job->box[s],
			    buf_cstr(&why));
			goto out;
		}
	}
	verify_compare(sides, job->compare_sizes, &res);
	verify_report(job->label, sides, &res, job->lg);
	rc = res.ndiff == 0 ? 0 : 1;
out:
	buf_free(&why);
	verify_result_free(&res);
	verify_side_free(&sides[0]);
	verify_side_free(&sides[1]);
	return rc;
}
