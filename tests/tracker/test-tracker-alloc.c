// SPDX-License-Identifier: MIT
/*
 * Allocation discipline of the page-state tracker. This executable compiles
 * the tracker in with its test hooks (a thread-local "lock held" flag set
 * by the lock hook) and interposes malloc, calloc, realloc and free:
 *  - no allocation and no free() while the tracker lock is held, through
 *    every kind of call: first updates of a fresh tracker, leaves changing
 *    form, log merges that need bitmaps, huge updates run in steps, reset,
 *    sync, decode, the decode limit, log start and stop;
 *  - an update that changes nothing, right after a sync with the log on,
 *    allocates and frees nothing at all, and creates no object: the log
 *    is not touched;
 *  - with the default work budget, a re-encrypt of a thousand fragmented
 *    leaves with the log on runs in several holds of the lock, and the
 *    result is exact.
 * Skipped (77) under ASan/TSan, which own malloc.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sevmig/sevmig.h>

#include "tracker-priv.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
int main(void)
{
	fprintf(stderr, "malloc is the sanitizer's here: skipped\n");
	return 77;
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t sz);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static __thread int held;	/* this thread holds a tracker lock */
static unsigned long allocs, frees, allocs_locked, frees_locked;

void *malloc(size_t n)
{
	allocs++;
	allocs_locked += held > 0;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
	allocs++;
	allocs_locked += held > 0;
	return __libc_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
	allocs++;
	allocs_locked += held > 0;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p) {
		frees++;
		frees_locked += held > 0;
	}
	__libc_free(p);
}

static unsigned long holds;

static void lock_hook(const struct sevmig_tracker *t, int h)
{
	(void)t;
	held += h ? 1 : -1;
	holds += h;
}

#define LEAF (UINT64_C(1) << 15)
#define NPAGES (70 * LEAF + 123)	/* two node levels, a ragged end */

static uint64_t rng = 42;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void drain(struct sevmig_tracker *t)
{
	struct sevmig_tracker_sync_info info;
	uint64_t r[2 * 16];

	do {
		info.size = sizeof(info);
		assert_int_equal(sevmig_tracker_sync(t, r, 16, &info, 0), 0);
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
}

/* Single pages, 13 per leaf (bitmap leaves), at @off within each. */
static void fragment(struct sevmig_tracker *t, uint64_t off, int v)
{
	for (uint64_t l = 0; l + LEAF <= NPAGES; l += LEAF)
		for (uint64_t k = 0; k < 13; k++)
			assert_int_equal(v ? sevmig_tracker_set_shared(t,
						l + off + k * 2011, 1)
					   : sevmig_tracker_set_private(t,
						l + off + k * 2011, 1), 0);
}

/* Every kind of call; nothing may allocate or free under the lock. */
static void test_nothing_under_the_lock(void **state)
{
	struct sevmig_tracker *t, *u;
	struct sevmig_tracker_stats st = { .size = sizeof(st) };
	static unsigned char buf[4096];
	static const uint64_t ram[4] = { 0, 30 * LEAF, 30 * LEAF, NPAGES };
	uint64_t next, g;
	size_t len;
	uint32_t s;

	(void)state;
	sevmig_tracker_lock_hook = lock_hook;
	allocs = allocs_locked = frees_locked = 0;

	/* A fresh tracker's first updates fill its pool. */
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 5, 1), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 40 * LEAF, 3), 0);
	/* Random small updates: leaves made, converted, shrunk, freed. */
	for (int i = 0; i < 20000; i++) {
		uint64_t a = rnd() % (3 * LEAF), n = 1 + rnd() % 40;
		int rc = rnd() & 1 ? sevmig_tracker_set_shared(t, a, n)
				   : sevmig_tracker_set_private(t, a, n);

		assert_int_equal(rc, 0);
	}
	/* The log: merges of compact and bitmap leaves, in tiny steps. */
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	fragment(t, 100, 1);
	drain(t);
	fragment(t, 1000, 1);
	fragment(t, 1000, 0);
	sevmig_tracker_hold_budget = 3;
	assert_int_equal(sevmig_tracker_set_private(t, 0, NPAGES), 0);
	fragment(t, 7, 1);
	assert_int_equal(sevmig_tracker_set_shared(t, 3, NPAGES - 3), 0);
	sevmig_tracker_hold_budget = 0;
	fragment(t, 50, 0);
	assert_int_equal(sevmig_tracker_reset(t, 0), 0);
	drain(t);
	/* Queries, codec, limit. */
	fragment(t, 9, 1);
	assert_int_equal(sevmig_tracker_state(t, 9, &s), 0);
	assert_int_equal(sevmig_tracker_run_end(t, 9, &next, &s), 0);
	assert_int_equal(sevmig_tracker_stats(t, &st), 0);
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &u), 0);
	assert_int_equal(sevmig_tracker_log_start(u, 0), 0);
	assert_int_equal(sevmig_tracker_set_limit(u, ram, 2, 0), 0);
	assert_int_equal(sevmig_tracker_set_shared(u, 2, 70000), 0);
	for (g = 0; g < NPAGES; g = next) {
		assert_int_equal(sevmig_tracker_encode(t,
				 SEVMIG_TRACKER_RECORD_FULL, g, NPAGES, buf,
				 sizeof(buf), &len, &next, 0), 0);
		assert_int_equal(sevmig_tracker_decode(u, buf, len, NULL, NULL,
						       0), 0);
	}
	drain(u);
	assert_int_equal(sevmig_tracker_log_stop(u, 0), 0);
	assert_int_equal(sevmig_tracker_log_stop(t, 0), 0);
	sevmig_tracker_free(u);
	sevmig_tracker_free(t);

	sevmig_tracker_lock_hook = NULL;
	assert_int_equal(held, 0);
	fprintf(stderr, "%lu allocations, %lu frees\n", allocs, frees);
	assert_true(allocs > 100);	/* the interposition works */
	if (allocs_locked || frees_locked)
		fail_msg("%lu allocations and %lu frees with the lock held",
			 allocs_locked, frees_locked);
}

/*
 * Right after a sync with the log on, updates that change nothing (a
 * buffer decrypted twice, pages re-encrypted that are private) must not
 * allocate or free anything: nothing is logged, so C is not touched.
 */
static void test_noop_after_sync_allocates_nothing(void **state)
{
	struct sevmig_tracker *t;
	unsigned long a0, f0, m0;

	(void)state;
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	for (uint64_t l = 0; l < 60; l++)
		assert_int_equal(sevmig_tracker_set_shared(t, l * LEAF + 77,
							   1 + l % 4), 0);
	fragment(t, 300, 1);
	drain(t);
	/* One flipping update refills the pool; then nothing may move. */
	assert_int_equal(sevmig_tracker_set_shared(t, 1, 1), 0);
	assert_int_equal(sevmig_tracker_set_private(t, 1, 1), 0);
	drain(t);
	a0 = allocs;
	f0 = frees;
	m0 = sevmig_tracker_objects_made;
	for (int i = 0; i < 1000; i++) {
		uint64_t l = rnd() % 60;

		assert_int_equal(sevmig_tracker_set_shared(t, l * LEAF + 77,
							   1 + l % 4), 0);
		assert_int_equal(sevmig_tracker_set_private(t, l * LEAF + 90,
							    2), 0);
		assert_int_equal(sevmig_tracker_set_shared(t,
					l * LEAF + 300 + 2011, 1), 0);
		assert_int_equal(sevmig_tracker_set_private(t,
					l * LEAF + 301 + 2011, 5), 0);
	}
	if (allocs != a0 || frees != f0 || sevmig_tracker_objects_made != m0)
		fail_msg("4,000 updates that change nothing: %lu allocations, %lu frees, %lu objects made",
			 allocs - a0, frees - f0,
			 (unsigned long)sevmig_tracker_objects_made - m0);
	sevmig_tracker_free(t);
}

/*
 * 1,024 leaves (128 GiB) with bitmap leaves in S and in the log: the merge
 * of a re-encrypt takes several holds of the default budget, and its
 * result is exact (the log holds both patterns, the state nothing).
 */
static void test_long_update_in_steps(void **state)
{
	const uint64_t n = 1024 * LEAF;
	struct sevmig_tracker *t;
	struct sevmig_tracker_stats st = { .size = sizeof(st) };
	uint64_t shared;

	(void)state;
	assert_int_equal(sevmig_tracker_new(NULL, n, 0, &t), 0);
	for (uint64_t l = 0; l < n; l += LEAF)
		for (uint64_t k = 0; k < 16; k++)
			assert_int_equal(sevmig_tracker_set_shared(t,
						l + k * 1999, 1), 0);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	for (uint64_t l = 0; l < n; l += LEAF)
		for (uint64_t k = 0; k < 16; k++) {
			assert_int_equal(sevmig_tracker_set_shared(t,
						l + 1000 + k * 1999, 1), 0);
			assert_int_equal(sevmig_tracker_set_private(t,
						l + 1000 + k * 1999, 1), 0);
		}
	sevmig_tracker_lock_hook = lock_hook;
	holds = 0;
	assert_int_equal(sevmig_tracker_set_private(t, 0, n), 0);
	sevmig_tracker_lock_hook = NULL;
	assert_true(holds >= 4);
	assert_int_equal(sevmig_tracker_shared_pages(t, &shared), 0);
	assert_int_equal(shared, 0);
	assert_int_equal(sevmig_tracker_stats(t, &st), 0);
	assert_int_equal(st.changed_pages, 1024 * 32);
	sevmig_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_under_the_lock),
		cmocka_unit_test(test_noop_after_sync_allocates_nothing),
		cmocka_unit_test(test_long_update_in_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif /* SANITIZED */
