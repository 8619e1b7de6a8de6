// SPDX-License-Identifier: MIT
/*
 * Concurrency stress, meant for ThreadSanitizer (suite 'tsan'): vCPU
 * threads convert pages in their own slices (so the final state is
 * known) and occasionally across everyone's (huge re-encrypt-style
 * ranges over untracked scratch space), while the migration thread walks
 * runs, queries, encodes and syncs. Checks:
 *  - every run batch tiles its interval with alternating states;
 *  - after the threads stop, the state equals each thread's own model;
 *  - every page whose final state is shared was reported by some sync
 *    round (nothing flipped between two syncs is missed), the rounds'
 *    ranges are sorted and generations increase by one.
 * The tracker is compiled in with its test hooks and a tiny work budget
 * per lock hold, so the huge ranges run in many steps between which the
 * other threads take the lock.
 *
 * SEVMIG_STRESS_MS (default 1500) bounds the run time.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sevmig/sevmig.h>

#include "tracker-priv.h"

#define NTHREADS 4
#define SLICE (UINT64_C(3) * 32768 + 100)	/* spans leaf boundaries */
#define SCRATCH (UINT64_C(64) * 32768)
#define MAX_GFN (NTHREADS * SLICE + SCRATCH)

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__,         \
				__LINE__, #c);                                \
			exit(1);                                              \
		}                                                             \
	} while (0)

static struct sevmig_tracker *t;
static atomic_int stop;
static uint8_t model[NTHREADS][SLICE];	/* each written by its thread only */
static uint8_t reported[NTHREADS * SLICE];	/* migration thread only */

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *vcpu(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t r = 0x1234567ull * (uint64_t)(id + 1), base = id * SLICE;
	unsigned long ops = 0;

	while (!atomic_load(&stop) || ops < 1000) {
		uint64_t k = xs(&r) % 100, s, len;
		int v = (int)(xs(&r) & 1);

		if (k < 2) {	/* huge range in the shared scratch area */
			s = NTHREADS * SLICE + xs(&r) % (SCRATCH / 2);
			len = 1 + xs(&r) % (SCRATCH / 2);
			CHECK((v ? sevmig_tracker_set_shared(t, s, len)
				 : sevmig_tracker_set_private(t, s, len)) == 0);
			ops++;
			continue;
		}
		s = xs(&r) % SLICE;
		len = k < 60 ? 1 : 1 + xs(&r) % (k < 90 ? 64 : 40000);
		if (s + len > SLICE)
			len = SLICE - s;
		CHECK((v ? sevmig_tracker_set_shared(t, base + s, len)
			 : sevmig_tracker_set_private(t, base + s, len)) == 0);
		memset(&model[id][s], v, len);
		ops++;
	}
	return NULL;
}

static uint64_t last_gen;

/* Drain one sync round; mark what it reports. */
static void sync_round(void)
{
	uint64_t r[2 * 37], prev_end = 0;
	struct sevmig_tracker_sync_info info;
	uint64_t gen = 0;

	do {
		info.size = sizeof(info);
		CHECK(sevmig_tracker_sync(t, r, 37, &info, 0) == 0);
		CHECK(gen == 0 || info.generation == gen);
		gen = info.generation;
		for (uint64_t i = 0; i < info.nr_ranges; i++) {
			CHECK(r[2 * i] < r[2 * i + 1]);
			CHECK(r[2 * i] >= prev_end);
			prev_end = r[2 * i + 1];
			for (uint64_t g = r[2 * i];
			     g < r[2 * i + 1] && g < NTHREADS * SLICE; g++)
				reported[g] = 1;
		}
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	CHECK(gen == last_gen + 1);
	last_gen = gen;
}

static void walk_all(void)
{
	uint64_t ends[256], g = 0, seq, seq0 = 0;
	uint32_t first;
	int batches = 0;

	while (g < MAX_GFN) {
		int n = sevmig_tracker_runs(t, g, MAX_GFN, ends, 256, &first,
					    &seq);

		CHECK(n >= 1);
		for (int i = 0; i < n; i++) {
			CHECK(ends[i] > g);
			g = ends[i];
		}
		if (!batches++)
			seq0 = seq;
		CHECK(seq >= seq0);
	}
	CHECK(g == MAX_GFN);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(void)
{
	const char *env = getenv("SEVMIG_STRESS_MS");
	uint64_t ms = env ? strtoull(env, NULL, 0) : 1500, t0;
	pthread_t th[NTHREADS];
	unsigned char buf[4096];
	unsigned long rounds = 0, walks = 0;

	CHECK(sevmig_tracker_new(NULL, MAX_GFN, 0, &t) == 0);
	CHECK(sevmig_tracker_log_start(t, 0) == 0);
	/* Tiny holds: long updates run in many steps, interleaved. */
	sevmig_tracker_hold_budget = 2;
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, vcpu, (void *)(intptr_t)i) == 0);
	t0 = now_ms();
	while (now_ms() - t0 < ms) {
		uint64_t next, gfn = 0, cnt;
		size_t len;
		uint32_t s;

		walk_all();
		walks++;
		sync_round();
		rounds++;
		CHECK(sevmig_tracker_state(t, MAX_GFN - 1, &s) == 0);
		CHECK(sevmig_tracker_shared_pages(t, &cnt) == 0);
		CHECK(cnt <= MAX_GFN);
		while (gfn < MAX_GFN) {
			CHECK(sevmig_tracker_encode(t, SEVMIG_TRACKER_RECORD_FULL,
						    gfn, MAX_GFN, buf,
						    sizeof(buf), &len, &next,
						    0) == 0);
			CHECK(next > gfn);
			gfn = next;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	sync_round();	/* flips after the last round in the loop */

	for (int id = 0; id < NTHREADS; id++)
		for (uint64_t g = 0; g < SLICE; g++) {
			uint32_t s;

			CHECK(sevmig_tracker_state(t, id * SLICE + g, &s) == 0);
			CHECK(s == (model[id][g] ? SEVMIG_PAGE_SHARED
						  : SEVMIG_PAGE_PRIVATE));
			/* Shared now, private at the start: a sync saw it. */
			if (model[id][g])
				CHECK(reported[id * SLICE + g]);
		}
	printf("stress passed: %lu walks, %lu sync rounds\n", walks, rounds);
	sevmig_tracker_free(t);
	return 0;
}
