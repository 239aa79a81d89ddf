/*
 * config_values: parsing a key's values and storing them (the apply
 * functions of the key table in config_keys.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "config/config_p.h"

struct imap_account_conf *
cfg_current_account(struct cfg_parser *p, const struct key_def *k)
{
	if (p->sec == SEC_IMAPSTORE) {
		if (p->store->own_account == NULL)
			p->store->own_account =
			    cfg_account_new(p->store->name, p->sec_line);
		p->acct = p->store->own_account;
		if (p->acct_opt_line == 0) {
			p->acct_opt_line = p->line;
			p->acct_opt_key = k->name;
		}
	}
	return p->acct;
}

/* Where k's field lives. */
static void *
field(struct cfg_parser *p, const struct key_def *k)
{
	char *base = NULL;

	switch (k->target) {
	case T_GLOBAL:
		base = (char *)p->cfg;
		break;
	case T_OPTS:
		base = (char *)(p->sec == SEC_CHANNEL ? &p->chan->opt :
		    &p->cfg->defaults);
		break;
	case T_CHANNEL:
		base = (char *)p->chan;
		break;
	case T_STORE:
		base = (char *)p->store;
		break;
	case T_ACCOUNT:
		base = (char *)cfg_current_account(p, k);
		break;
	case T_NONE:
		break;
	}
	return base + k->offset;
}

static void
set_str(char **f, const char *v)
{
	free(*f);
	*f = xstrdup(v);
}

/* The words of a line joined by spaces, for messages. */
static const char *
joined(struct buf *b, char **vals, size_t n)
{
	buf_reset(b);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, ' ');
		buf_adds(b, vals[i]);
	}
	return buf_cstr(b);
}

/* yes/no/true/false/on/off/1/0, any case. */
static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A decimal integer (optional '-') within [min, max]. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s) && !(*s == '-' &&
	    isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* size[k|m][b] in bytes, k = 1024, m = 1024 * 1024; any case. */
static int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == 'k' || *s == 'K')
		mult = 1024, s++;
	else if (*s == 'm' || *s == 'M')
		mult = 1024 * 1024, s++;
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int
cfg_apply_str(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	char **f = field(p, k);

	(void)n;
	/* A password given again: the one it replaces is wiped. */
	if ((k->flags & KF_SECRET) && *f != NULL)
		OPENSSL_cleanse(*f, strlen(*f));
	set_str(f, vals[0]);
	return 0;
}

/*
 * A MaildirStore's Path or Inbox: absolute or from "~/". A relative one is
 * refused: mbsync 1.4 and 1.5 disagree on what it is relative to, so
 * either reading would surprise half of its users.
 */
int
cfg_apply_maildir_dir(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	if (vals[0][0] != '/' && vals[0][0] != '~')
		return cfg_fail(p, "MaildirStore '%s': %s '%s' is relative "
		    "(mbsync 1.4 reads it from the current directory, 1.5 from "
		    "the configuration file's): expected a path that starts "
		    "with '/' or '~/'", p->store->name, k->name, vals[0]);
	return cfg_apply_path(p, k, vals, n);
}

int
cfg_apply_path(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	char **f = field(p, k);
	char *path = cfg_expand_path(p, k, vals[0]);

	(void)n;
	if (path == NULL)
		return -1;
	free(*f);
	*f = path;
	return 0;
}

int
cfg_apply_bool(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	(void)n;
	if (parse_bool(vals[0], field(p, k)) != 0)
		return cfg_bad_value(p, k, vals[0]);
	return 0;
}

/* The one number of a key, within its bounds, into its int or unsigned
 * field. */
static int
apply_number(struct cfg_parser *p, const struct key_def *k, char **vals,
    int is_unsigned)
{
	long v;

	if (parse_long(vals[0], k->min, k->max, &v) != 0)
		return cfg_bad_value(p, k, vals[0]);
	if (is_unsigned)
		*(unsigned *)field(p, k) = (unsigned)v;
	else
		*(int *)field(p, k) = (int)v;
	return 0;
}

int
cfg_apply_int(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	(void)n;
	return apply_number(p, k, vals, 0);
}

int
cfg_apply_uint(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	(void)n;
	return apply_number(p, k, vals, 1);
}

int
cfg_apply_size(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	uint64_t v;

	(void)n;
	if (parse_size(vals[0], &v) != 0 || v < (uint64_t)k->min)
		return cfg_bad_value(p, k, vals[0]);
	if (k->target != T_NONE)
		*(uint64_t *)field(p, k) = v;
	return 0;
}

/*
 * Exactly one punctuation character (FieldDelimiter, InfoDelimiter), but
 * none that Maildir file names or state file names already use for
 * something else: '/', and the '.', ',' and '=' of
 * "<seconds>.M<usec>P<pid>Q<n>.<host>,U=<uid>", and the '\' that escapes
 * bytes of the host name.
 */
int
cfg_apply_punct(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	(void)n;
	if (strlen(vals[0]) != 1 || !ispunct((unsigned char)vals[0][0]) ||
	    strchr("/.,=\\", vals[0][0]) != NULL)
		return cfg_bad_value(p, k, vals[0]);
	*(char *)field(p, k) = vals[0][0];
	return 0;
}

/* Every value appended, in order (Patterns, AuthMechs, ...). */
int
cfg_apply_list(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	struct strlist *l = field(p, k);

	for (size_t i = 0; i < n; i++)
		strlist_add(l, vals[i]);
	return 0;
}

/* A host name; the pre-1.2 forms imaps:host, imap:host, imap://host are
   still understood. */
int
cfg_apply_host(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	struct imap_account_conf *a = cfg_current_account(p, k);
	const char *h = vals[0];

	(void)n;
	if (strncasecmp(h, "imaps:", 6) == 0) {
		h += 6;
		a->tls_type = TLS_IMAPS;
		p->tls_type_set = 1;
	} else if (strncasecmp(h, "imap:", 5) == 0) {
		h += 5;
	}
	if (strncmp(h, "//", 2) == 0)
		h += 2;
	if (*h == '\0' || strchr(h, '/') != NULL)
		return cfg_bad_value(p, k, vals[0]);
	if (h != vals[0])
		cfg_warn(p, "the URL form of 'Host' is deprecated; write the "
		    "host name alone (and 'TLSType IMAPS' for imaps:)");
	set_str(&a->host, h);
	return 0;
}

/* UserCmd, PassCmd: "[+]command"; k->min is the offset of the tty flag. */
int
cfg_apply_cmd(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	struct imap_account_conf *a = cfg_current_account(p, k);
	const char *cmd = vals[0];
	int tty = 0;

	(void)n;
	if (*cmd == '+') {
		cmd++;
		tty = 1;
	}
	if (*cmd == '\0')
		return cfg_bad_value(p, k, vals[0]);
	set_str((char **)((char *)a + k->offset), cmd);
	*(int *)((char *)a + k->min) = tty;
	return 0;
}

int
cfg_apply_tls_type(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	static const char *const names[] = { "None", "STARTTLS", "IMAPS" };
	struct imap_account_conf *a = cfg_current_account(p, k);

	(void)n;
	for (int i = 0; i < 3; i++) {
		if (strcasecmp(vals[0], names[i]) == 0) {
			a->tls_type = (enum tls_mode)i;
			p->tls_type_set = 1;
			return 0;
		}
	}
	return cfg_bad_value(p, k, vals[0]);
}

static unsigned
tls_version_bit(const char *s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} v[] = {
		{ "1.0", TLS_V1_0 }, { "1.1", TLS_V1_1 }, { "1.2", TLS_V1_2 },
		{ "1.3", TLS_V1_3 }, { "TLSv1", TLS_V1_0 },
		{ "TLSv1.0", TLS_V1_0 }, { "TLSv1.1", TLS_V1_1 },
		{ "TLSv1.2", TLS_V1_2 }, { "TLSv1.3", TLS_V1_3 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcasecmp(s, v[i].name) == 0)
			return v[i].bit;
	return 0;
}

/*
 * TLSVersions +1.3 -1.1 (mbsync 1.5) adds to or removes from the current
 * set; SSLVersions TLSv1.2 TLSv1.3 (mbsync 1.4) lists the whole set. Both
 * forms are accepted under either name.
 */
int
cfg_apply_tls_versions(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	struct imap_account_conf *a = cfg_current_account(p, k);
	unsigned set = a->tls_versions;

	for (size_t i = 0; i < n; i++)
		if (vals[i][0] != '+' && vals[i][0] != '-')
			set = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = vals[i];
		int sign = (*v == '+' || *v == '-') ? *v++ : 0;
		unsigned bit;

		if (strcasecmp(v, "SSLv2") == 0 ||
		    strcasecmp(v, "SSLv3") == 0) {
			cfg_warn(p, "'%s' is no longer supported and is "
			    "ignored", v);
			continue;
		}
		if ((bit = tls_version_bit(v)) == 0)
			return cfg_bad_value(p, k, vals[i]);
		if (sign == '-')
			set &= ~bit;
		else
			set |= bit;
	}
	a->tls_versions = set;
	p->tls_versions_set = 1;
	return 0;
}

/* The pre-1.2 TLS and CRAM switches, resolved when the account ends. */
int
cfg_apply_legacy(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	int v;

	(void)n;
	(void)cfg_current_account(p, k);
	if (parse_bool(vals[0], &v) != 0)
		return cfg_bad_value(p, k, vals[0]);
	if (k->offset == (size_t)-1) {
		cfg_warn(p, "'%s' is no longer supported and is ignored",
		    k->name);
		return 0;
	}
	*(int *)((char *)&p->legacy + k->offset) = v;
	if (p->legacy.line == 0)
		p->legacy.line = p->line;
	return 0;
}

int
cfg_apply_account(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	(void)k;
	(void)n;
	set_str(&p->store->account_name, vals[0]);
	cfg_add_ref(p, REF_ACCOUNT, p->store, 0);
	return 0;
}

int
cfg_apply_subfolders(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	static const struct {
		const char *name;
		enum maildir_subfolders style;
	} s[] = {
		{ "Verbatim", MAILDIR_SUB_VERBATIM },
		{ "Maildir++", MAILDIR_SUB_MAILDIRPP },
		{ "Legacy", MAILDIR_SUB_LEGACY },
	};

	(void)n;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (strcasecmp(vals[0], s[i].name) == 0) {
			p->store->maildir.subfolders = s[i].style;
			return 0;
		}
	}
	return cfg_bad_value(p, k, vals[0]);
}

int
cfg_apply_path_delim(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	(void)n;
	if (strlen(vals[0]) != 1)
		return cfg_bad_value(p, k, vals[0]);
	p->store->path_delimiter = vals[0][0];
	return 0;
}

int
cfg_apply_flatten(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	(void)n;
	if (strchr(vals[0], '/') != NULL)
		return cfg_bad_value(p, k, vals[0]);
	set_str(&p->store->flatten, vals[0]);
	return 0;
}

/* Far / Near (Master / Slave) ":store:[mailbox]"; k->min is the side. */
int
cfg_apply_end(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	struct channel_end *e = &p->chan->end[k->min];
	const char *v = vals[0], *colon;

	(void)n;
	if (v[0] != ':' || (colon = strchr(v + 1, ':')) == NULL ||
	    colon == v + 1)
		return cfg_bad_value(p, k, v);
	free(e->store_name);
	free(e->box);
	e->store_name = xstrndup(v + 1, (size_t)(colon - v - 1));
	e->box = colon[1] != '\0' ? xstrdup(colon + 1) : NULL;
	cfg_add_ref(p, k->min == SIDE_FAR ? REF_FAR : REF_NEAR, p->chan, 0);
	return 0;
}

int
cfg_apply_chan_max_size(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	if (cfg_apply_size(p, k, vals, n) != 0)
		return -1;
	p->chan->max_size_set = 1;
	return 0;
}

static struct ops_acc *
scope_ops(struct cfg_parser *p)
{
	return p->sec == SEC_CHANNEL ? &p->cops : &p->gops;
}

/* A Sync type name, or 0. */
static unsigned
sync_type(const char *s)
{
	static const struct {
		const char *name;
		unsigned op;
	} t[] = {
		{ "New", SYNC_OP_NEW }, { "Old", SYNC_OP_OLD },
		{ "Upgrade", SYNC_OP_UPGRADE }, { "ReNew", SYNC_OP_UPGRADE },
		{ "Gone", SYNC_OP_GONE }, { "Delete", SYNC_OP_GONE },
		{ "Flags", SYNC_OP_FLAGS },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].op;
	return 0;
}

/* Sync words are collected per scope; config_check.c combines them. */
int
cfg_apply_sync(struct cfg_parser *p, const struct key_def *k, char **vals,
    size_t n)
{
	struct ops_acc *o = scope_ops(p);

	for (size_t i = 0; i < n; i++) {
		const char *v = vals[i];
		unsigned op;

		if (strcasecmp(v, "Pull") == 0) {
			o->dirs |= 1;
		} else if (strcasecmp(v, "Push") == 0) {
			o->dirs |= 2;
		} else if (strcasecmp(v, "None") == 0 ||
		    strcasecmp(v, "Noop") == 0) {
			o->none = 1;
		} else if (strcasecmp(v, "Full") == 0 ||
		    strcasecmp(v, "All") == 0) {
			o->types |= SYNC_OP_FULL;
		} else if ((op = sync_type(v)) != 0) {
			o->types |= op;
		} else if (strncasecmp(v, "Pull", 4) == 0 &&
		    (op = sync_type(v + 4)) != 0) {
			o->comp[SIDE_NEAR] |= op;
		} else if (strncasecmp(v, "Push", 4) == 0 &&
		    (op = sync_type(v + 4)) != 0) {
			o->comp[SIDE_FAR] |= op;
		} else {
			return cfg_bad_value(p, k, v);
		}
		if (o->sync_words.len > 0)
			buf_addc(&o->sync_words, ' ');
		buf_adds(&o->sync_words, v);
	}
	o->sync_line = p->line;
	return 0;
}

/* The side bits of one Create/Remove/... word; 0 for None, -1 if bad. */
static int
side_word(struct cfg_parser *p, const char *v, unsigned *bits)
{
	static const struct {
		const char *name;
		unsigned bits;
		const char *instead;	/* pre-1.4 name: warn */
	} w[] = {
		{ "None", 0, NULL }, { "Both", SIDE_BIT_BOTH, NULL },
		{ "Far", SIDE_BIT_FAR, NULL }, { "Near", SIDE_BIT_NEAR, NULL },
		{ "Master", SIDE_BIT_FAR, "Far" },
		{ "Slave", SIDE_BIT_NEAR, "Near" },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (strcasecmp(v, w[i].name) != 0)
			continue;
		if (w[i].instead != NULL)
			cfg_warn(p, "'%s' is deprecated; use '%s' instead",
			    w[i].name, w[i].instead);
		*bits = w[i].bits;
		return 0;
	}
	return -1;
}

/* Create, Remove, Expunge, ExpungeSolo; k->min is the enum side_op.
   Words and lines add up within a scope; a side twice is an error. */
int
cfg_apply_sides(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	struct ops_acc *o = scope_ops(p);
	int i = (int)k->min;
	struct buf all = BUF_INIT;
	int rc = 0;

	for (size_t j = 0; j < n && rc == 0; j++) {
		unsigned bits;

		if (side_word(p, vals[j], &bits) != 0)
			rc = cfg_bad_value(p, k, vals[j]);
		else if ((bits == 0 && o->sides[i] != 0) ||
		    (bits != 0 && o->sides_none[i]))
			rc = cfg_fail(p, "bad value '%s' for '%s': None cannot "
			    "be combined with Far, Near or Both", joined(&all,
			    vals, n), k->name);
		else if (o->sides[i] & bits)
			rc = cfg_fail(p, "bad value '%s' for '%s': the %s side "
			    "is given twice", joined(&all, vals, n), k->name,
			    (o->sides[i] & bits & SIDE_BIT_FAR) ? "far" :
			    "near");
		else if (bits == 0)
			o->sides_none[i] = 1;
		else
			o->sides[i] |= bits;
	}
	buf_free(&all);
	if (rc == 0)
		o->sides_line[i] = p->line;
	return rc;
}

/* ExpireSide: Near, the only side MaxMessages expires from here. */
int
cfg_apply_expire_side(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	(void)n;
	if (strcasecmp(vals[0], "Far") == 0)
		return cfg_fail(p, "'%s %s' is not supported: %s", k->name,
		    vals[0], k->why);
	if (strcasecmp(vals[0], "Near") != 0)
		return cfg_bad_value(p, k, vals[0]);
	return 0;
}

/* A yes/no key of which twinbox honours only no (AltMap, UseKeychain). */
int
cfg_apply_refuse_yes(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	int v;

	(void)n;
	if (parse_bool(vals[0], &v) != 0)
		return cfg_bad_value(p, k, vals[0]);
	if (v)
		return cfg_fail(p, "'%s %s' is not supported: %s", k->name,
		    vals[0], k->why);
	return 0;
}

int
cfg_apply_sync_state(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	char **f = p->sec == SEC_CHANNEL ? &p->chan->sync_state :
	    &p->cfg->sync_state;
	char *v;

	(void)n;
	if (strcmp(vals[0], "*") == 0)
		v = xstrdup("*");
	else if ((v = cfg_expand_path(p, k, vals[0])) == NULL)
		return -1;
	free(*f);
	*f = v;
	return 0;
}

/* "channel[:box[,box...]]" as a group entry: the boxes are what lies
 * between the ':' and the commas, in order. */
static void
add_group_entry(struct group_conf *g, const char *spec)
{
	const char *colon = strchr(spec, ':');
	struct group_entry *e;

	g->entries = xreallocarray(g->entries, g->nentries + 1,
	    sizeof(*g->entries));
	e = &g->entries[g->nentries++];
	memset(e, 0, sizeof(*e));
	e->channel_name = colon ? xstrndup(spec, (size_t)(colon - spec)) :
	    xstrdup(spec);
	for (const char *c = colon; c != NULL; c = strchr(c + 1, ',')) {
		const char *end = strchr(c + 1, ',');
		char *box = end ? xstrndup(c + 1, (size_t)(end - c - 1)) :
		    xstrdup(c + 1);

		strlist_add(&e->boxes, box);
		free(box);
	}
}

/* Group members "channel[:box[,box...]]", from the Group line too. */
int
cfg_apply_group_channels(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t n)
{
	struct group_conf *g = p->group;

	for (size_t i = 0; i < n; i++) {
		if (vals[i][0] == ':' || vals[i][0] == '\0')
			return cfg_bad_value(p, k, vals[i]);
		add_group_entry(g, vals[i]);
		cfg_add_ref(p, REF_GROUP, g, g->nentries - 1);
	}
	return 0;
}
