/* mbsync_state: reading mbsync's state of a pair; see mbsync_state.h. */
#include "sync/mbsync_state.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sync/state_path.h"
#include "sync/state_file.h"
#include "sync/state_rec.h"

#define MB_UIDVAL_BAD UINT32_MAX	/* mbsync's "never seen" */

enum mb_kind { MB_PLAIN, MB_SKIPPED, MB_EXPIRED };

struct mb_entry {
	uint32_t uid[2];
	unsigned flags;
	enum mb_kind kind;
	int dead;
	int pending;		/* a copy the journal left unfinished */
};

struct mb_state {
	uint32_t uidval[2];
	uint32_t maxuid[2];
	uint32_t newmaxuid[2];	/* journal: highest UID of a new entry */
	struct mb_entry *e;
	size_t n, cap;
};

/* A line being parsed, for "PATH:LINE: " errors. */
struct mb_line {
	const char *path;
	unsigned lineno;
	const char *p;		/* the next unread byte */
	const char *end;
};

static int
bad(const struct mb_line *l, struct buf *err, const char *what)
{
	buf_setf(err, "%s:%u: %s", l->path, l->lineno, what);
	return -1;
}

/* A decimal number of 32 bits; -1 if there is none or it overflows. */
static int
take_u32(struct mb_line *l, uint32_t *out)
{
	uint64_t v = 0;
	const char *start = l->p;

	while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
		v = v * 10 + (uint64_t)(*l->p - '0');
		if (v > UINT32_MAX)
			return -1;
		l->p++;
	}
	if (l->p == start)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
take_char(struct mb_line *l, char c)
{
	if (l->p >= l->end || *l->p != c)
		return -1;
	l->p++;
	return 0;
}

/* " N" repeated n times, then the end of the line. */
static int
take_args(struct mb_line *l, uint32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		if (take_char(l, ' ') != 0 || take_u32(l, &v[i]) != 0)
			return -1;
	return l->p == l->end ? 0 : -1;
}

/* Maildir letters in the order DFPRST, each at most once; the same bit
 * order as enum msg_flag and as mbsync's own flag masks. */
static int
take_flags(struct mb_line *l, unsigned *flags)
{
	size_t next = 0;

	*flags = 0;
	while (l->p < l->end) {
		const char *at = strchr(msg_flag_letters + next, *l->p);

		if (*l->p == '\0' || at == NULL)
			return -1;
		next = (size_t)(at - msg_flag_letters);
		*flags |= 1u << next;
		next++;
		l->p++;
	}
	return 0;
}

static struct mb_entry *
add_entry(struct mb_state *ms)
{
	ms->e = xgrow(ms->e, &ms->cap, ms->n + 1, 64, sizeof(*ms->e));
	memset(&ms->e[ms->n], 0, sizeof(ms->e[0]));
	return &ms->e[ms->n++];
}

/* The live entry of UIDs f/n, latest first, as mbsync's replay finds it. */
static struct mb_entry *
find_entry(struct mb_state *ms, uint32_t f, uint32_t n)
{
	for (size_t i = ms->n; i-- > 0;)
		if (!ms->e[i].dead && ms->e[i].uid[SIDE_FAR] == f &&
		    ms->e[i].uid[SIDE_NEAR] == n)
			return &ms->e[i];
	return NULL;
}

/* "Key N" of the header, or the single line of the pre-1.1 format. */
static int
header_line(struct mb_state *ms, struct mb_line *l, struct buf *err)
{
	static const struct {
		const char *key;
		int what;	/* 0-1 uidval, 2-3 maxuid, 4 ignored */
	} keys[] = {
		{ "FarUidValidity", 0 }, { "MasterUidValidity", 0 },
		{ "NearUidValidity", 1 }, { "SlaveUidValidity", 1 },
		{ "MaxPulledUid", 2 }, { "MaxPushedUid", 3 },
		{ "MaxExpiredFarUid", 4 }, { "MaxExpiredMasterUid", 4 },
		{ "MaxExpiredSlaveUid", 4 },
	};
	const char *sp = memchr(l->p, ' ', (size_t)(l->end - l->p));
	uint32_t v, x;

	if (l->lineno == 1 && *l->p >= '0' && *l->p <= '9') {
		if (take_u32(l, &ms->uidval[SIDE_FAR]) != 0 ||
		    take_char(l, ':') != 0 ||
		    take_u32(l, &ms->maxuid[SIDE_FAR]) != 0 ||
		    take_char(l, ' ') != 0 ||
		    take_u32(l, &ms->uidval[SIDE_NEAR]) != 0 ||
		    take_char(l, ':') != 0 || take_u32(l, &x) != 0 ||
		    take_char(l, ':') != 0 ||
		    take_u32(l, &ms->maxuid[SIDE_NEAR]) != 0 || l->p != l->end)
			return bad(l, err, "malformed pre-1.1 header line");
		return 0;
	}
	if (sp == NULL)
		return bad(l, err, "malformed header line (no value)");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].key) != (size_t)(sp - l->p) ||
		    memcmp(keys[i].key, l->p, (size_t)(sp - l->p)) != 0)
			continue;
		l->p = sp;
		if (take_args(l, &v, 1) != 0)
			return bad(l, err, "malformed header value");
		if (keys[i].what < 2)
			ms->uidval[keys[i].what] = v;
		else if (keys[i].what < 4)
			ms->maxuid[keys[i].what - 2] = v;
		return 0;
	}
	return bad(l, err, "unknown header key");
}

/* "FAR NEAR [<>][^~X]FLAGS" */
static int
entry_line(struct mb_state *ms, struct mb_line *l, struct buf *err)
{
	struct mb_entry *e = add_entry(ms);

	if (take_u32(l, &e->uid[SIDE_FAR]) != 0 || take_char(l, ' ') != 0 ||
	    take_u32(l, &e->uid[SIDE_NEAR]) != 0)
		return bad(l, err, "malformed entry (two UIDs expected)");
	if (l->p < l->end && take_char(l, ' ') != 0)
		return bad(l, err, "malformed entry (space expected)");
	if (l->p < l->end && (*l->p == '<' || *l->p == '>'))
		return bad(l, err, "placeholder entry (mbsync 1.5's "
		    "placeholders for messages over MaxSize are not taken "
		    "over)");
	if (l->p < l->end && *l->p == '^') {
		e->kind = MB_SKIPPED;
		l->p++;
	} else if (l->p < l->end && (*l->p == '~' || *l->p == 'X')) {
		e->kind = MB_EXPIRED;
		l->p++;
	}
	for (int s = 0; s < 2; s++) {
		if (e->uid[s] != UINT32_MAX)
			continue;
		e->uid[s] = 0;		/* pre-1.3: skipped */
		e->kind = MB_SKIPPED;
	}
	if (take_flags(l, &e->flags) != 0)
		return bad(l, err, "malformed entry flags (Maildir letters "
		    "DFPRST expected)");
	if (e->uid[SIDE_FAR] == 0 && e->uid[SIDE_NEAR] == 0)
		e->dead = 1;
	return 0;
}

static int
next_line(struct rec_reader *r, struct mb_line *l, struct buf *err)
{
	const char *line;
	size_t len;
	int complete;

	if (!rec_next_line(r, &line, &len, &complete))
		return 0;
	l->lineno = r->lineno;
	l->p = line;
	l->end = line + len;
	if (!complete)
		return bad(l, err, "incomplete last line") - 1;
	return 1;
}

static int
parse_state(struct mb_state *ms, const struct buf *text, const char *path,
    struct buf *err)
{
	struct rec_reader r = { text->data, text->len, 0, 0 };
	struct mb_line l = { path, 0, NULL, NULL };
	int rc, in_header = 1;

	while ((rc = next_line(&r, &l, err)) == 1) {
		if (l.lineno == 1 && l.end - l.p >= 14 &&
		    memcmp(l.p, "twinbox-state ", 14) == 0)
			return bad(&l, err, "twinbox's own state, named as "
			    "before twinbox ended these names in "
			    STATE_PREFIX_SUFFIX
			    " (add that ending to keep it)");
		if (in_header && l.p == l.end)
			in_header = 0;
		else if (in_header ? header_line(ms, &l, err) != 0 :
		    entry_line(ms, &l, err) != 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (in_header) {
		buf_setf(err, "%s:%u: unterminated header (no empty line)",
		    path, l.lineno);
		return -1;
	}
	return 0;
}

/* The records that need no entry. 1 if c was one of them. */
static int
journal_global(struct mb_state *ms, char c, struct mb_line *l, int version,
    struct buf *err)
{
	uint32_t v[2];

	if (c == '!' && version <= 4)
		return take_args(l, v, 1) == 0 ? 1 : bad(l, err,
		    "malformed journal record");
	if (c == 'S' && version == 3) {
		/* 1.3: the side's maxuid reaches its new entries' */
		if (take_args(l, v, 1) != 0 || v[0] > 1)
			return bad(l, err, "malformed journal record");
		ms->maxuid[v[0]] = ms->newmaxuid[v[0]];
		return 1;
	}
	if ((c != 'N' || version == 3) && c != 'F' && c != 'T' && c != '|')
		return 0;
	if (take_args(l, v, 2) != 0 || (c != '|' && v[0] > 1))
		return bad(l, err, "malformed journal record");
	if (c == 'N')
		ms->maxuid[v[0]] = v[1];
	else if (c == '|') {
		ms->uidval[SIDE_FAR] = v[0];
		ms->uidval[SIDE_NEAR] = v[1];
	}
	/* F (a saved UIDNEXT) and T (a message moved to Trash) change
	 * nothing that twinbox takes over. */
	return 1;
}

/* A record naming an entry by its two UIDs. */
static int
journal_entry(struct mb_state *ms, char c, struct mb_line *l, int version,
    struct buf *err)
{
	uint32_t v[3];
	struct mb_entry *e;
	int nargs = strchr("<>*%", c) != NULL ? 3 : 2;

	if (c == '#') {
		/* "# FAR NEAR TUID": the copy's tracking ID */
		if (take_char(l, ' ') != 0 || take_u32(l, &v[0]) != 0 ||
		    take_char(l, ' ') != 0 || take_u32(l, &v[1]) != 0 ||
		    take_char(l, ' ') != 0)
			return bad(l, err, "malformed journal record");
		l->p = l->end;
	} else if (strchr("+-=&<>*%", c) == NULL ||
	    (c == '=' && version == 5) || (c == '%' && version != 5)) {
		return bad(l, err, strchr("_^P$~", c) != NULL ?
		    "journal record of placeholders or MaxMessages expiry "
		    "(not taken over)" : "unknown journal record");
	} else if (take_args(l, v, nargs) != 0) {
		return bad(l, err, "malformed journal record");
	}
	if (c == '+') {
		e = add_entry(ms);
		e->uid[SIDE_FAR] = v[0];
		e->uid[SIDE_NEAR] = v[1];
		e->pending = 1;
		for (int t = 0; t < 2; t++)
			if (ms->newmaxuid[t] < e->uid[t])
				ms->newmaxuid[t] = e->uid[t];
		return 0;
	}
	if ((e = find_entry(ms, v[0], v[1])) == NULL)
		return bad(l, err, "journal record names no entry");
	switch (c) {
	case '-':
	case '=':
		e->dead = 1;
		break;
	case '<':
	case '>':
		e->uid[c == '<' ? SIDE_FAR : SIDE_NEAR] = v[2];
		e->pending = 0;
		break;
	case '*':
	case '%':
		if (v[2] > MSG_ALL_FLAGS)
			return bad(l, err, "journal flags out of range");
		e->flags = v[2];
		break;
	default:		/* '#', '&': the copy is still under way */
		break;
	}
	return 0;
}

static int
parse_journal(struct mb_state *ms, const struct buf *text, const char *path,
    struct buf *err)
{
	struct rec_reader r = { text->data, text->len, 0, 0 };
	struct mb_line l = { path, 0, NULL, NULL };
	int rc, version;

	if ((rc = next_line(&r, &l, err)) != 1)
		return rc < 0 ? -1 : 0;
	if (l.end - l.p != 1 || *l.p < '3' || *l.p > '5')
		return bad(&l, err, "journal version not read (mbsync 1.3's "
		    "version 3, 1.4's 4 and 1.5's 5 are)");
	version = *l.p - '0';
	ms->newmaxuid[SIDE_FAR] = ms->maxuid[SIDE_FAR];
	ms->newmaxuid[SIDE_NEAR] = ms->maxuid[SIDE_NEAR];
	while ((rc = next_line(&r, &l, err)) == 1) {
		char c = l.p < l.end ? *l.p++ : '\0';

		rc = journal_global(ms, c, &l, version, err);
		if (rc < 0)
			return -1;
		if (rc == 0 && journal_entry(ms, c, &l, version, err) != 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

static int
apply(struct sync_state *st, const struct journal_rec *rec,
    const char *path, struct buf *err)
{
	struct buf why = BUF_INIT;

	if (state_apply(st, rec, &why) == 0) {
		buf_free(&why);
		return 0;
	}
	buf_setf(err, "%s: does not fit: %s", path, why.data);
	buf_free(&why);
	return -1;
}

static int
convert(const struct mb_state *ms, struct sync_state *st, const char *path,
    struct buf *err)
{
	struct journal_rec rec;
	struct buf why = BUF_INIT;

	for (int s = 0; s < 2; s++) {
		if (ms->uidval[s] == 0 || ms->uidval[s] == MB_UIDVAL_BAD) {
			buf_setf(err, "%s: no UIDVALIDITY recorded for the %s "
			    "side", path, side_names[s]);
			return -1;
		}
		memset(&rec, 0, sizeof(rec));
		rec.kind = JR_UIDVALIDITY;
		rec.side = (enum side)s;
		rec.value = ms->uidval[s];
		if (apply(st, &rec, path, err) != 0)
			return -1;
		rec.kind = JR_MAXUID;
		rec.value = ms->maxuid[s];
		if (apply(st, &rec, path, err) != 0)
			return -1;
	}
	for (size_t i = 0; i < ms->n; i++) {
		const struct mb_entry *e = &ms->e[i];

		if (e->dead)
			continue;
		if (e->pending) {
			buf_setf(err, "%s.journal: a copy of UID %u/%u is "
			    "unfinished", path, e->uid[SIDE_FAR],
			    e->uid[SIDE_NEAR]);
			return -1;
		}
		memset(&rec, 0, sizeof(rec));
		rec.kind = JR_PAIR_NEW;
		rec.pair.uid[SIDE_FAR] = e->uid[SIDE_FAR];
		rec.pair.uid[SIDE_NEAR] = e->uid[SIDE_NEAR];
		rec.pair.flags = e->flags;
		if (e->kind == MB_SKIPPED)
			rec.pair.status = PAIR_TOO_BIG;
		else if (e->kind == MB_EXPIRED)
			rec.pair.status = PAIR_EXPIRED;
		else if (e->uid[SIDE_FAR] == 0 || e->uid[SIDE_NEAR] == 0)
			rec.pair.status = PAIR_GONE_MARKED;
		if (apply(st, &rec, path, err) != 0)
			return -1;
	}
	if (state_check(st, &why) == 0)
		return 0;
	buf_setf(err, "%s: does not fit: %s", path, why.data);
	buf_free(&why);
	return -1;
}

static int
journal_due(const char *path, struct buf *journal, int *found,
    struct buf *err)
{
	struct buf name = BUF_INIT;
	struct stat sb;
	int rc;

	*found = 0;
	buf_addf(&name, "%s.new", path);
	if (stat(name.data, &sb) != 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc != 0)
			buf_setf(err, "%s: %s", name.data, strerror(errno));
		buf_free(&name);
		return rc;
	}
	buf_reset(&name);
	buf_addf(&name, "%s.journal", path);
	rc = state_file_read(name.data, journal, found, err);
	buf_free(&name);
	return rc;
}

int
mbsync_state_read(const char *path, struct sync_state *st, int *found,
    struct buf *err)
{
	struct mb_state ms;
	struct buf text = BUF_INIT, jname = BUF_INIT;
	int jfound, rc = -1;

	memset(&ms, 0, sizeof(ms));
	*found = 0;
	if (state_file_read(path, &text, found, err) != 0)
		goto out;
	if (!*found) {
		rc = 0;
		goto out;
	}
	if (parse_state(&ms, &text, path, err) != 0)
		goto out;
	buf_reset(&text);
	if (journal_due(path, &text, &jfound, err) != 0)
		goto out;
	buf_addf(&jname, "%s.journal", path);
	if (jfound && parse_journal(&ms, &text, jname.data, err) != 0)
		goto out;
	rc = convert(&ms, st, path, err);
	if (rc != 0) {
		state_free(st);
		state_init(st);
	}
out:
	free(ms.e);
	buf_free(&text);
	buf_free(&jname);
	return rc;
}

/* '/' becomes '!', as mbsync writes a mailbox name into a file name. */
static void
add_clean(struct buf *out, const char *box)
{
	for (; *box; box++)
		buf_addc(out, *box == '/' ? '!' : *box);
}

static void
add_candidate(struct strlist *out, const char *prefix,
    const struct mbsync_where *w, int global)
{
	struct buf p = BUF_INIT;
	char c = w->delimiter ? w->delimiter : ':';

	if (strncmp(prefix, "~/", 2) == 0) {
		if (w->home == NULL || w->home[0] != '/')
			return;
		buf_addf(&p, "%s%s", w->home, prefix + 1);
	} else {
		buf_adds(&p, prefix);
	}
	if (global) {
		buf_addf(&p, "%c%s%c", c, w->far_store, c);
		add_clean(&p, w->far_box);
		buf_addf(&p, "_%c%s%c", c, w->near_store, c);
	}
	add_clean(&p, w->near_box);
	if (!strlist_contains(out, p.data))
		strlist_add(out, p.data);
	buf_free(&p);
}

void
mbsync_state_candidates(const struct mbsync_where *w, struct strlist *out)
{
	struct buf p = BUF_INIT;

	if (w->sync_state != NULL && strcmp(w->sync_state, "*") == 0) {
		if (w->near_dir == NULL)
			return;
		buf_addf(&p, "%s/.mbsyncstate", w->near_dir);
		if (!strlist_contains(out, p.data))
			strlist_add(out, p.data);
		buf_free(&p);
		return;
	}
	if (w->sync_state != NULL) {
		add_candidate(out, w->sync_state, w, !w->from_channel);
		return;
	}
	add_candidate(out, "~/.mbsync/", w, 1);
	if (w->xdg_state_home != NULL && w->xdg_state_home[0] == '/') {
		buf_addf(&p, "%s/isync/", w->xdg_state_home);
		add_candidate(out, p.data, w, 1);
		buf_free(&p);
	} else {
		add_candidate(out, "~/.local/state/isync/", w, 1);
	}
}
