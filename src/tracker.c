// SPDX-License-Identifier: MIT
/*
 * Page-state tracker: which guest frames are shared (everything else is
 * private), which frames changed state since the last sync, and the
 * migration-stream encoding of both.
 *
 * Design (see docs/tracker.md for the long version):
 *
 * A set of GFNs is a radix tree of fixed geometry over [0, max_gfn):
 *  - a leaf covers LEAF_PAGES (2^15 = 128 MiB of guest RAM), either as a
 *    64-byte sorted list of up to RL_MAX state boundaries (while the
 *    region has few runs, as a typical guest's regions do) or as a 4 KiB
 *    bitmap, one bit per page (once it has more); it converts both ways;
 *  - a node covers 64 slots of the level below;
 *  - every slot is either "all 0", "all 1" or a pointer to a child, and a
 *    child that becomes uniform is folded back into its slot at once.
 * So a uniform region of any length costs nothing below its highest
 * covering slot: setting or clearing [s, e) touches at most two partial
 * slots per level plus up to 63 whole slots per level, i.e.
 * O(64 * depth) = O(log max_gfn) whatever the length, and a run query skips
 * uniform regions the same way. Memory is bounded by the guest's RAM: at
 * most one 4 KiB leaf per 128 MiB (the flat bitmap's 32 KiB/GiB) plus
 * 1/500 of that in nodes, whatever the guest does, and it shrinks back as
 * soon as a region becomes uniform or sparse again.
 *
 * Every set is counted (pages set per object), so the shared-page count is
 * O(1) and "became uniform" is a comparison.
 *
 * Three sets live in a tracker: S (shared pages), C (pages whose state an
 * update actually flipped since the last sync) and P (the sync round being
 * drained). C exists only between sevmig_tracker_log_start() and _stop().
 * Updates walk S and C together; C's objects are created only where a
 * frame really flips (an update that changes nothing never touches C).
 * Where a whole slot of S is replaced, the replaced subtree (complemented
 * when setting shared) is exactly the set of changed pages: it is moved
 * into C when C is empty there, and otherwise OR-ed into C leaf by leaf.
 *
 * Concurrency: one mutex, and no allocation or free() while it is held.
 * Objects come from a per-tracker pool refilled before each step with the
 * lock dropped (allocated into a local list, spliced in under the lock), so
 * a step never fails half-way; detached objects go back to the pool or are
 * freed after the lock is dropped. A step does a bounded amount of work:
 * an update whose log merge would take longer (replacing a fragmented
 * region with the log on) is applied in ascending steps, the lock dropped
 * and handed to waiters between them, as if the guest had split its call.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"
#include "tracker-priv.h"

#define LEAF_SHIFT 15
#define LEAF_PAGES (UINT64_C(1) << LEAF_SHIFT)
#define LEAF_WORDS (LEAF_PAGES / 64)
#define SUM_WORDS (LEAF_WORDS / 64)
#define FAN_SHIFT 6
#define FAN (1u << FAN_SHIFT)

#define U0 ((uintptr_t)0)
#define U1 ((uintptr_t)1)
#define IS_OBJ(s) ((s) > U1)

/*
 * What one step may take from the pool without asking (see struct pool):
 * the edits at the update's two edges, each of which may create a compact
 * leaf in S and in C, convert S or C to a bitmap and shrink S back, plus
 * nodes for the partial paths (set in sevmig_tracker_new()).
 */
#define EDGE_LEAVES 4u
#define EDGE_RUNS 6u
/* Pool targets: the edges plus room for the log merge to work leaf by leaf. */
#define POOL_LEAVES 6u
#define POOL_LEAVES_MAX 8u
#define POOL_RUNS_MAX 64u
#define POOL_NODES_EXTRA 8u	/* nodes given back kept beyond the target */
#define MERGE_BATCH 32u		/* bitmaps allocated at once for merges */

/*
 * Work one lock hold may do, in units of about 100 ns on a current core:
 * merging a bitmap leaf into another costs MERGE_COST, complementing one
 * COMPLEMENT_COST, anything else 1. Bounds how long an update holds the
 * lock however fragmented the region it replaces (docs/tracker.md,
 * "Concurrency guarantees").
 */
#define HOLD_BUDGET 2000u
#define MERGE_COST 12u		/* OR two bitmap leaves, rebuild the summary */
#define COMPLEMENT_COST 2u	/* invert a bitmap leaf */

enum { LEAF_BITS = 1, LEAF_RUNS = 2 };

/*
 * Both leaf forms start with this. A leaf covers LEAF_PAGES frames either
 * as a bitmap (struct leaf) or, while it has few runs, as a short sorted
 * list of the offsets where the state changes (struct rleaf, 64 bytes).
 */
struct lhdr {
	union {
		uint64_t count;	/* pages set */
		void *next;	/* in a pool or the dead list */
	};
	uint8_t kind;		/* LEAF_BITS or LEAF_RUNS; kept in pools */
	uint8_t first;		/* LEAF_RUNS: state of page 0 */
	uint16_t n;		/* LEAF_RUNS: number of boundaries; LEAF_BITS:
				 * number of words with a transition (bits
				 * set in sum[]) */
	uint32_t pad;
};

struct leaf {
	struct lhdr h;
	/*
	 * Bit w: word w holds a transition (a bit differing from the bit
	 * before it; bit 0 of word 0 never counts). Run walks visit only
	 * these words, so a leaf with few runs costs a few words, not 512.
	 */
	uint64_t sum[SUM_WORDS];
	uint64_t bits[LEAF_WORDS];
};

/*
 * The compact form: b[0..n) ascending in [1, LEAF_PAGES), each an offset
 * whose state differs from the one before it. A DMA buffer of a few pages
 * in a 128 MiB region costs 64 bytes instead of 4 KiB, which keeps a
 * typical guest's whole map in L1 and makes leaf creation a small malloc.
 * Converted to a bitmap when an update needs more than RL_MAX boundaries,
 * and back when a bitmap leaf has at most RL_SHRINK (hysteresis).
 */
#define RL_MAX 24u
#define RL_SHRINK (RL_MAX / 2)
#define RL_RUNS_MAX (RL_MAX / 2 + 1)	/* shared runs of a compact leaf */
#define RL_NONE 0x7fffu			/* unused entries of b[] */

struct rleaf {
	struct lhdr h;
	uint16_t b[RL_MAX];	/* 16-byte aligned: loaded as vectors */
};

_Static_assert(sizeof(struct rleaf) == 64, "a compact leaf is a cache line");

struct run16 {
	uint32_t s, e;		/* [s, e) inside a leaf */
};

static inline struct lhdr *LH(uintptr_t s)
{
	return (struct lhdr *)s;
}

static inline bool is_runs(uintptr_t s)
{
	return LH(s)->kind == LEAF_RUNS;
}

static inline void sum_update(struct leaf *l, uint64_t w)
{
	uint64_t x = l->bits[w];
	uint64_t prev = w ? l->bits[w - 1] >> 63 : (x & 1);
	uint64_t bit = UINT64_C(1) << (w & 63);
	uint64_t old = l->sum[w >> 6];

	if (x ^ ((x << 1) | prev))
		l->sum[w >> 6] = old | bit;
	else
		l->sum[w >> 6] = old & ~bit;
	/* Keep the count of transition words: maybe_shrink() reads it. */
	l->h.n = (uint16_t)(l->h.n + !!(l->sum[w >> 6] & bit) - !!(old & bit));
}

struct node {
	union {
		uint64_t count;
		void *next;
	};
	uint32_t level;		/* >= 1: children are of level - 1 */
	uint32_t pad;
	uintptr_t slot[FAN];
};

/* Free objects: the tracker's pool, or a list allocated unlocked. */
struct pool {
	struct node *nodes;
	struct leaf *leaves;
	struct rleaf *runs;
	uint32_t nr_nodes, nr_leaves, nr_runs;
};

struct sevmig_tracker {
	pthread_mutex_t lock;
	_Atomic uint32_t waiters;	/* threads blocked on the lock */
	struct sevmig_ctx *ctx;	/* optional: where errors are logged */
	uint64_t max_gfn;
	uint32_t root_level;
	uint32_t edge_nodes;	/* nodes one step may take without asking */
	uint32_t pool_nodes;	/* pool target: edges + a merge's path */
	uintptr_t state;	/* S: shared pages */
	uintptr_t changed;	/* C: flipped since the last sync */
	uintptr_t pending;	/* P: the open sync round */
	bool logging;		/* between log_start and log_stop */
	bool round_open;
	uint64_t round_cursor;
	uint64_t generation;
	uint64_t seq;
	uint64_t *limit;	/* decode limit: sorted [start, end) pairs */
	uint32_t nr_limit;	/* 0: no limit */
	uint32_t limit_alloc;	/* pairs allocated (for the accounting) */
	struct pool pool;
	/* Statistics; allocation and free happen unlocked, hence atomics. */
	_Atomic uint64_t mem, peak_mem;
	_Atomic uint64_t nr_nodes, nr_leaves, nr_runs;
};

#ifdef SEVMIG_TRACKER_HOOKS
void (*sevmig_tracker_lock_hook)(const struct sevmig_tracker *t, int held);
uint32_t sevmig_tracker_hold_budget;
_Atomic unsigned long sevmig_tracker_objects_made;
#define MADE() atomic_fetch_add_explicit(&sevmig_tracker_objects_made, 1, \
					 memory_order_relaxed)
#define HOOK(t, held)                                                         \
	do {                                                                  \
		if (sevmig_tracker_lock_hook)                                 \
			sevmig_tracker_lock_hook(t, held);                    \
	} while (0)
#define BUDGET (sevmig_tracker_hold_budget ? sevmig_tracker_hold_budget     \
					   : HOLD_BUDGET)
#else
#define HOOK(t, held) do { } while (0)
#define BUDGET HOLD_BUDGET
#define MADE() do { } while (0)
#endif

/*
 * Population count without depending on -mpopcnt (the generic builtin is a
 * libgcc call there): SWAR, a handful of instructions.
 */
static inline uint64_t popcnt(uint64_t x)
{
#if defined(__POPCNT__)
	return (uint64_t)__builtin_popcountll(x);
#else
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
#endif
}

static inline uint64_t span_of(uint32_t level)
{
	return LEAF_PAGES << (FAN_SHIFT * level);
}

static inline uint64_t obj_count(uintptr_t s)
{
	/* Leaves and nodes both start with the count. */
	return *(const uint64_t *)s;
}

static inline uint64_t slot_count(uintptr_t s, uint32_t level)
{
	if (s == U0)
		return 0;
	if (s == U1)
		return span_of(level);
	return obj_count(s);
}


/* ---- the lock ---- */

void sevmig_tracker_lock(struct sevmig_tracker *t)
{
	/* Counted waiters let a long update hand the lock over (below). */
	if (pthread_mutex_trylock(&t->lock)) {
		atomic_fetch_add_explicit(&t->waiters, 1, memory_order_relaxed);
		pthread_mutex_lock(&t->lock);
		atomic_fetch_sub_explicit(&t->waiters, 1, memory_order_relaxed);
	}
	HOOK(t, 1);
}

static void unlock(struct sevmig_tracker *t)
{
	HOOK(t, 0);
	pthread_mutex_unlock(&t->lock);
}

/*
 * Between two steps of a long update: let the threads blocked on the lock
 * take it first. A mutex does not queue, and the thread that just
 * unlocked would otherwise usually win it back before a waiter wakes.
 */
static void let_waiters_in(struct sevmig_tracker *t)
{
	uint32_t w = atomic_load_explicit(&t->waiters, memory_order_relaxed);
	struct timespec t0, t1;

	if (!w)
		return;
	/* Until one of them has it, for at most 100 us (a wake-up's time). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (atomic_load_explicit(&t->waiters, memory_order_relaxed) < w)
			return;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000L +
		 (t1.tv_nsec - t0.tv_nsec) < 100000);
}

/* ---- memory ---- */

static void note_alloc(struct sevmig_tracker *t, size_t sz)
{
	uint64_t m = atomic_fetch_add(&t->mem, sz) + sz;
	uint64_t p = atomic_load(&t->peak_mem);

	while (m > p && !atomic_compare_exchange_weak(&t->peak_mem, &p, m))
		;
}

static void note_free(struct sevmig_tracker *t, uintptr_t obj, uint32_t level)
{
	if (level) {
		atomic_fetch_sub(&t->mem, sizeof(struct node));
		atomic_fetch_sub(&t->nr_nodes, 1);
	} else if (is_runs(obj)) {
		atomic_fetch_sub(&t->mem, sizeof(struct rleaf));
		atomic_fetch_sub(&t->nr_runs, 1);
	} else {
		atomic_fetch_sub(&t->mem, sizeof(struct leaf));
		atomic_fetch_sub(&t->nr_leaves, 1);
	}
}

/* Allocate into @p (never the tracker's pool: the lock is not held). */
static int pool_alloc(struct sevmig_tracker *t, struct pool *p, uint32_t nodes,
		      uint32_t leaves, uint32_t runs)
{
	for (; nodes; nodes--) {
		struct node *n = malloc(sizeof(*n));

		if (!n)
			return -ENOMEM;
		note_alloc(t, sizeof(*n));
		atomic_fetch_add(&t->nr_nodes, 1);
		n->next = p->nodes;
		p->nodes = n;
		p->nr_nodes++;
	}
	for (; leaves; leaves--) {
		struct leaf *l = malloc(sizeof(*l));

		if (!l)
			return -ENOMEM;
		note_alloc(t, sizeof(*l));
		atomic_fetch_add(&t->nr_leaves, 1);
		l->h.kind = LEAF_BITS;
		l->h.next = p->leaves;
		p->leaves = l;
		p->nr_leaves++;
	}
	for (; runs; runs--) {
		struct rleaf *r = malloc(sizeof(*r));

		if (!r)
			return -ENOMEM;
		note_alloc(t, sizeof(*r));
		atomic_fetch_add(&t->nr_runs, 1);
		r->h.kind = LEAF_RUNS;
		r->h.next = p->runs;
		p->runs = r;
		p->nr_runs++;
	}
	return 0;
}

/* Move everything in @from into the tracker's pool. The lock is held. */
static void pool_splice(struct sevmig_tracker *t, struct pool *from)
{
	while (from->nodes) {
		struct node *n = from->nodes;

		from->nodes = n->next;
		n->next = t->pool.nodes;
		t->pool.nodes = n;
	}
	while (from->leaves) {
		struct leaf *l = from->leaves;

		from->leaves = l->h.next;
		l->h.next = t->pool.leaves;
		t->pool.leaves = l;
	}
	while (from->runs) {
		struct rleaf *r = from->runs;

		from->runs = r->h.next;
		r->h.next = t->pool.runs;
		t->pool.runs = r;
	}
	t->pool.nr_nodes += from->nr_nodes;
	t->pool.nr_leaves += from->nr_leaves;
	t->pool.nr_runs += from->nr_runs;
	*from = (struct pool){ NULL, NULL, NULL, 0, 0, 0 };
}

static inline bool pool_full(const struct sevmig_tracker *t)
{
	return t->pool.nr_nodes >= t->pool_nodes &&
	       t->pool.nr_leaves >= POOL_LEAVES &&
	       t->pool.nr_runs >= EDGE_RUNS;
}

/*
 * Enough for what a step may take without asking: both edges of an update
 * for its first step; for a later step (@cont), whose start is aligned to
 * a leaf, one edge's leaves and the nodes of two partial paths.
 */
static bool pool_enough(const struct sevmig_tracker *t, bool cont)
{
	return t->pool.nr_nodes >= t->edge_nodes &&
	       t->pool.nr_leaves >= (cont ? EDGE_LEAVES / 2 : EDGE_LEAVES) &&
	       t->pool.nr_runs >= (cont ? EDGE_RUNS / 2 : EDGE_RUNS);
}

/*
 * Between two steps of an update: keep what the rest of it may need out of
 * the pool while the lock is dropped, so that other threads cannot take
 * it (the lock is held).
 */
static void pool_stash(struct sevmig_tracker *t, struct pool *st)
{
	while (st->nr_nodes < t->edge_nodes && t->pool.nodes) {
		struct node *n = t->pool.nodes;

		t->pool.nodes = n->next;
		t->pool.nr_nodes--;
		n->next = st->nodes;
		st->nodes = n;
		st->nr_nodes++;
	}
	while (st->nr_leaves < EDGE_LEAVES / 2 && t->pool.leaves) {
		struct leaf *l = t->pool.leaves;

		t->pool.leaves = l->h.next;
		t->pool.nr_leaves--;
		l->h.next = st->leaves;
		st->leaves = l;
		st->nr_leaves++;
	}
	while (st->nr_runs < EDGE_RUNS / 2 && t->pool.runs) {
		struct rleaf *r = t->pool.runs;

		t->pool.runs = r->h.next;
		t->pool.nr_runs--;
		r->h.next = st->runs;
		st->runs = r;
		st->nr_runs++;
	}
}

/*
 * Called with the lock held; returns with it held. Tops the pool up to
 * its target, allocating with the lock dropped. -ENOMEM when not even what
 * the step may take without asking can be covered.
 */
static int pool_topup(struct sevmig_tracker *t, bool cont, uint32_t leaves)
{
	int rc = 0;

	while (!pool_full(t) || t->pool.nr_leaves < leaves) {
		struct pool local = { NULL, NULL, NULL, 0, 0, 0 };
		uint32_t dn = 0, dl = 0, dr = 0;

		if (t->pool.nr_nodes < t->pool_nodes)
			dn = t->pool_nodes - t->pool.nr_nodes;
		if (t->pool.nr_leaves < leaves)
			dl = leaves - t->pool.nr_leaves;
		if (t->pool.nr_runs < EDGE_RUNS)
			dr = EDGE_RUNS - t->pool.nr_runs;
		unlock(t);
		rc = pool_alloc(t, &local, dn, dl, dr);
		sevmig_tracker_lock(t);
		pool_splice(t, &local);
		if (rc)
			break;
	}
	/* A short pool still serves when the edges are covered. */
	return pool_enough(t, cont) ? 0 : rc;
}

/* The usual case, a full pool, without a call. */
static inline int pool_refill(struct sevmig_tracker *t, bool cont)
{
	return likely(pool_full(t)) ? 0 : pool_topup(t, cont, POOL_LEAVES);
}

/* After an update: what a merge left beyond the pool's cap is freed. */
static void pool_trim(struct sevmig_tracker *t, struct tracker_dead *d)
{
	while (t->pool.nr_leaves > POOL_LEAVES_MAX) {
		struct leaf *l = t->pool.leaves;

		t->pool.leaves = l->h.next;
		t->pool.nr_leaves--;
		l->h.next = d->leaves;
		d->leaves = l;
	}
}

/* A bitmap leaf from the pool, contents undefined. */
static struct leaf *take_leaf(struct sevmig_tracker *t)
{
	struct leaf *l = t->pool.leaves;

	if (!l)
		abort();	/* the pool is sized so this cannot happen */
	MADE();
	t->pool.leaves = l->h.next;
	t->pool.nr_leaves--;
	return l;
}

/* Unused entries from @n on. */
static inline void rl_clear_from(struct rleaf *r, uint32_t n)
{
	for (uint32_t i = n; i < RL_MAX; i++)
		r->b[i] = RL_NONE;
}

/* A compact leaf from the pool, uniformly @fill. */
static struct rleaf *take_runs(struct sevmig_tracker *t, uintptr_t fill)
{
	struct rleaf *r = t->pool.runs;

	if (!r)
		abort();
	MADE();
	t->pool.runs = r->h.next;
	t->pool.nr_runs--;
	r->h.count = fill ? LEAF_PAGES : 0;
	r->h.first = (uint8_t)fill;
	r->h.n = 0;
	rl_clear_from(r, 0);
	return r;
}

/* A new object for a slot of @level, filled with uniform value @fill. */
static uintptr_t make(struct sevmig_tracker *t, uint32_t level, uintptr_t fill)
{
	if (level == 0)
		return (uintptr_t)take_runs(t, fill);
	struct node *n = t->pool.nodes;

	if (!n)
		abort();
	MADE();
	t->pool.nodes = n->next;
	t->pool.nr_nodes--;
	n->level = level;
	n->pad = 0;
	for (uint32_t i = 0; i < FAN; i++)
		n->slot[i] = fill;
	n->count = fill ? span_of(level) : 0;
	return (uintptr_t)n;
}

/*
 * Give up an object that holds no other object (a leaf, or a node whose
 * slots are all uniform): back to the pool while it has room, else to the
 * dead list, freed once the lock is dropped.
 */
static void recycle(struct sevmig_tracker *t, struct tracker_dead *d,
		    uintptr_t s, uint32_t level)
{
	struct lhdr *h = LH(s);

	if (level) {
		struct node *n = (struct node *)s;

		if (t->pool.nr_nodes < t->pool_nodes + POOL_NODES_EXTRA) {
			n->next = t->pool.nodes;
			t->pool.nodes = n;
			t->pool.nr_nodes++;
		} else {
			n->level = 1;	/* no children to free */
			for (uint32_t i = 0; i < FAN; i++)
				n->slot[i] = U0;
			n->next = d->nodes;
			d->nodes = n;
		}
		return;
	}
	if (h->kind == LEAF_RUNS && t->pool.nr_runs < POOL_RUNS_MAX) {
		h->next = t->pool.runs;
		t->pool.runs = (struct rleaf *)h;
		t->pool.nr_runs++;
	} else if (h->kind == LEAF_BITS &&
		   t->pool.nr_leaves < POOL_LEAVES_MAX) {
		h->next = t->pool.leaves;
		t->pool.leaves = (struct leaf *)h;
		t->pool.nr_leaves++;
	} else {
		h->next = d->leaves;
		d->leaves = h;
	}
}

/* Give up a whole subtree: freed (all of it) once the lock is dropped. */
static void discard(struct sevmig_tracker *t, struct tracker_dead *d,
		    uintptr_t s, uint32_t level)
{
	if (level == 0) {
		recycle(t, d, s, 0);
		return;
	}
	struct node *n = (struct node *)s;

	n->next = d->nodes;
	d->nodes = n;
}

static void free_tree(struct sevmig_tracker *t, uintptr_t s, uint32_t level)
{
	if (!IS_OBJ(s))
		return;
	if (level) {
		struct node *n = (struct node *)s;

		for (uint32_t i = 0; i < FAN; i++)
			free_tree(t, n->slot[i], level - 1);
	}
	note_free(t, s, level);
	free((void *)s);
}

/* Call with the lock dropped. */
static void free_dead_list(struct sevmig_tracker *t, struct tracker_dead *d)
{
	while (d->leaves) {
		struct lhdr *h = d->leaves;

		d->leaves = h->next;
		note_free(t, (uintptr_t)h, 0);
		free(h);
	}
	while (d->nodes) {
		struct node *n = d->nodes;

		d->nodes = n->next;
		for (uint32_t i = 0; i < FAN; i++)
			free_tree(t, n->slot[i], n->level - 1);
		note_free(t, (uintptr_t)n, 1);
		free(n);
	}
}

static inline void free_dead(struct sevmig_tracker *t, struct tracker_dead *d)
{
	if (unlikely(d->leaves || d->nodes))
		free_dead_list(t, d);
}

void sevmig_tracker_unlock(struct sevmig_tracker *t, struct tracker_dead *d)
{
	unlock(t);
	free_dead(t, d);
}

/* Fold a child that became uniform back into its slot. */
static inline void normalize(struct sevmig_tracker *t, struct tracker_dead *d,
			     uintptr_t *sp, uint32_t level)
{
	uintptr_t s = *sp;

	if (!IS_OBJ(s))
		return;
	uint64_t c = obj_count(s);

	if (likely(c && c != span_of(level)))
		return;
	*sp = c ? U1 : U0;
	recycle(t, d, s, level);
}

/* ---- the two leaf forms ---- */

/*
 * Number of boundaries of @r below @x (x <= LEAF_PAGES + 1). Unused
 * entries hold RL_NONE, which compares like a boundary at the last page
 * (hence the clamp to n), so the count is a fixed-length, branch-free scan:
 * a hypercall's offsets are random, and a search loop would mispredict its
 * exit on every call.
 */
static inline uint32_t rl_below(const struct rleaf *r, uint32_t x)
{
	uint32_t c;
#if defined(__SSE2__)
	/* b < x  <=>  b <= x - 1, as signed 16-bit; b <= 0x7fff. */
	__m128i v = _mm_set1_epi16((short)(x > 0x8000 ? 0x7fff : (int)x - 1));
	const __m128i *p = (const __m128i *)(const void *)r->b;
	uint64_t gt =
		(uint64_t)(uint32_t)_mm_movemask_epi8(
			_mm_cmpgt_epi16(_mm_load_si128(p), v)) |
		(uint64_t)(uint32_t)_mm_movemask_epi8(
			_mm_cmpgt_epi16(_mm_load_si128(p + 1), v)) << 16 |
		(uint64_t)(uint32_t)_mm_movemask_epi8(
			_mm_cmpgt_epi16(_mm_load_si128(p + 2), v)) << 32;

	/* b[] ascends, so the lanes above x are a suffix: find its start. */
	c = (uint32_t)__builtin_ctzll(gt | UINT64_C(1) << (2 * RL_MAX)) / 2;
#else
	c = 0;
	for (uint32_t i = 0; i < RL_MAX; i++)
		c += r->b[i] < x;
#endif
	return c < r->h.n ? c : r->h.n;
}

static inline int rl_bit(const struct rleaf *r, uint32_t off)
{
	return r->h.first ^ (int)(rl_below(r, off + 1) & 1);
}

/* The shared runs of @r (at most RL_RUNS_MAX). */
static uint32_t rl_runs(const struct rleaf *r, struct run16 *out)
{
	uint32_t nr = 0, pos = 0;
	int st = r->h.first;

	for (uint32_t i = 0; i < r->h.n; i++) {
		if (st)
			out[nr++] = (struct run16){ pos, r->b[i] };
		pos = r->b[i];
		st ^= 1;
	}
	if (st)
		out[nr++] = (struct run16){ pos, (uint32_t)LEAF_PAGES };
	return nr;
}

/*
 * Make @r exactly the shared runs in[0..nr) (sorted, disjoint, not
 * adjacent). False, leaving @r as it was, when they need more than RL_MAX
 * boundaries.
 */
static bool rl_from_runs(struct rleaf *r, const struct run16 *in, uint32_t nr)
{
	uint32_t need = 0, n = 0;
	uint64_t cnt = 0;

	for (uint32_t i = 0; i < nr; i++)
		need += (in[i].s > 0) + (in[i].e < LEAF_PAGES);
	if (need > RL_MAX)
		return false;
	for (uint32_t i = 0; i < nr; i++) {
		if (in[i].s > 0)
			r->b[n++] = (uint16_t)in[i].s;
		if (in[i].e < LEAF_PAGES)
			r->b[n++] = (uint16_t)in[i].e;
		cnt += in[i].e - in[i].s;
	}
	rl_clear_from(r, n);
	r->h.first = (uint8_t)(nr && in[0].s == 0);
	r->h.n = (uint16_t)n;
	r->h.count = cnt;
	return true;
}

/*
 * The runs of [lo, hi) whose state is not @val, i.e. what setting [lo, hi)
 * to @val flips (at most RL_RUNS_MAX: they alternate with runs that do
 * not). Pages flipped go to *pages.
 */
static uint32_t rl_flips(const struct rleaf *r, uint32_t lo, uint32_t hi,
			 int val, struct run16 *flip, uint64_t *pages)
{
	uint32_t k = rl_below(r, lo + 1), kend = rl_below(r, hi), pos = lo;
	uint32_t nf = 0;
	int st = r->h.first ^ (int)(k & 1);
	uint64_t p = 0;

	for (; k < kend; k++) {
		if (st != val) {
			flip[nf++] = (struct run16){ pos, r->b[k] };
			p += r->b[k] - pos;
		}
		pos = r->b[k];
		st ^= 1;
	}
	if (st != val) {
		flip[nf++] = (struct run16){ pos, hi };
		p += hi - pos;
	}
	*pages = p;
	return nf;
}

/*
 * Set [lo, hi) of @r to @val (the count is the caller's). False, leaving
 * @r as it was, when the result needs more than RL_MAX boundaries.
 */
static bool rl_splice(struct rleaf *r, uint32_t lo, uint32_t hi, int val)
{
	uint32_t n = r->h.n, i = rl_below(r, lo), j = rl_below(r, hi + 1);
	int before = r->h.first ^ (int)(i & 1);	/* at lo - 1, when lo > 0 */
	int after = r->h.first ^ (int)(j & 1);	/* at hi, which stays */
	uint16_t add[2];
	uint32_t na = 0;

	if (lo && before != val)
		add[na++] = (uint16_t)lo;
	if (hi < LEAF_PAGES && after != val)
		add[na++] = (uint16_t)hi;
	if (i + na + (n - j) > RL_MAX)
		return false;
	memmove(&r->b[i + na], &r->b[j], (n - j) * sizeof(r->b[0]));
	if (na)
		r->b[i] = add[0];
	if (na == 2)
		r->b[i + 1] = add[1];
	/* Only what the splice vacated needs RL_NONE again. */
	for (uint32_t k = i + na + n - j; k < n; k++)
		r->b[k] = RL_NONE;
	r->h.n = (uint16_t)(i + na + n - j);
	if (!lo)
		r->h.first = (uint8_t)val;
	return true;
}

/* Set the bits of [s, e) (s < e), nothing else. */
static void bits_fill(uint64_t *bits, uint32_t s, uint32_t e)
{
	uint32_t w0 = s >> 6, w1 = (e - 1) >> 6;
	uint64_t m0 = ~UINT64_C(0) << (s & 63);
	uint64_t m1 = ~UINT64_C(0) >> (63 - ((e - 1) & 63));

	if (w0 == w1) {
		bits[w0] |= m0 & m1;
		return;
	}
	bits[w0] |= m0;
	for (uint32_t w = w0 + 1; w < w1; w++)
		bits[w] = ~UINT64_C(0);
	bits[w1] |= m1;
}

/* Bitmap leaf @l := compact leaf @r. */
static void bl_from_runs(struct leaf *l, const struct rleaf *r)
{
	struct run16 runs[RL_RUNS_MAX];
	uint32_t nr = rl_runs(r, runs);

	memset(l->bits, 0, sizeof(l->bits));
	memset(l->sum, 0, sizeof(l->sum));
	for (uint32_t i = 0; i < nr; i++)
		bits_fill(l->bits, runs[i].s, runs[i].e);
	/* A boundary at p is a transition in word p / 64. */
	for (uint32_t i = 0; i < r->h.n; i++)
		l->sum[r->b[i] >> 12] |= UINT64_C(1) << ((r->b[i] >> 6) & 63);
	l->h.n = 0;
	for (uint32_t i = 0; i < SUM_WORDS; i++)
		l->h.n = (uint16_t)(l->h.n + popcnt(l->sum[i]));
	l->h.count = r->h.count;
	l->h.kind = LEAF_BITS;
}

/*
 * Compact leaf @r := bitmap leaf @l, if @l has at most @limit boundaries;
 * false otherwise (@r's contents are then undefined).
 */
static bool rl_from_bits(struct rleaf *r, const struct leaf *l, uint32_t limit)
{
	uint32_t n = 0;

	for (uint32_t sw = 0; sw < SUM_WORDS; sw++) {
		for (uint64_t sb = l->sum[sw]; sb; sb &= sb - 1) {
			uint64_t w = sw * 64 + (uint64_t)__builtin_ctzll(sb);
			uint64_t x = l->bits[w];
			uint64_t prev = w ? l->bits[w - 1] >> 63 : (x & 1);

			for (uint64_t d = x ^ ((x << 1) | prev); d; d &= d - 1) {
				if (n == limit)
					return false;
				r->b[n++] = (uint16_t)(w * 64 +
						       (uint64_t)__builtin_ctzll(d));
			}
		}
	}
	rl_clear_from(r, n);
	r->h.n = (uint16_t)n;
	r->h.first = (uint8_t)(l->bits[0] & 1);
	r->h.count = l->h.count;
	return true;
}

/* Replace compact leaf @r by an equal bitmap leaf from the reserve. */
static struct leaf *to_bits(struct sevmig_tracker *t, struct tracker_dead *d,
			    struct rleaf *r)
{
	struct leaf *l = take_leaf(t);

	bl_from_runs(l, r);
	discard(t, d, (uintptr_t)r, 0);
	return l;
}

/* Back to the compact form when a bitmap leaf got sparse enough. */
static void maybe_shrink(struct sevmig_tracker *t, struct tracker_dead *d,
			 uintptr_t *sp)
{
	struct leaf *l = (struct leaf *)*sp;
	struct rleaf *r;

	/* Each boundary lies in a transition word: a cheap first test. */
	if (l->h.n > RL_SHRINK)
		return;
	r = take_runs(t, 0);
	if (!rl_from_bits(r, l, RL_SHRINK)) {
		discard(t, d, (uintptr_t)r, 0);
		return;
	}
	*sp = (uintptr_t)r;
	discard(t, d, (uintptr_t)l, 0);
}

/*
 * Set or clear [lo, hi) of bitmap leaf @sl; when @cl (a bitmap leaf) is
 * given, OR the flipped bits into it and add its new pages to *dc.
 * Returns @sl's count delta.
 */
static int64_t bl_apply(struct leaf *sl, struct leaf *cl, uint32_t lo,
			uint32_t hi, int val, int64_t *dc)
{
	uint32_t w0 = lo >> 6, w1 = (hi - 1) >> 6;
	int64_t ds = 0, dcl = 0;

	for (uint32_t w = w0; w <= w1; w++) {
		uint64_t m = ~UINT64_C(0), old, nw, diff;

		if (w == w0)
			m &= ~UINT64_C(0) << (lo & 63);
		if (w == w1 && (hi & 63))
			m &= ~UINT64_C(0) >> (64 - (hi & 63));
		old = sl->bits[w];
		nw = val ? (old | m) : (old & ~m);
		diff = old ^ nw;
		if (!diff)
			continue;
		sl->bits[w] = nw;
		ds += (int64_t)popcnt(diff);
		if (cl) {
			dcl += (int64_t)popcnt(diff & ~cl->bits[w]);
			cl->bits[w] |= diff;
		}
	}
	if (!ds)
		return 0;
	/* Transitions may change in w0..w1 and at the start of w1 + 1. */
	for (uint32_t w = w0; w <= w1 + 1 && w < LEAF_WORDS; w++) {
		sum_update(sl, w);
		if (cl)
			sum_update(cl, w);
	}
	if (!val)
		ds = -ds;
	sl->h.count = (uint64_t)((int64_t)sl->h.count + ds);
	if (cl)
		cl->h.count += (uint64_t)dcl;
	*dc += dcl;
	return ds;
}

/* Bitmap leaf @l |= compact leaf @r. */
static void bl_or_runs(struct leaf *l, const struct rleaf *r)
{
	struct run16 runs[RL_RUNS_MAX];
	uint32_t nr = rl_runs(r, runs);
	int64_t unused = 0;

	for (uint32_t i = 0; i < nr; i++)
		bl_apply(l, NULL, runs[i].s, runs[i].e, 1, &unused);
}

/* C leaf *cp |= [lo, hi); returns the pages added. */
static uint64_t leaf_or_range(struct sevmig_tracker *t, struct tracker_dead *d,
			      uintptr_t *cp, uint32_t lo, uint32_t hi)
{
	int64_t unused = 0;

	if (is_runs(*cp)) {
		struct rleaf *r = (struct rleaf *)*cp;
		struct run16 f[RL_RUNS_MAX];
		uint64_t pages;

		rl_flips(r, lo, hi, 1, f, &pages);
		if (!pages)
			return 0;
		if (rl_splice(r, lo, hi, 1)) {
			r->h.count += pages;
			return pages;
		}
		*cp = (uintptr_t)to_bits(t, d, r);
	}
	return (uint64_t)bl_apply((struct leaf *)*cp, NULL, lo, hi, 1, &unused);
}

/* ---- set algebra on subtrees ---- */

/* Replace @obj by its complement within its span (no allocation). */
static void complement(uintptr_t obj, uint32_t level)
{
	if (level == 0) {
		if (is_runs(obj)) {
			struct rleaf *r = (struct rleaf *)obj;

			r->h.first ^= 1;
			r->h.count = LEAF_PAGES - r->h.count;
			return;
		}
		struct leaf *l = (struct leaf *)obj;

		/* Transitions, hence sum[], are the same in the complement. */
		for (uint32_t w = 0; w < LEAF_WORDS; w++)
			l->bits[w] = ~l->bits[w];
		l->h.count = LEAF_PAGES - l->h.count;
		return;
	}
	struct node *n = (struct node *)obj;

	for (uint32_t i = 0; i < FAN; i++) {
		if (IS_OBJ(n->slot[i]))
			complement(n->slot[i], level - 1);
		else
			n->slot[i] ^= 1;
	}
	n->count = span_of(level) - n->count;
}

/* Set slot *cp to all-ones; returns the count delta. */
static int64_t set_full(struct sevmig_tracker *t, struct tracker_dead *d,
			uintptr_t *cp, uint32_t level)
{
	uintptr_t c = *cp;
	uint64_t before = slot_count(c, level);

	if (c == U1)
		return 0;
	if (IS_OBJ(c))
		discard(t, d, c, level);
	*cp = U1;
	return (int64_t)(span_of(level) - before);
}

/* Merge two sorted run lists into their coalesced union; returns its length. */
static uint32_t runs_union(const struct run16 *a, uint32_t na,
			   const struct run16 *b, uint32_t nb,
			   struct run16 *out)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		struct run16 x = (j >= nb || (i < na && a[i].s <= b[j].s)) ? a[i++]
									   : b[j++];

		if (n && x.s <= out[n - 1].e) {
			if (x.e > out[n - 1].e)
				out[n - 1].e = x.e;
		} else {
			out[n++] = x;
		}
	}
	return n;
}

/*
 * Leaves: *cp |= (comp ? ~src : src); consumes @src. The union of two
 * compact leaves may need a bitmap: it comes from the pool when the pool
 * has one beyond what the current step's edges may need (an update merging
 * many such pairs stops and refills between steps, see apply()). Only when
 * the pool cannot be refilled (out of memory) is the union widened instead
 * (the smallest gaps filled) until it fits: C then reports pages that did
 * not flip, never misses one.
 */
static void leaf_merge(struct sevmig_tracker *t, struct tracker_dead *d,
		       uintptr_t *cp, uintptr_t src, int comp)
{
	uintptr_t dst = *cp;
	struct run16 ra[RL_RUNS_MAX], rb[RL_RUNS_MAX], u[2 * RL_RUNS_MAX];
	uint32_t na, nb, nu;

	if (!is_runs(dst) && !is_runs(src)) {
		struct leaf *a = (struct leaf *)dst, *b = (struct leaf *)src;
		uint64_t x = comp ? ~UINT64_C(0) : 0, cnt = 0;

		for (uint32_t w = 0; w < LEAF_WORDS; w++) {
			a->bits[w] |= b->bits[w] ^ x;
			cnt += popcnt(a->bits[w]);
		}
		a->h.count = cnt;
		for (uint32_t w = 0; w < LEAF_WORDS; w++)
			sum_update(a, w);
		recycle(t, d, src, 0);
		return;
	}
	if (comp)
		complement(src, 0);
	if (!is_runs(dst) || !is_runs(src)) {
		/* One bitmap: OR the compact one into it and keep it. */
		uintptr_t bits = is_runs(dst) ? src : dst;
		uintptr_t runs = is_runs(dst) ? dst : src;

		bl_or_runs((struct leaf *)bits, (const struct rleaf *)runs);
		*cp = bits;
		recycle(t, d, runs, 0);
		return;
	}
	na = rl_runs((struct rleaf *)dst, ra);
	nb = rl_runs((struct rleaf *)src, rb);
	nu = runs_union(ra, na, rb, nb, u);
	if (!rl_from_runs((struct rleaf *)dst, u, nu)) {
		if (t->pool.nr_leaves > EDGE_LEAVES) {
			struct leaf *l = take_leaf(t);

			bl_from_runs(l, (struct rleaf *)dst);
			bl_or_runs(l, (const struct rleaf *)src);
			*cp = (uintptr_t)l;
			recycle(t, d, dst, 0);
		} else {
			while (!rl_from_runs((struct rleaf *)dst, u, nu)) {
				uint32_t best = 1;

				for (uint32_t i = 2; i < nu; i++)
					if (u[i].s - u[i - 1].e <
					    u[best].s - u[best - 1].e)
						best = i;
				u[best - 1].e = u[best].e;
				memmove(&u[best], &u[best + 1],
					(nu - best - 1) * sizeof(u[0]));
				nu--;
			}
		}
	}
	recycle(t, d, src, 0);
}

static int64_t or_into(struct sevmig_tracker *t, struct tracker_dead *d,
		       uintptr_t *cp, uintptr_t obj, uint32_t level, int comp);

/* Nodes: dst |= (comp ? ~src : src); consumes @src; updates dst's count. */
static void merge(struct sevmig_tracker *t, struct tracker_dead *d,
		  uintptr_t dst, uintptr_t src, uint32_t level, int comp)
{
	struct node *a = (struct node *)dst, *b = (struct node *)src;
	int64_t delta = 0;

	for (uint32_t i = 0; i < FAN; i++) {
		uintptr_t s = b->slot[i];

		if (!IS_OBJ(s)) {
			if (s ^ (uintptr_t)comp)
				delta += set_full(t, d, &a->slot[i], level - 1);
		} else {
			b->slot[i] = U0;
			delta += or_into(t, d, &a->slot[i], s, level - 1, comp);
		}
	}
	a->count = (uint64_t)((int64_t)a->count + delta);
	recycle(t, d, src, level);	/* holds no objects any more */
}

/* *cp |= (comp ? ~obj : obj); consumes @obj; returns *cp's count delta. */
static int64_t or_into(struct sevmig_tracker *t, struct tracker_dead *d,
		       uintptr_t *cp, uintptr_t obj, uint32_t level, int comp)
{
	uintptr_t c = *cp;
	uint64_t before;

	if (c == U1) {
		discard(t, d, obj, level);
		return 0;
	}
	if (c == U0) {
		if (comp)
			complement(obj, level);
		*cp = obj;
		normalize(t, d, cp, level);
		return (int64_t)slot_count(*cp, level);
	}
	before = obj_count(c);
	if (level == 0)
		leaf_merge(t, d, cp, obj, comp);
	else
		merge(t, d, c, obj, level, comp);
	normalize(t, d, cp, level);
	return (int64_t)slot_count(*cp, level) - (int64_t)before;
}

/* ---- update ---- */

/*
 * Where C's slot for the S slot being updated is. C is materialized lazily:
 * while C is uniformly empty above, @slot is NULL and the slot reads as
 * U0; it is created (with its ancestors) only when a flip must be logged,
 * so an update that flips nothing never touches C.
 */
struct cref {
	struct cref *up;	/* the parent's reference; NULL at the root */
	uintptr_t *slot;	/* NULL while the parent slot is U0 */
	uint32_t idx;		/* index in the parent node */
	uint32_t level;
};

struct apply_ctx {
	struct sevmig_tracker *t;
	struct tracker_dead *d;
	uint64_t s, e;		/* what is left of the update */
	uintptr_t val;		/* U0 private, U1 shared */
	uint32_t budget;	/* work left in this lock hold */
	uint32_t progress;	/* slots completed in this lock hold */
	bool stopped;		/* the hold ended: continue from resume */
	bool starved;		/* it ended for want of spare bitmaps */
	uint64_t resume;
};

static inline uintptr_t cval(const struct cref *cr)
{
	return cr->slot ? *cr->slot : U0;
}

/* C's slot for @cr, creating C's empty ancestors as needed. */
static uintptr_t *c_slot(struct apply_ctx *a, struct cref *cr)
{
	if (!cr->slot) {
		uintptr_t *p = c_slot(a, cr->up);

		if (*p == U0)
			*p = make(a->t, cr->level + 1, U0);
		cr->slot = &((struct node *)*p)->slot[cr->idx];
	}
	return cr->slot;
}

/* Nodes c_slot() would create for @cr. */
static uint32_t c_missing(const struct cref *cr)
{
	uint32_t n = 0;

	for (; cr && !cr->slot; cr = cr->up)
		n++;
	return n + (cr && *cr->slot == U0);
}

/* C's leaf for @cr, created (compact, empty) on first use. */
static uintptr_t *c_leaf(struct apply_ctx *a, struct cref *cr)
{
	uintptr_t *cs = c_slot(a, cr);

	if (*cs == U0)
		*cs = make(a->t, 0, U0);
	return cs;
}

/*
 * The runs of [lo, hi) of bitmap leaf @l whose state is not @val, i.e.
 * what setting them to @val flips: up to @max into @out, or max + 1 when
 * there are more. *any says whether anything flips at all.
 */
static uint32_t bl_flips(const struct leaf *l, uint32_t lo, uint32_t hi,
			 int val, struct run16 *out, uint32_t max, bool *any)
{
	uint32_t w0 = lo >> 6, w1 = (hi - 1) >> 6, nf = 0;

	*any = false;
	for (uint32_t w = w0; w <= w1; w++) {
		uint64_t m = ~UINT64_C(0), x;
		uint32_t base = w << 6;

		if (w == w0)
			m &= ~UINT64_C(0) << (lo & 63);
		if (w == w1 && (hi & 63))
			m &= ~UINT64_C(0) >> (64 - (hi & 63));
		x = (val ? ~l->bits[w] : l->bits[w]) & m;
		if (x)
			*any = true;
		while (x) {
			uint32_t s = (uint32_t)__builtin_ctzll(x);
			uint64_t y = ~x & (~UINT64_C(0) << s);
			uint32_t e = y ? (uint32_t)__builtin_ctzll(y) : 64;

			if (nf && out[nf - 1].e == base + s) {
				out[nf - 1].e = base + e;
			} else {
				if (nf == max)
					return max + 1;
				out[nf++] = (struct run16){ base + s,
							    base + e };
			}
			x = e < 64 ? x & (~UINT64_C(0) << e) : 0;
		}
	}
	return nf;
}

/*
 * Set [lo, hi) of the S leaf *sp (an object) to a->val, logging the
 * flipped pages into C's leaf at @cr (NULL: not logging here); either
 * leaf may change form. Returns S's count delta and adds C's to *dc.
 * Takes at most two bitmap leaves and three compact leaves from the pool.
 */
static int64_t leaf_edit(struct apply_ctx *a, uintptr_t *sp, struct cref *cr,
			 uint32_t lo, uint32_t hi, int64_t *dc)
{
	struct sevmig_tracker *t = a->t;
	struct tracker_dead *d = a->d;
	int val = (int)a->val;
	struct run16 f[RL_RUNS_MAX];
	int64_t ds, unused = 0;
	uintptr_t *cs;
	uint32_t nf;

	if (is_runs(*sp)) {
		struct rleaf *r = (struct rleaf *)*sp;
		uint64_t pages;

		nf = rl_flips(r, lo, hi, val, f, &pages);
		if (!pages)
			return 0;
		if (rl_splice(r, lo, hi, val)) {
			r->h.count = val ? r->h.count + pages
					 : r->h.count - pages;
		} else {
			struct leaf *l = to_bits(t, d, r);

			*sp = (uintptr_t)l;
			bl_apply(l, NULL, lo, hi, val, &unused);
		}
		if (cr) {
			cs = c_leaf(a, cr);
			for (uint32_t i = 0; i < nf; i++)
				*dc += (int64_t)leaf_or_range(t, d, cs, f[i].s,
							      f[i].e);
		}
		return val ? (int64_t)pages : -(int64_t)pages;
	}

	bool any;

	nf = bl_flips((const struct leaf *)*sp, lo, hi, val, f, RL_RUNS_MAX,
		      &any);
	if (!any)
		return 0;
	if (cr && nf > RL_RUNS_MAX) {
		/* Many flipped runs: log them word by word into a bitmap. */
		cs = c_leaf(a, cr);
		if (is_runs(*cs))
			*cs = (uintptr_t)to_bits(t, d, (struct rleaf *)*cs);
		ds = bl_apply((struct leaf *)*sp, (struct leaf *)*cs, lo, hi,
			      val, dc);
	} else {
		ds = bl_apply((struct leaf *)*sp, NULL, lo, hi, val, &unused);
		if (cr) {
			cs = c_leaf(a, cr);
			for (uint32_t i = 0; i < nf; i++)
				*dc += (int64_t)leaf_or_range(t, d, cs, f[i].s,
							      f[i].e);
		}
	}
	if (obj_count(*sp) && obj_count(*sp) < LEAF_PAGES)
		maybe_shrink(t, d, sp);
	return ds;
}

/*
 * May this hold spend @cost more on a slot at @base? When the budget or the
 * pool's spare is used up and the hold has completed something, it stops:
 * the update continues from @base in a new hold. A hold that has completed
 * nothing goes on regardless (so every hold makes progress; the pool is
 * then short only because memory ran out).
 */
static bool may_work(struct apply_ctx *a, uint32_t cost, bool spare,
		     uint64_t base)
{
	if ((a->budget >= cost && spare) || !a->progress) {
		a->budget = a->budget > cost ? a->budget - cost : 0;
		return true;
	}
	a->stopped = true;
	a->resume = base;
	return false;
}

/*
 * Apply a->val over [a->s, a->e) to the S slot *sp covering
 * [base, base + span(level)), logging flipped pages in C at @cr (NULL when
 * not logging, or when C is all ones there). Returns S's count delta and
 * adds C's to *dc. May stop early (a->stopped): everything below
 * a->resume is then done.
 */
static int64_t apply(struct apply_ctx *a, uintptr_t *sp, struct cref *cr,
		     uint32_t level, uint64_t base, int64_t *dc)
{
	struct sevmig_tracker *t = a->t;
	uint64_t span = span_of(level);
	uintptr_t sv = *sp;
	int64_t ds = 0, dcl = 0;

	if (sv == a->val)
		return 0;	/* nothing flips here */
	if (cr && cval(cr) == U1)
		cr = NULL;	/* everything here is logged already */
	if (a->s <= base && base + span <= a->e) {
		/* A whole slot. */
		int comp = (int)a->val;
		uint64_t cnt;

		if (!IS_OBJ(sv)) {
			*sp = a->val;
			if (cr)
				*dc += set_full(t, a->d, c_slot(a, cr), level);
			a->progress++;
			return a->val ? (int64_t)span : -(int64_t)span;
		}
		cnt = obj_count(sv);
		ds = a->val ? (int64_t)(span - cnt) : -(int64_t)cnt;
		if (!cr || (cval(cr) == U0 && !comp)) {
			/* Not logged here, or C is empty: O(1). */
			*sp = a->val;
			if (cr) {
				*c_slot(a, cr) = sv;
				*dc += (int64_t)cnt;
			} else {
				discard(t, a->d, sv, level);
			}
			a->progress++;
			return ds;
		}
		/*
		 * The flipped frames (sv, or its complement) must be OR-ed into
		 * C: work proportional to the subtree, done leaf by leaf so a
		 * hold can stop between any two.
		 */
		if (level == 0) {
			uintptr_t cv = cval(cr);
			uint32_t cost = 1;

			if (IS_OBJ(cv) && (!is_runs(sv) || !is_runs(cv)))
				cost = MERGE_COST;
			else if (!is_runs(sv))
				cost = COMPLEMENT_COST;
			if (!may_work(a, cost, t->pool.nr_leaves > EDGE_LEAVES,
				      base)) {
				a->starved = t->pool.nr_leaves <= EDGE_LEAVES;
				return 0;
			}
			*sp = a->val;
			*dc += or_into(t, a->d, c_slot(a, cr), sv, 0, comp);
			a->progress++;
			return ds;
		}
		if (!may_work(a, 1, t->pool.nr_nodes >=
			      t->edge_nodes + c_missing(cr) + 1, base))
			return 0;
		if (t->pool.nr_nodes < t->edge_nodes + c_missing(cr) + 1) {
			/* Out of memory: the whole subtree at once. */
			*sp = a->val;
			*dc += or_into(t, a->d, c_slot(a, cr), sv, level, comp);
			a->progress++;
			return ds;
		}
		/* Descend: the children are whole slots. */
		ds = 0;
	} else if (!IS_OBJ(sv)) {
		*sp = sv = make(t, level, sv);
	}

	uint64_t lo = a->s > base ? a->s : base;
	uint64_t hi = a->e < base + span ? a->e : base + span;

	if (level == 0) {
		ds = leaf_edit(a, sp, cr, (uint32_t)(lo - base),
			       (uint32_t)(hi - base), &dcl);
		a->progress++;
	} else {
		struct node *n = (struct node *)sv;
		/* Spans are powers of two: shift, never divide. */
		uint32_t sh = LEAF_SHIFT + FAN_SHIFT * (level - 1);
		uint64_t cspan = UINT64_C(1) << sh;
		uint32_t i0 = (uint32_t)((lo - base) >> sh);
		uint32_t i1 = (uint32_t)((hi - 1 - base) >> sh);

		for (uint32_t i = i0; i <= i1 && !a->stopped; i++) {
			int64_t dci = 0;
			struct cref child, *cc = NULL;

			if (cr) {
				uintptr_t cv = cval(cr);

				child.up = cr;
				child.idx = i;
				child.level = level - 1;
				child.slot = IS_OBJ(cv) ?
					&((struct node *)cv)->slot[i] : NULL;
				cc = &child;
			}
			ds += apply(a, &n->slot[i], cc, level - 1,
				    base + i * cspan, &dci);
			if (cr && dci) {	/* dci is 0 without cr */
				/* Logged below, so C's node here exists. */
				struct node *cn = (struct node *)*cr->slot;

				cn->count = (uint64_t)((int64_t)cn->count +
						       dci);
				dcl += dci;
			}
		}
		n->count = (uint64_t)((int64_t)n->count + ds);
	}
	*dc += dcl;
	normalize(t, a->d, sp, level);
	if (cr && cr->slot)
		normalize(t, a->d, cr->slot, level);
	return ds;
}

int sevmig_tracker_update(struct sevmig_tracker *t, uint64_t s, uint64_t e,
			  bool shared, uint64_t *ret_done)
{
	struct tracker_dead d = { NULL, NULL };
	struct apply_ctx a = { t, &d, s, e, shared ? U1 : U0, 0, 0, false,
			       false, 0 };
	bool trim = false;
	int rc;

	sevmig_tracker_lock(t);
	rc = pool_refill(t, false);
	while (!rc) {
		struct pool stash = { NULL, NULL, NULL, 0, 0, 0 };
		struct cref root = { NULL, &t->changed, 0, t->root_level };
		int64_t dc = 0;

		a.budget = BUDGET;
		a.progress = 0;
		a.stopped = false;
		a.starved = false;
		if (apply(&a, &t->state, t->logging ? &root : NULL,
			  t->root_level, 0, &dc))
			t->seq++;
		if (!a.stopped)
			break;
		/*
		 * A step of a long update: keep what the rest needs, hand the
		 * lock over, refill, go on. Without other threads changing
		 * this region meanwhile, the stash covers the rest, so a later
		 * step fails only if they do and memory runs out.
		 */
		a.s = a.resume;
		pool_stash(t, &stash);
		unlock(t);
		free_dead(t, &d);
		let_waiters_in(t);
		sevmig_tracker_lock(t);
		pool_splice(t, &stash);
		if (a.starved) {
			/* Merges that need bitmaps: a batch per step. */
			rc = pool_topup(t, true, POOL_LEAVES + MERGE_BATCH);
			trim = true;
		} else {
			rc = pool_refill(t, true);
		}
	}
	if (trim)
		pool_trim(t, &d);
	unlock(t);
	free_dead(t, &d);
	*ret_done = a.s;
	return rc;
}

/* ---- updates ---- */

/*
 * Check [gfn, gfn + npages) against the bound, with the reason in the log.
 * Kept out of line: the update path only tests the condition.
 */
static int range_error(const struct sevmig_tracker *t, const char *fn,
		       uint64_t gfn, uint64_t npages)
{
	if (!npages)
		return sevmig_arg_invalid(t->ctx, fn,
					  "npages is 0 (a range holds at least one frame)");
	if (gfn + npages < gfn)
		return sevmig_err(t->ctx, -ERANGE,
				  "%s: gfn 0x%llx + %llu pages wraps past 2^64",
				  fn, (unsigned long long)gfn,
				  (unsigned long long)npages);
	return sevmig_err(t->ctx, -ERANGE,
			  "%s: [0x%llx, 0x%llx) ends beyond the tracker's bound 0x%llx",
			  fn, (unsigned long long)gfn,
			  (unsigned long long)(gfn + npages),
			  (unsigned long long)t->max_gfn);
}

static int nomem_error(const struct sevmig_tracker *t, const char *fn,
		       uint64_t s, uint64_t e, uint64_t done)
{
	if (done == s)
		return sevmig_err(t->ctx, -ENOMEM,
				  "%s: [0x%llx, 0x%llx): out of memory; nothing changed",
				  fn, (unsigned long long)s, (unsigned long long)e);
	return sevmig_err(t->ctx, -ENOMEM,
			  "%s: [0x%llx, 0x%llx): out of memory after [0x%llx, 0x%llx) was applied in steps; repeat the call",
			  fn, (unsigned long long)s, (unsigned long long)e,
			  (unsigned long long)s, (unsigned long long)done);
}

static int set_range(struct sevmig_tracker *t, const char *fn, uint64_t gfn,
		     uint64_t npages, bool shared)
{
	uint64_t done;
	int rc;

	if (!t)
		return -EINVAL;
	if (unlikely(!npages || gfn + npages < gfn ||
		     gfn + npages > t->max_gfn))
		return range_error(t, fn, gfn, npages);
	rc = sevmig_tracker_update(t, gfn, gfn + npages, shared, &done);
	if (unlikely(rc))
		return nomem_error(t, fn, gfn, gfn + npages, done);
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_set_shared(struct sevmig_tracker *t,
					    uint64_t gfn, uint64_t npages)
{
	return set_range(t, __func__, gfn, npages, true);
}

SEVMIG_EXPORT int sevmig_tracker_set_private(struct sevmig_tracker *t,
					     uint64_t gfn, uint64_t npages)
{
	return set_range(t, __func__, gfn, npages, false);
}

SEVMIG_EXPORT int sevmig_tracker_reset(struct sevmig_tracker *t, uint32_t flags)
{
	uint64_t done;
	int rc;

	if (!t)
		return -EINVAL;
	rc = sevmig_arg_flags(t->ctx, __func__, flags);
	if (rc)
		return rc;
	rc = sevmig_tracker_update(t, 0, t->max_gfn, false, &done);
	if (rc)
		return nomem_error(t, __func__, 0, t->max_gfn, done);
	return 0;
}

/* ---- queries ---- */

static int bit_at(uintptr_t s, uint32_t level, uint64_t gfn)
{
	while (IS_OBJ(s)) {
		if (level == 0) {
			const struct leaf *l = (const struct leaf *)s;
			uint64_t b = gfn & (LEAF_PAGES - 1);

			if (is_runs(s))
				return rl_bit((const struct rleaf *)s,
					      (uint32_t)b);
			return (int)((l->bits[b >> 6] >> (b & 63)) & 1);
		}
		const struct node *n = (const struct node *)s;

		s = n->slot[(gfn >> (LEAF_SHIFT + FAN_SHIFT * (level - 1))) &
			    (FAN - 1)];
		level--;
	}
	return (int)s;
}

struct walk {
	uint64_t *out;
	uint32_t n, max;
	int cur;		/* state of the run being walked */
	uint64_t to;		/* exclusive end of the walk */
};

static inline bool emit(struct walk *w, uint64_t boundary)
{
	w->out[w->n++] = boundary;
	w->cur ^= 1;
	return w->n < w->max;
}

/*
 * Emit every GFN in [from, w->to) where the state differs from the one
 * before it, starting with w->cur = state at @from. Returns false once the
 * output is full.
 */
static bool walk(struct walk *w, uintptr_t s, uint32_t level, uint64_t base,
		 uint64_t from)
{
	if (!IS_OBJ(s)) {
		if ((int)s != w->cur)
			return emit(w, from);
		return true;
	}
	if (level == 0 && is_runs(s)) {
		const struct rleaf *r = (const struct rleaf *)s;
		uint32_t off = (uint32_t)(from - base);
		uint64_t end = w->to - base < LEAF_PAGES ? w->to - base
							   : LEAF_PAGES;
		uint32_t k = rl_below(r, off + 1);

		if ((r->h.first ^ (int)(k & 1)) != w->cur && !emit(w, from))
			return false;
		for (; k < r->h.n && r->b[k] < end; k++)
			if (!emit(w, base + r->b[k]))
				return false;
		return true;
	}
	if (level == 0) {
		const struct leaf *l = (const struct leaf *)s;
		uint64_t off = from - base, p = off + 1;
		uint64_t end = w->to - base < LEAF_PAGES ? w->to - base
							   : LEAF_PAGES;

		/* The run coming in may end right at @from. */
		if ((int)((l->bits[off >> 6] >> (off & 63)) & 1) != w->cur &&
		    !emit(w, from))
			return false;
		/* Then every transition in (from, end), via sum[]. */
		while (p < end) {
			uint64_t wi = p >> 6, sw = wi >> 6;
			uint64_t sb = l->sum[sw] & (~UINT64_C(0) << (wi & 63));

			while (!sb) {
				if (++sw >= SUM_WORDS)
					return true;
				sb = l->sum[sw];
			}
			wi = (sw << 6) + (uint64_t)__builtin_ctzll(sb);
			if (wi << 6 >= end)
				return true;
			if (wi << 6 > p)
				p = wi << 6;

			uint64_t x = l->bits[wi];
			uint64_t prev = wi ? l->bits[wi - 1] >> 63 : (x & 1);
			uint64_t d = (x ^ ((x << 1) | prev)) &
				     (~UINT64_C(0) << (p & 63));

			if (end - (wi << 6) < 64)
				d &= ~UINT64_C(0) >> (64 - (end - (wi << 6)));
			while (d) {
				if (!emit(w, base + (wi << 6) +
					  (uint64_t)__builtin_ctzll(d)))
					return false;
				d &= d - 1;
			}
			p = (wi + 1) << 6;
		}
		return true;
	}
	const struct node *n = (const struct node *)s;
	uint32_t sh = LEAF_SHIFT + FAN_SHIFT * (level - 1);
	uint64_t cspan = UINT64_C(1) << sh;
	uint32_t i = (uint32_t)((from - base) >> sh);

	for (; i < FAN; i++) {
		uint64_t cbase = base + i * cspan;

		if (cbase >= w->to)
			break;
		if (!walk(w, n->slot[i], level - 1, cbase,
			  from > cbase ? from : cbase))
			return false;
	}
	return true;
}

/*
 * Run ends of set @root from @gfn to @end into out[0..max). Returns the
 * count; *first is the state at @gfn. The last entry is @end when the walk
 * completed.
 */
static uint32_t runs_locked(const struct sevmig_tracker *t, uintptr_t root,
			    uint64_t gfn, uint64_t end, uint64_t *out,
			    uint32_t max, int *first, bool *complete)
{
	struct walk w = { out, 0, max, 0, end };

	w.cur = bit_at(root, t->root_level, gfn);
	*first = w.cur;
	*complete = walk(&w, root, t->root_level, 0, gfn);
	if (*complete)
		out[w.n++] = end;
	return w.n;
}

static int gfn_error(const struct sevmig_tracker *t, const char *fn,
		     const char *what, uint64_t gfn)
{
	return sevmig_err(t->ctx, -ERANGE,
			  "%s: %s 0x%llx is beyond the tracker's bound 0x%llx",
			  fn, what, (unsigned long long)gfn,
			  (unsigned long long)t->max_gfn);
}

SEVMIG_EXPORT int sevmig_tracker_state(struct sevmig_tracker *t, uint64_t gfn,
				       uint32_t *ret_state)
{
	int b;

	if (!t)
		return -EINVAL;
	if (!ret_state)
		return sevmig_arg_null(t->ctx, __func__, "ret_state");
	if (gfn >= t->max_gfn)
		return gfn_error(t, __func__, "gfn", gfn);
	sevmig_tracker_lock(t);
	b = bit_at(t->state, t->root_level, gfn);
	unlock(t);
	*ret_state = b ? SEVMIG_PAGE_SHARED : SEVMIG_PAGE_PRIVATE;
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_runs(struct sevmig_tracker *t, uint64_t gfn,
				      uint64_t end, uint64_t *ret_ends,
				      uint32_t max_ends,
				      uint32_t *ret_first_state,
				      uint64_t *ret_seq)
{
	uint32_t n;
	int first;
	bool complete;
	uint64_t seq;

	if (!t)
		return -EINVAL;
	if (!ret_ends)
		return sevmig_arg_null(t->ctx, __func__, "ret_ends");
	if (!ret_first_state)
		return sevmig_arg_null(t->ctx, __func__, "ret_first_state");
	if (!max_ends || max_ends > INT_MAX)
		return sevmig_arg_invalid(t->ctx, __func__,
					  "max_ends %u is not in 1..INT_MAX",
					  max_ends);
	if (gfn >= end)
		return sevmig_arg_invalid(t->ctx, __func__,
					  "[0x%llx, 0x%llx) is empty",
					  (unsigned long long)gfn,
					  (unsigned long long)end);
	if (end > t->max_gfn)
		return gfn_error(t, __func__, "end", end);
	sevmig_tracker_lock(t);
	n = runs_locked(t, t->state, gfn, end, ret_ends, max_ends, &first,
			&complete);
	seq = t->seq;
	unlock(t);
	*ret_first_state = first ? SEVMIG_PAGE_SHARED : SEVMIG_PAGE_PRIVATE;
	if (ret_seq)
		*ret_seq = seq;
	return (int)n;
}

SEVMIG_EXPORT int sevmig_tracker_run_end(struct sevmig_tracker *t, uint64_t gfn,
					 uint64_t *ret_end, uint32_t *ret_state)
{
	uint64_t end;
	int first;
	bool complete;

	if (!t)
		return -EINVAL;
	if (!ret_end)
		return sevmig_arg_null(t->ctx, __func__, "ret_end");
	if (gfn >= t->max_gfn)
		return gfn_error(t, __func__, "gfn", gfn);
	sevmig_tracker_lock(t);
	runs_locked(t, t->state, gfn, t->max_gfn, &end, 1, &first, &complete);
	unlock(t);
	*ret_end = end;
	if (ret_state)
		*ret_state = first ? SEVMIG_PAGE_SHARED : SEVMIG_PAGE_PRIVATE;
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_shared_pages(struct sevmig_tracker *t,
					      uint64_t *ret_pages)
{
	if (!t)
		return -EINVAL;
	if (!ret_pages)
		return sevmig_arg_null(t->ctx, __func__, "ret_pages");
	sevmig_tracker_lock(t);
	*ret_pages = slot_count(t->state, t->root_level);
	unlock(t);
	return 0;
}

/* ---- the changed-since-sync log ---- */

/* Drop C and P (the lock is held). */
static void log_clear(struct sevmig_tracker *t, struct tracker_dead *d)
{
	if (IS_OBJ(t->changed))
		discard(t, d, t->changed, t->root_level);
	if (IS_OBJ(t->pending))
		discard(t, d, t->pending, t->root_level);
	t->changed = U0;
	t->pending = U0;
	t->round_open = false;
	t->round_cursor = 0;
}

SEVMIG_EXPORT int sevmig_tracker_log_start(struct sevmig_tracker *t,
					   uint32_t flags)
{
	struct tracker_dead d = { NULL, NULL };
	int rc;

	if (!t)
		return -EINVAL;
	rc = sevmig_arg_flags(t->ctx, __func__, flags);
	if (rc)
		return rc;
	sevmig_tracker_lock(t);
	log_clear(t, &d);
	t->logging = true;
	sevmig_tracker_unlock(t, &d);
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_log_stop(struct sevmig_tracker *t,
					  uint32_t flags)
{
	struct tracker_dead d = { NULL, NULL };
	int rc;

	if (!t)
		return -EINVAL;
	rc = sevmig_arg_flags(t->ctx, __func__, flags);
	if (rc)
		return rc;
	sevmig_tracker_lock(t);
	log_clear(t, &d);
	t->logging = false;
	sevmig_tracker_unlock(t, &d);
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_sync(struct sevmig_tracker *t,
				      uint64_t *ret_ranges,
				      uint32_t max_ranges,
				      struct sevmig_tracker_sync_info *info,
				      uint32_t flags)
{
	struct sevmig_tracker_sync_info k = { .size = sizeof(k) };
	struct tracker_dead d = { NULL, NULL };
	struct walk w;
	uint64_t pages = 0;
	bool complete;
	int len;

	if (!t)
		return -EINVAL;
	if (!ret_ranges)
		return sevmig_arg_null(t->ctx, __func__, "ret_ranges");
	if (!info)
		return sevmig_arg_null(t->ctx, __func__, "info");
	if (!max_ranges || max_ranges > INT_MAX / 2)
		return sevmig_arg_invalid(t->ctx, __func__,
					  "max_ranges %u is not in 1..INT_MAX/2",
					  max_ranges);
	len = sevmig_arg_flags(t->ctx, __func__, flags);
	if (len)
		return len;
	len = sevmig_arg_out(t->ctx, __func__, "info", info, sizeof(k),
			     SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0);
	if (len < 0)
		return len;

	sevmig_tracker_lock(t);
	if (!t->logging) {
		unlock(t);
		return sevmig_err(t->ctx, -EPROTO,
				  "%s: the log is off: call sevmig_tracker_log_start() before the migration's first pass",
				  __func__);
	}
	if (!t->round_open) {
		/* Take the log atomically: later flips go to a fresh C. */
		t->pending = t->changed;
		t->changed = U0;
		t->generation++;
		t->round_open = true;
		t->round_cursor = 0;
	}
	w.out = ret_ranges;
	w.n = 0;
	w.max = 2 * max_ranges;
	w.to = t->max_gfn;
	w.cur = bit_at(t->pending, t->root_level, t->round_cursor);
	if (w.cur)
		w.out[w.n++] = t->round_cursor;	/* a range starts here */
	complete = walk(&w, t->pending, t->root_level, 0, t->round_cursor);
	if (complete && w.cur)
		w.out[w.n++] = t->max_gfn;	/* close the last range */
	/* Starts are at even, ends at odd indexes: w.n is even. */
	for (uint32_t i = 0; i < w.n; i += 2)
		pages += ret_ranges[i + 1] - ret_ranges[i];
	if (complete) {
		if (IS_OBJ(t->pending))
			discard(t, &d, t->pending, t->root_level);
		t->pending = U0;
		t->round_open = false;
	} else {
		t->round_cursor = ret_ranges[w.n - 1];
		k.flags = SEVMIG_TRACKER_SYNC_MORE;
	}
	k.generation = t->generation;
	k.nr_ranges = w.n / 2;
	k.pages = pages;
	sevmig_tracker_unlock(t, &d);
	sevmig_struct_out(info, &k, (size_t)len);
	return 0;
}

/* ---- the decode limit ---- */

SEVMIG_EXPORT int sevmig_tracker_set_limit(struct sevmig_tracker *t,
					   const uint64_t *ranges,
					   uint32_t nr_ranges, uint32_t flags)
{
	uint64_t *copy = NULL, *old;
	uint32_t n = 0, old_n;
	int rc;

	if (!t)
		return -EINVAL;
	rc = sevmig_arg_flags(t->ctx, __func__, flags);
	if (rc)
		return rc;
	if (nr_ranges && !ranges)
		return sevmig_arg_null(t->ctx, __func__, "ranges");
	if (nr_ranges > SEVMIG_TRACKER_LIMIT_MAX)
		return sevmig_arg_invalid(t->ctx, __func__,
					  "%u ranges: at most %u are accepted",
					  nr_ranges, SEVMIG_TRACKER_LIMIT_MAX);
	for (uint32_t i = 0; i < nr_ranges; i++) {
		uint64_t s = ranges[2 * i], e = ranges[2 * i + 1];

		if (s >= e)
			return sevmig_arg_invalid(t->ctx, __func__,
						  "range %u [0x%llx, 0x%llx) is empty",
						  i, (unsigned long long)s,
						  (unsigned long long)e);
		if (i && s < ranges[2 * i - 1])
			return sevmig_arg_invalid(t->ctx, __func__,
						  "range %u [0x%llx, 0x%llx) overlaps or precedes the one before",
						  i, (unsigned long long)s,
						  (unsigned long long)e);
		if (e > t->max_gfn)
			return gfn_error(t, __func__, "a range's end", e);
	}
	if (nr_ranges) {
		copy = malloc((size_t)nr_ranges * 2 * sizeof(*copy));
		if (!copy)
			return sevmig_err(t->ctx, -ENOMEM,
					  "%s: out of memory for %u ranges; the old limit stays",
					  __func__, nr_ranges);
		/* Coalesce adjacent ranges: one containment test per range. */
		for (uint32_t i = 0; i < nr_ranges; i++) {
			if (n && copy[2 * n - 1] == ranges[2 * i]) {
				copy[2 * n - 1] = ranges[2 * i + 1];
				continue;
			}
			copy[2 * n] = ranges[2 * i];
			copy[2 * n + 1] = ranges[2 * i + 1];
			n++;
		}
	}
	if (copy)
		note_alloc(t, (size_t)nr_ranges * 2 * sizeof(*copy));
	sevmig_tracker_lock(t);
	old = t->limit;
	old_n = t->limit_alloc;
	t->limit = copy;
	t->nr_limit = n;
	t->limit_alloc = nr_ranges;
	unlock(t);
	if (old)
		atomic_fetch_sub(&t->mem, (uint64_t)old_n * 2 * sizeof(*old));
	free(old);
	return 0;
}

bool sevmig_tracker_allowed_locked(const struct sevmig_tracker *t, uint64_t s,
				   uint64_t e, uint32_t *hint)
{
	uint32_t i = *hint;

	if (!t->nr_limit)
		return true;
	/* Ranges are checked in ascending order: walk forward from the hint. */
	while (i < t->nr_limit && t->limit[2 * i + 1] <= s)
		i++;
	*hint = i;
	return i < t->nr_limit && t->limit[2 * i] <= s &&
	       e <= t->limit[2 * i + 1];
}

/* ---- life cycle and statistics ---- */

SEVMIG_EXPORT int sevmig_tracker_new(struct sevmig_ctx *ctx,
				     uint64_t max_gfn, uint32_t flags,
				     struct sevmig_tracker **ret_tracker)
{
	struct sevmig_tracker *t;
	uint32_t level = 0;
	int rc;

	if (!ret_tracker)
		return sevmig_arg_null(ctx, __func__, "ret_tracker");
	rc = sevmig_arg_flags(ctx, __func__, flags);
	if (rc)
		return rc;
	if (!max_gfn || max_gfn > SEVMIG_TRACKER_MAX_GFN)
		return sevmig_arg_invalid(ctx, __func__,
					  "max_gfn 0x%llx is not in 1..SEVMIG_TRACKER_MAX_GFN (2^40)",
					  (unsigned long long)max_gfn);
	t = calloc(1, sizeof(*t));
	if (!t)
		return sevmig_err(ctx, -ENOMEM, "%s: out of memory", __func__);
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t);
		return sevmig_err(ctx, -ENOMEM, "%s: cannot create a mutex",
				  __func__);
	}
	while (span_of(level) < max_gfn)
		level++;
	t->ctx = ctx;
	t->max_gfn = max_gfn;
	t->root_level = level;
	/* Two partial paths, in S and in C, of at most 2 nodes a level. */
	t->edge_nodes = 4 * level + 2;
	/* Plus a log merge's path down from the root, and one to spare. */
	t->pool_nodes = t->edge_nodes + level + 1;
	atomic_init(&t->waiters, 0);
	atomic_init(&t->mem, sizeof(*t));
	atomic_init(&t->peak_mem, sizeof(*t));
	atomic_init(&t->nr_nodes, 0);
	atomic_init(&t->nr_leaves, 0);
	atomic_init(&t->nr_runs, 0);
	*ret_tracker = t;
	return 0;
}

SEVMIG_EXPORT void sevmig_tracker_free(struct sevmig_tracker *t)
{
	struct tracker_dead d = { NULL, NULL };

	if (!t)
		return;
	free_tree(t, t->state, t->root_level);
	free_tree(t, t->changed, t->root_level);
	free_tree(t, t->pending, t->root_level);
	while (t->pool.nodes) {
		struct node *n = t->pool.nodes;

		t->pool.nodes = n->next;
		n->next = d.nodes;
		d.nodes = n;
		n->level = 1;	/* no children */
		for (uint32_t i = 0; i < FAN; i++)
			n->slot[i] = U0;
	}
	while (t->pool.leaves) {
		struct leaf *l = t->pool.leaves;

		t->pool.leaves = l->h.next;
		l->h.next = d.leaves;
		d.leaves = l;
	}
	while (t->pool.runs) {
		struct rleaf *r = t->pool.runs;

		t->pool.runs = r->h.next;
		r->h.next = d.leaves;
		d.leaves = r;
	}
	free_dead(t, &d);
	free(t->limit);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

SEVMIG_EXPORT int sevmig_tracker_stats(struct sevmig_tracker *t,
				       struct sevmig_tracker_stats *stats)
{
	struct sevmig_tracker_stats k = { .size = sizeof(k) };
	int len;

	if (!t)
		return -EINVAL;
	if (!stats)
		return sevmig_arg_null(t->ctx, __func__, "stats");
	len = sevmig_arg_out(t->ctx, __func__, "stats", stats, sizeof(k),
			     SEVMIG_TRACKER_STATS_SIZE_VER0);
	if (len < 0)
		return len;
	sevmig_tracker_lock(t);
	k.max_gfn = t->max_gfn;
	k.shared_pages = slot_count(t->state, t->root_level);
	k.changed_pages = slot_count(t->changed, t->root_level);
	k.pending_pages = slot_count(t->pending, t->root_level);
	k.generation = t->generation;
	k.seq = t->seq;
	if (t->round_open)
		k.flags |= SEVMIG_TRACKER_SYNC_MORE;
	if (t->logging)
		k.flags |= SEVMIG_TRACKER_STATS_LOGGING;
	unlock(t);
	/* Allocation and free happen unlocked: these are atomics. */
	k.mem_bytes = atomic_load(&t->mem);
	k.peak_mem_bytes = atomic_load(&t->peak_mem);
	k.nodes = atomic_load(&t->nr_nodes);
	k.leaves = atomic_load(&t->nr_leaves);
	sevmig_struct_out(stats, &k, (size_t)len);
	return 0;
}

/* ---- used by tracker-codec.c ---- */

struct sevmig_ctx *sevmig_tracker_ctx(const struct sevmig_tracker *t)
{
	return t->ctx;
}

uint64_t sevmig_tracker_max_gfn(const struct sevmig_tracker *t)
{
	return t->max_gfn;
}

uint32_t sevmig_tracker_runs_locked(const struct sevmig_tracker *t,
				    uint64_t gfn, uint64_t end, uint64_t *out,
				    uint32_t max, int *first, bool *complete)
{
	return runs_locked(t, t->state, gfn, end, out, max, first, complete);
}
