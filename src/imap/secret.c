/* secret: UserCmd / PassCmd; see secret.h. */
#include "imap/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "compat.h"
#include "interrupt.h"

#define SECRET_MAX_OUTPUT 65536

static pid_t
spawn(const char *cmd, int *rfd)
{
	int p[2];
	pid_t pid;

	if (tw_pipe(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		interrupt_child_unblock();
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

/* Read everything (keeping at most the limit) so the command never
 * blocks on a full pipe. */
static void
drain(int fd, struct buf *out)
{
	char chunk[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len < SECRET_MAX_OUTPUT)
			buf_add(out, chunk, (size_t)n);
	}
	OPENSSL_cleanse(chunk, sizeof chunk);
}

static int
reap(pid_t pid, const char *key, const char *cmd, struct buf *err)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			buf_setf(err, "%s '%s': waitpid: %s", key, cmd,
			    strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		buf_setf(err, "%s '%s' failed with exit status %d", key, cmd,
		    WEXITSTATUS(status));
	else
		buf_setf(err, "%s '%s' was killed by signal %d", key, cmd,
		    WTERMSIG(status));
	return -1;
}

int
imap_run_secret_cmd(const char *key, const char *cmd, struct buf *out,
    struct buf *err)
{
	struct buf raw = BUF_INIT;
	int fd, rc;
	pid_t pid = spawn(cmd, &fd);
	char *nl;

	if (pid < 0) {
		buf_setf(err, "%s '%s': cannot start /bin/sh: %s", key, cmd,
		    strerror(errno));
		return -1;
	}
	buf_grow(&raw, SECRET_MAX_OUTPUT + 4096);	/* never moved */
	drain(fd, &raw);
	close(fd);
	rc = reap(pid, key, cmd, err);
	nl = raw.data ? memchr(raw.data, '\n', raw.len) : NULL;
	if (nl != NULL)
		buf_truncate(&raw, (size_t)(nl - raw.data));
	if (raw.len > 0 && raw.data[raw.len - 1] == '\r')
		buf_truncate(&raw, raw.len - 1);
	if (rc == 0 && raw.len == 0) {
		buf_setf(err, "%s '%s' printed nothing", key, cmd);
		rc = -1;
	}
	buf_reset(out);
	if (rc == 0)
		buf_add(out, raw.data, raw.len);
	buf_wipe(&raw);
	return rc;
}

static void
read_line(FILE *tty, struct buf *out)
{
	int ch;

	buf_grow(out, SECRET_MAX_OUTPUT);	/* never moved */
	while ((ch = getc(tty)) != EOF && ch != '\n')
		if (out->len < SECRET_MAX_OUTPUT)
			buf_addc(out, (char)ch);
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		buf_truncate(out, out->len - 1);
}

int
imap_ask_password(const char *prompt, struct buf *out, struct buf *err)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	int echo_off;

	if (tty == NULL) {
		buf_setf(err, "no Pass or PassCmd is configured and there is "
		    "no terminal to ask for the password (/dev/tty: %s)",
		    strerror(errno));
		return -1;
	}
	/* Unbuffered: stdio's buffer would keep the typed line, and
	 * fclose() frees it as it is. */
	setvbuf(tty, NULL, _IONBF, 0);
	echo_off = tcgetattr(fileno(tty), &old) == 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	fprintf(tty, "%s", prompt);
	fflush(tty);
	buf_reset(out);
	read_line(tty, out);
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	if (out->len > 0)
		return 0;
	buf_setf(err, "no password was typed");
	return -1;
}

/* One command's outcome: its output, or its error. */
struct secret_slot {
	int ran;
	int rc;
	struct buf out;
	struct buf err;
};

struct imap_secrets {
	pthread_mutex_t lock;	/* held while a command runs */
	struct secret_slot user, pass;
};

struct imap_secrets *
imap_secrets_new(void)
{
	struct imap_secrets *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void
slot_wipe(struct secret_slot *sl)
{
	buf_wipe(&sl->out);
	buf_free(&sl->err);
}

void
imap_secrets_free(struct imap_secrets *s)
{
	if (s == NULL)
		return;
	slot_wipe(&s->user);
	slot_wipe(&s->pass);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
imap_secrets_get(struct imap_secrets *s, const char *key, const char *cmd,
    struct buf *out, struct buf *err)
{
	struct secret_slot *sl = strcmp(key, "UserCmd") == 0 ? &s->user :
	    &s->pass;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (!sl->ran) {
		sl->rc = imap_run_secret_cmd(key, cmd, &sl->out, &sl->err);
		sl->ran = 1;
	}
	rc = sl->rc;
	if (rc == 0) {
		buf_reset(out);
		buf_add(out, sl->out.data, sl->out.len);
	} else {
		buf_setf(err, "%s", buf_cstr(&sl->err));
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
