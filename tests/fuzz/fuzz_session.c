/*
 * libFuzzer harness for an IMAP store session: a real store (imap_store_new()
 * and the store_ops of store_imap*.c, over the real client, transport and
 * parser) against a server whose answers are the fuzz input.
 *
 * Input: three option bytes, then the server's replies, separated by a line
 * "@@" (the three bytes "@@\n" at the start of the input or after a '\n';
 * the '\n' before them belongs to the reply). A '$' at the start of a
 * reply's line, or quoted ("$", as ESEARCH's TAG), stands for the tag of
 * the command it answers. "%%" and a byte b stand for (b + 1) KiB of
 * message lines (for literals the client streams: {N} of the right size
 * around them).
 *
 * The server is not another thread or process: the binary is linked with
 * -Wl,--wrap=net_connect,--wrap=net_wait. net_connect() hands the client
 * one end of a socketpair; each time the client is about to wait for the
 * server (net_wait()), the server's end is read first and split into the
 * client's lines: every command line (and every line that ends with a
 * synchronizing literal) takes the next reply, with its tag. A client
 * that waits with no line left unanswered gets the next reply anyway
 * (the rest of a long answer); once the replies are used up the server
 * shuts its end, so the client sees the connection closed. Once a
 * COMPRESS DEFLATE is answered OK, the server inflates what the client
 * sends and deflates its replies. Nothing depends on timing: every run
 * of an input is the same, and no wait reaches the Timeout.
 *
 * The session then does what a sync does with the store: list, peek,
 * mark (so that open() asks with QRESYNC), open_begin and open, scan or
 * scan_changes, fetch and fetch_headers (into a sink as strict as the
 * sync core's), set_flags, expunge or update, an append and its commit,
 * trash and trash_in, IDLE, a rebind, the open of a second mailbox,
 * create, remove; or NOTIFY as watch mode does; and free. As the sync
 * core does, a mailbox whose open failed is left, and a store whose
 * connection failed is freed. Every failure must come with a message;
 * the sanitizers and LeakSanitizer do the rest.
 *
 * Option bytes:
 *   0: bits 0-1 a built-in greeting and login before the replies
 *      (0 none, 1 Dovecot-like, 2 a bare IMAP4rev1 server, 3 Dovecot
 *      without QRESYNC); 4 mark; 8 open_begin; 16 protocol trace;
 *      32 SubscribedOnly; 64 no UseNamespace; 128 COMPRESS allowed
 *   1: bits 0-1 PipelineDepth; 4 PathDelimiter '/'; 8 Path "Mail/";
 *      16 IDLE; 32 a second mailbox; 64 update() in place of set_flags()
 *      and expunge(); 128 trash
 *   2: 1 trash_in; 2 remove; 4 NOTIFY (watch mode) in place of the
 *      mailboxes; 8 rebind to another IMAPStore before the second
 *      mailbox; 16 UIDs to fetch not ascending; 32 scan without a hint;
 *      64 peek at another mailbox first (a STATUS burst); 128 a mark
 *      without messages
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zlib.h>

#include "imap/net.h"
#include "imap/store_imap.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_net_connect(const char *host, const char *port, int timeout,
    const interrupt_flag *stop, struct buf *err);
int __real_net_wait(int fd, short events, int timeout,
    const interrupt_flag *stop);
int __wrap_net_wait(int fd, short events, int timeout,
    const interrupt_flag *stop);

#define MAX_PENDING 256
#define TAG_MAX 32
#define LINE_MAX_KEEP 4096

struct fake_server {
	const uint8_t *in;	/* replies not yet sent */
	size_t in_len;
	const char *const *prefix;	/* built-in replies, sent first */
	int fd;			/* the server's end, -1 if none */
	int client_fd;
	int shut;
	struct buf out;		/* bytes to send */
	size_t out_pos;
	struct buf line;	/* the client's line so far */
	uint64_t skip;		/* literal bytes to pass over */
	int in_command;		/* the line continues a command (a literal
				   came before) */
	int cont_sent;		/* a reply since the client's last line
				   asked for more ("+") */
	char tag[TAG_MAX];	/* of the command being answered */
	char cmd_tag[TAG_MAX];	/* of the command being read */
	char pending[MAX_PENDING][TAG_MAX];
	int pending_compress[MAX_PENDING];	/* a COMPRESS DEFLATE */
	size_t npending;
	int answering_compress;
	int z_on;		/* COMPRESS DEFLATE took effect */
	z_stream zin, zout;
};

static struct fake_server srv = { .fd = -1, .client_fd = -1 };

/* What the store logged in this run (see FUZZ_SESSION_LOG below). */
static struct buf *run_log;

static void
check(int ok, const char *what)
{
	if (!ok) {
		if (run_log != NULL && getenv("FUZZ_SESSION_LOG") != NULL)
			fprintf(stderr, "%s", buf_cstr(run_log));
		fprintf(stderr, "fuzz_session: check failed: %s\n", what);
		abort();
	}
}

static const char *const prefix_dovecot[] = {
	"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
	"LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
	"$ OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
	"SORT THREAD=REFERENCES MULTIAPPEND URL-PARTIAL CATENATE UNSELECT "
	"CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE "
	"QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "
	"BINARY MOVE SNIPPET=FUZZY LITERAL+ NOTIFY SPECIAL-USE] "
	"Logged in\r\n",
	NULL
};

static const char *const prefix_bare[] = {
	"* OK IMAP4rev1 server ready\r\n",
	"* CAPABILITY IMAP4rev1 AUTH=LOGIN\r\n$ OK CAPABILITY done\r\n",
	"$ OK LOGIN done\r\n",
	"* CAPABILITY IMAP4rev1\r\n$ OK CAPABILITY done\r\n",
	NULL
};

static const char *const prefix_condstore[] = {
	"* OK [CAPABILITY IMAP4rev1 SASL-IR ENABLE IDLE LITERAL+ "
	"AUTH=PLAIN] Dovecot ready.\r\n",
	"$ OK [CAPABILITY IMAP4rev1 SASL-IR ENABLE IDLE NAMESPACE UIDPLUS "
	"CONDSTORE ESEARCH LIST-STATUS MOVE LITERAL+] Logged in\r\n",
	NULL
};

static void
check_z(int ok)
{
	check(ok, "zlib in the fake server");
}

/* The next reply: a built-in one, else up to the next "@@\n" line. */
static int
next_reply(const char **p, size_t *n)
{
	if (srv.prefix != NULL && *srv.prefix != NULL) {
		*p = *srv.prefix++;
		*n = strlen(*p);
		return 1;
	}
	if (srv.in_len == 0)
		return 0;
	*p = (const char *)srv.in;
	for (size_t i = 0; i + 3 <= srv.in_len; i++)
		if ((i == 0 || srv.in[i - 1] == '\n') &&
		    memcmp(srv.in + i, "@@\n", 3) == 0) {
			*n = i;
			srv.in += i + 3;
			srv.in_len -= i + 3;
			return 1;
		}
	*n = srv.in_len;
	srv.in += srv.in_len;
	srv.in_len = 0;
	return 1;
}

/* "%%" and a byte b: (b + 1) KiB of message lines, so that a short input
 * can hold a literal beyond the parser's inline limit (64 KiB), which
 * the client streams. */
static void
filler(struct buf *out, unsigned char b)
{
	static const char line[] = "Lorem ipsum dolor sit amet, consectetur "
	    "adipiscing elit, sed d\r\n";

	for (unsigned i = 0; i < (b + 1u) * 16; i++)
		buf_add(out, line, sizeof line - 1);
}

/* Queue one reply, a '$' at a line's start made the tag. */
/* Once COMPRESS DEFLATE took effect, the server's bytes are raw DEFLATE,
 * each reply flushed (Z_SYNC_FLUSH) as a server does. */
static void
compress_start(void)
{
	memset(&srv.zin, 0, sizeof srv.zin);
	memset(&srv.zout, 0, sizeof srv.zout);
	check_z(inflateInit2(&srv.zin, -15) == Z_OK &&
	    deflateInit2(&srv.zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	srv.z_on = 1;
}

static void
compress_out(const struct buf *plain)
{
	unsigned char chunk[16384];

	srv.zout.next_in = (unsigned char *)plain->data;
	srv.zout.avail_in = (uInt)plain->len;
	do {
		srv.zout.next_out = chunk;
		srv.zout.avail_out = sizeof chunk;
		check_z(deflate(&srv.zout, Z_SYNC_FLUSH) != Z_STREAM_ERROR);
		buf_add(&srv.out, chunk, sizeof chunk - srv.zout.avail_out);
	} while (srv.zout.avail_out == 0);
}

/* 1 if the reply holds the tagged OK of the command it answers. */
static int
reply_ok(const struct buf *r)
{
	struct buf ok = BUF_INIT;
	int yes;

	buf_setf(&ok, "\n%s OK", srv.tag);
	yes = (r->len >= ok.len - 1 &&
	    memcmp(r->data, ok.data + 1, ok.len - 1) == 0) ||
	    (r->len > 0 && memmem(r->data, r->len, ok.data, ok.len) != NULL);
	buf_free(&ok);
	return yes;
}

static int
queue_reply(void)
{
	struct buf plain = BUF_INIT;
	const char *p;
	size_t n;
	int bol = 1;

	if (!next_reply(&p, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (bol && p[i] == '$')
			buf_adds(&plain, srv.tag);
		else if (p[i] == '"' && i + 2 < n && p[i + 1] == '$' &&
		    p[i + 2] == '"') {
			buf_addf(&plain, "\"%s\"", srv.tag);
			i += 2;
		} else if (p[i] == '%' && i + 2 < n && p[i + 1] == '%') {
			filler(&plain, (unsigned char)p[i + 2]);
			i += 2;
		}
		else
			buf_addc(&plain, p[i]);
		if (bol && p[i] == '+')
			srv.cont_sent = 1;
		bol = p[i] == '\n';
	}
	if (srv.z_on)
		compress_out(&plain);
	else if (plain.len > 0)
		buf_add(&srv.out, plain.data, plain.len);
	if (srv.answering_compress && !srv.z_on && reply_ok(&plain))
		compress_start();
	buf_free(&plain);
	return 1;
}

static void
copy_tag(char *to, const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && i < TAG_MAX - 1 && line[i] != ' ' &&
	    line[i] != '\r' && line[i] != '\n') {
		to[i] = line[i];
		i++;
	}
	to[i] = '\0';
}

static void
add_pending(const char *tag, int compress)
{
	if (srv.npending < MAX_PENDING) {
		srv.pending_compress[srv.npending] = compress;
		snprintf(srv.pending[srv.npending++], TAG_MAX, "%s", tag);
	}
}

/* A literal announced at the end of the line: its size, and whether the
 * client waits for "+" before sending it. 0 if there is none. */
static int
line_literal(const struct buf *l, uint64_t *size, int *sync)
{
	const char *s = l->data;
	size_t n = l->len, i;
	uint64_t v = 0;

	if (n < 5 || s[n - 1] != '\n' || s[n - 2] != '\r' || s[n - 3] != '}')
		return 0;
	i = n - 4;
	*sync = 1;
	if (s[i] == '+' || s[i] == '-') {
		*sync = 0;
		i--;
	}
	if (s[i] < '0' || s[i] > '9')
		return 0;
	while (i > 0 && s[i] >= '0' && s[i] <= '9')
		i--;
	if (s[i] != '{')
		return 0;
	for (size_t j = i + 1; s[j] >= '0' && s[j] <= '9'; j++)
		v = v * 10 + (uint64_t)(s[j] - '0');
	*size = v;
	return 1;
}

/* One whole line of the client (up to its '\n'). */
static void
client_line(void)
{
	uint64_t size;
	int sync, lit = line_literal(&srv.line, &size, &sync);

	if (!srv.in_command) {
		/* A line after a "+" continues the command answered. */
		if (srv.cont_sent)
			snprintf(srv.cmd_tag, TAG_MAX, "%s", srv.tag);
		else
			copy_tag(srv.cmd_tag, srv.line.data, srv.line.len);
	}
	srv.cont_sent = 0;
	if (lit) {
		srv.skip = size;
		srv.in_command = 1;
		if (sync)
			add_pending(srv.cmd_tag, 0);
	} else {
		srv.in_command = 0;
		add_pending(srv.cmd_tag, memmem(srv.line.data, srv.line.len,
		    " COMPRESS DEFLATE\r\n", 19) != NULL);
	}
	buf_reset(&srv.line);
}

static void
take_bytes(const char *b, size_t r)
{
	for (size_t i = 0; i < r; i++) {
		if (srv.skip > 0) {
			srv.skip--;
			continue;
		}
		if (srv.line.len < LINE_MAX_KEEP || b[i] == '\n' ||
		    b[i] == '\r' || b[i] == '}' ||
		    (b[i] >= '0' && b[i] <= '9') || b[i] == '{' ||
		    b[i] == '+' || b[i] == '-')
			buf_addc(&srv.line, b[i]);
		if (b[i] == '\n')
			client_line();
	}
}

static void
take_input(void)
{
	char b[8192], plain[16384];
	ssize_t r;
	int zr;

	for (;;) {
		r = recv(srv.fd, b, sizeof b, MSG_DONTWAIT);
		if (r <= 0)
			return;
		if (!srv.z_on) {
			take_bytes(b, (size_t)r);
			continue;
		}
		srv.zin.next_in = (unsigned char *)b;
		srv.zin.avail_in = (uInt)r;
		do {
			srv.zin.next_out = (unsigned char *)plain;
			srv.zin.avail_out = sizeof plain;
			zr = inflate(&srv.zin, Z_SYNC_FLUSH);
			take_bytes(plain, sizeof plain - srv.zin.avail_out);
		} while (zr == Z_OK && srv.zin.avail_out == 0);
	}
}

static void
send_output(void)
{
	while (srv.out_pos < srv.out.len) {
		ssize_t w = send(srv.fd, srv.out.data + srv.out_pos,
		    srv.out.len - srv.out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			return;
		srv.out_pos += (size_t)w;
	}
	buf_reset(&srv.out);
	srv.out_pos = 0;
}

/* The client is about to wait for events on its end. */
static void
server_step(short events)
{
	take_input();
	if (!(events & POLLIN) || srv.shut)
		return;
	if (srv.out_pos < srv.out.len) {
		send_output();
		return;
	}
	if (srv.npending == 0) {
		if (!queue_reply()) {
			shutdown(srv.fd, SHUT_WR);
			srv.shut = 1;
			return;
		}
	}
	for (size_t i = 0; i < srv.npending; i++) {
		snprintf(srv.tag, TAG_MAX, "%s", srv.pending[i]);
		srv.answering_compress = srv.pending_compress[i];
		if (!queue_reply())
			break;
	}
	srv.answering_compress = 0;
	srv.npending = 0;
	if (srv.out.len == 0) {
		shutdown(srv.fd, SHUT_WR);
		srv.shut = 1;
		return;
	}
	send_output();
}

int
__wrap_net_connect(const char *host, const char *port, int timeout,
    const interrupt_flag *stop, struct buf *err)
{
	int sv[2];

	(void)timeout;
	(void)stop;
	if (srv.fd >= 0) {
		buf_setf(err, "%s port %s: the fake server takes one "
		    "connection", host, port);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0) {
		buf_setf(err, "socketpair: %s", strerror(errno));
		return -1;
	}
	srv.fd = sv[1];
	srv.client_fd = sv[0];
	return sv[0];
}

int
__wrap_net_wait(int fd, short events, int timeout,
    const interrupt_flag *stop)
{
	if (srv.fd >= 0 && fd == srv.client_fd)
		server_step(events);
	return __real_net_wait(fd, events, timeout, stop);
}

/* ---- the session ---- */

/*
 * A sink as strict as the sync core's (sync/copy.c): each message asked
 * for at most once, in the order asked; anything else is refused with a
 * message, which the fetch must then fail with.
 */
struct sink_state {
	const uint32_t *uids;	/* asked for, in order */
	size_t n;
	size_t next;		/* first that may still begin */
	int in_msg;
	unsigned begun, ended, gone, failed;
	uint64_t bytes, sum;
	struct buf *log;	/* with the trace: what the sink was told */
};

static int
sink_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct sink_state *k = ctx;
	size_t i = k->next;

	check(meta != NULL && meta->uid != 0, "sink: begin without a UID");
	while (i < k->n && k->uids[i] != meta->uid)
		i++;
	if (k->in_msg || i == k->n) {
		buf_setf(err, "store sent message UID %u, which was not "
		    "asked for%s", meta->uid, k->in_msg ? " (inside another "
		    "message)" : "");
		return -1;
	}
	k->next = i + 1;
	k->in_msg = 1;
	k->begun++;
	k->bytes = 0;
	if (k->log != NULL)
		buf_addf(k->log, "sink: begin UID %u\n", meta->uid);
	return 0;
}

static int
sink_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct sink_state *k = ctx;

	(void)err;
	check(k->in_msg, "sink: data outside a message");
	k->bytes += n;
	if (n > 0)
		k->sum += (unsigned char)p[0] + (unsigned char)p[n - 1];
	return 0;
}

static int
sink_end(void *ctx, struct buf *err)
{
	struct sink_state *k = ctx;

	(void)err;
	check(k->in_msg, "sink: end outside a message");
	k->in_msg = 0;
	k->ended++;
	if (k->log != NULL)
		buf_addf(k->log, "sink: end, %llu bytes\n",
		    (unsigned long long)k->bytes);
	return 0;
}

static void
sink_gone(void *ctx, uint32_t uid)
{
	struct sink_state *k = ctx;

	check(uid != 0, "sink: gone without a UID");
	k->gone++;
	if (k->log != NULL)
		buf_addf(k->log, "sink: gone UID %u\n", uid);
}

static void
sink_failed(void *ctx, uint32_t uid, const char *why)
{
	struct sink_state *k = ctx;

	check(uid != 0 && why != NULL, "sink: failed without UID or why");
	k->failed++;
	if (k->log != NULL)
		buf_addf(k->log, "sink: failed UID %u: %s\n", uid, why);
}

struct session {
	struct store *s;
	struct buf err;
	int dead;		/* the connection failed: free the store */
	struct buf *log;	/* the failures go there too */
};

/* After a store call: a failure has its message; 1 if the mailbox (or
 * the store) is to be left. */
static int
failed(struct session *x, int rc)
{
	if (rc == 0 || rc == 1)
		return 0;
	check(rc == -1, "a store function returned neither 0 nor -1");
	check(x->err.len > 0 && x->err.data[0] != '\0',
	    "a failure without a message");
	if (store_failure(x->s) != STORE_FAIL_MAILBOX)
		x->dead = 1;
	buf_addf(x->log, "failed%s: %s\n", x->dead ? " (connection)" : "",
	    x->err.data);
	buf_reset(&x->err);
	return 1;
}

static const char test_msg[] =
	"From: a@example.org\r\nTo: b@example.org\r\nSubject: fuzz\r\n"
	"Message-ID: <fuzz@example.org>\r\n\r\nHello.\r\n";

static void
session_append(struct session *x)
{
	struct msg_meta meta = { .uid = 9, .flags = MSG_SEEN | MSG_FLAGGED,
	    .size = sizeof test_msg - 1, .date = 1700000000 };
	struct store_append *a = NULL;
	struct append_result *res = NULL;
	size_t nres = 0;
	uint32_t planned = 0;
	int rc;

	rc = x->s->ops->append_begin(x->s, &meta, &a, &planned, &x->err);
	if (failed(x, rc))
		return;
	rc = x->s->ops->append_write(a, test_msg, 20, &x->err);
	if (rc == 0)
		rc = x->s->ops->append_write(a, test_msg + 20,
		    sizeof test_msg - 1 - 20, &x->err);
	if (rc != 0) {
		x->s->ops->append_cancel(a);
		failed(x, rc);
		return;
	}
	if (failed(x, x->s->ops->append_finish(a, &x->err)))
		return;
	rc = x->s->ops->commit(x->s, &res, &nres, &x->err);
	for (size_t i = 0; i < nres; i++)
		check(res[i].status != STORE_REFUSED || res[i].why.len > 0,
		    "a refused append without why");
	append_results_free(res, nres);
	failed(x, rc);
}

/* TrashRemoteNew: a message of the other store into this one's Trash. */
static void
session_trash_in(struct session *x)
{
	struct msg_meta meta = { .uid = 5, .flags = MSG_DELETED,
	    .size = sizeof test_msg - 1, .date = 1700000000 };
	FILE *f = tmpfile();

	check(f != NULL, "tmpfile");
	check(fwrite(test_msg, 1, sizeof test_msg - 1, f) ==
	    sizeof test_msg - 1 && fflush(f) == 0, "tmpfile write");
	failed(x, x->s->ops->trash_in(x->s, "Trash", &meta, fileno(f),
	    sizeof test_msg - 1, &x->err));
	fclose(f);
}

/* Watch mode with NOTIFY, on a connection that does nothing else. */
static void
session_notify(struct session *x)
{
	struct strlist boxes = { NULL, 0, 0 }, changed = { NULL, 0, 0 };
	int rc;

	strlist_add(&boxes, "INBOX");
	strlist_add(&boxes, "Archive/2024");
	rc = imap_store_notify_start(x->s, &boxes, &x->err);
	strlist_free(&boxes);
	if (rc == IMAP_NOTIFY_REFUSED || rc == IMAP_NOTIFY_NOT_OFFERED) {
		check(x->err.len > 0, "NOTIFY refused without a message");
		buf_reset(&x->err);
		return;
	}
	if (failed(x, rc) ||
	    failed(x, imap_store_notify_read(x->s, &changed, &x->err)) ||
	    failed(x, imap_store_notify_done(x->s, &changed, &x->err)) ||
	    failed(x, imap_store_notify_again(x->s, &x->err)) ||
	    failed(x, imap_store_notify_done(x->s, &changed, &x->err)))
		x->dead = 1;
	strlist_free(&changed);
}

static int
session_changes(struct session *x, const uint32_t *uids, size_t n,
    uint8_t opt)
{
	int res[8], eres[8];

	if (opt & 64) {
		struct flag_change chg[2] = {
			{ uids, n, MSG_SEEN, 0, res },
			{ uids, 1, MSG_DELETED, MSG_FLAGGED, eres },
		};
		struct store_update u = { chg, 2, NULL, NULL, uids, 1,
		    eres + 4 };

		return failed(x, x->s->ops->update(x->s, &u, &x->err));
	}
	if (failed(x, x->s->ops->set_flags(x->s, uids, n, MSG_SEEN,
	    MSG_FLAGGED, res, &x->err)))
		return 1;
	if (x->dead)
		return 1;
	return failed(x, x->s->ops->expunge(x->s, uids, 1, eres, &x->err));
}

/* One mailbox, as a sync goes through it. */
static void
session_mailbox(struct session *x, const char *mbox, const uint8_t *o,
    int first)
{
	uint8_t o0 = o[0], o1 = o[1], o2 = o[2];
	static const struct msg_meta known_v[] = {
		{ .uid = 1, .flags = MSG_SEEN },
		{ .uid = 2, .flags = 0 },
		{ .uid = 3, .flags = MSG_SEEN | MSG_ANSWERED },
	};
	const struct msg_list known = { (struct msg_meta *)known_v,
	    (o2 & 128) ? 0 : 3, 3 };
	struct mbox_status peeked, st;
	struct store_mark m = { 7, 4, 10, &known, NULL };
	struct msg_list out = { NULL, 0, 0 };
	struct sink_state k;
	struct msg_sink sink = { sink_begin, sink_data, sink_end, sink_gone,
	    &k, sink_failed };
	struct scan_hint hint = { 3, NULL, 0, NULL, 0 };
	struct mbox_status other;
	uint32_t uids[4] = { 1, 2, 3, 0 };
	size_t nuids = 3;
	int rc, marked = first && (o0 & 4);

	memset(&peeked, 0, sizeof peeked);
	memset(&st, 0, sizeof st);
	if ((o2 & 64) && (failed(x, x->s->ops->peek(x->s, "Archive/2024",
	    &other, &x->err) < 0 ? -1 : 0) || x->dead))
		return;
	rc = x->s->ops->peek(x->s, mbox, &peeked, &x->err);
	if (failed(x, rc < 0 ? -1 : 0) || x->dead)
		return;
	if (marked) {
		if (rc == 1)
			m.listed = &peeked;
		x->s->ops->mark(x->s, &m);
	}
	if ((o0 & 8) && (failed(x, x->s->ops->open_begin(x->s, mbox,
	    &x->err)) || x->dead))
		return;
	if (failed(x, x->s->ops->open(x->s, mbox, &st, &x->err)))
		return;
	if (marked && st.uidvalidity == m.uidvalidity &&
	    (st.changes_known || (st.uidnext == m.uidnext &&
	    st.count == known.n))) {
		rc = x->s->ops->scan_changes(x->s, &known, m.modseq, &out,
		    &x->err);
		if (rc == 1)
			check(out.n == 0, "scan_changes: 1 with messages");
		if (failed(x, rc) || x->dead)
			return;
	} else
		rc = 1;
	if (rc == 1) {
		msg_list_free(&out);
		if (failed(x, x->s->ops->scan(x->s, (o2 & 32) ? NULL : &hint,
		    &out, &x->err)))
			return;
	}
	if (msg_list_check(&out, &x->err) == 0 && out.n > 0) {
		nuids = out.n < 3 ? out.n : 3;
		for (size_t i = 0; i < nuids; i++)
			uids[i] = out.v[i].uid;
	}
	if (o2 & 16) {		/* not ascending: one message a command */
		uint32_t t = uids[0];

		uids[0] = uids[nuids - 1];
		uids[nuids - 1] = t;
	}
	buf_reset(&x->err);
	msg_list_free(&out);
	if (x->s->ops->prefetch != NULL)
		x->s->ops->prefetch(x->s);

	memset(&k, 0, sizeof k);
	k.uids = uids;
	k.n = nuids;
	k.log = (o0 & 16) ? x->log : NULL;
	rc = x->s->ops->fetch(x->s, uids, nuids, &sink, &x->err);
	check(rc != 0 || !k.in_msg, "fetch: 0 with a message left open");
	if (failed(x, rc) && x->dead)
		return;
	memset(&k, 0, sizeof k);
	k.uids = uids;
	k.n = nuids;
	k.log = (o0 & 16) ? x->log : NULL;
	rc = x->s->ops->fetch_headers(x->s, uids, nuids, &sink, &x->err);
	check(rc != 0 || !k.in_msg, "fetch_headers: 0 with a message left "
	    "open");
	if (failed(x, rc) && x->dead)
		return;
	if (session_changes(x, uids, nuids, o1) && x->dead)
		return;
	session_append(x);
	if (x->dead)
		return;
	if (o1 & 128) {
		int tres[4];

		if (failed(x, x->s->ops->trash(x->s, "Trash", uids, nuids,
		    tres, &x->err)) && x->dead)
			return;
	}
	if (o2 & 1)
		session_trash_in(x);
	if (x->dead)
		return;
	if (o1 & 16) {
		unsigned changed = 0;
		int buffered = 0;

		if (failed(x, imap_store_idle_start(x->s, &x->err))) {
			x->dead = 1;
			return;
		}
		check(imap_store_idle_fd(x->s, &buffered) >= 0,
		    "IDLE without a descriptor");
		if (failed(x, imap_store_idle_read(x->s, &changed,
		    &x->err)) ||
		    failed(x, imap_store_idle_done(x->s, &changed, &x->err)))
			x->dead = 1;
	}
}

static void
session_run(const uint8_t *data, size_t size)
{
	uint8_t o0 = data[0], o1 = data[1], o2 = data[2];
	struct imap_store_options o_re;
	struct strlist disabled = { NULL, 0, 0 };
	struct strlist names = { NULL, 0, 0 };
	struct strlist mechs = { NULL, 0, 0 };
	struct imap_store_options o;
	struct buf capture = BUF_INIT;
	struct logger lg;
	struct session x = { NULL, BUF_INIT, 0, NULL };

	memset(&lg, 0, sizeof lg);
	lg.capture = &capture;
	x.log = &capture;
	run_log = &capture;
	lg.level = (o0 & 16) ? LOG_DEBUG : LOG_NORMAL;
	lg.debug = (o0 & 16) ? LOG_NET | LOG_NET_ALL : 0;
	if (!(o0 & 128))
		strlist_add(&disabled, "COMPRESS=DEFLATE");
	/* Every mechanism a server may offer; PLAIN and LOGIN named, as
	 * without TLS they must be. */
	strlist_add(&mechs, "*");
	strlist_add(&mechs, "PLAIN");
	strlist_add(&mechs, "LOGIN");

	memset(&o, 0, sizeof o);
	o.name = "fuzz";
	o.host = "fuzz.invalid";
	o.port = 143;
	o.timeout = 1;
	o.tls = TLS_NONE;
	o.user = "user";
	o.pass = "secret";
	o.pipeline_depth = o1 & 3;
	o.disabled_exts = &disabled;
	o.auth_mechs = &mechs;
	o.use_namespace = !(o0 & 64);
	o.path_delimiter = (o1 & 4) ? '/' : '\0';
	o.path = (o1 & 8) ? "Mail/" : NULL;
	o.subscribed_only = (o0 & 32) != 0;
	o.copy_arrival_date = 1;

	memset(&srv, 0, sizeof srv);
	srv.fd = srv.client_fd = -1;
	srv.in = data + 3;
	srv.in_len = size - 3;
	switch (o0 & 3) {
	case 1:
		srv.prefix = prefix_dovecot;
		break;
	case 2:
		srv.prefix = prefix_bare;
		break;
	case 3:
		srv.prefix = prefix_condstore;
		break;
	}

	x.s = imap_store_new(&o, &lg, &x.err);
	if (x.s == NULL) {
		check(x.err.len > 0, "imap_store_new failed without a message");
		buf_addf(&capture, "imap_store_new: %s\n", x.err.data);
		goto out;
	}
	if (!failed(&x, x.s->ops->list(x.s, &names, &x.err)))
		for (size_t i = 1; i < names.n; i++)
			check(strcmp(names.v[i - 1], names.v[i]) <= 0,
			    "list: names not sorted");
	if (!x.dead && (o2 & 4)) {
		session_notify(&x);
		goto done;
	}
	if (!x.dead)
		session_mailbox(&x, "INBOX", data, 1);
	if (!x.dead && (o2 & 8)) {
		/* Another IMAPStore of the account on this connection. */
		o_re = o;
		o_re.name = "fuzz2";
		o_re.path = "Other/";
		o_re.use_namespace = !o.use_namespace;
		o_re.subscribed_only = !o.subscribed_only;
		if (imap_store_rebind(x.s, &o_re, &x.err) != 0) {
			check(x.err.len > 0, "rebind failed without a message");
			goto done;	/* the store is then to be freed */
		}
		strlist_free(&names);
		failed(&x, x.s->ops->list(x.s, &names, &x.err));
	}
	if (!x.dead && (o1 & 32))
		session_mailbox(&x, "Archive/2024", data, 0);
	if (!x.dead)
		failed(&x, x.s->ops->create(x.s, "New", &x.err));
	if (!x.dead && (o2 & 2))
		failed(&x, x.s->ops->remove(x.s, "Old", &x.err));
done:
	x.s->ops->free(x.s);
out:
	/* FUZZ_SESSION_LOG=1: what the store logged (with option bit 16,
	 * the protocol trace), to write seeds by. */
	if (getenv("FUZZ_SESSION_LOG") != NULL)
		fprintf(stderr, "%s-- end of the session\n", buf_cstr(&capture));
	strlist_free(&names);
	strlist_free(&disabled);
	strlist_free(&mechs);
	buf_free(&x.err);
	buf_free(&capture);
	run_log = NULL;
	if (srv.fd >= 0)
		close(srv.fd);
	srv.fd = srv.client_fd = -1;
	buf_free(&srv.out);
	buf_free(&srv.line);
	if (srv.z_on) {
		inflateEnd(&srv.zin);
		deflateEnd(&srv.zout);
		srv.z_on = 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	session_run(data, size);
	return 0;
}
