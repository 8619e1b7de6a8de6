// SPDX-License-Identifier: MIT
/*
 * Page-state tracker benchmark. Prints figures; it is not a timed
 * test. Every workload runs on the tracker and on two baselines in the same
 * process:
 *  - list:   a sorted doubly-linked list of shared ranges searched
 *            linearly from the head (the structure of the earlier QEMU
 *            patches, with their coalescing bugs fixed);
 *  - bitmap: a flat bitmap, one bit per page of the guest.
 *
 *  1. a Linux SEV guest boot trace (64 GiB, 16 vCPUs), ~20,000 hypercalls;
 *  2. random 4 KiB toggles over 1 TiB;
 *  3. alternating pages over 1 TiB (the range-count worst case);
 *  4. a send-loop classification pass over 1 TiB (runs, not pages) in the
 *     workload-1 state scaled to 1 TiB, and fully fragmented.
 *
 * Usage: bench-tracker [smoke]   (smoke: tiny sizes, a few seconds)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sevmig/sevmig.h>

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
	printf("  ratio tracker/list %.0fx, tracker/bitmap %.2fx"
	       "  [target >= 100x list: %s]\n", tl / tt, tb / tt,
	       tl / tt >= 100 ? "MET" : "NOT MET");
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
	       peak <= bitmap_bytes + (1u << 20) ? "MET" : "NOT MET");
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
		       (double)runs_t / best_t >= 1e8 ? "MET" : "NOT MET");
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
	       "tracker", best_t * 1e3, best_t < 1e-3 ? "MET" : "NOT MET",
	       mib(tracker_peak(t)));
	printf("  %-8s %10.3f ms  (walking its %" PRIu64 " nodes)\n", "list",
	       best_l * 1e3, l.n);
	printf("  %-8s %10.3f ms  (scanning %.0f MiB)\n", "bitmap",
	       best_b * 1e3, mib((n + 7) / 8));
	sevmig_tracker_free(t);
	list_fini(&l);
	free(b.w);
}

int main(int argc, char **argv)
{
	const char *only = "";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "smoke"))
			smoke = true;
		else
			only = argv[i];	/* "1", "2", "3" (with 4b), "4" */
	}
	printf("libsevmig page-state tracker benchmark%s\n",
	       smoke ? " (smoke scale)" : "");
	if (!*only || !strcmp(only, "1"))
		workload1();
	if (!*only || !strcmp(only, "2"))
		toggles(0);
	if (!*only || !strcmp(only, "3"))
		toggles(1);
	if (!*only || !strcmp(only, "4"))
		pass_boot_state();
	free(trace);
	return 0;
}
