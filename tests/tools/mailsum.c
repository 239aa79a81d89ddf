/*
 * mailsum: one line per message file, for tests that compare mail stores
 * by content:
 *
 *   mailsum FILE...
 *
 * prints "HASH SIZE ID FILE" for each FILE, where HASH (16 hex digits,
 * FNV-1a 64) and SIZE are those of the message in canonical line-ending
 * form, and ID is its first Message-ID without the angle brackets ("-"
 * when it has none). Canonical form: every CR LF becomes LF, and a CR that
 * ends the file is left out (Dovecot drops it on APPEND), and a NUL
 * counts as the byte 0x80 (Dovecot sends one so in BODY[], IMAP text
 * having no room for NUL); lone CRs stay. So a message whose Maildir copy
 * holds LF line ends and whose IMAP form holds CRLF has the same line on
 * both sides, while any other change of its bytes shows. Exit status 1
 * when a file cannot be read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILE	(64u << 20)

struct sum {
	uint64_t	 hash, size;
};

static void
sum_byte(struct sum *s, unsigned char b)
{
	s->hash = (s->hash ^ b) * UINT64_C(0x100000001b3);
	s->size++;
}

static struct sum
canonical_sum(const unsigned char *p, size_t n)
{
	struct sum s = { UINT64_C(0xcbf29ce484222325), 0 };

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] == '\n'))
			continue;
		sum_byte(&s, p[i] == '\0' ? 0x80 : p[i]);
	}
	return s;
}

/* The first Message-ID header's value, without brackets, into id. */
static void
message_id(const char *p, size_t n, char *id, size_t idsz)
{
	snprintf(id, idsz, "-");
	for (size_t i = 0; i + 11 < n; i++) {
		const char *lt, *gt;

		if ((i > 0 && p[i - 1] != '\n') ||
		    strncasecmp(p + i, "message-id:", 11) != 0)
			continue;
		lt = memchr(p + i, '<', n - i);
		gt = lt ? memchr(lt, '>', n - (size_t)(lt - p)) : NULL;
		if (gt != NULL && (size_t)(gt - lt) < idsz)
			snprintf(id, idsz, "%.*s", (int)(gt - lt - 1), lt + 1);
		return;
	}
}

static int
sum_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, got;
	struct sum s;
	char id[256];

	if (f == NULL) {
		fprintf(stderr, "mailsum: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			unsigned char *grown = NULL;

			cap = cap ? cap * 2 : 65536;
			if (cap <= MAX_FILE)
				grown = realloc(data, cap);
			if (grown == NULL) {
				fprintf(stderr, "mailsum: %s: too big\n", path);
				fclose(f);
				free(data);
				return -1;
			}
			data = grown;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "mailsum: %s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	s = canonical_sum(data, len);
	message_id((const char *)data, len, id, sizeof(id));
	printf("%016" PRIx64 " %" PRIu64 " %s %s\n", s.hash, s.size, id, path);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (sum_file(argv[i]) != 0)
			rc = 1;
	if (fflush(stdout) == EOF)
		rc = 1;
	return rc;
}
