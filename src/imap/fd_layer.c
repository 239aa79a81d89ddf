/*
 * fd_layer: the bottom of every transport, recv/send on a socket (TCP or
 * the socketpair of a Tunnel command); see layer.h for the contract.
 */
#include "imap/layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"

struct fd_layer {
	struct layer base;
	int fd;
};

static enum io_status
fd_read(struct layer *l, void *data, size_t cap, size_t *n, struct buf *err)
{
	struct fd_layer *f = (struct fd_layer *)l;
	ssize_t r;

	do
		r = recv(f->fd, data, cap, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		*n = (size_t)r;
		return IO_OK;
	}
	if (r == 0)
		return IO_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IO_WANT_READ;
	buf_setf(err, "%s", strerror(errno));
	return IO_ERROR;
}

/* tw_send(): a peer that went away must give EPIPE, not kill us. */
static enum io_status
fd_write(struct layer *l, const void *data, size_t len, size_t *n,
    struct buf *err)
{
	struct fd_layer *f = (struct fd_layer *)l;
	ssize_t r;

	do
		r = tw_send(f->fd, data, len);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*n = (size_t)r;
		return r > 0 ? IO_OK : IO_WANT_WRITE;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IO_WANT_WRITE;
	buf_setf(err, "%s", strerror(errno));
	return IO_ERROR;
}

static enum io_status
fd_flush(struct layer *l, struct buf *err)
{
	(void)l;
	(void)err;
	return IO_OK;
}

static int
fd_pending(const struct layer *l)
{
	(void)l;
	return 0;
}

static void
fd_free(struct layer *l)
{
	struct fd_layer *f = (struct fd_layer *)l;

	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static const struct layer_ops fd_ops = {
	.read = fd_read,
	.write = fd_write,
	.flush = fd_flush,
	.pending = fd_pending,
	.shutdown = NULL,
	.free = fd_free,
};

struct layer *
fd_layer_new(int fd)
{
	struct fd_layer *f = xcalloc(1, sizeof *f);

	f->base.ops = &fd_ops;
	f->base.below = NULL;
	f->fd = fd;
	return &f->base;
}
