/* cli: command line parsing; see cli.h for the contract. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* What one option does; options with a value take it from the next
 * argument or the rest of the current one, as getopt does. A long option
 * without a letter has a short_name of 0. An option with letters takes
 * the letters of that set that follow it in the same argument ("-Cf",
 * "-Lnf", "-Dm"), as mbsync does. arg is the option's constant. */
enum cli_opt_id {
	OPT_ALL, OPT_CONFIG, OPT_DRY_RUN, OPT_VERBOSE, OPT_QUIET, OPT_DEBUG,
	OPT_HELP, OPT_VERSION, OPT_ALLOW_MASS_DELETE, OPT_LIST, OPT_EXT_EXIT,
	OPT_CREATE, OPT_REMOVE, OPT_EXPUNGE, OPT_TYPE, OPT_DIRECTION,
	OPT_NOOP, OPT_FULL, OPT_VERIFY, OPT_JSON, OPT_LOG_FILE, OPT_WATCH
};

struct cli_opt {
	char short_name;
	const char *long_name;
	int takes_value;
	enum cli_opt_id id;
	unsigned arg;
	const char *letters;
};

/* The letters after -C, -R and -X, and after -L and -H (1.4's and 1.5's
 * spellings), and after -D (mbsync's debugging categories). */
#define SIDE_LETTERS	"fnms"
#define TYPE_LETTERS	"nouNgdf"
#define DEBUG_LETTERS	"CdDmMnNs"

static const struct cli_opt cli_opts[] = {
	{ 'a', "all", 0, OPT_ALL, 0, NULL },
	{ 'c', "config", 1, OPT_CONFIG, 0, NULL },
	{ 'l', "list", 0, OPT_LIST, 0, NULL },
	{ 'y', "dry-run", 0, OPT_DRY_RUN, 0, NULL },
	{ 'e', "ext-exit", 0, OPT_EXT_EXIT, 0, NULL },
	{ 'V', "verbose", 0, OPT_VERBOSE, 0, NULL },
	{ 'q', "quiet", 0, OPT_QUIET, 0, NULL },
	{ 'D', "debug", 0, OPT_DEBUG, 0, DEBUG_LETTERS },
	{ 0, "debug-crash", 0, OPT_DEBUG, 'C', NULL },
	{ 0, "debug-driver", 0, OPT_DEBUG, 'd', NULL },
	{ 0, "debug-driver-all", 0, OPT_DEBUG, 'D', NULL },
	{ 0, "debug-maildir", 0, OPT_DEBUG, 'm', NULL },
	{ 0, "debug-main", 0, OPT_DEBUG, 'M', NULL },
	{ 0, "debug-net", 0, OPT_DEBUG, 'n', NULL },
	{ 0, "debug-net-all", 0, OPT_DEBUG, 'N', NULL },
	{ 0, "debug-sync", 0, OPT_DEBUG, 's', NULL },
	{ 'h', "help", 0, OPT_HELP, 0, NULL },
	{ 'v', "version", 0, OPT_VERSION, 0, NULL },
	{ 'C', "create", 0, OPT_CREATE, SIDE_BIT_BOTH, SIDE_LETTERS },
	{ 0, "create-far", 0, OPT_CREATE, SIDE_BIT_FAR, NULL },
	{ 0, "create-near", 0, OPT_CREATE, SIDE_BIT_NEAR, NULL },
	{ 0, "create-master", 0, OPT_CREATE, SIDE_BIT_FAR, NULL },
	{ 0, "create-slave", 0, OPT_CREATE, SIDE_BIT_NEAR, NULL },
	{ 0, "no-create", 0, OPT_CREATE, 0, NULL },
	{ 'R', "remove", 0, OPT_REMOVE, SIDE_BIT_BOTH, SIDE_LETTERS },
	{ 0, "remove-far", 0, OPT_REMOVE, SIDE_BIT_FAR, NULL },
	{ 0, "remove-near", 0, OPT_REMOVE, SIDE_BIT_NEAR, NULL },
	{ 0, "remove-master", 0, OPT_REMOVE, SIDE_BIT_FAR, NULL },
	{ 0, "remove-slave", 0, OPT_REMOVE, SIDE_BIT_NEAR, NULL },
	{ 0, "no-remove", 0, OPT_REMOVE, 0, NULL },
	{ 'X', "expunge", 0, OPT_EXPUNGE, SIDE_BIT_BOTH, SIDE_LETTERS },
	{ 0, "expunge-far", 0, OPT_EXPUNGE, SIDE_BIT_FAR, NULL },
	{ 0, "expunge-near", 0, OPT_EXPUNGE, SIDE_BIT_NEAR, NULL },
	{ 0, "expunge-master", 0, OPT_EXPUNGE, SIDE_BIT_FAR, NULL },
	{ 0, "expunge-slave", 0, OPT_EXPUNGE, SIDE_BIT_NEAR, NULL },
	{ 0, "no-expunge", 0, OPT_EXPUNGE, 0, NULL },
	{ 'n', "new", 0, OPT_TYPE, SYNC_OP_NEW, NULL },
	{ 'o', "old", 0, OPT_TYPE, SYNC_OP_OLD, NULL },
	{ 'u', "upgrade", 0, OPT_TYPE, SYNC_OP_UPGRADE, NULL },
	{ 'N', "renew", 0, OPT_TYPE, SYNC_OP_UPGRADE, NULL },
	{ 'g', "gone", 0, OPT_TYPE, SYNC_OP_GONE, NULL },
	{ 'd', "delete", 0, OPT_TYPE, SYNC_OP_GONE, NULL },
	{ 'f', "flags", 0, OPT_TYPE, SYNC_OP_FLAGS, NULL },
	{ 'L', "pull", 0, OPT_DIRECTION, SIDE_BIT_NEAR, TYPE_LETTERS },
	{ 'H', "push", 0, OPT_DIRECTION, SIDE_BIT_FAR, TYPE_LETTERS },
	{ '0', "noop", 0, OPT_NOOP, 0, NULL },
	{ 'F', "full", 0, OPT_FULL, 0, NULL },
	{ 0, "allow-mass-delete", 0, OPT_ALLOW_MASS_DELETE, 0, NULL },
	{ 0, "verify", 0, OPT_VERIFY, 0, NULL },
	{ 0, "json", 0, OPT_JSON, 0, NULL },
	{ 0, "log-file", 1, OPT_LOG_FILE, 0, NULL },
	{ 0, "watch", 0, OPT_WATCH, 0, NULL },
	{ 0, NULL, 0, 0, 0, NULL }
};

/* What the operation options add up to while the line is read. */
struct cli_ctx {
	struct cli_options *opts;
	unsigned dirs;		/* SIDE_BIT_*: --pull (near), --push (far) */
	unsigned types;		/* SYNC_OP_* given without a direction */
	unsigned ops[2];	/* SYNC_OP_* given with one, by the side
				   they land on */
};

static const char usage_text[] =
    "usage: twinbox [options] {-a | CHANNEL[:BOX[,BOX...]] | GROUP}...\n"
    "\n"
    "Keep two mail stores (IMAP or Maildir) identical, in both directions.\n"
    "The options are mbsync's, with mbsync's meanings.\n"
    "\n"
    "  -a, --all          sync every channel of the configuration\n"
    "  -c, --config FILE  read FILE instead of the default configuration\n"
    "                     ($XDG_CONFIG_HOME/twinbox/sync.rc, ~/.twinboxrc)\n"
    "  -l, --list         list the mailboxes the channels would sync; sync\n"
    "                     nothing\n"
    "  -y, --dry-run      plan and print what would be done; change nothing\n"
    "  -C[f][n], --create[-far|-near]    override the channels' Create\n"
    "  -R[f][n], --remove[-far|-near]    override the channels' Remove\n"
    "  -X[f][n], --expunge[-far|-near]   override the channels' Expunge\n"
    "  -n, --new  -o, --old  -u, --upgrade (-N, --renew)\n"
    "  -g, --gone (-d, --delete)  -f, --flags  -0, --noop  -F, --full\n"
    "  -L[nougf], --pull[-new|-old|-upgrade|-gone|-flags]\n"
    "  -H[nougf], --push[-new|-old|-upgrade|-gone|-flags]\n"
    "                     override the channels' Sync: without --pull or\n"
    "                     --push both ways, without a type all types\n"
    "  -e, --ext-exit     add 32 to the exit status if the far side was\n"
    "                     changed, 64 if the near side was\n"
    "  -V, --verbose      print one line per operation, and the mailboxes\n"
    "                     that were up to date\n"
    "  -q, --quiet        print errors only\n"
    "      --json         at the end, one JSON object per mailbox pair on\n"
    "                     standard output; other output goes to stderr\n"
    "  -D[CdDmMnNs], --debug[-CATEGORY]\n"
    "                     print protocol and internal detail (-Dn: every\n"
    "                     line sent and received, -DN: with message\n"
    "                     contents; passwords never)\n"
    "      --log-file FILE\n"
    "                     append every message and the protocol trace,\n"
    "                     timestamped, to FILE (created mode 0600)\n"
    "      --allow-mass-delete\n"
    "                     propagate deletions even where a side looks\n"
    "                     wiped (see the mass-deletion guard in sync.rc(5))\n"
    "      --verify       compare both sides by content and list every\n"
    "                     difference; change nothing (exit 0: they agree)\n"
    "      --watch        sync, then stay and sync again when mail arrives\n"
    "                     or changes (IDLE, inotify, WatchInterval); TERM\n"
    "                     or INT ends it (exit 0), HUP re-reads the\n"
    "                     configuration\n"
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

static unsigned
side_bits(const char *letters)
{
	unsigned bits = 0;

	for (; *letters != '\0'; letters++)
		bits |= strchr("fm", *letters) ? SIDE_BIT_FAR : SIDE_BIT_NEAR;
	return bits;
}

static unsigned
type_bits(const char *letters)
{
	unsigned bits = 0;

	for (; *letters != '\0'; letters++)
		bits |= find_short(*letters)->arg;
	return bits;
}

/* -D with only the crash category prints nothing more, as in mbsync;
 * -D without a category is every one but net-all. */
static void
apply_debug(const struct cli_opt *o, const char *letters,
    struct cli_options *opts)
{
	char one[2] = { (char)o->arg, '\0' };

	if (letters == NULL || letters[0] == '\0')
		letters = o->arg != 0 ? one : NULL;
	if (letters == NULL || strchr(letters, 'n') != NULL)
		opts->debug |= LOG_NET;
	if (letters != NULL && strchr(letters, 'N') != NULL)
		opts->debug |= LOG_NET | LOG_NET_ALL;
	if (letters == NULL || letters[strspn(letters, "C")] != '\0')
		opts->level = LOG_DEBUG;
}

/* The operation options (override.h). */
static void
apply_op(const struct cli_opt *o, const char *letters, struct cli_ctx *c)
{
	struct override *ovr = &c->opts->ovr;
	unsigned sides = letters && *letters ? side_bits(letters) : o->arg;
	enum side to = o->arg == SIDE_BIT_FAR ? SIDE_FAR : SIDE_NEAR;

	switch (o->id) {
	case OPT_CREATE: ovr->have |= OVR_CREATE; ovr->create |= sides; break;
	case OPT_REMOVE: ovr->have |= OVR_REMOVE; ovr->remove |= sides; break;
	case OPT_EXPUNGE:
		ovr->have |= OVR_EXPUNGE;
		ovr->expunge |= sides;
		break;
	case OPT_TYPE: c->types |= o->arg; break;
	case OPT_DIRECTION:
		if (letters != NULL && letters[0] != '\0')
			c->ops[to] |= type_bits(letters);
		else
			c->dirs |= o->arg;
		break;
	case OPT_FULL:
		c->ops[SIDE_FAR] |= SYNC_OP_FULL;
		c->ops[SIDE_NEAR] |= SYNC_OP_FULL;
		break;
	default:
		break;
	}
	if (o->id == OPT_TYPE || o->id == OPT_DIRECTION || o->id == OPT_FULL ||
	    o->id == OPT_NOOP)
		ovr->have |= OVR_SYNC;
}

/* Apply one option; value is non-NULL exactly when the option takes one,
 * letters are those that followed a short option with letters. */
static enum cli_result
apply_opt(const struct cli_opt *o, const char *value, const char *letters,
    struct cli_ctx *c)
{
	struct cli_options *opts = c->opts;

	switch (o->id) {
	case OPT_ALL: opts->all = 1; break;
	case OPT_CONFIG:
		free(opts->config_path);
		opts->config_path = xstrdup(value);
		break;
	case OPT_DRY_RUN: opts->dry_run = 1; break;
	case OPT_LIST: opts->list = 1; break;
	case OPT_EXT_EXIT: opts->ext_exit = 1; break;
	case OPT_VERBOSE: opts->level = LOG_VERBOSE; break;
	case OPT_QUIET: opts->level = LOG_QUIET; break;
	case OPT_DEBUG: apply_debug(o, letters, opts); break;
	case OPT_ALLOW_MASS_DELETE: opts->allow_mass_delete = 1; break;
	case OPT_VERIFY: opts->verify = 1; break;
	case OPT_JSON: opts->json = 1; break;
	case OPT_LOG_FILE:
		free(opts->log_file);
		opts->log_file = xstrdup(value);
		break;
	case OPT_WATCH: opts->watch = 1; break;
	case OPT_HELP: return CLI_HELP;
	case OPT_VERSION: return CLI_VERSION;
	default: apply_op(o, letters, c); break;
	}
	return CLI_OK;
}

/* mbsync's rule: a type without --pull or --push goes both ways, a
 * direction without a type carries every type. */
static void
resolve_sync(struct cli_ctx *c)
{
	unsigned dirs = c->dirs ? c->dirs : SIDE_BIT_BOTH;
	unsigned types = c->types ? c->types : SYNC_OP_FULL;

	if (c->dirs != 0 || c->types != 0)
		for (int s = 0; s < 2; s++)
			if (dirs & (1u << s))
				c->ops[s] |= types;
	c->opts->ovr.sync = c->ops[SIDE_NEAR] << SYNC_PULL_SHIFT |
	    c->ops[SIDE_FAR] << SYNC_PUSH_SHIFT;
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

/* "--pull-new", "--push-flags", ...: a type with a direction. */
static enum cli_result
parse_directed(const char *name, size_t len, struct cli_ctx *c)
{
	const struct cli_opt *dir, *type;

	if (len <= 5 || name[4] != '-')
		return CLI_ERROR;
	dir = find_long(name, 4);
	type = find_long(name + 5, len - 5);
	if (dir == NULL || dir->id != OPT_DIRECTION || type == NULL ||
	    type->id != OPT_TYPE)
		return CLI_ERROR;
	c->ops[dir->arg == SIDE_BIT_FAR ? SIDE_FAR : SIDE_NEAR] |= type->arg;
	c->opts->ovr.have |= OVR_SYNC;
	return CLI_OK;
}

static enum cli_result
unknown_long(const char *name, size_t len, struct buf *err)
{
	if (len == 5 && strncmp(name, "force", 5) == 0)
		buf_setf(err, "unknown option '--force': the mass-deletion "
		    "guard is passed with --allow-mass-delete (-F is --full, as "
		    "in mbsync)");
	else if (len == 11 && strncmp(name, "list-stores", 11) == 0)
		buf_setf(err, "option '--list-stores' (mbsync 1.5's -ls) is not "
		    "implemented: use -l with a channel to list its mailboxes");
	else
		buf_setf(err, "unknown option '--%.*s' (try --help)", (int)len,
		    name);
	return CLI_ERROR;
}

/* "--name" or "--name=value"; may consume the next argument. */
static enum cli_result
parse_long(int argc, char *const argv[], int *i, struct cli_ctx *c,
    struct buf *err)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_opt *o = find_long(name, len);
	const char *value = NULL;

	if (o == NULL && eq == NULL && parse_directed(name, len, c) == CLI_OK)
		return CLI_OK;
	if (o == NULL)
		return unknown_long(name, len, err);
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
	return apply_opt(o, value, NULL, c);
}

/* "-abc", "-cFILE", "-c FILE", "-Cf", "-Lnf"; may consume the next
 * argument. */
static enum cli_result
parse_short(int argc, char *const argv[], int *i, struct cli_ctx *c,
    struct buf *err)
{
	const char *arg = argv[*i];

	if (strcmp(arg, "-ls") == 0)
		return unknown_long("list-stores", 11, err);
	for (size_t k = 1; arg[k] != '\0'; k++) {
		const struct cli_opt *o = find_short(arg[k]);
		const char *value = NULL;
		char *letters = NULL;
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
			return apply_opt(o, value, NULL, c);
		}
		if (o->letters != NULL) {
			size_t n = strspn(arg + k + 1, o->letters);

			letters = xstrndup(arg + k + 1, n);
			k += n;
		}
		r = apply_opt(o, NULL, letters, c);
		free(letters);
		if (r != CLI_OK)
			return r;
	}
	return CLI_OK;
}

static enum cli_result
parse_args(int argc, char *const argv[], struct cli_ctx *c, struct buf *err)
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
			r = parse_long(argc, argv, &i, c, err);
		else if (!only_targets && arg[0] == '-' && arg[1] != '\0')
			r = parse_short(argc, argv, &i, c, err);
		else
			r = add_target(arg, c->opts, err);
		if (r != CLI_OK)
			return r;
	}
	resolve_sync(c);
	return CLI_OK;
}

/* --json describes what a sync did: there is none with -l, -y or
 * --verify. */
static enum cli_result
check_json(const struct cli_options *opts, struct buf *err)
{
	const char *other = opts->list ? "--list" : opts->dry_run ?
	    "--dry-run" : opts->verify ? "--verify" : NULL;

	if (!opts->json || other == NULL)
		return CLI_OK;
	buf_setf(err, "--json reports what a sync did and cannot be used "
	    "with %s, which syncs nothing", other);
	return CLI_ERROR;
}

/* --watch syncs: the options that change nothing do not go with it. */
static enum cli_result
check_watch(const struct cli_options *opts, struct buf *err)
{
	const char *other = opts->dry_run ? "--dry-run" : opts->list ?
	    "--list" : opts->verify ? "--verify" : NULL;

	if (opts->watch && opts->json) {
		buf_setf(err, "--json reports a run at its end and cannot be "
		    "used with --watch, which does not end");
		return CLI_ERROR;
	}
	if (!opts->watch || other == NULL)
		return CLI_OK;
	buf_setf(err, "--watch cannot be combined with %s: a watcher syncs; "
	    "run %s on its own", other, other);
	return CLI_ERROR;
}

enum cli_result
cli_parse(int argc, char *const argv[], struct cli_options *opts,
    struct buf *err)
{
	struct cli_ctx c = { .opts = opts };
	enum cli_result r;

	memset(opts, 0, sizeof(*opts));
	opts->level = LOG_NORMAL;
	r = parse_args(argc, argv, &c, err);
	if (r != CLI_OK)
		return r;
	if (!opts->all && opts->ntargets == 0) {
		buf_setf(err, "no channel or group given: name one, or use -a "
		    "for all (try --help)");
		return CLI_ERROR;
	}
	if (check_json(opts, err) != CLI_OK)
		return CLI_ERROR;
	return check_watch(opts, err);
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
	free(opts->log_file);
	memset(opts, 0, sizeof(*opts));
}
