/*
 * config: the reader loop, sections and the public functions of config.h.
 * Lines are split by config_lex.c, keys looked up in config_keys.c and
 * stored by config_values.c; config_check.c closes sections and resolves
 * references.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "config/config_p.h"

/* The section-starting keywords. */
static const struct section_kind {
	const char *name;
	enum cfg_sec sec;
	const char *expect;
} section_kinds[] = {
	{ "IMAPAccount", SEC_ACCOUNT, "an account name" },
	{ "IMAPStore", SEC_IMAPSTORE, "a store name" },
	{ "MaildirStore", SEC_MAILDIR, "a store name" },
	{ "Channel", SEC_CHANNEL, "a channel name" },
	{ "Group", SEC_GROUP,
	  "a group name, optionally followed by channels" },
};
#define NKINDS (sizeof(section_kinds) / sizeof(section_kinds[0]))

/* Channels written on the Group line itself. */
static const struct key_def group_line_key = {
	.name = "Group", .sections = SEC_GROUP, .flags = KF_MULTI,
	.expect = "a channel name, optionally followed by "
	    ":mailbox[,mailbox...]",
};

const char *
cfg_sec_name(enum cfg_sec sec)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (section_kinds[i].sec == sec)
			return section_kinds[i].name;
	return "global";
}

static const char *
article(enum cfg_sec sec)
{
	return (sec == SEC_ACCOUNT || sec == SEC_IMAPSTORE) ? "an" : "a";
}

static int
vfail(struct cfg_parser *p, int line, const char *fmt, va_list ap)
{
	buf_setf(p->err, "%s:%d: ", p->file, line);
	buf_vaddf(p->err, fmt, ap);
	return -1;
}

int
cfg_fail(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, p->line, fmt, ap);
	va_end(ap);
	return -1;
}

int
cfg_fail_at(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, line, fmt, ap);
	va_end(ap);
	return -1;
}

static void
vwarn(struct cfg_parser *p, int line, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;

	buf_vaddf(&msg, fmt, ap);
	log_warn(p->lg, "%s:%d: %s", p->file, line, buf_cstr(&msg));
	buf_free(&msg);
}

void
cfg_warn(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(p, p->line, fmt, ap);
	va_end(ap);
}

void
cfg_warn_at(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(p, line, fmt, ap);
	va_end(ap);
}

int
cfg_bad_value(struct cfg_parser *p, const struct key_def *k,
    const char *val)
{
	if (k->flags & KF_SECRET)
		return cfg_fail(p, "bad value for '%s': expected %s", k->name,
		    k->expect);
	return cfg_fail(p, "bad value '%s' for '%s': expected %s", val,
	    k->name, k->expect);
}

char *
cfg_expand_path(struct cfg_parser *p, const struct key_def *k,
    const char *val)
{
	struct buf b = BUF_INIT;

	if (val[0] == '~') {
		const char *home = getenv("HOME");
		size_t hl;

		if (val[1] != '\0' && val[1] != '/') {
			cfg_fail(p, "bad value '%s' for '%s': expected %s; "
			    "only '~/' is expanded, not '~user/'", val,
			    k->name, k->expect);
			return NULL;
		}
		if (home == NULL || *home == '\0') {
			cfg_fail(p, "cannot expand '~' in '%s': HOME is not "
			    "set", k->name);
			return NULL;
		}
		hl = strlen(home);
		while (hl > 1 && home[hl - 1] == '/')
			hl--;
		buf_add(&b, home, hl);
		buf_adds(&b, val + 1);
	} else if (val[0] != '/' && p->base_dir != NULL) {
		buf_adds(&b, p->base_dir);
		buf_adds(&b, val);
	} else {
		buf_adds(&b, val);
	}
	return buf_detach(&b);
}

void
cfg_ops_init(struct ops_acc *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->sync_words);
}

void
cfg_ops_free(struct ops_acc *o)
{
	buf_free(&o->sync_words);
}

/* A reference replaces an earlier one of the same slot (Far given twice). */
void
cfg_add_ref(struct cfg_parser *p, enum ref_kind kind, void *owner,
    size_t index)
{
	struct cfg_ref *r;

	for (size_t i = 0; i < p->nrefs; i++) {
		r = &p->refs[i];
		if (r->kind == kind && r->owner == owner && r->index == index) {
			r->line = p->line;
			return;
		}
	}
	p->refs = xgrow(p->refs, &p->refs_cap, p->nrefs + 1, 16,
	    sizeof(*p->refs));
	r = &p->refs[p->nrefs++];
	r->kind = kind;
	r->line = p->line;
	r->owner = owner;
	r->index = index;
}

struct imap_account_conf *
cfg_account_new(const char *name, int line)
{
	struct imap_account_conf *a = xcalloc(1, sizeof(*a));

	a->name = xstrdup(name);
	a->line = line;
	a->timeout = 20;
	a->connections = CONNECTIONS_DEFAULT;
	a->tls_type = TLS_STARTTLS;
	a->tls_versions = TLS_V_DEFAULT;
	a->system_certs = 1;
	return a;
}

void
cfg_account_free(struct imap_account_conf *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->host);
	free(a->user);
	free(a->user_cmd);
	if (a->pass != NULL) {
		OPENSSL_cleanse(a->pass, strlen(a->pass));
		free(a->pass);
	}
	free(a->pass_cmd);
	free(a->tunnel);
	strlist_free(&a->auth_mechs);
	free(a->cert_file);
	free(a->client_cert);
	free(a->client_key);
	free(a->cipher_string);
	strlist_free(&a->disabled_exts);
	free(a);
}

static void
store_free(struct store_conf *s)
{
	free(s->name);
	free(s->path);
	free(s->map_inbox);
	free(s->flatten);
	free(s->trash);
	free(s->inbox);
	cfg_account_free(s->own_account);
	free(s->account_name);
	free(s);
}

static void
channel_free(struct channel_conf *c)
{
	free(c->name);
	for (int i = 0; i < 2; i++) {
		free(c->end[i].store_name);
		free(c->end[i].box);
	}
	strlist_free(&c->patterns);
	strlist_free(&c->watch_boxes);
	free(c->sync_state);
	free(c);
}

static void
group_free(struct group_conf *g)
{
	for (size_t i = 0; i < g->nentries; i++) {
		free(g->entries[i].channel_name);
		strlist_free(&g->entries[i].boxes);
	}
	free(g->entries);
	free(g->name);
	free(g);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	for (size_t i = 0; i < cfg->naccounts; i++)
		cfg_account_free(cfg->accounts[i]);
	for (size_t i = 0; i < cfg->nstores; i++)
		store_free(cfg->stores[i]);
	for (size_t i = 0; i < cfg->nchannels; i++)
		channel_free(cfg->channels[i]);
	for (size_t i = 0; i < cfg->ngroups; i++)
		group_free(cfg->groups[i]);
	free(cfg->accounts);
	free(cfg->stores);
	free(cfg->channels);
	free(cfg->groups);
	free(cfg->sync_state);
	free(cfg->log_file);
	free(cfg);
}

static struct config *
config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->fsync = 1;
	cfg->field_delimiter = ':';
	cfg->defaults.sync = SYNC_FULL;
	cfg->defaults.expire_unread = -1;
	cfg->defaults.mass_delete_count = 10;
	cfg->defaults.mass_delete_percent = 90;
	cfg->defaults.mass_delete_large = 100;
	cfg->defaults.mass_delete_large_percent = 50;
	cfg->defaults.lock_wait = LOCK_WAIT_DEFAULT;
	cfg->defaults.watch_interval = WATCH_INTERVAL_DEFAULT;
	cfg->defaults.watch_refresh = WATCH_REFRESH_DEFAULT;
	return cfg;
}

/* The line of an existing object of the same class and name, or 0. */
static int
defined_at(const struct config *cfg, enum cfg_sec sec, const char *name)
{
	switch (sec) {
	case SEC_ACCOUNT:
		for (size_t i = 0; i < cfg->naccounts; i++)
			if (strcmp(cfg->accounts[i]->name, name) == 0)
				return cfg->accounts[i]->line;
		break;
	case SEC_IMAPSTORE:
	case SEC_MAILDIR: {
		const struct store_conf *s = config_find_store(cfg, name);

		return s != NULL ? s->line : 0;
	}
	case SEC_CHANNEL: {
		const struct channel_conf *c = config_find_channel(cfg, name);

		return c != NULL ? c->line : 0;
	}
	case SEC_GROUP: {
		const struct group_conf *g = config_find_group(cfg, name);

		return g != NULL ? g->line : 0;
	}
	case SEC_GLOBAL:
		break;
	}
	return 0;
}

/* Per-section parser state back to "nothing seen yet". */
static void
reset_scope(struct cfg_parser *p, enum cfg_sec sec)
{
	memset(p->key_line, 0, cfg_key_count() * sizeof(*p->key_line));
	p->acct_opt_line = 0;
	p->acct_opt_key = NULL;
	p->tls_type_set = p->tls_versions_set = 0;
	p->legacy.use_imaps = p->legacy.require_ssl = -1;
	p->legacy.require_cram = -1;
	for (int i = 0; i < 4; i++)
		p->legacy.use_tls[i] = -1;
	p->legacy.line = 0;
	cfg_ops_free(&p->cops);
	cfg_ops_init(&p->cops);
	p->sec = sec;
	p->sec_line = p->line;
}

static void
add_store(struct cfg_parser *p, enum cfg_sec sec, const char *name)
{
	struct config *cfg = p->cfg;
	struct store_conf *s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	s->line = p->line;
	s->kind = sec == SEC_IMAPSTORE ? STORE_IMAP : STORE_MAILDIR;
	s->use_namespace = 1;
	s->info_delimiter = cfg->field_delimiter;
	s->maildir.subfolders = MAILDIR_SUB_NONE;
	s->maildir.fsync = cfg->fsync;
	cfg->stores = xreallocarray(cfg->stores, cfg->nstores + 1,
	    sizeof(*cfg->stores));
	cfg->stores[cfg->nstores++] = s;
	p->store = s;
}

static void
add_channel(struct cfg_parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	struct channel_conf *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->line = p->line;
	c->opt = cfg->defaults;	/* the globals are complete by now */
	cfg->channels = xreallocarray(cfg->channels, cfg->nchannels + 1,
	    sizeof(*cfg->channels));
	cfg->channels[cfg->nchannels++] = c;
	p->chan = c;
}

static void
add_group(struct cfg_parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	struct group_conf *g = xcalloc(1, sizeof(*g));

	g->name = xstrdup(name);
	g->line = p->line;
	cfg->groups = xreallocarray(cfg->groups, cfg->ngroups + 1,
	    sizeof(*cfg->groups));
	cfg->groups[cfg->ngroups++] = g;
	p->group = g;
}

static void
add_account(struct cfg_parser *p, const char *name)
{
	struct config *cfg = p->cfg;

	p->acct = cfg_account_new(name, p->line);
	cfg->accounts = xreallocarray(cfg->accounts, cfg->naccounts + 1,
	    sizeof(*cfg->accounts));
	cfg->accounts[cfg->naccounts++] = p->acct;
}

/* The name on a section's first line: present, one word, not taken. */
static int
check_section_name(struct cfg_parser *p, const struct section_kind *sk,
    char **vals, size_t n)
{
	int prev;

	if (n == 0)
		return cfg_fail(p, "missing value for '%s': expected %s",
		    sk->name, sk->expect);
	if (sk->sec != SEC_GROUP && n > 1)
		return cfg_fail(p, "unexpected extra value '%s' for '%s': "
		    "expected one value (quote a value that contains spaces)",
		    vals[1], sk->name);
	if (vals[0][0] == '\0')
		return cfg_fail(p, "bad value '' for '%s': expected %s",
		    sk->name, sk->expect);
	if ((prev = defined_at(p->cfg, sk->sec, vals[0])) != 0)
		return cfg_fail(p, "duplicate %s name '%s': already defined "
		    "at line %d", (sk->sec & SEC_STORES) ? "store" : sk->name,
		    vals[0], prev);
	return 0;
}

static int
start_section(struct cfg_parser *p, const struct section_kind *sk,
    char **vals, size_t n)
{
	if (!p->seen_section) {
		if (cfg_end_globals(p) != 0)
			return -1;
		p->seen_section = 1;
	}
	if (check_section_name(p, sk, vals, n) != 0)
		return -1;
	reset_scope(p, sk->sec);
	switch (sk->sec) {
	case SEC_ACCOUNT:
		add_account(p, vals[0]);
		break;
	case SEC_IMAPSTORE:
	case SEC_MAILDIR:
		add_store(p, sk->sec, vals[0]);
		break;
	case SEC_CHANNEL:
		add_channel(p, vals[0]);
		break;
	case SEC_GROUP:
		add_group(p, vals[0]);
		return cfg_apply_group_channels(p, &group_line_key, vals + 1,
		    n - 1);
	case SEC_GLOBAL:
		break;
	}
	return 0;
}

/* "it belongs in an IMAPAccount or IMAPStore section", for secs. */
static void
where_it_belongs(struct buf *fix, unsigned secs)
{
	size_t nlisted = 0, nsecs = 0;

	for (size_t i = 0; i < NKINDS; i++)
		nsecs += (secs & section_kinds[i].sec) != 0;
	for (size_t i = 0; i < NKINDS; i++) {
		enum cfg_sec s = section_kinds[i].sec;

		if (!(secs & s))
			continue;
		if (nlisted == 0)
			buf_addf(fix, "it belongs in %s ", article(s));
		else
			buf_adds(fix, nlisted + 1 == nsecs ? " or " : ", ");
		buf_adds(fix, section_kinds[i].name);
		nlisted++;
	}
	if (nlisted > 0)
		buf_adds(fix, " section");
	if ((secs & SEC_GLOBAL) && nlisted > 0)
		buf_adds(fix, " or among the global options before the "
		    "first section");
	else if (secs & SEC_GLOBAL)
		buf_adds(fix, "it is a global option and belongs before the "
		    "first section");
}

/* A known keyword in the wrong place, or an unknown one. */
static int
not_here(struct cfg_parser *p, const char *word)
{
	const char *canon = word;
	unsigned secs = cfg_key_sections(word, &canon);
	struct buf where = BUF_INIT, fix = BUF_INIT;
	int rc;

	if (secs == 0 && p->sec != SEC_GLOBAL)
		return cfg_fail(p, "unknown keyword '%s' in %s section", word,
		    cfg_sec_name(p->sec));
	if (secs == 0)
		return cfg_fail(p, "unknown keyword '%s': expected a section "
		    "(IMAPAccount, IMAPStore, MaildirStore, Channel or Group) "
		    "or a global option", word);
	if (p->sec == SEC_GLOBAL)
		buf_adds(&where, "outside a section");
	else
		buf_setf(&where, "in %s %s section", article(p->sec),
		    cfg_sec_name(p->sec));
	where_it_belongs(&fix, secs);
	if (p->sec == SEC_GLOBAL && p->seen_section)
		buf_adds(&fix, " (an empty line ends a section)");
	rc = cfg_fail(p, "keyword '%s' is not allowed %s; %s", canon,
	    buf_cstr(&where), buf_cstr(&fix));
	buf_free(&where);
	buf_free(&fix);
	return rc;
}

static int
apply_key(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	size_t idx = cfg_key_index(k);
	int prev = p->key_line[idx];

	if (n == 0)
		return cfg_fail(p, "missing value for '%s': expected %s",
		    k->name, k->expect);
	if (!(k->flags & KF_MULTI) && n > 1) {
		if (k->flags & KF_SECRET)
			return cfg_fail(p, "unexpected extra value for '%s': "
			    "expected one value (quote a value that contains "
			    "spaces)", k->name);
		return cfg_fail(p, "unexpected extra value '%s' for '%s': "
		    "expected one value (quote a value that contains spaces)",
		    vals[1], k->name);
	}
	if (k->flags & KF_NONEMPTY)
		for (size_t i = 0; i < n; i++)
			if (vals[i][0] == '\0')
				return cfg_bad_value(p, k, vals[i]);
	if (k->apply(p, k, vals, n) != 0)
		return -1;
	if (k->flags & KF_DEPRECATED)
		cfg_warn(p, "'%s' is deprecated; use '%s' instead", k->name,
		    k->alias);
	if (prev != 0 && !(k->flags & KF_MULTI))
		cfg_warn(p, "'%s' was already given at line %d; the value "
		    "given here is used", k->name, prev);
	p->key_line[idx] = p->line;
	return 0;
}

static const struct section_kind *
section_kind(const char *word)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcasecmp(section_kinds[i].name, word) == 0)
			return &section_kinds[i];
	return NULL;
}

static int
parse_line(struct cfg_parser *p, const char *line, size_t len,
    struct strlist *words, struct buf *why)
{
	const struct section_kind *sk;
	const struct key_def *k;
	int comment, n;

	if (memchr(line, '\0', len) != NULL)
		return cfg_fail(p, "unexpected NUL byte: expected a text file");
	n = cfg_split_line(line, len, words, &comment, why);
	if (n < 0)
		return cfg_fail(p, "%s", buf_cstr(why));
	if (n == 0) {
		if (!comment && p->sec != SEC_GLOBAL)
			return cfg_end_section(p);
		return 0;
	}
	sk = section_kind(words->v[0]);
	if (p->sec == SEC_GLOBAL) {
		if (sk != NULL)
			return start_section(p, sk, words->v + 1,
			    (size_t)n - 1);
		if ((k = cfg_find_key(words->v[0], SEC_GLOBAL)) == NULL)
			return not_here(p, words->v[0]);
		if (p->seen_section)
			return cfg_fail(p, "global option '%s' after a "
			    "section: expected global options before the first "
			    "section", k->name);
	} else {
		if (sk != NULL &&
		    !(p->sec == SEC_GROUP && sk->sec == SEC_CHANNEL))
			return cfg_fail(p, "'%s' starts a new section: "
			    "expected an empty line before it to end the %s "
			    "section", sk->name, cfg_sec_name(p->sec));
		if ((k = cfg_find_key(words->v[0], p->sec)) == NULL)
			return not_here(p, words->v[0]);
	}
	return apply_key(p, k, words->v + 1, (size_t)n - 1);
}

/* A line's words may hold a password (Pass): wiped, then freed. */
static void
words_wipe(struct strlist *words)
{
	for (size_t i = 0; i < words->n; i++)
		OPENSSL_cleanse(words->v[i], strlen(words->v[i]));
	strlist_free(words);
}

static int
parse(struct cfg_parser *p, const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	struct strlist words = { 0 };
	struct buf why = BUF_INIT;
	int lineno = 0, rc = 0;

	while (s < end && rc == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ll = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);

		p->line = ++lineno;
		rc = parse_line(p, s, ll, &words, &why);
		words_wipe(&words);
		s += ll + 1;
	}
	buf_free(&why);
	p->line = lineno;
	if (rc == 0 && p->sec != SEC_GLOBAL)
		rc = cfg_end_section(p);
	if (rc == 0 && !p->seen_section)
		rc = cfg_end_globals(p);
	if (rc == 0)
		rc = cfg_finish(p);
	return rc;
}

static int
parse_text(const char *text, size_t len, const char *name,
    const char *base_dir, const struct logger *lg, struct config **out,
    struct buf *err)
{
	struct cfg_parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.base_dir = base_dir;
	p.lg = lg;
	p.err = err;
	p.cfg = config_new();
	p.cfg->file = xstrdup(name);
	p.sec = SEC_GLOBAL;
	p.key_line = xcalloc(cfg_key_count(), sizeof(*p.key_line));
	cfg_ops_init(&p.gops);
	cfg_ops_init(&p.cops);
	rc = parse(&p, text, len);
	cfg_ops_free(&p.gops);
	cfg_ops_free(&p.cops);
	free(p.key_line);
	free(p.refs);
	if (rc != 0) {
		config_free(p.cfg);
		*out = NULL;
		return -1;
	}
	*out = p.cfg;
	return 0;
}

int
config_parse_string(const char *text, const char *name_for_messages,
    const struct logger *lg, struct config **out, struct buf *err)
{
	return parse_text(text, strlen(text), name_for_messages, NULL, lg, out,
	    err);
}

/*
 * The whole file into text, which the caller wipes: it may hold a
 * password (Pass). Unbuffered, so that stdio keeps no copy; text is
 * grown to the file's size first, so that it does not move while read
 * (unless the file grows meanwhile). 0, or the errno of the failure.
 */
static int
read_text(FILE *f, struct buf *text)
{
	struct stat st;
	char chunk[8192];
	size_t got;
	int rc;

	setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0)
		buf_grow(text, (size_t)st.st_size);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(text, chunk, got);
	rc = ferror(f) ? (errno ? errno : EIO) : 0;
	OPENSSL_cleanse(chunk, sizeof chunk);
	return rc;
}

int
config_load(const char *path, const struct logger *lg, struct config **out,
    struct buf *err)
{
	struct buf text = BUF_INIT, dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	FILE *f;
	int rc;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		buf_setf(err, "cannot read configuration file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	rc = read_text(f, &text);
	fclose(f);
	if (rc != 0) {
		buf_setf(err, "cannot read configuration file '%s': %s", path,
		    strerror(rc));
		buf_wipe(&text);
		return -1;
	}
	if (slash != NULL)
		buf_add(&dir, path, (size_t)(slash - path) + 1);
	rc = parse_text(text.data != NULL ? text.data : "", text.len, path,
	    slash != NULL ? buf_cstr(&dir) : NULL, lg, out, err);
	buf_wipe(&text);
	buf_free(&dir);
	return rc;
}

/* 1 if path may exist (anything but "no such file"). */
static int
may_exist(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

/* The candidates of config_default_path(), in order; left empty where
 * one cannot be formed (HOME unset). */
static void
default_candidates(const char *home, const char *xdg, struct buf c[4])
{
	if (xdg != NULL && xdg[0] == '/') {
		buf_setf(&c[0], "%s/twinbox/sync.rc", xdg);
		buf_setf(&c[2], "%s/isyncrc", xdg);
	} else if (home != NULL) {
		buf_setf(&c[0], "%s/.config/twinbox/sync.rc", home);
		buf_setf(&c[2], "%s/.config/isyncrc", home);
	}
	if (home != NULL) {
		buf_setf(&c[1], "%s/.twinboxrc", home);
		buf_setf(&c[3], "%s/.mbsyncrc", home);
	}
}

/* Why config_default_path() found nothing. */
static void
no_default(const char *home, const struct buf c[4], struct buf *err)
{
	int n = 0;

	buf_setf(err, "no configuration file: ");
	for (int i = 0; i < 4; i++)
		if (c[i].len > 0)
			buf_addf(err, "%s'%s'", n++ == 0 ? "none of " : ", ",
			    c[i].data);
	if (n > 0)
		buf_adds(err, " exists");
	if (home == NULL)
		buf_addf(err, "%sHOME is not set, so ~/.twinboxrc and "
		    "~/.mbsyncrc cannot be looked for", n > 0 ? ", and " : "");
	buf_adds(err, "; give one with -c");
}

int
config_default_path(struct buf *out, struct buf *err)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct buf c[4] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	int rc = -1;

	if (home != NULL && *home == '\0')
		home = NULL;
	default_candidates(home, xdg, c);
	for (int i = 0; i < 4 && rc != 0; i++) {
		if (c[i].len == 0 || !may_exist(c[i].data))
			continue;
		buf_reset(out);
		buf_adds(out, c[i].data);
		rc = 0;
	}
	if (rc != 0)
		no_default(home, c, err);
	for (int i = 0; i < 4; i++)
		buf_free(&c[i]);
	return rc;
}

const struct channel_conf *
config_find_channel(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i]->name, name) == 0)
			return cfg->channels[i];
	return NULL;
}

const struct group_conf *
config_find_group(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ngroups; i++)
		if (strcmp(cfg->groups[i]->name, name) == 0)
			return cfg->groups[i];
	return NULL;
}

const struct store_conf *
config_find_store(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nstores; i++)
		if (strcmp(cfg->stores[i]->name, name) == 0)
			return cfg->stores[i];
	return NULL;
}
