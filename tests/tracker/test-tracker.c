// SPDX-License-Identifier: MIT
/*
 * Page-state tracker: API contract, edge cases, the hostile decoder, the
 * decode limit, decoding with the log on, and the log's start order.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sevmig/sevmig.h>

#define GIB (UINT64_C(1) << 18)	/* pages */
#define TIB (UINT64_C(1) << 28)

static struct sevmig_tracker *mk(uint64_t n)
{
	struct sevmig_tracker *t = NULL;

	assert_int_equal(sevmig_tracker_new(NULL, n, 0, &t), 0);
	assert_non_null(t);
	return t;
}

static uint32_t st(struct sevmig_tracker *t, uint64_t g)
{
	uint32_t s = 0;

	assert_int_equal(sevmig_tracker_state(t, g, &s), 0);
	return s;
}

static uint64_t shared(struct sevmig_tracker *t)
{
	uint64_t n = ~UINT64_C(0);

	assert_int_equal(sevmig_tracker_shared_pages(t, &n), 0);
	return n;
}

static void test_args(void **state)
{
	struct sevmig_tracker *t = (struct sevmig_tracker *)0x1;
	uint64_t v = 7, ends[4];
	uint32_t s = 9;

	(void)state;
	assert_int_equal(sevmig_tracker_new(NULL, 0, 0, &t), -EINVAL);
	assert_int_equal(sevmig_tracker_new(NULL, TIB, 1, &t), -EINVAL);
	assert_int_equal(sevmig_tracker_new(NULL, SEVMIG_TRACKER_MAX_GFN + 1, 0, &t),
			 -EINVAL);
	assert_int_equal(sevmig_tracker_new(NULL, TIB, 0, NULL), -EINVAL);
	assert_ptr_equal(t, (struct sevmig_tracker *)0x1);	/* untouched */
	sevmig_tracker_free(NULL);

	t = mk(1000);
	assert_int_equal(sevmig_tracker_set_shared(t, 0, 0), -EINVAL);
	assert_int_equal(sevmig_tracker_set_shared(NULL, 0, 1), -EINVAL);
	assert_int_equal(sevmig_tracker_set_shared(t, 999, 2), -ERANGE);
	assert_int_equal(sevmig_tracker_set_private(t, 1000, 1), -ERANGE);
	assert_int_equal(sevmig_tracker_set_shared(t, ~UINT64_C(0), 2),
			 -ERANGE);	/* wraps */
	assert_int_equal(sevmig_tracker_state(t, 1000, &s), -ERANGE);
	assert_int_equal(s, 9);
	assert_int_equal(sevmig_tracker_state(t, 0, NULL), -EINVAL);
	assert_int_equal(sevmig_tracker_run_end(t, 1000, &v, NULL), -ERANGE);
	assert_int_equal(v, 7);
	assert_int_equal(sevmig_tracker_runs(t, 5, 5, ends, 4, &s, NULL),
			 -EINVAL);
	assert_int_equal(sevmig_tracker_runs(t, 0, 1001, ends, 4, &s, NULL),
			 -ERANGE);
	assert_int_equal(sevmig_tracker_runs(t, 0, 10, ends, 0, &s, NULL),
			 -EINVAL);
	assert_int_equal(sevmig_tracker_reset(t, 1), -EINVAL);
	assert_int_equal(shared(t), 0);
	sevmig_tracker_free(t);
}

static void test_basic_runs(void **state)
{
	struct sevmig_tracker *t = mk(TIB);
	uint64_t end, ends[8];
	uint32_t s, first;

	(void)state;
	assert_int_equal(st(t, 0), SEVMIG_PAGE_PRIVATE);
	assert_int_equal(sevmig_tracker_run_end(t, 0, &end, &s), 0);
	assert_int_equal(end, TIB);
	assert_int_equal(s, SEVMIG_PAGE_PRIVATE);

	/* Adjacent and overlapping updates coalesce. */
	assert_int_equal(sevmig_tracker_set_shared(t, 100, 10), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 110, 5), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 105, 20), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 105, 20), 0); /* again */
	assert_int_equal(shared(t), 25);
	assert_int_equal(sevmig_tracker_run_end(t, 100, &end, &s), 0);
	assert_int_equal(end, 125);
	assert_int_equal(s, SEVMIG_PAGE_SHARED);
	assert_int_equal(sevmig_tracker_run_end(t, 0, &end, &s), 0);
	assert_int_equal(end, 100);

	/* A hole splits the run. */
	assert_int_equal(sevmig_tracker_set_private(t, 110, 1), 0);
	assert_int_equal(sevmig_tracker_runs(t, 50, 200, ends, 8, &first,
					     NULL), 5);
	assert_int_equal(first, SEVMIG_PAGE_PRIVATE);
	assert_int_equal(ends[0], 100);
	assert_int_equal(ends[1], 110);
	assert_int_equal(ends[2], 111);
	assert_int_equal(ends[3], 125);
	assert_int_equal(ends[4], 200);
	/* Batches continue where they stopped. */
	assert_int_equal(sevmig_tracker_runs(t, 50, 200, ends, 2, &first,
					     NULL), 2);
	assert_int_equal(ends[1], 110);
	assert_int_equal(sevmig_tracker_runs(t, 110, 200, ends, 8, &first,
					     NULL), 3);
	assert_int_equal(first, SEVMIG_PAGE_PRIVATE);

	/* Huge ranges across leaves and nodes, and the last frame. */
	assert_int_equal(sevmig_tracker_set_shared(t, 3, TIB - 3), 0);
	assert_int_equal(shared(t), TIB - 3);
	assert_int_equal(st(t, TIB - 1), SEVMIG_PAGE_SHARED);
	assert_int_equal(sevmig_tracker_set_private(t, GIB + 1, 64 * GIB), 0);
	assert_int_equal(shared(t), TIB - 3 - 64 * GIB);
	assert_int_equal(sevmig_tracker_run_end(t, 3, &end, &s), 0);
	assert_int_equal(end, GIB + 1);
	assert_int_equal(sevmig_tracker_run_end(t, GIB + 1, &end, &s), 0);
	assert_int_equal(end, 65 * GIB + 1);

	/* Memory collapses back when everything is uniform again. */
	assert_int_equal(sevmig_tracker_reset(t, 0), 0);
	assert_int_equal(shared(t), 0);
	struct sevmig_tracker_stats stats = { .size = sizeof(stats) };

	assert_int_equal(sevmig_tracker_stats(t, &stats), 0);
	assert_int_equal(stats.size, sizeof(stats));
	assert_true(stats.mem_bytes < 64 * 1024);
	sevmig_tracker_free(t);
}

static void test_bounded_memory(void **state)
{
	/* Alternating pages over 4 GiB: never more than the flat bitmap. */
	struct sevmig_tracker *t = mk(4 * GIB);
	struct sevmig_tracker_stats stats = { .size = sizeof(stats) };

	(void)state;
	for (uint64_t g = 0; g < 4 * GIB; g += 2)
		assert_int_equal(sevmig_tracker_set_shared(t, g, 1), 0);
	assert_int_equal(shared(t), 2 * GIB);
	assert_int_equal(sevmig_tracker_stats(t, &stats), 0);
	/* Flat bitmap: 4 GiB / 4 KiB / 8 = 128 KiB. */
	assert_true(stats.peak_mem_bytes <= 128 * 1024 + 64 * 1024);
	/* One call undoes it and the memory goes away. */
	assert_int_equal(sevmig_tracker_set_private(t, 0, 4 * GIB), 0);
	assert_int_equal(sevmig_tracker_stats(t, &stats), 0);
	assert_true(stats.mem_bytes < 64 * 1024);
	sevmig_tracker_free(t);
}

/*
 * A region with few runs is kept compact (no 4 KiB bitmap leaf), turns
 * into a bitmap when it fragments, and goes back when it gets sparse.
 */
static void test_leaf_forms(void **state)
{
	const uint64_t leaf = UINT64_C(1) << 15, nleaves = 100;
	struct sevmig_tracker *t = mk(nleaves * leaf);
	struct sevmig_tracker_stats s0 = { .size = sizeof(s0) };
	struct sevmig_tracker_stats s1 = { .size = sizeof(s1) };

	(void)state;
	assert_int_equal(sevmig_tracker_set_shared(t, 0, 1), 0);
	assert_int_equal(sevmig_tracker_stats(t, &s0), 0);
	/* Three DMA buffers per 128 MiB: compact leaves only. */
	for (uint64_t l = 0; l < nleaves; l++)
		for (uint64_t i = 0; i < 3; i++)
			assert_int_equal(sevmig_tracker_set_shared(
					 t, l * leaf + 100 + i * 5000, 1 + i), 0);
	assert_int_equal(sevmig_tracker_stats(t, &s1), 0);
	assert_true(s1.leaves == s0.leaves);
	assert_true(s1.mem_bytes - s0.mem_bytes < nleaves * 128);
	/* Fragment every leaf: bitmaps. */
	for (uint64_t l = 0; l < nleaves; l++)
		for (uint64_t g = 20000; g < 20100; g += 2)
			assert_int_equal(sevmig_tracker_set_shared(
					 t, l * leaf + g, 1), 0);
	assert_int_equal(sevmig_tracker_stats(t, &s1), 0);
	assert_true(s1.leaves >= s0.leaves + nleaves);
	assert_int_equal(st(t, 7 * leaf + 20098), SEVMIG_PAGE_SHARED);
	assert_int_equal(st(t, 7 * leaf + 20099), SEVMIG_PAGE_PRIVATE);
	/* Sparse again: back to compact, the bitmaps are freed. */
	for (uint64_t l = 0; l < nleaves; l++)
		assert_int_equal(sevmig_tracker_set_private(t, l * leaf + 20000,
							    100), 0);
	assert_int_equal(sevmig_tracker_stats(t, &s1), 0);
	assert_true(s1.leaves <= s0.leaves + 8);	/* the tracker's pool */
	assert_true(s1.mem_bytes - s0.mem_bytes < nleaves * 128 + 8 * 4200);
	assert_int_equal(st(t, 100), SEVMIG_PAGE_SHARED);
	assert_int_equal(st(t, 99 * leaf + 10100 + 2), SEVMIG_PAGE_SHARED);
	assert_int_equal(st(t, 99 * leaf + 10100 + 3), SEVMIG_PAGE_PRIVATE);
	sevmig_tracker_free(t);
}

static void drain(struct sevmig_tracker *t, uint64_t *r, uint32_t max,
		  struct sevmig_tracker_sync_info *info)
{
	info->size = sizeof(*info);
	assert_int_equal(sevmig_tracker_sync(t, r, max, info, 0), 0);
}

static void test_sync(void **state)
{
	struct sevmig_tracker *t = mk(TIB);
	struct sevmig_tracker_sync_info info;
	uint64_t r[8];

	(void)state;
	assert_int_equal(sevmig_tracker_sync(t, r, 0, &info, 0), -EINVAL);
	info.size = 8;
	assert_int_equal(sevmig_tracker_sync(t, r, 4, &info, 0), -EINVAL);

	/* Before log_start nothing is logged, and sync refuses to run. */
	assert_int_equal(sevmig_tracker_set_shared(t, 1, 1), 0);
	info.size = sizeof(info);
	assert_int_equal(sevmig_tracker_sync(t, r, 4, &info, 0), -EPROTO);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	assert_int_equal(sevmig_tracker_set_private(t, 1, 1), 0);
	drain(t, r, 4, &info);
	assert_int_equal(info.generation, 1);
	assert_int_equal(info.nr_ranges, 1);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1], 2);

	/* Boot re-encrypts all RAM: already private, so nothing changed. */
	assert_int_equal(sevmig_tracker_set_private(t, 0, 64 * GIB), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 10, 2), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 12, 2), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 500, 1), 0);
	assert_int_equal(sevmig_tracker_set_private(t, 500, 1), 0); /* back */
	assert_int_equal(sevmig_tracker_set_shared(t, 2 * GIB, GIB), 0);
	drain(t, r, 2, &info);
	assert_int_equal(info.generation, 2);
	assert_int_equal(info.nr_ranges, 2);
	assert_int_equal(info.flags, SEVMIG_TRACKER_SYNC_MORE);
	assert_int_equal(r[0], 10);
	assert_int_equal(r[1], 14);
	assert_int_equal(r[2], 500);
	assert_int_equal(r[3], 501);
	/* A flip while the round is open goes to the next round. */
	assert_int_equal(sevmig_tracker_set_shared(t, 7, 1), 0);
	drain(t, r, 2, &info);
	assert_int_equal(info.generation, 2);
	assert_int_equal(info.nr_ranges, 1);
	assert_int_equal(info.flags, 0);
	assert_int_equal(r[0], 2 * GIB);
	assert_int_equal(r[1], 3 * GIB);
	assert_int_equal(info.pages, GIB);
	drain(t, r, 2, &info);
	assert_int_equal(info.generation, 3);
	assert_int_equal(info.nr_ranges, 1);
	assert_int_equal(r[0], 7);
	assert_int_equal(r[1], 8);
	drain(t, r, 2, &info);
	assert_int_equal(info.generation, 4);
	assert_int_equal(info.nr_ranges, 0);

	/* A range ending at max_gfn is closed. */
	assert_int_equal(sevmig_tracker_set_shared(t, TIB - 5, 5), 0);
	drain(t, r, 1, &info);
	assert_int_equal(info.nr_ranges, 1);
	assert_int_equal(r[0], TIB - 5);
	assert_int_equal(r[1], TIB);
	sevmig_tracker_free(t);
}

static size_t enc(struct sevmig_tracker *t, uint64_t g, uint64_t e,
		  unsigned char *buf, size_t cap, uint64_t *next)
{
	size_t len = 0;

	assert_int_equal(sevmig_tracker_encode(t, SEVMIG_TRACKER_RECORD_FULL,
					       g, e, buf, cap, &len, next, 0),
			 0);
	return len;
}

static void test_codec(void **state)
{
	struct sevmig_tracker *a = mk(TIB), *b = mk(TIB), *c = mk(2 * TIB);
	unsigned char buf[4096];
	uint64_t next, end;
	size_t len, used;
	uint32_t kind;

	(void)state;
	assert_int_equal(sevmig_tracker_set_shared(a, 0, 3), 0);
	assert_int_equal(sevmig_tracker_set_shared(a, GIB, 5), 0);
	assert_int_equal(sevmig_tracker_set_shared(a, TIB - 1, 1), 0);
	assert_int_equal(sevmig_tracker_encode(a, 3, 0, TIB, buf, sizeof(buf),
					       &len, &next, 0), -EINVAL);
	assert_int_equal(sevmig_tracker_encode(a, 1, 0, TIB, buf, 63,
					       &len, &next, 0), -ENOSPC);
	len = enc(a, 0, TIB, buf, sizeof(buf), &next);
	assert_int_equal(next, TIB);
	assert_true(len < 60);	/* 40-byte header, 3 small ranges */
	assert_int_equal(sevmig_tracker_set_shared(b, 5, GIB), 0);
	assert_int_equal(sevmig_tracker_decode(b, buf, len, &used, &kind, 0), 0);
	assert_int_equal(used, len);
	assert_int_equal(kind, SEVMIG_TRACKER_RECORD_FULL);
	assert_int_equal(shared(b), 9);
	assert_int_equal(sevmig_tracker_run_end(b, 0, &end, NULL), 0);
	assert_int_equal(end, 3);
	assert_int_equal(st(b, TIB - 1), SEVMIG_PAGE_SHARED);
	/* Wrong bounds: -EINVAL, nothing applied. */
	assert_int_equal(sevmig_tracker_decode(c, buf, len, NULL, NULL, 0),
			 -EINVAL);

	/* A delta window: only [GIB, GIB + 10) is set on the receiver. */
	assert_int_equal(sevmig_tracker_set_private(a, GIB, 2), 0);
	assert_int_equal(sevmig_tracker_encode(a, SEVMIG_TRACKER_RECORD_DELTA,
					       GIB, GIB + 10, buf, sizeof(buf),
					       &len, &next, 0), 0);
	assert_int_equal(sevmig_tracker_decode(b, buf, len, NULL, &kind, 0), 0);
	assert_int_equal(kind, SEVMIG_TRACKER_RECORD_DELTA);
	assert_int_equal(shared(b), 7);
	assert_int_equal(st(b, GIB + 1), SEVMIG_PAGE_PRIVATE);
	assert_int_equal(st(b, GIB + 2), SEVMIG_PAGE_SHARED);

	/* A small buffer splits the full set into several records. */
	for (uint64_t g = 0; g < 200; g += 2)
		assert_int_equal(sevmig_tracker_set_shared(a, GIB * 2 + g, 1), 0);
	struct sevmig_tracker *d = mk(TIB);
	uint64_t g = 0;
	int records = 0;

	while (g < TIB) {
		len = enc(a, g, TIB, buf, 64, &next);
		assert_true(next > g);
		assert_int_equal(sevmig_tracker_decode(d, buf, len, NULL, NULL,
						       0), 0);
		g = next;
		records++;
	}
	assert_true(records > 10);
	assert_int_equal(shared(d), shared(a));
	for (uint64_t x = 2 * GIB - 1; x < 2 * GIB + 205; x++)
		assert_int_equal(st(d, x), st(a, x));
	sevmig_tracker_free(a);
	sevmig_tracker_free(b);
	sevmig_tracker_free(c);
	sevmig_tracker_free(d);
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int dec(struct sevmig_tracker *t, const unsigned char *p, size_t n)
{
	return sevmig_tracker_decode(t, p, n, NULL, NULL, 0);
}

static void test_decode_hostile(void **state)
{
	struct sevmig_tracker *a = mk(TIB), *t = mk(TIB);
	unsigned char good[256], bad[256];
	uint64_t next;
	size_t len;

	(void)state;
	assert_int_equal(sevmig_tracker_set_shared(a, 1000, 300), 0);
	assert_int_equal(sevmig_tracker_set_shared(a, 5000, 1), 0);
	assert_int_equal(sevmig_tracker_set_shared(t, 7, 7), 0);
	len = enc(a, 0, TIB, good, sizeof(good), &next);
	assert_int_equal(dec(t, good, len), 0);

	/* Every truncation is -EBADMSG and applies nothing. */
	assert_int_equal(sevmig_tracker_set_shared(t, 7, 7), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(dec(t, good, n), -EBADMSG);
	assert_int_equal(shared(t), 301 + 7);

	/* Header fields. */
	memcpy(bad, good, len);
	bad[0] ^= 1;
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* magic */
	memcpy(bad, good, len);
	bad[4] = 2;
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* version */
	memcpy(bad, good, len);
	bad[5] = 3;
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* kind */
	memcpy(bad, good, len);
	bad[6] = 1;
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* reserved */
	memcpy(bad, good, len);
	put64(bad + 24, TIB + 1);
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* window end */
	memcpy(bad, good, len);
	put64(bad + 16, TIB);
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* empty window */
	memcpy(bad, good, len);
	put64(bad + 32, ~UINT64_C(0));
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* huge count */
	memcpy(bad, good, len);
	put64(bad + 32, 3);
	assert_int_equal(dec(t, bad, len), -EBADMSG);	/* count > data */

	/* Hand-made bodies: header for [0, 100) with two ranges. */
	static const struct {
		unsigned char body[8];
		size_t n;
		int want;
	} cases[] = {
		{ { 10, 4, 1, 0 }, 4, 0 },		/* [10,15) [16,17) */
		{ { 10, 4, 0, 0 }, 4, -EBADMSG },	/* adjacent: not coalesced */
		{ { 10, 200, 1, 1, 0 }, 5, -EBADMSG },	/* beyond window */
		{ { 98, 0, 1, 0 }, 4, -EBADMSG },	/* second starts at 100 */
		{ { 0x80, 0x00, 4, 1, 0 }, 5, -EBADMSG },	/* overlong */
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8,
		  -EBADMSG },				/* unterminated */
	};
	unsigned char rec[64];

	memcpy(rec, good, 40);
	put64(rec + 16, 0);
	put64(rec + 24, 100);
	put64(rec + 32, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(rec + 40, cases[i].body, cases[i].n);
		assert_int_equal(dec(t, rec, 40 + cases[i].n), cases[i].want);
	}
	/* Ten-byte LEB128 beyond 64 bits. */
	put64(rec + 32, 1);
	memset(rec + 40, 0xff, 9);
	rec[49] = 0x02;
	rec[50] = 0;
	assert_int_equal(dec(t, rec, 51), -EBADMSG);
	sevmig_tracker_free(a);
	sevmig_tracker_free(t);
}

/* One whole sync round into @r (pairs); returns the number of ranges. */
static uint64_t round_into(struct sevmig_tracker *t, uint64_t *r, uint32_t max)
{
	struct sevmig_tracker_sync_info info;
	uint64_t n = 0;

	do {
		info.size = sizeof(info);
		assert_int_equal(sevmig_tracker_sync(t, r + 2 * n,
						     (uint32_t)(max - n), &info,
						     0), 0);
		n += info.nr_ranges;
		assert_true(n < max || !(info.flags & SEVMIG_TRACKER_SYNC_MORE));
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	return n;
}

/*
 * Decoding into a tracker whose log is on logs only the frames whose state
 * changes: decoding its own state back changes nothing, and a record that
 * differs in one range reports that range alone.
 */
static void test_decode_logs_real_flips(void **state)
{
	struct sevmig_tracker *t = mk(TIB), *src = mk(TIB);
	unsigned char buf[4096];
	uint64_t r[16], next;
	size_t len;

	(void)state;
	for (uint64_t i = 0; i < 50; i++) {
		assert_int_equal(sevmig_tracker_set_shared(t, i * 7919 * 31, 3), 0);
		assert_int_equal(sevmig_tracker_set_shared(src, i * 7919 * 31, 3),
				 0);
	}
	assert_int_equal(sevmig_tracker_set_shared(t, 2 * GIB, GIB), 0);
	assert_int_equal(sevmig_tracker_set_shared(src, 2 * GIB, GIB), 0);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);

	/* The same state: nothing flips, nothing is logged. */
	len = enc(src, 0, TIB, buf, sizeof(buf), &next);
	assert_int_equal(next, TIB);
	assert_int_equal(sevmig_tracker_decode(t, buf, len, NULL, NULL, 0), 0);
	assert_int_equal(round_into(t, r, 8), 0);

	/* One range differs (and one goes away): exactly those. */
	assert_int_equal(sevmig_tracker_set_shared(src, 5 * GIB + 1, 2), 0);
	assert_int_equal(sevmig_tracker_set_private(src, 7919 * 31, 3), 0);
	len = enc(src, 0, TIB, buf, sizeof(buf), &next);
	assert_int_equal(sevmig_tracker_decode(t, buf, len, NULL, NULL, 0), 0);
	assert_int_equal(round_into(t, r, 8), 2);
	assert_int_equal(r[0], 7919 * 31);
	assert_int_equal(r[1], 7919 * 31 + 3);
	assert_int_equal(r[2], 5 * GIB + 1);
	assert_int_equal(r[3], 5 * GIB + 3);

	/* A delta window over part of the huge range: only its flips. */
	assert_int_equal(sevmig_tracker_set_private(src, 2 * GIB + 10, 5), 0);
	assert_int_equal(sevmig_tracker_encode(src, SEVMIG_TRACKER_RECORD_DELTA,
					       2 * GIB, 3 * GIB, buf,
					       sizeof(buf), &len, &next, 0), 0);
	assert_int_equal(sevmig_tracker_decode(t, buf, len, NULL, NULL, 0), 0);
	assert_int_equal(round_into(t, r, 8), 1);
	assert_int_equal(r[0], 2 * GIB + 10);
	assert_int_equal(r[1], 2 * GIB + 15);
	sevmig_tracker_free(t);
	sevmig_tracker_free(src);
}

static uint64_t mem_of(struct sevmig_tracker *t)
{
	struct sevmig_tracker_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_tracker_stats(t, &st), 0);
	return st.mem_bytes;
}

/*
 * A valid 65 KB record whose ranges are spread over the whole 2^40-frame
 * space makes a receiver without a limit hold megabytes of nodes; with
 * the limit set to its RAM, the record is refused whole and nothing is
 * held. A hostile record inside the RAM can make it hold no more than the
 * bitmap of that RAM.
 */
static void test_decode_limit(void **state)
{
	const uint64_t max = SEVMIG_TRACKER_MAX_GFN;
	const uint64_t ram[4] = { 0, 1 * GIB, 4 * GIB, 7 * GIB };	/* 4 GiB */
	static unsigned char buf[65536];
	struct sevmig_tracker *src = mk(max), *open = mk(max), *lim = mk(max);
	uint64_t next, m0, nr = 0;
	size_t len;

	(void)state;
	/* One page in every 42nd slot of 2^21 frames: 12,483 ranges. */
	for (uint64_t g = 0; g < max; g += 42 * (UINT64_C(1) << 21))
		assert_int_equal(sevmig_tracker_set_shared(src, g + 5, 1), 0);
	assert_int_equal(sevmig_tracker_encode(src, SEVMIG_TRACKER_RECORD_FULL,
					       0, max, buf, sizeof(buf), &len,
					       &next, 0), 0);
	assert_int_equal(next, max);	/* one record, under 64 KiB */
	memcpy(&nr, buf + 32, 8);
	assert_true(nr > 12000);

	/* No limit: the bound is max_gfn's, many megabytes. */
	assert_int_equal(sevmig_tracker_decode(open, buf, len, NULL, NULL, 0), 0);
	assert_true(mem_of(open) > 8 * 1024 * 1024);

	/* The receiver's RAM as the limit: refused, nothing held. */
	assert_int_equal(sevmig_tracker_set_limit(lim, ram, 2, 0), 0);
	m0 = mem_of(lim);
	assert_int_equal(sevmig_tracker_decode(lim, buf, len, NULL, NULL, 0),
			 -ERANGE);
	assert_int_equal(mem_of(lim), m0);
	assert_int_equal(shared(lim), 0);

	/* The worst a stream can do inside the RAM: every leaf a bitmap. */
	sevmig_tracker_free(src);
	src = mk(max);
	for (uint64_t r = 0; r < 2; r++)
		for (uint64_t g = ram[2 * r]; g < ram[2 * r + 1]; g += 32768)
			for (uint64_t k = 0; k < 20; k++)
				assert_int_equal(sevmig_tracker_set_shared(
						src, g + k * 1500, 1), 0);
	for (uint64_t g = 0; g < max; g = next) {
		assert_int_equal(sevmig_tracker_encode(src,
				 SEVMIG_TRACKER_RECORD_FULL, g, max, buf,
				 sizeof(buf), &len, &next, 0), 0);
		assert_int_equal(sevmig_tracker_decode(lim, buf, len, NULL,
						       NULL, 0), 0);
	}
	assert_int_equal(shared(lim), shared(src));
	/* The flat bitmap of 4 GiB is 128 KiB; leaves carry 2 % more. */
	assert_true(mem_of(lim) <= 128 * 1024 * 102 / 100 + 64 * 1024);
	/* Removing the limit restores max_gfn's bound. */
	assert_int_equal(sevmig_tracker_set_limit(lim, NULL, 0, 0), 0);
	assert_int_equal(sevmig_tracker_set_shared(src, 9 * GIB, 1), 0);
	len = enc(src, 8 * GIB, 10 * GIB, buf, sizeof(buf), &next);
	assert_int_equal(sevmig_tracker_decode(lim, buf, len, NULL, NULL, 0), 0);
	sevmig_tracker_free(src);
	sevmig_tracker_free(open);
	sevmig_tracker_free(lim);
}

/*
 * The log's order. Sync refuses to run before sevmig_tracker_log_start(),
 * so the old trap (a first full pass, then a first sync that turns the log
 * on and returns nothing) cannot happen; and with the log started before
 * the pass, a conversion made by a vCPU thread while the pass runs is
 * reported by the next sync.
 */
struct racer {
	struct sevmig_tracker *t;
	uint64_t gfn[64];
	int n;
	atomic_int go;
};

static void *convert_during_pass(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->go))
		;
	for (int i = 0; i < r->n; i++)
		assert_int_equal(sevmig_tracker_set_shared(r->t, r->gfn[i], 1), 0);
	return NULL;
}

static void test_log_start_order(void **state)
{
	struct sevmig_tracker *t = mk(64 * GIB);
	struct racer rc = { .t = t, .n = 64 };
	static uint64_t r[2 * 128];
	uint64_t ends[16], g = 0, got = 0;
	struct sevmig_tracker_sync_info info = { .size = sizeof(info) };
	struct sevmig_tracker_stats st = { .size = sizeof(st) };
	pthread_t th;
	uint32_t first;

	(void)state;
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(sevmig_tracker_set_shared(t, i * 9973, 1), 0);
	/* Not started: refused, and nothing is logged. */
	assert_int_equal(sevmig_tracker_sync(t, r, 4, &info, 0), -EPROTO);
	assert_int_equal(sevmig_tracker_stats(t, &st), 0);
	assert_int_equal(st.flags & SEVMIG_TRACKER_STATS_LOGGING, 0);

	/* The session: start, then the first pass, with a vCPU converting. */
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	for (int i = 0; i < rc.n; i++)
		rc.gfn[i] = 5 + (uint64_t)i * (GIB - 3);	/* all private */
	assert_int_equal(pthread_create(&th, NULL, convert_during_pass, &rc), 0);
	while (g < 64 * GIB) {
		int k = sevmig_tracker_runs(t, g, 64 * GIB, ends, 16, &first,
					    NULL);

		assert_true(k > 0);
		g = ends[k - 1];
		atomic_store(&rc.go, 1);	/* they race with the pass */
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	/* The next sync reports every conversion, wherever the pass was. */
	got = round_into(t, r, 128);
	assert_int_equal(got, (uint64_t)rc.n);
	for (int i = 0; i < rc.n; i++) {
		assert_int_equal(r[2 * i], rc.gfn[i]);
		assert_int_equal(r[2 * i + 1], rc.gfn[i] + 1);
	}
	/* Restart forgets what was logged; stop turns it off again. */
	assert_int_equal(sevmig_tracker_set_private(t, 5, 1), 0);
	assert_int_equal(sevmig_tracker_log_start(t, 0), 0);
	assert_int_equal(round_into(t, r, 128), 0);
	assert_int_equal(sevmig_tracker_log_stop(t, 0), 0);
	assert_int_equal(sevmig_tracker_set_private(t, 9973, 1), 0);
	assert_int_equal(sevmig_tracker_sync(t, r, 4, &info, 0), -EPROTO);
	sevmig_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_basic_runs),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_leaf_forms),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_decode_hostile),
		cmocka_unit_test(test_decode_logs_real_flips),
		cmocka_unit_test(test_decode_limit),
		cmocka_unit_test(test_log_start_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
