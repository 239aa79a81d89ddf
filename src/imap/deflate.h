/*
 * deflate: the COMPRESS=DEFLATE layer (RFC 4978): raw DEFLATE (no zlib
 * header, 32 KiB window) in both directions.
 *
 * Contract:
 *  - The layer owns the layer below it (see layer.h).
 *  - Every write is compressed and finished with Z_SYNC_FLUSH when the
 *    layer is flushed, so the server can decode each command as soon as it
 *    arrives; compressed bytes wait in the layer until the layer below has
 *    taken them.
 *  - Corrupt input is an error ("invalid compressed data: ..."), never a
 *    silent truncation.
 */
#ifndef TWINBOX_IMAP_DEFLATE_H
#define TWINBOX_IMAP_DEFLATE_H

#include "util/buf.h"
#include "imap/layer.h"

/* NULL with err set if zlib cannot be set up. */
struct layer *deflate_layer_new(struct layer *below, struct buf *err);

#endif
