/*
 * imapc: a minimal scripted IMAP client for the interoperability tests, so
 * that they can look at and change a server's mailboxes without going
 * through the program under test.
 *
 *   imapc PORT USER PASSWORD < SCRIPT
 *
 * Connects to 127.0.0.1:PORT in plain text, logs in with LOGIN, then runs
 * SCRIPT one line at a time; each line is a command sent with a tag of its
 * own, and imapc waits for the tagged answer before the next one:
 *
 *   COMMAND...                 sent as it is
 *   ?COMMAND...                the same, but a NO or BAD is not an error
 *   @append MAILBOX FILE FLAGS APPEND of FILE (LF turned into CRLF) to
 *                              the quoted MAILBOX with the FLAGS list, e.g.
 *                              @append INBOX.Work msg.eml (\Seen \Draft)
 *
 * Every response is printed on one line of stdout, literals inline with CR
 * and LF shown as spaces, so that awk can read a FETCH whatever the order
 * of its items. A NO or BAD (without '?'), a BYE, a closed connection or
 * 60 seconds without an answer end the run with a message on stderr and
 * exit status 1; bad arguments give 2. A LOGOUT is sent at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_LEN 65536

struct conn {
	FILE *in;
	FILE *out;
	unsigned tag;
	int bye_ok;		/* logging out: BYE is expected */
};

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "imapc: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	exit(1);
}

/* The literal size announced at the end of a line, or -1. */
static long
literal_size(const char *line, size_t len)
{
	const char *open;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	open = memrchr(line, '{', len);
	if (open == NULL)
		return -1;
	return strtol(open + 1, NULL, 10);
}

static void
print_literal(struct conn *c, long n)
{
	for (long i = 0; i < n; i++) {
		int ch = getc(c->in);

		if (ch == EOF)
			die("connection closed inside a literal", NULL);
		putchar(ch == '\r' || ch == '\n' ? ' ' : ch);
	}
}

/* One whole response on one stdout line; its first line in first. */
static void
read_response(struct conn *c, char *first, size_t size)
{
	char line[LINE_MAX_LEN];
	int whole = 0;

	first[0] = '\0';
	while (!whole) {
		size_t len;
		long n;

		if (fgets(line, sizeof(line), c->in) == NULL)
			die("connection closed", NULL);
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (first[0] == '\0')
			snprintf(first, size, "%s", line);
		fputs(line, stdout);
		n = literal_size(line, len);
		if (n >= 0)
			print_literal(c, n);
		else
			whole = 1;
	}
	putchar('\n');
}

/* Read until the tagged answer; 0 for OK. A '+' is returned as 2. */
static int
wait_tagged(struct conn *c, const char *tag, int want_plus)
{
	char first[LINE_MAX_LEN];
	size_t tl = strlen(tag);

	for (;;) {
		read_response(c, first, sizeof(first));
		if (want_plus && first[0] == '+')
			return 2;
		if (strncmp(first, "* BYE", 5) == 0 && !c->bye_ok)
			die("the server said", first);
		if (strncmp(first, tag, tl) == 0 && first[tl] == ' ')
			return strncmp(first + tl + 1, "OK", 2) == 0 ? 0 : 1;
	}
}

static int
command(struct conn *c, const char *text)
{
	char tag[16];

	snprintf(tag, sizeof(tag), "t%u", ++c->tag);
	fprintf(c->out, "%s %s\r\n", tag, text);
	fflush(c->out);
	return wait_tagged(c, tag, 0);
}

/* The file with every bare LF made CRLF; its length in *len. */
static char *
read_crlf(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;
	int ch, prev = 0;

	if (f == NULL)
		die("cannot open", path);
	while ((ch = getc(f)) != EOF) {
		if (n + 2 >= cap) {
			cap = cap ? cap * 2 : 65536;
			if ((data = realloc(data, cap)) == NULL)
				die("out of memory", NULL);
		}
		if (ch == '\n' && prev != '\r')
			data[n++] = '\r';
		data[n++] = (char)ch;
		prev = ch;
	}
	fclose(f);
	*len = n;
	return data;
}

static int
append(struct conn *c, const char *args)
{
	char box[1024], flags[256], path[4096], tag[16];
	size_t len;
	char *data;
	int rc;

	if (sscanf(args, "%1023s %4095s %255[^\n]", box, path, flags) != 3)
		die("@append needs MAILBOX FILE FLAGS", args);
	data = read_crlf(path, &len);
	snprintf(tag, sizeof(tag), "t%u", ++c->tag);
	fprintf(c->out, "%s APPEND \"%s\" %s {%zu}\r\n", tag, box, flags, len);
	fflush(c->out);
	if ((rc = wait_tagged(c, tag, 1)) == 2) {
		fwrite(data, 1, len, c->out);
		fputs("\r\n", c->out);
		fflush(c->out);
		rc = wait_tagged(c, tag, 0);
	}
	free(data);
	return rc;
}

static struct conn
connect_to(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct conn c = { NULL, NULL, 0, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("cannot connect to 127.0.0.1 port", port);
	c.in = fdopen(fd, "rb");
	c.out = fdopen(dup(fd), "wb");
	if (c.in == NULL || c.out == NULL)
		die("fdopen failed", NULL);
	return c;
}

static void
run_script(struct conn *c)
{
	char line[LINE_MAX_LEN];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		int may_fail = line[0] == '?';
		char *cmd = line + may_fail;
		int rc;

		cmd[strcspn(cmd, "\r\n")] = '\0';
		if (cmd[0] == '\0')
			continue;
		if (strncmp(cmd, "@append ", 8) == 0)
			rc = append(c, cmd + 8);
		else
			rc = command(c, cmd);
		if (rc != 0 && !may_fail)
			die("command failed", cmd);
	}
}

int
main(int argc, char **argv)
{
	char first[LINE_MAX_LEN], login[1024];
	struct conn c;

	if (argc != 4) {
		fprintf(stderr, "usage: imapc PORT USER PASSWORD < SCRIPT\n");
		return 2;
	}
	alarm(60);
	c = connect_to(argv[1]);
	read_response(&c, first, sizeof(first));
	if (strncmp(first, "* OK", 4) != 0)
		die("unexpected greeting", first);
	snprintf(login, sizeof(login), "LOGIN \"%s\" \"%s\"", argv[2], argv[3]);
	if (command(&c, login) != 0)
		die("login failed for", argv[2]);
	run_script(&c);
	c.bye_ok = 1;
	command(&c, "LOGOUT");
	return 0;
}
