/*
 * net: TCP connections and waiting on descriptors with a timeout
 * (internal to src/imap).
 *
 * Contract:
 *  - net_connect returns a connected socket that is non-blocking and
 *    close-on-exec, owned by the caller, or -1 with a one-line message in
 *    err naming the host, the port and the cause.
 *  - A timeout of 0 seconds means "wait as long as it takes".
 *  - No function here changes signal dispositions or other process state.
 */
#ifndef TWINBOX_IMAP_NET_H
#define TWINBOX_IMAP_NET_H

#include "util/buf.h"
#include "interrupt.h"

/* Resolve host (IPv4 and IPv6) and connect to each address in turn until
 * one answers; each attempt may take up to timeout seconds. */
int net_connect(const char *host, const char *port, int timeout,
    const interrupt_flag *stop, struct buf *err);

/* Wait until fd has one of events (POLLIN/POLLOUT); 1 when ready (or in
 * error or hung up: the next I/O call tells which), 0 on timeout, -1 on
 * a poll failure with errno set: EINTR when a signal cut the wait short
 * and set *stop (stop may be NULL; other signals only resume the wait). */
int net_wait(int fd, short events, int timeout, const interrupt_flag *stop);

/* Set err to "<doing>: timed out after N second(s)". */
void net_timeout_error(struct buf *err, const char *doing, int timeout);

#endif
