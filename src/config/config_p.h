/*
 * config_p: what the configuration reader's files share (private to
 * config.c, config_lex.c, config_keys.c, config_values.c and
 * config_check.c).
 *
 *  config_lex.c    splits a line into words (quotes, escapes, comments)
 *  config_keys.c   the key table: where each key may appear, its apply
 *                  function
 *  config_values.c the value parsers: the apply functions, which check a
 *                  key's values and store them
 *  config_check.c  section-end checks, defaults, reference resolution
 *  config.c        the reader loop, sections, messages, the public
 *                  functions
 */
#ifndef TWINBOX_CONFIG_P_H
#define TWINBOX_CONFIG_P_H

#include <stddef.h>

#include "config/config.h"

/* Section kinds, also used as bits in key_def.sections. */
enum cfg_sec {
	SEC_GLOBAL = 1u << 0,
	SEC_ACCOUNT = 1u << 1,
	SEC_IMAPSTORE = 1u << 2,
	SEC_MAILDIR = 1u << 3,
	SEC_CHANNEL = 1u << 4,
	SEC_GROUP = 1u << 5
};
#define SEC_STORES (SEC_IMAPSTORE | SEC_MAILDIR)

/* "IMAPAccount", "MaildirStore", ... for messages. */
const char *cfg_sec_name(enum cfg_sec sec);

/*
 * Split line[0..len) into words. Returns the number of words (0 for an
 * empty or comment line; *comment tells which) or -1 with the reason in
 * why (no file/line prefix). The words are appended to words.
 */
int cfg_split_line(const char *line, size_t len, struct strlist *words,
    int *comment, struct buf *why);

struct cfg_parser;
struct key_def;

typedef int (*cfg_apply_fn)(struct cfg_parser *p, const struct key_def *k,
    char **vals, size_t nvals);

/* What a key's field lives in. */
enum key_target {
	T_NONE,		/* the apply function knows */
	T_GLOBAL,	/* struct config */
	T_OPTS,		/* struct channel_opts, a channel's or global */
	T_CHANNEL,	/* struct channel_conf */
	T_STORE,	/* struct store_conf */
	T_ACCOUNT	/* struct imap_account_conf (an IMAPStore's own) */
};

enum key_flag {
	KF_MULTI = 1u << 0,	/* one or more values (else exactly one) */
	KF_SECRET = 1u << 1,	/* never print the value */
	KF_DEPRECATED = 1u << 2, /* old spelling: warn, naming `alias` */
	KF_NONEMPTY = 1u << 3	/* "" is not a valid value */
};

struct key_def {
	const char *name;
	unsigned sections;	/* enum cfg_sec bits */
	unsigned flags;		/* enum key_flag bits */
	enum key_target target;
	size_t offset;		/* of the field in the target */
	long min, max;		/* for integers */
	const char *expect;	/* "a host name": what a value must be */
	cfg_apply_fn apply;
	const char *alias;	/* KF_DEPRECATED: the name to use instead */
	const char *why;	/* a value refused (AltMap yes...): why, and
				 * what to write instead */
};

/* The key named name (case-insensitive) valid in sec; NULL if none. */
const struct key_def *cfg_find_key(const char *name, enum cfg_sec sec);
/* The sections where a key of that name may appear (0: none, unknown);
   *canon gets its spelling in the table. */
unsigned cfg_key_sections(const char *name, const char **canon);
/* A stable index for k, below cfg_key_count(). */
size_t cfg_key_index(const struct key_def *k);
size_t cfg_key_count(void);

/* The apply functions of the key table (config_values.c), all of type
   cfg_apply_fn. */
int cfg_apply_str(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_path(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_maildir_dir(struct cfg_parser *, const struct key_def *,
    char **, size_t);
int cfg_apply_bool(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_int(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_uint(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_size(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_punct(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_list(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_host(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_cmd(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_tls_type(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_tls_versions(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_legacy(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_account(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_subfolders(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_path_delim(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_flatten(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_end(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_chan_max_size(struct cfg_parser *, const struct key_def *,
    char **, size_t);
int cfg_apply_sync(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_sides(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_expire_side(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_refuse_yes(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_sync_state(struct cfg_parser *, const struct key_def *, char **,
    size_t);
int cfg_apply_group_channels(struct cfg_parser *, const struct key_def *,
    char **, size_t);

/* Accumulated Sync / Create / Remove / Expunge / ExpungeSolo of a scope
   (the global lines, or one Channel section). */
struct ops_acc {
	unsigned dirs;		/* bare Pull / Push: 1 = pull, 2 = push */
	unsigned types;		/* bare SYNC_OP_* (New, Full, ...) */
	unsigned comp[2];	/* PullNew etc., by the side they act on */
	int none;		/* "None" seen */
	int sync_line;		/* last Sync line, 0: no Sync */
	struct buf sync_words;	/* the Sync values, for messages */
	unsigned sides[4];	/* Create, Remove, Expunge, ExpungeSolo */
	int sides_none[4];	/* "None" seen */
	int sides_line[4];	/* 0: not given */
};

enum side_op { SOP_CREATE, SOP_REMOVE, SOP_EXPUNGE, SOP_EXPUNGE_SOLO };

/* Deprecated pre-1.2 TLS options of the current account (-1: unset). */
struct legacy_tls {
	int use_imaps, require_ssl, require_cram;
	int use_tls[4];		/* UseTLSv1, v1.1, v1.2, v1.3 */
	int line;		/* first line with one of them, 0: none */
};

/* A name to resolve once the whole file is read. */
enum ref_kind { REF_ACCOUNT, REF_FAR, REF_NEAR, REF_GROUP };
struct cfg_ref {
	enum ref_kind kind;
	int line;
	void *owner;		/* store_conf, channel_conf or group_conf */
	size_t index;		/* REF_GROUP: the entry in entries */
};

struct cfg_parser {
	const char *file;	/* for messages, as given */
	const char *base_dir;	/* for relative local paths; NULL: keep */
	const struct logger *lg;
	struct buf *err;
	struct config *cfg;
	int line;		/* the line being read */
	int seen_section;	/* a section has begun: no more globals */
	/* The open section; sec == SEC_GLOBAL when none. */
	enum cfg_sec sec;
	int sec_line;
	struct imap_account_conf *acct;	/* IMAPAccount, or an IMAPStore's
					   own options once it has one */
	struct store_conf *store;
	struct channel_conf *chan;
	struct group_conf *group;
	int *key_line;		/* by key index: last line in scope */
	int acct_opt_line;	/* IMAPStore: first account option */
	const char *acct_opt_key;	/* ... and its keyword */
	int tls_type_set, tls_versions_set;
	struct legacy_tls legacy;
	struct ops_acc gops;	/* global lines */
	struct ops_acc cops;	/* the open Channel */
	struct cfg_ref *refs;
	size_t nrefs, refs_cap;
};

/* Put "<file>:<line>: <message>" in p->err; returns -1. */
int cfg_fail(struct cfg_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cfg_fail_at(struct cfg_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log "<file>:<line>: <message>" as a warning. */
void cfg_warn(struct cfg_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cfg_warn_at(struct cfg_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The failure for a value not matching k->expect. */
int cfg_bad_value(struct cfg_parser *p, const struct key_def *k,
    const char *val);

/* Expand a local path (see config.h); NULL with p->err set on failure. */
char *cfg_expand_path(struct cfg_parser *p, const struct key_def *k,
    const char *val);

void cfg_ops_init(struct ops_acc *o);
void cfg_ops_free(struct ops_acc *o);
void cfg_add_ref(struct cfg_parser *p, enum ref_kind kind, void *owner,
    size_t index);
struct imap_account_conf *cfg_account_new(const char *name, int line);
/* The account the open section fills (an IMAPStore's own, made on first
   use); notes the first account option of an IMAPStore. */
struct imap_account_conf *cfg_current_account(struct cfg_parser *p,
    const struct key_def *k);
void cfg_account_free(struct imap_account_conf *a);

/* config_check.c */
/* Close the open section: checks and defaults. */
int cfg_end_section(struct cfg_parser *p);
/* The global Sync/Create/... into cfg->defaults, once globals are over. */
int cfg_end_globals(struct cfg_parser *p);
/* After the whole file: resolve references and fill store defaults. */
int cfg_finish(struct cfg_parser *p);

#endif
