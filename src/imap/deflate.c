/* deflate: the COMPRESS=DEFLATE layer; see deflate.h for the contract. */
#include "imap/deflate.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#define RAW_DEFLATE_BITS (-15)	/* negative: no zlib header (RFC 4978) */
#define INPUT_CHUNK 16384

struct deflate_layer {
	struct layer base;
	z_stream rx;		/* server -> us */
	z_stream tx;		/* us -> server */
	int rx_init, tx_init;
	int rx_more;		/* the last inflate filled the caller's buffer:
				 * zlib may hold more output */
	int rx_end;		/* the server ended its stream */
	int tx_unsynced;	/* input deflated since the last sync flush */
	struct buf out;		/* compressed, not yet taken by below */
	size_t out_off;
	unsigned char in[INPUT_CHUNK];
};

static void
zlib_error(struct buf *err, const char *what, const z_stream *z, int r)
{
	buf_setf(err, "%s: %s", what, z->msg != NULL ? z->msg : zError(r));
}

/* 1: bytes delivered, 0: zlib needs more input, -1: error. */
static int
inflate_some(struct deflate_layer *z, void *data, size_t cap, size_t *n,
    struct buf *err)
{
	unsigned avail = cap > UINT_MAX ? UINT_MAX : (unsigned)cap;
	int r;

	z->rx.next_out = data;
	z->rx.avail_out = avail;
	r = inflate(&z->rx, Z_SYNC_FLUSH);
	if (r == Z_STREAM_END)
		z->rx_end = 1;
	else if (r != Z_OK && r != Z_BUF_ERROR) {
		zlib_error(err, "invalid compressed data", &z->rx, r);
		return -1;
	}
	*n = avail - z->rx.avail_out;
	z->rx_more = z->rx.avail_out == 0;
	return *n > 0;
}

static enum io_status
deflate_read(struct layer *l, void *data, size_t cap, size_t *n,
    struct buf *err)
{
	struct deflate_layer *z = (struct deflate_layer *)l;
	struct layer *below = l->below;
	enum io_status st;
	size_t got;
	int r;

	for (;;) {
		if (z->rx.avail_in > 0 || z->rx_more) {
			r = inflate_some(z, data, cap, n, err);
			if (r != 0)
				return r > 0 ? IO_OK : IO_ERROR;
		}
		if (z->rx_end)
			return IO_EOF;
		st = below->ops->read(below, z->in, sizeof z->in, &got, err);
		if (st != IO_OK)
			return st;
		z->rx.next_in = z->in;
		z->rx.avail_in = (unsigned)got;
	}
}

/* Hand compressed bytes to the layer below until none are left. */
static enum io_status
drain(struct deflate_layer *z, struct buf *err)
{
	struct layer *below = z->base.below;
	enum io_status st;
	size_t n;

	while (z->out_off < z->out.len) {
		st = below->ops->write(below, z->out.data + z->out_off,
		    z->out.len - z->out_off, &n, err);
		if (st != IO_OK)
			return st;
		z->out_off += n;
	}
	buf_reset(&z->out);
	z->out_off = 0;
	return IO_OK;
}

/* Run deflate over the pending input into out. */
static enum io_status
compress_into_out(struct deflate_layer *z, int flush, struct buf *err)
{
	int r;

	do {
		buf_grow(&z->out, INPUT_CHUNK);
		z->tx.next_out = (unsigned char *)z->out.data + z->out.len;
		z->tx.avail_out = INPUT_CHUNK;
		r = deflate(&z->tx, flush);
		if (r != Z_OK && r != Z_BUF_ERROR) {
			zlib_error(err, "compression failed", &z->tx, r);
			return IO_ERROR;
		}
		z->out.len += INPUT_CHUNK - z->tx.avail_out;
		z->out.data[z->out.len] = '\0';
	} while (z->tx.avail_out == 0 || z->tx.avail_in > 0);
	return IO_OK;
}

/* Earlier output goes first, so that a write that wanted is offered to
 * the layer below again unchanged. */
static enum io_status
deflate_write(struct layer *l, const void *data, size_t len, size_t *n,
    struct buf *err)
{
	struct deflate_layer *z = (struct deflate_layer *)l;
	enum io_status st = drain(z, err);

	if (st != IO_OK)
		return st;
	if (len > UINT_MAX)
		len = UINT_MAX;
	z->tx.next_in = (unsigned char *)(uintptr_t)data;
	z->tx.avail_in = (unsigned)len;
	st = compress_into_out(z, Z_NO_FLUSH, err);
	if (st != IO_OK)
		return st;
	z->tx_unsynced = 1;
	*n = len;
	return IO_OK;
}

static enum io_status
deflate_flush(struct layer *l, struct buf *err)
{
	struct deflate_layer *z = (struct deflate_layer *)l;
	enum io_status st;

	if (z->tx_unsynced) {
		z->tx.next_in = NULL;
		z->tx.avail_in = 0;
		st = compress_into_out(z, Z_SYNC_FLUSH, err);
		if (st != IO_OK)
			return st;
		z->tx_unsynced = 0;
	}
	st = drain(z, err);
	if (st != IO_OK)
		return st;
	return l->below->ops->flush(l->below, err);
}

static int
deflate_pending(const struct layer *l)
{
	const struct deflate_layer *z = (const struct deflate_layer *)l;

	return z->rx.avail_in > 0 || z->rx_more ||
	    l->below->ops->pending(l->below);
}

static void
deflate_free_parts(struct deflate_layer *z)
{
	if (z->rx_init)
		inflateEnd(&z->rx);
	if (z->tx_init)
		deflateEnd(&z->tx);
	buf_free(&z->out);
	free(z);
}

static void
deflate_free(struct layer *l)
{
	struct layer *below = l->below;

	deflate_free_parts((struct deflate_layer *)l);
	below->ops->free(below);
}

static const struct layer_ops deflate_ops = {
	.read = deflate_read,
	.write = deflate_write,
	.flush = deflate_flush,
	.pending = deflate_pending,
	.shutdown = NULL,
	.free = deflate_free,
};

struct layer *
deflate_layer_new(struct layer *below, struct buf *err)
{
	struct deflate_layer *z = xcalloc(1, sizeof *z);
	int r;

	r = inflateInit2(&z->rx, RAW_DEFLATE_BITS);
	if (r != Z_OK) {
		zlib_error(err, "cannot set up decompression", &z->rx, r);
		deflate_free_parts(z);
		return NULL;
	}
	z->rx_init = 1;
	r = deflateInit2(&z->tx, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
	    RAW_DEFLATE_BITS, 8, Z_DEFAULT_STRATEGY);
	if (r != Z_OK) {
		zlib_error(err, "cannot set up compression", &z->tx, r);
		deflate_free_parts(z);
		return NULL;
	}
	z->tx_init = 1;
	z->base.ops = &deflate_ops;
	z->base.below = below;
	return &z->base;
}
