// SPDX-License-Identifier: MIT
/*
 * Page-state tracker when malloc fails. This executable interposes malloc
 * so it can refuse allocations on demand:
 *  - an update that gets -ENOMEM changed nothing (state, counts, log);
 *  - when a huge update replaces regions whose log holds scattered ranges
 *    and the exact unions need more bitmaps than the tracker's pool holds
 *    and malloc can give, the log is widened: the next sync round reports
 *    every page that flipped (and then some), never fewer, and the update
 *    still succeeds;
 *  - an update that runs in many steps (tiny work budget per lock hold,
 *    through the tracker's test hooks) completes with every allocation
 *    refused once its first step has started;
 *  - every call documented to answer -ENOMEM does, with its log line, and
 *    changes nothing.
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

/* Refuse allocations of at least this many bytes (0: refuse none). */
static size_t fail_from;
static unsigned long refused;

void *malloc(size_t n)
{
	if (fail_from && n >= fail_from) {
		refused++;
		return NULL;
	}
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
	if (fail_from && sz && n * sz >= fail_from) {
		refused++;
		return NULL;
	}
	return __libc_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

#define LEAF (UINT64_C(1) << 15)	/* frames per leaf (docs/tracker.md) */
#define NPAGES (8 * LEAF)

/* Every run of the tracker, as a page-by-page bitmap. */
static void snapshot(struct sevmig_tracker *t, unsigned char *out)
{
	uint64_t ends[256], g = 0;

	while (g < NPAGES) {
		uint32_t first;
		int k = sevmig_tracker_runs(t, g, NPAGES, ends, 256, &first,
					    NULL);
		int st = first == SEVMIG_PAGE_SHARED;

		assert_true(k > 0);
		for (int i = 0; i < k; i++, st ^= 1) {
			memset(out + g, st, ends[i] - g);
			g = ends[i];
		}
	}
}

/* One whole sync round, as a page-by-page bitmap; returns its pages. */
static uint64_t round_pages(struct sevmig_tracker *t, unsigned char *out)
{
	struct sevmig_tracker_sync_info info;
	uint64_t r[64], total = 0;

	memset(out, 0, NPAGES);
	do {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		assert_int_equal(sevmig_tracker_sync(t, r, 32, &info, 0), 0);
		for (uint32_t i = 0; i < info.nr_ranges; i++)
			memset(out + r[2 * i], 1, r[2 * i + 1] - r[2 * i]);
		total += info.pages;
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	return total;
}

static void test_enomem_changes_nothing(void **state)
{
	static unsigned char before[NPAGES], after[NPAGES];
	struct sevmig_tracker *t = NULL;
	struct sevmig_tracker_stats s0 = { .size = sizeof(s0) };
	struct sevmig_tracker_stats s1 = { .size = sizeof(s1) };
	struct sevmig_tracker_sync_info info = { .size = sizeof(info) };
	unsigned long failures = 0;
	uint64_t r[2];

	(void)state;
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	for (uint64_t g = 3; g < NPAGES; g += 4099)
		assert_int_equal(sevmig_tracker_set_shared(t, g, 7), 0);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	assert_int_equal(sevmig_tracker_sync(t, r, 1, &info, 0), 0);
	/*
	 * With every allocation refused, drive updates that need new
	 * objects (dense toggles turn leaves into bitmaps, fresh leaves need
	 * compact ones) until the reserve runs dry: each refused update must
	 * leave everything as it was.
	 */
	fail_from = 1;
	for (uint64_t i = 0; i < 4000; i++) {
		uint64_t g = (i * 2 * 40503) % (NPAGES - 1);
		int rc;

		snapshot(t, before);
		assert_int_equal(sevmig_tracker_stats(t, &s0), 0);
		rc = sevmig_tracker_set_shared(t, g, 1);
		if (rc == 0)
			continue;
		assert_int_equal(rc, -ENOMEM);
		failures++;
		snapshot(t, after);
		assert_int_equal(sevmig_tracker_stats(t, &s1), 0);
		assert_memory_equal(before, after, NPAGES);
		assert_true(s0.shared_pages == s1.shared_pages);
		assert_true(s0.changed_pages == s1.changed_pages);
		assert_true(s0.seq == s1.seq);
	}
	fail_from = 0;
	assert_true(failures > 0);
	sevmig_tracker_free(t);
}

/*
 * Leaves 1-7 each hold 10 shared ranges from before the log started; then
 * 10 other ranges per leaf flip twice, so the log holds them and the state
 * does not. Clearing everything must log the unions: 20 ranges per leaf,
 * more than a compact leaf holds, so each union needs a bitmap; the pool
 * has a spare or two, the rest must come from malloc.
 */
static uint64_t scattered_then_clear(struct sevmig_tracker *t,
				     unsigned char *truth, size_t fail)
{
	uint64_t want = 0;

	memset(truth, 0, NPAGES);
	for (uint64_t l = 1; l < 8; l++)
		for (uint64_t i = 0; i < 10; i++) {
			uint64_t g = l * LEAF + 1000 + i * 3000;

			assert_int_equal(sevmig_tracker_set_shared(t, g, 5), 0);
			memset(truth + g, 1, 5);
		}
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	for (uint64_t l = 1; l < 8; l++)
		for (uint64_t i = 0; i < 10; i++) {
			uint64_t g = l * LEAF + 2500 + i * 3000;

			assert_int_equal(sevmig_tracker_set_shared(t, g, 3), 0);
			assert_int_equal(sevmig_tracker_set_private(t, g, 3), 0);
			memset(truth + g, 1, 3);
		}
	for (uint64_t i = 0; i < NPAGES; i++)
		want += truth[i];
	fail_from = fail;	/* the pool holds the edges: only merges allocate */
	assert_int_equal(sevmig_tracker_set_private(t, 0, NPAGES), 0);
	fail_from = 0;
	return want;
}

static void test_log_widens_never_misses(void **state)
{
	static unsigned char truth[NPAGES], got[NPAGES];
	struct sevmig_tracker *t = NULL;
	uint64_t want, pages;

	(void)state;
	/* With memory: exact. */
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	want = scattered_then_clear(t, truth, 0);
	pages = round_pages(t, got);
	assert_true(pages == want);
	assert_memory_equal(truth, got, NPAGES);
	sevmig_tracker_free(t);

	/* Without a bitmap's worth of memory: a superset, and it says so. */
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	refused = 0;
	want = scattered_then_clear(t, truth, 4096);
	assert_true(refused > 0);
	pages = round_pages(t, got);
	assert_true(pages > want);
	for (uint64_t i = 0; i < NPAGES; i++)
		if (truth[i] && !got[i])
			fail_msg("page %llu flipped but was not reported",
				 (unsigned long long)i);
	snapshot(t, got);
	for (uint64_t i = 0; i < NPAGES; i++)
		assert_int_equal(got[i], 0);	/* the state stays exact */
	sevmig_tracker_free(t);
}

/*
 * A re-encrypt of scattered leaves with the log on, in steps of about one
 * leaf (tiny work budget), with every allocation refused once it has
 * begun: the merges that need bitmaps soon find the pool's spares used
 * up; the steps try to refill, fail, and go on widening. The update must
 * still succeed, report every flip and leave the state exact.
 */
static void test_steps_without_memory(void **state)
{
	static unsigned char truth[NPAGES], got[NPAGES];
	struct sevmig_tracker *t = NULL;
	uint64_t want = 0, pages;

	(void)state;
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &t), 0);
	memset(truth, 0, NPAGES);
	for (uint64_t l = 0; l < 8; l++)
		for (uint64_t i = 0; i < 10; i++) {
			uint64_t g = l * LEAF + 1000 + i * 3000;

			assert_int_equal(sevmig_tracker_set_shared(t, g, 5), 0);
			memset(truth + g, 1, 5);
		}
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	for (uint64_t l = 0; l < 8; l++)
		for (uint64_t i = 0; i < 10; i++) {
			uint64_t g = l * LEAF + 2500 + i * 3000;

			assert_int_equal(sevmig_tracker_set_shared(t, g, 3), 0);
			assert_int_equal(sevmig_tracker_set_private(t, g, 3), 0);
			memset(truth + g, 1, 3);
		}
	for (uint64_t i = 0; i < NPAGES; i++)
		want += truth[i];
	sevmig_tracker_hold_budget = 1;
	refused = 0;
	fail_from = 1;
	assert_int_equal(sevmig_tracker_set_private(t, 3, NPAGES - 5), 0);
	fail_from = 0;
	sevmig_tracker_hold_budget = 0;
	assert_true(refused > 0);	/* the steps did try to refill */
	pages = round_pages(t, got);
	for (uint64_t i = 0; i < NPAGES; i++)
		if (truth[i] && !got[i])
			fail_msg("page %llu flipped but was not reported",
				 (unsigned long long)i);
	assert_true(pages >= want);
	snapshot(t, got);
	for (uint64_t i = 0; i < NPAGES; i++)
		assert_int_equal(got[i], 0);	/* nothing shared lay outside */
	sevmig_tracker_free(t);
}

/* Every documented -ENOMEM, with its log line; nothing changes. */
static int lines;

static void on_log(void *opaque, uint32_t level, const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == SEVMIG_LOG_ERR)
		lines++;
}

static void test_enomem_documented(void **state)
{
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = on_log };
	static const uint64_t lim[2] = { 0, 1000 };
	struct sevmig_ctx *ctx;
	struct sevmig_tracker *t = NULL, *src = NULL, *x;
	unsigned char rec[64];
	size_t len;
	uint64_t next, n;

	(void)state;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	assert_int_equal(sevmig_tracker_new(NULL, NPAGES, 0, &src), 0);
	assert_int_equal(sevmig_tracker_set_shared(src, 100, 5), 0);
	assert_int_equal(sevmig_tracker_encode(src, SEVMIG_TRACKER_RECORD_FULL,
					       0, NPAGES, rec, sizeof(rec),
					       &len, &next, 0), 0);
	assert_int_equal(sevmig_tracker_new(ctx, NPAGES, 0, &t), 0);

	fail_from = 1;
	lines = 0;
	assert_int_equal(sevmig_tracker_new(ctx, NPAGES, 0, &x), -ENOMEM);
	assert_int_equal(lines, 1);
	/* A fresh tracker's pool is empty: the first update needs memory. */
	lines = 0;
	assert_int_equal(sevmig_tracker_set_shared(t, 1, 1), -ENOMEM);
	assert_int_equal(lines, 1);
	lines = 0;
	assert_int_equal(sevmig_tracker_set_private(t, 1, 1), -ENOMEM);
	assert_int_equal(lines, 1);
	lines = 0;
	assert_int_equal(sevmig_tracker_reset(t, 0), -ENOMEM);
	assert_int_equal(lines, 1);
	lines = 0;
	assert_int_equal(sevmig_tracker_decode(t, rec, len, NULL, NULL, 0),
			 -ENOMEM);
	assert_int_equal(lines, 1);
	lines = 0;
	assert_int_equal(sevmig_tracker_set_limit(t, lim, 1, 0), -ENOMEM);
	assert_int_equal(lines, 1);
	fail_from = 0;

	assert_int_equal(sevmig_tracker_shared_pages(t, &n), 0);
	assert_int_equal(n, 0);
	/* No limit was set: a record sharing beyond it still decodes. */
	assert_int_equal(sevmig_tracker_decode(t, rec, len, NULL, NULL, 0), 0);
	assert_int_equal(sevmig_tracker_shared_pages(t, &n), 0);
	assert_int_equal(n, 5);
	sevmig_tracker_free(t);
	sevmig_tracker_free(src);
	sevmig_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enomem_changes_nothing),
		cmocka_unit_test(test_log_widens_never_misses),
		cmocka_unit_test(test_steps_without_memory),
		cmocka_unit_test(test_enomem_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif /* SANITIZED */
