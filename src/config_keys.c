/*
 * config_keys: the table of every configuration keyword — where it may
 * appear, what its value must be and which function stores it — and the
 * one list of keywords twinbox accepts but does not implement yet.
 */
#include <stddef.h>
#include <strings.h>

#include "config_p.h"

/*
 * Keys twinbox reads and checks but does not act on yet. Using one logs
 * "<file>:<line>: '<Key>' is not implemented yet and is ignored".
 * Remove a key from here when it gets implemented (and from the list in
 * docs/sync.rc.5).
 */
const char *const config_unimplemented_keys[] = {
	"AltMap",		/* Berkeley DB UID scheme */
	"BufferLimit",
	"ClientCertificate",
	"ClientKey",
	"ExpireSide",
	"ExpireUnread",
	"ExpungeSolo",
	"FieldDelimiter",
	"Flatten",
	"InfoDelimiter",
	"MapInbox",
	"SubscribedOnly",
	"Trash",
	"TrashNewOnly",
	"TrashRemoteNew",
	"UseKeychain",		/* macOS only */
	NULL
};

int
cfg_key_unimplemented(const char *name)
{
	for (size_t i = 0; config_unimplemented_keys[i] != NULL; i++)
		if (strcasecmp(config_unimplemented_keys[i], name) == 0)
			return 1;
	return 0;
}

#define K(n, s, f, fn, e) \
	.name = (n), .sections = (s), .flags = (f), .apply = (fn), \
	.expect = (e)
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
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define OLD(instead) .alias = (instead)

#define SEC_ACC (SEC_ACCOUNT | SEC_IMAPSTORE)
#define SEC_CHOPT (SEC_GLOBAL | SEC_CHANNEL)
#define YESNO "yes or no"
#define SIZE "a size: a number, optionally followed by k or m (and b)"
#define SIDES "None, Far, Near or Both"
#define CMD "a shell command"
#define FILENAME "a file name"

static const struct key_def keys[] = {
	/* IMAPAccount, and the same inside an IMAPStore. */
	{ K("Host", SEC_ACC, KF_NONEMPTY, cfg_apply_host, "a host name"),
	  ACC(host) },
	{ K("Port", SEC_ACC, 0, cfg_apply_int,
	    "a port number from 1 to 65535"), ACC(port), RANGE(1, 65535) },
	{ K("Timeout", SEC_ACC, 0, cfg_apply_int,
	    "a number of seconds (0 for none)"), ACC(timeout),
	  RANGE(0, 1000000) },
	{ K("User", SEC_ACC, 0, cfg_apply_str, "a user name"), ACC(user) },
	{ K("UserCmd", SEC_ACC, KF_NONEMPTY, cfg_apply_cmd, CMD),
	  ACC(user_cmd), RANGE(offsetof(struct imap_account_conf,
	  user_cmd_tty), 0) },
	{ K("Pass", SEC_ACC, KF_SECRET, cfg_apply_str, "a password"),
	  ACC(pass) },
	{ K("PassCmd", SEC_ACC, KF_NONEMPTY, cfg_apply_cmd, CMD),
	  ACC(pass_cmd), RANGE(offsetof(struct imap_account_conf,
	  pass_cmd_tty), 0) },
	{ K("UseKeychain", SEC_ACC, 0, cfg_apply_bool, YESNO),
	  ACC(use_keychain) },
	{ K("Tunnel", SEC_ACC, KF_NONEMPTY, cfg_apply_str, CMD),
	  ACC(tunnel) },
	{ K("AuthMechs", SEC_ACC, KF_MULTI | KF_NONEMPTY, cfg_apply_list,
	    "authentication mechanism names (LOGIN, PLAIN, ...) or *"),
	  ACC(auth_mechs) },
	{ K("AuthMech", SEC_ACC, KF_MULTI | KF_NONEMPTY, cfg_apply_list,
	    "authentication mechanism names (LOGIN, PLAIN, ...) or *"),
	  ACC(auth_mechs) },
	{ K("TLSType", SEC_ACC, 0, cfg_apply_tls_type,
	    "None, STARTTLS or IMAPS"), ACC(tls_type) },
	{ K("SSLType", SEC_ACC, 0, cfg_apply_tls_type,
	    "None, STARTTLS or IMAPS"), ACC(tls_type) },
	{ K("TLSVersions", SEC_ACC, KF_MULTI, cfg_apply_tls_versions,
	    "+ or - followed by 1.0, 1.1, 1.2 or 1.3"), ACC(tls_versions) },
	{ K("SSLVersions", SEC_ACC, KF_MULTI, cfg_apply_tls_versions,
	    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"), ACC(tls_versions) },
	{ K("SSLVersion", SEC_ACC, KF_MULTI, cfg_apply_tls_versions,
	    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"), ACC(tls_versions) },
	{ K("SystemCertificates", SEC_ACC, 0, cfg_apply_bool, YESNO),
	  ACC(system_certs) },
	{ K("CertificateFile", SEC_ACC, KF_NONEMPTY, cfg_apply_path,
	    FILENAME), ACC(cert_file) },
	{ K("ClientCertificate", SEC_ACC, KF_NONEMPTY, cfg_apply_path,
	    FILENAME), ACC(client_cert) },
	{ K("ClientKey", SEC_ACC, KF_NONEMPTY, cfg_apply_path, FILENAME),
	  ACC(client_key) },
	{ K("CipherString", SEC_ACC, 0, cfg_apply_str,
	    "an OpenSSL cipher list"), ACC(cipher_string) },
	{ K("PipelineDepth", SEC_ACC, 0, cfg_apply_int,
	    "a number of commands, at least 1"), ACC(pipeline_depth),
	  RANGE(1, 1000000) },
	{ K("DisableExtension", SEC_ACC, KF_MULTI | KF_NONEMPTY,
	    cfg_apply_list, "IMAP extension names"), ACC(disabled_exts) },
	{ K("DisableExtensions", SEC_ACC, KF_MULTI | KF_NONEMPTY,
	    cfg_apply_list, "IMAP extension names"), ACC(disabled_exts) },
	/* Before mbsync 1.2; mapped onto TLSType, TLSVersions, AuthMechs. */
	{ K("UseIMAPS", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(use_imaps), OLD("TLSType IMAPS") },
	{ K("RequireSSL", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(require_ssl), OLD("TLSType") },
	{ K("UseTLSv1", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(use_tls[0]), OLD("TLSVersions") },
	{ K("UseTLSv1.1", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(use_tls[1]), OLD("TLSVersions") },
	{ K("UseTLSv1.2", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(use_tls[2]), OLD("TLSVersions") },
	{ K("UseTLSv1.3", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(use_tls[3]), OLD("TLSVersions") },
	{ K("UseSSLv2", SEC_ACC, 0, cfg_apply_legacy, YESNO),
	  .target = T_ACCOUNT, .offset = (size_t)-1 },
	{ K("UseSSLv3", SEC_ACC, 0, cfg_apply_legacy, YESNO),
	  .target = T_ACCOUNT, .offset = (size_t)-1 },
	{ K("RequireCRAM", SEC_ACC, KF_DEPRECATED, cfg_apply_legacy, YESNO),
	  LEG(require_cram), OLD("AuthMechs CRAM-MD5") },

	/* IMAPStore only. */
	{ K("Account", SEC_IMAPSTORE, KF_NONEMPTY, cfg_apply_account,
	    "an IMAPAccount name"), .target = T_NONE },
	{ K("UseNamespace", SEC_IMAPSTORE, 0, cfg_apply_bool, YESNO),
	  STO(use_namespace) },
	{ K("PathDelimiter", SEC_IMAPSTORE, 0, cfg_apply_path_delim,
	    "a single character"), STO(path_delimiter) },
	{ K("SubscribedOnly", SEC_IMAPSTORE, 0, cfg_apply_bool, YESNO),
	  STO(subscribed_only) },
	{ K("Path", SEC_IMAPSTORE, 0, cfg_apply_str,
	    "a mailbox path prefix"), STO(path) },

	/* Every store. */
	{ K("MaxSize", SEC_STORES, 0, cfg_apply_size, SIZE),
	  STO(max_size) },
	{ K("MapInbox", SEC_STORES, KF_NONEMPTY, cfg_apply_str,
	    "a mailbox name"), STO(map_inbox) },
	{ K("Flatten", SEC_STORES, KF_NONEMPTY, cfg_apply_flatten,
	    "a delimiter that does not contain '/'"), STO(flatten) },
	{ K("Trash", SEC_STORES, KF_NONEMPTY, cfg_apply_str,
	    "a mailbox name"), STO(trash) },
	{ K("TrashNewOnly", SEC_STORES, 0, cfg_apply_bool, YESNO),
	  STO(trash_new_only) },
	{ K("TrashRemoteNew", SEC_STORES, 0, cfg_apply_bool, YESNO),
	  STO(trash_remote_new) },

	/* MaildirStore only. */
	{ K("Path", SEC_MAILDIR, KF_NONEMPTY, cfg_apply_path,
	    "a directory"), STO(path) },
	{ K("Inbox", SEC_MAILDIR, KF_NONEMPTY, cfg_apply_path,
	    "a directory"), STO(inbox) },
	{ K("SubFolders", SEC_MAILDIR, 0, cfg_apply_subfolders,
	    "Verbatim, Maildir++ or Legacy"), STO(maildir.subfolders) },
	{ K("AltMap", SEC_MAILDIR, 0, cfg_apply_bool, YESNO),
	  STO(alt_map) },
	{ K("InfoDelimiter", SEC_MAILDIR, 0, cfg_apply_punct,
	    "a single punctuation character"), STO(info_delimiter) },

	/* Channel only. */
	{ K("Far", SEC_CHANNEL, 0, cfg_apply_end,
	    ":store: or :store:mailbox"), CHA(end), RANGE(SIDE_FAR, 0) },
	{ K("Near", SEC_CHANNEL, 0, cfg_apply_end,
	    ":store: or :store:mailbox"), CHA(end), RANGE(SIDE_NEAR, 0) },
	{ K("Master", SEC_CHANNEL, KF_DEPRECATED, cfg_apply_end,
	    ":store: or :store:mailbox"), CHA(end), RANGE(SIDE_FAR, 0),
	  OLD("Far") },
	{ K("Slave", SEC_CHANNEL, KF_DEPRECATED, cfg_apply_end,
	    ":store: or :store:mailbox"), CHA(end), RANGE(SIDE_NEAR, 0),
	  OLD("Near") },
	{ K("Pattern", SEC_CHANNEL, KF_MULTI | KF_NONEMPTY, cfg_apply_list,
	    "mailbox patterns (* and % are wildcards, ! excludes)"),
	  CHA(patterns) },
	{ K("Patterns", SEC_CHANNEL, KF_MULTI | KF_NONEMPTY, cfg_apply_list,
	    "mailbox patterns (* and % are wildcards, ! excludes)"),
	  CHA(patterns) },
	{ K("MaxSize", SEC_CHANNEL, 0, cfg_apply_chan_max_size, SIZE),
	  CHA(max_size) },

	/* Channel, or global as the default of every channel. */
	{ K("Sync", SEC_CHOPT, KF_MULTI, cfg_apply_sync,
	    "None, Full, Pull, Push, New, Old, Upgrade, Gone, Flags, "
	    "or Pull or Push joined to a type (PullNew, PushFlags, ...)"),
	  OPT(sync) },
	{ K("Create", SEC_CHOPT, KF_MULTI, cfg_apply_sides, SIDES),
	  OPT(create), RANGE(SOP_CREATE, 0) },
	{ K("Remove", SEC_CHOPT, KF_MULTI, cfg_apply_sides, SIDES),
	  OPT(remove), RANGE(SOP_REMOVE, 0) },
	{ K("Expunge", SEC_CHOPT, KF_MULTI, cfg_apply_sides, SIDES),
	  OPT(expunge), RANGE(SOP_EXPUNGE, 0) },
	{ K("ExpungeSolo", SEC_CHOPT, KF_MULTI, cfg_apply_sides, SIDES),
	  OPT(expunge_solo), RANGE(SOP_EXPUNGE_SOLO, 0) },
	{ K("MaxMessages", SEC_CHOPT, 0, cfg_apply_uint,
	    "a number of messages (0 for no limit)"), OPT(max_messages),
	  RANGE(0, 1000000000) },
	{ K("ExpireUnread", SEC_CHOPT, 0, cfg_apply_bool, YESNO),
	  OPT(expire_unread) },
	{ K("ExpireSide", SEC_CHOPT, 0, cfg_apply_expire_side,
	    "Far or Near"), OPT(expire_side) },
	{ K("CopyArrivalDate", SEC_CHOPT, 0, cfg_apply_bool, YESNO),
	  OPT(copy_arrival_date) },
	{ K("SyncState", SEC_CHOPT, KF_NONEMPTY, cfg_apply_sync_state,
	    "* or a path prefix"), .target = T_NONE },

	/* Group only. */
	{ K("Channel", SEC_GROUP, KF_MULTI | KF_NONEMPTY,
	    cfg_apply_group_channels,
	    "a channel name, optionally followed by :mailbox[,mailbox...]"),
	  .target = T_NONE },
	{ K("Channels", SEC_GROUP, KF_MULTI | KF_NONEMPTY,
	    cfg_apply_group_channels,
	    "a channel name, optionally followed by :mailbox[,mailbox...]"),
	  .target = T_NONE },

	/* Global only. */
	{ K("FSync", SEC_GLOBAL, 0, cfg_apply_bool, YESNO), GLO(fsync) },
	{ K("FieldDelimiter", SEC_GLOBAL, 0, cfg_apply_punct,
	    "a single punctuation character"), GLO(field_delimiter) },
	{ K("BufferLimit", SEC_GLOBAL, 0, cfg_apply_size,
	    "a size above 0: a number, optionally followed by k or m "
	    "(and b)"), GLO(buffer_limit), RANGE(1, 0) },
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
