/*
 * oauthd: a token introspection endpoint on 127.0.0.1 for the OAuth tests.
 *
 *   oauthd --port-file F --token T --user U [--max-seconds S]
 *
 * Dovecot's oauth2 passdb (introspection_mode = post) sends the token as
 * "token=..." in a POST body and reads a JSON answer. This answers
 * {"active":true,"username":U} for the token T and {"active":false} for
 * anything else, one connection at a time, until S seconds (default 120)
 * have passed or it is sent SIGTERM. It never contacts anything.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 16384

struct opts {
	const char *port_file;
	const char *token;
	const char *user;
	int max_seconds;
};

static int
parse_args(int argc, char **argv, struct opts *o)
{
	o->max_seconds = 120;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port-file") == 0)
			o->port_file = argv[i + 1];
		else if (strcmp(argv[i], "--token") == 0)
			o->token = argv[i + 1];
		else if (strcmp(argv[i], "--user") == 0)
			o->user = argv[i + 1];
		else if (strcmp(argv[i], "--max-seconds") == 0)
			o->max_seconds = atoi(argv[i + 1]);
		else
			return -1;
	}
	return o->port_file && o->token && o->user && o->max_seconds > 0 &&
	    argc % 2 == 1 ? 0 : -1;
}

static int
listen_loopback(const char *port_file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *f;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("oauthd: listen");
		return -1;
	}
	f = fopen(port_file, "w");
	if (f == NULL) {
		perror(port_file);
		return -1;
	}
	fprintf(f, "%u\n", (unsigned)ntohs(sa.sin_port));
	fclose(f);
	return fd;
}

/* Read headers and the body their Content-Length announces (bounded). */
static size_t
read_request(int c, char *req)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { c, POLLIN, 0 };
		char *end, *cl;
		ssize_t got;

		if (poll(&p, 1, 5000) != 1)
			return n;
		got = read(c, req + n, REQ_MAX - 1 - n);
		if (got <= 0)
			return n;
		n += (size_t)got;
		req[n] = '\0';
		end = strstr(req, "\r\n\r\n");
		if (end == NULL)
			continue;
		cl = strcasestr(req, "content-length:");
		if (cl == NULL || (size_t)(end + 4 - req) +
		    strtoul(cl + 15, NULL, 10) <= n || n == REQ_MAX - 1)
			return n;
	}
}

static void
answer(int c, const struct opts *o)
{
	char req[REQ_MAX], body[512], resp[1024];
	size_t n = read_request(c, req);
	char want[512];
	int len;

	req[n] = '\0';
	snprintf(want, sizeof(want), "token=%s", o->token);
	if (strstr(req, want) != NULL)
		snprintf(body, sizeof(body),
		    "{\"active\":true,\"username\":\"%s\"}", o->user);
	else
		snprintf(body, sizeof(body), "{\"active\":false}");
	len = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", strlen(body), body);
	if (write(c, resp, (size_t)len) != len)
		perror("oauthd: write");
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	time_t until;
	int fd;

	if (parse_args(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: oauthd --port-file F --token T "
		    "--user U [--max-seconds S]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = listen_loopback(o.port_file);
	if (fd < 0)
		return 1;
	until = time(NULL) + o.max_seconds;
	while (time(NULL) < until) {
		struct pollfd p = { fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 1000) != 1)
			continue;
		c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		answer(c, &o);
		close(c);
	}
	close(fd);
	return 0;
}
