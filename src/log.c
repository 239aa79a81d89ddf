/* log: levelled one-line messages; see log.h for the contract. */
#include "log.h"

#include <stdarg.h>

#include "progress.h"

int
log_enabled(const struct logger *lg, enum log_level level)
{
	enum log_level have = lg ? lg->level : LOG_NORMAL;

	return level <= have;
}

static void
log_emit(const struct logger *lg, int is_error, const char *prefix,
    const char *fmt, va_list ap)
{
	struct buf line = BUF_INIT;
	FILE *out;

	buf_adds(&line, prefix);
	buf_vaddf(&line, fmt, ap);
	buf_addc(&line, '\n');
	if (lg != NULL && lg->lock != NULL)
		pthread_mutex_lock(lg->lock);
	if (lg != NULL && lg->capture != NULL) {
		buf_add(lg->capture, line.data, line.len);
	} else {
		if (is_error)
			out = (lg != NULL && lg->err_out) ? lg->err_out : stderr;
		else
			out = (lg != NULL && lg->out) ? lg->out : stdout;
		progress_hide(lg != NULL ? lg->progress : NULL);
		fwrite(line.data, 1, line.len, out);
		fflush(out);
		progress_show(lg != NULL ? lg->progress : NULL);
	}
	if (lg != NULL && lg->lock != NULL)
		pthread_mutex_unlock(lg->lock);
	buf_free(&line);
}

void
log_error(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, 1, "twinbox: error: ", fmt, ap);
	va_end(ap);
}

void
log_notice(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, 1, "twinbox: ", fmt, ap);
	va_end(ap);
}

void
log_warn(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, LOG_NORMAL))
		return;
	va_start(ap, fmt);
	log_emit(lg, 1, "twinbox: warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, LOG_NORMAL))
		return;
	va_start(ap, fmt);
	log_emit(lg, 0, "", fmt, ap);
	va_end(ap);
}

void
log_verbose(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, LOG_VERBOSE))
		return;
	va_start(ap, fmt);
	log_emit(lg, 0, "", fmt, ap);
	va_end(ap);
}

void
log_debug(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, LOG_DEBUG))
		return;
	va_start(ap, fmt);
	log_emit(lg, 0, "debug: ", fmt, ap);
	va_end(ap);
}
