/* log_file: the timestamped log file; see log_file.h for the contract. */
#include "util/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

FILE *
log_file_open(const char *path, struct buf *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0600);
	FILE *f;

	if (fd < 0) {
		buf_setf(err, "cannot open the log file %s: %s; name a file "
		    "that can be written with --log-file or LogFile", path,
		    strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "a");
	if (f == NULL) {
		buf_setf(err, "cannot open the log file %s: %s", path,
		    strerror(errno));
		close(fd);
	}
	return f;
}

void
log_file_stamp(struct buf *out)
{
	struct timespec now;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_addf(out, "%s.%03ldZ", date, now.tv_nsec / 1000000L);
}

int
log_file_write(FILE *f, const char *line, size_t len)
{
	struct buf stamped = BUF_INIT;
	int failed_before = ferror(f), failure = 0;

	log_file_stamp(&stamped);
	buf_addc(&stamped, ' ');
	buf_add(&stamped, line, len);
	errno = 0;
	if (fwrite(stamped.data, 1, stamped.len, f) != stamped.len ||
	    fflush(f) != 0)
		failure = errno != 0 ? errno : EIO;
	buf_free(&stamped);
	return failed_before ? 0 : failure;
}

int
log_file_close(FILE *f, const char *path, struct buf *err)
{
	int failed = ferror(f), closed = fclose(f);

	if (failed) {
		buf_setf(err, "the log file %s is incomplete: a line could "
		    "not be written to it", path);
		return -1;
	}
	if (closed != 0) {
		buf_setf(err, "the log file %s is incomplete: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
log_file_start(struct logger *lg, const char *path)
{
	struct buf err = BUF_INIT;

	if (path == NULL || lg->file != NULL)
		return 0;
	lg->file = log_file_open(path, &err);
	if (lg->file == NULL)
		log_error(lg, "%s", buf_cstr(&err));
	buf_free(&err);
	return lg->file != NULL ? 0 : -1;
}

int
log_file_finish(struct logger *lg, const char *path)
{
	struct buf err = BUF_INIT;
	FILE *f = lg->file;
	int rc;

	if (f == NULL)
		return 0;
	lg->file = NULL;
	rc = log_file_close(f, path, &err);
	if (rc != 0)
		log_error(lg, "%s", buf_cstr(&err));
	buf_free(&err);
	return rc;
}

int
log_file_reopen(struct logger *lg, const char *path)
{
	struct buf err = BUF_INIT;
	FILE *old = lg->file, *f;
	int rc = 0;

	if (old == NULL || path == NULL)
		return 0;
	f = log_file_open(path, &err);
	if (f == NULL) {
		log_error(lg, "%s; going on with the one open", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	lg->file = f;
	if (log_file_close(old, path, &err) != 0) {
		log_error(lg, "%s", buf_cstr(&err));
		rc = -1;
	}
	buf_free(&err);
	return rc;
}
