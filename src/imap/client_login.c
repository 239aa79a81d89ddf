/*
 * client_login: opening a client: greeting, STARTTLS, capabilities and
 * authentication; closing it with LOGOUT. See client.h.
 */
#include "imap/client_int.h"

#include <stdlib.h>
#include <string.h>

#include "imap/auth.h"
#include "imap/sasl.h"
#include "imap/secret.h"

int
client_greeting(struct imap_client *c, struct buf *err)
{
	while (!c->greeted)
		if (client_pump(c, err) != 0) {
			buf_setf(err, "%s (waiting for the server's greeting)",
			    c->err_text.data);
			buf_setf(&c->err_text, "%s", err->data);
			return -1;
		}
	if (c->greeted == 3) {
		buf_setf(err, "%s: the server refused the connection: %s",
		    transport_peer(c->t), buf_cstr(&c->greeting_text));
		return client_break(c, err);
	}
	return 0;
}

int
client_capability(struct imap_client *c, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "CAPABILITY");
	rc = imap_client_simple(c, &l, err);
	imap_cmd_free(&l);
	return rc;
}

struct tagged_status {
	int ok;
	int auth_failed;	/* [AUTHENTICATIONFAILED] (RFC 5530) */
	struct buf text;
};

static void
status_done(void *ctx, const struct imap_response *r)
{
	struct tagged_status *st = ctx;

	st->ok = imap_response_is(r, "OK");
	st->auth_failed = r->code != NULL &&
	    imap_atom_is(r->code->child, "AUTHENTICATIONFAILED");
	imap_describe_status(r, &st->text);
}

/* Send a command whose OK switches the stream to another layer: read
 * nothing past the OK line, so no byte of the old layer leaks into the
 * new one (and no injected plaintext is taken for protected data). */
static int
switching_command(struct imap_client *c, const char *cmd, struct buf *err)
{
	struct tagged_status st = { 0, 0, BUF_INIT };
	int rc = 0;

	client_begin(c, status_done, &st);
	client_queues(c, cmd);
	client_queues(c, "\r\n");
	c->bytewise = 1;
	if (client_flush(c, err) != 0 || imap_client_wait(c, err) != 0)
		rc = -1;
	c->bytewise = 0;
	if (rc == 0 && !st.ok) {
		buf_setf(err, "%s: %s: %s", transport_peer(c->t), cmd,
		    st.text.data);
		rc = -1;
	} else if (rc == 0 && c->rpos < c->rlen) {
		buf_setf(err, "%s: the server sent data after its %s reply; "
		    "refusing to continue", transport_peer(c->t), cmd);
		rc = client_break(c, err);
	}
	buf_free(&st.text);
	return rc;
}

int
client_starttls(struct imap_client *c, struct buf *err)
{
	if (c->greeted == 2) {
		buf_setf(err, "%s: the server logged us in before STARTTLS "
		    "(PREAUTH); refusing to continue without TLS",
		    transport_peer(c->t));
		return client_break(c, err);
	}
	if (c->caps_updates == 0 && client_capability(c, err) != 0)
		return -1;
	if (!imap_client_has(c, CAP_STARTTLS)) {
		buf_setf(err, "%s: the server does not offer STARTTLS; "
		    "refusing to continue without TLS (TLSType STARTTLS)",
		    transport_peer(c->t));
		return client_break(c, err);
	}
	if (switching_command(c, "STARTTLS", err) != 0)
		return -1;
	if (transport_start_tls(c->t, err) != 0)
		return client_break(c, err);
	/* What the server said before TLS cannot be trusted. */
	imap_caps_clear(&c->caps);
	c->caps_updates = 0;
	return client_capability(c, err);
}

/* COMPRESS=DEFLATE, after login as RFC 4978 requires. */
static int
client_compress(struct imap_client *c, struct buf *err)
{
	if (switching_command(c, "COMPRESS DEFLATE", err) != 0)
		return -1;
	if (transport_start_deflate(c->t, err) != 0)
		return client_break(c, err);
	log_debug(c->lg, "%s: compression enabled", transport_peer(c->t));
	return 0;
}

static int
ask_password(const char *peer, const char *user, struct buf *out,
    struct buf *err)
{
	struct buf prompt = BUF_INIT;
	int rc;

	buf_setf(&prompt, "Password for %s at %s: ", user, peer);
	rc = imap_ask_password(prompt.data, out, err);
	if (rc != 0) {
		buf_setf(&prompt, "%s: %s", peer, buf_cstr(err));
		buf_setf(err, "%s", prompt.data);
	}
	buf_free(&prompt);
	return rc;
}

/* user is the user name already known, for a password prompt. */
static int
get_credential(const char *value, const char *cmd, const char *key,
    const char *cmdkey, const struct imap_client_options *o,
    const char *peer, const char *user, struct buf *out, struct buf *err)
{
	if (value != NULL) {
		buf_reset(out);
		buf_grow(out, strlen(value));	/* never moved */
		buf_adds(out, value);
		return 0;
	}
	if (cmd != NULL && o->secrets != NULL)
		return imap_secrets_get(o->secrets, cmdkey, cmd, out, err);
	if (cmd != NULL)
		return imap_run_secret_cmd(cmdkey, cmd, out, err);
	if (strcmp(key, "Pass") == 0)
		return ask_password(peer, user, out, err);
	buf_setf(err, "%s: no %s or %s configured", peer, key, cmdkey);
	return -1;
}

/* The answer to one "+": the initial response when the server asked
 * for it, else the mechanism's answer; after a failure, cancel ("*").
 * Every answer but the cancel is a secret for the trace. */
static int
answer(struct imap_client *c, struct sasl *x, const struct buf *ir,
    int *ir_due, enum sasl_status *fail, struct buf *why, struct buf *err)
{
	struct buf resp = BUF_INIT;
	int rc, cancel = 0;

	if (*ir_due) {
		*ir_due = 0;
		buf_add(&resp, ir->data, ir->len);
	} else if (*fail == SASL_OK) {
		*fail = sasl_answer(x, buf_cstr(&c->cont_text),
		    c->cont_text.len, &resp, why);
		if (*fail != SASL_OK)
			buf_setf(&resp, "*");
		cancel = *fail != SASL_OK;
	} else {
		cancel = 1;	/* cancelled already: an empty line */
	}
	rc = client_write_raw(c, buf_cstr(&resp), resp.len, !cancel,
	    err) != 0 || client_write_raw(c, "\r\n", 2, 0, err) != 0 ?
	    -1 : 0;
	buf_wipe(&resp);
	return rc;
}

/* AUTHENTICATE with the initial response in the command (SASL-IR) or
 * after the first "+", then the mechanism's answers to the server's
 * challenges. A failure of ours cancels the exchange; *fail tells it. */
static int
authenticate(struct imap_client *c, struct sasl *x, struct tagged_status *st,
    enum sasl_status *fail, struct buf *why, struct buf *err)
{
	struct buf ir = BUF_INIT;
	const char *tag;
	char t[16];
	int has_ir, ir_due, rc = -1;

	*fail = sasl_initial(x, &ir, &has_ir, why);
	if (*fail != SASL_OK) {
		rc = 0;		/* nothing sent: the failure is ours */
		goto out;
	}
	ir_due = has_ir && !imap_client_has(c, CAP_SASL_IR);
	tag = client_begin(c, status_done, st);
	memcpy(t, tag, sizeof t);
	client_queues(c, "AUTHENTICATE ");
	client_queues(c, imap_auth_name(x->m));
	if (has_ir && !ir_due) {
		client_queues(c, " ");
		client_queue(c, ir.data, ir.len, 1);
	}
	client_queues(c, "\r\n");
	c->continuation = 0;
	if (client_flush(c, err) != 0)
		goto out;
	while (client_is_pending(c, t)) {
		if (client_pump(c, err) != 0)
			goto out;
		if (!c->continuation)
			continue;
		c->continuation = 0;
		if (answer(c, x, &ir, &ir_due, fail, why, err) != 0)
			goto out;
	}
	rc = 0;
out:
	buf_wipe(&ir);
	return rc;
}

static int
login_command(struct imap_client *c, const char *user, const char *pass,
    struct tagged_status *st, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "LOGIN ");
	imap_cmd_add_string(&l, user, 0);
	imap_cmd_add(&l, " ");
	imap_cmd_add_string(&l, pass, 1);
	rc = imap_client_submit(c, &l, status_done, st, err);
	imap_cmd_free(&l);
	return rc == 0 ? imap_client_wait(c, err) : -1;
}

static unsigned
port_of(const struct imap_client_options *o)
{
	if (o->tr.port != NULL)
		return (unsigned)strtoul(o->tr.port, NULL, 10);
	return o->tr.port_number;
}

/* The exchange, then its verdict: ours (a failed mechanism, a server
 * that did not prove itself) before the server's. */
static int
sasl_login(struct imap_client *c, enum imap_auth_mech m, const char *user,
    const char *secret, const struct imap_client_options *o,
    struct tagged_status *st, struct buf *why, struct buf *err)
{
	struct sasl x;
	enum sasl_status fail;
	int rc;

	sasl_init(&x, m, user, secret, o->tr.host, port_of(o));
	rc = authenticate(c, &x, st, &fail, why, err);
	if (rc == 0 && fail == SASL_OK && st->ok)
		fail = sasl_complete(&x, why);
	sasl_free(&x);
	if (rc == 0 && fail != SASL_OK)
		return 1;
	return rc;
}

/* 0 logged in; 1 the server refused (err says how); -1 any other
 * failure, ours included. */
static int
do_login(struct imap_client *c, enum imap_auth_mech m, const char *user,
    const char *secret, const struct imap_client_options *o,
    struct buf *err)
{
	struct tagged_status st = { 0, 0, BUF_INIT };
	struct buf why = BUF_INIT;
	int rc;

	log_verbose(c->lg, "%s: logging in as %s with %s",
	    transport_peer(c->t), user, imap_auth_name(m));
	if (m == AUTH_LOGIN)
		rc = login_command(c, user, secret, &st, err);
	else
		rc = sasl_login(c, m, user, secret, o, &st, &why, err);
	if (rc == 1) {
		buf_setf(err, "%s: login as %s with %s failed: %s",
		    transport_peer(c->t), user, imap_auth_name(m), why.data);
		rc = -1;
	} else if (rc == 0 && !st.ok) {
		buf_setf(err, "%s: login as %s with %s failed: %s%s",
		    transport_peer(c->t), user, imap_auth_name(m),
		    st.text.data, st.auth_failed ? "; check User and Pass or "
		    "PassCmd" : "");
		rc = 1;
	}
	buf_free(&why);
	buf_free(&st.text);
	return rc;
}

/* Log in with m; when the server refuses a mechanism it may offer
 * without being able to check (imap_auth_next()), go on down the list.
 * Each refusal but the last is said under -V; the last is the error. */
static int
login_any(struct imap_client *c, const struct imap_client_options *o,
    enum imap_auth_mech m, int secure, const char *user, const char *secret,
    struct buf *err)
{
	struct buf later = BUF_INIT;
	enum imap_auth_mech next;
	int rc = do_login(c, m, user, secret, o, err);

	while (rc == 1 &&
	    imap_auth_next(o->auth_mechs, &c->caps, secure, m, &next) == 0) {
		log_verbose(c->lg, "%s; trying %s", err->data,
		    imap_auth_name(next));
		m = next;
		rc = do_login(c, m, user, secret, o, &later);
		if (rc != 0)
			buf_setf(err, "%s", later.data);
		buf_reset(&later);
	}
	buf_free(&later);
	return rc == 0 ? 0 : -1;
}

int
client_login(struct imap_client *c, const struct imap_client_options *o,
    struct buf *err)
{
	struct buf user = BUF_INIT, secret = BUF_INIT;
	enum imap_auth_mech m;
	int secure = transport_is_tls(c->t) || o->tr.tunnel != NULL;
	unsigned before;
	int rc = -1;

	if (c->caps_updates == 0 && client_capability(c, err) != 0)
		return -1;
	if (imap_auth_choose(o->auth_mechs, &c->caps, secure,
	    transport_peer(c->t), &m, err) != 0)
		return -1;
	if (get_credential(o->user, o->user_cmd, "User", "UserCmd", o,
	    transport_peer(c->t), NULL, &user, err) != 0 ||
	    get_credential(o->pass, o->pass_cmd, "Pass", "PassCmd", o,
	    transport_peer(c->t), user.data, &secret, err) != 0)
		goto out;
	before = c->caps_updates;
	if (login_any(c, o, m, secure, user.data, secret.data, err) != 0)
		goto out;
	/* The server may offer more once we are logged in. */
	rc = c->caps_updates != before ? 0 : client_capability(c, err);
out:
	buf_wipe(&secret);
	buf_free(&user);
	return rc;
}

static void
enable_done(void *ctx, const struct imap_response *r)
{
	struct imap_client *c = ctx;

	c->enable_pending = 0;
	if (!imap_response_is(r, "OK")) {
		c->enabled = 0;
		log_debug(c->lg, "%s: ENABLE QRESYNC refused; expunges come "
		    "as EXPUNGE", transport_peer(c->t));
	}
}

/* ENABLE QRESYNC (RFC 7162 §3.2.3) where offered, sent without waiting
 * for its answer: the next command's round trip brings it. QRESYNC
 * implies CONDSTORE, so a user who disabled CONDSTORE gets neither. */
int
client_enable(struct imap_client *c, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	if (!imap_client_has(c, CAP_ENABLE) ||
	    !imap_client_has(c, CAP_QRESYNC) ||
	    !imap_client_has(c, CAP_CONDSTORE))
		return 0;
	imap_cmd_init(&l);
	imap_cmd_add(&l, "ENABLE QRESYNC");
	c->enable_pending = 1;
	rc = imap_client_submit(c, &l, enable_done, c, err);
	imap_cmd_free(&l);
	return rc;
}

static int
open_session(struct imap_client *c, const struct imap_client_options *o,
    struct buf *err)
{
	if (client_greeting(c, err) != 0)
		return -1;
	if (o->tr.tls == TLS_STARTTLS && client_starttls(c, err) != 0)
		return -1;
	if (c->greeted != 2 && client_login(c, o, err) != 0)
		return -1;
	if (c->greeted == 2 && c->caps_updates == 0 &&
	    client_capability(c, err) != 0)
		return -1;
	if (imap_caps_disable(&c->caps, o->disabled_exts, err) != 0)
		return -1;
	if (imap_client_has(c, CAP_COMPRESS) && client_compress(c, err) != 0)
		return -1;
	return client_enable(c, err);
}

/* The connection's name in the trace: label, else the server's. */
static void
start_traces(struct imap_client *c, const char *label)
{
	const char *name = label != NULL ? label : transport_peer(c->t);

	imap_trace_init(&c->tr_out, c->lg, name, ">>");
	imap_trace_init(&c->tr_in, c->lg, name, "<<");
	if (label != NULL)
		log_trace(c->lg, "%s: connected to %s%s", label,
		    transport_peer(c->t), transport_is_tls(c->t) ?
		    " over TLS" : "");
}

struct imap_client *
imap_client_open(const struct imap_client_options *o,
    const struct logger *lg, struct buf *err)
{
	struct imap_client *c;
	struct transport *t = transport_open(&o->tr, err);

	if (t == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->t = t;
	c->lg = lg;
	start_traces(c, o->label);
	c->depth = o->pipeline_depth > 0 ? (size_t)o->pipeline_depth :
	    IMAP_PIPELINE_MAX;
	client_reset_parser(c);
	if (open_session(c, o, err) != 0) {
		imap_client_free(c);
		return NULL;
	}
	return c;
}

/*
 * LOGOUT is sent, not waited for: its BYE and OK tell nothing a run
 * needs (what the run did was journalled from the answers to the
 * commands before it), and waiting would cost a round trip at the end
 * of every run. The connection is then closed as transport_close()
 * does it: over TLS after our close_notify, which TLS does not require
 * to wait for the server's; a tunnel is given its grace to exit. A
 * server sees a complete LOGOUT, then the end of the connection.
 */
static void
logout(struct imap_client *c)
{
	struct imap_cmdline l;
	struct buf err = BUF_INIT;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "LOGOUT");
	c->corked = 0;		/* it leaves now, with anything held */
	if (imap_client_submit(c, &l, NULL, NULL, &err) != 0)
		log_debug(c->lg, "%s", err.data);
	imap_cmd_free(&l);
	buf_free(&err);
}

void
imap_client_free(struct imap_client *c)
{
	if (c == NULL)
		return;
	if (!c->broken && c->greeted && c->greeted != 3)
		logout(c);
	imap_trace_free(&c->tr_out);
	imap_trace_free(&c->tr_in);
	imap_parser_free(c->parser);
	transport_free(c->t);
	imap_caps_clear(&c->caps);
	free(c->pending);
	buf_free(&c->greeting_text);
	buf_free(&c->cont_text);
	buf_free(&c->err_text);
	buf_free(&c->cb_err);
	buf_wipe(&c->wbuf);
	free(c);
}
