/*
 * Tests of the IMAP transport: plain TCP, TLS (IMAPS and STARTTLS) with
 * certificate checks, Tunnel commands and DEFLATE, against servers run in
 * forked children on 127.0.0.1 (port chosen by the kernel) or over
 * socketpairs. Every child is bounded by alarm() and reaped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/x509_vfy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "compat.h"
#include "util/buf.h"
#include "imap/transport.h"
#include "support/testlib.h"
#include "support/tls_fixture.h"

/* Certificates shared by every test, made once by an unchecked fixture. */
static struct tls_fixture fx;

static void
fixture_setup(void)
{
	tlsf_create(&fx);
}

static void
fixture_teardown(void)
{
	tlsf_destroy(&fx);
}

/* ---- test servers -------------------------------------------------- */

typedef void (*serve_fn)(int conn, const void *arg);

struct server {
	pid_t pid;
	char port[16];
};

/* A socket on 127.0.0.1, port chosen by the kernel; listening with the
 * given backlog unless it is negative. */
static int
listen_loopback(char port[16], int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = tw_socket(AF_INET, SOCK_STREAM, 0, O_CLOEXEC);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
	    "bind: %s", strerror(errno));
	if (backlog >= 0)
		ck_assert_msg(listen(fd, backlog) == 0, "listen: %s",
		    strerror(errno));
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, 16, "%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

/* Fork a child that accepts one connection and runs fn on it. */
static void
server_start(struct server *s, serve_fn fn, const void *arg)
{
	int lfd = listen_loopback(s->port, 4);

	s->pid = fork();
	ck_assert_msg(s->pid >= 0, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		int c;

		alarm(20);
		signal(SIGPIPE, SIG_IGN);
		c = accept(lfd, NULL, NULL);
		if (c >= 0)
			fn(c, arg);
		_exit(0);
	}
	close(lfd);
}

/* Reap the server; its wait status. */
static int
server_finish(struct server *s)
{
	int status = 0;

	ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
	return status;
}

static void
write_all_fd(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

static void
serve_echo(int c, const void *arg)
{
	char b[4096];
	ssize_t n;

	(void)arg;
	while ((n = read(c, b, sizeof b)) > 0)
		write_all_fd(c, b, (size_t)n);
	close(c);
}

static void
serve_say_and_close(int c, const void *arg)
{
	write_all_fd(c, arg, strlen(arg));
	close(c);
}

/* What a TLS test server does after its handshake. */
struct tls_server {
	const char *cert;
	const char *key;
	int max_version;
	const char *say_and_close;	/* NULL: echo until the client ends */
	int starttls;			/* plain greeting and STARTTLS first */
};

static void
tls_echo(SSL *ssl)
{
	char b[4096];
	int n;

	while ((n = SSL_read(ssl, b, sizeof b)) > 0)
		if (SSL_write(ssl, b, n) != n)
			return;
	SSL_shutdown(ssl);
}

/* The plain-text prelude of STARTTLS, as an IMAP server would do it. */
static void
plain_starttls(int c)
{
	char line[256];
	size_t len = 0;

	write_all_fd(c, "* OK plain\r\n", 12);
	while (len < sizeof line - 1 && (len < 2 ||
	    memcmp(line + len - 2, "\r\n", 2) != 0)) {
		if (read(c, line + len, 1) != 1)
			_exit(4);
		len++;
	}
	write_all_fd(c, "a OK begin TLS\r\n", 16);
}

static void
serve_tls(int c, const void *arg)
{
	const struct tls_server *ts = arg;
	SSL_CTX *ctx = tlsf_server_ctx(ts->cert, ts->key, ts->max_version);
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;

	if (ssl == NULL)
		_exit(5);
	if (ts->starttls)
		plain_starttls(c);
	SSL_set_fd(ssl, c);
	if (SSL_accept(ssl) == 1) {
		if (ts->say_and_close != NULL)
			SSL_write(ssl, ts->say_and_close,
			    (int)strlen(ts->say_and_close));
		else
			tls_echo(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(c);
}

/* ---- client helpers ------------------------------------------------ */

static void
client_opts(struct transport_options *o, const char *host, const char *port,
    enum tls_mode tls)
{
	transport_options_init(o);
	o->host = host;
	o->port = port;
	o->timeout = 10;
	o->tls = tls;
	o->system_certs = 0;
	o->ca_file = fx.ca_cert;
}

static struct transport *
open_ok(const struct transport_options *o)
{
	struct buf err = BUF_INIT;
	struct transport *t = transport_open(o, &err);

	ck_assert_msg(t != NULL, "transport_open: %s", buf_cstr(&err));
	buf_free(&err);
	return t;
}

/* The error of an open that must fail. */
static char *
open_fails(const struct transport_options *o)
{
	struct buf err = BUF_INIT;
	struct transport *t = transport_open(o, &err);

	ck_assert_msg(t == NULL, "transport_open succeeded unexpectedly");
	return buf_detach(&err);
}

/* Read exactly len bytes (a test knows how much to expect). */
static char *
read_exactly(struct transport *t, size_t len)
{
	struct buf err = BUF_INIT;
	char *data = xmalloc(len + 1);
	size_t got = 0, n;

	while (got < len) {
		int r = transport_read(t, data + got, len - got, &n, &err);

		ck_assert_msg(r == 0, "transport_read: %s", buf_cstr(&err));
		ck_assert_uint_gt(n, 0);
		got += n;
	}
	data[len] = '\0';
	buf_free(&err);
	return data;
}

/* The error of a read that must fail. */
static char *
read_fails(struct transport *t)
{
	struct buf err = BUF_INIT;
	char b[256];
	size_t n;

	ck_assert_msg(transport_read(t, b, sizeof b, &n, &err) < 0,
	    "transport_read succeeded unexpectedly");
	return buf_detach(&err);
}

static void
write_ok(struct transport *t, const char *s)
{
	struct buf err = BUF_INIT;

	ck_assert_msg(transport_write(t, s, strlen(s), &err) == 0,
	    "transport_write: %s", buf_cstr(&err));
	buf_free(&err);
}

static void
assert_echo(struct transport *t, const char *s)
{
	char *back;

	write_ok(t, s);
	back = read_exactly(t, strlen(s));
	ck_assert_str_eq(back, s);
	free(back);
}

static void
assert_error(const char *got, const char *fmt, const char *port)
{
	struct buf want = BUF_INIT;

	buf_setf(&want, fmt, port);
	ck_assert_str_eq(got, want.data);
	buf_free(&want);
}

/*
 * A certificate verification failure: its reason as the library words it
 * (OpenSSL 3 says "self-signed certificate", 1.1.1 and LibreSSL "self
 * signed certificate"), between the words of twinbox.
 */
static void
assert_verify_error(const char *got, const char *where, const char *port,
    long code, const char *advice)
{
	struct buf want = BUF_INIT;

	buf_setf(&want, "TLS handshake with %s port %s: certificate verify "
	    "failed: %s%s", where, port, X509_verify_cert_error_string(code),
	    advice);
	ck_assert_str_eq(got, want.data);
	buf_free(&want);
}

/* ---- plain TCP ----------------------------------------------------- */

START_TEST(test_plain_echo)
{
	struct transport_options o;
	struct transport *t;
	struct server s;
	struct buf big = BUF_INIT;
	char peer[64];

	server_start(&s, serve_echo, NULL);
	client_opts(&o, "127.0.0.1", s.port, TLS_NONE);
	t = open_ok(&o);
	snprintf(peer, sizeof peer, "127.0.0.1 port %s", s.port);
	ck_assert_str_eq(transport_peer(t), peer);
	ck_assert_int_ge(transport_fd(t), 0);
	ck_assert_int_eq(transport_is_tls(t), 0);
	assert_echo(t, "a001 NOOP\r\n");
	for (int i = 0; i < 2000; i++)
		buf_addf(&big, "line %d of a longer message\r\n", i);
	assert_echo(t, big.data);
	transport_close(t);
	ck_assert_int_eq(transport_fd(t), -1);
	transport_close(t);
	transport_free(t);
	ck_assert_int_eq(server_finish(&s), 0);
	buf_free(&big);
}
END_TEST

START_TEST(test_port_number_option)
{
	struct transport_options o;
	struct transport *t;
	struct server s;

	server_start(&s, serve_echo, NULL);
	client_opts(&o, "127.0.0.1", NULL, TLS_NONE);
	o.port_number = (unsigned)atoi(s.port);
	t = open_ok(&o);
	assert_echo(t, "a NOOP\r\n");
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct transport_options o;
	char port[16], *err;
	/* Bound but not listening: the kernel refuses, and the port stays
	 * ours for the duration of the test. */
	int fd = listen_loopback(port, -1);

	client_opts(&o, "127.0.0.1", port, TLS_NONE);
	err = open_fails(&o);
	assert_error(err, "connect to 127.0.0.1 port %s: Connection refused",
	    port);
	free(err);
	close(fd);
}
END_TEST

START_TEST(test_no_host)
{
	struct transport_options o;
	char *err;

	client_opts(&o, NULL, "143", TLS_NONE);
	err = open_fails(&o);
	ck_assert_str_eq(err, "no host to connect to (set Host or Tunnel)");
	free(err);
}
END_TEST

START_TEST(test_silent_server_times_out)
{
	struct transport_options o;
	struct transport *t;
	char port[16], *err;
	/* Listening but never accepting: the connection completes in the
	 * kernel, and nothing is ever said. */
	int fd = listen_loopback(port, 4);

	client_opts(&o, "127.0.0.1", port, TLS_NONE);
	o.timeout = 1;
	t = open_ok(&o);
	err = read_fails(t);
	assert_error(err, "read from 127.0.0.1 port %s: timed out after "
	    "1 second", port);
	ck_assert_int_eq(transport_at_eof(t), 0);
	free(err);
	transport_free(t);
	close(fd);
}
END_TEST

/* Linux completes no more handshakes than the backlog allows: with a
 * backlog of 0, one waiting connection fills it and the next SYN goes
 * unanswered. */
START_TEST(test_connect_times_out)
{
	struct transport_options o;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char port[16], *err;
	int fd = listen_loopback(port, 0);
	int filler = tw_socket(AF_INET, SOCK_STREAM, 0, O_CLOEXEC);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(port));
	ck_assert_msg(connect(filler, (struct sockaddr *)&sa, sizeof sa) == 0,
	    "connect: %s", strerror(errno));
	client_opts(&o, "127.0.0.1", port, TLS_NONE);
	o.timeout = 1;
	err = open_fails(&o);
	assert_error(err, "connect to 127.0.0.1 port %s: timed out after "
	    "1 second", port);
	free(err);
	close(filler);
	close(fd);
}
END_TEST

START_TEST(test_peer_closes_mid_stream)
{
	struct transport_options o;
	struct transport *t;
	struct server s;
	char *got, *err;

	server_start(&s, serve_say_and_close, "* OK partial");
	client_opts(&o, "127.0.0.1", s.port, TLS_NONE);
	t = open_ok(&o);
	got = read_exactly(t, 12);
	ck_assert_str_eq(got, "* OK partial");
	err = read_fails(t);
	assert_error(err, "connection closed by 127.0.0.1 port %s", s.port);
	ck_assert_int_eq(transport_at_eof(t), 1);
	free(got);
	free(err);
	transport_free(t);
	server_finish(&s);
}
END_TEST

/* Write until the peer's departure shows; the failure must be EPIPE or a
 * reset, not death by SIGPIPE. */
static void
assert_write_fails_cleanly(struct transport *t, const char *port)
{
	struct buf err = BUF_INIT, prefix = BUF_INIT;
	int r = 0;

	for (int i = 0; i < 1000 && r == 0; i++)
		r = transport_write(t, "a NOOP\r\n", 8, &err);
	ck_assert_int_eq(r, -1);
	buf_setf(&prefix, "write to 127.0.0.1 port %s: ", port);
	ck_assert_msg(strncmp(err.data, prefix.data, prefix.len) == 0, "%s",
	    err.data);
	ck_assert_msg(strcmp(err.data + prefix.len, "Broken pipe") == 0 ||
	    strcmp(err.data + prefix.len, "Connection reset by peer") == 0,
	    "%s", err.data);
	buf_free(&err);
	buf_free(&prefix);
}

START_TEST(test_write_to_closed_peer)
{
	struct transport_options o;
	struct transport *t;
	struct server s;
	char *got;

	server_start(&s, serve_say_and_close, "* BYE");
	client_opts(&o, "127.0.0.1", s.port, TLS_NONE);
	t = open_ok(&o);
	got = read_exactly(t, 5);
	server_finish(&s);
	assert_write_fails_cleanly(t, s.port);
	free(got);
	transport_free(t);
}
END_TEST

START_TEST(test_closed_transport_refuses_io)
{
	struct transport_options o;
	struct transport *t;
	struct server s;
	struct buf err = BUF_INIT;
	char *rerr;

	server_start(&s, serve_echo, NULL);
	client_opts(&o, "127.0.0.1", s.port, TLS_NONE);
	t = open_ok(&o);
	transport_close(t);
	rerr = read_fails(t);
	assert_error(rerr, "connection to 127.0.0.1 port %s is closed",
	    s.port);
	ck_assert_int_eq(transport_write(t, "x", 1, &err), -1);
	ck_assert_str_eq(err.data, rerr);
	free(rerr);
	buf_free(&err);
	transport_free(t);
	server_finish(&s);
}
END_TEST

/* ---- TLS ----------------------------------------------------------- */

START_TEST(test_imaps_echo_with_ca_file)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct transport *t;
	struct server s;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	t = open_ok(&o);
	ck_assert_int_eq(transport_is_tls(t), 1);
	assert_echo(t, "a001 CAPABILITY\r\n");
	assert_echo(t, "a002 LOGOUT\r\n");
	transport_free(t);
	ck_assert_int_eq(server_finish(&s), 0);
}
END_TEST

/* "localhost" may resolve to ::1 first, where nobody listens: the next
 * address is tried, and the certificate's DNS name is checked. */
START_TEST(test_imaps_by_host_name)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct transport *t;
	struct server s;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "localhost", s.port, TLS_IMAPS);
	t = open_ok(&o);
	assert_echo(t, "a NOOP\r\n");
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_untrusted_ca)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct server s;
	char *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.ca_file = NULL;
	o.system_certs = 1;
	err = open_fails(&o);
	assert_verify_error(err, "127.0.0.1", s.port,
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "; if you trust "
	    "this server's certificate, name it or the CA that issued it in "
	    "CertificateFile");
	free(err);
	server_finish(&s);
}
END_TEST

START_TEST(test_self_signed_refused)
{
	struct tls_server ts = { .cert = fx.self_cert, .key = fx.self_key };
	struct transport_options o;
	struct server s;
	char *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	err = open_fails(&o);
	assert_verify_error(err, "127.0.0.1", s.port,
	    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "; if you trust this "
	    "server's certificate, name it or the CA that issued it in "
	    "CertificateFile");
	free(err);
	server_finish(&s);
}
END_TEST

/* The advice works: naming the self-signed certificate trusts it. */
START_TEST(test_self_signed_in_certificate_file)
{
	struct tls_server ts = { .cert = fx.self_cert, .key = fx.self_key };
	struct transport_options o;
	struct transport *t;
	struct server s;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.ca_file = fx.self_cert;
	t = open_ok(&o);
	assert_echo(t, "a NOOP\r\n");
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_hostname_mismatch)
{
	struct tls_server ts = { .cert = fx.wrong_cert, .key = fx.wrong_key };
	struct transport_options o;
	struct server s;
	char *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "localhost", s.port, TLS_IMAPS);
	err = open_fails(&o);
	assert_verify_error(err, "localhost", s.port,
	    X509_V_ERR_HOSTNAME_MISMATCH, " (the certificate is for "
	    "DNS:wrong.example); connect with a name the certificate is "
	    "issued for");
	free(err);
	server_finish(&s);
}
END_TEST

START_TEST(test_ip_address_mismatch)
{
	struct tls_server ts = { .cert = fx.wrong_cert, .key = fx.wrong_key };
	struct transport_options o;
	struct server s;
	char *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	err = open_fails(&o);
	assert_verify_error(err, "127.0.0.1", s.port,
	    X509_V_ERR_IP_ADDRESS_MISMATCH, " (the certificate is for "
	    "DNS:wrong.example); connect with a name the certificate is "
	    "issued for");
	free(err);
	server_finish(&s);
}
END_TEST

START_TEST(test_fingerprint_pin_accepted)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct transport *t;
	struct server s;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.fingerprint = fx.good_sha256;
	t = open_ok(&o);
	assert_echo(t, "a NOOP\r\n");
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_fingerprint_pin_rejected)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct server s;
	struct buf want = BUF_INIT;
	char *wrong = xstrdup(fx.good_sha256), *err;
	size_t last = strlen(wrong) - 1;

	wrong[last] = wrong[last] == '0' ? '1' : '0';
	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.fingerprint = wrong;
	err = open_fails(&o);
	buf_setf(&want, "TLS handshake with 127.0.0.1 port %s: certificate "
	    "fingerprint mismatch: the server's certificate has SHA-256 "
	    "fingerprint %s, not the configured %s", s.port, fx.good_sha256,
	    wrong);
	ck_assert_str_eq(err, want.data);
	free(err);
	free(wrong);
	buf_free(&want);
	server_finish(&s);
}
END_TEST

START_TEST(test_bad_fingerprint_refused_before_connecting)
{
	struct transport_options o;
	char *err;

	/* Port 1 is never contacted: the option is checked first. */
	client_opts(&o, "127.0.0.1", "1", TLS_IMAPS);
	o.fingerprint = "12:34";
	err = open_fails(&o);
	ck_assert_str_eq(err, "certificate fingerprint '12:34' is not a "
	    "SHA-256 fingerprint (64 hexadecimal digits)");
	free(err);
}
END_TEST

START_TEST(test_starttls_upgrade)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key,
	    .starttls = 1 };
	struct transport_options o;
	struct transport *t;
	struct server s;
	struct buf err = BUF_INIT;
	char *line;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_STARTTLS);
	t = open_ok(&o);
	ck_assert_int_eq(transport_is_tls(t), 0);
	line = read_exactly(t, 12);
	ck_assert_str_eq(line, "* OK plain\r\n");
	free(line);
	write_ok(t, "a STARTTLS\r\n");
	line = read_exactly(t, 16);
	ck_assert_str_eq(line, "a OK begin TLS\r\n");
	free(line);
	ck_assert_msg(transport_start_tls(t, &err) == 0, "%s", err.data);
	ck_assert_int_eq(transport_is_tls(t), 1);
	assert_echo(t, "b CAPABILITY\r\n");
	ck_assert_int_eq(transport_start_tls(t, &err), -1);
	assert_error(err.data, "cannot start TLS with 127.0.0.1 port %s: TLS "
	    "is already active", s.port);
	buf_free(&err);
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_tls_peer_closes_mid_stream)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key,
	    .say_and_close = "* OK partial" };
	struct transport_options o;
	struct transport *t;
	struct server s;
	char *got, *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	t = open_ok(&o);
	got = read_exactly(t, 12);
	ck_assert_str_eq(got, "* OK partial");
	err = read_fails(t);
	assert_error(err, "connection closed by 127.0.0.1 port %s", s.port);
	free(got);
	free(err);
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_tls_write_to_closed_peer)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key,
	    .say_and_close = "* BYE" };
	struct transport_options o;
	struct transport *t;
	struct server s;
	char *got;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	t = open_ok(&o);
	got = read_exactly(t, 5);
	server_finish(&s);
	assert_write_fails_cleanly(t, s.port);
	free(got);
	transport_free(t);
}
END_TEST

START_TEST(test_tls_version_refused)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key,
	    .max_version = TLS1_2_VERSION };
	struct transport_options o;
	struct server s;
	char *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.tls_versions = TLS_V1_3;
	err = open_fails(&o);
	assert_error(err, "TLS handshake with 127.0.0.1 port %s: TLS error: "
	    "tlsv1 alert protocol version (the server and TLSVersions have no "
	    "TLS version in common)", s.port);
	free(err);
	server_finish(&s);
}
END_TEST

/* CipherString reaches OpenSSL: a list that matches nothing is refused
 * with the option named; a usable one connects (TLS 1.2, where the list
 * applies). */
START_TEST(test_cipher_string)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key,
	    .max_version = TLS1_2_VERSION };
	struct transport_options o;
	struct transport *t;
	struct server s;
	char *err, *got;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.ciphers = "NO-SUCH-CIPHER";
	err = open_fails(&o);
	ck_assert_msg(strstr(err, "CipherString 'NO-SUCH-CIPHER': ") != NULL,
	    "%s", err);
	free(err);
	server_finish(&s);

	ts.say_and_close = "hello";
	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.ciphers = "ECDHE+AESGCM";
	t = open_ok(&o);
	got = read_exactly(t, 5);
	ck_assert_str_eq(got, "hello");
	free(got);
	transport_free(t);
	server_finish(&s);
}
END_TEST

START_TEST(test_missing_ca_file)
{
	struct tls_server ts = { .cert = fx.good_cert, .key = fx.good_key };
	struct transport_options o;
	struct server s;
	struct buf want = BUF_INIT;
	char *path = tl_path(fx.dir, "missing.pem"), *err;

	server_start(&s, serve_tls, &ts);
	client_opts(&o, "127.0.0.1", s.port, TLS_IMAPS);
	o.ca_file = path;
	err = open_fails(&o);
	buf_setf(&want, "TLS handshake with 127.0.0.1 port %s: "
	    "CertificateFile %s: No such file or directory", s.port, path);
	ck_assert_str_eq(err, want.data);
	free(err);
	free(path);
	buf_free(&want);
	server_finish(&s);
}
END_TEST

START_TEST(test_parse_tls_versions)
{
	struct buf err = BUF_INIT;
	unsigned m = 0;

	ck_assert_int_eq(tls_parse_versions("+1.1", &m, &err), 0);
	ck_assert_uint_eq(m, TLS_V1_1 | TLS_V1_2 | TLS_V1_3);
	ck_assert_int_eq(tls_parse_versions("-1.2", &m, &err), 0);
	ck_assert_uint_eq(m, TLS_V1_3);
	ck_assert_int_eq(tls_parse_versions("1.3", &m, &err), 0);
	ck_assert_uint_eq(m, TLS_V1_3);
	ck_assert_int_eq(tls_parse_versions(" TLSv1.2  TLSv1.3 ", &m, &err),
	    0);
	ck_assert_uint_eq(m, TLS_V_DEFAULT);
	ck_assert_int_eq(tls_parse_versions("+1.2 +1.3", &m, &err), 0);
	ck_assert_uint_eq(m, TLS_V_DEFAULT);
	ck_assert_int_eq(tls_parse_versions("1.0 1.4", &m, &err), -1);
	ck_assert_str_eq(err.data, "TLSVersions: unknown TLS version '1.4' "
	    "(expected 1.0, 1.1, 1.2 or 1.3)");
	ck_assert_int_eq(tls_parse_versions("-1.2 -1.3", &m, &err), -1);
	ck_assert_str_eq(err.data, "TLSVersions '-1.2 -1.3' allows no TLS "
	    "version");
	ck_assert_int_eq(tls_parse_versions("", &m, &err), -1);
	buf_free(&err);
}
END_TEST

START_TEST(test_parse_fingerprint)
{
	struct buf err = BUF_INIT;
	unsigned char fp[TLS_FINGERPRINT_LEN];
	const char *hex = "00112233445566778899aabbccddeeff"
	    "0123456789ABCDEF0123456789abcdef";

	ck_assert_int_eq(tls_parse_fingerprint(hex, fp, &err), 0);
	ck_assert_uint_eq(fp[0], 0x00);
	ck_assert_uint_eq(fp[5], 0x55);
	ck_assert_uint_eq(fp[15], 0xff);
	ck_assert_uint_eq(fp[31], 0xef);
	ck_assert_int_eq(tls_parse_fingerprint(fx.good_sha256, fp, &err), 0);
	ck_assert_int_eq(tls_parse_fingerprint("zz", fp, &err), -1);
	ck_assert_int_eq(tls_parse_fingerprint("00112233445566778899aabbccdd"
	    "eeff0123456789ABCDEF0123456789abcdef00", fp, &err), -1);
	buf_free(&err);
}
END_TEST

/* ---- Tunnel -------------------------------------------------------- */

static struct transport *
open_tunnel(const char *cmd)
{
	struct transport_options o;

	transport_options_init(&o);
	o.tunnel = cmd;
	o.timeout = 10;
	return open_ok(&o);
}

/* Every child of this test process has been reaped. */
static void
assert_no_children(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

START_TEST(test_tunnel_cat)
{
	struct transport *t = open_tunnel("cat");

	ck_assert_str_eq(transport_peer(t), "tunnel 'cat'");
	assert_echo(t, "a001 NOOP\r\n");
	assert_echo(t, "a002 LOGOUT\r\n");
	transport_free(t);
	assert_no_children();
}
END_TEST

START_TEST(test_tunnel_greeting_then_exit)
{
	struct transport *t = open_tunnel("echo '* OK tunnel'");
	char *got = read_exactly(t, 12), *err;

	ck_assert_str_eq(got, "* OK tunnel\n");
	err = read_fails(t);
	ck_assert_str_eq(err, "connection closed by tunnel "
	    "'echo '* OK tunnel'' (exit status 0)");
	ck_assert_int_eq(transport_at_eof(t), 1);
	free(got);
	free(err);
	transport_free(t);
	assert_no_children();
}
END_TEST

START_TEST(test_tunnel_fails)
{
	struct transport *t = open_tunnel("exit 3");
	char *err = read_fails(t);

	ck_assert_str_eq(err, "connection closed by tunnel 'exit 3' "
	    "(exit status 3)");
	free(err);
	transport_free(t);
	assert_no_children();
}
END_TEST

START_TEST(test_tunnel_command_not_found)
{
	const char *cmd = "exec 2>/dev/null; no-such-command-for-twinbox";
	struct transport *t = open_tunnel(cmd);
	char *err = read_fails(t);
	struct buf want = BUF_INIT;

	buf_setf(&want, "connection closed by tunnel '%s' (command not "
	    "found, exit status 127)", cmd);
	ck_assert_str_eq(err, want.data);
	free(err);
	buf_free(&want);
	transport_free(t);
	assert_no_children();
}
END_TEST

START_TEST(test_tunnel_killed)
{
	struct transport *t = open_tunnel("kill -9 $$");
	char *err = read_fails(t);

	ck_assert_str_eq(err, "connection closed by tunnel 'kill -9 $$' "
	    "(killed by signal 9)");
	free(err);
	transport_free(t);
	assert_no_children();
}
END_TEST

START_TEST(test_tunnel_write_after_exit)
{
	struct transport *t = open_tunnel("exit 0");
	struct buf err = BUF_INIT;
	int r = 0;

	for (int i = 0; i < 100000 && r == 0; i++)
		r = transport_write(t, "a NOOP\r\n", 8, &err);
	ck_assert_int_eq(r, -1);
	ck_assert_str_eq(err.data, "write to tunnel 'exit 0': Broken pipe "
	    "(exit status 0)");
	buf_free(&err);
	transport_free(t);
	assert_no_children();
}
END_TEST

/* A command that ignores the end of its input is stopped on close. */
START_TEST(test_tunnel_stubborn_child_reaped)
{
	struct transport *t = open_tunnel("exec sleep 60");

	transport_free(t);
	assert_no_children();
}
END_TEST

/* ---- DEFLATE ------------------------------------------------------- */

static void
make_pair(int sv[2])
{
	ck_assert_msg(tw_socketpair(AF_UNIX, SOCK_STREAM, 0, sv, O_CLOEXEC) ==
	    0, "socketpair: %s", strerror(errno));
}

static void
deflate_echo_child(int fd)
{
	struct transport *t = transport_from_fd(fd, "parent", 10);
	struct buf err = BUF_INIT;
	char b[8192];
	size_t n;

	alarm(20);
	if (transport_start_deflate(t, &err) < 0)
		_exit(2);
	while (transport_read(t, b, sizeof b, &n, &err) == 0)
		if (transport_write(t, b, n, &err) < 0)
			_exit(3);
	_exit(transport_at_eof(t) ? 0 : 4);
}

/* Text that compresses, but not to nothing. */
static void
sample_text(struct buf *b, size_t len)
{
	unsigned x = 12345;

	while (b->len < len) {
		x = x * 1103515245u + 12345u;
		buf_addf(b, "%u %s\r\n", x >> 8, (x & 256) ? "Subject" : "To");
	}
	buf_truncate(b, len);
}

START_TEST(test_deflate_echo)
{
	static const size_t sizes[] = { 1, 17, 1000, 8192, 65536, 200000 };
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct transport *t;
	int sv[2], status;
	pid_t pid;

	make_pair(sv);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		deflate_echo_child(sv[1]);
	}
	close(sv[1]);
	t = transport_from_fd(sv[0], "deflate peer", 10);
	ck_assert_int_eq(transport_start_deflate(t, &err), 0);
	ck_assert_int_eq(transport_is_compressed(t), 1);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		buf_reset(&text);
		sample_text(&text, sizes[i]);
		assert_echo(t, text.data);
	}
	ck_assert_int_eq(transport_pending(t), 0);
	transport_free(t);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "deflate echo child: status %d", status);
	buf_free(&err);
	buf_free(&text);
}
END_TEST

/* zlib in raw mode (windowBits -15), independently of the transport. */
static size_t
raw_deflate(const char *in, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (unsigned)strlen(in);
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	ck_assert_int_eq(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t
raw_inflate(const unsigned char *in, size_t len, char *out, size_t cap)
{
	z_stream z = { 0 };

	ck_assert_int_eq(inflateInit2(&z, -15), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (unsigned)len;
	z.next_out = (unsigned char *)out;
	z.avail_out = (unsigned)cap;
	ck_assert_int_eq(inflate(&z, Z_SYNC_FLUSH), Z_OK);
	ck_assert_uint_eq(z.avail_in, 0);
	inflateEnd(&z);
	return cap - z.avail_out;
}

START_TEST(test_deflate_wire_format)
{
	struct buf err = BUF_INIT;
	struct transport *t;
	unsigned char wire[512];
	char plain[512], *got;
	size_t len;
	ssize_t n;
	int sv[2];

	make_pair(sv);
	t = transport_from_fd(sv[0], "deflate peer", 10);
	ck_assert_int_eq(transport_start_deflate(t, &err), 0);
	len = raw_deflate("* OK compressed\r\n", wire, sizeof wire);
	ck_assert_int_eq(write(sv[1], wire, len), (ssize_t)len);
	got = read_exactly(t, 17);
	ck_assert_str_eq(got, "* OK compressed\r\n");
	write_ok(t, "a NOOP\r\n");
	n = read(sv[1], wire, sizeof wire);
	ck_assert_int_gt(n, 4);
	/* Each write ends with a sync flush: an empty stored block. */
	ck_assert_int_eq(memcmp(wire + n - 4, "\0\0\377\377", 4), 0);
	len = raw_inflate(wire, (size_t)n, plain, sizeof plain);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(plain, "a NOOP\r\n", 8), 0);
	free(got);
	buf_free(&err);
	transport_free(t);
	close(sv[1]);
}
END_TEST

START_TEST(test_deflate_corrupt_input)
{
	struct buf err = BUF_INIT;
	struct transport *t;
	char *rerr;
	int sv[2];

	make_pair(sv);
	t = transport_from_fd(sv[0], "deflate peer", 10);
	ck_assert_int_eq(transport_start_deflate(t, &err), 0);
	ck_assert_int_eq(write(sv[1], "\377\377\377\377", 4), 4);
	rerr = read_fails(t);
	ck_assert_str_eq(rerr, "read from deflate peer: invalid compressed "
	    "data: invalid block type");
	free(rerr);
	buf_free(&err);
	transport_free(t);
	close(sv[1]);
}
END_TEST

START_TEST(test_layer_order_enforced)
{
	struct buf err = BUF_INIT;
	struct transport *t;
	int sv[2];

	make_pair(sv);
	t = transport_from_fd(sv[0], "peer", 10);
	ck_assert_int_eq(transport_start_deflate(t, &err), 0);
	ck_assert_int_eq(transport_start_deflate(t, &err), -1);
	ck_assert_str_eq(err.data, "compression with peer is already active");
	ck_assert_int_eq(transport_start_tls(t, &err), -1);
	ck_assert_str_eq(err.data, "cannot start TLS with peer: compression "
	    "is already active");
	buf_free(&err);
	transport_free(t);
	close(sv[1]);
}
END_TEST

static Suite *
transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tcp = tcase_create("tcp");
	TCase *tls = tcase_create("tls");
	TCase *tun = tcase_create("tunnel");
	TCase *z = tcase_create("deflate");

	tcase_add_test(tcp, test_plain_echo);
	tcase_add_test(tcp, test_port_number_option);
	tcase_add_test(tcp, test_connection_refused);
	tcase_add_test(tcp, test_no_host);
	tcase_add_test(tcp, test_silent_server_times_out);
	tcase_add_test(tcp, test_connect_times_out);
	tcase_add_test(tcp, test_peer_closes_mid_stream);
	tcase_add_test(tcp, test_write_to_closed_peer);
	tcase_add_test(tcp, test_closed_transport_refuses_io);
	tcase_add_unchecked_fixture(tls, fixture_setup, fixture_teardown);
	tcase_add_test(tls, test_imaps_echo_with_ca_file);
	tcase_add_test(tls, test_imaps_by_host_name);
	tcase_add_test(tls, test_untrusted_ca);
	tcase_add_test(tls, test_self_signed_refused);
	tcase_add_test(tls, test_self_signed_in_certificate_file);
	tcase_add_test(tls, test_hostname_mismatch);
	tcase_add_test(tls, test_ip_address_mismatch);
	tcase_add_test(tls, test_fingerprint_pin_accepted);
	tcase_add_test(tls, test_fingerprint_pin_rejected);
	tcase_add_test(tls, test_bad_fingerprint_refused_before_connecting);
	tcase_add_test(tls, test_starttls_upgrade);
	tcase_add_test(tls, test_tls_peer_closes_mid_stream);
	tcase_add_test(tls, test_tls_write_to_closed_peer);
	tcase_add_test(tls, test_tls_version_refused);
	tcase_add_test(tls, test_missing_ca_file);
	tcase_add_test(tls, test_cipher_string);
	tcase_add_test(tls, test_parse_tls_versions);
	tcase_add_test(tls, test_parse_fingerprint);
	tcase_add_test(tun, test_tunnel_cat);
	tcase_add_test(tun, test_tunnel_greeting_then_exit);
	tcase_add_test(tun, test_tunnel_fails);
	tcase_add_test(tun, test_tunnel_command_not_found);
	tcase_add_test(tun, test_tunnel_killed);
	tcase_add_test(tun, test_tunnel_write_after_exit);
	tcase_add_test(tun, test_tunnel_stubborn_child_reaped);
	tcase_add_test(z, test_deflate_echo);
	tcase_add_test(z, test_deflate_wire_format);
	tcase_add_test(z, test_deflate_corrupt_input);
	tcase_add_test(z, test_layer_order_enforced);
	suite_add_tcase(s, tcp);
	suite_add_tcase(s, tls);
	suite_add_tcase(s, tun);
	suite_add_tcase(s, z);
	/* Generous bounds for valgrind; every wait in the tests is bounded
	 * far below this. */
	tcase_set_timeout(tcp, 60);
	tcase_set_timeout(tls, 60);
	tcase_set_timeout(tun, 60);
	tcase_set_timeout(z, 60);
	return s;
}

int
main(void)
{
	return run_suite(transport_suite());
}
