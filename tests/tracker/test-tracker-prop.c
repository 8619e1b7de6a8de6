// SPDX-License-Identifier: MIT
/*
 * Model-based property test: millions of random operations on a tracker and
 * on the one-bit-per-page oracle (oracle.h), mixing huge ranges, single
 * pages, 2 MiB units, adjacent and overlapping ranges, the alternating
 * worst case, resets, the log started, restarted and stopped, sync rounds
 * (drained in small pieces while updates continue), encode/decode round
 * trips and records decoded into the tracker itself (whose log must record
 * exactly the frames that flip). The tracker is compiled in with its test
 * hooks, and each operation runs with a random work budget per lock hold,
 * often tiny, so long updates run in many steps. After every operation the
 * two must agree on the counts, the state and run end around the
 * operation's edges and at a random frame; every 512 operations and at
 * the end, on every run of the whole space and on the changed log.
 *
 * SEVMIG_PROPTEST_OPS (default 2000000) sets the total operation count,
 * SEVMIG_PROPTEST_SEED the seed (printed on failure).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <sevmig/sevmig.h>

#include "oracle.h"
#include "tracker-priv.h"

static uint64_t rng_state;
static uint64_t step;
static uint64_t seed;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "FAIL %s:%d (seed %" PRIu64           \
				", step %" PRIu64 "): %s\n  ",                \
				__FILE__, __LINE__, seed, step, #cond);       \
			fprintf(stderr, __VA_ARGS__);                         \
			fprintf(stderr, "\n");                                \
			exit(1);                                              \
		}                                                             \
	} while (0)

struct world {
	struct sevmig_tracker *t;
	struct oracle o;
	uint64_t n;
	uint64_t last_s, last_e;
	uint64_t *round;	/* ranges collected in the open round */
	size_t round_len, round_cap;
	uint64_t generation;
};

/* A frame near an interesting boundary (leaf, node, 2 MiB) or anywhere. */
static uint64_t pick(const struct world *w)
{
	static const uint64_t grains[] = { 32768, 2097152, 512, 64 };
	uint64_t g;

	switch (below(4)) {
	case 0: {
		uint64_t gr = grains[below(4)];
		uint64_t k = below(w->n / gr + 1) * gr;

		g = k + below(5) - 2;
		break;
	}
	default:
		g = below(w->n);
	}
	return g >= w->n ? below(w->n) : g;
}

static void check_point(struct world *w, uint64_t g)
{
	uint32_t st;
	uint64_t end;

	if (g >= w->n)
		return;
	CHECK(sevmig_tracker_state(w->t, g, &st) == 0, "state");
	CHECK(st == (obit(w->o.s, g) ? SEVMIG_PAGE_SHARED : SEVMIG_PAGE_PRIVATE),
	      "state of %" PRIu64 ": %u", g, st);
	CHECK(sevmig_tracker_run_end(w->t, g, &end, &st) == 0, "run_end");
	CHECK(end == oracle_run_end(&w->o, w->o.s, g),
	      "run end from %" PRIu64 ": %" PRIu64 " want %" PRIu64, g, end,
	      oracle_run_end(&w->o, w->o.s, g));
}

static void check_counts(struct world *w)
{
	struct sevmig_tracker_stats st = { .size = sizeof(st) };
	uint64_t shared;

	CHECK(sevmig_tracker_shared_pages(w->t, &shared) == 0, "count");
	CHECK(shared == w->o.shared, "shared %" PRIu64 " want %" PRIu64,
	      shared, w->o.shared);
	CHECK(sevmig_tracker_stats(w->t, &st) == 0, "stats");
	CHECK(st.changed_pages == w->o.changed,
	      "changed %" PRIu64 " want %" PRIu64, st.changed_pages,
	      w->o.changed);
	CHECK(!(st.flags & SEVMIG_TRACKER_STATS_LOGGING) == !w->o.logging,
	      "logging flag");
}

/* Every run of [0, n), in random batch sizes. */
static void check_all_runs(struct world *w, struct sevmig_tracker *t)
{
	uint64_t ends[97], g = 0;

	while (g < w->n) {
		uint32_t first, max = (uint32_t)(1 + below(96));
		int n = sevmig_tracker_runs(t, g, w->n, ends, max, &first, NULL);

		CHECK(n >= 1 && (uint32_t)n <= max, "runs returned %d", n);
		for (int i = 0; i < n; i++) {
			uint64_t want = oracle_run_end(&w->o, w->o.s, g);
			int st = first == SEVMIG_PAGE_SHARED ? 1 : 0;

			CHECK(obit(w->o.s, g) == (st ^ (i & 1)),
			      "run %d state at %" PRIu64, i, g);
			CHECK(ends[i] == want, "run end %" PRIu64 " want %" PRIu64,
			      ends[i], want);
			g = ends[i];
		}
	}
}

/* One sync call; the round's ranges are compared when it completes. */
static void sync_step(struct world *w, uint32_t max)
{
	uint64_t buf[2 * 64];
	struct sevmig_tracker_sync_info info = { .size = sizeof(info) };
	uint64_t pages = 0;

	if (!w->o.logging) {
		CHECK(sevmig_tracker_sync(w->t, buf, max, &info, 0) == -EPROTO,
		      "sync with the log off");
		return;
	}
	if (!w->o.round_open) {
		oracle_take_round(&w->o);
		w->round_len = 0;
		w->generation++;
	}
	CHECK(sevmig_tracker_sync(w->t, buf, max, &info, 0) == 0, "sync");
	CHECK(info.generation == w->generation, "generation %" PRIu64,
	      info.generation);
	CHECK(info.nr_ranges <= max, "nr_ranges");
	for (uint64_t i = 0; i < info.nr_ranges; i++) {
		uint64_t s = buf[2 * i], e = buf[2 * i + 1];

		CHECK(s < e && e <= w->n, "range %" PRIu64 "-%" PRIu64, s, e);
		CHECK(w->round_len == 0 || s > w->round[w->round_len - 1],
		      "ranges not sorted/coalesced");
		if (w->round_len + 2 > w->round_cap) {
			w->round_cap = w->round_cap ? 2 * w->round_cap : 1024;
			w->round = realloc(w->round, w->round_cap * 8);
		}
		w->round[w->round_len++] = s;
		w->round[w->round_len++] = e;
		pages += e - s;
	}
	CHECK(pages == info.pages, "pages");
	if (info.flags & SEVMIG_TRACKER_SYNC_MORE)
		return;
	/* Round complete: exactly the oracle's P. */
	size_t k = 0;
	uint64_t g = 0;

	while (g < w->n) {
		uint64_t e = oracle_run_end(&w->o, w->o.p, g);

		if (obit(w->o.p, g)) {
			CHECK(k + 2 <= w->round_len, "missing range %" PRIu64
			      "-%" PRIu64, g, e);
			CHECK(w->round[k] == g && w->round[k + 1] == e,
			      "range %" PRIu64 "-%" PRIu64 " want %" PRIu64
			      "-%" PRIu64, w->round[k], w->round[k + 1], g, e);
			k += 2;
		}
		g = e;
	}
	CHECK(k == w->round_len, "extra ranges in round");
	w->o.round_open = false;
}

static void codec_check(struct world *w)
{
	struct sevmig_tracker *t2;
	size_t cap = 64 + below(4096), len, used;
	unsigned char *buf = malloc(cap);
	uint64_t g = 0, next;
	uint32_t kind;

	CHECK(sevmig_tracker_new(NULL, w->n, 0, &t2) == 0, "new");
	/* Garbage first: the records must overwrite it. */
	for (int i = 0; i < 20; i++) {
		uint64_t s = below(w->n);

		CHECK(sevmig_tracker_set_shared(t2, s, 1 + below(w->n - s)) == 0,
		      "set");
	}
	while (g < w->n) {
		CHECK(sevmig_tracker_encode(w->t, SEVMIG_TRACKER_RECORD_FULL, g,
					    w->n, buf, cap, &len, &next, 0) == 0,
		      "encode");
		CHECK(next > g && len <= cap, "encode progress");
		CHECK(sevmig_tracker_decode(t2, buf, len, &used, &kind, 0) == 0,
		      "decode");
		CHECK(used == len && kind == SEVMIG_TRACKER_RECORD_FULL, "used");
		g = next;
	}
	check_all_runs(w, t2);
	sevmig_tracker_free(t2);
	free(buf);
}

/*
 * Decode into the tracker itself a window of a random other state: the
 * oracle sets the window page by page, so its log holds exactly the frames
 * that flip; the tracker's must too.
 */
static void decode_into(struct world *w)
{
	struct sevmig_tracker *src;
	size_t cap = 64 + below(512), len;
	unsigned char *buf = malloc(cap);
	uint64_t ws = below(w->n), we = ws + 1 + below(w->n - ws), g, next;
	uint64_t ends[64];

	CHECK(buf && sevmig_tracker_new(NULL, w->n, 0, &src) == 0, "new");
	/* Often the tracker's own state with a few changes: few flips. */
	g = 0;
	while (below(2) && g < w->n) {
		uint32_t first;
		int k = sevmig_tracker_runs(w->t, g, w->n, ends, 64, &first, NULL);
		int st = first == SEVMIG_PAGE_SHARED;

		for (int i = 0; i < k; i++, st ^= 1) {
			if (st)
				CHECK(sevmig_tracker_set_shared(src, g,
								ends[i] - g) == 0,
				      "copy");
			g = ends[i];
		}
	}
	for (uint64_t i = below(8); i > 0; i--) {
		uint64_t s = pick(w), e = s + 1 + below(1 + below(5000));

		if (e > w->n)
			e = w->n;
		CHECK((below(2) ? sevmig_tracker_set_shared(src, s, e - s)
				: sevmig_tracker_set_private(src, s, e - s)) == 0,
		      "src");
	}
	for (g = ws; g < we; g = next) {
		CHECK(sevmig_tracker_encode(src, SEVMIG_TRACKER_RECORD_DELTA, g,
					    we, buf, cap, &len, &next, 0) == 0,
		      "encode");
		CHECK(sevmig_tracker_decode(w->t, buf, len, NULL, NULL, 0) == 0,
		      "decode into itself");
		/* The oracle: the record's window, run by run. */
		for (uint64_t x = g; x < next;) {
			uint32_t first;
			int k = sevmig_tracker_runs(src, x, next, ends, 64,
						    &first, NULL);
			int st = first == SEVMIG_PAGE_SHARED;

			for (int i = 0; i < k; i++, st ^= 1) {
				oracle_set(&w->o, x, ends[i], st);
				x = ends[i];
			}
		}
	}
	w->last_s = ws;
	w->last_e = we;
	sevmig_tracker_free(src);
	free(buf);
}

static void update(struct world *w, uint64_t s, uint64_t e, int v)
{
	int rc;

	if (s >= e)
		return;
	if (v)
		rc = sevmig_tracker_set_shared(w->t, s, e - s);
	else
		rc = sevmig_tracker_set_private(w->t, s, e - s);
	CHECK(rc == 0, "update %" PRIu64 "-%" PRIu64 " rc %d", s, e, rc);
	oracle_set(&w->o, s, e, v);
	w->last_s = s;
	w->last_e = e;
}

static void one_op(struct world *w)
{
	uint64_t r = below(1000), s, len, e;
	int v = (int)below(2);

	if (r < 30) {			/* huge range, up to everything */
		s = below(4) ? below(w->n) : 0;
		e = below(2) ? w->n : s + 1 + below(w->n - s);
	} else if (r < 330) {		/* one page */
		s = pick(w);
		e = s + 1;
	} else if (r < 530) {		/* a few pages */
		s = pick(w);
		e = s + 1 + below(64);
	} else if (r < 630) {		/* 2 MiB / 1 GiB mapping units */
		len = below(8) ? 512 : 262144;
		s = below(w->n / len + 1) * len;
		e = s + len;
	} else if (r < 730) {		/* adjacent to / overlapping the last */
		len = 1 + below(1 + below(100000));
		if (below(2)) {
			s = w->last_e - (below(3) ? 0 : below(w->last_e - w->last_s + 1));
			e = s + len;
		} else {
			e = w->last_s + (below(3) ? 0 : below(w->last_e - w->last_s + 1));
			s = e > len ? e - len : 0;
		}
	} else if (r < 750) {		/* alternating pages */
		s = pick(w);
		len = 2 + below(600);
		for (uint64_t g = s; g < s + len && g < w->n; g += 2)
			update(w, g, g + 1, v);
		return;
	} else if (r < 751) {		/* reset */
		CHECK(sevmig_tracker_reset(w->t, 0) == 0, "reset");
		oracle_set(&w->o, 0, w->n, 0);
		return;
	} else if (r < 775) {		/* sync, whole round */
		do
			sync_step(w, (uint32_t)(1 + below(64)));
		while (w->o.round_open);
		return;
	} else if (r < 790) {		/* one piece of a round */
		sync_step(w, (uint32_t)(1 + below(4)));
		return;
	} else if (r < 791) {
		codec_check(w);
		return;
	} else if (r < 793) {
		decode_into(w);
		return;
	} else if (r < 795) {		/* a new migration: restart the log */
		CHECK(sevmig_tracker_log_start(w->t, 0) == 0, "log_start");
		oracle_log(&w->o, true);
		return;
	} else if (r < 796) {		/* the migration ended */
		CHECK(sevmig_tracker_log_stop(w->t, 0) == 0, "log_stop");
		oracle_log(&w->o, false);
		return;
	} else {			/* medium range */
		s = pick(w);
		e = s + 1 + below(1 + below(1u << 20));
	}
	if (e > w->n)
		e = w->n;
	if (s >= w->n)
		s = w->n - 1;
	update(w, s, e, v);
}

static void run(uint64_t n, uint64_t ops)
{
	struct world w = { .n = n };
	uint64_t probe;

	CHECK(sevmig_tracker_new(NULL, n, 0, &w.t) == 0, "new");
	oracle_init(&w.o, n);
	CHECK(sevmig_tracker_log_start(w.t, 0) == 0, "log_start");
	oracle_log(&w.o, true);
	w.last_s = 0;
	w.last_e = 1;
	for (uint64_t i = 0; i < ops; i++, step++) {
		static const uint32_t budgets[] = { 0, 0, 1, 2, 5, 40 };

		/* 0 is the default; small budgets split long updates. */
		sevmig_tracker_hold_budget = budgets[below(6)];
		one_op(&w);
		check_counts(&w);
		check_point(&w, w.last_s);
		check_point(&w, w.last_e);
		if (w.last_s)
			check_point(&w, w.last_s - 1);
		check_point(&w, w.last_e - 1);
		probe = pick(&w);
		check_point(&w, probe);
		if (i % 512 == 0)
			check_all_runs(&w, w.t);
	}
	check_all_runs(&w, w.t);
	if (!w.o.logging) {
		CHECK(sevmig_tracker_log_start(w.t, 0) == 0, "log_start");
		oracle_log(&w.o, true);
	}
	while (w.o.round_open)
		sync_step(&w, 64);
	sync_step(&w, 64);
	while (w.o.round_open)
		sync_step(&w, 64);
	codec_check(&w);

	struct sevmig_tracker_stats st = { .size = sizeof(st) };

	CHECK(sevmig_tracker_stats(w.t, &st) == 0, "stats");
	printf("max_gfn %" PRIu64 ": %" PRIu64 " ops, %" PRIu64
	       " shared, %" PRIu64 " leaves, peak %" PRIu64 " KiB\n",
	       n, ops, st.shared_pages, st.leaves, st.peak_mem_bytes / 1024);
	sevmig_tracker_free(w.t);
	oracle_fini(&w.o);
	free(w.round);
}

int main(void)
{
	const char *env = getenv("SEVMIG_PROPTEST_OPS");
	uint64_t ops = env ? strtoull(env, NULL, 0) : 2000000;

	env = getenv("SEVMIG_PROPTEST_SEED");
	seed = env ? strtoull(env, NULL, 0) : 0x5e7319;
	rng_state = seed;
	/*
	 * Sizes: under one leaf, a few leaves (one level), more than 64
	 * leaves (two levels), each with a ragged end.
	 */
	run(20000, ops / 10);
	run(5 * 32768 + 77, ops / 2);
	run(65 * 32768 + 12345, ops - ops / 10 - ops / 2);
	printf("property test passed (seed %" PRIu64 ")\n", seed);
	return 0;
}
