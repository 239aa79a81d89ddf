/* transport: connections and their layer stack; see transport.h for the
 * contract and layer.h for the layers. */
#include "imap/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "imap/deflate.h"
#include "imap/layer.h"
#include "imap/net.h"
#include "imap/tunnel.h"

/* How long a Tunnel command may take to exit once its input ended. */
#define TUNNEL_GRACE_MS 2000

struct transport {
	struct layer *top;	/* NULL once closed */
	int fd;			/* borrowed from the bottom layer */
	int timeout;
	const interrupt_flag *stop;	/* may be NULL */
	char *peer;
	char *host;		/* what TLS verifies; NULL for a bare fd */
	char *ca_file;
	char *client_cert;
	char *client_key;
	char *ciphers;
	int system_certs;
	unsigned tls_versions;
	int pinned;
	unsigned char pin[TLS_FINGERPRINT_LEN];
	pid_t tunnel_pid;	/* 0 when there is no child to reap */
	int tls;
	int compressed;
	int eof;
};

enum transport_op {
	OP_READ,
	OP_WRITE,
	OP_HANDSHAKE
};

void
transport_options_init(struct transport_options *o)
{
	memset(o, 0, sizeof *o);
	o->tls = TLS_NONE;
	o->system_certs = 1;
}

/* "read from 127.0.0.1 port 993" and the like. */
static void
describe_op(const struct transport *t, enum transport_op op, struct buf *out)
{
	static const char *const verbs[] = {
		[OP_READ] = "read from",
		[OP_WRITE] = "write to",
		[OP_HANDSHAKE] = "TLS handshake with",
	};

	buf_setf(out, "%s %s", verbs[op], t->peer);
}

/* Turn a layer's cause into "<op> <peer>: <cause>". */
static void
op_error(const struct transport *t, enum transport_op op, struct buf *err)
{
	struct buf what = BUF_INIT;
	char *cause = buf_detach(err);

	describe_op(t, op, &what);
	buf_setf(err, "%s: %s", what.data, cause);
	buf_free(&what);
	free(cause);
}

/* A dead Tunnel command explains a closed stream better than anything
 * else; collect its status while we are at it. */
static void
add_tunnel_status(struct transport *t, struct buf *err)
{
	int status;

	if (t->tunnel_pid == 0 ||
	    !tunnel_wait(t->tunnel_pid, TUNNEL_GRACE_MS, &status))
		return;
	t->tunnel_pid = 0;
	buf_adds(err, " (");
	tunnel_describe_status(err, status);
	buf_addc(err, ')');
}

static void
closed_error(struct transport *t, enum transport_op op, struct buf *err)
{
	t->eof = 1;
	if (op == OP_HANDSHAKE)
		buf_setf(err, "TLS handshake with %s: connection closed by "
		    "the server", t->peer);
	else
		buf_setf(err, "connection closed by %s", t->peer);
	add_tunnel_status(t, err);
}

/* Wait until the top layer can make progress; -1 with err on timeout. */
static int
await(struct transport *t, enum io_status want, enum transport_op op,
    struct buf *err)
{
	struct buf what = BUF_INIT;
	int r = net_wait(t->fd, want == IO_WANT_READ ? POLLIN : POLLOUT,
	    t->timeout, t->stop);

	if (r > 0)
		return 0;
	describe_op(t, op, &what);
	if (r == 0)
		net_timeout_error(err, what.data, t->timeout);
	else if (errno == EINTR)
		buf_setf(err, "%s: interrupted", what.data);
	else
		buf_setf(err, "%s: poll: %s", what.data, strerror(errno));
	buf_free(&what);
	return -1;
}

/* Handle a status other than IO_OK: 0 to try again, -1 to fail. */
static int
settle(struct transport *t, enum io_status st, enum transport_op op,
    struct buf *err)
{
	switch (st) {
	case IO_WANT_READ:
	case IO_WANT_WRITE:
		return await(t, st, op, err);
	case IO_EOF:
		closed_error(t, op, err);
		return -1;
	default:
		op_error(t, op, err);
		if (op == OP_WRITE)
			add_tunnel_status(t, err);
		return -1;
	}
}

static int
check_open(const struct transport *t, struct buf *err)
{
	if (t->top != NULL)
		return 0;
	buf_setf(err, "connection to %s is closed", t->peer);
	return -1;
}

int
transport_read(struct transport *t, void *data, size_t cap, size_t *n,
    struct buf *err)
{
	enum io_status st;

	if (check_open(t, err) < 0)
		return -1;
	for (;;) {
		st = t->top->ops->read(t->top, data, cap, n, err);
		if (st == IO_OK)
			return 0;
		if (settle(t, st, OP_READ, err) < 0)
			return -1;
	}
}

static int
flush_all(struct transport *t, struct buf *err)
{
	enum io_status st;

	while ((st = t->top->ops->flush(t->top, err)) != IO_OK)
		if (settle(t, st, OP_WRITE, err) < 0)
			return -1;
	return 0;
}

int
transport_write(struct transport *t, const void *data, size_t len,
    struct buf *err)
{
	const char *p = data;
	enum io_status st;
	size_t n;

	if (check_open(t, err) < 0)
		return -1;
	while (len > 0) {
		st = t->top->ops->write(t->top, p, len, &n, err);
		if (st == IO_OK) {
			p += n;
			len -= n;
		} else if (settle(t, st, OP_WRITE, err) < 0)
			return -1;
	}
	return flush_all(t, err);
}

static struct transport *
transport_new(int fd, const char *peer, int timeout)
{
	struct transport *t = xcalloc(1, sizeof *t);

	t->top = fd_layer_new(fd);
	t->fd = fd;
	t->timeout = timeout > 0 ? timeout : 0;
	t->peer = xstrdup(peer);
	return t;
}

struct transport *
transport_from_fd(int fd, const char *peer, int timeout)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return transport_new(fd, peer, timeout);
}

static const char *
default_port(const struct transport_options *o, struct buf *space)
{
	if (o->port != NULL)
		return o->port;
	if (o->port_number != 0)
		buf_setf(space, "%u", o->port_number);
	else
		buf_setf(space, "%s",
		    o->tls == TLS_IMAPS ? "993" : "143");
	return space->data;
}

static struct transport *
connect_tcp(const struct transport_options *o, struct buf *err)
{
	struct buf port = BUF_INIT, peer = BUF_INIT;
	struct transport *t = NULL;
	const char *p = default_port(o, &port);
	int fd;

	if (o->host == NULL || *o->host == '\0') {
		buf_setf(err, "no host to connect to (set Host or Tunnel)");
		goto out;
	}
	fd = net_connect(o->host, p, o->timeout, o->stop, err);
	if (fd < 0)
		goto out;
	buf_setf(&peer, "%s port %s", o->host, p);
	t = transport_new(fd, peer.data, o->timeout);
out:
	buf_free(&port);
	buf_free(&peer);
	return t;
}

static struct transport *
start_tunnel(const struct transport_options *o, struct buf *err)
{
	struct buf peer = BUF_INIT;
	struct transport *t;
	pid_t pid;
	int fd = tunnel_start(o->tunnel, &pid, err);

	if (fd < 0)
		return NULL;
	buf_setf(&peer, "tunnel '%s'", o->tunnel);
	t = transport_new(fd, peer.data, o->timeout);
	t->tunnel_pid = pid;
	buf_free(&peer);
	return t;
}

/* Keep what a later STARTTLS needs, so that the options can go. */
static void
keep_tls_settings(struct transport *t, const struct transport_options *o,
    const unsigned char *pin)
{
	if (pin != NULL) {
		memcpy(t->pin, pin, sizeof t->pin);
		t->pinned = 1;
	}
	t->host = o->host != NULL ? xstrdup(o->host) : NULL;
	t->ca_file = o->ca_file != NULL ? xstrdup(o->ca_file) : NULL;
	t->client_cert = o->client_cert != NULL ? xstrdup(o->client_cert) :
	    NULL;
	t->client_key = o->client_key != NULL ? xstrdup(o->client_key) : NULL;
	t->ciphers = o->ciphers != NULL ? xstrdup(o->ciphers) : NULL;
	t->system_certs = o->system_certs;
	t->tls_versions = o->tls_versions;
}

struct transport *
transport_open(const struct transport_options *o, struct buf *err)
{
	unsigned char pin[TLS_FINGERPRINT_LEN];
	struct transport *t;

	/* Settings errors come before any connection is made. */
	if (o->fingerprint != NULL &&
	    tls_parse_fingerprint(o->fingerprint, pin, err) < 0)
		return NULL;
	if (o->tunnel != NULL)
		t = start_tunnel(o, err);
	else
		t = connect_tcp(o, err);
	if (t == NULL)
		return NULL;
	t->stop = o->stop;
	keep_tls_settings(t, o, o->fingerprint != NULL ? pin : NULL);
	if (o->tls == TLS_IMAPS && transport_start_tls(t, err) < 0) {
		transport_free(t);
		return NULL;
	}
	return t;
}

static int
handshake(struct transport *t, struct layer *tls, struct buf *err)
{
	enum io_status st;

	while ((st = tls_handshake(tls, err)) != IO_OK)
		if (settle(t, st, OP_HANDSHAKE, err) < 0)
			return -1;
	return 0;
}

int
transport_start_tls(struct transport *t, struct buf *err)
{
	struct tls_params p = {
		.host = t->host,
		.ca_file = t->ca_file,
		.client_cert = t->client_cert,
		.client_key = t->client_key,
		.ciphers = t->ciphers,
		.system_certs = t->system_certs,
		.versions = t->tls_versions,
		.pin = t->pinned ? t->pin : NULL,
	};
	struct layer *tls;

	if (check_open(t, err) < 0)
		return -1;
	if (t->tls || t->compressed) {
		buf_setf(err, "cannot start TLS with %s: %s is already active",
		    t->peer, t->tls ? "TLS" : "compression");
		return -1;
	}
	tls = tls_layer_new(t->top, t->fd, &p, err);
	if (tls == NULL) {
		op_error(t, OP_HANDSHAKE, err);
		return -1;
	}
	t->top = tls;
	t->tls = 1;
	return handshake(t, tls, err);
}

int
transport_start_deflate(struct transport *t, struct buf *err)
{
	struct layer *z;

	if (check_open(t, err) < 0)
		return -1;
	if (t->compressed) {
		buf_setf(err, "compression with %s is already active",
		    t->peer);
		return -1;
	}
	z = deflate_layer_new(t->top, err);
	if (z == NULL) {
		char *cause = buf_detach(err);

		buf_setf(err, "compression with %s: %s", t->peer, cause);
		free(cause);
		return -1;
	}
	t->top = z;
	t->compressed = 1;
	return 0;
}

int
transport_fd(const struct transport *t)
{
	return t->top != NULL ? t->fd : -1;
}

int
transport_pending(const struct transport *t)
{
	return t->top != NULL && t->top->ops->pending(t->top);
}

const char *
transport_peer(const struct transport *t)
{
	return t->peer;
}

int
transport_is_tls(const struct transport *t)
{
	return t->tls;
}

int
transport_is_compressed(const struct transport *t)
{
	return t->compressed;
}

int
transport_at_eof(const struct transport *t)
{
	return t->eof;
}

void
transport_set_stop(struct transport *t, const interrupt_flag *stop)
{
	t->stop = stop;
}

void
transport_close(struct transport *t)
{
	if (t->top == NULL)
		return;
	for (struct layer *l = t->top; l != NULL; l = l->below)
		if (l->ops->shutdown != NULL)
			l->ops->shutdown(l);
	t->top->ops->free(t->top);
	t->top = NULL;
	t->fd = -1;
	/* Interrupted, the user is waiting: no grace for the command. */
	if (t->tunnel_pid != 0)
		tunnel_stop(t->tunnel_pid, interrupted(t->stop) ? 0 :
		    TUNNEL_GRACE_MS);
	t->tunnel_pid = 0;
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	transport_close(t);
	free(t->peer);
	free(t->host);
	free(t->ca_file);
	free(t->client_cert);
	free(t->client_key);
	free(t->ciphers);
	free(t);
}
