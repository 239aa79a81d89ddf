/* log: levelled one-line messages; see log.h for the contract. */
#include "util/log.h"

#include <stdarg.h>
#include <string.h>

#include "util/log_file.h"
#include "util/progress.h"

/* What the terminal (or capture) shows, the log file aside. */
static int
shown(const struct logger *lg, enum log_level level)
{
	enum log_level have = lg ? lg->level : LOG_NORMAL;

	return level <= have;
}

int
log_enabled(const struct logger *lg, enum log_level level)
{
	return shown(lg, level) || (lg != NULL && lg->file != NULL);
}

unsigned
log_trace_wanted(const struct logger *lg)
{
	unsigned want = 0;

	if (lg == NULL)
		return 0;
	if (lg->file != NULL || (shown(lg, LOG_DEBUG) && (lg->debug & LOG_NET)))
		want = LOG_NET | (lg->debug & LOG_NET_ALL);
	return want;
}

static void
write_terminal(const struct logger *lg, int is_error, const struct buf *line)
{
	FILE *out;

	if (lg != NULL && lg->capture != NULL) {
		buf_add(lg->capture, line->data, line->len);
		return;
	}
	if (is_error)
		out = (lg != NULL && lg->err_out) ? lg->err_out : stderr;
	else
		out = (lg != NULL && lg->out) ? lg->out : stdout;
	progress_hide(lg != NULL ? lg->progress : NULL);
	fwrite(line->data, 1, line->len, out);
	fflush(out);
	progress_show(lg != NULL ? lg->progress : NULL);
}

/* The first line that could not be written to the log file: said on
 * the terminal (errno e; 0: nothing to say). */
static void
file_failed(const struct logger *lg, int e)
{
	struct buf line = BUF_INIT;

	if (e == 0)
		return;
	buf_setf(&line, "twinbox: error: cannot write to the log file: %s; "
	    "it is incomplete from here on\n", strerror(e));
	write_terminal(lg, 1, &line);
	buf_free(&line);
}

/* to_terminal: the terminal (or capture) shows the line; the log file,
 * if any, gets it anyway. */
static void
log_emit(const struct logger *lg, int to_terminal, int is_error,
    const char *prefix, const char *fmt, va_list ap)
{
	FILE *file = lg != NULL ? lg->file : NULL;
	struct buf line = BUF_INIT;

	if (!to_terminal && file == NULL)
		return;
	buf_adds(&line, prefix);
	buf_vaddf(&line, fmt, ap);
	buf_addc(&line, '\n');
	if (lg != NULL && lg->lock != NULL)
		pthread_mutex_lock(lg->lock);
	if (to_terminal)
		write_terminal(lg, is_error, &line);
	if (file != NULL)
		file_failed(lg, log_file_write(file, line.data, line.len));
	if (lg != NULL && lg->lock != NULL)
		pthread_mutex_unlock(lg->lock);
	buf_free(&line);
}

void
log_error(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, 1, 1, "twinbox: error: ", fmt, ap);
	va_end(ap);
}

void
log_notice(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, 1, 1, "twinbox: ", fmt, ap);
	va_end(ap);
}

void
log_warn(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, shown(lg, LOG_NORMAL), 1, "twinbox: warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, shown(lg, LOG_NORMAL), 0, "", fmt, ap);
	va_end(ap);
}

void
log_verbose(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, shown(lg, LOG_VERBOSE), 0, "", fmt, ap);
	va_end(ap);
}

void
log_debug(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, shown(lg, LOG_DEBUG), 0, "debug: ", fmt, ap);
	va_end(ap);
}

void
log_trace(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;
	int terminal = lg != NULL && shown(lg, LOG_DEBUG) &&
	    (lg->debug & LOG_NET);

	va_start(ap, fmt);
	log_emit(lg, terminal, 0, "debug: ", fmt, ap);
	va_end(ap);
}
