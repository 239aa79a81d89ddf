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
 */
#ifndef TWINBOX_CLI_H
#define TWINBOX_CLI_H

#include "buf.h"
#include "log.h"
#include "store.h"

enum cli_result { CLI_OK = 0, CLI_HELP, CLI_VERSION, CLI_ERROR };

struct cli_target {
	char *name;		/* channel or group */
	struct strlist boxes;	/* empty = every mailbox of the channel */
};

struct cli_options {
	char *config_path;	/* -c FILE; NULL = the default path */
	int all;		/* -a */
	int dry_run;		/* -n */
	int verify;		/* --verify: compare both sides, change
				   nothing */
	int full;		/* -F, --full: Sync All in every channel */
	int allow_mass_delete;	/* --allow-mass-delete: pass the
				   mass-deletion guard */
	enum log_level level;	/* -q, -V, -D */
	struct cli_target *targets;
	size_t ntargets;
};

enum cli_result cli_parse(int argc, char *const argv[],
    struct cli_options *opts, struct buf *err);
void cli_free(struct cli_options *opts);
/* The --help text. */
const char *cli_usage(void);

#endif
