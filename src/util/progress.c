/* progress: the status line on a terminal; see progress.h. */
#include "util/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/units.h"

#define PROGRESS_INTERVAL 0.2	/* seconds between two redraws */
#define PROGRESS_RATE_AFTER 1.0	/* no rate before this many seconds,
				   nor before a byte was copied */
#define ERASE_LINE "\r\033[K"

struct slot {
	char *label;		/* NULL: free */
	size_t done, total;	/* messages */
	uint64_t bytes, total_bytes;
};

struct progress {
	FILE *out;
	pthread_mutex_t *lock;
	struct slot *slot;
	size_t nslots;
	uint64_t bytes;		/* copied by every pair since the first plan */
	double started;		/* the first plan; 0: none yet */
	double drawn;		/* the last redraw */
	int shown;		/* the line is on the screen */
};

static void
lock(struct progress *p)
{
	if (p->lock != NULL)
		pthread_mutex_lock(p->lock);
}

static void
unlock(struct progress *p)
{
	if (p->lock != NULL)
		pthread_mutex_unlock(p->lock);
}

struct progress *
progress_new(FILE *out, pthread_mutex_t *mutex)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->out = out;
	p->lock = mutex;
	return p;
}

void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	progress_hide(p);
	for (size_t i = 0; i < p->nslots; i++)
		free(p->slot[i].label);
	free(p->slot);
	free(p);
}

/* The label as the terminal may show it: no control characters, C0, DEL
 * or C1 (U+0080 to U+009F, as UTF-8 a terminal may obey it: U+009B is
 * CSI). */
static void
add_label(struct buf *line, const char *label)
{
	for (const unsigned char *c = (const unsigned char *)label; *c; c++) {
		if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) {
			buf_addc(line, '?');
			c++;
		} else
			buf_addc(line, *c < 0x20 || *c == 0x7f ? '?' :
			    (char)*c);
	}
}

/* Rate and time left, once there is enough to tell them from. */
static void
add_rate(const struct progress *p, struct buf *line, double now)
{
	double took = now - p->started, rate;
	uint64_t left = 0;

	if (took < PROGRESS_RATE_AFTER || p->bytes == 0)
		return;
	rate = (double)p->bytes / took;
	buf_adds(line, ", ");
	units_add_bytes(line, (uint64_t)rate);
	buf_adds(line, "/s");
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slot[i].label != NULL &&
		    p->slot[i].total_bytes > p->slot[i].bytes)
			left += p->slot[i].total_bytes - p->slot[i].bytes;
	if (rate < 1)
		return;
	buf_adds(line, ", ETA ");
	units_add_clock(line, (double)left / rate);
}

/* The status line's text; empty when no pair copies anything. */
static void
compose(const struct progress *p, struct buf *line, double now)
{
	for (size_t i = 0; i < p->nslots; i++) {
		const struct slot *s = &p->slot[i];

		if (s->label == NULL || s->total == 0)
			continue;
		buf_adds(line, line->len > 0 ? ", " : "twinbox: ");
		add_label(line, s->label);
		buf_addf(line, " %zu/%zu", s->done, s->total);
	}
	if (line->len == 0)
		return;
	buf_adds(line, " messages, ");
	units_add_bytes(line, p->bytes);
	add_rate(p, line, now);
}

/* Cut line to fit in width columns less one (a UTF-8 sequence is one
 * column), so that the terminal never wraps it. */
static void
fit(struct buf *line, FILE *out)
{
	struct winsize ws;
	size_t width = 80, cols = 0;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	for (size_t i = 0; i < line->len; i++) {
		if (((unsigned char)line->data[i] & 0xc0) == 0x80)
			continue;
		if (++cols == width) {
			buf_truncate(line, i);
			return;
		}
	}
}

/* Redraw now, or when the last redraw is old enough (force == 0). */
static void
draw(struct progress *p, int force)
{
	struct buf line = BUF_INIT;
	double now = units_now();

	if (!force && now - p->drawn < PROGRESS_INTERVAL)
		return;
	compose(p, &line, now);
	if (line.len == 0) {
		progress_hide(p);
	} else {
		fit(&line, p->out);
		fprintf(p->out, "\r%s\033[K", line.data);
		fflush(p->out);
		p->shown = 1;
	}
	p->drawn = now;
	buf_free(&line);
}

int
progress_begin(struct progress *p, const char *label)
{
	size_t i;

	if (p == NULL)
		return -1;
	lock(p);
	for (i = 0; i < p->nslots && p->slot[i].label != NULL; i++)
		;
	if (i == p->nslots) {
		p->slot = xreallocarray(p->slot, p->nslots + 1,
		    sizeof(*p->slot));
		p->nslots++;
	}
	memset(&p->slot[i], 0, sizeof(p->slot[i]));
	p->slot[i].label = xstrdup(label);
	unlock(p);
	return (int)i;
}

void
progress_plan(struct progress *p, int slot, size_t msgs, uint64_t bytes)
{
	if (p == NULL || slot < 0)
		return;
	lock(p);
	p->slot[slot].total += msgs;
	p->slot[slot].total_bytes += bytes;
	if (p->started == 0)
		p->started = units_now();
	draw(p, 1);
	unlock(p);
}

void
progress_step(struct progress *p, int slot, uint64_t bytes)
{
	if (p == NULL || slot < 0)
		return;
	lock(p);
	p->slot[slot].done++;
	p->slot[slot].bytes += bytes;
	p->bytes += bytes;
	draw(p, 0);
	unlock(p);
}

void
progress_end(struct progress *p, int slot)
{
	int showed;

	if (p == NULL || slot < 0)
		return;
	lock(p);
	showed = p->slot[slot].total > 0;
	free(p->slot[slot].label);
	p->slot[slot].label = NULL;
	if (showed)
		draw(p, 1);
	unlock(p);
}

void
progress_hide(struct progress *p)
{
	if (p == NULL || !p->shown)
		return;
	fputs(ERASE_LINE, p->out);
	fflush(p->out);
	p->shown = 0;
}

void
progress_show(struct progress *p)
{
	if (p == NULL)
		return;
	draw(p, 1);
}
