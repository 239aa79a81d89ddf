/* watch_fs: directory change notification; see watch_fs.h. */
#include "watch_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

#ifdef TW_COMPAT_INOTIFY
#include <sys/inotify.h>

struct fs_tag {
	int wd;
	size_t tag;
};

struct fs_watch {
	int fd;
	struct fs_tag *tags;
	size_t ntags;
};

/* Maildir changes are all renames, creations and removals. */
#define FS_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_DELETE_SELF | IN_MOVE_SELF)

struct fs_watch *
fs_watch_new(struct buf *err)
{
	struct fs_watch *w = xcalloc(1, sizeof(*w));

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		buf_setf(err, "inotify_init1: %s (Maildir changes are then "
		    "found by the periodic sync only)", strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

void
fs_watch_free(struct fs_watch *w)
{
	if (w == NULL)
		return;
	close(w->fd);
	free(w->tags);
	free(w);
}

int
fs_watch_add(struct fs_watch *w, const char *dir, size_t tag,
    struct buf *err)
{
	int wd = inotify_add_watch(w->fd, dir, FS_EVENTS);

	if (wd == -1) {
		buf_setf(err, "watching %s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < w->ntags; i++)
		if (w->tags[i].wd == wd)
			return 0;	/* watched already */
	w->tags = xreallocarray(w->tags, w->ntags + 1, sizeof(*w->tags));
	w->tags[w->ntags++] = (struct fs_tag){ wd, tag };
	return 0;
}

int
fs_watch_fd(const struct fs_watch *w)
{
	return w->fd;
}

/* The index of a watch descriptor in tags; ntags for one we do not
 * know. */
static size_t
find_wd(const struct fs_watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->ntags; i++)
		if (w->tags[i].wd == wd)
			break;
	return i;
}

/*
 * One event. The kernel ends a watch with IN_IGNORED (its directory was
 * removed, or the watch taken off); a directory renamed keeps its watch,
 * which is taken off here, so that the IN_IGNORED that follows ends it
 * too: the name watched is no longer that directory.
 */
static void
dispatch(struct fs_watch *w, const struct inotify_event *e,
    void (*fn)(void *ctx, size_t tag, int lost), void *ctx)
{
	size_t i = find_wd(w, e->wd);
	size_t tag = i < w->ntags ? w->tags[i].tag : FS_WATCH_ALL;

	if (e->mask & IN_Q_OVERFLOW) {
		fn(ctx, FS_WATCH_ALL, 0);
		return;
	}
	if (e->mask & IN_IGNORED) {
		if (i == w->ntags)
			return;
		w->tags[i] = w->tags[--w->ntags];
		fn(ctx, tag, 1);
		return;
	}
	if ((e->mask & IN_MOVE_SELF) && i < w->ntags)
		(void)inotify_rm_watch(w->fd, e->wd);
	fn(ctx, tag, 0);
}

int
fs_watch_read(struct fs_watch *w,
    void (*fn)(void *ctx, size_t tag, int lost), void *ctx, struct buf *err)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));

	for (;;) {
		ssize_t n = read(w->fd, ev, sizeof(ev));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			buf_setf(err, "reading inotify events: %s",
			    n == 0 ? "end of file" : strerror(errno));
			return -1;
		}
		for (char *p = ev; p < ev + n; ) {
			const struct inotify_event *e = (const void *)p;

			dispatch(w, e, fn, ctx);
			p += sizeof(*e) + e->len;
		}
	}
}

#else	/* no inotify: the periodic sync alone */

struct fs_watch *
fs_watch_new(struct buf *err)
{
	buf_setf(err, "this build has no inotify (Linux only): Maildir "
	    "changes are found by the periodic sync only (WatchInterval)");
	return NULL;
}

void
fs_watch_free(struct fs_watch *w)
{
	(void)w;
}

int
fs_watch_add(struct fs_watch *w, const char *dir, size_t tag,
    struct buf *err)
{
	(void)w;
	(void)tag;
	buf_setf(err, "watching %s: not supported here", dir);
	return -1;
}

int
fs_watch_fd(const struct fs_watch *w)
{
	(void)w;
	return -1;
}

int
fs_watch_read(struct fs_watch *w,
    void (*fn)(void *ctx, size_t tag, int lost), void *ctx, struct buf *err)
{
	(void)w;
	(void)fn;
	(void)ctx;
	(void)err;
	return 0;
}

#endif
