/*
 * maildir_fname: Maildir file names as twinbox and mbsync write them,
 * "<unique>,U=<uid>:2,<flags>", and as others may have left them. The
 * info delimiter ':' is the store's InfoDelimiter (delim below), as in
 * mbsync. The unique part (up to the first ',' or delimiter) never changes
 * once a message exists, so it identifies a file across renames by other
 * mail readers. Parsing never fails: an odd name simply has no UID or no
 * flags.
 */
#include "maildir/maildir_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* The part before the info delimiter. */
static size_t
base_len(const char *name, char delim)
{
	const char *p = strchr(name, delim);

	return p != NULL ? (size_t)(p - name) : strlen(name);
}

/* The digits of a field's value at d: 1 with *v if they make a number
 * up to max that ends the field (at ',', the delimiter or the end). */
static int
field_digits(const char *d, char delim, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; d[i] >= '0' && d[i] <= '9' && n <= max; i++)
		n = n * 10 + (uint64_t)(d[i] - '0');
	if (i == 0 || n > max || (d[i] != ',' && d[i] != delim && d[i] != '\0'))
		return 0;
	*v = n;
	return 1;
}

/* The flag letters of a ":2," info, or NULL for any other info. */
static const char *
info_flags(const char *name, char delim)
{
	const char *info = strchr(name, delim);

	if (info == NULL || info[1] != '2' || info[2] != ',')
		return NULL;
	return info + 3;
}

/* The system flags of a ":2," info's letters (letters may be NULL). */
static unsigned
flag_bits(const char *letters)
{
	const char *pos;
	unsigned flags = 0;

	for (; letters != NULL && *letters != '\0'; letters++)
		if ((pos = strchr(msg_flag_letters, *letters)) != NULL)
			flags |= 1u << (pos - msg_flag_letters);
	return flags;
}

/*
 * One pass over the name, as a scan reads each of thousands: the first
 * well-formed ",U=" and ",S=" fields of the base part (a malformed one,
 * ",U=x", is passed over), then the flags of a ":2," info.
 */
void
md_name_parse(const char *name, char delim, struct md_name_fields *f)
{
	const char *end = strchr(name, delim), *p = name;
	size_t blen = end != NULL ? (size_t)(end - name) : strlen(name);
	uint64_t v;
	int have_uid = 0;

	memset(f, 0, sizeof(*f));
	/* The commas are few: memchr() finds them faster than a loop. */
	while ((p = memchr(p, ',', blen - (size_t)(p - name))) != NULL) {
		char key = p[1];

		p++;
		if ((key != 'U' && key != 'S') || p[1] != '=')
			continue;
		if (key == 'U' && !have_uid &&
		    field_digits(p + 2, delim, UINT32_MAX, &v)) {
			f->uid = (uint32_t)v;
			have_uid = 1;
		} else if (key == 'S' && !f->has_size &&
		    field_digits(p + 2, delim, UINT64_MAX / 100, &v)) {
			f->size = v;
			f->has_size = 1;
		}
	}
	if (end != NULL && end[1] == '2' && end[2] == ',')
		f->flags = flag_bits(end + 3);
}

uint32_t
md_name_uid(const char *name, char delim)
{
	struct md_name_fields f;

	md_name_parse(name, delim, &f);
	return f.uid;
}

int
md_name_size(const char *name, char delim, uint64_t *size)
{
	struct md_name_fields f;

	md_name_parse(name, delim, &f);
	if (!f.has_size)
		return -1;
	*size = f.size;
	return 0;
}

unsigned
md_name_flags(const char *name, char delim)
{
	struct md_name_fields f;

	md_name_parse(name, delim, &f);
	return f.flags;
}

size_t
md_name_unique_len(const char *name, char delim)
{
	size_t n = base_len(name, delim);
	const char *comma = memchr(name, ',', n);

	return comma != NULL ? (size_t)(comma - name) : n;
}

/* Copy the base part without any ",U=<digits>" field. */
static void
add_base_without_uid(struct buf *b, const char *name, char delim)
{
	size_t blen = base_len(name, delim);

	for (size_t i = 0; i < blen; i++) {
		if (strncmp(name + i, ",U=", 3) == 0) {
			size_t j = i + 3;

			while (j < blen && name[j] >= '0' && name[j] <= '9')
				j++;
			if (j == blen || name[j] == ',') {
				i = j - 1;
				continue;
			}
		}
		buf_addc(b, name[i]);
	}
}

/*
 * The name with uid and the system flags replaced. Other letters of a
 * ":2," info (keywords, unknown flags) are kept; the result is sorted in
 * ASCII order as the Maildir specification asks.
 */
char *
md_name_with(const char *name, char delim, uint32_t uid, unsigned flags)
{
	const char *old = info_flags(name, delim);
	struct buf b = BUF_INIT;
	char keep[128] = { 0 };

	for (int i = 0; i < MSG_FLAG_COUNT; i++)
		if (flags & (1u << i))
			keep[(int)msg_flag_letters[i]] = 1;
	for (; old != NULL && *old != '\0'; old++)
		if (*old > ' ' && *old < 0x7f && *old != '/' &&
		    strchr(msg_flag_letters, *old) == NULL)
			keep[(int)*old] = 1;
	add_base_without_uid(&b, name, delim);
	buf_addf(&b, ",U=%u%c2,", (unsigned)uid, delim);
	for (int c = 0; c < 128; c++)
		if (keep[c])
			buf_addc(&b, (char)c);
	return buf_detach(&b);
}

/* "P<pid>R<store>Q" and ".<host>", host made safe: the parts of a
 * unique name that do not change within a store, worked out once. The
 * counter after Q is the store's own, and one process may hold several
 * stores writing into one folder at once (the workers of Connections N
 * all copy into one Trash): R, the store's address, which no two live
 * stores share, keeps their names apart within one microsecond. */
static void
unique_fixed(struct md_store *s)
{
	char host[256] = "localhost";
	struct buf b = BUF_INIT;

	if (gethostname(host, sizeof(host) - 1) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	buf_addf(&b, "P%ldR%jxQ", (long)getpid(), (uintmax_t)(uintptr_t)s);
	for (const char *h = host; *h; h++) {
		if (*h == '/' || *h == ':' || *h == ',' || *h == '\\' ||
		    *h == s->info_delim)
			buf_addf(&b, "\\%03o", (unsigned char)*h);
		else
			buf_addc(&b, *h);
	}
	snprintf(s->unique_fixed, sizeof(s->unique_fixed), "%s", b.data);
	s->unique_split = (size_t)(strchr(b.data, 'Q') - b.data) + 1;
	buf_free(&b);
}

/* The usual "<seconds>.M<usec>P<pid>Q<n>.<host>". */
char *
md_unique_base(struct md_store *s)
{
	struct timeval tv;
	struct buf b = BUF_INIT;

	if (s->unique_split == 0)
		unique_fixed(s);
	gettimeofday(&tv, NULL);
	buf_addf(&b, "%lld.M%06ld%.*s%u.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (int)s->unique_split, s->unique_fixed,
	    ++s->name_counter, s->unique_fixed + s->unique_split);
	return buf_detach(&b);
}

/* The name with a ",U=<uid>" field and the info left exactly as found. */
char *
md_name_set_uid(const char *name, char delim, uint32_t uid)
{
	struct buf b = BUF_INIT;

	add_base_without_uid(&b, name, delim);
	buf_addf(&b, ",U=%u%s", (unsigned)uid, name + base_len(name, delim));
	return buf_detach(&b);
}
