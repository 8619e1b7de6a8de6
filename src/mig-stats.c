// SPDX-License-Identifier: MIT
/*
 * Session metrics: counters that worker threads bump without a lock, and a
 * fixed log2 histogram of firmware command latency (four buckets per power
 * of two), so the p99 is known without storing samples.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mig-session.h"

uint64_t mig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int mig_stats_init(struct mig_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->phase = SEVMIG_MIG_NEW;
	s->psp_ns_min = UINT64_MAX;
	return pthread_mutex_init(&s->lock, NULL) ? -ENOMEM : 0;
}

void mig_stats_fini(struct mig_stats *s)
{
	pthread_mutex_destroy(&s->lock);
}

void mig_stats_phase(struct mig_stats *s, uint32_t phase)
{
	pthread_mutex_lock(&s->lock);
	s->phase = phase;
	if (phase == SEVMIG_MIG_HANDSHAKE && !s->start_ns)
		s->start_ns = mig_now_ns();
	if (phase >= SEVMIG_MIG_COMMITTED && !s->end_ns)
		s->end_ns = mig_now_ns();
	pthread_mutex_unlock(&s->lock);
}

void mig_stats_fail(struct mig_stats *s, int err, uint32_t fw)
{
	pthread_mutex_lock(&s->lock);
	if (!s->error)
		s->error = err;
	if (fw)
		s->fw_error = fw;
	pthread_mutex_unlock(&s->lock);
}

static unsigned int lat_bucket(uint64_t ns)
{
	unsigned int log2, frac;

	if (ns < 4)
		return (unsigned int)ns;
	log2 = 63u - (unsigned int)__builtin_clzll(ns);
	frac = (unsigned int)(ns >> (log2 - 2)) & 3u;
	return log2 * 4u + frac < MIG_LAT_BUCKETS ? log2 * 4u + frac :
						    MIG_LAT_BUCKETS - 1;
}

/* The upper end of a bucket (the p99 we report is a bound, not a sample). */
static uint64_t bucket_top(unsigned int b)
{
	unsigned int log2 = b / 4u, frac = b % 4u;

	if (b < 4)
		return b;
	return ((4ull + frac + 1) << (log2 - 2)) - 1;
}

void mig_stats_psp(struct mig_stats *s, uint64_t ns, uint32_t fw)
{
	uint64_t cur;

	__atomic_add_fetch(&s->psp_commands, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->psp_ns_sum, ns, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->lat[lat_bucket(ns)], 1, __ATOMIC_RELAXED);
	cur = __atomic_load_n(&s->psp_ns_min, __ATOMIC_RELAXED);
	while (ns < cur && !__atomic_compare_exchange_n(&s->psp_ns_min, &cur, ns,
							true, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
	cur = __atomic_load_n(&s->psp_ns_max, __ATOMIC_RELAXED);
	while (ns > cur && !__atomic_compare_exchange_n(&s->psp_ns_max, &cur, ns,
							true, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
	if (fw && fw < 64)
		__atomic_or_fetch(&s->fw_status_seen, 1ull << fw,
				  __ATOMIC_RELAXED);
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void mig_stats_snapshot(struct mig_stats *s, uint64_t bytes_total,
			struct sevmig_mig_stats *k)
{
	uint64_t n, seen = 0, target;

	memset(k, 0, sizeof(*k));
	k->size = sizeof(*k);
	pthread_mutex_lock(&s->lock);
	k->phase = s->phase;
	k->error = s->error;
	k->fw_error = s->fw_error;
	k->passes = s->passes;
	k->remaining_pages = s->remaining_pages;
	k->dirty_rate = s->dirty_rate;
	if (s->start_ns)
		k->elapsed_ns = (s->end_ns ? s->end_ns : mig_now_ns()) -
				s->start_ns;
	k->downtime_ns = s->downtime_ns;
	pthread_mutex_unlock(&s->lock);
	k->pages_private = LOAD(s->pages_private);
	k->pages_shared = LOAD(s->pages_shared);
	k->bytes_private = LOAD(s->bytes_private);
	k->bytes_shared = LOAD(s->bytes_shared);
	k->bytes_total = bytes_total;
	k->records = LOAD(s->records);
	k->fw_status_seen = LOAD(s->fw_status_seen);
	n = LOAD(s->psp_commands);
	k->psp_commands = n;
	if (n) {
		k->psp_ns_min = LOAD(s->psp_ns_min);
		k->psp_ns_max = LOAD(s->psp_ns_max);
		k->psp_ns_mean = LOAD(s->psp_ns_sum) / n;
		target = n - n / 100;	/* the 99th percentile's rank */
		for (unsigned int b = 0; b < MIG_LAT_BUCKETS; b++) {
			seen += LOAD(s->lat[b]);
			if (seen >= target) {
				k->psp_ns_p99 = bucket_top(b);
				break;
			}
		}
		if (k->psp_ns_p99 > k->psp_ns_max)
			k->psp_ns_p99 = k->psp_ns_max;
	}
}

int mig_stats_read(struct mig_stats *s, const struct sevmig_ctx *ctx,
		   const char *fn, uint64_t bytes_total,
		   struct sevmig_mig_stats *out)
{
	struct sevmig_mig_stats k;
	int len;

	if (!out)
		return sevmig_arg_null(ctx, fn, "the stats record");
	len = sevmig_arg_out(ctx, fn, "stats record", out, sizeof(k),
			     SEVMIG_MIG_STATS_SIZE_VER0);
	if (len < 0)
		return len;
	mig_stats_snapshot(s, bytes_total, &k);
	sevmig_struct_out(out, &k, (size_t)len);
	return 0;
}
