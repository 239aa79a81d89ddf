/*
 * tunnel: run a Tunnel command (for example "ssh host imapd") whose
 * standard input and output carry the IMAP stream.
 *
 * Contract:
 *  - tunnel_start runs the command with /bin/sh -c, its stdin and stdout
 *    both connected to one end of a socketpair; its stderr is ours, so the
 *    user sees what ssh and friends have to say. The other end is returned
 *    non-blocking and close-on-exec, owned by the caller.
 *  - The caller owns the child and must reap it: tunnel_wait when it saw
 *    the stream end, tunnel_stop when it is done with the tunnel.
 *  - Nothing here touches signal dispositions; writes to the socket use
 *    tw_send() (in the descriptor layer), so a dead child gives EPIPE.
 */
#ifndef TWINBOX_IMAP_TUNNEL_H
#define TWINBOX_IMAP_TUNNEL_H

#include <sys/types.h>

#include "util/buf.h"

/* Returns our end of the socketpair and the child's pid in *pid, or -1
 * with err set. */
int tunnel_start(const char *cmd, pid_t *pid, struct buf *err);

/* Wait up to wait_ms milliseconds for the child to exit; 1 with its
 * wait status in *status when reaped, 0 if it is still running. */
int tunnel_wait(pid_t pid, int wait_ms, int *status);

/* Reap the child after our end was closed: give it grace_ms to notice
 * the end of its input and exit, then SIGTERM, then SIGKILL. */
void tunnel_stop(pid_t pid, int grace_ms);

/* "exit status 3", "killed by signal 9", "command not found (exit status
 * 127)" appended to out. */
void tunnel_describe_status(struct buf *out, int status);

#endif
