/* testlib: helpers shared by the Check test programs; see testlib.h. */
#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "compat.h"
#include "util/buf.h"

int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

char *
tl_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&path, "%s/twinbox-%s-XXXXXX", tmp, tag) < 0)
		ck_abort_msg("asprintf failed");
	if (mkdtemp(path) == NULL)
		ck_abort_msg("mkdtemp %s: %s", path, strerror(errno));
	return path;
}

void
tl_rmtree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *sub;

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			sub = tl_path(path, e->d_name);
			tl_rmtree(sub);
			free(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

void
tl_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s",
	    path, strerror(errno));
	close(fd);
}

void
tl_write_str(const char *path, const char *s)
{
	tl_write_file(path, s, strlen(s));
}

char *
tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, got;

	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	do {
		data = xgrow(data, &cap, n + 4096, 8192, 1);
		got = fread(data + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

void
tl_mkdirs(const char *path)
{
	char *p = strdup(path);

	ck_assert(p != NULL);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			ck_abort_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		ck_abort_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

int
tl_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

char *
tl_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		ck_abort_msg("asprintf failed");
	return p;
}

int
tl_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

uint64_t
tl_rng_next(struct tl_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned
tl_rng_below(struct tl_rng *r, unsigned n)
{
	return (unsigned)(tl_rng_next(r) % n);
}

int
tl_connect_loopback(int port, int timeout)
{
	struct sockaddr_in sin;
	struct timeval tv = { timeout, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	if (timeout > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect to 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

int
tl_listen_loopback(int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_msg(s >= 0, "socket: %s", strerror(errno));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
	    listen(s, 1) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0,
	    "listening on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(a.sin_port);
	return s;
}

int
tl_send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = tw_send(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
tl_send_str(int fd, const char *s)
{
	if (tl_send_all(fd, s, strlen(s)) != 0)
		_exit(3);
}

int
tl_read_line(int fd, struct buf *line)
{
	char c;

	buf_reset(line);
	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (line->len > 0 && line->data[line->len - 1] == '\r')
				buf_truncate(line, line->len - 1);
			buf_adds(line, "");
			return 1;
		}
		buf_addc(line, c);
	}
	return 0;
}

/* The directory this program is in (BUILD/tests), malloc'd. */
static char *
self_dir(void)
{
	char self[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		fprintf(stderr, "FAIL: /proc/self/exe: %s (the test programs "
		    "find their files from their own path)\n",
		    n < 0 ? strerror(errno) : "empty");
		exit(1);
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	return xstrdup(self);
}

/* The top of the source tree, malloc'd; see testlib.h. */
static char *
src_dir(void)
{
	const char *env = getenv("TWINBOX_SRCDIR");
	char *dir, *mark;

	if (env != NULL && *env != '\0')
		dir = xstrdup(env);
	else {
		char *self = self_dir();

		if (asprintf(&dir, "%s/../..", self) == -1)
			ck_abort_msg("out of memory");
		free(self);
	}
	mark = tl_path(dir, "tests/run-all.sh");
	if (access(mark, R_OK) != 0) {
		fprintf(stderr, "FAIL: the source tree is not at %s (no %s: "
		    "%s); %s\n", dir, mark, strerror(errno), env != NULL &&
		    *env != '\0' ? "TWINBOX_SRCDIR must name the top of the "
		    "source tree" : "set TWINBOX_SRCDIR to the top of the "
		    "source tree, or run the program from its build "
		    "directory there (BUILD/tests)");
		exit(1);
	}
	free(mark);
	return dir;
}

char *
tl_src_path(const char *rel)
{
	char *dir = src_dir(), *path = tl_path(dir, rel);

	free(dir);
	return path;
}

char *
tl_tool_path(const char *name)
{
	char *self = self_dir(), *path;

	if (asprintf(&path, "%s/tools/%s", self, name) == -1)
		ck_abort_msg("out of memory");
	free(self);
	ck_assert_msg(access(path, X_OK) == 0,
	    "%s: %s (build it with make build-all)", path, strerror(errno));
	return path;
}

char *
tl_bin_path(void)
{
	const char *env = getenv("TWINBOX_BIN");
	char *self, *path;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	self = self_dir();
	if (asprintf(&path, "%s/../twinbox", self) == -1)
		ck_abort_msg("out of memory");
	free(self);
	return path;
}
