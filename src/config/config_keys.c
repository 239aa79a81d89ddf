/*
 * config_keys: the table of every configuration keyword — where it may
 * appear, what its value must be and which function stores it. Every key
 * either acts or refuses the values twinbox cannot honour (.why says
 * why); none is read and ignored.
 */
#include <stddef.h>
#include <strings.h>

#include "config/config_p.h"

/* Where a key's field is: its target and its offset in that struct. */
#define ACC(field) .target = T_ACCOUNT, \
	.offset = offsetof(struct imap_account_conf, field)
#define STO(field) .target = T_STORE, \
	.offset = offsetof(struct store_conf, field)
#define CHA(field) .target = T_CHANNEL, \
	.offset = offsetof(struct channel_conf, field)
#define OPT(field) .target = T_OPTS, \
	.offset = offsetof(struct channel_opts, field)
#define GLO(field) .target = T_GLOBAL, \
	.offset = offsetof(struct config, field)
#define LEG(field) .target = T_ACCOUNT, \
	.offset = offsetof(struct legacy_tls, field)

#define SEC_ACC (SEC_ACCOUNT | SEC_IMAPSTORE)
#define SEC_CHOPT (SEC_GLOBAL | SEC_CHANNEL)
#define YESNO "yes or no"
#define SIZE "a size: a number, optionally followed by k or m (and b)"
#define SIDES "None, Far, Near or Both"
#define CMD "a shell command"
#define FILENAME "a file name"
#define PERCENT "a percentage from 0 to 100 (100 turns the rule off)"

static const struct key_def keys[] = {
	/* IMAPAccount, and the same inside an IMAPStore. */
	{ .name = "Host", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_host, .expect = "a host name", ACC(host) },
	{ .name = "Port", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_int, .expect = "a port number from 1 to 65535",
	  ACC(port), .min = 1, .max = 65535 },
	{ .name = "Timeout", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_int, .expect = "a number of seconds (0 for none)",
	  ACC(timeout), .min = 0, .max = 1000000 },
	{ .name = "User", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_str, .expect = "a user name", ACC(user) },
	{ .name = "UserCmd", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_cmd, .expect = CMD, ACC(user_cmd),
	  .min = offsetof(struct imap_account_conf, user_cmd_tty) },
	{ .name = "Pass", .sections = SEC_ACC, .flags = KF_SECRET,
	  .apply = cfg_apply_str, .expect = "a password", ACC(pass) },
	{ .name = "PassCmd", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_cmd, .expect = CMD, ACC(pass_cmd),
	  .min = offsetof(struct imap_account_conf, pass_cmd_tty) },
	{ .name = "UseKeychain", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_refuse_yes, .expect = YESNO,
	  .why = "twinbox does not read the macOS keychain; write PassCmd "
	    "\"security find-internet-password -s HOST -a USER -w\" "
	    "instead" },
	{ .name = "Tunnel", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_str, .expect = CMD, ACC(tunnel) },
	{ .name = "AuthMechs", .sections = SEC_ACC,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "authentication mechanism names (LOGIN, PLAIN, ...) or *",
	  ACC(auth_mechs) },
	{ .name = "AuthMech", .sections = SEC_ACC,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "authentication mechanism names (LOGIN, PLAIN, ...) or *",
	  ACC(auth_mechs) },
	{ .name = "TLSType", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_tls_type, .expect = "None, STARTTLS or IMAPS",
	  ACC(tls_type) },
	{ .name = "SSLType", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_tls_type, .expect = "None, STARTTLS or IMAPS",
	  ACC(tls_type) },
	{ .name = "TLSVersions", .sections = SEC_ACC, .flags = KF_MULTI,
	  .apply = cfg_apply_tls_versions,
	  .expect = "+ or - followed by 1.0, 1.1, 1.2 or 1.3",
	  ACC(tls_versions) },
	{ .name = "SSLVersions", .sections = SEC_ACC, .flags = KF_MULTI,
	  .apply = cfg_apply_tls_versions,
	  .expect = "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", ACC(tls_versions) },
	{ .name = "SSLVersion", .sections = SEC_ACC, .flags = KF_MULTI,
	  .apply = cfg_apply_tls_versions,
	  .expect = "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", ACC(tls_versions) },
	{ .name = "SystemCertificates", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, ACC(system_certs) },
	{ .name = "CertificateFile", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_path, .expect = FILENAME, ACC(cert_file) },
	{ .name = "ClientCertificate", .sections = SEC_ACC,
	  .flags = KF_NONEMPTY, .apply = cfg_apply_path, .expect = FILENAME,
	  ACC(client_cert) },
	{ .name = "ClientKey", .sections = SEC_ACC, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_path, .expect = FILENAME, ACC(client_key) },
	{ .name = "CipherString", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_str, .expect = "an OpenSSL cipher list",
	  ACC(cipher_string) },
	{ .name = "PipelineDepth", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_int, .expect = "a number of commands, at least 1",
	  ACC(pipeline_depth), .min = 1, .max = 1000000 },
	{ .name = "Connections", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_int,
	  .expect = "a number of connections from 1 to 16",
	  ACC(connections), .min = 1, .max = 16 },
	{ .name = "DisableExtension", .sections = SEC_ACC,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "IMAP extension names", ACC(disabled_exts) },
	{ .name = "DisableExtensions", .sections = SEC_ACC,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "IMAP extension names", ACC(disabled_exts) },
	/* Before mbsync 1.2; mapped onto TLSType, TLSVersions, AuthMechs. */
	{ .name = "UseIMAPS", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(use_imaps),
	  .alias = "TLSType IMAPS" },
	{ .name = "RequireSSL", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(require_ssl),
	  .alias = "TLSType" },
	{ .name = "UseTLSv1", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(use_tls[0]),
	  .alias = "TLSVersions" },
	{ .name = "UseTLSv1.1", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(use_tls[1]),
	  .alias = "TLSVersions" },
	{ .name = "UseTLSv1.2", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(use_tls[2]),
	  .alias = "TLSVersions" },
	{ .name = "UseTLSv1.3", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(use_tls[3]),
	  .alias = "TLSVersions" },
	{ .name = "UseSSLv2", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_legacy, .expect = YESNO, .target = T_ACCOUNT,
	  .offset = (size_t)-1 },
	{ .name = "UseSSLv3", .sections = SEC_ACC, .flags = 0,
	  .apply = cfg_apply_legacy, .expect = YESNO, .target = T_ACCOUNT,
	  .offset = (size_t)-1 },
	{ .name = "RequireCRAM", .sections = SEC_ACC, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_legacy, .expect = YESNO, LEG(require_cram),
	  .alias = "AuthMechs CRAM-MD5" },

	/* IMAPStore only. */
	{ .name = "Account", .sections = SEC_IMAPSTORE, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_account, .expect = "an IMAPAccount name",
	  .target = T_NONE },
	{ .name = "UseNamespace", .sections = SEC_IMAPSTORE, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, STO(use_namespace) },
	{ .name = "PathDelimiter", .sections = SEC_IMAPSTORE, .flags = 0,
	  .apply = cfg_apply_path_delim, .expect = "a single character",
	  STO(path_delimiter) },
	{ .name = "SubscribedOnly", .sections = SEC_IMAPSTORE, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, STO(subscribed_only) },
	{ .name = "Path", .sections = SEC_IMAPSTORE, .flags = 0,
	  .apply = cfg_apply_str, .expect = "a mailbox path prefix",
	  STO(path) },

	/* Every store. */
	{ .name = "MaxSize", .sections = SEC_STORES, .flags = 0,
	  .apply = cfg_apply_size, .expect = SIZE, STO(max_size) },
	{ .name = "MapInbox", .sections = SEC_STORES, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_str, .expect = "a mailbox name", STO(map_inbox) },
	{ .name = "Flatten", .sections = SEC_STORES, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_flatten,
	  .expect = "a delimiter that does not contain '/'", STO(flatten) },
	{ .name = "Trash", .sections = SEC_STORES, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_str, .expect = "a mailbox name", STO(trash) },
	{ .name = "TrashNewOnly", .sections = SEC_STORES, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, STO(trash_new_only) },
	{ .name = "TrashRemoteNew", .sections = SEC_STORES, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, STO(trash_remote_new) },

	/* MaildirStore only. */
	{ .name = "Path", .sections = SEC_MAILDIR, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_maildir_dir, .expect = "a directory",
	  STO(path) },
	{ .name = "Inbox", .sections = SEC_MAILDIR, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_maildir_dir, .expect = "a directory",
	  STO(inbox) },
	{ .name = "SubFolders", .sections = SEC_MAILDIR, .flags = 0,
	  .apply = cfg_apply_subfolders,
	  .expect = "Verbatim, Maildir++ or Legacy", STO(maildir.subfolders) },
	{ .name = "Utf7Names", .sections = SEC_MAILDIR, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, STO(maildir.utf7_names) },
	{ .name = "AltMap", .sections = SEC_MAILDIR, .flags = 0,
	  .apply = cfg_apply_refuse_yes, .expect = YESNO,
	  .why = "twinbox keeps a message's UID in its file name (',U=') "
	    "only, never in mbsync's Berkeley DB (.isyncuidmap.db); delete "
	    "the line and set mbsync's state of these folders aside, so "
	    "that the first run pairs their messages by content" },
	{ .name = "InfoDelimiter", .sections = SEC_MAILDIR, .flags = 0,
	  .apply = cfg_apply_punct,
	  .expect = "a single punctuation character but / . , = \\",
	  STO(info_delimiter) },

	/* Channel only. */
	{ .name = "Far", .sections = SEC_CHANNEL, .flags = 0,
	  .apply = cfg_apply_end, .expect = ":store: or :store:mailbox",
	  CHA(end), .min = SIDE_FAR },
	{ .name = "Near", .sections = SEC_CHANNEL, .flags = 0,
	  .apply = cfg_apply_end, .expect = ":store: or :store:mailbox",
	  CHA(end), .min = SIDE_NEAR },
	{ .name = "Master", .sections = SEC_CHANNEL, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_end, .expect = ":store: or :store:mailbox",
	  CHA(end), .min = SIDE_FAR, .max = 0, .alias = "Far" },
	{ .name = "Slave", .sections = SEC_CHANNEL, .flags = KF_DEPRECATED,
	  .apply = cfg_apply_end, .expect = ":store: or :store:mailbox",
	  CHA(end), .min = SIDE_NEAR, .max = 0, .alias = "Near" },
	{ .name = "Pattern", .sections = SEC_CHANNEL,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "mailbox patterns (* and % are wildcards, ! excludes)",
	  CHA(patterns) },
	{ .name = "Patterns", .sections = SEC_CHANNEL,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "mailbox patterns (* and % are wildcards, ! excludes)",
	  CHA(patterns) },
	{ .name = "MaxSize", .sections = SEC_CHANNEL, .flags = 0,
	  .apply = cfg_apply_chan_max_size, .expect = SIZE, CHA(max_size) },
	/* twinbox's own: what watch mode (--watch) keeps an eye on. */
	{ .name = "WatchMailboxes", .sections = SEC_CHANNEL,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_list,
	  .expect = "mailbox patterns (* and % are wildcards, ! excludes)",
	  CHA(watch_boxes) },

	/* Channel, or global as the default of every channel. */
	{ .name = "Sync", .sections = SEC_CHOPT, .flags = KF_MULTI,
	  .apply = cfg_apply_sync,
	  .expect = "None, Full, Pull, Push, New, Old, Upgrade, Gone, Flags, "
	    "or Pull or Push joined to a type (PullNew, PushFlags, ...)",
	  OPT(sync) },
	{ .name = "Create", .sections = SEC_CHOPT, .flags = KF_MULTI,
	  .apply = cfg_apply_sides, .expect = SIDES, OPT(create),
	  .min = SOP_CREATE },
	{ .name = "Remove", .sections = SEC_CHOPT, .flags = KF_MULTI,
	  .apply = cfg_apply_sides, .expect = SIDES, OPT(remove),
	  .min = SOP_REMOVE },
	{ .name = "Expunge", .sections = SEC_CHOPT, .flags = KF_MULTI,
	  .apply = cfg_apply_sides, .expect = SIDES, OPT(expunge),
	  .min = SOP_EXPUNGE },
	{ .name = "ExpungeSolo", .sections = SEC_CHOPT, .flags = KF_MULTI,
	  .apply = cfg_apply_sides, .expect = SIDES, OPT(expunge_solo),
	  .min = SOP_EXPUNGE_SOLO },
	{ .name = "MaxMessages", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint,
	  .expect = "a number of messages (0 for no limit)", OPT(max_messages),
	  .min = 0, .max = 1000000000 },
	{ .name = "ExpireUnread", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, OPT(expire_unread) },
	{ .name = "ExpireSide", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_expire_side, .expect = "Far or Near",
	  .why = "MaxMessages expires messages from the near side only; "
	    "delete the line or write 'ExpireSide Near'" },
	{ .name = "CopyArrivalDate", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, OPT(copy_arrival_date) },
	/* twinbox's own: the mass-deletion guard (DESIGN.md invariant 7). */
	{ .name = "MassDeleteCount", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint, .expect = "a number of messages",
	  OPT(mass_delete_count), .min = 0, .max = 1000000000 },
	{ .name = "MassDeletePercent", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint, .expect = PERCENT,
	  OPT(mass_delete_percent), .min = 0, .max = 100 },
	{ .name = "MassDeleteLarge", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint, .expect = "a number of messages",
	  OPT(mass_delete_large), .min = 0, .max = 1000000000 },
	{ .name = "MassDeleteLargePercent", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint, .expect = PERCENT,
	  OPT(mass_delete_large_percent), .min = 0, .max = 100 },
	/* twinbox's own: how long a sync waits for a busy pair lock. */
	{ .name = "LockWait", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint,
	  .expect = "a number of seconds from 0 to 3600",
	  OPT(lock_wait), .min = 0, .max = 3600 },
	/* twinbox's own: watch mode's timers (--watch). */
	{ .name = "WatchInterval", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint,
	  .expect = "a number of seconds between full syncs (0 for none)",
	  OPT(watch_interval), .min = 0, .max = 86400 * 7 },
	{ .name = "WatchRefresh", .sections = SEC_CHOPT, .flags = 0,
	  .apply = cfg_apply_uint,
	  .expect = "a number of seconds from 1 to 1740 (29 minutes)",
	  OPT(watch_refresh), .min = 1, .max = WATCH_REFRESH_MAX },
	{ .name = "SyncState", .sections = SEC_CHOPT, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_sync_state, .expect = "* or a path prefix",
	  .target = T_NONE },

	/* Group only. */
	{ .name = "Channel", .sections = SEC_GROUP,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_group_channels,
	  .expect = "a channel name, optionally followed by "
	    ":mailbox[,mailbox...]", .target = T_NONE },
	{ .name = "Channels", .sections = SEC_GROUP,
	  .flags = KF_MULTI | KF_NONEMPTY, .apply = cfg_apply_group_channels,
	  .expect = "a channel name, optionally followed by "
	    ":mailbox[,mailbox...]", .target = T_NONE },

	/* Global only. */
	{ .name = "FSync", .sections = SEC_GLOBAL, .flags = 0,
	  .apply = cfg_apply_bool, .expect = YESNO, GLO(fsync) },
	{ .name = "FieldDelimiter", .sections = SEC_GLOBAL, .flags = 0,
	  .apply = cfg_apply_punct,
	  .expect = "a single punctuation character but / . , = \\",
	  GLO(field_delimiter) },
	/* twinbox's own: the log file of --log-file. */
	{ .name = "LogFile", .sections = SEC_GLOBAL, .flags = KF_NONEMPTY,
	  .apply = cfg_apply_path, .expect = FILENAME, GLO(log_file) },
	/* Checked only: message data streams, nothing to limit (sync.rc(5)). */
	{ .name = "BufferLimit", .sections = SEC_GLOBAL, .flags = 0,
	  .apply = cfg_apply_size,
	  .expect = "a size above 0: a number, optionally followed by k or m "
	    "(and b)", .target = T_NONE, .min = 1 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct key_def *
cfg_find_key(const char *name, enum cfg_sec sec)
{
	for (size_t i = 0; i < NKEYS; i++)
		if ((keys[i].sections & sec) &&
		    strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

unsigned
cfg_key_sections(const char *name, const char **canon)
{
	unsigned secs = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcasecmp(keys[i].name, name) == 0) {
			secs |= keys[i].sections;
			*canon = keys[i].name;
		}
	}
	return secs;
}

size_t
cfg_key_index(const struct key_def *k)
{
	return (size_t)(k - keys);
}

size_t
cfg_key_count(void)
{
	return NKEYS;
}
