/* trace: the protocol trace of a connection; see trace.h. */
#include "imap/trace.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
imap_trace_init(struct imap_trace *tr, const struct logger *lg,
    const char *label, const char *dir)
{
	memset(tr, 0, sizeof(*tr));
	tr->lg = lg;
	tr->label = xstrdup(label);
	tr->dir = dir;
	tr->want = log_trace_wanted(lg);
	buf_init(&tr->line);
	buf_init(&tr->excerpt);
}

/* Control characters but tab as \xNN. */
static void
escape(const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			buf_addf(out, "\\x%02x", c);
		else
			buf_addc(out, (char)c);
	}
}

/* Log the line (mark " |" for a line of a literal) and start anew. */
static void
emit(struct imap_trace *tr, const char *mark)
{
	struct buf shown = BUF_INIT;

	escape(tr->line.data, tr->line.len, &shown);
	if (tr->more > 0)
		buf_addf(&shown, " ... (%llu more bytes)",
		    (unsigned long long)tr->more);
	log_trace(tr->lg, "%s %s%s%s%s", tr->label, tr->dir, mark,
	    shown.len > 0 ? " " : "", buf_cstr(&shown));
	buf_free(&shown);
	buf_reset(&tr->line);
	tr->more = 0;
	tr->ntail = 0;
}

/* Append to the line, up to its limit. */
static void
add_shown(struct imap_trace *tr, const char *p, size_t n)
{
	size_t room = IMAP_TRACE_LINE_MAX - tr->line.len;
	size_t take = n < room ? n : room;

	buf_add(&tr->line, p, take);
	tr->more += n - take;
}

/* Bytes from the wire: shown, and remembered for an announcement. */
static void
add_raw(struct imap_trace *tr, const char *p, size_t n)
{
	size_t keep;

	add_shown(tr, p, n);
	if (n >= IMAP_TRACE_TAIL) {
		memcpy(tr->tail, p + n - IMAP_TRACE_TAIL, IMAP_TRACE_TAIL);
		tr->ntail = IMAP_TRACE_TAIL;
		return;
	}
	keep = tr->ntail < IMAP_TRACE_TAIL - n ? tr->ntail :
	    IMAP_TRACE_TAIL - n;
	memmove(tr->tail, tr->tail + tr->ntail - keep, keep);
	memcpy(tr->tail + keep, p, n);
	tr->ntail = keep + n;
}

/* Text of ours in the line: no announcement can straddle it. */
static void
put_text(struct imap_trace *tr, const char *s)
{
	add_shown(tr, s, strlen(s));
	tr->ntail = 0;
}

/* A "+" line or a status response ("* OK", "T1 NO", ...): its text is
 * text to the end of the line, whatever it looks like. */
static int
is_text_line(const struct buf *line)
{
	static const char *const status[] = { "OK", "NO", "BAD", "BYE",
	    "PREAUTH" };
	const char *s = buf_cstr(line), *word = strchr(s, ' ');
	size_t len;

	if (s[0] == '+')
		return 1;
	if (word == NULL)
		return 0;
	word++;
	len = strcspn(word, " ");
	for (size_t i = 0; i < sizeof(status) / sizeof(status[0]); i++)
		if (strlen(status[i]) == len &&
		    strncasecmp(word, status[i], len) == 0)
			return 1;
	return 0;
}

/* 1 and *size when the tail ends in "{N}", "{N+}" or "~{N}". */
static int
announced(const struct imap_trace *tr, uint64_t *size)
{
	size_t i = tr->ntail, digits = 0;
	uint64_t n = 0, scale = 1;

	if (i == 0 || tr->tail[--i] != '}')
		return 0;
	if (i > 0 && tr->tail[i - 1] == '+')
		i--;
	while (i > 0 && tr->tail[i - 1] >= '0' && tr->tail[i - 1] <= '9' &&
	    digits < 19) {
		n += (uint64_t)(tr->tail[--i] - '0') * scale;
		scale *= 10;
		digits++;
	}
	if (digits == 0 || i == 0 || tr->tail[i - 1] != '{')
		return 0;
	*size = n;
	return 1;
}

/* LOG_NET: "{N}" if the line was flushed before it, then its first
 * line. */
static void
summarize_literal(struct imap_trace *tr)
{
	struct buf text = BUF_INIT;

	if (tr->lit_flushed)
		buf_addf(&text, "{%llu}", (unsigned long long)tr->lit_size);
	if (tr->lit_secret)
		buf_addf(&text, " <redacted %llu bytes>",
		    (unsigned long long)tr->lit_size);
	else if (tr->lit_size > 0)
		buf_adds(&text, " ");
	put_text(tr, buf_cstr(&text));
	if (!tr->lit_secret && tr->lit_size > 0) {
		add_shown(tr, tr->excerpt.data, tr->excerpt.len);
		put_text(tr, tr->lit_more ? "..." : "");
	}
	buf_free(&text);
}

static void
end_literal(struct imap_trace *tr)
{
	if (tr->want & LOG_NET_ALL) {
		if (tr->lit_line_open)
			emit(tr, " |");
	} else {
		summarize_literal(tr);
	}
	tr->in_lit = tr->lit_secret = tr->lit_flushed = 0;
	tr->excerpt_done = tr->lit_more = tr->lit_line_open = 0;
	tr->lit_left = tr->lit_size = 0;
	buf_reset(&tr->excerpt);
	tr->ntail = 0;
	tr->continued = 1;
}

static void
start_literal(struct imap_trace *tr, uint64_t size)
{
	if (tr->want & LOG_NET_ALL)
		emit(tr, "");
	tr->in_lit = 1;
	tr->lit_size = tr->lit_left = size;
	if (size == 0)
		end_literal(tr);
}

static void
end_of_line(struct imap_trace *tr)
{
	uint64_t size;

	if (tr->ntail > 0 && tr->tail[tr->ntail - 1] == '\r') {
		tr->ntail--;
		if (tr->more > 0)
			tr->more--;
		else
			buf_truncate(&tr->line, tr->line.len - 1);
	}
	if ((tr->continued || !is_text_line(&tr->line)) &&
	    announced(tr, &size)) {
		start_literal(tr, size);
		return;
	}
	/* -DN: the end of a line that ended in a literal shows alone,
	 * unless there is nothing to show. */
	if (!(tr->continued && (tr->want & LOG_NET_ALL) &&
	    tr->line.len == 0 && tr->more == 0))
		emit(tr, "");
	buf_reset(&tr->line);
	tr->more = 0;
	tr->ntail = 0;
	tr->continued = 0;
}

/* Bytes of a line; returns how many were taken. */
static size_t
line_bytes(struct imap_trace *tr, const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	size_t k = lf != NULL ? (size_t)(lf - p) : n;

	add_raw(tr, p, k);
	if (lf == NULL)
		return k;
	end_of_line(tr);
	return k + 1;
}

/* LOG_NET: only the first line of a literal is kept. */
static void
excerpt_bytes(struct imap_trace *tr, const char *p, size_t n)
{
	const char *lf;
	size_t k, room;

	if (tr->excerpt_done) {
		tr->lit_more |= n > 0;
		return;
	}
	lf = memchr(p, '\n', n);
	k = lf != NULL ? (size_t)(lf - p) : n;
	room = IMAP_TRACE_EXCERPT - tr->excerpt.len;
	if (k > room) {
		k = room;
		lf = NULL;
		tr->excerpt_done = tr->lit_more = 1;
	}
	buf_add(&tr->excerpt, p, k);
	if (tr->excerpt.len > 0 && lf != NULL &&
	    tr->excerpt.data[tr->excerpt.len - 1] == '\r')
		buf_truncate(&tr->excerpt, tr->excerpt.len - 1);
	if (lf != NULL) {
		tr->excerpt_done = 1;
		tr->lit_more |= (size_t)(lf - p) + 1 < n;
	}
}

/* LOG_NET_ALL: every line of a literal. */
static void
full_bytes(struct imap_trace *tr, const char *p, size_t n)
{
	while (n > 0) {
		const char *lf = memchr(p, '\n', n);
		size_t k = lf != NULL ? (size_t)(lf - p) : n;

		add_shown(tr, p, k);
		tr->lit_line_open = 1;
		if (lf == NULL)
			return;
		if (tr->more == 0 && tr->line.len > 0 &&
		    tr->line.data[tr->line.len - 1] == '\r')
			buf_truncate(&tr->line, tr->line.len - 1);
		emit(tr, " |");
		tr->lit_line_open = 0;
		p += k + 1;
		n -= k + 1;
	}
}

static size_t
literal_bytes(struct imap_trace *tr, const char *p, size_t n)
{
	size_t k = tr->lit_left < n ? (size_t)tr->lit_left : n;

	if (tr->want & LOG_NET_ALL)
		full_bytes(tr, p, k);
	else
		excerpt_bytes(tr, p, k);
	tr->lit_left -= k;
	if (tr->lit_left == 0)
		end_literal(tr);
	return k;
}

void
imap_trace_bytes(struct imap_trace *tr, const char *p, size_t n)
{
	if (tr->want == 0)
		return;
	while (n > 0) {
		size_t k = tr->in_lit ? literal_bytes(tr, p, n) :
		    line_bytes(tr, p, n);

		p += k;
		n -= k;
	}
}

void
imap_trace_secret(struct imap_trace *tr, size_t n)
{
	struct buf text = BUF_INIT;

	if (tr->want == 0 || n == 0)
		return;
	if (!tr->in_lit) {
		buf_setf(&text, "<redacted %zu bytes>", n);
		put_text(tr, text.data);
		buf_free(&text);
		return;
	}
	if (tr->want & LOG_NET_ALL) {
		buf_setf(&tr->line, "<redacted %llu bytes>",
		    (unsigned long long)tr->lit_size);
		emit(tr, " |");
	}
	tr->lit_secret = 1;
	tr->lit_left -= n < tr->lit_left ? n : tr->lit_left;
	if (tr->lit_left == 0)
		end_literal(tr);
}

void
imap_trace_flush(struct imap_trace *tr)
{
	if (tr->want == 0 || (tr->line.len == 0 && tr->more == 0))
		return;
	if (tr->in_lit && (tr->want & LOG_NET_ALL))
		return;
	emit(tr, "");
	if (tr->in_lit)
		tr->lit_flushed = 1;
}

void
imap_trace_reset(struct imap_trace *tr)
{
	if (tr->want == 0)
		return;
	if (tr->in_lit && (tr->want & LOG_NET_ALL) && tr->lit_line_open)
		emit(tr, " |");
	else if (tr->line.len > 0 || tr->more > 0)
		emit(tr, "");
	tr->in_lit = tr->lit_secret = tr->lit_flushed = 0;
	tr->excerpt_done = tr->lit_more = tr->lit_line_open = 0;
	tr->lit_left = tr->lit_size = 0;
	tr->continued = 0;
	buf_reset(&tr->excerpt);
}

void
imap_trace_free(struct imap_trace *tr)
{
	if (tr->label == NULL)
		return;
	imap_trace_reset(tr);
	buf_free(&tr->line);
	buf_free(&tr->excerpt);
	free(tr->label);
	tr->label = NULL;
}
