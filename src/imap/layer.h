/*
 * layer: one stage of a transport's byte path (internal to src/imap).
 *
 * A transport is a stack of layers: at the bottom the file descriptor
 * (a TCP socket or the socketpair of a Tunnel command), above it
 * optionally TLS, above that optionally DEFLATE compression. The transport
 * core (transport.c) only ever talks to the top layer and does all the
 * waiting: layers never block, they report what they are waiting for.
 *
 * Contract:
 *  - Every operation is non-blocking and returns an enum io_status.
 *    IO_WANT_READ / IO_WANT_WRITE mean "call again with the same arguments
 *    once the descriptor is readable / writable"; the data passed to a
 *    write that wanted must be offered again unchanged (TLS requires it).
 *  - read delivers at least one byte on IO_OK; IO_EOF means the peer
 *    closed the stream in an orderly way (or without TLS close_notify).
 *  - write accepts at least one byte on IO_OK (*n may be less than len).
 *    Accepted bytes may stay buffered in the layer until flush returns
 *    IO_OK; flush passes the flush on to the layer below.
 *  - pending is nonzero when read could deliver bytes already buffered in
 *    this layer or below it, without the descriptor becoming readable.
 *  - On IO_ERROR the layer has put the cause (no peer name: the transport
 *    adds that) into err; the layer is then unusable except for free.
 *  - A layer owns the layer below it: free releases the whole stack
 *    underneath, bottom last. shutdown is a best-effort, non-blocking
 *    goodbye (TLS close_notify) and may be NULL.
 */
#ifndef TWINBOX_IMAP_LAYER_H
#define TWINBOX_IMAP_LAYER_H

#include <stddef.h>

#include "util/buf.h"

enum io_status {
	IO_OK,
	IO_EOF,
	IO_WANT_READ,
	IO_WANT_WRITE,
	IO_ERROR
};

struct layer;

struct layer_ops {
	enum io_status (*read)(struct layer *l, void *data, size_t cap,
	    size_t *n, struct buf *err);
	enum io_status (*write)(struct layer *l, const void *data, size_t len,
	    size_t *n, struct buf *err);
	enum io_status (*flush)(struct layer *l, struct buf *err);
	int (*pending)(const struct layer *l);
	void (*shutdown)(struct layer *l);
	void (*free)(struct layer *l);
};

/* Implementations embed this as their first member. */
struct layer {
	const struct layer_ops *ops;
	struct layer *below;
};

/* The descriptor layer: recv/send on fd, which it owns and closes. */
struct layer *fd_layer_new(int fd);

#endif
