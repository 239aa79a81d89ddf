/*
 * compat: the one seam between twinbox and what is not plain POSIX.
 *
 * Every call that exists only on Linux (or only in OpenSSL 3) goes through
 * here; the rest of the code calls the tw_* functions below and never the
 * Linux calls themselves. Each function has a POSIX fallback, used where
 * the platform lacks the call, and everywhere when the build defines
 * TW_COMPAT_PORTABLE (make COMPAT=portable), so that Linux tests the
 * fallbacks too. TW_COMPAT_PORTABLE is read by this file, compat.c and
 * compat_ssl.c only: other code asks the tw_*_is_* functions below when a
 * guarantee differs between the two, and TW_COMPAT_INOTIFY when it must
 * choose what to compile. compat.c has the system calls and links alone
 * (the test tools use it); compat_ssl.c has the OpenSSL ones.
 *
 * Contract:
 *  - Files. tw_sync_file(fd) and tw_syncfs(dir_fd) together are a
 *    durability barrier: once tw_sync_file() has been called on each file
 *    written (before it is closed) and tw_syncfs() on a directory of the
 *    same file system has returned 0, all those files are on disk.
 *    Native: tw_sync_file() does nothing and tw_syncfs() is syncfs(),
 *    one flush for the whole file system. Fallback: tw_sync_file() is
 *    fsync() and tw_syncfs() fsyncs the directory itself.
 *    tw_syncfs_is_whole_fs() says which. Both return 0, or -1 with errno.
 *  - tw_fdatasync(): fdatasync(), or fsync() where it is missing.
 *  - tw_dirty_bytes(): how much written data the whole system holds
 *    in memory, not yet on disk (Linux: Dirty plus Writeback of
 *    /proc/meminfo), which is what a tw_syncfs() may have to wait for;
 *    -1 where that cannot be told. Only a hint for choosing a barrier,
 *    never for durability itself.
 *  - tw_lock_file(fd): an exclusive write lock on the whole file, without
 *    waiting; 0, or -1 with errno (EAGAIN or EACCES: held elsewhere).
 *    Native: an open-file-description lock (F_OFD_SETLK), which conflicts
 *    with every other open of the file, in this process too, and with
 *    other processes' fcntl() locks (mbsync's). Fallback: F_SETLK, a
 *    process lock: other processes are kept out as before, but a second
 *    open in this process is not refused, and closing any descriptor of
 *    the file in this process releases the lock.
 *    tw_lock_is_per_open() says which. The lock goes with the descriptor.
 *  - tw_pipe(), tw_socket(), tw_socketpair(), tw_accept(): as pipe2(),
 *    socket() and accept4() with flags O_CLOEXEC and/or O_NONBLOCK (no
 *    other flag), set atomically where the platform can and by fcntl()
 *    right after otherwise (then a fork() in another thread in between
 *    may inherit the descriptor). Sockets get SO_NOSIGPIPE where it
 *    exists. -1 with errno on failure, nothing left open.
 *  - tw_send(): send() that never raises SIGPIPE, on any socket: a peer
 *    that went away gives -1 with EPIPE. Native: MSG_NOSIGNAL. Fallback:
 *    SO_NOSIGPIPE (set by tw_socket()) where it exists, else SIGPIPE is
 *    blocked in the calling thread around the send() and a SIGPIPE it
 *    raised is taken back; no signal disposition of the process changes.
 *  - tw_ppoll(): ppoll(): poll() that, for the time of its wait, makes
 *    mask (NULL: no change) the calling thread's signal mask, atomically:
 *    a signal blocked before the call and let through by mask ends the
 *    wait with EINTR, even one that came before the call. Fallback:
 *    pselect(), which POSIX gives the same guarantee, with these
 *    differences: a descriptor at or above FD_SETSIZE fails the call
 *    with EINVAL; a descriptor is watched only for the events asked
 *    (POLLIN, POLLOUT, POLLPRI), and a hangup or an error shows as
 *    POLLIN or POLLOUT (the read or write that follows tells which),
 *    never as POLLHUP or POLLERR. In both, a negative descriptor is left
 *    out and one not open answers POLLNVAL without a wait.
 *  - tw_clock_with_suspend(ts): clock_gettime() of a clock that does not
 *    go back and counts the time the machine was suspended where the
 *    platform has one: CLOCK_BOOTTIME (Linux, the BSDs); fallback
 *    CLOCK_MONOTONIC (which counts it on macOS, not everywhere).
 *  - TW_COMPAT_INOTIFY is defined where the build uses inotify (Linux;
 *    not with COMPAT=portable): watch_fs.c compiles its inotify code or
 *    its fallback (no change notification: the periodic sync alone).
 *  - TW_ST_MTIM(st): the modification time of a struct stat as a struct
 *    timespec (st_mtim in POSIX 2008, st_mtimespec on macOS).
 *  - OpenSSL 3, 1.1.1 and LibreSSL: tw_ssl_read() and tw_ssl_write() are
 *    SSL_read_ex() and SSL_write_ex(); tw_ssl_peer_cert() is
 *    SSL_get0_peer_certificate() (borrowed, valid while ssl lives);
 *    tw_md_size() is EVP_MD_get_size(); tw_ssl_ctx_allow_old_tls()
 *    sets security level 0 where the library has levels;
 *    tw_ssl_is_eof_error() tells OpenSSL 3's "unexpected EOF" error.
 */
#ifndef TWINBOX_COMPAT_H
#define TWINBOX_COMPAT_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#if defined(__linux__) && !defined(TW_COMPAT_PORTABLE)
#define TW_COMPAT_INOTIFY 1
#endif

int tw_sync_file(int fd);
int tw_syncfs(int dir_fd);
int tw_syncfs_is_whole_fs(void);
int tw_fdatasync(int fd);
int64_t tw_dirty_bytes(void);

int tw_lock_file(int fd);
int tw_lock_is_per_open(void);

int tw_pipe(int fd[2], int flags);
int tw_socket(int domain, int type, int protocol, int flags);
int tw_socketpair(int domain, int type, int protocol, int sv[2], int flags);
int tw_accept(int lfd, int flags);
ssize_t tw_send(int fd, const void *data, size_t len);

int tw_ppoll(struct pollfd *fds, size_t n, const struct timespec *timeout,
    const sigset_t *mask);
int tw_clock_with_suspend(struct timespec *ts);

#ifdef __APPLE__
#define TW_ST_MTIM(st) ((st).st_mtimespec)
#else
#define TW_ST_MTIM(st) ((st).st_mtim)
#endif

/* OpenSSL's types, by their struct tags (the same in 1.1, 3 and
 * LibreSSL), so that this header needs no OpenSSL header. */
struct ssl_st;
struct ssl_ctx_st;
struct x509_st;
struct evp_md_st;

int tw_ssl_read(struct ssl_st *ssl, void *data, size_t cap, size_t *n);
int tw_ssl_write(struct ssl_st *ssl, const void *data, size_t len,
    size_t *n);
struct x509_st *tw_ssl_peer_cert(const struct ssl_st *ssl);
int tw_md_size(const struct evp_md_st *md);
void tw_ssl_ctx_allow_old_tls(struct ssl_ctx_st *ctx);
int tw_ssl_is_eof_error(unsigned long err);

#endif
