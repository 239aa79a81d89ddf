/*
 * maildir_stamp: a folder's stamp, and peek(), its status read without
 * opening it (store.h). The stamp stands for the names in cur/ and new/:
 * every change of a message or of its flags (a delivery, a rename, a
 * deletion, a file moved in) is a change of one of those directories,
 * which sets its mtime. tmp/ holds nothing visible; .uidvalidity is
 * read as it is (UIDVALIDITY and UIDNEXT stand beside the stamp), so its
 * time adds nothing.
 *
 * The rule (docs/maildir.md): a stamp is given only when the mtime of
 * both directories is older than the moment of reading by more than
 * MD_STAMP_MARGIN_NS, else it is 0 and the caller lists the folder. A
 * directory's mtime is the time of its last change rounded down to the
 * file system's granularity g, taken from a clock that may lag the
 * system's by a tick. A change after the reading at T gets an mtime
 * above T - g - lag, so above every mtime older than T - margin when
 * g + lag <= margin: a mtime that a stamp vouches for can never be
 * given again by a later change, and no sleep is needed. 3 s covers
 * FAT's 2 s granularity with a second to spare for the clock; a mtime
 * in the future (a clock set back) is never older than that.
 *
 * The moment of reading comes from the store's clock (maildir.h), the
 * system's real-time clock unless the caller gives another.
 */
#include "maildir/maildir_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compat.h"

#define MD_STAMP_MARGIN_NS (3 * 1000000000LL)

static int64_t
ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* A 64-bit mix (splitmix64's finaliser) of h and v. */
static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

int
md_real_clock(void *unused, struct timespec *now)
{
	(void)unused;
	return clock_gettime(CLOCK_REALTIME, now) == 0 ? 0 : -1;
}

uint64_t
md_stamp(const struct md_store *s, const char *dir)
{
	static const char *const parts[] = { "cur", "new" };
	struct stat st[2];
	struct timespec now;
	uint64_t h = 0;

	for (int i = 0; i < 2; i++) {
		char *p = md_join(dir, parts[i]);
		int rc = stat(p, &st[i]);

		free(p);
		if (rc != 0)
			return 0;
	}
	if (s->clock(s->clock_arg, &now) != 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		/* The inode too: a directory made again (a restore) is
		 * another directory even with the same time. */
		if (ns_of(&TW_ST_MTIM(st[i])) >= ns_of(&now) - MD_STAMP_MARGIN_NS)
			return 0;
		h = mix(h, (uint64_t)st[i].st_ino);
		h = mix(h, (uint64_t)ns_of(&TW_ST_MTIM(st[i])));
	}
	return h != 0 ? h : 1;
}

int
md_peek(struct store *st, const char *mbox, struct mbox_status *status,
    struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	char *dir;
	int known;

	if (md_mbox_dir(s, mbox, &dir, NULL, NULL, err) != 0)
		return -1;
	memset(status, 0, sizeof(*status));
	/* A folder that is not there, or whose UID file is missing or
	 * cannot be read, is left to open(), which says why. */
	known = md_is_maildir(dir) && md_uid_peek(dir, &status->uidvalidity,
	    &status->uidnext);
	if (known) {
		status->uidnext++;
		status->stamp = md_stamp(s, dir);
	}
	free(dir);
	return known;
}
