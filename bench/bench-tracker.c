// SPDX-License-Identifier: MIT
/*
 * Page-state tracker benchmark. Prints figures; it is not a timed test.
 *
 * Targets, each measured in this run (PASS/MISS printed beside each):
 *  T1 one real exit to userspace and back on /dev/kvm (bench/kvm-exit.c),
 *     the yardstick: skipped cleanly when /dev/kvm is absent;
 *  T2 the cost of one update (a DMA buffer of 1-4 pages, sometimes more,
 *     decrypted or re-encrypted at a random place of a 64 GiB guest, the
 *     log on as during a migration), hot (back to back) and with the
 *     caches evicted before each update (from the core's caches, and
 *     from every level, with the floor of any locked call measured the
 *     same way): hot <= 2 %, evicted <= 10 % of T1;
 *  T3 that cost as the live ranges grow: at 10,000 no more than 1.5x the
 *     cost at 10 (hot);
 *  T4 (bench-tracker-hold.c) the longest time one update holds the lock;
 *  T5 an update that changes nothing right after a sync, log on against
 *     log off (the log must cost nothing when nothing flips).
 *
 * Context (no speed target any more; the list comparison measures the
 * trace as much as the tracker, so each figure states its live ranges),
 * every workload on the tracker and on two baselines in the same process:
 *  - list:   a sorted doubly-linked list of shared ranges searched
 *            linearly from the head (the structure of the earlier QEMU
 *            patches, with their coalescing bugs fixed);
 *  - bitmap: a flat bitmap, one bit per page of the guest.
 *  1. a Linux SEV guest boot trace (64 GiB, 16 vCPUs), ~20,000 hypercalls;
 *  2. random 4 KiB toggles over 1 TiB;
 *  3. alternating pages over 1 TiB (the range-count worst case);
 *  4. a send-loop classification pass over 1 TiB (runs, not pages) in the
 *     workload-1 state scaled to 1 TiB, and fully fragmented.
 *
 * Usage: bench-tracker [smoke] [targets|context|1|2|3|4]
 *        (smoke: tiny sizes, a few seconds)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sevmig/sevmig.h>

#include "kvm-exit.h"

#define GIB (UINT64_C(1) << 18)	/* in 4 KiB pages */
#define MIB_PAGES 256

static bool smoke;

#define DIE(...)                                                              \
	do {                                                                  \
		fprintf(stderr, "bench-tracker: " __VA_ARGS__);               \
		fprintf(stderr, "\n");                                        \
		exit(1);                                                      \
	} while (0)
#define OK(x)                                                                 \
	do {                                                                  \
		if ((x) != 0)                                                 \
			DIE("%s failed", #x);                                 \
	} while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* ---- baseline 1: sorted doubly-linked list, linear search ---- */

struct lnode {
	struct lnode *prev, *next;
	uint64_t s, e;
};

struct list {
	struct lnode head;	/* circular sentinel */
	uint64_t n, peak;
};

static void list_init(struct list *l)
{
	l->head.prev = l->head.next = &l->head;
	l->n = l->peak = 0;
}

static void list_insert_before(struct list *l, struct lnode *p, uint64_t s,
			       uint64_t e)
{
	struct lnode *x = malloc(sizeof(*x));

	if (!x)
		DIE("out of memory");
	x->s = s;
	x->e = e;
	x->next = p;
	x->prev = p->prev;
	p->prev->next = x;
	p->prev = x;
	if (++l->n > l->peak)
		l->peak = l->n;
}

static struct lnode *list_remove(struct list *l, struct lnode *p)
{
	struct lnode *q = p->next;

	p->prev->next = q;
	q->prev = p->prev;
	free(p);
	l->n--;
	return q;
}

static void list_set(struct list *l, uint64_t s, uint64_t e, int shared)
{
	struct lnode *p = l->head.next;

	if (shared) {
		while (p != &l->head && p->e < s)
			p = p->next;
		if (p == &l->head || p->s > e) {
			list_insert_before(l, p, s, e);
			return;
		}
		if (s < p->s)
			p->s = s;
		if (e > p->e)
			p->e = e;
		while (p->next != &l->head && p->next->s <= p->e) {
			if (p->next->e > p->e)
				p->e = p->next->e;
			list_remove(l, p->next);
		}
		return;
	}
	while (p != &l->head && p->e <= s)
		p = p->next;
	while (p != &l->head && p->s < e) {
		if (p->s < s && p->e > e) {
			list_insert_before(l, p->next, e, p->e);
			p->e = s;
			return;
		}
		if (p->s < s) {
			p->e = s;
			p = p->next;
		} else if (p->e > e) {
			p->s = e;
			return;
		} else {
			p = list_remove(l, p);
		}
	}
}

static void list_fini(struct list *l)
{
	while (l->head.next != &l->head)
		list_remove(l, l->head.next);
}

/* ---- baseline 2: flat bitmap ---- */

struct bmap {
	uint64_t *w;
	uint64_t n;
};

static void bmap_init(struct bmap *b, uint64_t n)
{
	b->n = n;
	b->w = calloc((n + 63) / 64, 8);
	if (!b->w)
		DIE("out of memory");
}

static void bmap_set(struct bmap *b, uint64_t s, uint64_t e, int v)
{
	uint64_t w0 = s / 64, w1 = (e - 1) / 64;

	for (uint64_t w = w0; w <= w1; w++) {
		uint64_t m = ~UINT64_C(0);

		if (w == w0)
			m &= ~UINT64_C(0) << (s & 63);
		if (w == w1 && (e & 63))
			m &= ~UINT64_C(0) >> (64 - (e & 63));
		b->w[w] = v ? b->w[w] | m : b->w[w] & ~m;
	}
}

/* Number of maximal runs in [0, n): one scan for transitions. */
static uint64_t bmap_runs(const struct bmap *b)
{
	uint64_t runs = 1, prev = b->w[0] & 1 ? ~UINT64_C(0) : 0;
	uint64_t words = (b->n + 63) / 64;

	for (uint64_t i = 0; i < words; i++) {
		uint64_t x = b->w[i];
		/* bit j differs from bit j-1 (bit -1 = previous word's top) */
		uint64_t d = x ^ ((x << 1) | (prev >> 63));

		if (i == words - 1 && (b->n & 63))
			d &= ~UINT64_C(0) >> (64 - (b->n & 63));
		runs += (uint64_t)__builtin_popcountll(d);
		prev = x;
	}
	return runs;
}

/* ---- the tracker ---- */

static uint64_t tracker_runs(struct sevmig_tracker *t, uint64_t n)
{
	static uint64_t ends[4096];
	uint64_t g = 0, runs = 0;
	uint32_t first;

	while (g < n) {
		int k = sevmig_tracker_runs(t, g, n, ends, 4096, &first, NULL);

		if (k < 1)
			DIE("runs failed");
		runs += (uint64_t)k;
		g = ends[k - 1];
	}
	return runs;
}

static uint64_t tracker_peak(struct sevmig_tracker *t)
{
	struct sevmig_tracker_stats st = { .size = sizeof(st) };

	OK(sevmig_tracker_stats(t, &st));
	return st.peak_mem_bytes;
}

static void tracker_op(struct sevmig_tracker *t, uint64_t s, uint64_t n, int v)
{
	int rc = v ? sevmig_tracker_set_shared(t, s, n)
		   : sevmig_tracker_set_private(t, s, n);

	if (rc)
		DIE("update %" PRIu64 "+%" PRIu64 ": %d", s, n, rc);
}

/* ---- workload 1: boot trace ---- */

struct op {
	uint64_t gfn, npages;
	int shared;
};

static struct op *trace;
static size_t trace_len, trace_cap;

static void emit(uint64_t gfn, uint64_t npages, int shared)
{
	if (trace_len == trace_cap) {
		trace_cap = trace_cap ? 2 * trace_cap : 32768;
		trace = realloc(trace, trace_cap * sizeof(*trace));
		if (!trace)
			DIE("out of memory");
	}
	trace[trace_len++] = (struct op){ gfn, npages, shared };
}

/*
 * A 16-vCPU Linux SEV guest with @ram pages (q35: 2 GiB below the PCI
 * hole, the rest from 4 GiB), booted through OVMF. See docs/tracker.md for
 * the sources of each count.
 */
static void make_boot_trace(uint64_t ram, uint64_t max_gfn)
{
	const uint64_t low_top = 2 * GIB, high = 4 * GIB;
	uint64_t high_end = high + (ram - low_top);
	uint64_t swiotlb = ram * 6 / 100;
	struct { uint64_t gfn, n; } live[8192];
	size_t nlive = 0;

	trace_len = 0;
	if (high_end > max_gfn)
		high_end = max_gfn;
	/* E820 RAM, one call per entry, all re-marked encrypted. */
	emit(0, 0x9f, 0);
	emit(0x100, 0x800 - 0x100, 0);		/* OVMF splits low RAM */
	emit(0x900, 0x7e000 - 0x900, 0);
	emit(0x7f000, low_top - 0x7f000, 0);
	emit(high, high_end - high, 0);
	/* __bss_decrypted (kernel at 16 MiB). */
	emit(0x3a00, 4, 1);
	/* Per-CPU: apf_reason, steal_time, kvm_apic_eoi; two share a page. */
	for (uint64_t cpu = 0; cpu < 16; cpu++) {
		uint64_t unit = 0x7c000 + cpu * 64;

		emit(unit + 3, 1, 1);
		emit(unit + 3, 1, 1);
		emit(unit + 5, 1, 1);
	}
	/* swiotlb: 6 % of RAM in [64 MiB, 1 GiB], one call per 2 MiB. */
	if (swiotlb < 64 * MIB_PAGES)
		swiotlb = 64 * MIB_PAGES;
	if (swiotlb > GIB)
		swiotlb = GIB;
	for (uint64_t g = 0; g < swiotlb; g += 512)
		emit(GIB + g, 512, 1);
	/* kvmclock pages beyond the boot array. */
	emit(0x3b00, 1, 1);
	/*
	 * Steady state until ~20,000 calls: DMA buffers of 4 KiB - 2 MiB
	 * decrypted on allocation and re-encrypted on free (55 % allocations,
	 * so the live set grows as drivers keep coherent buffers).
	 */
	while (trace_len < 20000) {
		if (nlive && (nlive == 8192 || rnd() % 100 >= 55)) {
			size_t i = rnd() % nlive;

			emit(live[i].gfn, live[i].n, 0);
			live[i] = live[--nlive];
			continue;
		}
		uint64_t r = rnd() % 100, n;

		n = r < 70 ? 1 + rnd() % 4 : r < 95 ? 1 + rnd() % 64 : 512;
		uint64_t gfn = high + rnd() % (high_end - high - n);

		if (n == 512)
			gfn &= ~UINT64_C(511);
		emit(gfn, n, 1);
		live[nlive].gfn = gfn;
		live[nlive++].n = n;
	}
}

/* The three structures agree exactly on the final state. */
static void compare(struct sevmig_tracker *t, struct list *l,
		    const struct bmap *b, uint64_t n)
{
	static uint64_t ends[4096];
	struct lnode *p = l->head.next;
	uint64_t g = 0, ranges = 0;

	while (g < n) {
		uint32_t first;
		int k = sevmig_tracker_runs(t, g, n, ends, 4096, &first, NULL);
		int st = first == SEVMIG_PAGE_SHARED;

		for (int i = 0; i < k; i++, st ^= 1) {
			if (st) {
				if (p == &l->head || p->s != g || p->e != ends[i])
					DIE("list differs at %" PRIu64, g);
				p = p->next;
				ranges++;
			}
			/* bitmap: uniform over the run, differs after it */
			for (uint64_t x = g; x < ends[i]; x++) {
				if ((int)((b->w[x / 64] >> (x & 63)) & 1) != st)
					DIE("bitmap differs at %" PRIu64, x);
				if (x == g + 4 && ends[i] > g + 64) {
					x = ends[i] - 4;	/* skip the middle */
				}
			}
			g = ends[i];
		}
	}
	if (p != &l->head)
		DIE("list has extra ranges");
	printf("  results identical: %" PRIu64 " shared ranges in all three\n",
	       ranges);
}

static void workload1(void)
{
	uint64_t ram = smoke ? 4 * GIB : 64 * GIB;
	uint64_t max_gfn = ram + 2 * GIB;	/* RAM above 4 GiB ends here */
	int reps = smoke ? 2 : 20;
	double tt = 0, tl = 0, tb = 0;
	uint64_t peak_t = 0, peak_l = 0;
	struct sevmig_tracker *t = NULL;
	struct list l;
	struct bmap b;

	make_boot_trace(ram, max_gfn);
	printf("\n[1] boot trace: %" PRIu64 " GiB, 16 vCPUs, %zu hypercalls,"
	       " x%d repetitions\n", ram / GIB, trace_len, reps);
	for (int r = 0; r < reps; r++) {
		double t0;

		if (t)
			sevmig_tracker_free(t);
		OK(sevmig_tracker_new(NULL, max_gfn, 0, &t));
		t0 = now();
		for (size_t i = 0; i < trace_len; i++)
			tracker_op(t, trace[i].gfn, trace[i].npages,
				   trace[i].shared);
		tt += now() - t0;
		peak_t = tracker_peak(t);

		if (r)
			list_fini(&l);
		list_init(&l);
		t0 = now();
		for (size_t i = 0; i < trace_len; i++)
			list_set(&l, trace[i].gfn,
				 trace[i].gfn + trace[i].npages,
				 trace[i].shared);
		tl += now() - t0;
		peak_l = l.peak * sizeof(struct lnode);

		if (r)
			free(b.w);
		bmap_init(&b, max_gfn);
		t0 = now();
		for (size_t i = 0; i < trace_len; i++)
			bmap_set(&b, trace[i].gfn,
				 trace[i].gfn + trace[i].npages,
				 trace[i].shared);
		tb += now() - t0;
	}
	double ops = (double)trace_len * reps;

	printf("  %-8s %12.0f ops/s %10.1f ns/op  peak %8.3f MiB\n", "tracker",
	       ops / tt, tt / ops * 1e9, mib(peak_t));
	printf("  %-8s %12.0f ops/s %10.1f ns/op  peak %8.3f MiB"
	       "  (%" PRIu64 " ranges at the end)\n", "list", ops / tl,
	       tl / ops * 1e9, mib(peak_l), l.n);
	printf("  %-8s %12.0f ops/s %10.1f ns/op  peak %8.3f MiB\n", "bitmap",
	       ops / tb, tb / ops * 1e9, mib((max_gfn + 7) / 8));
	printf("  list/tracker %.1fx, tracker/bitmap %.2fx (context: the list"
	       " holds up to %" PRIu64 " live ranges here)\n", tl / tt,
	       tb / tt, l.peak);
	compare(t, &l, &b, max_gfn);
	sevmig_tracker_free(t);
	list_fini(&l);
	free(b.w);
}

/* ---- workloads 2 and 3 ---- */

static void toggles(int alternating)
{
	uint64_t n = smoke ? 4 * GIB : 1024 * GIB;
	uint64_t ops = alternating ? n / 2 : (smoke ? 200000 : 20000000);
	uint64_t lops = smoke ? 5000 : 20000;	/* the list is O(n) per op */
	struct sevmig_tracker *t;
	struct list l;
	struct bmap b;
	double t0, tt, tl, tb;
	uint64_t seed = rng, bitmap_bytes = (n + 7) / 8, peak;

	printf("\n[%d] %s over %" PRIu64 " GiB: %" PRIu64 " ops\n",
	       alternating ? 3 : 2,
	       alternating ? "alternating pages (every other page shared)"
			   : "random 4 KiB toggles", n / GIB, ops);
	OK(sevmig_tracker_new(NULL, n, 0, &t));
	t0 = now();
	for (uint64_t i = 0; i < ops; i++) {
		if (alternating)
			tracker_op(t, 2 * i, 1, 1);
		else {
			uint64_t g = rnd() % n;

			tracker_op(t, g, 1, (int)(rnd() & 1));
		}
	}
	tt = now() - t0;
	peak = tracker_peak(t);

	rng = seed;
	bmap_init(&b, n);
	t0 = now();
	for (uint64_t i = 0; i < ops; i++) {
		if (alternating) {
			bmap_set(&b, 2 * i, 2 * i + 1, 1);
		} else {
			uint64_t g = rnd() % n;

			bmap_set(&b, g, g + 1, (int)(rnd() & 1));
		}
	}
	tb = now() - t0;
	{
		uint64_t sh_t;

		OK(sevmig_tracker_shared_pages(t, &sh_t));
		uint64_t sh_b = 0;

		for (uint64_t w = 0; w < (n + 63) / 64; w++)
			sh_b += (uint64_t)__builtin_popcountll(b.w[w]);
		if (sh_t != sh_b)
			DIE("tracker and bitmap disagree: %" PRIu64 " vs %" PRIu64,
			    sh_t, sh_b);
	}

	rng = seed;
	list_init(&l);
	t0 = now();
	for (uint64_t i = 0; i < lops; i++) {
		if (alternating) {
			list_set(&l, 2 * i, 2 * i + 1, 1);
		} else {
			uint64_t g = rnd() % n;

			list_set(&l, g, g + 1, (int)(rnd() & 1));
		}
	}
	tl = now() - t0;

	printf("  %-8s %12.0f ops/s %10.1f ns/op  peak %8.3f MiB\n", "tracker",
	       (double)ops / tt, tt / (double)ops * 1e9, mib(peak));
	printf("  %-8s %12.0f ops/s %10.1f ns/op  peak %8.3f MiB\n", "bitmap",
	       (double)ops / tb, tb / (double)ops * 1e9, mib(bitmap_bytes));
	printf("  %-8s %12.0f ops/s %10.1f ns/op  (first %" PRIu64
	       " ops only: %" PRIu64 " ranges, %.3f MiB; at %" PRIu64
	       " ops it would hold ~%.0f MiB)\n", "list",
	       (double)lops / tl, tl / (double)lops * 1e9, lops, l.peak,
	       mib(l.peak * sizeof(struct lnode)), ops,
	       mib((alternating ? ops : ops / 2) * sizeof(struct lnode)));
	printf("  memory: tracker - bitmap = %+.3f MiB  [target <= +1 MiB: %s]\n",
	       mib(peak) - mib(bitmap_bytes),
	       peak <= bitmap_bytes + (1u << 20) ? "PASS" : "MISS");
	list_fini(&l);
	free(b.w);

	if (alternating) {
		/* Workload 4b: the pass over fully fragmented memory. */
		uint64_t runs_t = 0, runs_b;
		double best_t = 1e9, best_b = 1e9;

		for (int r = 0; r < 3; r++) {
			t0 = now();
			runs_t = tracker_runs(t, n);
			tt = now() - t0;
			if (tt < best_t)
				best_t = tt;
		}
		bmap_init(&b, n);
		for (uint64_t g = 0; g < n; g += 2)
			b.w[g / 64] |= UINT64_C(1) << (g & 63);
		for (int r = 0; r < 3; r++) {
			t0 = now();
			runs_b = bmap_runs(&b);
			tb = now() - t0;
			if (tb < best_b)
				best_b = tb;
		}
		if (runs_b != runs_t)
			DIE("run counts differ: %" PRIu64 " vs %" PRIu64, runs_t,
			    runs_b);
		printf("\n[4b] send-loop pass over %" PRIu64 " GiB, fully "
		       "fragmented: %" PRIu64 " runs\n", n / GIB, runs_t);
		printf("  %-8s %10.3f ms  %8.1f M runs/s  [target >= 100 M "
		       "runs/s: %s]\n", "tracker", best_t * 1e3,
		       (double)runs_t / best_t / 1e6,
		       (double)runs_t / best_t >= 1e8 ? "PASS" : "MISS");
		printf("  %-8s %10.3f ms  %8.1f M runs/s (counting "
		       "transitions only)\n", "bitmap", best_b * 1e3,
		       (double)runs_b / best_b / 1e6);
		printf("  %-8s would need %.0f MiB of nodes: not run\n", "list",
		       mib(ops * sizeof(struct lnode)));
		free(b.w);
	}
	sevmig_tracker_free(t);
}

/* ---- workload 4a ---- */

static void pass_boot_state(void)
{
	uint64_t n = smoke ? 16 * GIB : 1024 * GIB;
	struct sevmig_tracker *t;
	struct list l;
	struct bmap b;
	uint64_t runs_t = 0, runs_l = 0, runs_b = 0;
	double best_t = 1e9, best_l = 1e9, best_b = 1e9, t0, d;

	make_boot_trace(n - 2 * GIB, n);
	OK(sevmig_tracker_new(NULL, n, 0, &t));
	list_init(&l);
	bmap_init(&b, n);
	for (size_t i = 0; i < trace_len; i++) {
		uint64_t s = trace[i].gfn, e = s + trace[i].npages;

		tracker_op(t, s, trace[i].npages, trace[i].shared);
		list_set(&l, s, e, trace[i].shared);
		bmap_set(&b, s, e, trace[i].shared);
	}
	for (int r = 0; r < 5; r++) {
		t0 = now();
		runs_t = tracker_runs(t, n);
		d = now() - t0;
		best_t = d < best_t ? d : best_t;

		t0 = now();
		{
			uint64_t prev = 0;

			runs_l = 0;
			for (struct lnode *p = l.head.next; p != &l.head;
			     p = p->next) {
				runs_l += p->s > prev ? 2 : 1;
				prev = p->e;
			}
			runs_l += prev < n ? 1 : 0;
		}
		d = now() - t0;
		best_l = d < best_l ? d : best_l;

		t0 = now();
		runs_b = bmap_runs(&b);
		d = now() - t0;
		best_b = d < best_b ? d : best_b;
	}
	if (runs_t != runs_l || runs_t != runs_b)
		DIE("run counts differ: %" PRIu64 " %" PRIu64 " %" PRIu64,
		    runs_t, runs_l, runs_b);
	printf("\n[4a] send-loop pass over %" PRIu64 " GiB in the boot-trace "
	       "state: %" PRIu64 " runs\n", n / GIB, runs_t);
	printf("  %-8s %10.3f ms  [target < 1 ms: %s]  peak %.3f MiB\n",
	       "tracker", best_t * 1e3, best_t < 1e-3 ? "PASS" : "MISS",
	       mib(tracker_peak(t)));
	printf("  %-8s %10.3f ms  (walking its %" PRIu64 " nodes)\n", "list",
	       best_l * 1e3, l.n);
	printf("  %-8s %10.3f ms  (scanning %.0f MiB)\n", "bitmap",
	       best_b * 1e3, mib((n + 7) / 8));
	sevmig_tracker_free(t);
	list_fini(&l);
	free(b.w);
}

/* ---- targets ---- */

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* Turn the changed-since-sync log on, as a migration does first. */
static void log_on(struct sevmig_tracker *t)
{
	OK(sevmig_tracker_log_start(t, 0));
}

/* Drain one whole sync round; returns its pages. */
static uint64_t sync_round(struct sevmig_tracker *t)
{
	static uint64_t r[2 * 1024];
	struct sevmig_tracker_sync_info info;
	uint64_t pages = 0;

	do {
		info.size = sizeof(info);
		OK(sevmig_tracker_sync(t, r, 1024, &info, 0));
		pages += info.pages;
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	return pages;
}

/* Clock overhead of one now() pair, subtracted from single-call timings. */
static double clock_ns;

static double median(double *v, size_t n)
{
	/* Insertion sort: n is a few thousand at most. */
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;

		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n ? v[n / 2] : 0;
}

static void calibrate_clock(void)
{
	static double d[2001];

	for (size_t i = 0; i < 2001; i++) {
		double t0 = now();

		d[i] = (now() - t0) * 1e9;
	}
	clock_ns = median(d, 2001);
}

/*
 * Eviction between updates, at two depths, each a sweep writing one byte per
 * cache line of a buffer: EVICT_CORE (4 MiB, twice this machine's L2) takes
 * the tracker's lines and code out of the core's own caches, as the ~50
 * other exits a vCPU takes between two hypercalls would; EVICT_ALL (64 MiB,
 * twice its L3) out of every level, TLB included: nothing is cached.
 */
#define EVICT_CORE (4u << 20)
#define EVICT_ALL (64u << 20)
static volatile unsigned char *evict_buf;

static void evict(size_t bytes)
{
	static unsigned char round;

	if (!evict_buf) {
		evict_buf = malloc(EVICT_ALL);
		if (!evict_buf)
			DIE("out of memory");
	}
	round++;
	for (size_t i = 0; i < bytes; i += 64)
		evict_buf[i] = round;
}

/* A DMA buffer as a driver allocates one (workload 1's mix). */
struct dbuf {
	uint64_t gfn, n;
};

static struct dbuf new_dbuf(uint64_t ram)
{
	uint64_t r = rnd() % 100, n;
	struct dbuf b;

	n = r < 70 ? 1 + rnd() % 4 : r < 95 ? 1 + rnd() % 64 : 512;
	b.gfn = rnd() % (ram - n);
	if (n == 512)
		b.gfn &= ~UINT64_C(511);
	b.n = n;
	return b;
}

static uint64_t count_ranges(struct sevmig_tracker *t, uint64_t n)
{
	static uint64_t ends[4096];
	uint64_t g = 0, shared = 0;

	while (g < n) {
		uint32_t first;
		int k = sevmig_tracker_runs(t, g, n, ends, 4096, &first, NULL);

		if (k < 1)
			DIE("runs failed");
		/* Runs alternate: count the shared ones. */
		shared += first == SEVMIG_PAGE_SHARED ? ((uint64_t)k + 1) / 2
						      : (uint64_t)k / 2;
		g = ends[k - 1];
	}
	return shared;
}

struct upd_cost {
	uint64_t live;		/* shared ranges actually live */
	double hot, list_hot;
	double core, all;	/* medians, evicted from the core / everything */
};

/* Median of @n single updates, each after evicting @bytes. */
static double evicted(struct sevmig_tracker *t, struct dbuf *live,
		      uint64_t nlive, uint64_t ram, size_t bytes, uint64_t n)
{
	double *v = malloc(2 * n * sizeof(double)), m;

	if (!v)
		DIE("out of memory");
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = rnd() % nlive;
		double t0;

		evict(bytes);
		t0 = now();
		tracker_op(t, live[i].gfn, live[i].n, 0);
		v[2 * k] = (now() - t0) * 1e9 - clock_ns;
		live[i] = new_dbuf(ram);
		evict(bytes);
		t0 = now();
		tracker_op(t, live[i].gfn, live[i].n, 1);
		v[2 * k + 1] = (now() - t0) * 1e9 - clock_ns;
		if (k % 100 == 99)
			sync_round(t);
	}
	m = median(v, 2 * n);
	free(v);
	return m;
}

/*
 * Steady state with @nlive DMA buffers live in a 64 GiB guest, the log on
 * and a sync round drained every 1,000 steps: each step frees a random
 * buffer (re-encrypt) and allocates a new one (decrypt). Hot: steps back
 * to back, the median of 400 blocks of 1,000 steps; evicted: caches
 * evicted before each timed update, the median of 600 updates.
 */
static struct upd_cost update_cost(uint64_t nlive)
{
	const uint64_t ram = 64 * GIB;
	const uint64_t steps = smoke ? 20000 : 400000, block = 1000;
	const uint64_t esteps = smoke ? 20 : 300;
	struct dbuf *live = malloc(nlive * sizeof(*live));
	double *blk = malloc((steps / block) * sizeof(double));
	struct sevmig_tracker *t;
	struct upd_cost c = { 0 };
	struct list l;

	if (!live || !blk)
		DIE("out of memory");
	OK(sevmig_tracker_new(NULL, ram, 0, &t));
	log_on(t);
	list_init(&l);
	for (uint64_t i = 0; i < nlive; i++) {
		live[i] = new_dbuf(ram);
		tracker_op(t, live[i].gfn, live[i].n, 1);
		list_set(&l, live[i].gfn, live[i].gfn + live[i].n, 1);
	}
	sync_round(t);
	for (uint64_t done = 0; done < steps + 10 * block; done += block) {
		double t0 = now();

		for (uint64_t k = 0; k < block; k++) {
			uint64_t i = rnd() % nlive;

			tracker_op(t, live[i].gfn, live[i].n, 0);
			live[i] = new_dbuf(ram);
			tracker_op(t, live[i].gfn, live[i].n, 1);
		}
		/* The first blocks warm up (pools, page faults). */
		if (done >= 10 * block)
			blk[(done - 10 * block) / block] =
				(now() - t0) / (double)(2 * block) * 1e9;
		sync_round(t);
	}
	/* The median block: robust to the other work on a shared machine. */
	c.hot = median(blk, steps / block);
	free(blk);
	c.live = count_ranges(t, ram);
	c.core = evicted(t, live, nlive, ram, EVICT_CORE, esteps);
	c.all = evicted(t, live, nlive, ram, EVICT_ALL, esteps);

	/* The list, hot, same kind of steps (fewer: O(live) each). */
	{
		uint64_t lsteps = smoke ? 2000 : nlive >= 10000 ? 20000 : 100000;
		double t0 = now();

		for (uint64_t k = 0; k < lsteps; k++) {
			uint64_t i = rnd() % nlive;

			list_set(&l, live[i].gfn, live[i].gfn + live[i].n, 0);
			live[i] = new_dbuf(ram);
			list_set(&l, live[i].gfn, live[i].gfn + live[i].n, 1);
		}
		c.list_hot = (now() - t0) / (double)(2 * lsteps) * 1e9;
	}
	list_fini(&l);
	sevmig_tracker_free(t);
	free(live);
	return c;
}

/*
 * Floors after a full eviction, in the same run: an uncontended lock and
 * unlock of a cold mutex, and a cold sevmig_tracker_state() (lock, descent,
 * unlock): what any locked call costs when nothing is cached.
 */
static void floors(double *mutex_ns, double *state_ns)
{
	const uint64_t n = smoke ? 20 : 300;
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct sevmig_tracker *t;
	double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
	uint32_t st;

	if (!a || !b)
		DIE("out of memory");
	OK(sevmig_tracker_new(NULL, 64 * GIB, 0, &t));
	for (int i = 0; i < 2000; i++) {
		struct dbuf d = new_dbuf(64 * GIB);

		tracker_op(t, d.gfn, d.n, 1);
	}
	for (uint64_t k = 0; k < n; k++) {
		double t0;

		evict(EVICT_ALL);
		t0 = now();
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		a[k] = (now() - t0) * 1e9 - clock_ns;
		evict(EVICT_ALL);
		t0 = now();
		OK(sevmig_tracker_state(t, rnd() % (64 * GIB), &st));
		b[k] = (now() - t0) * 1e9 - clock_ns;
	}
	*mutex_ns = median(a, n);
	*state_ns = median(b, n);
	sevmig_tracker_free(t);
	free(a);
	free(b);
}

/* ---- T5: an update that changes nothing, right after a sync ---- */

static void noop_after_sync(void)
{
	const uint64_t ram = 64 * GIB, nlive = 2000;
	const uint64_t ops = smoke ? 100000 : 4000000;
	struct dbuf *live = malloc(nlive * sizeof(*live));
	double *blk = malloc((ops / 10000) * sizeof(double));
	double ns[2];

	if (!live || !blk)
		DIE("out of memory");
	for (uint64_t i = 0; i < nlive; i++)
		live[i] = new_dbuf(ram);
	for (int logging = 0; logging < 2; logging++) {
		struct sevmig_tracker *t;
		uint64_t seed = rng;
		double t0;

		OK(sevmig_tracker_new(NULL, ram, 0, &t));
		if (logging)
			log_on(t);
		for (uint64_t i = 0; i < nlive; i++)
			tracker_op(t, live[i].gfn, live[i].n, 1);
		if (logging)
			sync_round(t);
		/* Decrypt a live buffer again: idempotent, nothing flips. */
		for (uint64_t b = 0; b < ops / 10000; b++) {
			t0 = now();
			for (uint64_t k = 0; k < 10000; k++) {
				uint64_t i = rnd() % nlive;

				tracker_op(t, live[i].gfn, live[i].n, 1);
			}
			blk[b] = (now() - t0) / 10000 * 1e9;
		}
		ns[logging] = median(blk, ops / 10000);
		rng = seed;
		sevmig_tracker_free(t);
	}
	printf("\n[T5] an update that changes nothing, right after a sync"
	       " (64 GiB, %" PRIu64 " live buffers)\n", nlive);
	printf("  log off %6.1f ns, log on %6.1f ns: %.2fx  [target: log on"
	       " <= 1.25x log off: %s]\n", ns[0], ns[1], ns[1] / ns[0],
	       verdict(ns[1] <= 1.25 * ns[0]));
	free(live);
	free(blk);
}

static void targets(void)
{
	const uint64_t counts[] = { 10, 100, 1000, 10000 };
	struct upd_cost c[4];
	double exit_ns = 0, hot = 0, core = 0, all = 0, fm, fs;
	const char *why = NULL;
	bool have_exit;

	calibrate_clock();
	have_exit = bench_kvm_exit_ns(smoke ? 2000 : 20000, &exit_ns,
				      &why) == 0;
	printf("\n[T1] one exit to userspace and back on /dev/kvm (port I/O"
	       " loop, best of 40 batches)\n");
	if (have_exit)
		printf("  %.0f ns per exit\n", exit_ns);
	else
		printf("  skipped: %s (T2 has no yardstick)\n", why);

	printf("\n[T2/T3] one update: a DMA buffer decrypted or re-encrypted,"
	       " 64 GiB guest, log on (ns;\n  evicted: median of single"
	       " updates after sweeping 4 MiB = core caches, 64 MiB = all)\n");
	printf("  %8s %9s %15s %15s %12s\n", "live", "hot",
	       "evicted (core)", "evicted (all)", "list hot");
	for (size_t i = 0; i < 4; i++) {
		c[i] = update_cost(counts[i]);
		printf("  %8" PRIu64 " %9.1f %15.1f %15.1f %12.1f\n",
		       c[i].live, c[i].hot, c[i].core, c[i].all, c[i].list_hot);
		hot = c[i].hot > hot ? c[i].hot : hot;
		core = c[i].core > core ? c[i].core : core;
		all = c[i].all > all ? c[i].all : all;
	}
	floors(&fm, &fs);
	printf("  floors after sweeping 64 MiB: mutex lock+unlock %.0f ns,"
	       " sevmig_tracker_state() %.0f ns\n", fm, fs);
	if (have_exit) {
		printf("  hot (worst) %.1f ns = %.2f %% of an exit"
		       "  [target <= 2 %%: %s]\n", hot, 100 * hot / exit_ns,
		       verdict(hot <= 0.02 * exit_ns));
		printf("  evicted from the core's caches (worst) %.1f ns ="
		       " %.2f %% of an exit  [target <= 10 %%: %s]\n", core,
		       100 * core / exit_ns, verdict(core <= 0.10 * exit_ns));
		printf("  evicted from every level (worst) %.1f ns = %.2f %%"
		       " of an exit  [target <= 10 %%: %s]\n", all,
		       100 * all / exit_ns, verdict(all <= 0.10 * exit_ns));
	}
	printf("  flat: hot at %" PRIu64 " live ranges / at %" PRIu64
	       " = %.2fx  [target <= 1.5x: %s]\n", c[3].live, c[0].live,
	       c[3].hot / c[0].hot, verdict(c[3].hot <= 1.5 * c[0].hot));

	noop_after_sync();
}

int main(int argc, char **argv)
{
	const char *only = "";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "smoke"))
			smoke = true;
		else
			only = argv[i];
	}
	printf("libsevmig page-state tracker benchmark%s\n",
	       smoke ? " (smoke scale)" : "");
	if (!*only || !strcmp(only, "targets"))
		targets();
	if (!*only || !strcmp(only, "context") || !strcmp(only, "1"))
		workload1();
	if (!*only || !strcmp(only, "context") || !strcmp(only, "2"))
		toggles(0);
	if (!*only || !strcmp(only, "context") || !strcmp(only, "3"))
		toggles(1);
	if (!*only || !strcmp(only, "context") || !strcmp(only, "4"))
		pass_boot_state();
	free(trace);
	return 0;
}
