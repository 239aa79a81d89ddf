/*
 * cli: the command line, parsed into a plain structure.
 *
 *   twinbox [options] {-a | CHANNEL[:BOX[,BOX...]] | GROUP}...
 *
 * Contract:
 *  - cli_parse() has no side effects: it reads argv and fills opts, which
 *    the caller releases with cli_free(). It never exits or prints.
 *  - It returns CLI_OK, CLI_HELP or CLI_VERSION (the caller prints and exits
 *    0), or CLI_ERROR with a one-line message in err (exit status 2).
 *  - Whether a target names a channel or a group is decided later, against
 *    the configuration; here a target is a name and an optional box list.
 *  - Every option of mbsync 1.4 and 1.5 means what it means in mbsync
 *    (mbsync(1)); twinbox's own options have long names that collide with
 *    none of mbsync's. The operation options are collected in ovr
 *    (override.h), resolved as mbsync does: without --pull or --push a
 *    type applies both ways, without a type a direction means all types.
 */
#ifndef TWINBOX_CLI_H
#define TWINBOX_CLI_H

#include "util/buf.h"
#include "util/log.h"
#include "config/override.h"
#include "store.h"

enum cli_result { CLI_OK = 0, CLI_HELP, CLI_VERSION, CLI_ERROR };

struct cli_target {
	char *name;		/* channel or group */
	struct strlist boxes;	/* empty = every mailbox of the channel */
};

struct cli_options {
	char *config_path;	/* -c FILE; NULL = the default path */
	int all;		/* -a; targets are then ignored, as in
				   mbsync */
	int dry_run;		/* -y, --dry-run */
	int list;		/* -l, --list: print the mailboxes, no sync */
	int ext_exit;		/* -e, --ext-exit: +32 far, +64 near changed */
	struct override ovr;	/* -C -R -X, -n -o -u -g -f -0 -F -L -H */
	int verify;		/* --verify: compare both sides, change
				   nothing */
	int allow_mass_delete;	/* --allow-mass-delete: pass the
				   mass-deletion guard */
	int json;		/* --json: one JSON object per mailbox pair
				   on stdout at the end */
	int watch;		/* --watch: sync, then keep syncing
				   changes (watch.h); not with -y, -l or
				   --verify */
	enum log_level level;	/* -q, -V, -D */
	unsigned debug;		/* LOG_NET, LOG_NET_ALL: -D, -Dn, -DN */
	char *log_file;		/* --log-file FILE; NULL: none */
	struct cli_target *targets;
	size_t ntargets;
};

enum cli_result cli_parse(int argc, char *const argv[],
    struct cli_options *opts, struct buf *err);
void cli_free(struct cli_options *opts);
/* The --help text. */
const char *cli_usage(void);

#endif
