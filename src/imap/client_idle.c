/* client_idle: IDLE (RFC 2177) on a client; see client.h. */
#include "imap/client_int.h"

#include <string.h>

struct idle_result {
	int done;
	int ok;
	struct buf status;
};

static void
idle_done(void *ctx, const struct imap_response *r)
{
	struct idle_result *res = ctx;

	res->done = 1;
	res->ok = imap_response_is(r, "OK");
	imap_describe_status(r, &res->status);
}

/*
 * A server ends a session with BYE and then closes it. While idling,
 * nothing else would tell that it is over (a server or a middlebox that
 * holds the connection open after the BYE would keep a watcher waiting
 * for the next refresh), so the BYE itself breaks the connection.
 */
static int
idle_ended(struct imap_client *c, struct buf *err)
{
	if (!c->bye)
		return 0;
	buf_setf(err, "%s: %s", transport_peer(c->t), c->cb_err.data);
	return client_break(c, err);
}

int
imap_client_idle_start(struct imap_client *c, struct buf *err)
{
	struct idle_result res = { 0, 0, BUF_INIT };
	int rc = 0;

	if (!imap_client_has(c, CAP_IDLE)) {
		buf_setf(err, "%s does not offer IDLE", transport_peer(c->t));
		return -1;
	}
	if (imap_client_wait(c, err) != 0)
		return -1;
	client_begin(c, idle_done, &res);
	client_queues(c, "IDLE\r\n");
	c->continuation = 0;
	if (client_flush(c, err) != 0)
		return -1;
	while (rc == 0 && !c->continuation && !res.done)
		rc = client_pump(c, err);
	if (rc == 0 && res.done) {
		/* Refused: the tagged answer came instead of "+". */
		buf_setf(err, "%s: IDLE: %s", transport_peer(c->t),
		    buf_cstr(&res.status));
		rc = -1;
	}
	/* From here on the command's answer comes after DONE; nothing may
	 * point to res any more. */
	if (rc == 0)
		c->pending[c->npending - 1].done = NULL;
	c->continuation = 0;
	buf_free(&res.status);
	return rc == 0 ? idle_ended(c, err) : rc;
}

int
imap_client_idle_done(struct imap_client *c, struct buf *err)
{
	if (client_write_raw(c, "DONE\r\n", 6, 0, err) != 0)
		return -1;
	return imap_client_wait(c, err);
}

int
imap_client_fd(const struct imap_client *c)
{
	return c->broken ? -1 : transport_fd(c->t);
}

int
imap_client_buffered(const struct imap_client *c)
{
	return c->rpos < c->rlen || transport_pending(c->t);
}

int
imap_client_read(struct imap_client *c, struct buf *err)
{
	if (client_pump(c, err) != 0)
		return -1;
	return idle_ended(c, err);
}
