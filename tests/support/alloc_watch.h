/*
 * alloc_watch: whether the code under test leaves a secret behind in
 * memory it frees. Included by one file of a Check program that the
 * Makefile links with GNU ld's --wrap for free(), realloc() and
 * fclose() (LDFLAGS_<program> = $(ALLOC_WATCH_LDFLAGS)): every such
 * call of the library and of the program then goes through the
 * wrappers below (OpenSSL's and libc's own calls do not). A stream's
 * buffer is libc's, freed inside fclose(): the fclose() wrapper looks
 * into it (glibc's FILE) before.
 *
 *  - alloc_watch_start(secret) starts watching for secret (at least 20
 *    bytes): 16 bytes of it raw, and 16 characters of its base64 after
 *    0, 1 or 2 bytes before it (past the group that mixes them in), so
 *    that the secret shows in any message that carries it, raw or in
 *    base64. While watching, each realloc() moves the allocation, so
 *    that a copy left behind shows whatever the heap's layout.
 *  - alloc_watch_stop() stops, fails the test if the wrappers saw no
 *    free() at all (not linked as above: never a silent pass), and
 *    returns how many allocations were freed or moved with the secret
 *    still in them.
 *
 * Under valgrind the allocations are declared read before they are
 * searched (their unused tail is read on purpose).
 */
#ifndef TWINBOX_ALLOC_WATCH_H
#define TWINBOX_ALLOC_WATCH_H

#include <check.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
int __real_fclose(FILE *f);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
int __wrap_fclose(FILE *f);

static struct {
	int on;
	char pattern[4][24];
	size_t frees;		/* seen while on: the wrappers are linked */
	size_t leaks;		/* allocations freed or moved with a secret */
} alloc_watch;

static int
alloc_watch_holds(const void *p, size_t n)
{
	for (size_t i = 0; i < 4; i++)
		if (memmem(p, n, alloc_watch.pattern[i],
		    strlen(alloc_watch.pattern[i])) != NULL)
			return 1;
	return 0;
}

void
__wrap_free(void *p)
{
	if (p != NULL && alloc_watch.on) {
		size_t n = malloc_usable_size(p);

		VALGRIND_MAKE_MEM_DEFINED(p, n);
		alloc_watch.frees++;
		if (alloc_watch_holds(p, n))
			alloc_watch.leaks++;
	}
	__real_free(p);
}

void *
__wrap_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL || !alloc_watch.on)
		return __real_realloc(p, n);
	old = malloc_usable_size(p);
	q = malloc(n);
	if (q == NULL)
		return NULL;
	VALGRIND_MAKE_MEM_DEFINED(p, old);
	memcpy(q, p, old < n ? old : n);
	__wrap_free(p);
	return q;
}

/* The stream's buffer goes with it, as it is. */
int
__wrap_fclose(FILE *f)
{
	if (f != NULL && alloc_watch.on && f->_IO_buf_base != NULL &&
	    f->_IO_buf_end > f->_IO_buf_base) {
		size_t n = (size_t)(f->_IO_buf_end - f->_IO_buf_base);

		VALGRIND_MAKE_MEM_DEFINED(f->_IO_buf_base, n);
		if (alloc_watch_holds(f->_IO_buf_base, n))
			alloc_watch.leaks++;
	}
	return __real_fclose(f);
}

static void
alloc_watch_start(const char *secret)
{
	unsigned char raw[1024] = { 0 };
	char enc[1400];
	size_t len = strlen(secret);

	ck_assert_uint_ge(len, 20);
	ck_assert_uint_le(len, sizeof(raw) - 2);
	memset(&alloc_watch, 0, sizeof alloc_watch);
	memcpy(alloc_watch.pattern[0], secret, 16);
	for (size_t pad = 0; pad < 3; pad++) {
		memset(raw, 0, pad);
		memcpy(raw + pad, secret, len);
		EVP_EncodeBlock((unsigned char *)enc, raw, (int)(pad + len));
		memcpy(alloc_watch.pattern[1 + pad], enc + 4, 16);
	}
	alloc_watch.on = 1;
}

static size_t
alloc_watch_stop(void)
{
	alloc_watch.on = 0;
	ck_assert_msg(alloc_watch.frees > 0, "free() is not wrapped (the "
	    "program must be linked with $(ALLOC_WATCH_LDFLAGS), Makefile)");
	return alloc_watch.leaks;
}

#endif
