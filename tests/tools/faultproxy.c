/*
 * faultproxy: an IMAP proxy on the loopback interface that injects one
 * fault at the k-th command of a session, for tests that sweep k over a
 * whole sync against a real server.
 *
 *   faultproxy --to 127.0.0.1:PORT [--port-file F] [--listen-port P]
 *              [--fault KIND] [--at K] [--only NAME]
 *              [--user U --pass P] [--pick highest|lowest] [--late]
 *              [--report R] [--log L] [--max-seconds T]
 *
 * It listens on 127.0.0.1 (port P, or one the kernel picks), writes the
 * port and a newline to F (through a rename; to stdout without F), and
 * gives each client its own connection to the server. It understands
 * IMAP framing in both directions: lines, and literals ({n}, {n+}, ~{n})
 * that follow a line. So it knows where each client command starts and
 * ends, which tag it carries, and where each server response ends; what
 * it injects goes to the client only between two responses.
 *
 * Commands are counted once the session is authenticated (tagged OK to
 * LOGIN or AUTHENTICATE, or a PREAUTH greeting), over all connections, in
 * the order the proxy reads them; with --only NAME only the commands of
 * that name count ("UID FETCH", "SELECT", ...). When command K arrives,
 * the proxy holds it (and everything after it) until every earlier
 * command has its tagged answer, then does KIND:
 *
 *   none     nothing (count the commands; the default)
 *   no       answer "TAG NO [SERVERBUG] injected" without forwarding the
 *            command; a command with a synchronizing literal gets the NO
 *            instead of the continuation request (so the client sends no
 *            literal), one with a non-synchronizing literal is read whole
 *            and dropped before the NO
 *   drop     close both sockets
 *   expunge  through a second session (LOGIN U P) expunge one message of
 *            the mailbox concerned, then forward the command; the server
 *            itself tells the client in its own time
 *   fetch    through a second session read one message's flags, inject
 *            "* n FETCH (FLAGS (...))" with them (true, unchanged), then
 *            forward the command
 *   fetchuid the same with the UID: "* n FETCH (UID u FLAGS (...))", as
 *            Dovecot sends flag changes once QRESYNC is enabled
 *   exists   through a second session APPEND a small message (Message-ID
 *            <fp-K@faultproxy.test>) to the mailbox concerned; if that
 *            mailbox is the selected one inject "* n EXISTS" with the
 *            count the second session saw; then forward the command
 *
 * With --late, expunge, fetch, fetchuid and exists happen later: command
 * K is forwarded, the commands after it are held, and the second session
 * acts when the server's tagged answer to K arrives (on the mailbox
 * selected then); what it injects goes to the client just before that
 * answer, after all of K's own responses.
 *
 * Nothing injected is ever false: an EXPUNGE or EXISTS the server did
 * not do would shift sequence numbers under the client's feet.
 *
 * The mailbox concerned is the one that command K selects (SELECT or
 * EXAMINE), else the selected one, else INBOX. The message is, among the
 * UIDs that command K names (UID FETCH/STORE/COPY/MOVE/EXPUNGE), or among
 * all, the highest that exists (--pick lowest: the lowest). "fetch" needs
 * a selected mailbox and does nothing without one.
 *
 * STARTTLS or COMPRESS, once accepted, turn the connection into a plain
 * byte relay: no more counting and no fault.
 *
 * At exit it writes R (or stdout without R): key=value lines, commands
 * (how many counted), fault, at, fired (0/1), command (the name of command
 * K), mailbox, uid, message-id (of the message acted on) and note (why a
 * fault did nothing). With --log, each counted command's number and first
 * line (up to 200 bytes) go to L as they arrive. It exits when its last
 * connection has ended, on SIGTERM or SIGINT, or after T seconds (default
 * 120). Errors in the arguments exit 2, other failures 1. Only 127.0.0.1
 * is accepted as target.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"

#define MAX_CONNS	8
#define MAX_INFLIGHT	1024
#define MAX_LINE	(256 * 1024)	/* a line longer than this is an error */
#define MAX_LITERAL	(1u << 30)
#define HIGH_WATER	(1u << 20)	/* stop reading while output exceeds */
#define READ_CHUNK	65536
#define SIDE_TIMEOUT	10		/* seconds, second session I/O */
#define SIDE_MAX	(1u << 20)	/* bytes of second session responses */
#define DEFAULT_SECONDS	120

/* The kinds from F_EXPUNGE on use a second session. */
enum fault { F_NONE, F_NO, F_DROP, F_EXPUNGE, F_FETCH, F_FETCHUID, F_EXISTS };

static const char *const fault_names[] = {
	"none", "no", "drop", "expunge", "fetch", "fetchuid", "exists"
};

struct options {
	const char	*port_file, *report, *log, *only, *user, *pass;
	uint16_t	 target_port, listen_port;
	enum fault	 fault;
	unsigned	 at;
	int		 pick_lowest;
	int		 late;
	long		 max_seconds;
};

/* A byte queue: data[off .. off+len) is pending. */
struct bytes {
	char	*data;
	size_t	 off, len, cap;
};

struct inflight {
	char	 tag[64];
	char	 name[32];
	char	 arg[256];	/* mailbox of SELECT/EXAMINE, raw token */
};

struct conn {
	int		 cfd, sfd;
	struct bytes	 cin, sin;	/* read, not yet parsed */
	struct bytes	 cout, sout;	/* to write to client, to server */
	struct bytes	 inject;	/* for the client, at a boundary */
	uint64_t	 up_lit, down_lit;	/* literal bytes still to pass */
	int		 in_cmd;	/* inside a client command */
	int		 first_line;	/* its first line not yet passed */
	int		 pass;		/* forward it (else drop and NO) */
	int		 held;		/* command K waits for quiescence */
	int		 late;		/* K sent, waiting for its answer */
	char		 late_tag[64];
	int		 down_start;	/* server at a response boundary */
	int		 authed, raw;
	int		 cli_eof, srv_eof, dead;
	char		 selected[256];	/* raw token, "" when none */
	struct inflight	 cur;		/* the command being read */
	char		 uidset[256];	/* UID set it names, "" if none */
	struct inflight	*fl;
	size_t		 nfl;
};

struct report {
	unsigned	 commands;
	int		 fired;
	char		 command[32], mailbox[256], uid[24], msgid[256];
	char		 note[256];
};

struct proxy {
	struct options	 opt;
	int		 lfd, sigfd;
	sigset_t	 wait_mask;	/* SIGTERM and SIGINT let through */
	FILE		*log;
	struct conn	*conns[MAX_CONNS];
	size_t		 nconns;
	unsigned	 accepted;
	struct report	 rep;
};

static void
usage(void)
{
	fprintf(stderr, "usage: faultproxy --to 127.0.0.1:PORT "
	    "[--port-file F] [--listen-port P]\n"
	    "    [--fault none|no|drop|expunge|fetch|fetchuid|exists] [--at K] "
	    "[--only NAME]\n"
	    "    [--user U --pass P] [--pick highest|lowest] [--late] "
	    "[--report R] "
	    "[--log L] [--max-seconds T]\n");
	exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "faultproxy: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---- byte queues ------------------------------------------------------ */

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->off > 0 && b->off + b->len + n > b->cap) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->off + b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->off + b->len + n)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
}

static void
bytes_addf(struct bytes *b, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n > 0)
		bytes_add(b, text, (size_t)n < sizeof(text) ? (size_t)n :
		    sizeof(text) - 1);
}

static void
bytes_eat(struct bytes *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

/* Never NULL, so that memchr() and friends may look at zero bytes. */
static const char *
bytes_ptr(const struct bytes *b)
{
	return b->data != NULL ? b->data + b->off : "";
}

static void
bytes_free(struct bytes *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- arguments -------------------------------------------------------- */

static uint64_t
number_arg(const char *name, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(arg, max, &v) != 0 || v < min) {
		fprintf(stderr, "faultproxy: %s: invalid number '%s'\n", name,
		    arg);
		exit(2);
	}
	return v;
}

static void
parse_target(const char *arg, struct options *opt)
{
	const char *colon = strrchr(arg, ':');

	if (colon == NULL || (size_t)(colon - arg) != strlen("127.0.0.1") ||
	    strncmp(arg, "127.0.0.1", (size_t)(colon - arg)) != 0) {
		fprintf(stderr, "faultproxy: --to: expected 127.0.0.1:PORT, "
		    "not '%s'\n", arg);
		exit(2);
	}
	opt->target_port = (uint16_t)number_arg("--to", colon + 1, 1, 65535);
}

static enum fault
parse_fault(const char *arg)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(*fault_names);
	    i++)
		if (strcmp(arg, fault_names[i]) == 0)
			return (enum fault)i;
	fprintf(stderr, "faultproxy: --fault: unknown kind '%s'\n", arg);
	exit(2);
}

/* Credentials go into a quoted string: no quote, backslash or CR/LF. */
static const char *
credential_arg(const char *name, const char *arg)
{
	if (strpbrk(arg, "\"\\\r\n") != NULL || strlen(arg) > 200) {
		fprintf(stderr, "faultproxy: %s: unusable value\n", name);
		exit(2);
	}
	return arg;
}

static void
check_options(struct options *opt, int have_target)
{
	if (!have_target)
		usage();
	if (opt->fault != F_NONE && opt->at == 0) {
		fprintf(stderr, "faultproxy: --fault %s needs --at K\n",
		    fault_names[opt->fault]);
		exit(2);
	}
	if (opt->fault >= F_EXPUNGE &&
	    (opt->user == NULL || opt->pass == NULL)) {
		fprintf(stderr, "faultproxy: --fault %s needs --user and "
		    "--pass\n", fault_names[opt->fault]);
		exit(2);
	}
	if (opt->only != NULL && (strlen(opt->only) >= 32 ||
	    strpbrk(opt->only, "\r\n") != NULL)) {
		fprintf(stderr, "faultproxy: --only: unusable name\n");
		exit(2);
	}
}

static void
parse_args(int argc, char **argv, struct options *opt)
{
	int have_target = 0;

	memset(opt, 0, sizeof(*opt));
	opt->max_seconds = DEFAULT_SECONDS;
	for (int i = 1; i < argc; i += 2) {
		const char *name = argv[i], *arg;

		if (strcmp(name, "--late") == 0) {
			opt->late = 1;
			i--;	/* a flag without value */
			continue;
		}
		if (i + 1 >= argc)
			usage();
		arg = argv[i + 1];
		if (strcmp(name, "--to") == 0) {
			parse_target(arg, opt);
			have_target = 1;
		} else if (strcmp(name, "--port-file") == 0)
			opt->port_file = arg;
		else if (strcmp(name, "--listen-port") == 0)
			opt->listen_port = (uint16_t)number_arg(name, arg, 0,
			    65535);
		else if (strcmp(name, "--fault") == 0)
			opt->fault = parse_fault(arg);
		else if (strcmp(name, "--at") == 0)
			opt->at = (unsigned)number_arg(name, arg, 1, 1000000);
		else if (strcmp(name, "--only") == 0)
			opt->only = arg;
		else if (strcmp(name, "--user") == 0)
			opt->user = credential_arg(name, arg);
		else if (strcmp(name, "--pass") == 0)
			opt->pass = credential_arg(name, arg);
		else if (strcmp(name, "--pick") == 0 &&
		    (strcmp(arg, "highest") == 0 || strcmp(arg, "lowest") == 0))
			opt->pick_lowest = strcmp(arg, "lowest") == 0;
		else if (strcmp(name, "--report") == 0)
			opt->report = arg;
		else if (strcmp(name, "--log") == 0)
			opt->log = arg;
		else if (strcmp(name, "--max-seconds") == 0)
			opt->max_seconds = (long)number_arg(name, arg, 1, 86400);
		else
			usage();
	}
	check_options(opt, have_target);
}

/* ---- sockets and files ------------------------------------------------ */

/* A blocking connection to the server, with I/O timeouts if asked. */
static int
connect_upstream(uint16_t port, int timeout)
{
	struct sockaddr_in sin = loopback_addr(port);
	struct timeval tv = { timeout, 0 };
	int fd;

	fd = tw_socket(AF_INET, SOCK_STREAM, 0, O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "faultproxy: socket: %s\n", strerror(errno));
		return -1;
	}
	if ((timeout > 0 &&
	    (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fprintf(stderr, "faultproxy: connect to 127.0.0.1:%u: %s\n",
		    (unsigned)port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- IMAP framing ----------------------------------------------------- */

/*
 * Does the line (with its line end) announce a literal? "{n}", "{n+}" or
 * "~{n}" just before the line end. 1 and *n, *sync; 0 when not; -1 when
 * it is malformed or too big.
 */
static int
line_literal(const char *line, size_t len, uint64_t *n, int *sync)
{
	size_t end = len, digits;
	uint64_t v = 0;

	if (end > 0 && line[end - 1] == '\n')
		end--;
	if (end > 0 && line[end - 1] == '\r')
		end--;
	if (end == 0 || line[end - 1] != '}')
		return 0;
	end--;
	*sync = !(end > 0 && line[end - 1] == '+');
	if (!*sync)
		end--;
	for (digits = 0; end > 0 && line[end - 1] >= '0' &&
	    line[end - 1] <= '9'; end--, digits++)
		;
	if (digits == 0 || end == 0 || line[end - 1] != '{')
		return 0;
	if (digits > 10)
		return -1;
	for (size_t i = 0; i < digits; i++)
		v = v * 10 + (uint64_t)(line[end + i] - '0');
	if (v > MAX_LITERAL)
		return -1;
	*n = v;
	return 1;
}

/*
 * The next token of a line: an atom, or a quoted string kept with its
 * quotes. Copied into out (truncated to its size); 0 when none.
 */
static size_t
next_token(const char **pp, const char *end, char *out, size_t outsz)
{
	const char *p = *pp, *start;
	size_t n;

	while (p < end && *p == ' ')
		p++;
	start = p;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\' && p + 1 < end)
				p++;
		if (p < end)
			p++;
	} else
		while (p < end && *p != ' ' && *p != '\r' && *p != '\n')
			p++;
	n = (size_t)(p - start);
	*pp = p;
	if (outsz > 0) {
		size_t k = n < outsz - 1 ? n : outsz - 1;

		memcpy(out, start, k);
		out[k] = '\0';
	}
	return n;
}

static void
upcase(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static int
names_uid_set(const char *name)
{
	return strcmp(name, "UID FETCH") == 0 ||
	    strcmp(name, "UID STORE") == 0 || strcmp(name, "UID COPY") == 0 ||
	    strcmp(name, "UID MOVE") == 0 || strcmp(name, "UID EXPUNGE") == 0;
}

/* Tag, name ("UID FETCH" for UID commands) and the argument we need. */
static void
parse_command(struct conn *c, const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	char word[32];

	memset(&c->cur, 0, sizeof(c->cur));
	c->uidset[0] = '\0';
	next_token(&p, end, c->cur.tag, sizeof(c->cur.tag));
	next_token(&p, end, c->cur.name, sizeof(c->cur.name));
	upcase(c->cur.name);
	if (strcmp(c->cur.name, "UID") == 0) {
		next_token(&p, end, word, sizeof(word));
		upcase(word);
		snprintf(c->cur.name, sizeof(c->cur.name), "UID %.20s", word);
	}
	if (strcmp(c->cur.name, "SELECT") == 0 ||
	    strcmp(c->cur.name, "EXAMINE") == 0) {
		next_token(&p, end, c->cur.arg, sizeof(c->cur.arg));
		if (c->cur.arg[0] == '{')	/* a literal: not followed */
			c->cur.arg[0] = '\0';
	}
	if (names_uid_set(c->cur.name))
		next_token(&p, end, c->uidset, sizeof(c->uidset));
	if (strspn(c->uidset, "0123456789:,*") != strlen(c->uidset))
		c->uidset[0] = '\0';
}

/* ---- commands in flight ------------------------------------------------ */

static int
inflight_add(struct conn *c, const struct inflight *f)
{
	if (c->nfl == MAX_INFLIGHT) {
		fprintf(stderr, "faultproxy: more than %d commands in flight\n",
		    MAX_INFLIGHT);
		return -1;
	}
	if (c->fl == NULL)
		c->fl = xrealloc(NULL, MAX_INFLIGHT * sizeof(*c->fl));
	c->fl[c->nfl++] = *f;
	return 0;
}

/* Take the command with this tag out of the list; 0 when found. */
static int
inflight_take(struct conn *c, const char *tag, struct inflight *out)
{
	for (size_t i = 0; i < c->nfl; i++) {
		if (strcmp(c->fl[i].tag, tag) != 0)
			continue;
		*out = c->fl[i];
		c->fl[i] = c->fl[--c->nfl];
		return 0;
	}
	return -1;
}

/* ---- the second session ------------------------------------------------ */

/* A blocking session of our own to the server, for truthful changes. */
struct side {
	int		 fd;
	unsigned	 tagno;
	struct bytes	 in;
};

/* Read one whole response (line, literals and the rest) into out. */
static int
side_response(struct side *s, struct bytes *out)
{
	char chunk[4096];
	uint64_t want = 0;
	int in_literal = 0;

	for (;;) {
		const char *p = bytes_ptr(&s->in);
		const char *nl = memchr(p, '\n', s->in.len);
		ssize_t n;

		if (in_literal && s->in.len >= want) {
			bytes_add(out, p, (size_t)want);
			bytes_eat(&s->in, (size_t)want);
			in_literal = 0;
			continue;
		}
		if (!in_literal && nl != NULL) {
			size_t len = (size_t)(nl - p) + 1;
			int sync, lit = line_literal(p, len, &want, &sync);

			bytes_add(out, p, len);
			bytes_eat(&s->in, len);
			if (lit < 0)
				return -1;
			if (lit == 0)
				return 0;
			in_literal = 1;
			continue;
		}
		if (out->len + s->in.len > SIDE_MAX)
			return -1;
		n = recv(s->fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			return -1;
		bytes_add(&s->in, chunk, (size_t)n);
	}
}

/*
 * Send "sN TEXT" (TEXT may hold a literal+ and its data) and read until
 * the tagged answer; untagged responses are appended to out. 0 on OK.
 */
static int
side_cmd(struct side *s, const char *text, size_t len, struct bytes *out,
    char *why, size_t whysz)
{
	char tag[16];
	struct bytes cmd = { 0 }, resp = { 0 };
	size_t tlen;
	int rc = -1;

	snprintf(tag, sizeof(tag), "s%u ", ++s->tagno);
	tlen = strlen(tag);
	bytes_add(&cmd, tag, tlen);
	bytes_add(&cmd, text, len);
	bytes_add(&cmd, "\r\n", 2);
	if (tw_send(s->fd, bytes_ptr(&cmd), cmd.len) !=
	    (ssize_t)cmd.len) {
		snprintf(why, whysz, "second session: send failed");
		goto out;
	}
	for (;;) {
		resp.len = resp.off = 0;
		if (side_response(s, &resp) != 0) {
			snprintf(why, whysz, "second session: no answer to %.40s",
			    text);
			goto out;
		}
		if (resp.len > tlen && memcmp(bytes_ptr(&resp), tag, tlen) == 0)
			break;
		bytes_add(out, bytes_ptr(&resp), resp.len);
	}
	rc = strncasecmp(bytes_ptr(&resp) + tlen, "OK", 2) == 0 ? 0 : -1;
	if (rc != 0)
		snprintf(why, whysz, "second session: %.*s", (int)(resp.len > 120 ?
		    120 : resp.len - 2), bytes_ptr(&resp));
out:
	bytes_free(&cmd);
	bytes_free(&resp);
	return rc;
}

static int
side_cmdf(struct side *s, struct bytes *out, char *why, size_t whysz,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(why, whysz, "second session: command too long");
		return -1;
	}
	return side_cmd(s, text, (size_t)n, out, why, whysz);
}

static int
side_open(const struct proxy *p, struct side *s, const char *mailbox,
    char *why, size_t whysz)
{
	struct bytes junk = { 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = connect_upstream(p->opt.target_port, SIDE_TIMEOUT);
	if (s->fd == -1) {
		snprintf(why, whysz, "second session: cannot connect");
		return -1;
	}
	rc = side_response(s, &junk);
	if (rc == 0)
		rc = side_cmdf(s, &junk, why, whysz, "LOGIN \"%s\" \"%s\"",
		    p->opt.user, p->opt.pass);
	if (rc == 0)
		rc = side_cmdf(s, &junk, why, whysz, "SELECT %s", mailbox);
	bytes_free(&junk);
	return rc;
}

static void
side_close(struct side *s)
{
	char why[64];
	struct bytes junk = { 0 };

	if (s->fd != -1) {
		side_cmdf(s, &junk, why, sizeof(why), "LOGOUT");
		close(s->fd);
	}
	bytes_free(&junk);
	bytes_free(&s->in);
	s->fd = -1;
}

/* The highest (or lowest) UID of "* SEARCH ..." in resp; 0 if none. */
static unsigned long
pick_uid(const struct bytes *resp, int lowest)
{
	const char *p = bytes_ptr(resp), *end = p + resp->len;
	unsigned long best = 0;

	for (; p < end; p++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) > 9 && strncasecmp(p, "* SEARCH ", 9) == 0)
			for (const char *q = p + 9; q < (nl ? nl : end); ) {
				char *next;
				unsigned long v = strtoul(q, &next, 10);

				if (next == q)
					break;
				if (v != 0 && (best == 0 ||
				    (lowest ? v < best : v > best)))
					best = v;
				q = next;
			}
		if (nl == NULL)
			break;
		p = nl;
	}
	return best;
}

/* The Message-ID in a header fetched through the second session. */
static void
find_msgid(const struct bytes *resp, char *out, size_t outsz)
{
	const char *p = bytes_ptr(resp), *end = p + resp->len;

	snprintf(out, outsz, "-");
	for (; p + 11 < end; p++) {
		const char *lt, *gt;

		if (strncasecmp(p, "message-id:", 11) != 0)
			continue;
		lt = memchr(p, '<', (size_t)(end - p));
		gt = lt ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
		if (gt != NULL && (size_t)(gt - lt) < outsz - 1)
			snprintf(out, outsz, "%.*s", (int)(gt - lt + 1), lt);
		return;
	}
}

/* Choose the message of the fault: its UID, and its Message-ID. */
static unsigned long
side_target(const struct proxy *p, struct side *s, const char *set,
    struct report *r)
{
	struct bytes resp = { 0 };
	unsigned long uid = 0;

	if (side_cmdf(s, &resp, r->note, sizeof(r->note), "UID SEARCH UID %s",
	    set[0] ? set : "1:*") == 0)
		uid = pick_uid(&resp, p->opt.pick_lowest);
	resp.len = resp.off = 0;
	if (uid == 0 && r->note[0] == '\0')
		snprintf(r->note, sizeof(r->note), "no message in UIDs %s",
		    set[0] ? set : "1:*");
	if (uid != 0 && side_cmdf(s, &resp, r->note, sizeof(r->note),
	    "UID FETCH %lu (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", uid) == 0)
		find_msgid(&resp, r->msgid, sizeof(r->msgid));
	if (uid != 0)
		snprintf(r->uid, sizeof(r->uid), "%lu", uid);
	bytes_free(&resp);
	return uid;
}

/* "* n FETCH (... FLAGS (x y) ...)": n and the flags without \Recent. */
static int
parse_flags_fetch(const struct bytes *resp, unsigned long *seq, char *flags,
    size_t flagsz)
{
	const char *p = bytes_ptr(resp), *end = p + resp->len, *f, *close;
	char *next;
	size_t used = 0;

	if (resp->len < 3 || strncmp(p, "* ", 2) != 0)
		return -1;
	*seq = strtoul(p + 2, &next, 10);
	if (next == p + 2 || *seq == 0)
		return -1;
	f = memmem(p, resp->len, "FLAGS (", 7);
	close = f ? memchr(f + 7, ')', (size_t)(end - f - 7)) : NULL;
	if (close == NULL)
		return -1;
	flags[0] = '\0';
	for (const char *q = f + 7; q < close; ) {
		char word[64];

		next_token(&q, close, word, sizeof(word));
		if (word[0] == '\0' || strcasecmp(word, "\\Recent") == 0)
			continue;
		used += (size_t)snprintf(flags + used, flagsz - used, "%s%s",
		    used ? " " : "", word);
		if (used >= flagsz)
			return -1;
	}
	return 0;
}

/* ---- the faults -------------------------------------------------------- */

static void
do_expunge(struct proxy *p, struct side *s, struct conn *c)
{
	struct bytes junk = { 0 };
	unsigned long uid = side_target(p, s, c->uidset, &p->rep);

	if (uid != 0 && side_cmdf(s, &junk, p->rep.note, sizeof(p->rep.note),
	    "UID STORE %lu +FLAGS.SILENT (\\Deleted)", uid) == 0)
		side_cmdf(s, &junk, p->rep.note, sizeof(p->rep.note),
		    "UID EXPUNGE %lu", uid);
	bytes_free(&junk);
}

static void
do_fetch(struct proxy *p, struct side *s, struct conn *c)
{
	struct bytes resp = { 0 };
	unsigned long uid = side_target(p, s, c->uidset, &p->rep), seq;
	char flags[512];

	if (uid != 0 && side_cmdf(s, &resp, p->rep.note, sizeof(p->rep.note),
	    "UID FETCH %lu (FLAGS)", uid) == 0) {
		if (parse_flags_fetch(&resp, &seq, flags, sizeof(flags)) != 0)
			snprintf(p->rep.note, sizeof(p->rep.note),
			    "unexpected answer to UID FETCH FLAGS");
		else if (p->opt.fault == F_FETCHUID)
			bytes_addf(&c->inject, "* %lu FETCH (UID %lu FLAGS (%s))"
			    "\r\n", seq, uid, flags);
		else
			bytes_addf(&c->inject, "* %lu FETCH (FLAGS (%s))\r\n",
			    seq, flags);
	}
	bytes_free(&resp);
}

/* The last "* n EXISTS" of resp; 0 when none. */
static unsigned long
last_exists(const struct bytes *resp)
{
	const char *p = bytes_ptr(resp), *end = p + resp->len;
	unsigned long n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next;
		unsigned long v;

		if (strncmp(p, "* ", 2) == 0) {
			v = strtoul(p + 2, &next, 10);
			if (next > p + 2 && strncasecmp(next, " EXISTS", 7) == 0)
				n = v;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return n;
}

static void
do_exists(struct proxy *p, struct side *s, struct conn *c,
    const char *mailbox)
{
	struct bytes cmd = { 0 }, resp = { 0 };
	char msg[256];
	int n;
	unsigned long exists;

	n = snprintf(msg, sizeof(msg), "From: <proxy@faultproxy.test>\r\n"
	    "Subject: appended by the fault proxy\r\n"
	    "Message-ID: <fp-%u@faultproxy.test>\r\n\r\n"
	    "Appended during command %u.\r\n", p->opt.at, p->opt.at);
	bytes_addf(&cmd, "APPEND %s {%d+}\r\n", mailbox, n);
	bytes_add(&cmd, msg, (size_t)n);
	snprintf(p->rep.msgid, sizeof(p->rep.msgid), "<fp-%u@faultproxy.test>",
	    p->opt.at);
	if (side_cmd(s, bytes_ptr(&cmd), cmd.len, &resp, p->rep.note,
	    sizeof(p->rep.note)) == 0 &&
	    side_cmdf(s, &resp, p->rep.note, sizeof(p->rep.note), "NOOP") == 0) {
		exists = last_exists(&resp);
		if (exists == 0)
			snprintf(p->rep.note, sizeof(p->rep.note),
			    "no EXISTS seen after APPEND");
		else if (strcmp(mailbox, c->selected) == 0)
			bytes_addf(&c->inject, "* %lu EXISTS\r\n", exists);
		else
			snprintf(p->rep.note, sizeof(p->rep.note),
			    "appended to a mailbox not selected: no EXISTS "
			    "injected");
	}
	bytes_free(&cmd);
	bytes_free(&resp);
}

static void
conn_close(struct conn *c)
{
	if (c->cfd != -1)
		close(c->cfd);
	if (c->sfd != -1)
		close(c->sfd);
	c->cfd = c->sfd = -1;
	c->dead = 1;
}

/* The second session's part of a fault, on the mailbox given. */
static void
side_action(struct proxy *p, struct conn *c, const char *mailbox)
{
	struct side s;

	snprintf(p->rep.mailbox, sizeof(p->rep.mailbox), "%s", mailbox);
	if (side_open(p, &s, mailbox, p->rep.note, sizeof(p->rep.note)) == 0) {
		if (p->opt.fault == F_EXPUNGE)
			do_expunge(p, &s, c);
		else if (p->opt.fault == F_FETCH ||
		    p->opt.fault == F_FETCHUID)
			do_fetch(p, &s, c);
		else
			do_exists(p, &s, c, mailbox);
	}
	side_close(&s);
}

/* The mailbox a fault concerns (fetch: only a selected one, else NULL). */
static const char *
fault_mailbox(const struct proxy *p, const struct conn *c, int selecting)
{
	if (p->opt.fault == F_FETCH || p->opt.fault == F_FETCHUID)
		return c->selected[0] ? c->selected : NULL;
	if (selecting && c->cur.arg[0])
		return c->cur.arg;
	return c->selected[0] ? c->selected : "INBOX";
}

/*
 * Command K, every earlier command answered: do the fault. Afterwards the
 * command is forwarded (pass = 1) or refused (pass = 0), unless dropped.
 * A late fault waits for K's tagged answer (late_fire()).
 */
static void
fire(struct proxy *p, struct conn *c)
{
	const char *mailbox;

	c->held = 0;
	c->pass = 1;
	p->rep.fired = 1;
	snprintf(p->rep.command, sizeof(p->rep.command), "%s", c->cur.name);
	switch (p->opt.fault) {
	case F_NONE:
		return;
	case F_NO:
		c->pass = 0;
		return;
	case F_DROP:
		conn_close(c);
		return;
	default:
		break;
	}
	if (p->opt.late) {
		c->late = 1;
		snprintf(c->late_tag, sizeof(c->late_tag), "%s", c->cur.tag);
		return;
	}
	mailbox = fault_mailbox(p, c, 1);
	if (mailbox == NULL)
		snprintf(p->rep.note, sizeof(p->rep.note), "no mailbox selected");
	else
		side_action(p, c, mailbox);
}

/* K's tagged answer is next, nothing else runs: the late fault. */
static void
late_fire(struct proxy *p, struct conn *c)
{
	const char *mailbox = fault_mailbox(p, c, 0);

	c->late = 0;
	if (mailbox == NULL)
		snprintf(p->rep.note, sizeof(p->rep.note), "no mailbox selected");
	else
		side_action(p, c, mailbox);
}

/* ---- the two directions ------------------------------------------------ */

static int
counts(const struct proxy *p, const struct conn *c)
{
	if (!c->authed || c->raw)
		return 0;
	if (strcmp(c->cur.name, "") == 0 || strcmp(c->cur.tag, "DONE") == 0)
		return 0;
	return p->opt.only == NULL || strcasecmp(p->opt.only, c->cur.name) == 0;
}

/* A new client command: its first line is complete at the buffer head. */
static void
start_command(struct proxy *p, struct conn *c, const char *line, size_t len)
{
	parse_command(c, line, len);
	c->in_cmd = 1;
	c->first_line = 1;
	c->pass = 1;
	if (!counts(p, c))
		return;
	p->rep.commands++;
	if (p->log != NULL) {
		size_t n = len;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		fprintf(p->log, "%u %.*s\n", p->rep.commands,
		    (int)(n < 200 ? n : 200), line);
		fflush(p->log);
	}
	if (p->opt.fault != F_NONE && p->rep.commands == p->opt.at)
		c->held = 1;
}

static int
quiescent(const struct conn *c)
{
	return c->nfl == 0 && c->down_start && c->down_lit == 0;
}

/* One line of a client command, now at the head of cin. */
static int
client_line(struct conn *c, size_t len)
{
	const char *line = bytes_ptr(&c->cin);
	uint64_t n;
	int sync, lit = line_literal(line, len, &n, &sync);

	if (lit < 0) {
		fprintf(stderr, "faultproxy: bad literal from the client\n");
		return -1;
	}
	if (c->first_line && c->pass && inflight_add(c, &c->cur) != 0)
		return -1;
	c->first_line = 0;
	if (c->pass)
		bytes_add(&c->sout, line, len);
	bytes_eat(&c->cin, len);
	if (lit == 1 && (c->pass || !sync)) {
		c->up_lit = n;
		return 0;
	}
	/* The command ends here (a refused one: also at a sync literal). */
	c->in_cmd = 0;
	if (!c->pass)
		bytes_addf(&c->inject, "%s NO [SERVERBUG] injected\r\n",
		    c->cur.tag);
	return 0;
}

/* Parse what the client sent; forward, hold or refuse. */
static int
pump_up(struct proxy *p, struct conn *c)
{
	while (!c->dead && c->cin.len > 0) {
		const char *head = bytes_ptr(&c->cin);
		const char *nl;

		if (c->raw) {
			bytes_add(&c->sout, head, c->cin.len);
			bytes_eat(&c->cin, c->cin.len);
			break;
		}
		if (c->up_lit > 0) {
			size_t k = c->cin.len < c->up_lit ? c->cin.len :
			    (size_t)c->up_lit;

			if (c->pass)
				bytes_add(&c->sout, head, k);
			bytes_eat(&c->cin, k);
			c->up_lit -= k;
			continue;
		}
		if (c->held) {
			if (!quiescent(c))
				break;
			fire(p, c);
			continue;
		}
		if (c->late && !c->in_cmd)
			break;	/* nothing after K until K is answered */
		nl = memchr(head, '\n', c->cin.len);
		if (nl == NULL) {
			if (c->cin.len > MAX_LINE) {
				fprintf(stderr, "faultproxy: client line too "
				    "long\n");
				return -1;
			}
			break;
		}
		if (!c->in_cmd) {
			start_command(p, c, head, (size_t)(nl - head) + 1);
			if (c->held)
				continue;
		}
		if (client_line(c, (size_t)(nl - head) + 1) != 0)
			return -1;
	}
	return 0;
}

static void
flush_injections(struct conn *c)
{
	if (c->dead || c->inject.len == 0 || !c->down_start || c->down_lit)
		return;
	bytes_add(&c->cout, bytes_ptr(&c->inject), c->inject.len);
	bytes_eat(&c->inject, c->inject.len);
}

/*
 * A server response starts with this line: follow tags and states; before
 * the answer to a late fault's command, do the fault.
 */
static void
server_response(struct proxy *p, struct conn *c, const char *line,
    size_t len)
{
	const char *q = line, *end = line + len;
	char tag[64], status[16];
	struct inflight f;

	next_token(&q, end, tag, sizeof(tag));
	next_token(&q, end, status, sizeof(status));
	upcase(status);
	if (strcmp(tag, "*") == 0) {
		if (strcmp(status, "PREAUTH") == 0)
			c->authed = 1;
		return;
	}
	if (strcmp(tag, "+") == 0 || inflight_take(c, tag, &f) != 0)
		return;
	if (strcmp(f.name, "SELECT") == 0 || strcmp(f.name, "EXAMINE") == 0)
		snprintf(c->selected, sizeof(c->selected), "%s",
		    strcmp(status, "OK") == 0 ? f.arg : "");
	if (c->late && strcmp(tag, c->late_tag) == 0) {
		late_fire(p, c);
		flush_injections(c);	/* at a boundary: before this line */
	}
	if (strcmp(status, "OK") != 0)
		return;
	if (strcmp(f.name, "LOGIN") == 0 || strcmp(f.name, "AUTHENTICATE") == 0) {
		c->authed = 1;
		c->nfl = 0;	/* SASL lines were no commands */
	}
	if (strcmp(f.name, "STARTTLS") == 0 || strcmp(f.name, "COMPRESS") == 0)
		c->raw = 1;
}

/* Parse what the server sent; forward it, and inject at boundaries. */
static int
pump_down(struct proxy *p, struct conn *c)
{
	while (!c->dead && c->sin.len > 0) {
		const char *head = bytes_ptr(&c->sin);
		const char *nl;
		size_t len;
		uint64_t n;
		int sync, lit;

		if (c->raw) {
			bytes_add(&c->cout, head, c->sin.len);
			bytes_eat(&c->sin, c->sin.len);
			break;
		}
		if (c->down_lit > 0) {
			size_t k = c->sin.len < c->down_lit ? c->sin.len :
			    (size_t)c->down_lit;

			bytes_add(&c->cout, head, k);
			bytes_eat(&c->sin, k);
			c->down_lit -= k;
			continue;
		}
		nl = memchr(head, '\n', c->sin.len);
		if (nl == NULL) {
			if (c->sin.len > MAX_LINE) {
				fprintf(stderr, "faultproxy: server line too "
				    "long\n");
				return -1;
			}
			break;
		}
		len = (size_t)(nl - head) + 1;
		lit = line_literal(head, len, &n, &sync);
		if (lit < 0) {
			fprintf(stderr, "faultproxy: bad literal from the "
			    "server\n");
			return -1;
		}
		if (c->down_start)
			server_response(p, c, head, len);
		bytes_add(&c->cout, head, len);
		bytes_eat(&c->sin, len);
		c->down_start = lit == 0;
		c->down_lit = lit == 1 ? n : 0;
	}
	return 0;
}

/* ---- the event loop ---------------------------------------------------- */

/* Read what a socket has into b; sets *eof. -1 on a broken socket. */
static int
read_into(int fd, struct bytes *b, int *eof)
{
	char chunk[READ_CHUNK];
	ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	if (n == 0)
		*eof = 1;
	else
		bytes_add(b, chunk, (size_t)n);
	return 0;
}

static int
write_from(int fd, struct bytes *b)
{
	ssize_t n;

	if (b->len == 0)
		return 0;
	n = tw_send(fd, bytes_ptr(b), b->len);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	bytes_eat(b, (size_t)n);
	return 0;
}

static void
conn_free(struct conn *c)
{
	conn_close(c);
	bytes_free(&c->cin);
	bytes_free(&c->sin);
	bytes_free(&c->cout);
	bytes_free(&c->sout);
	bytes_free(&c->inject);
	free(c->fl);
	free(c);
}

static int
fcntl_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		fprintf(stderr, "faultproxy: fcntl: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void
accept_clients(struct proxy *p)
{
	for (;;) {
		struct conn *c;
		int cfd, sfd;

		cfd = tw_accept(p->lfd, O_NONBLOCK | O_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "faultproxy: accept: %s\n",
				    strerror(errno));
			return;
		}
		p->accepted++;
		sfd = p->nconns < MAX_CONNS ?
		    connect_upstream(p->opt.target_port, 0) : -1;
		if (sfd == -1 || fcntl_nonblock(sfd) != 0) {
			if (sfd != -1)
				close(sfd);
			close(cfd);
			continue;
		}
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->cfd = cfd;
		c->sfd = sfd;
		c->down_start = 1;
		p->conns[p->nconns++] = c;
	}
}

/* Poll events for a connection's two sockets. */
static void
conn_events(const struct conn *c, short *cev, short *sev)
{
	*cev = *sev = 0;
	if (c->dead)
		return;
	if (!c->cli_eof && c->cin.len < HIGH_WATER && c->sout.len < HIGH_WATER)
		*cev |= POLLIN;
	if (!c->srv_eof && c->sin.len < HIGH_WATER && c->cout.len < HIGH_WATER)
		*sev |= POLLIN;
	if (c->cout.len > 0)
		*cev |= POLLOUT;
	if (c->sout.len > 0)
		*sev |= POLLOUT;
}

/* Move bytes, parse, inject; close a connection that is finished. */
static void
service_conn(struct proxy *p, struct conn *c, short cev, short sev)
{
	const short ready = POLLIN | POLLHUP | POLLERR;
	int broken = 0;

	if ((cev & ready) && !c->cli_eof)
		broken |= read_into(c->cfd, &c->cin, &c->cli_eof);
	if ((sev & ready) && !c->srv_eof)
		broken |= read_into(c->sfd, &c->sin, &c->srv_eof);
	if (!broken)
		broken |= pump_down(p, c) != 0 || pump_up(p, c) != 0;
	if (c->dead)
		return;
	flush_injections(c);
	if (!broken)
		broken |= write_from(c->sfd, &c->sout) != 0 ||
		    write_from(c->cfd, &c->cout) != 0;
	/* An end on either side ends the session once the other side has
	 * everything that came before it. */
	if (broken || (c->cli_eof && c->sout.len == 0) ||
	    (c->srv_eof && c->sin.len == 0 && c->cout.len == 0))
		conn_close(c);
}

static void
reap_conns(struct proxy *p)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->nconns; i++) {
		if (p->conns[i]->dead)
			conn_free(p->conns[i]);
		else
			p->conns[kept++] = p->conns[i];
	}
	p->nconns = kept;
}

static int
run(struct proxy *p)
{
	struct pollfd pfds[2 + 2 * MAX_CONNS];
	struct timespec deadline, wait;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += p->opt.max_seconds;
	for (;;) {
		long ms = ms_until(&deadline);
		size_t n = 2;

		if (ms == 0 || (p->accepted > 0 && p->nconns == 0))
			return 0;
		pfds[0] = (struct pollfd){ .fd = p->sigfd, .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		for (size_t i = 0; i < p->nconns; i++) {
			short cev, sev;

			conn_events(p->conns[i], &cev, &sev);
			pfds[n++] = (struct pollfd){ .fd = p->conns[i]->cfd,
			    .events = cev };
			pfds[n++] = (struct pollfd){ .fd = p->conns[i]->sfd,
			    .events = sev };
		}
		wait = (struct timespec){ ms / 1000, (ms % 1000) * 1000000 };
		if (tw_ppoll(pfds, n, &wait, &p->wait_mask) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "faultproxy: poll: %s\n",
			    strerror(errno));
			return -1;
		}
		if (pfds[0].revents != 0)
			return 0;
		for (size_t i = 0; i < p->nconns; i++)
			service_conn(p, p->conns[i], pfds[2 + 2 * i].revents,
			    pfds[3 + 2 * i].revents);
		reap_conns(p);
		if (pfds[1].revents != 0)
			accept_clients(p);
	}
}

static int
write_report(const struct proxy *p)
{
	const struct report *r = &p->rep;
	char text[2048];

	snprintf(text, sizeof(text), "commands=%u\nfault=%s\nat=%u\n"
	    "fired=%d\ncommand=%s\nmailbox=%s\nuid=%s\nmessage-id=%s\n"
	    "note=%s\n", r->commands, fault_names[p->opt.fault], p->opt.at,
	    r->fired, r->command, r->mailbox, r->uid, r->msgid, r->note);
	return write_out("faultproxy", p->opt.report, text);
}

static int
start(struct proxy *p)
{
	char text[16];
	uint16_t port;

	signal(SIGPIPE, SIG_IGN);
	p->sigfd = open_stop_pipe("faultproxy", &p->wait_mask);
	if (p->sigfd == -1)
		return -1;
	if (p->opt.log != NULL && (p->log = fopen(p->opt.log, "w")) == NULL) {
		fprintf(stderr, "faultproxy: %s: %s\n", p->opt.log,
		    strerror(errno));
		return -1;
	}
	p->lfd = open_listener("faultproxy", p->opt.listen_port, &port);
	if (p->lfd == -1)
		return -1;
	snprintf(text, sizeof(text), "%u\n", (unsigned)port);
	return write_out("faultproxy", p->opt.port_file, text);
}

int
main(int argc, char **argv)
{
	struct proxy p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.lfd = p.sigfd = -1;
	parse_args(argc, argv, &p.opt);
	if (start(&p) != 0)
		return 1;
	rc = run(&p) == 0 ? 0 : 1;
	for (size_t i = 0; i < p.nconns; i++)
		conn_free(p.conns[i]);
	if (write_report(&p) != 0)
		rc = 1;
	close(p.lfd);
	close(p.sigfd);
	if (p.log != NULL && fclose(p.log) == EOF)
		rc = 1;
	return rc;
}
