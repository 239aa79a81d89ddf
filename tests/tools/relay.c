/*
 * relay: a counting TCP relay on the loopback interface, for benchmarks
 * (bytes on the wire) and failure-path tests (a connection cut after
 * exactly N bytes).
 *
 *   relay --listen-port-file F --to 127.0.0.1:PORT [--cut-after N]
 *         [--delay-ms D] [--rate-kbit R] [--stats-file S] [--max-seconds T]
 *         [--listen-port P]
 *
 * It listens on 127.0.0.1 on a port the kernel picks (or on P, so that a
 * relay started after another one was stopped takes over its clients'
 * address) and writes that port and a newline to F (through a temporary file and a rename, so that a
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
 * --delay-ms D and --rate-kbit R make the relay behave like one slow link:
 * the bytes of a direction leave one by one at R kbit/s, the connections
 * sharing the link as they would share one line (a departure clock per
 * direction for all of them: a byte read while the link is busy waits for
 * the bytes before it) and arrive D ms after they left; an
 * EOF arrives D ms after it was read. Order is kept. So a request and its
 * answer cost at least 2*D, and N bytes at least N*8/R ms. Bytes are
 * released in slices of at most SLICE bytes, about a TCP segment, each at
 * its own time; the relay sleeps in tw_ppoll until the next one is due.
 *
 * Round trips are counted as *turns*: the target sending after the client
 * had bytes delivered to it since the target last sent. A greeting is no
 * turn; k requests each answered before the next is sent are k turns;
 * pipelined requests answered together are one.
 *
 * On SIGTERM or SIGINT, or after T seconds (default 600), every connection
 * is closed and "sent=<c2s> received=<s2c> turns=<t> connections=<k>" is
 * written to S (or to stdout without --stats-file); the exit status is 0.
 * The counts are bytes delivered: sent from clients to the target,
 * received from the target to clients, over all connections; t sums the
 * turns of all connections; k counts accepted connections. Errors in the
 * arguments exit 2, other failures 1.
 *
 * Only 127.0.0.1 is accepted as target: this tool is not a proxy for
 * anything beyond the loopback interface. The signals are let through
 * only while the relay waits, and taken through a pipe the handler writes
 * to (net_helpers.h), read in the main loop.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"

#define RING_BUF	(1u << 20)	/* bytes held per direction */
#define MAX_SLICES	4096		/* slices waiting per direction */
#define SLICE		1448		/* bytes released at once when paced */
#define NO_CUT		UINT64_MAX
#define DEFAULT_SECONDS	600
#define NS		1000000000ull

struct options {
	const char	*port_file;
	const char	*stats_file;
	uint16_t	 target_port;
	uint64_t	 listen_port;	/* 0: the kernel picks */
	uint64_t	 cut_after;	/* NO_CUT when not given */
	long		 max_seconds;
	uint64_t	 delay_ns;	/* one way, each direction */
	uint64_t	 rate_kbit;	/* 0: not paced */
};

/* Bytes that may be written from the given time on (CLOCK_MONOTONIC ns). */
struct slice {
	uint64_t	 due;
	size_t		 len;
};

/*
 * Bytes read from one socket and not yet written to the other: a ring of
 * RING_BUF bytes, cut into slices in the order they were read. The slices'
 * due times never decrease, so the bytes leave in order.
 */
struct flow {
	char		*data;
	size_t		 head, len;	/* first byte held, bytes held */
	struct slice	 slices[MAX_SLICES];
	size_t		 first, nslices;
	uint64_t	*link_free;	/* when the paced link of this
					   direction is idle again (the
					   relay's, shared by all) */
	uint64_t	 eof_due;	/* when the EOF may be passed on */
	int		 eof;		/* the source said EOF */
	int		 shut;		/* EOF passed on with shutdown(SHUT_WR) */
};

struct conn {
	int		 cfd, sfd;	/* client side, target side */
	int		 connecting;	/* target connect() in progress */
	int		 client_spoke;	/* bytes delivered to the target since
					   it last sent */
	uint64_t	 passed;	/* bytes read from both sockets */
	struct flow	 up;		/* client -> target */
	struct flow	 down;		/* target -> client */
};

struct relay {
	struct options	 opt;
	int		 lfd, sigfd;
	sigset_t	 wait_mask;	/* SIGTERM and SIGINT let through */
	struct conn	**conns;
	size_t		 nconns, capconns;
	uint64_t	 sent, received, accepted, turns;
	uint64_t	 now;		/* ns, read once after each wait */
	uint64_t	 link_free[2];	/* the paced link, up and down */
	struct pollfd	*pfds;
	size_t		 cappfds;
};

static void
usage(void)
{
	fprintf(stderr, "usage: relay --listen-port-file F --to 127.0.0.1:PORT "
	    "[--cut-after N] [--delay-ms D] [--rate-kbit R] [--stats-file S] "
	    "[--max-seconds T] [--listen-port P]\n");
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

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
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

/* 1 when name is one of the link options (and it is taken), else 0. */
static int
parse_link(const char *name, const char *arg, struct options *opt)
{
	uint64_t v;

	if (strcmp(name, "--delay-ms") == 0) {
		parse_number(name, arg, 0, 600000, &v);
		opt->delay_ns = v * (NS / 1000);
		return 1;
	}
	if (strcmp(name, "--rate-kbit") == 0) {
		/* Up to 100 Gbit/s; a slice then still takes >= 1 ns. */
		parse_number(name, arg, 1, 100000000, &opt->rate_kbit);
		return 1;
	}
	return 0;
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
		else if (strcmp(name, "--listen-port") == 0)
			parse_number(name, argv[i + 1], 1, 65535,
			    &opt->listen_port);
		else if (strcmp(name, "--max-seconds") == 0)
			parse_number(name, argv[i + 1], 1, 86400 * 7, &secs);
		else if (!parse_link(name, argv[i + 1], opt))
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

static void
conn_free(struct conn *c)
{
	conn_close(c);
	free(c->up.data);
	free(c->down.data);
	free(c);
}

static int
connect_target(const struct options *opt)
{
	struct sockaddr_in sin = loopback_addr(opt->target_port);
	int fd;

	fd = tw_socket(AF_INET, SOCK_STREAM, 0, O_NONBLOCK | O_CLOEXEC);
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
	c->up.data = xalloc(1, RING_BUF);
	c->down.data = xalloc(1, RING_BUF);
	c->up.link_free = &r->link_free[0];
	c->down.link_free = &r->link_free[1];
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

		cfd = tw_accept(r->lfd, O_NONBLOCK | O_CLOEXEC);
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

/* Free bytes of the ring after its last byte, up to its end or its head. */
static size_t
ring_room(const struct flow *f)
{
	size_t tail = (f->head + f->len) % RING_BUF;

	if (f->len == RING_BUF)
		return 0;
	return tail >= f->head ? RING_BUF - tail : f->head - tail;
}

static uint64_t
read_room(const struct relay *r, const struct conn *c, const struct flow *f)
{
	uint64_t room = ring_room(f);

	if (r->opt.cut_after == NO_CUT)
		return room;
	if (c->passed >= r->opt.cut_after)
		return 0;
	return r->opt.cut_after - c->passed < room ?
	    r->opt.cut_after - c->passed : room;
}

/* Bytes of f that are due, no more than lie in one piece of the ring. */
static size_t
flow_ready(const struct flow *f, uint64_t now)
{
	size_t ready = 0;

	for (size_t i = 0; i < f->nslices; i++) {
		const struct slice *s = &f->slices[(f->first + i) % MAX_SLICES];

		if (s->due > now)
			break;
		ready += s->len;
	}
	return ready < RING_BUF - f->head ? ready : RING_BUF - f->head;
}

/* When f has something to pass on that is not due yet; 0 when nothing. */
static uint64_t
flow_next_due(const struct flow *f, uint64_t now)
{
	if (f->nslices > 0)
		return f->slices[f->first].due > now ?
		    f->slices[f->first].due : 0;
	if (f->eof && !f->shut && f->eof_due > now)
		return f->eof_due;
	return 0;
}

static short
want_read(const struct relay *r, const struct conn *c, const struct flow *f)
{
	return !c->connecting && !f->eof && f->nslices < MAX_SLICES &&
	    read_room(r, c, f) > 0 ? POLLIN : 0;
}

static short
want_write(const struct relay *r, const struct conn *c, const struct flow *f)
{
	return !c->connecting && flow_ready(f, r->now) > 0 ? POLLOUT : 0;
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
		    want_read(r, c, &c->up) | want_write(r, c, &c->down));
		fill_pollfd(&r->pfds[3 + 2 * i], c->sfd,
		    (c->connecting ? POLLOUT : 0) |
		    want_read(r, c, &c->down) | want_write(r, c, &c->up));
	}
	return need;
}

/* The earliest time a held byte or EOF falls due; 0 when none waits. */
static uint64_t
next_due(const struct relay *r)
{
	uint64_t next = 0;

	for (size_t i = 0; i < r->nconns; i++) {
		uint64_t a = flow_next_due(&r->conns[i]->up, r->now);
		uint64_t b = flow_next_due(&r->conns[i]->down, r->now);

		if (a != 0 && (next == 0 || a < next))
			next = a;
		if (b != 0 && (next == 0 || b < next))
			next = b;
	}
	return next;
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

static void
add_slice(struct flow *f, uint64_t due, size_t len)
{
	struct slice *s = &f->slices[(f->first + f->nslices) % MAX_SLICES];

	s->due = due;
	s->len = len;
	f->nslices++;
}

/*
 * Give n bytes just read their due times: unpaced and undelayed, now, as
 * one slice; else slice by slice, each leaving when the link is free and
 * the bytes before it have left, and arriving delay_ns later. A full slice
 * table takes the rest as one slice, due with its last byte.
 */
static void
schedule(const struct options *o, struct flow *f, size_t n, uint64_t now)
{
	if (o->rate_kbit == 0 && o->delay_ns == 0) {
		add_slice(f, now, n);
		return;
	}
	while (n > 0) {
		size_t k = n > SLICE && f->nslices + 1 < MAX_SLICES ? SLICE : n;
		uint64_t start = *f->link_free > now ? *f->link_free : now;

		if (o->rate_kbit != 0)
			start += (uint64_t)k * 8 * (NS / 1000) / o->rate_kbit;
		*f->link_free = start;
		add_slice(f, start + o->delay_ns, k);
		n -= k;
	}
}

/* 0: fine (maybe EOF), -1: the connection is broken. */
static int
flow_read(struct relay *r, struct conn *c, struct flow *f, int src)
{
	size_t tail = (f->head + f->len) % RING_BUF;
	ssize_t n;

	n = recv(src, f->data + tail, (size_t)read_room(r, c, f), 0);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	if (n == 0) {
		f->eof = 1;
		f->eof_due = (*f->link_free > r->now ? *f->link_free : r->now) +
		    r->opt.delay_ns;
		return 0;
	}
	f->len += (size_t)n;
	c->passed += (uint64_t)n;
	schedule(&r->opt, f, (size_t)n, r->now);
	return 0;
}

/* Drop the first n bytes of f, and the slices that held them. */
static void
flow_consume(struct flow *f, size_t n)
{
	f->head = (f->head + n) % RING_BUF;
	f->len -= n;
	if (f->len == 0)
		f->head = 0;
	while (n > 0) {
		struct slice *s = &f->slices[f->first];
		size_t take = n < s->len ? n : s->len;

		s->len -= take;
		n -= take;
		if (s->len == 0) {
			f->first = (f->first + 1) % MAX_SLICES;
			f->nslices--;
		}
	}
}

/* Write what is due; the bytes written in *wrote. -1: broken. */
static int
flow_write(const struct relay *r, struct flow *f, int dst, size_t *wrote)
{
	size_t ready = flow_ready(f, r->now);
	ssize_t n;

	*wrote = 0;
	if (ready == 0)
		return 0;
	n = tw_send(dst, f->data + f->head, ready);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	flow_consume(f, (size_t)n);
	*wrote = (size_t)n;
	return 0;
}

/* Pass an EOF on once everything before it has been delivered. */
static void
flow_pass_eof(const struct relay *r, struct flow *f, int dst)
{
	if (f->eof && f->len == 0 && !f->shut && f->eof_due <= r->now) {
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

/*
 * Read what src has, and write what is due to dst (without waiting for
 * POLLOUT: a slice may have fallen due while poll slept; a full socket
 * answers EAGAIN). The bytes written in *wrote, the bytes read in *got.
 */
static int
move_flow(struct relay *r, struct conn *c, struct flow *f, int src, int dst,
    short src_ev, size_t *got, size_t *wrote)
{
	const short ready = POLLHUP | POLLERR;
	size_t before = f->len;

	*got = 0;
	if ((src_ev & (POLLIN | ready)) && want_read(r, c, f)) {
		if (flow_read(r, c, f, src) != 0)
			return -1;
		*got = f->len - before;
	}
	if (flow_write(r, f, dst, wrote) != 0)
		return -1;
	flow_pass_eof(r, f, dst);
	return 0;
}

/*
 * Both directions of c. A turn is counted when the target's bytes are
 * read after bytes of the client were delivered to it since it last sent.
 */
static int
move_both(struct relay *r, struct conn *c, short cev, short sev)
{
	size_t got, wrote;

	if (move_flow(r, c, &c->up, c->cfd, c->sfd, cev, &got, &wrote) != 0)
		return -1;
	r->sent += wrote;
	if (wrote > 0)
		c->client_spoke = 1;
	if (move_flow(r, c, &c->down, c->sfd, c->cfd, sev, &got, &wrote) != 0)
		return -1;
	r->received += wrote;
	if (got > 0 && c->client_spoke) {
		r->turns++;
		c->client_spoke = 0;
	}
	return 0;
}

/* 1 when the connection is done and was closed. */
static int
service_conn(struct relay *r, struct conn *c, short cev, short sev)
{
	int broken = 0;

	if (c->connecting)
		broken = finish_connect(r, c, sev) != 0;
	else
		broken = move_both(r, c, cev, sev) != 0;
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
			conn_free(c);
		else
			r->conns[kept++] = c;
	}
	r->nconns = kept;
}

/* The wait until the deadline or the next due slice, whichever is first. */
static struct timespec
wait_time(const struct relay *r, uint64_t deadline)
{
	uint64_t due = next_due(r);
	uint64_t until = due != 0 && due < deadline ? due : deadline;
	uint64_t wait = until > r->now ? until - r->now : 0;
	struct timespec ts = { (time_t)(wait / NS), (long)(wait % NS) };

	return ts;
}

static int
run(struct relay *r)
{
	uint64_t deadline;

	r->now = now_ns();
	deadline = r->now + (uint64_t)r->opt.max_seconds * NS;
	for (;;) {
		struct timespec ts;
		size_t n;

		if (r->now >= deadline)
			return 0;
		n = build_pollfds(r);
		ts = wait_time(r, deadline);
		if (tw_ppoll(r->pfds, n, &ts, &r->wait_mask) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "relay: poll: %s\n", strerror(errno));
			return -1;
		}
		r->now = now_ns();
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
	char line[160];

	snprintf(line, sizeof(line), "sent=%" PRIu64 " received=%" PRIu64
	    " turns=%" PRIu64 " connections=%" PRIu64 "\n", r->sent,
	    r->received, r->turns, r->accepted);
	return write_out("relay", r->opt.stats_file, line);
}

static void
relay_free(struct relay *r)
{
	for (size_t i = 0; i < r->nconns; i++)
		conn_free(r->conns[i]);
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

	r->sigfd = open_stop_pipe("relay", &r->wait_mask);
	if (r->sigfd == -1)
		return -1;
	r->lfd = open_listener("relay", (uint16_t)r->opt.listen_port, &port);
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
