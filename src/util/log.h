/*
 * log: levelled messages for the user.
 *
 * Contract:
 *  - A struct logger is owned by its creator (main.c for the program, a test
 *    for itself) and passed to every module that reports anything; there is
 *    no global logger, so tests can capture output and assert on it.
 *  - A NULL logger is valid and means level LOG_NORMAL with the default
 *    streams.
 *  - Errors and warnings are printed at every level but LOG_QUIET prints
 *    warnings neither; errors are always printed.
 *  - Every message is one line; the logger adds the "twinbox: " prefix (and
 *    "warning: " / "error: ") and the newline.
 *  - Notices (what a server asks to show the user, such as an IMAP
 *    [ALERT]) are printed at every level, even LOG_QUIET, with the plain
 *    "twinbox: " prefix.
 *  - Errors, warnings and notices go to err_out (NULL: stderr), everything else to
 *    out (NULL: stdout), so that a dry run's plan can be piped.
 *  - When capture is non-NULL, lines are appended there (each ending in
 *    '\n') instead of being written to either stream.
 *  - With lock non-NULL (owned by the logger's creator) every line is
 *    written, or appended to capture, holding it: threads that share the
 *    logger (channel_workers.h) never interleave within a line, on the
 *    terminal or in the log file.
 *  - The protocol trace (log_trace(), imap/trace.h) is a debug category of
 *    its own, as mbsync's -Dn: it reaches the terminal (or capture) only
 *    when debug holds LOG_NET and the level is LOG_DEBUG. LOG_NET_ALL
 *    (-DN) adds the contents of literals (message bodies) to the trace.
 *  - With file non-NULL (--log-file, LogFile; log_file.h) every line of
 *    every level, the protocol trace included, is also written there,
 *    after a timestamp, whatever the level and debug say; the terminal
 *    shows what it would show without the file. log_enabled() is then
 *    true at every level.
 *  - With progress non-NULL (a status line on a terminal, progress.h,
 *    whose lock is this logger's) every line is written with the status
 *    line taken off the screen first and put back after it.
 */
#ifndef TWINBOX_LOG_H
#define TWINBOX_LOG_H

#include <pthread.h>
#include <stdio.h>

#include "util/buf.h"

struct progress;

enum log_level {
	LOG_QUIET = 0,		/* errors only */
	LOG_NORMAL = 1,		/* + warnings, per-mailbox summaries */
	LOG_VERBOSE = 2,	/* + one line per operation */
	LOG_DEBUG = 3		/* + protocol and internal detail */
};

/* Debug categories (mbsync's -D letters) that change what is logged. */
#define LOG_NET		0x1u	/* n: every protocol line sent and received */
#define LOG_NET_ALL	0x2u	/* N: and the contents of literals */

struct logger {
	enum log_level level;
	FILE *out;		/* information; NULL means stdout */
	FILE *err_out;		/* errors and warnings; NULL means stderr */
	struct buf *capture;	/* tests: collect lines here instead */
	pthread_mutex_t *lock;	/* may be NULL: one thread only */
	struct progress *progress;	/* may be NULL: no status line */
	unsigned debug;		/* LOG_NET, LOG_NET_ALL */
	FILE *file;		/* every line, timestamped; NULL: none */
};

void log_error(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Shown at every level on err_out: a server's words for the user. */
void log_notice(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Normal-level information (summaries), printed without a prefix. */
void log_info(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_verbose(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_debug(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int log_enabled(const struct logger *lg, enum log_level level);
/* One line of the protocol trace, "debug: "-prefixed like log_debug(). */
void log_trace(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* What some output wants of the protocol trace: 0 (nothing), LOG_NET, or
 * LOG_NET | LOG_NET_ALL (the contents of literals too). */
unsigned log_trace_wanted(const struct logger *lg);

#endif
