/* lock: the per-pair lock file; see lock.h. */
#include "sync/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int
pair_lock(const char *lock_path, int *fd_out, struct buf *err)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	int busy;

	*fd_out = -1;
	if (fd < 0) {
		buf_setf(err, "%s: cannot open lock file: %s", lock_path,
		    strerror(errno));
		return PAIR_LOCK_FAILED;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		busy = errno == EWOULDBLOCK;
		if (busy)
			buf_setf(err, "another twinbox is syncing this "
			    "mailbox pair (%s is locked)", lock_path);
		else
			buf_setf(err, "%s: cannot lock: %s", lock_path,
			    strerror(errno));
		close(fd);
		return busy ? PAIR_LOCK_BUSY : PAIR_LOCK_FAILED;
	}
	*fd_out = fd;
	return PAIR_LOCK_TAKEN;
}

void
pair_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
