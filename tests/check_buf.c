/* Unit tests: buf (byte buffers, xgrow()), log (levels and capture), store helpers,
 * u32 (sorted UID arrays), strpool (strings in shared chunks). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/strpool.h"
#include "util/u32.h"
#include "store.h"
#include "support/testlib.h"

/* Every member found, every other number not, in arrays with and
 * without gaps (the lookup tries x - v[0] first, then searches). */
START_TEST(test_u32_sorted_has)
{
	static const uint32_t dense[] = { 5, 6, 7, 8, 9 };
	static const uint32_t gaps[] = { 2, 3, 10, 11, 40, 4000000000u };

	ck_assert_int_eq(u32_sorted_has(dense, 0, 5), 0);
	for (uint32_t x = 0; x < 50; x++) {
		ck_assert_int_eq(u32_sorted_has(dense, 5, x), x >= 5 && x <= 9);
		ck_assert_int_eq(u32_sorted_has(gaps, 6, x),
		    x == 2 || x == 3 || x == 10 || x == 11 || x == 40);
		ck_assert_int_eq(u32_sorted_has(gaps, 3, x),
		    x == 2 || x == 3 || x == 10);
	}
	ck_assert_int_eq(u32_sorted_has(gaps, 6, 4000000000u), 1);
	ck_assert_int_eq(u32_sorted_has(gaps, 6, UINT32_MAX), 0);
	ck_assert_int_eq(u32_sorted_has(gaps, 1, 2), 1);
}
END_TEST

/* The key search over records: keys at an offset, a stride, equal keys
 * (the first of them), a window [lo, hi), and each position against a
 * linear search. */
START_TEST(test_u32_key_lower_bound)
{
	struct rec {
		char pad[3];
		uint32_t key;
		uint16_t more;
	} v[7];
	static const uint32_t keys[] = { 1, 4, 4, 4, 9, 20, UINT32_MAX };
	size_t off = offsetof(struct rec, key);

	for (size_t i = 0; i < 7; i++)
		v[i] = (struct rec){ "ab", keys[i], 0 };
	for (uint32_t x = 0; x < 25; x++) {
		size_t want = 0;

		while (want < 7 && keys[want] < x)
			want++;
		ck_assert_uint_eq(u32_key_lower_bound(v, sizeof(*v), off, 0, 7,
		    x), want);
		ck_assert_uint_eq(u32_key_lower_bound(v, sizeof(*v), off, 2, 5,
		    x), want < 2 ? 2 : want > 5 ? 5 : want);
	}
	ck_assert_uint_eq(u32_key_lower_bound(v, sizeof(*v), off, 0, 7,
	    UINT32_MAX), 6);
	ck_assert_uint_eq(u32_key_lower_bound(v, sizeof(*v), off, 0, 0, 4), 0);
}
END_TEST

/* The radix sorts agree with qsort() on random arrays of every shape:
 * small and large numbers, duplicates, sorted and reversed input, and
 * the high-byte payload of u64_sort_bytes() kept in input order. */
START_TEST(test_u32_sort)
{
	enum { N = 5000 };
	static uint32_t v[N], w[N];
	static uint64_t k[N];
	unsigned seed = 7;

	for (int round = 0; round < 8; round++) {
		uint32_t mask = round < 4 ? 0xffffu >> (4 * round) : UINT32_MAX;
		size_t n = round == 7 ? 1 : N - (size_t)round * 300;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			v[i] = (seed ^ (seed >> 13) * 2654435761u) & mask;
			if (round == 5)
				v[i] = (uint32_t)(n - i);
			w[i] = v[i];
			k[i] = (uint64_t)v[i] << 32 | i;
		}
		u32_sort(v, n);
		qsort(w, n, sizeof(*w), cmp_u32);
		ck_assert_mem_eq(v, w, n * sizeof(*v));
		u64_sort_bytes(k, n, 4, 8);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_eq((uint32_t)(k[i] >> 32), w[i]);
			if (i > 0 && k[i] >> 32 == k[i - 1] >> 32)
				ck_assert_uint_lt((uint32_t)k[i - 1],
				    (uint32_t)k[i]);
		}
	}
	u32_sort(NULL, 0);
}
END_TEST

/* Copies stay put and intact while the pool grows past several chunks,
 * one of them a string longer than a chunk. */
START_TEST(test_strpool_copies)
{
	struct strpool p = { 0 };
	char *copy[3000], name[32];
	size_t big_len = 200000;
	char *big = xmalloc(big_len + 1), *big_copy;

	memset(big, 'x', big_len);
	big[big_len] = '\0';
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "%d.M%dP1.host,U=%d:2,S", i, i, i);
		copy[i] = strpool_dup(&p, name, strlen(name));
		if (i == 1500)
			big_copy = strpool_dup(&p, big, big_len);
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "%d.M%dP1.host,U=%d:2,S", i, i, i);
		ck_assert_str_eq(copy[i], name);
	}
	ck_assert_str_eq(big_copy, big);
	ck_assert_str_eq(strpool_dup(&p, "", 0), "");
	strpool_free(&p);
	ck_assert_ptr_null(p.head);
	strpool_free(&p);
	free(big);
}
END_TEST

START_TEST(test_buf_grows_and_terminates)
{
	struct buf b = BUF_INIT;

	ck_assert_str_eq(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_addc(&b, 'x');
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_int_eq(b.data[1000], '\0');
	buf_truncate(&b, 3);
	ck_assert_str_eq(b.data, "xxx");
	buf_addf(&b, "%d-%s", 42, "y");
	ck_assert_str_eq(b.data, "xxx42-y");
	buf_setf(&b, "%0300d", 7);
	ck_assert_uint_eq(b.len, 300);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_buf_binary_and_detach)
{
	struct buf b = BUF_INIT;
	char *s;

	buf_add(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
	s = buf_detach(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(s[2], 'b');
	free(s);
	s = buf_detach(&b);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* xgrow(): the first capacity, then doubling, the contents kept. */
START_TEST(test_xgrow)
{
	int *v = NULL;
	size_t cap = 0, n = 0;
	void *same;

	v = xgrow(v, &cap, 1, 16, sizeof(*v));
	ck_assert_uint_eq(cap, 16);
	for (n = 0; n < 16; n++)
		v[n] = (int)n;
	same = v;
	v = xgrow(v, &cap, 16, 16, sizeof(*v));
	ck_assert_ptr_eq(v, same);
	ck_assert_uint_eq(cap, 16);
	v = xgrow(v, &cap, n + 1, 16, sizeof(*v));
	ck_assert_uint_eq(cap, 32);
	v = xgrow(v, &cap, 100, 16, sizeof(*v));
	ck_assert_uint_eq(cap, 128);
	for (n = 0; n < 16; n++)
		ck_assert_int_eq(v[n], (int)n);
	free(v);
}
END_TEST

START_TEST(test_log_levels_and_capture)
{
	struct buf cap = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL, .capture = &cap };

	log_error(&lg, "bad %s", "thing");
	log_warn(&lg, "careful");
	log_info(&lg, "summary");
	log_verbose(&lg, "detail");
	log_debug(&lg, "deep");
	ck_assert_str_eq(cap.data, "twinbox: error: bad thing\n"
	    "twinbox: warning: careful\nsummary\n");
	buf_reset(&cap);
	lg.level = LOG_QUIET;
	log_warn(&lg, "careful");
	log_info(&lg, "summary");
	log_error(&lg, "still");
	ck_assert_str_eq(cap.data, "twinbox: error: still\n");
	buf_reset(&cap);
	lg.level = LOG_DEBUG;
	log_verbose(&lg, "v");
	log_debug(&lg, "d");
	ck_assert_str_eq(cap.data, "v\ndebug: d\n");
	buf_free(&cap);
}
END_TEST

START_TEST(test_flag_letters_sorted)
{
	char out[MSG_FLAG_COUNT + 1];

	msg_flags_to_letters(MSG_SEEN | MSG_DRAFT | MSG_DELETED, out);
	ck_assert_str_eq(out, "DST");
	msg_flags_to_letters(MSG_ALL_FLAGS, out);
	ck_assert_str_eq(out, "DFPRST");
	msg_flags_to_letters(0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_msg_list_sort_find)
{
	struct msg_list l = { 0 };
	struct msg_meta m = { 0 };
	uint32_t uids[] = { 9, 3, 7, 1 };

	for (size_t i = 0; i < 4; i++) {
		m.uid = uids[i];
		msg_list_add(&l, &m);
	}
	msg_list_sort(&l);
	ck_assert_uint_eq(l.v[0].uid, 1);
	ck_assert_uint_eq(l.v[3].uid, 9);
	ck_assert_ptr_nonnull(msg_list_find(&l, 7));
	ck_assert_ptr_null(msg_list_find(&l, 8));
	msg_list_free(&l);
}
END_TEST

/* msg_list_find() looks first where a list without gaps has the UID:
 * lists with and without gaps, every UID present and absent. */
START_TEST(test_msg_list_find_gaps)
{
	static const uint32_t firsts[] = { 1, 5, 1000 };
	struct msg_meta m = { 0 };

	for (size_t f = 0; f < 3; f++) {
		for (uint32_t gap = 0; gap < 4; gap++) {
			struct msg_list l = { 0 };
			uint32_t last = 0;

			/* A run of 20, then every (gap + 1)th UID. */
			for (uint32_t i = 0; i < 40; i++) {
				m.uid = firsts[f] + (i < 20 ? i :
				    19 + (i - 19) * (gap + 1));
				msg_list_add(&l, &m);
				last = m.uid;
			}
			for (uint32_t u = 0; u <= last + 3; u++) {
				const struct msg_meta *hit =
				    msg_list_find(&l, u);
				size_t k = 0;

				while (k < l.n && l.v[k].uid != u)
					k++;
				if (k == l.n)
					ck_assert_ptr_null(hit);
				else
					ck_assert_ptr_eq(hit, &l.v[k]);
			}
			msg_list_free(&l);
		}
	}
}
END_TEST

/* msg_list_find() and msg_list_lower_bound() against a linear search,
 * on random sorted lists: few and many gaps, and UIDs twice (a sorted
 * list that is not a valid scan must still be searched right). */
START_TEST(test_msg_list_find_random)
{
	unsigned seed = 12345;
	struct msg_meta m = { 0 };

	for (int round = 0; round < 300; round++) {
		struct msg_list l = { 0 };
		size_t n = (size_t)(rand_r(&seed) % 60);
		unsigned spread = 1 + (unsigned)(rand_r(&seed) % 5);

		m.uid = 1 + (uint32_t)(rand_r(&seed) % 10);
		for (size_t i = 0; i < n; i++) {
			msg_list_add(&l, &m);
			m.uid += (uint32_t)(rand_r(&seed) % (spread + 1));
		}
		for (uint32_t u = 0; u <= m.uid + 2; u++) {
			const struct msg_meta *hit = msg_list_find(&l, u);
			size_t k = 0;

			while (k < l.n && l.v[k].uid < u)
				k++;
			ck_assert_uint_eq(msg_list_lower_bound(&l, u), k);
			if (k < l.n && l.v[k].uid == u)
				ck_assert_ptr_eq(hit, &l.v[k]);
			else
				ck_assert_ptr_null(hit);
		}
		msg_list_free(&l);
	}
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_grows_and_terminates);
	tcase_add_test(tc, test_u32_sorted_has);
	tcase_add_test(tc, test_u32_key_lower_bound);
	tcase_add_test(tc, test_u32_sort);
	tcase_add_test(tc, test_strpool_copies);
	tcase_add_test(tc, test_buf_binary_and_detach);
	tcase_add_test(tc, test_xgrow);
	tcase_add_test(tc, test_log_levels_and_capture);
	tcase_add_test(tc, test_flag_letters_sorted);
	tcase_add_test(tc, test_msg_list_sort_find);
	tcase_add_test(tc, test_msg_list_find_gaps);
	tcase_add_test(tc, test_msg_list_find_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(buf_suite());
}
