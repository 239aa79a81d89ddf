/* dovecot: the private test server for integration tests; see dovecot.h. */
#include "support/dovecot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "support/testlib.h"

static char *
env_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t vlen = len - klen - 1;

			if (vlen >= 2 && v[0] == '\'' && v[vlen - 1] == '\'')
				return xstrndup(v + 1, vlen - 2);
			return xstrndup(v, vlen);
		}
		p = nl ? nl + 1 : NULL;
	}
	fprintf(stderr, "server.env has no %s\n", key);
	exit(1);
}

/* Not tl_read_file: this runs outside any test, where Check's asserts
 * cannot report. */
static char *
read_env(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "FAIL: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b);
}

int
dovecot_script(const struct dovecot *d, const char *args)
{
	struct buf cmd = BUF_INIT;
	char *script = tl_src_path("scripts/test-server.sh");
	int rc;

	buf_setf(&cmd, "'%s' %s >'%s.out' 2>&1", script, args, d->dir);
	rc = system(cmd.data);
	buf_free(&cmd);
	free(script);
	return rc;
}

void
dovecot_start(struct dovecot *d, const char *env)
{
	struct buf cmd = BUF_INIT;
	char *text, *envfile, *script = tl_src_path("scripts/test-server.sh");

	memset(d, 0, sizeof(*d));
	d->dir = tl_mkdtemp("dovecot");
	if (chmod(d->dir, 0755) != 0) {
		perror(d->dir);
		exit(1);
	}
	buf_setf(&cmd, "%s '%s' start '%s' >'%s.out' 2>&1",
	    env ? env : "", script, d->dir, d->dir);
	if (system(cmd.data) != 0) {
		buf_setf(&cmd, "cat '%s.out' >&2", d->dir);
		fprintf(stderr, "FAIL: cannot start Dovecot with %s:\n",
		    script);
		if (system(cmd.data) != 0)
			fprintf(stderr, "(no output)\n");
		exit(1);
	}
	d->running = 1;
	envfile = tl_path(d->dir, "server.env");
	text = read_env(envfile);
	d->imap_port = env_value(text, "IMAP_PORT");
	d->imaps_port = env_value(text, "IMAPS_PORT");
	d->ca_file = env_value(text, "CA_FILE");
	d->mail_dir = env_value(text, "MAIL_DIR");
	free(text);
	free(envfile);
	free(script);
	buf_free(&cmd);
}

void
dovecot_stop(struct dovecot *d)
{
	struct buf out = BUF_INIT;

	if (d->dir == NULL)
		return;
	if (d->running) {
		struct buf arg = BUF_INIT;

		buf_setf(&arg, "stop '%s'", d->dir);
		if (dovecot_script(d, arg.data) != 0)
			fprintf(stderr, "warning: stopping Dovecot in %s "
			    "failed\n", d->dir);
		buf_free(&arg);
	}
	buf_setf(&out, "%s.out", d->dir);
	remove(out.data);
	tl_rmtree(d->dir);
	free(d->dir);
	free(d->imap_port);
	free(d->imaps_port);
	free(d->ca_file);
	free(d->mail_dir);
	memset(d, 0, sizeof(*d));
	buf_free(&out);
}
