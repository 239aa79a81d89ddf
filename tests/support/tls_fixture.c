/* tls_fixture: test certificates and TLS servers; see tls_fixture.h. */
#include "tls_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

extern char **environ;

/* Run openssl with the NULL-terminated arguments, output into log. */
static void
run_openssl(const char *log, ...)
{
	const char *argv[32] = { "openssl" };
	posix_spawn_file_actions_t fa;
	va_list ap;
	size_t argc = 1;
	pid_t pid;
	int status, r;

	va_start(ap, log);
	while (argc < 31 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	r = posix_spawnp(&pid, "openssl", &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(r == 0, "cannot run openssl: %s", strerror(r));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *out = tl_read_file(log, NULL);

		ck_abort_msg("openssl %s %s failed:\n%s", argv[1], argv[2],
		    out);
	}
}

static void
make_key_and_csr(const struct tls_fixture *f, const char *key,
    const char *csr, const char *cn)
{
	char *log = tl_path(f->dir, "openssl.log");

	run_openssl(log, "req", "-new", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
	    csr, "-subj", cn, NULL);
	free(log);
}

/* A certificate for key's request, signed by the test CA. */
static char *
sign_cert(const struct tls_fixture *f, const char *name, const char *san)
{
	char *log = tl_path(f->dir, "openssl.log");
	char *ext = tl_path(f->dir, "ext.cnf");
	char *csr = tl_path(f->dir, "req.csr");
	char *ca_key = tl_path(f->dir, "ca.key");
	char *key, *cert, *line;

	if (asprintf(&key, "%s/%s.key", f->dir, name) < 0 ||
	    asprintf(&cert, "%s/%s.pem", f->dir, name) < 0 ||
	    asprintf(&line, "subjectAltName=%s\n", san) < 0)
		ck_abort_msg("asprintf failed");
	tl_write_str(ext, line);
	make_key_and_csr(f, key, csr, "/CN=twinbox test server");
	run_openssl(log, "x509", "-req", "-in", csr, "-CA", f->ca_cert,
	    "-CAkey", ca_key, "-CAcreateserial", "-days", "2", "-extfile",
	    ext, "-out", cert, NULL);
	free(key);
	free(line);
	free(log);
	free(ext);
	free(csr);
	free(ca_key);
	return cert;
}

static char *
self_signed(const struct tls_fixture *f, char **key)
{
	char *log = tl_path(f->dir, "openssl.log");
	char *cert = tl_path(f->dir, "self.pem");

	*key = tl_path(f->dir, "self.key");
	run_openssl(log, "req", "-x509", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", *key, "-out",
	    cert, "-days", "2", "-subj", "/CN=twinbox self-signed", "-addext",
	    "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL);
	free(log);
	return cert;
}

/* "sha256 Fingerprint=AB:..." -> "AB:..." */
static char *
fingerprint_of(const struct tls_fixture *f, const char *cert)
{
	char *log = tl_path(f->dir, "fingerprint.txt");
	char *out, *eq, *fp;

	run_openssl(log, "x509", "-noout", "-fingerprint", "-sha256", "-in",
	    cert, NULL);
	out = tl_read_file(log, NULL);
	eq = strchr(out, '=');
	ck_assert_msg(eq != NULL, "no fingerprint in: %s", out);
	fp = strndup(eq + 1, strcspn(eq + 1, "\r\n"));
	free(out);
	free(log);
	return fp;
}

void
tlsf_create(struct tls_fixture *f)
{
	char *log, *ca_key;

	memset(f, 0, sizeof *f);
	f->dir = tl_mkdtemp("tls");
	log = tl_path(f->dir, "openssl.log");
	ca_key = tl_path(f->dir, "ca.key");
	f->ca_cert = tl_path(f->dir, "ca.pem");
	run_openssl(log, "req", "-x509", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
	    "-out", f->ca_cert, "-days", "2", "-subj", "/CN=twinbox test CA",
	    NULL);
	f->good_cert = sign_cert(f, "good", "IP:127.0.0.1,DNS:localhost");
	f->good_key = tl_path(f->dir, "good.key");
	f->good_sha256 = fingerprint_of(f, f->good_cert);
	f->wrong_cert = sign_cert(f, "wrong", "DNS:wrong.example");
	f->wrong_key = tl_path(f->dir, "wrong.key");
	f->self_cert = self_signed(f, &f->self_key);
	free(log);
	free(ca_key);
}

void
tlsf_destroy(struct tls_fixture *f)
{
	if (f->dir != NULL)
		tl_rmtree(f->dir);
	free(f->dir);
	free(f->ca_cert);
	free(f->good_cert);
	free(f->good_key);
	free(f->good_sha256);
	free(f->wrong_cert);
	free(f->wrong_key);
	free(f->self_cert);
	free(f->self_key);
	memset(f, 0, sizeof *f);
}

SSL_CTX *
tlsf_server_ctx(const char *cert, const char *key, int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    (max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, max_version) != 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
