/* state_file: reading and atomically writing the state file of a mailbox
 * pair, and the file I/O the journal shares; see state.h, state_file.h
 * and docs/state-format.md. */
#include "sync/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/state_file.h"
#include "sync/state_rec.h"

#define STATE_MAGIC "twinbox-state"
/* The version written; version 1 (marks after the pairs, no summary) is
 * read as well and rewritten as version 2 by the next write. */
#define STATE_VERSION "2"

/* The fixed header records, in the order they are written and read. */
static const struct {
	enum journal_kind kind;
	enum side side;
} header_recs[] = {
	{ JR_UIDVALIDITY, SIDE_FAR }, { JR_UIDVALIDITY, SIDE_NEAR },
	{ JR_MAXUID, SIDE_FAR }, { JR_MAXUID, SIDE_NEAR },
	{ JR_HIGHESTMODSEQ, SIDE_FAR }, { JR_HIGHESTMODSEQ, SIDE_NEAR },
};
#define NHEADER_RECS (sizeof(header_recs) / sizeof(header_recs[0]))

static uint64_t
header_value(const struct sync_state *st, enum journal_kind kind,
    enum side side)
{
	if (kind == JR_UIDVALIDITY)
		return st->uidvalidity[side];
	if (kind == JR_MAXUID)
		return st->maxuid[side];
	return st->highestmodseq[side];
}

/* Version 2 keeps what a skip decides by in the head: the marks and the
 * summary come before the pairs (the reader applies the marks after
 * them, as a pair record would clear them). */
void
state_format(const struct sync_state *st, struct buf *out)
{
	struct journal_rec rec;
	size_t start;

	/* About 30 bytes a pair line, 80 an intent's: one allocation. */
	buf_grow(out, 1024 + 32 * st->npairs + 96 * st->nintents);
	buf_adds(out, STATE_MAGIC " " STATE_VERSION "\n");
	start = out->len;
	buf_addf(out, "generation %llu", (unsigned long long)st->generation);
	rec_seal(out, start);
	for (size_t i = 0; i < NHEADER_RECS; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.kind = header_recs[i].kind;
		rec.side = header_recs[i].side;
		rec.value = header_value(st, rec.kind, rec.side);
		rec_add_sealed(&rec, out);
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = JR_SETTLED;
	for (int s = 0; s < 2; s++) {
		if (st->settled[s].uidnext == 0)
			continue;
		rec.side = (enum side)s;
		rec.mark = st->settled[s];
		rec_add_sealed(&rec, out);
	}
	start = out->len;
	buf_addf(out, "summary %zu %zu %zu %016llx",
	    state_count_side(st, SIDE_FAR), state_count_side(st, SIDE_NEAR),
	    st->nintents, (unsigned long long)st->policy);
	rec_seal(out, start);
	memset(&rec, 0, sizeof(rec));
	rec.kind = JR_PAIR_NEW;
	for (size_t i = 0; i < st->npairs; i++) {
		rec.pair = st->pairs[i];
		rec_add_sealed(&rec, out);
	}
	rec.kind = JR_COPY_INTENT;
	for (size_t i = 0; i < st->nintents; i++) {
		rec.copy = st->intents[i];
		rec_add_sealed(&rec, out);
	}
	start = out->len;
	buf_addf(out, "end %zu %zu", st->npairs, st->nintents);
	rec_seal(out, start);
}

static int
write_synced(const char *tmp, const struct buf *text, struct buf *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		buf_setf(err, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (state_file_write_all(fd, text->data, text->len, tmp, err) != 0) {
		close(fd);
		return -1;
	}
	if (fsync(fd) != 0) {
		buf_setf(err, "%s: cannot sync: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		buf_setf(err, "%s: cannot close: %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_state(const char *path, const struct sync_state *st, int sync_dir,
    struct buf *err)
{
	struct buf text = BUF_INIT, tmp = BUF_INIT;
	int rc = -1;

	state_format(st, &text);
	buf_setf(&tmp, "%s.new", path);
	if (write_synced(tmp.data, &text, err) != 0) {
		unlink(tmp.data);
		goto out;
	}
	if (rename(tmp.data, path) != 0) {
		buf_setf(err, "%s: cannot rename to %s: %s", tmp.data, path,
		    strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	rc = sync_dir ? state_file_sync_dir(path, err) : 0;
out:
	buf_free(&text);
	buf_free(&tmp);
	return rc;
}

int
state_write(const char *path, const struct sync_state *st, struct buf *err)
{
	return write_state(path, st, 1, err);
}

int
state_write_rebuildable(const char *path, const struct sync_state *st,
    struct buf *err)
{
	return write_state(path, st, 0, err);
}

struct state_parser {
	const char *path;
	struct rec_reader r;
	struct sync_state *st;
	int version;		/* 1 or 2 */
	size_t nheader;		/* fixed header records read so far */
	unsigned settled;	/* bit per side: settled record read */
	struct side_mark marks[2];	/* version 2: applied at end */
	int seen_generation;
	int seen_summary;	/* version 2 */
	struct state_head head;	/* version 2: the summary's counts */
	int head_only;		/* stop after the summary */
	int seen_end;
};

static int
parse_generation(struct state_parser *sp, const struct rec_fields *f,
    struct buf *err)
{
	if (!rec_is(f, 0, "generation") || f->n != 2) {
		buf_setf(err, "expected the generation record");
		return -1;
	}
	sp->seen_generation = 1;
	return rec_number(f, 1, UINT64_MAX, "generation",
	    &sp->st->generation, err);
}

/* Version 2: the summary agrees with the pairs read, and the marks of
 * the head hold from here on. */
static int
end_v2(struct state_parser *sp, struct buf *err)
{
	const struct sync_state *st = sp->st;

	if (sp->head.count[SIDE_FAR] != state_count_side(st, SIDE_FAR) ||
	    sp->head.count[SIDE_NEAR] !=
	    state_count_side(st, SIDE_NEAR) ||
	    sp->head.nintents != st->nintents) {
		buf_setf(err, "end: the summary's counts do not match the "
		    "pairs and intents of the file");
		return -1;
	}
	for (int s = 0; s < 2; s++) {
		struct journal_rec rec = { .kind = JR_SETTLED,
		    .side = (enum side)s, .mark = sp->marks[s] };

		if (rec.mark.uidnext != 0 &&
		    state_apply(sp->st, &rec, err) != 0)
			return -1;
	}
	return 0;
}

static int
parse_end(struct state_parser *sp, const struct rec_fields *f,
    struct buf *err)
{
	uint64_t npairs, nintents;

	if (f->n != 3) {
		buf_setf(err, "end: %zu fields, expected 3", f->n);
		return -1;
	}
	if (rec_number(f, 1, SIZE_MAX, "pair count", &npairs, err) != 0 ||
	    rec_number(f, 2, SIZE_MAX, "intent count", &nintents, err) != 0)
		return -1;
	if (npairs != sp->st->npairs || nintents != sp->st->nintents) {
		buf_setf(err, "end: file holds %zu pairs and %zu intents, "
		    "end record says %llu and %llu", sp->st->npairs,
		    sp->st->nintents, (unsigned long long)npairs,
		    (unsigned long long)nintents);
		return -1;
	}
	sp->seen_end = 1;
	return sp->version == 2 ? end_v2(sp, err) : 0;
}

/* Settled marks come last, far before near, each at most once. */
static int
check_settled_order(struct state_parser *sp, const struct journal_rec *rec,
    struct buf *err)
{
	if (rec->kind != JR_SETTLED) {
		if (sp->settled == 0)
			return 0;
		buf_setf(err, "%s after a settled mark",
		    rec->kind == JR_PAIR_NEW ? "pair" : "copy intent");
		return -1;
	}
	if (sp->settled >> rec->side) {
		buf_setf(err, "settled mark out of order");
		return -1;
	}
	sp->settled |= 1u << rec->side;
	return 0;
}

/* Records after the header must come in the order state_format() uses:
 * pairs ascending, then intents ascending, then settled marks. */
static int
check_body_order(struct state_parser *sp, const struct journal_rec *rec,
    struct buf *err)
{
	const struct sync_state *st = sp->st;

	if (rec->kind != JR_PAIR_NEW && rec->kind != JR_COPY_INTENT &&
	    (rec->kind != JR_SETTLED || sp->version == 2)) {
		buf_setf(err, "record kind not allowed in a state file");
		return -1;
	}
	if (sp->version == 1 && check_settled_order(sp, rec, err) != 0)
		return -1;
	if (rec->kind == JR_PAIR_NEW) {
		const struct pair_rec *last = st->npairs ?
		    &st->pairs[st->npairs - 1] : NULL;

		if (st->nintents > 0 || (last != NULL &&
		    (rec->pair.uid[SIDE_FAR] < last->uid[SIDE_FAR] ||
		    (rec->pair.uid[SIDE_FAR] == last->uid[SIDE_FAR] &&
		    rec->pair.uid[SIDE_NEAR] <= last->uid[SIDE_NEAR])))) {
			buf_setf(err, "pair out of order");
			return -1;
		}
		return 0;
	}
	if (rec->kind == JR_COPY_INTENT) {
		const struct copy_intent *last = st->nintents ?
		    &st->intents[st->nintents - 1] : NULL;

		if (last != NULL && (rec->copy.src < last->src ||
		    (rec->copy.src == last->src &&
		    rec->copy.src_uid <= last->src_uid))) {
			buf_setf(err, "copy intent out of order");
			return -1;
		}
	}
	return 0;
}

static int
parse_summary(struct state_parser *sp, const struct rec_fields *f,
    struct buf *err)
{
	uint64_t v[3];

	if (!rec_is(f, 0, "summary") || f->n != 5) {
		buf_setf(err, "expected a settled mark or the summary record");
		return -1;
	}
	if (rec_number(f, 1, SIZE_MAX, "far count", &v[0], err) != 0 ||
	    rec_number(f, 2, SIZE_MAX, "near count", &v[1], err) != 0 ||
	    rec_number(f, 3, SIZE_MAX, "intent count", &v[2], err) != 0 ||
	    rec_hex64(f, 4, "policy digest", &sp->st->policy, err) != 0)
		return -1;
	sp->head.count[SIDE_FAR] = (size_t)v[0];
	sp->head.count[SIDE_NEAR] = (size_t)v[1];
	sp->head.nintents = (size_t)v[2];
	sp->seen_summary = 1;
	return 0;
}

/* Version 2's head after the fixed records: settled marks (far before
 * near, each at most once), kept aside, then the summary. */
static int
parse_head_tail(struct state_parser *sp, const struct rec_fields *f,
    struct buf *err)
{
	struct journal_rec rec;

	if (!rec_is(f, 0, "settled"))
		return parse_summary(sp, f, err);
	if (rec_parse(f, &rec, err) != 0 ||
	    check_settled_order(sp, &rec, err) != 0)
		return -1;
	sp->marks[rec.side] = rec.mark;
	return 0;
}

static int
parse_body(struct state_parser *sp, const struct rec_fields *f,
    struct buf *err)
{
	struct journal_rec rec;

	if (!sp->seen_generation)
		return parse_generation(sp, f, err);
	if (sp->nheader == NHEADER_RECS && sp->version == 2 &&
	    !sp->seen_summary)
		return parse_head_tail(sp, f, err);
	if (rec_is(f, 0, "end") && sp->nheader == NHEADER_RECS)
		return parse_end(sp, f, err);
	if (rec_parse(f, &rec, err) != 0)
		return -1;
	if (sp->nheader < NHEADER_RECS) {
		if (rec.kind != header_recs[sp->nheader].kind ||
		    rec.side != header_recs[sp->nheader].side) {
			buf_setf(err, "header records out of order");
			return -1;
		}
		sp->nheader++;
	} else if (check_body_order(sp, &rec, err) != 0) {
		return -1;
	}
	return state_apply(sp->st, &rec, err);
}

static int
parse_line(struct state_parser *sp, const char *line, size_t len,
    int complete, struct buf *err)
{
	struct rec_fields f;
	size_t plen;

	if (sp->seen_end) {
		buf_setf(err, "data after the end record");
		return -1;
	}
	if (!complete) {
		buf_setf(err, "truncated line");
		return -1;
	}
	if (rec_unseal(line, len, &plen, err) != 0 ||
	    rec_split(line, plen, &f, err) != 0)
		return -1;
	return parse_body(sp, &f, err);
}

/* "twinbox-state 1" or "twinbox-state 2". */
static int
check_version(struct state_parser *sp, const char *line, size_t len,
    struct buf *why)
{
	size_t mlen = strlen(STATE_MAGIC);

	if (len == mlen + 2 && memcmp(line, STATE_MAGIC " ", mlen + 1) == 0 &&
	    (line[mlen + 1] == '1' || line[mlen + 1] == '2')) {
		sp->version = line[mlen + 1] - '0';
		return 0;
	}
	if (len <= mlen || memcmp(line, STATE_MAGIC, mlen) != 0 ||
	    line[mlen] != ' ') {
		buf_setf(why, "not a twinbox state file (no \"%s\" header)",
		    STATE_MAGIC);
		return -1;
	}
	buf_setf(why, "unsupported state file version \"%.*s\" (this "
	    "twinbox reads versions 1 and " STATE_VERSION ")",
	    (int)(len - mlen - 1 > 20 ? 20 : len - mlen - 1),
	    line + mlen + 1);
	return -1;
}

static int
parse_header(struct state_parser *sp, struct buf *why)
{
	const char *line = "";
	size_t len = 0;
	int complete = 0;

	rec_next_line(&sp->r, &line, &len, &complete);
	sp->r.lineno = 1;
	if (check_version(sp, line, len, why) != 0)
		return -1;
	if (!complete) {
		buf_setf(why, "truncated header");
		return -1;
	}
	return 0;
}

static int
parse_state_text(struct state_parser *sp, struct buf *err)
{
	struct buf why = BUF_INIT;
	const char *line;
	size_t len;
	int complete;

	if (parse_header(sp, &why) != 0) {
		buf_setf(err, "%s:1: %s", sp->path, why.data);
		buf_free(&why);
		return -1;
	}
	while (!(sp->head_only && (sp->seen_summary || sp->version == 1)) &&
	    rec_next_line(&sp->r, &line, &len, &complete)) {
		if (parse_line(sp, line, len, complete, &why) != 0) {
			buf_setf(err, "%s:%u: bad record: %s", sp->path,
			    sp->r.lineno, why.data);
			buf_free(&why);
			return -1;
		}
	}
	buf_free(&why);
	if (sp->head_only && (sp->seen_summary || sp->version == 1))
		return 0;
	if (!sp->seen_end) {
		buf_setf(err, "%s:%u: bad record: truncated file (no end "
		    "record)", sp->path, sp->r.lineno + 1);
		return -1;
	}
	return 0;
}

int
state_read(const char *path, struct sync_state *st, int *found,
    struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct state_parser sp;
	int rc;

	if (state_file_read(path, &text, found, err) != 0) {
		buf_free(&text);
		return -1;
	}
	if (!*found)
		return 0;
	memset(&sp, 0, sizeof(sp));
	sp.path = path;
	sp.st = st;
	sp.r.data = text.data;
	sp.r.len = text.len;
	rc = parse_state_text(&sp, err);
	if (rc == 0 && state_check(st, &why) != 0) {
		buf_setf(err, "%s: bad state: %s", path, why.data);
		rc = -1;
	}
	if (rc != 0)
		state_free(st);
	buf_free(&text);
	buf_free(&why);
	return rc;
}

/* The head is a dozen short lines: this much holds it with room left. */
#define STATE_HEAD_MAX 4096
/* The end record's line is at most "end", two 20-digit counts and the
 * checksum: 56 bytes with its spaces and newline. */
#define STATE_TAIL_MAX 64

/* The last '\n' of the first n bytes of p, or NULL (memrchr() is a GNU
 * extension: macOS lacks it). */
static const char *
last_newline(const char *p, size_t n)
{
	while (n > 0)
		if (p[--n] == '\n')
			return p + n;
	return NULL;
}

/*
 * The file's last line is its end record, sealed, with counts that fit
 * the summary of head h: what proves that the file was written to its
 * end (a file cut short, or ending in zeros, as a crash can leave one
 * whose data never reached the disk, does not). tail: the file's last
 * bytes.
 */
static int
end_proves_head(const struct state_head *h, const struct buf *tail)
{
	struct buf ignored = BUF_INIT;
	struct rec_fields f;
	const char *line, *nl;
	size_t len, plen;
	uint64_t npairs, nintents;
	int ok;

	if (tail->len < 2 || tail->data[tail->len - 1] != '\n')
		return 0;
	nl = last_newline(tail->data, tail->len - 1);
	if (nl == NULL)
		return 0;
	line = nl + 1;
	len = (size_t)(tail->data + tail->len - 1 - line);
	ok = rec_unseal(line, len, &plen, &ignored) == 0 &&
	    rec_split(line, plen, &f, &ignored) == 0 && rec_is(&f, 0, "end") &&
	    f.n == 3 &&
	    rec_number(&f, 1, SIZE_MAX, "pairs", &npairs, &ignored) == 0 &&
	    rec_number(&f, 2, SIZE_MAX, "intents", &nintents, &ignored) == 0;
	buf_free(&ignored);
	/* Every pair has a UID on at least one side. */
	return ok && nintents == h->nintents &&
	    npairs >= h->count[SIDE_FAR] && npairs >= h->count[SIDE_NEAR] &&
	    npairs <= (uint64_t)h->count[SIDE_FAR] + h->count[SIDE_NEAR];
}

/* The head parsed from text, if it is a version 2 one; 1 and *h. */
static int
parse_head(const char *path, const struct buf *text, struct state_head *h)
{
	struct buf ignored = BUF_INIT;
	struct sync_state st;
	struct state_parser sp;
	int rc = 0;

	state_init(&st);
	memset(&sp, 0, sizeof(sp));
	sp.path = path;
	sp.st = &st;
	sp.head_only = 1;
	sp.r.data = text->data;
	sp.r.len = text->len;
	if (parse_state_text(&sp, &ignored) == 0 && sp.version == 2 &&
	    sp.seen_summary) {
		*h = sp.head;
		h->generation = st.generation;
		h->policy = st.policy;
		for (int s = 0; s < 2; s++) {
			h->uidvalidity[s] = st.uidvalidity[s];
			h->settled[s] = sp.marks[s];
		}
		rc = 1;
	}
	state_free(&st);
	buf_free(&ignored);
	return rc;
}

int
state_read_head(const char *path, struct state_head *h, struct buf *err)
{
	struct buf text = BUF_INIT, tail = BUF_INIT;
	int found, rc;

	rc = state_file_read_ends(path, &text, STATE_HEAD_MAX, &tail,
	    STATE_TAIL_MAX, &found, err);
	if (rc == 0 && found)
		rc = parse_head(path, &text, h) && end_proves_head(h, &tail);
	buf_free(&text);
	buf_free(&tail);
	return rc;
}

/* Append at most max bytes of fd to out, from where it stands. */
static int
read_fd_upto(int fd, const char *path, struct buf *out, size_t max,
    struct buf *err)
{
	size_t start = out->len;
	ssize_t n = 0;

	while (out->len - start < max) {
		size_t want;

		buf_grow(out, 65536);
		want = out->cap - out->len - 1;
		if (want > max - (out->len - start))
			want = max - (out->len - start);
		n = read(fd, out->data + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	if (n < 0) {
		buf_setf(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* path opened for reading: 1; 0 with *found = 0 if it does not exist;
 * -1 with err set. */
static int
open_found(const char *path, int *fd, int *found, struct buf *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	*found = *fd >= 0;
	if (*fd >= 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	buf_setf(err, "%s: cannot open: %s", path, strerror(errno));
	return -1;
}

int
state_file_read(const char *path, struct buf *out, int *found,
    struct buf *err)
{
	int fd, rc = open_found(path, &fd, found, err);

	if (rc <= 0)
		return rc;
	rc = read_fd_upto(fd, path, out, SIZE_MAX, err);
	close(fd);
	return rc;
}

/* The last tail_max bytes of fd, whose first head->len bytes are read:
 * taken from head when it holds the whole file, else read at the end. */
static int
read_fd_tail(int fd, const char *path, const struct buf *head,
    struct buf *tail, size_t tail_max, struct buf *err)
{
	struct stat sb;
	off_t from;

	if (fstat(fd, &sb) != 0) {
		buf_setf(err, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	if ((uint64_t)sb.st_size <= head->len) {
		from = head->len > tail_max ? (off_t)(head->len - tail_max) : 0;
		buf_add(tail, head->data + from, head->len - (size_t)from);
		return 0;
	}
	from = sb.st_size > (off_t)tail_max ? sb.st_size - (off_t)tail_max :
	    0;
	if (lseek(fd, from, SEEK_SET) < 0) {
		buf_setf(err, "%s: cannot seek: %s", path, strerror(errno));
		return -1;
	}
	return read_fd_upto(fd, path, tail, tail_max, err);
}

int
state_file_read_ends(const char *path, struct buf *head, size_t head_max,
    struct buf *tail, size_t tail_max, int *found, struct buf *err)
{
	int fd, rc = open_found(path, &fd, found, err);

	if (rc <= 0)
		return rc;
	rc = read_fd_upto(fd, path, head, head_max, err);
	if (rc == 0)
		rc = read_fd_tail(fd, path, head, tail, tail_max, err);
	close(fd);
	return rc;
}

int
state_file_write_all(int fd, const char *p, size_t len, const char *path,
    struct buf *err)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_setf(err, "%s: cannot write: %s", path,
			    strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
state_file_sync_dir(const char *path, struct buf *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
	    xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) != 0) {
		buf_setf(err, "%s: cannot sync directory: %s", dir,
		    strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}
