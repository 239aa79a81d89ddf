/* deflate: the COMPRESS=DEFLATE layer; see deflate.h for the contract. */
#include "imap/deflate.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RAW_DEFLATE_BITS (-15)	/* negative: no zlib header (RFC 4978) */
#define INPUT_CHUNK 16384

struct deflate_layer {
	struct layer base;
	z_stream rx;		/* server -> us */
	z_stream tx;		/* us -> server */
	int rx_init, tx_init;
	int rx_full;		/* the last inflate filled obuf: zlib may
				 * hold more output */
	int rx_end;		/* the server ended its stream */
	int rx_failed;		/* rx_err is what the next read reports */
	struct buf rx_err;
	int tx_unsynced;	/* input deflated since the last sync flush */
	struct buf out;		/* compressed, not yet taken by below */
	size_t out_off;
	unsigned char in[INPUT_CHUNK];
	unsigned char obuf[INPUT_CHUNK];	/* decoded, not yet read */
	size_t opos, olen;
};

static void
zlib_error(struct buf *err, const char *what, const z_stream *z, int r)
{
	buf_setf(err, "%s: %s", what, z->msg != NULL ? z->msg : zError(r));
}

/*
 * Inflate what has arrived into obuf (empty on entry). Inflating eagerly,
 * right after the caller took the last decoded byte, keeps pending()
 * truthful: either obuf holds bytes, or zlib has nothing left to give
 * from the input it was handed. An error is kept for the next read.
 */
static void
refill(struct deflate_layer *z)
{
	int r;

	z->opos = z->olen = 0;
	if (z->rx.avail_in == 0 && !z->rx_full)
		return;
	z->rx.next_out = z->obuf;
	z->rx.avail_out = sizeof z->obuf;
	r = inflate(&z->rx, Z_SYNC_FLUSH);
	if (r == Z_STREAM_END)
		z->rx_end = 1;
	else if (r != Z_OK && r != Z_BUF_ERROR) {
		zlib_error(&z->rx_err, "invalid compressed data", &z->rx, r);
		z->rx_failed = 1;
	}
	z->olen = sizeof z->obuf - z->rx.avail_out;
	z->rx_full = z->rx.avail_out == 0;
}

static enum io_status
deflate_read(struct layer *l, void *data, size_t cap, size_t *n,
    struct buf *err)
{
	struct deflate_layer *z = (struct deflate_layer *)l;
	struct layer *below = l->below;
	enum io_status st;
	size_t got;

	for (;;) {
		if (z->opos < z->olen) {
			*n = z->olen - z->opos < cap ? z->olen - z->opos : cap;
			memcpy(data, z->obuf + z->opos, *n);
			z->opos += *n;
			if (z->opos == z->olen)
				refill(z);
			return IO_OK;
		}
		if (z->rx_failed) {
			buf_setf(err, "%s", z->rx_err.data);
			return IO_ERROR;
		}
		if (z->rx_end)
			return IO_EOF;
		if (z->rx.avail_in == 0 && !z->rx_full) {
			st = below->ops->read(below, z->in, sizeof z->in, &got,
			    err);
			if (st != IO_OK)
				return st;
			z->rx.next_in = z->in;
			z->rx.avail_in = (unsigned)got;
		}
		refill(z);
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

	return z->opos < z->olen || z->rx_failed || z->rx_end ||
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
	buf_free(&z->rx_err);
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
