// SPDX-License-Identifier: MIT
/*
 * Every error documented in include/sevmig/tracker.h ("Errors:" lines),
 * forced one by one: the return value must be the documented one, and a
 * line must reach the tracker's context log at SEVMIG_LOG_ERR (except for a
 * NULL tracker, which has no context to log through: documented). -ENOMEM
 * is forced in test-tracker-nomem.c, which can refuse allocations.
 * (tests/abi/check-errors.py reads the rows below: @errors-prefix sevmig_tracker_)
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sevmig/sevmig.h>

#define N 100000u	/* max_gfn of the fixture */

struct fx {
	struct sevmig_ctx *ctx;
	struct sevmig_tracker *t;	/* log off */
	struct sevmig_tracker *other;	/* another max_gfn */
	unsigned char rec[64];		/* a valid record for t */
	size_t rec_len;
	unsigned char far[64];		/* shares a frame beyond t's limit */
	size_t far_len;
	int lines;
	char last[512];
};

static struct fx F;

static void on_log(void *opaque, uint32_t level, const char *msg)
{
	struct fx *f = opaque;

	if (level == SEVMIG_LOG_ERR)
		f->lines++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

/* One row: a call that must fail with @want, logged unless @silent. */
struct row {
	const char *what;
	int want;
	int silent;	/* NULL tracker: nothing to log through */
	int (*call)(struct fx *f);
};

#define T (f->t)
static uint64_t u64;
static uint32_t u32;
static size_t sz;
static uint64_t ends[8];

/* sevmig_tracker_new */
static int new_null(struct fx *f)
{
	return sevmig_tracker_new(f->ctx, N, 0, NULL);
}
static int new_flags(struct fx *f)
{
	struct sevmig_tracker *t;

	return sevmig_tracker_new(f->ctx, N, 1, &t);
}
static int new_zero(struct fx *f)
{
	struct sevmig_tracker *t;

	return sevmig_tracker_new(f->ctx, 0, 0, &t);
}
static int new_big(struct fx *f)
{
	struct sevmig_tracker *t;

	return sevmig_tracker_new(f->ctx, SEVMIG_TRACKER_MAX_GFN + 1, 0, &t);
}
/* set_shared / set_private */
static int sh_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_set_shared(NULL, 0, 1);
}
static int sh_zero(struct fx *f)
{
	return sevmig_tracker_set_shared(T, 0, 0);
}
static int sh_wrap(struct fx *f)
{
	return sevmig_tracker_set_shared(T, 5, ~UINT64_C(0));
}
static int sh_beyond(struct fx *f)
{
	return sevmig_tracker_set_shared(T, N - 1, 2);
}
static int pr_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_set_private(NULL, 0, 1);
}
static int pr_zero(struct fx *f)
{
	return sevmig_tracker_set_private(T, 7, 0);
}
static int pr_wrap(struct fx *f)
{
	return sevmig_tracker_set_private(T, ~UINT64_C(0), 1);
}
static int pr_beyond(struct fx *f)
{
	return sevmig_tracker_set_private(T, N, 1);
}
/* reset */
static int reset_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_reset(NULL, 0);
}
static int reset_flags(struct fx *f)
{
	return sevmig_tracker_reset(T, 2);
}
/* state */
static int state_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_state(NULL, 0, &u32);
}
static int state_noret(struct fx *f)
{
	return sevmig_tracker_state(T, 0, NULL);
}
static int state_beyond(struct fx *f)
{
	return sevmig_tracker_state(T, N, &u32);
}
/* run_end */
static int rend_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_run_end(NULL, 0, &u64, NULL);
}
static int rend_noret(struct fx *f)
{
	return sevmig_tracker_run_end(T, 0, NULL, &u32);
}
static int rend_beyond(struct fx *f)
{
	return sevmig_tracker_run_end(T, N, &u64, NULL);
}
/* runs */
static int runs_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_runs(NULL, 0, 10, ends, 8, &u32, NULL);
}
static int runs_noends(struct fx *f)
{
	return sevmig_tracker_runs(T, 0, 10, NULL, 8, &u32, NULL);
}
static int runs_nofirst(struct fx *f)
{
	return sevmig_tracker_runs(T, 0, 10, ends, 8, NULL, NULL);
}
static int runs_max0(struct fx *f)
{
	return sevmig_tracker_runs(T, 0, 10, ends, 0, &u32, NULL);
}
static int runs_maxbig(struct fx *f)
{
	return sevmig_tracker_runs(T, 0, 10, ends, (uint32_t)INT_MAX + 1,
				   &u32, NULL);
}
static int runs_empty(struct fx *f)
{
	return sevmig_tracker_runs(T, 10, 10, ends, 8, &u32, NULL);
}
static int runs_beyond(struct fx *f)
{
	return sevmig_tracker_runs(T, 0, N + 1, ends, 8, &u32, NULL);
}
/* shared_pages */
static int sp_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_shared_pages(NULL, &u64);
}
static int sp_noret(struct fx *f)
{
	return sevmig_tracker_shared_pages(T, NULL);
}
/* log_start / log_stop */
static int lstart_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_log_start(NULL, 0);
}
static int lstart_flags(struct fx *f)
{
	return sevmig_tracker_log_start(T, 1);
}
static int lstop_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_log_stop(NULL, 0);
}
static int lstop_flags(struct fx *f)
{
	return sevmig_tracker_log_stop(T, 4);
}
/* sync */
static struct sevmig_tracker_sync_info info;
static int sync_call(struct fx *f, struct sevmig_tracker *t, uint64_t *r,
		     uint32_t max, struct sevmig_tracker_sync_info *i,
		     uint32_t flags)
{
	(void)f;
	return sevmig_tracker_sync(t, r, max, i, flags);
}
static int sync_null(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, NULL, ends, 4, &info, 0);
}
static int sync_noranges(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, T, NULL, 4, &info, 0);
}
static int sync_noinfo(struct fx *f)
{
	return sync_call(f, T, ends, 4, NULL, 0);
}
static int sync_max0(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, T, ends, 0, &info, 0);
}
static int sync_maxbig(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, T, ends, INT_MAX / 2 + 1, &info, 0);
}
static int sync_flags(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, T, ends, 4, &info, 8);
}
static int sync_small(struct fx *f)
{
	info.size = SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0 - 8;
	return sync_call(f, T, ends, 4, &info, 0);
}
static int sync_e2big(struct fx *f)
{
	struct {
		struct sevmig_tracker_sync_info i;
		uint64_t tail;
	} big = { .i.size = sizeof(big), .tail = 1 };

	return sync_call(f, T, ends, 4, &big.i, 0);
}
static int sync_logoff(struct fx *f)
{
	info.size = sizeof(info);
	return sync_call(f, T, ends, 4, &info, 0);
}
/* stats */
static int stats_null(struct fx *f)
{
	struct sevmig_tracker_stats s = { .size = sizeof(s) };

	(void)f;
	return sevmig_tracker_stats(NULL, &s);
}
static int stats_noret(struct fx *f)
{
	return sevmig_tracker_stats(T, NULL);
}
static int stats_small(struct fx *f)
{
	struct sevmig_tracker_stats s = { .size = 16 };

	return sevmig_tracker_stats(T, &s);
}
static int stats_e2big(struct fx *f)
{
	struct {
		struct sevmig_tracker_stats s;
		uint32_t tail;
	} big = { .s.size = sizeof(big), .tail = 9 };

	return sevmig_tracker_stats(T, &big.s);
}
/* set_limit */
static const uint64_t lim_ok[4] = { 0, 100, 200, 300 };
static int lim_null(struct fx *f)
{
	(void)f;
	return sevmig_tracker_set_limit(NULL, lim_ok, 2, 0);
}
static int lim_noranges(struct fx *f)
{
	return sevmig_tracker_set_limit(T, NULL, 2, 0);
}
static int lim_flags(struct fx *f)
{
	return sevmig_tracker_set_limit(T, lim_ok, 2, 1);
}
static int lim_many(struct fx *f)
{
	return sevmig_tracker_set_limit(T, lim_ok,
					SEVMIG_TRACKER_LIMIT_MAX + 1, 0);
}
static int lim_empty(struct fx *f)
{
	static const uint64_t r[4] = { 0, 100, 200, 200 };

	return sevmig_tracker_set_limit(T, r, 2, 0);
}
static int lim_unsorted(struct fx *f)
{
	static const uint64_t r[4] = { 200, 300, 0, 100 };

	return sevmig_tracker_set_limit(T, r, 2, 0);
}
static int lim_overlap(struct fx *f)
{
	static const uint64_t r[4] = { 0, 201, 200, 300 };

	return sevmig_tracker_set_limit(T, r, 2, 0);
}
static int lim_beyond(struct fx *f)
{
	static const uint64_t r[4] = { 0, 100, 200, N + 1 };

	return sevmig_tracker_set_limit(T, r, 2, 0);
}
/* encode */
static unsigned char buf[256];
static int enc(struct fx *f, struct sevmig_tracker *t, uint32_t kind,
	       uint64_t g, uint64_t e, void *b, size_t len, size_t *rl,
	       uint64_t *rn, uint32_t flags)
{
	(void)f;
	return sevmig_tracker_encode(t, kind, g, e, b, len, rl, rn, flags);
}
static int enc_null(struct fx *f)
{
	return enc(f, NULL, 1, 0, N, buf, sizeof(buf), &sz, &u64, 0);
}
static int enc_nobuf(struct fx *f)
{
	return enc(f, T, 1, 0, N, NULL, sizeof(buf), &sz, &u64, 0);
}
static int enc_nolen(struct fx *f)
{
	return enc(f, T, 1, 0, N, buf, sizeof(buf), NULL, &u64, 0);
}
static int enc_nonext(struct fx *f)
{
	return enc(f, T, 1, 0, N, buf, sizeof(buf), &sz, NULL, 0);
}
static int enc_kind(struct fx *f)
{
	return enc(f, T, 3, 0, N, buf, sizeof(buf), &sz, &u64, 0);
}
static int enc_flags(struct fx *f)
{
	return enc(f, T, 1, 0, N, buf, sizeof(buf), &sz, &u64, 1);
}
static int enc_empty(struct fx *f)
{
	return enc(f, T, 1, 9, 9, buf, sizeof(buf), &sz, &u64, 0);
}
static int enc_beyond(struct fx *f)
{
	return enc(f, T, 2, 0, N + 1, buf, sizeof(buf), &sz, &u64, 0);
}
static int enc_small(struct fx *f)
{
	return enc(f, T, 1, 0, N, buf, SEVMIG_TRACKER_RECORD_MIN - 1, &sz,
		   &u64, 0);
}
/* decode */
static int dec_null(struct fx *f)
{
	return sevmig_tracker_decode(NULL, f->rec, f->rec_len, NULL, NULL, 0);
}
static int dec_nobuf(struct fx *f)
{
	return sevmig_tracker_decode(T, NULL, f->rec_len, NULL, NULL, 0);
}
static int dec_flags(struct fx *f)
{
	return sevmig_tracker_decode(T, f->rec, f->rec_len, NULL, NULL, 1);
}
static int dec_maxgfn(struct fx *f)
{
	return sevmig_tracker_decode(f->other, f->rec, f->rec_len, NULL, NULL,
				     0);
}
static int dec_bad(struct fx *f)
{
	unsigned char bad[64];

	memcpy(bad, f->rec, f->rec_len);
	bad[4] = 9;	/* version */
	return sevmig_tracker_decode(T, bad, f->rec_len, NULL, NULL, 0);
}
static int dec_short(struct fx *f)
{
	return sevmig_tracker_decode(T, f->rec, f->rec_len - 1, NULL, NULL, 0);
}
static int dec_limit(struct fx *f)
{
	static const uint64_t r[2] = { 0, 1000 };
	int rc;

	assert_int_equal(sevmig_tracker_set_limit(T, r, 1, 0), 0);
	rc = sevmig_tracker_decode(T, f->far, f->far_len, NULL, NULL, 0);
	assert_int_equal(sevmig_tracker_set_limit(T, NULL, 0, 0), 0);
	return rc;
}

static const struct row rows[] = {
	{ "new: NULL ret_tracker", -EINVAL, 0, new_null },
	{ "new: flags", -EINVAL, 0, new_flags },
	{ "new: max_gfn 0", -EINVAL, 0, new_zero },
	{ "new: max_gfn above the maximum", -EINVAL, 0, new_big },
	{ "set_shared: NULL tracker", -EINVAL, 1, sh_null },
	{ "set_shared: npages 0", -EINVAL, 0, sh_zero },
	{ "set_shared: wraps", -ERANGE, 0, sh_wrap },
	{ "set_shared: beyond max_gfn", -ERANGE, 0, sh_beyond },
	{ "set_private: NULL tracker", -EINVAL, 1, pr_null },
	{ "set_private: npages 0", -EINVAL, 0, pr_zero },
	{ "set_private: wraps", -ERANGE, 0, pr_wrap },
	{ "set_private: beyond max_gfn", -ERANGE, 0, pr_beyond },
	{ "reset: NULL tracker", -EINVAL, 1, reset_null },
	{ "reset: flags", -EINVAL, 0, reset_flags },
	{ "state: NULL tracker", -EINVAL, 1, state_null },
	{ "state: NULL ret_state", -EINVAL, 0, state_noret },
	{ "state: gfn >= max_gfn", -ERANGE, 0, state_beyond },
	{ "run_end: NULL tracker", -EINVAL, 1, rend_null },
	{ "run_end: NULL ret_end", -EINVAL, 0, rend_noret },
	{ "run_end: gfn >= max_gfn", -ERANGE, 0, rend_beyond },
	{ "runs: NULL tracker", -EINVAL, 1, runs_null },
	{ "runs: NULL ret_ends", -EINVAL, 0, runs_noends },
	{ "runs: NULL ret_first_state", -EINVAL, 0, runs_nofirst },
	{ "runs: max_ends 0", -EINVAL, 0, runs_max0 },
	{ "runs: max_ends above INT_MAX", -EINVAL, 0, runs_maxbig },
	{ "runs: gfn >= end", -EINVAL, 0, runs_empty },
	{ "runs: end beyond max_gfn", -ERANGE, 0, runs_beyond },
	{ "shared_pages: NULL tracker", -EINVAL, 1, sp_null },
	{ "shared_pages: NULL ret_pages", -EINVAL, 0, sp_noret },
	{ "log_start: NULL tracker", -EINVAL, 1, lstart_null },
	{ "log_start: flags", -EINVAL, 0, lstart_flags },
	{ "log_stop: NULL tracker", -EINVAL, 1, lstop_null },
	{ "log_stop: flags", -EINVAL, 0, lstop_flags },
	{ "sync: NULL tracker", -EINVAL, 1, sync_null },
	{ "sync: NULL ret_ranges", -EINVAL, 0, sync_noranges },
	{ "sync: NULL info", -EINVAL, 0, sync_noinfo },
	{ "sync: max_ranges 0", -EINVAL, 0, sync_max0 },
	{ "sync: max_ranges above INT_MAX/2", -EINVAL, 0, sync_maxbig },
	{ "sync: flags", -EINVAL, 0, sync_flags },
	{ "sync: info->size below the first version", -EINVAL, 0, sync_small },
	{ "sync: newer info with a non-zero tail", -E2BIG, 0, sync_e2big },
	{ "sync: the log is off", -EPROTO, 0, sync_logoff },
	{ "stats: NULL tracker", -EINVAL, 1, stats_null },
	{ "stats: NULL stats", -EINVAL, 0, stats_noret },
	{ "stats: size below the first version", -EINVAL, 0, stats_small },
	{ "stats: newer record with a non-zero tail", -E2BIG, 0, stats_e2big },
	{ "set_limit: NULL tracker", -EINVAL, 1, lim_null },
	{ "set_limit: NULL ranges", -EINVAL, 0, lim_noranges },
	{ "set_limit: flags", -EINVAL, 0, lim_flags },
	{ "set_limit: too many ranges", -EINVAL, 0, lim_many },
	{ "set_limit: an empty range", -EINVAL, 0, lim_empty },
	{ "set_limit: unsorted ranges", -EINVAL, 0, lim_unsorted },
	{ "set_limit: overlapping ranges", -EINVAL, 0, lim_overlap },
	{ "set_limit: a range beyond max_gfn", -ERANGE, 0, lim_beyond },
	{ "encode: NULL tracker", -EINVAL, 1, enc_null },
	{ "encode: NULL buf", -EINVAL, 0, enc_nobuf },
	{ "encode: NULL ret_len", -EINVAL, 0, enc_nolen },
	{ "encode: NULL ret_next", -EINVAL, 0, enc_nonext },
	{ "encode: kind", -EINVAL, 0, enc_kind },
	{ "encode: flags", -EINVAL, 0, enc_flags },
	{ "encode: gfn >= end", -EINVAL, 0, enc_empty },
	{ "encode: end beyond max_gfn", -ERANGE, 0, enc_beyond },
	{ "encode: buffer below RECORD_MIN", -ENOSPC, 0, enc_small },
	{ "decode: NULL tracker", -EINVAL, 1, dec_null },
	{ "decode: NULL buf", -EINVAL, 0, dec_nobuf },
	{ "decode: flags", -EINVAL, 0, dec_flags },
	{ "decode: max_gfn differs", -EINVAL, 0, dec_maxgfn },
	{ "decode: malformed record", -EBADMSG, 0, dec_bad },
	{ "decode: truncated record", -EBADMSG, 0, dec_short },
	{ "decode: shares frames outside the limit", -ERANGE, 0, dec_limit },
};

static void test_documented_errors(void **state)
{
	struct fx *f = &F;
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = on_log,
				     .log_opaque = &F,
				     .log_level = SEVMIG_LOG_DEBUG };
	struct sevmig_tracker *src;
	uint64_t next;
	int failures = 0;

	(void)state;
	assert_int_equal(sevmig_ctx_new(&o, &f->ctx), 0);
	assert_int_equal(sevmig_tracker_new(f->ctx, N, 0, &f->t), 0);
	assert_int_equal(sevmig_tracker_new(f->ctx, 2 * N, 0, &f->other), 0);
	assert_int_equal(sevmig_tracker_set_shared(f->t, 10, 5), 0);
	assert_int_equal(sevmig_tracker_encode(f->t, SEVMIG_TRACKER_RECORD_FULL,
					       0, N, f->rec, sizeof(f->rec),
					       &f->rec_len, &next, 0), 0);
	assert_int_equal(sevmig_tracker_new(NULL, N, 0, &src), 0);
	assert_int_equal(sevmig_tracker_set_shared(src, 5000, 1), 0);
	assert_int_equal(sevmig_tracker_encode(src, SEVMIG_TRACKER_RECORD_FULL,
					       0, N, f->far, sizeof(f->far),
					       &f->far_len, &next, 0), 0);
	sevmig_tracker_free(src);
	assert_int_equal(f->lines, 0);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		f->lines = 0;
		f->last[0] = 0;
		rc = rows[i].call(f);
		if (rc != rows[i].want) {
			print_error("%s: returned %d, documented %d\n",
				    rows[i].what, rc, rows[i].want);
			failures++;
		} else if (!rows[i].silent && f->lines != 1) {
			print_error("%s: %d error lines in the log\n",
				    rows[i].what, f->lines);
			failures++;
		} else if (rows[i].silent && f->lines) {
			print_error("%s: logged without a context?\n",
				    rows[i].what);
			failures++;
		}
	}
	/* Nothing above may have changed the state. */
	assert_int_equal(sevmig_tracker_shared_pages(f->t, &u64), 0);
	assert_int_equal(u64, 5);
	assert_int_equal(failures, 0);
	sevmig_tracker_free(f->t);
	sevmig_tracker_free(f->other);
	sevmig_ctx_free(f->ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
