/*
 * config: reading the configuration file (sync.rc), which uses mbsync's
 * syntax so that an existing ~/.mbsyncrc works unchanged.
 *
 * Contract:
 *  - config_load() / config_parse_string() either succeed with a complete,
 *    validated struct config in *out (0), or fail (-1) with *out == NULL, a
 *    one-line message in err and nothing left allocated. The first error
 *    stops the load. Every message begins "<file>:<line>: " with the file
 *    name as given by the caller and says what was expected. Errors are
 *    put in err only (the caller reports them); warnings (deprecated
 *    spellings) go to the logger at once. An mbsync key whose value asks
 *    for what twinbox does not do (AltMap yes, UseKeychain yes,
 *    ExpireSide Far) is
 *    an error that says why and what to write instead; no key is
 *    accepted and ignored.
 *  - A Pass value is stored but never appears in any message.
 *  - File format (mbsync(1), "CONFIGURATION"): one keyword and its values
 *    per line, keywords and keyword-like values case-insensitive, names
 *    (of stores, channels, ...) case-sensitive. A value is one word, or
 *    several words in double quotes; a backslash takes the next character
 *    literally ("\"", "\\"). '#' at the start of a word begins a comment.
 *    Sections (IMAPAccount, IMAPStore, MaildirStore, Channel, Group) run
 *    from their first line to the next empty line; comment lines do not end
 *    them. Global options come before the first section.
 *  - References (IMAPStore Account, Channel Far/Near, Group channels) may
 *    name objects defined later in the file; they are resolved after the
 *    whole file is read and an undefined one is reported at the line of the
 *    reference.
 *  - Every default is mbsync's documented default and is filled in by the
 *    load: a caller never sees an "unset" value except where noted (NULL
 *    strings meaning "none").
 *  - Local paths (Maildir Path and Inbox, CertificateFile, ClientCertificate,
 *    ClientKey, SyncState) have a leading "~" or "~/" replaced by $HOME.
 *    "~user/" is refused. config_load() makes other relative local paths
 *    relative to the directory of the file, as mbsync 1.5 does;
 *    config_parse_string() leaves them as written.
 *  - The config owns every string and list in it; config_free() releases
 *    all. The find functions return pointers into the config.
 */
#ifndef TWINBOX_CONFIG_H
#define TWINBOX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/log.h"
#include "imap/tls_mode.h"
#include "imap/tls_version.h"
#include "maildir/maildir.h"
#include "store.h"
#include "sync/state.h"

/*
 * Sync operations (mbsync "Sync"). A type says what is propagated, a
 * direction says where to: Pull is far -> near (the change is applied to
 * the near side), Push is near -> far.
 *
 *   New     copy messages that appeared since the last run
 *   Old     copy messages that were skipped, failed or expired before;
 *           costly, never implied by Full or by a bare Pull/Push
 *   Upgrade replace placeholders (MaxSize) by the full message once it is
 *           flagged; mbsync 1.4 calls it ReNew
 *   Gone    propagate expunges by marking the peer \Deleted; mbsync 1.4
 *           calls it Delete
 *   Flags   propagate flag changes (\Deleted included)
 *   Full    New Upgrade Gone Flags (also spelt All)
 *
 * A channel's sync mask holds SYNC_OP_* bits shifted by SYNC_PULL_SHIFT
 * (operations applied to the near side) and by SYNC_PUSH_SHIFT (applied to
 * the far side). "Sync Pull New Flags" = SYNC_PULL_NEW | SYNC_PULL_FLAGS;
 * "Sync PullNew Push" = SYNC_PULL_NEW | SYNC_PUSH_FULL; "Sync None" = 0.
 * The default (no Sync anywhere) is SYNC_FULL.
 */
#define SYNC_OP_NEW	(1u << 0)
#define SYNC_OP_OLD	(1u << 1)
#define SYNC_OP_UPGRADE	(1u << 2)
#define SYNC_OP_GONE	(1u << 3)
#define SYNC_OP_FLAGS	(1u << 4)
#define SYNC_OP_FULL	(SYNC_OP_NEW | SYNC_OP_UPGRADE | SYNC_OP_GONE | \
			 SYNC_OP_FLAGS)
#define SYNC_OP_MASK	(SYNC_OP_FULL | SYNC_OP_OLD)

#define SYNC_PULL_SHIFT	0
#define SYNC_PUSH_SHIFT	8

#define SYNC_PULL_NEW	  (SYNC_OP_NEW << SYNC_PULL_SHIFT)
#define SYNC_PULL_OLD	  (SYNC_OP_OLD << SYNC_PULL_SHIFT)
#define SYNC_PULL_UPGRADE (SYNC_OP_UPGRADE << SYNC_PULL_SHIFT)
#define SYNC_PULL_GONE	  (SYNC_OP_GONE << SYNC_PULL_SHIFT)
#define SYNC_PULL_FLAGS	  (SYNC_OP_FLAGS << SYNC_PULL_SHIFT)
#define SYNC_PULL_FULL	  (SYNC_OP_FULL << SYNC_PULL_SHIFT)
#define SYNC_PUSH_NEW	  (SYNC_OP_NEW << SYNC_PUSH_SHIFT)
#define SYNC_PUSH_OLD	  (SYNC_OP_OLD << SYNC_PUSH_SHIFT)
#define SYNC_PUSH_UPGRADE (SYNC_OP_UPGRADE << SYNC_PUSH_SHIFT)
#define SYNC_PUSH_GONE	  (SYNC_OP_GONE << SYNC_PUSH_SHIFT)
#define SYNC_PUSH_FLAGS	  (SYNC_OP_FLAGS << SYNC_PUSH_SHIFT)
#define SYNC_PUSH_FULL	  (SYNC_OP_FULL << SYNC_PUSH_SHIFT)
#define SYNC_FULL	  (SYNC_PULL_FULL | SYNC_PUSH_FULL)

/* The SYNC_OP_* bits of a sync mask whose effect lands on side `to`. */
static inline unsigned
sync_ops_to(unsigned sync, enum side to)
{
	return (sync >> (to == SIDE_NEAR ? SYNC_PULL_SHIFT : SYNC_PUSH_SHIFT)) &
	    SYNC_OP_MASK;
}

/*
 * Sides, as bits (Create, Remove, Expunge, ExpungeSolo): the side the
 * action is done on. "Create Near" creates missing mailboxes on the near
 * side; "Both" is both bits; "None" is 0. Master = Far, Slave = Near.
 */
#define SIDE_BIT_FAR	(1u << SIDE_FAR)
#define SIDE_BIT_NEAR	(1u << SIDE_NEAR)
#define SIDE_BIT_BOTH	(SIDE_BIT_FAR | SIDE_BIT_NEAR)


/* IMAPAccount: how to reach and log in to a server. */
struct imap_account_conf {
	char *name;		/* the section name; for the options written
				   inside an IMAPStore, the store's name */
	int line;		/* where it is defined */
	char *host;		/* NULL only with a Tunnel */
	int port;		/* default 993 for IMAPS, else 143 */
	int timeout;		/* seconds, 0 = none; default 20 */
	char *user;		/* NULL: none given */
	char *user_cmd;		/* UserCmd without its '+'; NULL: none */
	int user_cmd_tty;	/* 1: the command was written "+command" */
	char *pass;		/* secret: never print it */
	char *pass_cmd;		/* PassCmd without its '+'; NULL: none */
	int pass_cmd_tty;	/* 1: the command was written "+command" */
	char *tunnel;		/* Tunnel command; NULL: plain TCP */
	struct strlist auth_mechs;	/* in order; default just "*" */
	enum tls_mode tls_type;	/* TLSType (mbsync 1.4: SSLType) */
	unsigned tls_versions;	/* enum tls_version bits */
	int system_certs;	/* SystemCertificates; default 1 */
	char *cert_file;	/* CertificateFile (expanded); NULL: none */
	char *client_cert;	/* ClientCertificate (expanded); NULL: none */
	char *client_key;	/* ClientKey (expanded); NULL: in client_cert */
	char *cipher_string;	/* CipherString; NULL: system policy */
	int pipeline_depth;	/* PipelineDepth; 0 = unlimited (default) */
	int connections;	/* Connections: at most this many at once;
				   default CONNECTIONS_DEFAULT */
	struct strlist disabled_exts;	/* DisableExtensions as written */
};

/* Connections' default: what measured fastest (docs/benchmarks.md). */
#define CONNECTIONS_DEFAULT 3

enum store_kind { STORE_IMAP, STORE_MAILDIR };

/* IMAPStore or MaildirStore. */
struct store_conf {
	char *name;
	int line;
	enum store_kind kind;
	/* Every kind. */
	char *path;		/* Path: IMAP as written, Maildir expanded;
				   NULL: none */
	int path_line;		/* where Path is given; 0: not given */
	uint64_t max_size;	/* MaxSize in bytes, 0 = unlimited (default);
				   see channel_conf.max_size */
	char *map_inbox;	/* MapInbox; NULL: none (store_names.h) */
	char *flatten;		/* Flatten delimiter; NULL: none */
	char *trash;		/* Trash mailbox; NULL: none */
	int trash_new_only;	/* TrashNewOnly; default 0 */
	int trash_remote_new;	/* TrashRemoteNew; default 0 */
	/* MaildirStore. maildir.path and maildir.inbox point to the strings
	   above / below, owned by the config; maildir.fsync is the global
	   FSync. Inbox defaults to ~/Maildir, SubFolders to none. */
	struct maildir_options maildir;
	char *inbox;
	char info_delimiter;	/* InfoDelimiter; default the
				   FieldDelimiter */
	/* IMAPStore. account is never NULL after a successful load: either
	   the IMAPAccount named by Account or own_account, built from the
	   account options written in the store's own section. */
	const struct imap_account_conf *account;
	struct imap_account_conf *own_account;
	char *account_name;	/* Account as written; NULL when inline */
	int use_namespace;	/* UseNamespace; default 1 */
	char path_delimiter;	/* PathDelimiter; '\0' = ask the server */
	int subscribed_only;	/* SubscribedOnly: list with LSUB */
};

/* One end of a channel (Far or Near, old names Master and Slave). */
struct channel_end {
	char *store_name;		/* as written between the colons */
	const struct store_conf *store;	/* resolved */
	char *box;	/* the mailbox after ":store:"; NULL when omitted,
			   meaning INBOX, or with Patterns no prefix */
};

/* The options a Channel inherits from the global section. */
struct channel_opts {
	unsigned sync;		/* SYNC_PULL_* | SYNC_PUSH_*; default
				   SYNC_FULL */
	unsigned create;	/* SIDE_BIT_*; default none */
	unsigned remove;	/* SIDE_BIT_*; default none */
	unsigned expunge;	/* SIDE_BIT_*; default none */
	unsigned expunge_solo;	/* ExpungeSolo, SIDE_BIT_*; default none */
	unsigned max_messages;	/* MaxMessages; 0 = unlimited (default) */
	int expire_unread;	/* ExpireUnread; -1 = not set (default) */
	int copy_arrival_date;	/* CopyArrivalDate; default 0 */
	/* The mass-deletion guard's thresholds (twinbox's own keys). */
	unsigned mass_delete_count;	/* MassDeleteCount; default 10 */
	unsigned mass_delete_percent;	/* MassDeletePercent; default 90 */
	unsigned mass_delete_large;	/* MassDeleteLarge; default 100 */
	unsigned mass_delete_large_percent; /* MassDeleteLargePercent;
					       default 50 */
	unsigned lock_wait;	/* LockWait: seconds a sync waits for a
				   pair lock another process holds;
				   default LOCK_WAIT_DEFAULT */
	/* Watch mode (twinbox --watch, twinbox's own keys). */
	unsigned watch_interval;	/* WatchInterval: seconds between
					   full syncs; 0 = none; default
					   WATCH_INTERVAL_DEFAULT */
	unsigned watch_refresh;		/* WatchRefresh: seconds an IDLE
					   lasts before DONE + IDLE proves
					   the connection; default
					   WATCH_REFRESH_DEFAULT */
};

#define LOCK_WAIT_DEFAULT	30
#define WATCH_INTERVAL_DEFAULT	300
#define WATCH_REFRESH_DEFAULT	600
#define WATCH_REFRESH_MAX	1740	/* 29 minutes: RFC 2177 */

struct channel_conf {
	char *name;
	int line;
	struct channel_end end[2];	/* indexed by enum side */
	struct strlist patterns;	/* Pattern(s) in file order, with any
					   leading '!'; empty: one mailbox */
	struct strlist watch_boxes;	/* WatchMailboxes: patterns over the
					   channel's mailbox names that watch
					   mode keeps an eye on; empty:
					   INBOX */
	/* Effective options: the channel's own where it sets them, else the
	   global ones, else mbsync's defaults. Sync, Create, Remove, Expunge
	   and ExpungeSolo are each taken whole from one place. */
	struct channel_opts opt;
	/* MaxSize given in the channel: it applies to both stores and wins
	   over the stores' own MaxSize (mbsync writes it into the stores). */
	int max_size_set;
	uint64_t max_size;
	/* The channel's own SyncState: "*" (state in the near mailbox) or an
	   expanded prefix for the near mailbox name. NULL when the channel
	   sets none: then config.sync_state applies, and if that is NULL
	   too, twinbox's default (the near mailbox's directory). */
	char *sync_state;
};

/* One member of a Group: "channel" or "channel:box[,box...]". */
struct group_entry {
	char *channel_name;
	/* The channel named, found once the whole file is read (a Group
	   may name a channel defined after it); never NULL in a config
	   that loaded. */
	const struct channel_conf *channel;
	/* The mailboxes after the ':', in order (an empty name where two
	   commas meet); none: the channel's own selection. */
	struct strlist boxes;
};

struct group_conf {
	char *name;
	int line;
	/* The members, from the Group line and its Channel(s) lines, in
	   order. */
	struct group_entry *entries;
	size_t nentries;
};

struct config {
	/* Global options. */
	int fsync;		/* FSync; default 1 */
	char field_delimiter;	/* FieldDelimiter (state file names under
				   a SyncState prefix); default ':' */
	char *sync_state;	/* global SyncState: "*" or an expanded
				   prefix to which ":far:box_:near:box" is
				   appended; NULL: the default location */
	struct channel_opts defaults;	/* global channel options */
	char *log_file;		/* LogFile (expanded); NULL: none */
	char *file;		/* the file's name as messages give it */
	/* Sections, in file order. */
	struct imap_account_conf **accounts;
	size_t naccounts;
	struct store_conf **stores;
	size_t nstores;
	struct channel_conf **channels;
	size_t nchannels;
	struct group_conf **groups;
	size_t ngroups;
};

int config_load(const char *path, const struct logger *lg,
    struct config **out, struct buf *err);
/* The same from a string; name_for_messages stands for the file name. */
int config_parse_string(const char *text, const char *name_for_messages,
    const struct logger *lg, struct config **out, struct buf *err);
void config_free(struct config *cfg);

/*
 * The configuration file to use when none is given, the first that exists
 * of: $XDG_CONFIG_HOME/twinbox/sync.rc, ~/.twinboxrc, then mbsync's own
 * $XDG_CONFIG_HOME/isyncrc and ~/.mbsyncrc ($XDG_CONFIG_HOME unset, empty
 * or relative means ~/.config). Fails (-1) naming every path looked for
 * when none exists, and saying so when $HOME is unset.
 */
int config_default_path(struct buf *out, struct buf *err);

/* Lookups by exact (case-sensitive) name; NULL if there is none. */
const struct channel_conf *config_find_channel(const struct config *cfg,
    const char *name);
const struct group_conf *config_find_group(const struct config *cfg,
    const char *name);
const struct store_conf *config_find_store(const struct config *cfg,
    const char *name);

#endif
