/* cli: command line parsing; see cli.h for the contract. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* What one option does; options with a value take it from the next
 * argument or the rest of the current one, as getopt does. A long option
 * without a letter has a short_name of 0. */
enum cli_opt_id {
	OPT_ALL, OPT_CONFIG, OPT_DRY_RUN, OPT_VERBOSE, OPT_QUIET, OPT_DEBUG,
	OPT_HELP, OPT_VERSION, OPT_FULL, OPT_ALLOW_MASS_DELETE,
	OPT_VERIFY
};

struct cli_opt {
	char short_name;
	const char *long_name;
	int takes_value;
	enum cli_opt_id id;
};

static const struct cli_opt cli_opts[] = {
	{ 'a', "all", 0, OPT_ALL },
	{ 'c', "config", 1, OPT_CONFIG },
	{ 'n', "dry-run", 0, OPT_DRY_RUN },
	{ 'V', "verbose", 0, OPT_VERBOSE },
	{ 'q', "quiet", 0, OPT_QUIET },
	{ 'D', "debug", 0, OPT_DEBUG },
	{ 'h', "help", 0, OPT_HELP },
	{ 'v', "version", 0, OPT_VERSION },
	{ 'F', "full", 0, OPT_FULL },
	{ 0, "allow-mass-delete", 0, OPT_ALLOW_MASS_DELETE },
	{ 0, "verify", 0, OPT_VERIFY },
	{ 0, NULL, 0, 0 }
};

static const char usage_text[] =
    "usage: twinbox [options] {-a | CHANNEL[:BOX[,BOX...]] | GROUP}...\n"
    "\n"
    "Keep two mail stores (IMAP or Maildir) identical, in both directions.\n"
    "\n"
    "  -a, --all          sync every channel of the configuration\n"
    "  -c, --config FILE  read FILE instead of the default configuration\n"
    "                     ($XDG_CONFIG_HOME/twinbox/sync.rc, ~/.twinboxrc)\n"
    "  -n, --dry-run      plan and print what would be done; change nothing\n"
    "  -V, --verbose      print one line per operation\n"
    "  -q, --quiet        print errors only\n"
    "  -D, --debug        print protocol and internal detail\n"
    "  -F, --full         sync everything in both directions, whatever\n"
    "                     the channels' Sync says (as mbsync -F)\n"
    "      --allow-mass-delete\n"
    "                     propagate deletions even where a side looks\n"
    "                     wiped (see the mass-deletion guard in sync.rc(5))\n"
    "      --verify       compare both sides by content and list every\n"
    "                     difference; change nothing (exit 0: they agree)\n"
    "  -h, --help         print this help\n"
    "  -v, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 a mailbox failed to sync, 2 usage or\n"
    "configuration error.\n";

const char *
cli_usage(void)
{
	return usage_text;
}

static const struct cli_opt *
find_short(char c)
{
	for (const struct cli_opt *o = cli_opts; o->long_name; o++)
		if (o->short_name != 0 && o->short_name == c)
			return o;
	return NULL;
}

static const struct cli_opt *
find_long(const char *name, size_t len)
{
	for (const struct cli_opt *o = cli_opts; o->long_name; o++)
		if (strlen(o->long_name) == len &&
		    strncmp(o->long_name, name, len) == 0)
			return o;
	return NULL;
}

/* Apply one option; value is non-NULL exactly when the option takes one. */
static enum cli_result
apply_opt(const struct cli_opt *o, const char *value, struct cli_options *opts)
{
	switch (o->id) {
	case OPT_ALL: opts->all = 1; break;
	case OPT_CONFIG:
		free(opts->config_path);
		opts->config_path = xstrdup(value);
		break;
	case OPT_DRY_RUN: opts->dry_run = 1; break;
	case OPT_VERBOSE: opts->level = LOG_VERBOSE; break;
	case OPT_QUIET: opts->level = LOG_QUIET; break;
	case OPT_DEBUG: opts->level = LOG_DEBUG; break;
	case OPT_FULL: opts->full = 1; break;
	case OPT_ALLOW_MASS_DELETE: opts->allow_mass_delete = 1; break;
	case OPT_VERIFY: opts->verify = 1; break;
	case OPT_HELP: return CLI_HELP;
	case OPT_VERSION: return CLI_VERSION;
	}
	return CLI_OK;
}

/* Split "NAME[:BOX[,BOX...]]" into a target. */
static enum cli_result
add_target(const char *arg, struct cli_options *opts, struct buf *err)
{
	const char *colon = strchr(arg, ':');
	struct cli_target t = { 0 };
	const char *p;

	if (arg[0] == '\0' || colon == arg) {
		buf_setf(err, "empty channel name in '%s'", arg);
		return CLI_ERROR;
	}
	t.name = colon ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
	for (p = colon; p != NULL; ) {
		const char *start = p + 1, *end = strchr(start, ',');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		char *box;

		if (len == 0) {
			buf_setf(err, "empty mailbox name in '%s'", arg);
			free(t.name);
			strlist_free(&t.boxes);
			return CLI_ERROR;
		}
		box = xstrndup(start, len);
		strlist_add(&t.boxes, box);
		free(box);
		p = end;
	}
	opts->targets = xreallocarray(opts->targets, opts->ntargets + 1,
	    sizeof(*opts->targets));
	opts->targets[opts->ntargets++] = t;
	return CLI_OK;
}

/* "--name" or "--name=value"; may consume the next argument. */
static enum cli_result
parse_long(int argc, char *const argv[], int *i, struct cli_options *opts,
    struct buf *err)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_opt *o = find_long(name, len);
	const char *value = NULL;

	if (o == NULL && len == 5 && strncmp(name, "force", 5) == 0) {
		buf_setf(err, "unknown option '--force': the mass-deletion "
		    "guard is passed with --allow-mass-delete (-F is --full, as "
		    "in mbsync)");
		return CLI_ERROR;
	}
	if (o == NULL) {
		buf_setf(err, "unknown option '--%.*s' (try --help)", (int)len,
		    name);
		return CLI_ERROR;
	}
	if (o->takes_value) {
		value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (value == NULL) {
			buf_setf(err, "option '--%s' needs a value",
			    o->long_name);
			return CLI_ERROR;
		}
	} else if (eq != NULL) {
		buf_setf(err, "option '--%s' takes no value", o->long_name);
		return CLI_ERROR;
	}
	return apply_opt(o, value, opts);
}

/* "-abc" or "-cFILE" or "-c FILE"; may consume the next argument. */
static enum cli_result
parse_short(int argc, char *const argv[], int *i, struct cli_options *opts,
    struct buf *err)
{
	const char *arg = argv[*i];

	for (size_t k = 1; arg[k] != '\0'; k++) {
		const struct cli_opt *o = find_short(arg[k]);
		const char *value = NULL;
		enum cli_result r;

		if (o == NULL) {
			buf_setf(err, "unknown option '-%c' (try --help)",
			    arg[k]);
			return CLI_ERROR;
		}
		if (o->takes_value) {
			value = arg[k + 1] ? arg + k + 1 :
			    (*i + 1 < argc ? argv[++*i] : NULL);
			if (value == NULL) {
				buf_setf(err, "option '-%c' needs a value",
				    o->short_name);
				return CLI_ERROR;
			}
			return apply_opt(o, value, opts);
		}
		r = apply_opt(o, NULL, opts);
		if (r != CLI_OK)
			return r;
	}
	return CLI_OK;
}

static enum cli_result
parse_args(int argc, char *const argv[], struct cli_options *opts,
    struct buf *err)
{
	int only_targets = 0;
	enum cli_result r;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_targets && strcmp(arg, "--") == 0) {
			only_targets = 1;
			continue;
		}
		if (!only_targets && strncmp(arg, "--", 2) == 0)
			r = parse_long(argc, argv, &i, opts, err);
		else if (!only_targets && arg[0] == '-' && arg[1] != '\0')
			r = parse_short(argc, argv, &i, opts, err);
		else
			r = add_target(arg, opts, err);
		if (r != CLI_OK)
			return r;
	}
	return CLI_OK;
}

enum cli_result
cli_parse(int argc, char *const argv[], struct cli_options *opts,
    struct buf *err)
{
	enum cli_result r;

	memset(opts, 0, sizeof(*opts));
	opts->level = LOG_NORMAL;
	r = parse_args(argc, argv, opts, err);
	if (r != CLI_OK)
		return r;
	if (opts->all && opts->ntargets > 0) {
		buf_setf(err, "-a cannot be combined with channel or group "
		    "names");
		return CLI_ERROR;
	}
	if (!opts->all && opts->ntargets == 0) {
		buf_setf(err, "no channel or group given: name one, or use -a "
		    "for all (try --help)");
		return CLI_ERROR;
	}
	return CLI_OK;
}

void
cli_free(struct cli_options *opts)
{
	for (size_t i = 0; i < opts->ntargets; i++) {
		free(opts->targets[i].name);
		strlist_free(&opts->targets[i].boxes);
	}
	free(opts->targets);
	free(opts->config_path);
	memset(opts, 0, sizeof(*opts));
}
