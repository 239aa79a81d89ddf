/* tls_bio: a socket BIO that never raises SIGPIPE; see tls_bio.h. */
#include "imap/tls_bio.h"

#include <errno.h>
#include <sys/socket.h>

#include "compat.h"

static int
bio_sock_write(BIO *b, const char *data, int len)
{
	int fd = *(int *)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	do
		r = tw_send(fd, data, (size_t)len);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)r;
}

static int
bio_sock_read(BIO *b, char *data, int cap)
{
	int fd = *(int *)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	do
		r = recv(fd, data, (size_t)cap, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	return (int)r;
}

static long
bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD *
tls_bio_socket_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "twinbox socket");

	if (m == NULL)
		return NULL;
	if (!BIO_meth_set_write(m, bio_sock_write) ||
	    !BIO_meth_set_read(m, bio_sock_read) ||
	    !BIO_meth_set_ctrl(m, bio_sock_ctrl)) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}
