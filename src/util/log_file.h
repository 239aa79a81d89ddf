/*
 * log_file: the log file of --log-file and LogFile: every line the logger
 * writes, the protocol trace included, each after its timestamp.
 *
 * Contract:
 *  - log_file_open() opens FILE for appending, creating it with mode 0600
 *    (an existing file keeps its mode); a file that cannot be opened for
 *    writing is an error naming it and the cause, so that the caller stops
 *    before anything is synced. The caller owns the FILE and gives it to
 *    the logger (log.h).
 *  - log_file_write() writes one line (it ends in '\n') after the time,
 *    ISO 8601 in UTC with milliseconds ("2026-12-02T21:15:00.123Z "), and
 *    flushes it: a run that is killed leaves every line logged so far.
 *    It returns 0, or the errno of the first write that fails (later
 *    failures return 0): the logger says so on the terminal at once, so
 *    that a watcher's full disk is not found out only when it stops.
 *    The logger calls it holding its lock.
 *  - log_file_close() closes the file; -1 with err when any line could
 *    not be written (a full disk), so that the run does not end as if
 *    its log were complete.
 *  - log_file_start() and log_file_finish() do the same for a logger:
 *    start opens path (NULL: nothing to do) unless the logger has a file
 *    already (--log-file wins over LogFile) and gives it to the logger;
 *    finish takes it back and closes it. Both report a failure through
 *    the logger and return -1.
 */
#ifndef TWINBOX_LOG_FILE_H
#define TWINBOX_LOG_FILE_H

#include <stdio.h>

#include "util/buf.h"
#include "util/log.h"

FILE *log_file_open(const char *path, struct buf *err);
int log_file_write(FILE *f, const char *line, size_t len);
int log_file_close(FILE *f, const char *path, struct buf *err);
int log_file_start(struct logger *lg, const char *path);
int log_file_finish(struct logger *lg, const char *path);
/* The logger's file (if any) opened again at path, for a watcher's
 * SIGHUP after a log rotation: the new one is opened first, so that a
 * failure keeps the old one. -1 (reported) when path cannot be opened or
 * the old file is incomplete. */
int log_file_reopen(struct logger *lg, const char *path);
/* The timestamp of now, as log_file_write() puts it before a line. */
void log_file_stamp(struct buf *out);

#endif
