/* net: TCP connections and timed waits; see net.h for the contract. */
#include "imap/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"

int
net_wait(int fd, short events, int timeout, const interrupt_flag *stop)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = timeout > 0 ? timeout * 1000 : -1;
	int r;

	/* Asked to stop before the wait began (the signal came too early
	 * to cut it short): what is ready is taken, nothing is waited for. */
	if (interrupted(stop)) {
		r = poll(&pfd, 1, 0);
		if (r == 0) {
			errno = EINTR;
			r = -1;
		}
		return r;
	}
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR && !interrupted(stop));
	return r;
}

void
net_timeout_error(struct buf *err, const char *doing, int timeout)
{
	buf_setf(err, "%s: timed out after %d second%s", doing, timeout,
	    timeout == 1 ? "" : "s");
}

/* "127.0.0.1" or "localhost (::1)": the address only when the host name
 * does not already say it, so that messages stay short for IP literals. */
static void
describe_target(struct buf *out, const char *host, const char *port,
    const struct addrinfo *ai)
{
	char addr[NI_MAXHOST];

	buf_setf(out, "connect to %s", host);
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL,
	    0, NI_NUMERICHOST) == 0 && strcmp(addr, host) != 0)
		buf_addf(out, " (%s)", addr);
	buf_addf(out, " port %s", port);
}

/* Finish a non-blocking connect; 0 when connected, else errno-style. */
static int
finish_connect(int fd, int timeout, const interrupt_flag *stop)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	int r = net_wait(fd, POLLOUT, timeout, stop);

	if (r < 0)
		return errno;
	if (r == 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

/* One address: the socket, or -1 with err set. */
static int
connect_one(const struct addrinfo *ai, const char *host, const char *port,
    int timeout, const interrupt_flag *stop, struct buf *err)
{
	struct buf what = BUF_INIT;
	int fd, e = 0, one = 1;

	describe_target(&what, host, port, ai);
	fd = tw_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol,
	    O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		e = errno;
	else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		e = errno == EINPROGRESS ? finish_connect(fd, timeout, stop) :
		    errno;
	if (e == EINTR && interrupted(stop))
		buf_setf(err, "%s: interrupted", what.data);
	else if (e == ETIMEDOUT && timeout > 0)
		net_timeout_error(err, what.data, timeout);
	else if (e != 0)
		buf_setf(err, "%s: %s", what.data, strerror(e));
	buf_free(&what);
	if (e != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* IMAP commands are small and the client batches its writes;
	 * Nagle's algorithm would only delay pipelined commands. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int
net_connect(const char *host, const char *port, int timeout,
    const interrupt_flag *stop, struct buf *err)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	int r, fd = -1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		buf_setf(err, "cannot resolve %s port %s: %s", host, port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0 && !interrupted(stop);
	    ai = ai->ai_next)
		fd = connect_one(ai, host, port, timeout, stop, err);
	freeaddrinfo(res);
	return fd;
}
