/*
 * relay: a counting TCP relay on the loopback interface, for benchmarks
 * (bytes on the wire) and failure-path tests (a connection cut after
 * exactly N bytes).
 *
 *   relay --listen-port-file F --to 127.0.0.1:PORT [--cut-after N]
 *         [--stats-file S] [--max-seconds T]
 *
 * It listens on 127.0.0.1 on a port the kernel picks and writes that port
 * and a newline to F (through a temporary file and a rename, so that a
 * reader never sees half a number). Every accepted connection gets its own
 * connection to the target; bytes are forwarded both ways by one process
 * with non-blocking sockets and poll. Half-closes are passed on, so that a
 * client's EOF reaches the server and the other direction keeps flowing.
 *
 * --cut-after N: once N bytes (both directions together) have been read
 * from a connection's two sockets, nothing more is read from either; what
 * was read is delivered, then both sockets are closed. Reads are clamped,
 * so exactly N bytes pass, never more.
 *
 * On SIGTERM or SIGINT, or after T seconds (default 600), every connection
 * is closed and "sent=<c2s> received=<s2c> connections=<k>" is written to
 * S (or to stdout without --stats-file); the exit status is 0. The counts
 * are bytes delivered: sent from clients to the target, received from the
 * target to clients, over all connections; k counts accepted connections.
 * Errors in the arguments exit 2, other failures 1.
 *
 * Only 127.0.0.1 is accepted as target: this tool is not a proxy for
 * anything beyond the loopback interface. The signals are taken through a
 * signalfd, so no state is shared with a signal handler.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"

#define FLOW_BUF	65536
#define NO_CUT		UINT64_MAX
#define DEFAULT_SECONDS	600

struct options {
	const char	*port_file;
	const char	*stats_file;
	uint16_t	 target_port;
	uint64_t	 cut_after;	/* NO_CUT when not given */
	long		 max_seconds;
};

/* Bytes read from one socket and not yet written to the other. */
struct flow {
	char	 data[FLOW_BUF];
	size_t	 off, len;
	int	 eof;		/* the source said EOF */
	int	 shut;		/* EOF passed on with shutdown(SHUT_WR) */
};

struct conn {
	int		 cfd, sfd;	/* client side, target side */
	int		 connecting;	/* target connect() in progress */
	uint64_t	 passed;	/* bytes read from both sockets */
	struct flow	 up;		/* client -> target */
	struct flow	 down;		/* target -> client */
};

struct relay {
	struct options	 opt;
	int		 lfd, sigfd;
	struct conn	**conns;
	size_t		 nconns, capconns;
	uint64_t	 sent, received, accepted;
	struct pollfd	*pfds;
	size_t		 cappfds;
};

static void
usage(void)
{
	fprintf(stderr, "usage: relay --listen-port-file F --to 127.0.0.1:PORT "
	    "[--cut-after N] [--stats-file S] [--max-seconds T]\n");
	exit(2);
}

static void *
xalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		fprintf(stderr, "relay: out of memory\n");
		exit(1);
	}
	return p;
}

static void
parse_target(const char *arg, struct options *opt)
{
	const char *colon = strrchr(arg, ':');
	uint64_t port;

	if (colon == NULL) {
		fprintf(stderr, "relay: --to: expected HOST:PORT, not '%s'\n",
		    arg);
		exit(2);
	}
	if ((size_t)(colon - arg) != strlen("127.0.0.1") ||
	    strncmp(arg, "127.0.0.1", (size_t)(colon - arg)) != 0) {
		fprintf(stderr, "relay: --to: only 127.0.0.1 is allowed, "
		    "not '%.*s'\n", (int)(colon - arg), arg);
		exit(2);
	}
	if (parse_u64(colon + 1, 65535, &port) != 0 || port == 0) {
		fprintf(stderr, "relay: --to: invalid port '%s'\n", colon + 1);
		exit(2);
	}
	opt->target_port = (uint16_t)port;
}

static void
parse_number(const char *name, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out)
{
	if (parse_u64(arg, max, out) != 0 || *out < min) {
		fprintf(stderr, "relay: %s: invalid number '%s'\n", name, arg);
		exit(2);
	}
}

static void
parse_args(int argc, char **argv, struct options *opt)
{
	uint64_t secs = DEFAULT_SECONDS;
	int have_target = 0;

	memset(opt, 0, sizeof(*opt));
	opt->cut_after = NO_CUT;
	for (int i = 1; i < argc; i += 2) {
		const char *name = argv[i];

		if (i + 1 >= argc)
			usage();
		if (strcmp(name, "--listen-port-file") == 0)
			opt->port_file = argv[i + 1];
		else if (strcmp(name, "--stats-file") == 0)
			opt->stats_file = argv[i + 1];
		else if (strcmp(name, "--to") == 0) {
			parse_target(argv[i + 1], opt);
			have_target = 1;
		} else if (strcmp(name, "--cut-after") == 0)
			parse_number(name, argv[i + 1], 0, NO_CUT - 1,
			    &opt->cut_after);
		else if (strcmp(name, "--max-seconds") == 0)
			parse_number(name, argv[i + 1], 1, 86400 * 7, &secs);
		else
			usage();
	}
	if (opt->port_file == NULL || !have_target)
		usage();
	opt->max_seconds = (long)secs;
}

static void
conn_close(struct conn *c)
{
	if (c->cfd != -1)
		close(c->cfd);
	if (c->sfd != -1)
		close(c->sfd);
	c->cfd = c->sfd = -1;
}

static int
connect_target(const struct options *opt)
{
	struct sockaddr_in sin = loopback_addr(opt->target_port);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fprintf(stderr, "relay: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		fprintf(stderr, "relay: connect to 127.0.0.1:%u: %s\n",
		    (unsigned)opt->target_port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
add_conn(struct relay *r, int cfd, int sfd)
{
	struct conn *c = xalloc(1, sizeof(*c));

	c->cfd = cfd;
	c->sfd = sfd;
	c->connecting = 1;
	if (r->nconns == r->capconns) {
		size_t cap = r->capconns ? r->capconns * 2 : 16;
		struct conn **grown = realloc(r->conns, cap * sizeof(*grown));

		if (grown == NULL) {
			fprintf(stderr, "relay: out of memory\n");
			exit(1);
		}
		r->conns = grown;
		r->capconns = cap;
	}
	r->conns[r->nconns++] = c;
}

/* Accept every pending client; each gets its own target connection. */
static void
accept_clients(struct relay *r)
{
	for (;;) {
		int cfd, sfd;

		cfd = accept4(r->lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "relay: accept: %s\n",
				    strerror(errno));
			return;
		}
		r->accepted++;
		sfd = connect_target(&r->opt);
		if (sfd == -1) {
			close(cfd);
			continue;
		}
		add_conn(r, cfd, sfd);
	}
}

static uint64_t
read_room(const struct relay *r, const struct conn *c)
{
	if (r->opt.cut_after == NO_CUT)
		return FLOW_BUF;
	if (c->passed >= r->opt.cut_after)
		return 0;
	return r->opt.cut_after - c->passed < FLOW_BUF ?
	    r->opt.cut_after - c->passed : FLOW_BUF;
}

static short
want_read(const struct relay *r, const struct conn *c, const struct flow *f)
{
	return !c->connecting && f->len == 0 && !f->eof &&
	    read_room(r, c) > 0 ? POLLIN : 0;
}

static short
want_write(const struct conn *c, const struct flow *f)
{
	return !c->connecting && f->len > 0 ? POLLOUT : 0;
}

static void
fill_pollfd(struct pollfd *p, int fd, short events)
{
	p->fd = events != 0 ? fd : -1;
	p->events = events;
	p->revents = 0;
}

static size_t
build_pollfds(struct relay *r)
{
	size_t need = 2 + 2 * r->nconns;

	if (need > r->cappfds) {
		free(r->pfds);
		r->cappfds = need * 2;
		r->pfds = xalloc(r->cappfds, sizeof(*r->pfds));
	}
	fill_pollfd(&r->pfds[0], r->sigfd, POLLIN);
	fill_pollfd(&r->pfds[1], r->lfd, POLLIN);
	for (size_t i = 0; i < r->nconns; i++) {
		struct conn *c = r->conns[i];

		fill_pollfd(&r->pfds[2 + 2 * i], c->cfd,
		    want_read(r, c, &c->up) | want_write(c, &c->down));
		fill_pollfd(&r->pfds[3 + 2 * i], c->sfd,
		    (c->connecting ? POLLOUT : 0) |
		    want_read(r, c, &c->down) | want_write(c, &c->up));
	}
	return need;
}

/* 0: connected or still connecting, -1: failed (reported). */
static int
finish_connect(struct relay *r, struct conn *c, short revents)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (revents == 0)
		return 0;
	if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		fprintf(stderr, "relay: connect to 127.0.0.1:%u: %s\n",
		    (unsigned)r->opt.target_port, strerror(err));
		return -1;
	}
	c->connecting = 0;
	return 0;
}

/* 0: fine (maybe EOF), -1: the connection is broken. */
static int
flow_read(struct relay *r, struct conn *c, struct flow *f, int src)
{
	ssize_t n;

	n = recv(src, f->data, (size_t)read_room(r, c), 0);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	if (n == 0) {
		f->eof = 1;
		return 0;
	}
	f->off = 0;
	f->len = (size_t)n;
	c->passed += (uint64_t)n;
	return 0;
}

static int
flow_write(struct flow *f, int dst, uint64_t *counter)
{
	ssize_t n;

	n = send(dst, f->data + f->off, f->len, MSG_NOSIGNAL);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	f->off += (size_t)n;
	f->len -= (size_t)n;
	*counter += (uint64_t)n;
	return 0;
}

/* Pass an EOF on once everything before it has been delivered. */
static void
flow_pass_eof(struct flow *f, int dst)
{
	if (f->eof && f->len == 0 && !f->shut) {
		shutdown(dst, SHUT_WR);
		f->shut = 1;
	}
}

static int
conn_finished(const struct relay *r, const struct conn *c)
{
	if (c->connecting)
		return 0;
	if (c->up.len != 0 || c->down.len != 0)
		return 0;
	if (c->up.shut && c->down.shut)
		return 1;
	return r->opt.cut_after != NO_CUT && c->passed >= r->opt.cut_after;
}

static int
move_flow(struct relay *r, struct conn *c, struct flow *f, int src, int dst,
    short src_ev, short dst_ev, uint64_t *counter)
{
	const short ready = POLLHUP | POLLERR;
	int did_read = 0;

	if ((src_ev & (POLLIN | ready)) && want_read(r, c, f)) {
		if (flow_read(r, c, f, src) != 0)
			return -1;
		did_read = 1;
	}
	/* Write at once after a read: usually the other side can take it. */
	if (f->len > 0 && (did_read || (dst_ev & (POLLOUT | ready))) &&
	    flow_write(f, dst, counter) != 0)
		return -1;
	flow_pass_eof(f, dst);
	return 0;
}

/* 1 when the connection is done and was closed. */
static int
service_conn(struct relay *r, struct conn *c, short cev, short sev)
{
	int broken = 0;

	if (c->connecting)
		broken = finish_connect(r, c, sev) != 0;
	else {
		broken = move_flow(r, c, &c->up, c->cfd, c->sfd, cev, sev,
		    &r->sent) != 0 ||
		    move_flow(r, c, &c->down, c->sfd, c->cfd, sev, cev,
		    &r->received) != 0;
	}
	if (!broken && !conn_finished(r, c))
		return 0;
	conn_close(c);
	return 1;
}

static void
service_conns(struct relay *r)
{
	size_t kept = 0;
	size_t n = r->nconns;

	for (size_t i = 0; i < n; i++) {
		struct conn *c = r->conns[i];

		if (service_conn(r, c, r->pfds[2 + 2 * i].revents,
		    r->pfds[3 + 2 * i].revents))
			free(c);
		else
			r->conns[kept++] = c;
	}
	r->nconns = kept;
}

static int
run(struct relay *r)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->opt.max_seconds;
	for (;;) {
		long ms = ms_until(&deadline);
		size_t n;

		if (ms == 0)
			return 0;
		n = build_pollfds(r);
		if (poll(r->pfds, n, (int)ms) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "relay: poll: %s\n", strerror(errno));
			return -1;
		}
		if (r->pfds[0].revents != 0)
			return 0;
		service_conns(r);
		if (r->pfds[1].revents != 0)
			accept_clients(r);
	}
}

static int
write_stats(const struct relay *r)
{
	char line[128];

	snprintf(line, sizeof(line), "sent=%" PRIu64 " received=%" PRIu64
	    " connections=%" PRIu64 "\n", r->sent, r->received, r->accepted);
	return write_out("relay", r->opt.stats_file, line);
}

static void
relay_free(struct relay *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		conn_close(r->conns[i]);
		free(r->conns[i]);
	}
	free(r->conns);
	free(r->pfds);
	if (r->lfd != -1)
		close(r->lfd);
	if (r->sigfd != -1)
		close(r->sigfd);
}

static int
start(struct relay *r)
{
	char text[16];
	uint16_t port;

	r->sigfd = open_signalfd("relay");
	if (r->sigfd == -1)
		return -1;
	r->lfd = open_listener("relay", 0, &port);
	if (r->lfd == -1)
		return -1;
	snprintf(text, sizeof(text), "%u\n", (unsigned)port);
	return write_file_atomic("relay", r->opt.port_file, text);
}

int
main(int argc, char **argv)
{
	struct relay r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.lfd = r.sigfd = -1;
	parse_args(argc, argv, &r.opt);
	if (start(&r) != 0) {
		relay_free(&r);
		return 1;
	}
	rc = run(&r) == 0 ? 0 : 1;
	for (size_t i = 0; i < r.nconns; i++)
		conn_close(r.conns[i]);
	if (write_stats(&r) != 0)
		rc = 1;
	relay_free(&r);
	return rc;
}
