/*
 * testlib: helpers shared by the Check test programs.
 *
 *  - run_suite() runs a suite with Check's normal output (its summary line
 *    "NN%: Checks: N, Failures: N, Errors: N" is what CI reads) and turns the
 *    result into an exit status.
 *  - Temporary directories are made under $TMPDIR (or /tmp) and removed by
 *    tl_rmtree(); every helper fails the current test on error, with the
 *    path and errno text, so a test never proceeds on a broken fixture.
 */
#ifndef TWINBOX_TESTLIB_H
#define TWINBOX_TESTLIB_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

int run_suite(Suite *s);

/* mkdtemp under $TMPDIR; returns a malloc'd path. */
char *tl_mkdtemp(const char *tag);
/* rm -rf path (no symlink following). */
void tl_rmtree(const char *path);
/* Write a file with the given contents (creating it 0600). */
void tl_write_file(const char *path, const char *data, size_t len);
void tl_write_str(const char *path, const char *s);
/* Read a whole file; returns malloc'd, NUL-terminated; *len if non-NULL. */
char *tl_read_file(const char *path, size_t *len);
/* mkdir -p with mode 0700. */
void tl_mkdirs(const char *path);
/* 1 if path exists (lstat), else 0. */
int tl_exists(const char *path);
/* Join a directory and a name into a malloc'd path. */
char *tl_path(const char *dir, const char *name);
/* Count directory entries other than . and .. (-1 if it cannot be read). */
int tl_count_entries(const char *dir);
/* A blocking TCP connection to 127.0.0.1:port; reads on it time out after
 * timeout seconds (0: never). */
int tl_connect_loopback(int port, int timeout);
/* A TCP socket listening on 127.0.0.1 at a free port, which *port gets;
 * fails the test on error. */
int tl_listen_loopback(int *port);
/* Send all len bytes (no SIGPIPE); 0, or -1 when the peer is gone. */
int tl_send_all(int fd, const char *p, size_t len);
/* For a scripted server in a forked child: send s whole, or _exit(3). */
void tl_send_str(int fd, const char *s);
/* Read one line byte by byte (so that nothing after it is consumed) into
 * line, without its CRLF or LF; 1, or 0 at end of file with no newline. */
struct buf;
int tl_read_line(int fd, struct buf *line);
/*
 * Where a test program finds its files, whatever the current directory:
 *  - tl_src_path(rel): rel under the top of the source tree (tests/data/,
 *    scripts/, sync.rc.sample): $TWINBOX_SRCDIR (tests/run-all.sh sets
 *    it), else two levels above this program (BUILD/tests/check_NAME);
 *    the program stops with a message saying what is missing and how to
 *    point at the tree when neither holds tests/run-all.sh;
 *  - tl_tool_path(name): the test tool name of this program's own build
 *    (BUILD/tests/tools/name), failing the test when it is not there;
 *  - tl_bin_path(): the binary under test: $TWINBOX_BIN, else this
 *    program's build's twinbox (BUILD/twinbox).
 * Each returns a malloc'd path.
 */
char *tl_src_path(const char *rel);
char *tl_tool_path(const char *name);
char *tl_bin_path(void);

/* splitmix64: a small seeded generator, the same on every machine, so
 * that a seed printed by a failing test replays its history. */
struct tl_rng {
	uint64_t state;
};

uint64_t tl_rng_next(struct tl_rng *r);
/* Uniform enough below n (n > 0). */
unsigned tl_rng_below(struct tl_rng *r, unsigned n);

#endif
