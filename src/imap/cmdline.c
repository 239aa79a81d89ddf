/* cmdline: building commands with a redacted log line; see cmdline.h. */
#include "imap/cmdline.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Longer strings go as literals: servers limit quoted strings less
 * generously than literals. */
#define QUOTED_MAX 1000

void
imap_cmd_init(struct imap_cmdline *l)
{
	l->seg = xcalloc(1, sizeof(*l->seg));
	l->nseg = 1;
	buf_init(&l->log);
	l->secret = 0;
}

void
imap_cmd_free(struct imap_cmdline *l)
{
	for (size_t i = 0; i < l->nseg; i++) {
		buf_wipe(&l->seg[i].text);
		buf_free(&l->seg[i].shown);
		buf_wipe(&l->seg[i].owned);
	}
	free(l->seg);
	l->seg = NULL;
	l->nseg = 0;
	buf_free(&l->log);
}

static struct imap_cmdseg *
last_seg(struct imap_cmdline *l)
{
	return &l->seg[l->nseg - 1];
}

void
imap_cmd_add(struct imap_cmdline *l, const char *s)
{
	buf_adds(&last_seg(l)->text, s);
	buf_adds(&last_seg(l)->shown, s);
	buf_adds(&l->log, s);
}

void
imap_cmd_addf(struct imap_cmdline *l, const char *fmt, ...)
{
	struct buf tmp = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&tmp, fmt, ap);
	va_end(ap);
	imap_cmd_add(l, buf_cstr(&tmp));
	buf_free(&tmp);
}

void
imap_cmd_add_secret(struct imap_cmdline *l, const char *s)
{
	buf_adds(&last_seg(l)->text, s);
	buf_addf(&last_seg(l)->shown, "<redacted %zu bytes>", strlen(s));
	l->secret = 1;
	buf_adds(&l->log, "<secret>");
}

static int
quotable(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (*p == '\r' || *p == '\n' || *p >= 0x80)
			return 0;
	return n <= QUOTED_MAX;
}

static void
add_literal_seg(struct imap_cmdline *l, const struct imap_lit *lit,
    const char *owned, size_t owned_len, int secret)
{
	struct imap_cmdseg *s = last_seg(l);

	s->has_lit = 1;
	s->lit_secret = secret;
	s->lit = *lit;
	if (owned != NULL) {
		buf_add(&s->owned, owned, owned_len);
		s->lit.mem = s->owned.data ? s->owned.data : "";
	}
	l->seg = xreallocarray(l->seg, l->nseg + 1, sizeof(*l->seg));
	memset(&l->seg[l->nseg], 0, sizeof(*l->seg));
	l->nseg++;
}

void
imap_cmd_add_literal(struct imap_cmdline *l, const struct imap_lit *lit)
{
	buf_addf(&l->log, "{%llu} <%llu bytes>", (unsigned long long)lit->len,
	    (unsigned long long)lit->len);
	add_literal_seg(l, lit, NULL, 0, 0);
}

void
imap_cmd_add_string(struct imap_cmdline *l, const char *s, int secret)
{
	struct imap_lit lit = { NULL, -1, 0, strlen(s) };
	struct buf *text;
	size_t start;

	if (!quotable(s)) {
		buf_adds(&l->log, secret ? "<secret>" : "{literal}");
		add_literal_seg(l, &lit, s, lit.len, secret);
		l->secret |= secret;
		return;
	}
	text = &last_seg(l)->text;
	start = text->len;
	if (secret) {
		buf_grow(text, 2 * lit.len + 2);	/* never moved */
		l->secret = 1;
	}
	buf_addc(text, '"');
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(text, '\\');
		buf_addc(text, *p);
	}
	buf_addc(text, '"');
	if (secret)
		buf_addf(&last_seg(l)->shown, "<redacted %zu bytes>",
		    text->len - start);
	else
		buf_add(&last_seg(l)->shown, text->data + start,
		    text->len - start);
	if (secret)
		buf_adds(&l->log, "<secret>");
	else
		buf_addf(&l->log, "\"%s\"", s);
}
