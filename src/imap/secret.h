/*
 * secret: the output of UserCmd / PassCmd.
 *
 * Contract: imap_run_secret_cmd() runs cmd with /bin/sh -c (stdin and
 * stderr inherited, so a "+command" may prompt on the terminal), reads its
 * standard output and puts the first line, without its line end, into
 * out (replacing what was there). It fails (-1, err naming the key and
 * the command) when the command cannot run, exits non-zero or by a
 * signal, or prints nothing. The output is never put into err or a log.
 * At most 64 KiB of output is read; the rest is discarded.
 */
#ifndef TWINBOX_IMAP_SECRET_H
#define TWINBOX_IMAP_SECRET_H

#include "util/buf.h"

/*
 * imap_ask_password() asks on the controlling terminal (/dev/tty, echo
 * off) with the given prompt and puts the line typed into out. It fails
 * (-1, err) when there is no terminal or nothing was typed.
 */
int imap_ask_password(const char *prompt, struct buf *out, struct buf *err);

/* key: "PassCmd" or "UserCmd", for messages. */
int imap_run_secret_cmd(const char *key, const char *cmd, struct buf *out,
    struct buf *err);

/*
 * struct imap_secrets: one account's UserCmd and PassCmd outputs for the
 * whole process, so that its commands run once however many connections
 * log in (Connections, a login again after a lost connection). Owned by
 * whoever holds the account's connections (the run's store pool); every
 * connection of the account is given it (imap_client_options.secrets).
 *  - imap_secrets_get() gives the output of cmd for key ("UserCmd" or
 *    "PassCmd"): the first call runs it (imap_run_secret_cmd()), later
 *    ones give what it printed, or fail with the same err if it failed,
 *    without running it again. Safe from several threads: a call made
 *    while the command runs waits for it.
 *  - imap_secrets_free() wipes the outputs from memory.
 */
struct imap_secrets;

struct imap_secrets *imap_secrets_new(void);
void imap_secrets_free(struct imap_secrets *s);
int imap_secrets_get(struct imap_secrets *s, const char *key,
    const char *cmd, struct buf *out, struct buf *err);

#endif
