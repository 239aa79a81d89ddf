/*
 * config_check: what is checked and defaulted when a section ends, when
 * the global options end, and once the whole file is read (references).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_p.h"

static const char *const side_op_names[4] = {
	"Create", "Remove", "Expunge", "ExpungeSolo"
};

/* The line where the key `name` was last given in this scope, or 0. */
static int
key_line(struct cfg_parser *p, const char *name)
{
	const struct key_def *k = cfg_find_key(name, p->sec);

	return k != NULL ? p->key_line[cfg_key_index(k)] : 0;
}

static int
max_int(int a, int b)
{
	return a > b ? a : b;
}

/*
 * Combine the Sync words of a scope (mbsync(1), Sync): bare directions and
 * types select rows and columns of the direction x type matrix, compound
 * words (PullNew) select single cells; a missing class means all of it.
 */
static int
merge_sync(struct cfg_parser *p, struct ops_acc *o, unsigned *out)
{
	unsigned comp = o->comp[SIDE_NEAR] | o->comp[SIDE_FAR];
	unsigned near = 0, far = 0;
	const char *why = NULL;

	if (comp != 0) {
		if (o->none)
			why = "None cannot be combined with other operations";
		else if ((comp & o->types) ||
		    ((o->dirs & 1) && o->comp[SIDE_NEAR]) ||
		    ((o->dirs & 2) && o->comp[SIDE_FAR]))
			why = "an operation is selected twice";
		else if (o->dirs != 0 && (o->types != 0 || o->dirs == 3))
			why = "a compound operation such as PullNew can be "
			    "combined with one bare direction or with bare "
			    "types, not with more";
		near = o->comp[SIDE_NEAR] | o->types |
		    ((o->dirs & 1) ? SYNC_OP_FULL : 0);
		far = o->comp[SIDE_FAR] | o->types |
		    ((o->dirs & 2) ? SYNC_OP_FULL : 0);
	} else if (o->dirs != 0 || o->types != 0) {
		unsigned types = o->types ? o->types : SYNC_OP_FULL;
		unsigned dirs = o->dirs ? o->dirs : 3;

		if (o->none)
			why = "None cannot be combined with other operations";
		near = (dirs & 1) ? types : 0;
		far = (dirs & 2) ? types : 0;
	}
	if (why != NULL)
		return cfg_fail_at(p, o->sync_line, "bad value '%s' for "
		    "'Sync': %s", buf_cstr(&o->sync_words), why);
	*out = (near << SYNC_PULL_SHIFT) | (far << SYNC_PUSH_SHIFT);
	return 0;
}

/* Sync, Create, ... of a scope into opt, where the scope gives them. */
static int
merge_ops(struct cfg_parser *p, struct ops_acc *o, struct channel_opts *opt)
{
	unsigned *sides[4] = {
		&opt->create, &opt->remove, &opt->expunge, &opt->expunge_solo
	};
	unsigned both;

	if (o->sync_line != 0 && merge_sync(p, o, &opt->sync) != 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (o->sides_line[i] != 0)
			*sides[i] = o->sides[i];
	both = o->sides[SOP_EXPUNGE] & o->sides[SOP_EXPUNGE_SOLO];
	if (both != 0)
		return cfg_fail_at(p, max_int(o->sides_line[SOP_EXPUNGE],
		    o->sides_line[SOP_EXPUNGE_SOLO]), "'%s' and '%s' both "
		    "select the %s side: expected each side in at most one of "
		    "them", side_op_names[SOP_EXPUNGE],
		    side_op_names[SOP_EXPUNGE_SOLO],
		    side_names[(both & SIDE_BIT_FAR) ? SIDE_FAR : SIDE_NEAR]);
	return 0;
}

int
cfg_end_globals(struct cfg_parser *p)
{
	return merge_ops(p, &p->gops, &p->cfg->defaults);
}

/* Two keys that exclude each other (User and UserCmd, ...). */
static int
exclusive(struct cfg_parser *p, const char *kind, const char *name,
    const char *a, const char *b)
{
	int la = key_line(p, a), lb = key_line(p, b);

	if (la == 0 || lb == 0)
		return 0;
	return cfg_fail_at(p, max_int(la, lb), "%s '%s' has both %s and %s: "
	    "expected only one of them", kind, name, a, b);
}

/* Map the pre-1.2 switches onto TLSType / TLSVersions / AuthMechs. */
static int
resolve_legacy(struct cfg_parser *p, struct imap_account_conf *a,
    const char *kind)
{
	struct legacy_tls *l = &p->legacy;
	int tls = l->use_imaps >= 0 || l->require_ssl >= 0;

	for (int i = 0; i < 4; i++)
		tls |= l->use_tls[i] >= 0;
	if (tls && (p->tls_type_set || p->tls_versions_set))
		return cfg_fail_at(p, l->line, "%s '%s' mixes UseIMAPS, "
		    "RequireSSL or UseTLSv1* with TLSType or TLSVersions: "
		    "expected only TLSType and TLSVersions", kind, a->name);
	if (tls) {
		/* Versions not mentioned keep today's default. */
		for (int i = 0; i < 4; i++) {
			if (l->use_tls[i] == 1)
				a->tls_versions |= 1u << i;
			else if (l->use_tls[i] == 0)
				a->tls_versions &= ~(1u << i);
		}
		p->tls_versions_set = 1;
		if (l->use_imaps == 1) {
			a->tls_type = TLS_IMAPS;
			p->tls_type_set = 1;
		} else if (l->require_ssl == 0 && a->tls_versions == 0) {
			a->tls_type = TLS_NONE;
			p->tls_type_set = 1;
		} else if (l->require_ssl == 0) {
			cfg_warn_at(p, l->line, "'RequireSSL no' is ignored, "
			    "as by mbsync; write 'TLSType None' to turn TLS "
			    "off");
		}
	}
	if (l->require_cram >= 0) {
		if (a->auth_mechs.n > 0)
			return cfg_fail_at(p, l->line, "%s '%s' has both "
			    "RequireCRAM and AuthMechs: expected only "
			    "AuthMechs", kind, a->name);
		if (l->require_cram == 1)
			strlist_add(&a->auth_mechs, "CRAM-MD5");
	}
	return 0;
}

/* An IMAPAccount, or the account options of an IMAPStore. */
static int
end_account(struct cfg_parser *p, struct imap_account_conf *a,
    const char *kind)
{
	if (a->host == NULL && a->tunnel == NULL)
		return cfg_fail_at(p, p->sec_line, "%s '%s' has neither Host "
		    "nor Tunnel: expected a 'Host' or a 'Tunnel' line", kind,
		    a->name);
	if (exclusive(p, kind, a->name, "User", "UserCmd") != 0 ||
	    exclusive(p, kind, a->name, "Pass", "PassCmd") != 0 ||
	    resolve_legacy(p, a, kind) != 0)
		return -1;
	if (!p->tls_type_set)
		a->tls_type = a->tunnel != NULL ? TLS_NONE : TLS_STARTTLS;
	if (a->tls_type != TLS_NONE && a->tls_versions == 0)
		return cfg_fail_at(p, p->legacy.line ? p->legacy.line :
		    max_int(key_line(p, "TLSVersions"), key_line(p,
		    "SSLVersions")), "%s '%s' allows no TLS version: expected "
		    "at least one of 1.0, 1.1, 1.2, 1.3, or 'TLSType None'",
		    kind, a->name);
	if (a->client_key != NULL && a->client_cert == NULL)
		return cfg_fail_at(p, key_line(p, "ClientKey"), "%s '%s' has "
		    "ClientKey but no ClientCertificate: expected the "
		    "certificate that goes with the key", kind, a->name);
	if (a->port == 0)
		a->port = a->tls_type == TLS_IMAPS ? 993 : 143;
	if (a->auth_mechs.n == 0)
		strlist_add(&a->auth_mechs, "*");
	return 0;
}

static int
end_imap_store(struct cfg_parser *p, struct store_conf *s)
{
	if (s->account_name != NULL && s->own_account != NULL)
		return cfg_fail_at(p, max_int(p->acct_opt_line,
		    key_line(p, "Account")), "IMAPStore '%s' has both "
		    "'Account' and account options such as '%s': expected one "
		    "or the other", s->name, p->acct_opt_key);
	if (s->account_name != NULL)
		return 0;
	if (s->own_account == NULL)
		return cfg_fail_at(p, p->sec_line, "IMAPStore '%s' has no "
		    "Host, Tunnel or Account: expected a 'Host' or a 'Tunnel' "
		    "line, or 'Account' naming an IMAPAccount", s->name);
	return end_account(p, s->own_account, "IMAPStore");
}

static int
end_maildir_store(struct cfg_parser *p, struct store_conf *s)
{
	if (s->maildir.subfolders == MAILDIR_SUB_MAILDIRPP && s->path != NULL)
		return cfg_fail_at(p, key_line(p, "Path"), "MaildirStore '%s': "
		    "'Path' cannot be used with 'SubFolders Maildir++': "
		    "expected only 'Inbox', under which every mailbox lives",
		    s->name);
	s->path_line = key_line(p, "Path");
	if (s->path != NULL && s->path[strlen(s->path) - 1] != '/')
		cfg_warn_at(p, key_line(p, "Path"), "MaildirStore '%s': Path "
		    "'%s' does not end in '/': mbsync would prepend it to "
		    "mailbox names, twinbox uses it as the directory '%s/'",
		    s->name, s->path, s->path);
	if (s->inbox == NULL) {
		const struct key_def *k = cfg_find_key("Inbox", SEC_MAILDIR);
		int line = p->line;

		p->line = p->sec_line;
		s->inbox = cfg_expand_path(p, k, "~/Maildir");
		p->line = line;
		if (s->inbox == NULL)
			return -1;
	}
	return 0;
}

/* What an end names: without Patterns a mailbox (INBOX when omitted),
 * with Patterns a prefix ("" when omitted). */
static const char *
end_box(const struct channel_conf *c, enum side s)
{
	const char *box = c->end[s].box;

	if (box == NULL)
		return c->patterns.n > 0 ? "" : "INBOX";
	if (c->patterns.n == 0 && strcasecmp(box, "INBOX") == 0)
		return "INBOX";
	return box;
}

/* Far and Near the same mailbox of the same store: found here, before a
 * run would take the same lock twice. */
static int
check_distinct_ends(struct cfg_parser *p, const struct channel_conf *c)
{
	const char *store = c->end[SIDE_FAR].store_name;
	const char *box = end_box(c, SIDE_FAR);
	int line = max_int(max_int(key_line(p, "Far"), key_line(p, "Near")),
	    max_int(key_line(p, "Master"), key_line(p, "Slave")));

	if (strcmp(store, c->end[SIDE_NEAR].store_name) != 0 ||
	    strcmp(box, end_box(c, SIDE_NEAR)) != 0)
		return 0;
	if (c->patterns.n == 0)
		return cfg_fail_at(p, line, "Channel '%s': Far and Near are "
		    "the same mailbox, %s of store '%s': expected two "
		    "different mailboxes", c->name, box, store);
	if (box[0] == '\0')
		return cfg_fail_at(p, line, "Channel '%s': Far and Near are "
		    "the same mailboxes, every mailbox of store '%s': expected "
		    "two different mailboxes", c->name, store);
	return cfg_fail_at(p, line, "Channel '%s': Far and Near are the same "
	    "mailboxes, those under '%s' of store '%s': expected two "
	    "different mailboxes", c->name, box, store);
}

static int
end_channel(struct cfg_parser *p, struct channel_conf *c)
{
	if (c->end[SIDE_FAR].store_name == NULL)
		return cfg_fail_at(p, p->sec_line, "Channel '%s' has no Far "
		    "store: expected a line 'Far :store:' or "
		    "'Far :store:mailbox'", c->name);
	if (c->end[SIDE_NEAR].store_name == NULL)
		return cfg_fail_at(p, p->sec_line, "Channel '%s' has no Near "
		    "store: expected a line 'Near :store:' or "
		    "'Near :store:mailbox'", c->name);
	if (check_distinct_ends(p, c) != 0)
		return -1;
	return merge_ops(p, &p->cops, &c->opt);
}

int
cfg_end_section(struct cfg_parser *p)
{
	int rc = 0;

	/* Warnings about the section point at its first line. */
	p->line = p->sec_line;
	switch (p->sec) {
	case SEC_ACCOUNT:
		rc = end_account(p, p->acct, "IMAPAccount");
		break;
	case SEC_IMAPSTORE:
		rc = end_imap_store(p, p->store);
		break;
	case SEC_MAILDIR:
		rc = end_maildir_store(p, p->store);
		break;
	case SEC_CHANNEL:
		rc = end_channel(p, p->chan);
		break;
	case SEC_GROUP:
	case SEC_GLOBAL:
		break;
	}
	p->sec = SEC_GLOBAL;
	p->acct = NULL;
	p->store = NULL;
	p->chan = NULL;
	p->group = NULL;
	return rc;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct cfg_ref *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int
resolve(struct cfg_parser *p, const struct cfg_ref *r)
{
	struct config *cfg = p->cfg;

	switch (r->kind) {
	case REF_ACCOUNT: {
		struct store_conf *s = r->owner;

		for (size_t i = 0; i < cfg->naccounts; i++) {
			if (strcmp(cfg->accounts[i]->name,
			    s->account_name) == 0) {
				s->account = cfg->accounts[i];
				return 0;
			}
		}
		return cfg_fail_at(p, r->line, "IMAPStore '%s' refers to "
		    "undefined IMAPAccount '%s'", s->name, s->account_name);
	}
	case REF_FAR:
	case REF_NEAR: {
		struct channel_conf *c = r->owner;
		struct channel_end *e =
		    &c->end[r->kind == REF_FAR ? SIDE_FAR : SIDE_NEAR];

		e->store = config_find_store(cfg, e->store_name);
		if (e->store == NULL)
			return cfg_fail_at(p, r->line, "Channel '%s' refers to "
			    "undefined store '%s'", c->name, e->store_name);
		return 0;
	}
	case REF_GROUP: {
		struct group_conf *g = r->owner;
		struct group_entry *e = &g->entries[r->index];

		e->channel = config_find_channel(cfg, e->channel_name);
		if (e->channel == NULL)
			return cfg_fail_at(p, r->line, "Group '%s' refers to "
			    "undefined Channel '%s'", g->name,
			    e->channel_name);
		return 0;
	}
	}
	return 0;
}

int
cfg_finish(struct cfg_parser *p)
{
	struct config *cfg = p->cfg;

	if (p->nrefs > 1)
		qsort(p->refs, p->nrefs, sizeof(*p->refs), cmp_ref);
	for (size_t i = 0; i < p->nrefs; i++)
		if (resolve(p, &p->refs[i]) != 0)
			return -1;
	for (size_t i = 0; i < cfg->nstores; i++) {
		struct store_conf *s = cfg->stores[i];

		if (s->kind == STORE_IMAP) {
			if (s->own_account != NULL)
				s->account = s->own_account;
		} else {
			s->maildir.path = s->path;
			s->maildir.inbox = s->inbox;
			s->maildir.fsync = cfg->fsync;
		}
	}
	return 0;
}
