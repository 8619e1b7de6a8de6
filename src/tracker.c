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
 * soon as a region becomes uniform or sparse again. We chose this over a
 * balanced tree of ranges with a cap and a bitmap fallback because it has
 * no rebalancing, no per-range allocation, O(1) huge updates through
 * uniform slots, and its worst case (alternating pages) is exactly the
 * bitmap's.
 *
 * Every set is counted (pages set per object), so the shared-page count is
 * O(1) and "became uniform" is a comparison.
 *
 * Three sets live in a tracker: S (shared pages), C (pages whose state an
 * update actually flipped since the last sync) and P (the sync round being
 * drained). Updates walk S and C together: where a whole slot of S is
 * replaced, the replaced subtree (complemented when needed) is exactly the
 * set of changed pages, and it is moved or OR-ed into C without copying.
 *
 * Concurrency: one mutex. A vCPU-thread update holds it for O(64 * depth)
 * slot operations plus at most two leaf edits (and, amortized, the
 * merge of subtrees it destroys); memory is allocated from a per-tracker
 * reserve refilled before the update (so an update either happens fully or
 * fails with -ENOMEM having changed nothing) and freed subtrees are
 * released after the mutex is dropped.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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

#define POOL_LEAVES_MAX 8u
#define POOL_RUNS_MAX 64u
/* What one update may take from the reserve: see reserve(). */
#define RES_LEAVES 4u
#define RES_RUNS 6u

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
	uint16_t n;		/* LEAF_RUNS: number of boundaries */
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

	if (x ^ ((x << 1) | prev))
		l->sum[w >> 6] |= bit;
	else
		l->sum[w >> 6] &= ~bit;
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

struct sevmig_tracker {
	pthread_mutex_t lock;
	struct sevmig_ctx *ctx;	/* optional: where errors are logged */
	uint64_t max_gfn;
	uint32_t root_level;
	uint32_t res_nodes;	/* reserve needed by one update */
	uintptr_t state;	/* S: shared pages */
	uintptr_t changed;	/* C: flipped since the last sync */
	uintptr_t pending;	/* P: the open sync round */
	bool logging;		/* the first sync turns the log on */
	bool round_open;
	uint64_t round_cursor;
	uint64_t generation;
	uint64_t seq;
	struct node *pool_nodes;
	struct leaf *pool_leaves;
	struct rleaf *pool_runs;
	uint32_t nr_pool_nodes, nr_pool_leaves, nr_pool_runs;
	/* Statistics; frees happen outside the lock, hence atomics. */
	_Atomic uint64_t mem;
	_Atomic uint64_t nr_nodes, nr_leaves, nr_runs;
	uint64_t peak_mem;
};


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

/* ---- memory ---- */

static void note_alloc(struct sevmig_tracker *t, size_t sz)
{
	uint64_t m = atomic_fetch_add(&t->mem, sz) + sz;

	if (m > t->peak_mem)
		t->peak_mem = m;
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

/* A bitmap leaf from malloc, or NULL. */
static struct leaf *leaf_alloc(struct sevmig_tracker *t)
{
	struct leaf *l = malloc(sizeof(*l));

	if (!l)
		return NULL;
	note_alloc(t, sizeof(*l));
	atomic_fetch_add(&t->nr_leaves, 1);
	l->h.kind = LEAF_BITS;
	return l;
}

/*
 * Refill the reserve so that one update cannot fail half-way. One update
 * edits at most two leaves (its edges), and each edit may create a compact
 * leaf in S and in C, convert S or C to a bitmap, and shrink S back: hence
 * RES_LEAVES bitmap leaves and RES_RUNS compact ones.
 */
static int reserve(struct sevmig_tracker *t)
{
	while (t->nr_pool_nodes < t->res_nodes) {
		struct node *n = malloc(sizeof(*n));

		if (!n)
			return -ENOMEM;
		note_alloc(t, sizeof(*n));
		atomic_fetch_add(&t->nr_nodes, 1);
		n->next = t->pool_nodes;
		t->pool_nodes = n;
		t->nr_pool_nodes++;
	}
	while (t->nr_pool_leaves < RES_LEAVES) {
		struct leaf *l = leaf_alloc(t);

		if (!l)
			return -ENOMEM;
		l->h.next = t->pool_leaves;
		t->pool_leaves = l;
		t->nr_pool_leaves++;
	}
	while (t->nr_pool_runs < RES_RUNS) {
		struct rleaf *r = malloc(sizeof(*r));

		if (!r)
			return -ENOMEM;
		note_alloc(t, sizeof(*r));
		atomic_fetch_add(&t->nr_runs, 1);
		r->h.kind = LEAF_RUNS;
		r->h.next = t->pool_runs;
		t->pool_runs = r;
		t->nr_pool_runs++;
	}
	return 0;
}

/* A bitmap leaf from the reserve, contents undefined. */
static struct leaf *take_leaf(struct sevmig_tracker *t)
{
	struct leaf *l = t->pool_leaves;

	t->pool_leaves = l->h.next;
	t->nr_pool_leaves--;
	return l;
}

/* Unused entries from @n on. */
static inline void rl_clear_from(struct rleaf *r, uint32_t n)
{
	for (uint32_t i = n; i < RL_MAX; i++)
		r->b[i] = RL_NONE;
}

/* A compact leaf from the reserve, uniformly @fill. */
static struct rleaf *take_runs(struct sevmig_tracker *t, uintptr_t fill)
{
	struct rleaf *r = t->pool_runs;

	t->pool_runs = r->h.next;
	t->nr_pool_runs--;
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
	struct node *n = t->pool_nodes;

	t->pool_nodes = n->next;
	t->nr_pool_nodes--;
	n->level = level;
	n->pad = 0;
	for (uint32_t i = 0; i < FAN; i++)
		n->slot[i] = fill;
	n->count = fill ? span_of(level) : 0;
	return (uintptr_t)n;
}

static void discard(struct sevmig_tracker *t, struct tracker_dead *d, uintptr_t s,
		    uint32_t level)
{
	if (level == 0) {
		struct lhdr *h = LH(s);

		if (h->kind == LEAF_RUNS && t->nr_pool_runs < POOL_RUNS_MAX) {
			h->next = t->pool_runs;
			t->pool_runs = (struct rleaf *)h;
			t->nr_pool_runs++;
		} else if (h->kind == LEAF_BITS &&
			   t->nr_pool_leaves < POOL_LEAVES_MAX) {
			h->next = t->pool_leaves;
			t->pool_leaves = (struct leaf *)h;
			t->nr_pool_leaves++;
		} else {
			h->next = d->leaves;
			d->leaves = h;
		}
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
static void free_dead(struct sevmig_tracker *t, struct tracker_dead *d)
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

/* Fold a child that became uniform back into its slot. */
static void normalize(struct sevmig_tracker *t, struct tracker_dead *d, uintptr_t *sp,
		      uint32_t level)
{
	uintptr_t s = *sp;

	if (!IS_OBJ(s))
		return;
	uint64_t c = obj_count(s);

	if (c == 0) {
		*sp = U0;
		discard(t, d, s, level);
	} else if (c == span_of(level)) {
		*sp = U1;
		discard(t, d, s, level);
	}
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
	uint64_t words = 0;
	struct rleaf *r;

	for (uint32_t i = 0; i < SUM_WORDS; i++)
		words += popcnt(l->sum[i]);
	if (words > RL_SHRINK)
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

/*
 * Set [lo, hi) of the S leaf *sp to @val, logging the flipped pages into
 * the C leaf *cp (NULL when C is all ones there); both are objects, and
 * either may change form. Returns S's count delta and adds C's to *dc.
 * Takes at most two bitmap leaves and one compact leaf from the reserve.
 */
static int64_t leaf_edit(struct sevmig_tracker *t, struct tracker_dead *d,
			 uintptr_t *sp, uintptr_t *cp, uint32_t lo, uint32_t hi,
			 int val, int64_t *dc)
{
	int64_t ds;

	if (is_runs(*sp)) {
		struct rleaf *r = (struct rleaf *)*sp;
		struct run16 f[RL_RUNS_MAX];
		uint64_t pages;
		uint32_t nf = rl_flips(r, lo, hi, val, f, &pages);

		if (!pages)
			return 0;
		if (rl_splice(r, lo, hi, val)) {
			r->h.count = val ? r->h.count + pages
					 : r->h.count - pages;
		} else {
			struct leaf *l = to_bits(t, d, r);
			int64_t unused = 0;

			*sp = (uintptr_t)l;
			bl_apply(l, NULL, lo, hi, val, &unused);
		}
		for (uint32_t i = 0; cp && i < nf; i++)
			*dc += (int64_t)leaf_or_range(t, d, cp, f[i].s, f[i].e);
		return val ? (int64_t)pages : -(int64_t)pages;
	}
	if (cp && is_runs(*cp))
		*cp = (uintptr_t)to_bits(t, d, (struct rleaf *)*cp);
	ds = bl_apply((struct leaf *)*sp, cp ? (struct leaf *)*cp : NULL, lo,
		      hi, val, dc);
	if (ds && obj_count(*sp) && obj_count(*sp) < LEAF_PAGES)
		maybe_shrink(t, d, sp);
	return ds;
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
 * compact leaves may need a bitmap, and there can be many such pairs in
 * one update (a huge range replacing a fragmented region while logging),
 * more than any fixed reserve: that bitmap comes from malloc, and if
 * malloc fails the union is widened (the smallest gaps filled) until it
 * fits. C may then report pages that did not flip, never miss one.
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
		discard(t, d, src, 0);
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
		discard(t, d, runs, 0);
		return;
	}
	na = rl_runs((struct rleaf *)dst, ra);
	nb = rl_runs((struct rleaf *)src, rb);
	nu = runs_union(ra, na, rb, nb, u);
	if (!rl_from_runs((struct rleaf *)dst, u, nu)) {
		struct leaf *l = leaf_alloc(t);

		if (l) {
			bl_from_runs(l, (struct rleaf *)dst);
			bl_or_runs(l, (const struct rleaf *)src);
			*cp = (uintptr_t)l;
			discard(t, d, dst, 0);
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
	discard(t, d, src, 0);
}

static int64_t or_into(struct sevmig_tracker *t, struct tracker_dead *d,
		       uintptr_t *cp, uintptr_t obj, uint32_t level, int comp);

/* Nodes: dst |= (comp ? ~src : src); consumes @src; updates dst's count. */
static void merge(struct sevmig_tracker *t, struct tracker_dead *d, uintptr_t dst,
		  uintptr_t src, uint32_t level, int comp)
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
	discard(t, d, src, level);	/* holds no objects any more */
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

struct apply_ctx {
	struct sevmig_tracker *t;
	struct tracker_dead *d;
	uint64_t s, e;
	uintptr_t val;		/* U0 private, U1 shared */
};

/*
 * Apply a->val over [a->s, a->e) to the S slot *sp covering
 * [base, base + span(level)), recording flipped pages in the C slot *cp
 * (NULL when C is already all-ones there). Returns S's count delta and adds
 * C's to *dc.
 */
static int64_t apply(const struct apply_ctx *a, uintptr_t *sp, uintptr_t *cp,
		     uint32_t level, uint64_t base, int64_t *dc)
{
	struct sevmig_tracker *t = a->t;
	uint64_t span = span_of(level);
	uintptr_t sv = *sp;
	int64_t ds = 0;

	if (a->s <= base && base + span <= a->e) {
		/* Whole slot: O(1), or a move of the old subtree into C. */
		if (sv == a->val)
			return 0;
		*sp = a->val;
		if (!IS_OBJ(sv)) {
			if (cp)
				*dc += set_full(t, a->d, cp, level);
			return a->val ? (int64_t)span : -(int64_t)span;
		}
		uint64_t cnt = obj_count(sv);

		ds = a->val ? (int64_t)(span - cnt) : -(int64_t)cnt;
		if (cp)
			*dc += or_into(t, a->d, cp, sv, level, (int)a->val);
		else
			discard(t, a->d, sv, level);
		return ds;
	}
	if (sv == a->val)
		return 0;
	if (!IS_OBJ(sv))
		*sp = sv = make(t, level, sv);
	if (cp && *cp == U1)
		cp = NULL;
	if (cp && *cp == U0)
		*cp = make(t, level, U0);

	uint64_t lo = a->s > base ? a->s : base;
	uint64_t hi = a->e < base + span ? a->e : base + span;
	int64_t dcl = 0;

	if (level == 0) {
		ds = leaf_edit(t, a->d, sp, cp, (uint32_t)(lo - base),
			       (uint32_t)(hi - base), (int)a->val, &dcl);
	} else {
		struct node *n = (struct node *)sv;
		struct node *cn = cp ? (struct node *)*cp : NULL;
		/* Spans are powers of two: shift, never divide. */
		uint32_t sh = LEAF_SHIFT + FAN_SHIFT * (level - 1);
		uint64_t cspan = UINT64_C(1) << sh;
		uint32_t i0 = (uint32_t)((lo - base) >> sh);
		uint32_t i1 = (uint32_t)((hi - 1 - base) >> sh);

		for (uint32_t i = i0; i <= i1; i++) {
			int64_t dci = 0;

			ds += apply(a, &n->slot[i], cn ? &cn->slot[i] : NULL,
				    level - 1, base + i * cspan, &dci);
			if (cn)
				cn->count = (uint64_t)((int64_t)cn->count + dci);
			dcl += dci;
		}
		n->count = (uint64_t)((int64_t)n->count + ds);
	}
	*dc += dcl;
	normalize(t, a->d, sp, level);
	if (cp)
		normalize(t, a->d, cp, level);
	return ds;
}

int sevmig_tracker_apply_locked(struct sevmig_tracker *t,
				struct tracker_dead *d, uint64_t s, uint64_t e,
				bool shared)
{
	struct apply_ctx a = { t, d, s, e, shared ? U1 : U0 };
	int64_t dc = 0, ds;
	int rc = reserve(t);

	if (rc)
		return rc;
	ds = apply(&a, &t->state, t->logging ? &t->changed : NULL,
		   t->root_level, 0, &dc);
	if (ds)
		t->seq++;
	return 0;
}

static int check_range(const struct sevmig_tracker *t, uint64_t gfn,
		       uint64_t npages)
{
	if (!t || !npages)
		return -EINVAL;
	if (gfn + npages < gfn || gfn + npages > t->max_gfn)
		return -ERANGE;
	return 0;
}

static int set_range(struct sevmig_tracker *t, uint64_t gfn, uint64_t npages,
		     bool shared)
{
	struct tracker_dead d = { NULL, NULL };
	int rc = check_range(t, gfn, npages);

	if (rc)
		return rc;
	pthread_mutex_lock(&t->lock);
	rc = sevmig_tracker_apply_locked(t, &d, gfn, gfn + npages, shared);
	pthread_mutex_unlock(&t->lock);
	free_dead(t, &d);
	return rc;
}

SEVMIG_EXPORT int sevmig_tracker_set_shared(struct sevmig_tracker *t,
					    uint64_t gfn, uint64_t npages)
{
	return set_range(t, gfn, npages, true);
}

SEVMIG_EXPORT int sevmig_tracker_set_private(struct sevmig_tracker *t,
					     uint64_t gfn, uint64_t npages)
{
	return set_range(t, gfn, npages, false);
}

SEVMIG_EXPORT int sevmig_tracker_reset(struct sevmig_tracker *t, uint32_t flags)
{
	if (!t || flags)
		return -EINVAL;
	return set_range(t, 0, t->max_gfn, false);
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

SEVMIG_EXPORT int sevmig_tracker_state(struct sevmig_tracker *t, uint64_t gfn,
				       uint32_t *ret_state)
{
	int b;

	if (!t || !ret_state)
		return -EINVAL;
	if (gfn >= t->max_gfn)
		return -ERANGE;
	pthread_mutex_lock(&t->lock);
	b = bit_at(t->state, t->root_level, gfn);
	pthread_mutex_unlock(&t->lock);
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

	if (!t || !ret_ends || !max_ends || max_ends > INT_MAX ||
	    !ret_first_state || gfn >= end)
		return -EINVAL;
	if (end > t->max_gfn)
		return -ERANGE;
	pthread_mutex_lock(&t->lock);
	n = runs_locked(t, t->state, gfn, end, ret_ends, max_ends, &first,
			&complete);
	seq = t->seq;
	pthread_mutex_unlock(&t->lock);
	*ret_first_state = first ? SEVMIG_PAGE_SHARED : SEVMIG_PAGE_PRIVATE;
	if (ret_seq)
		*ret_seq = seq;
	return (int)n;
}

SEVMIG_EXPORT int sevmig_tracker_run_end(struct sevmig_tracker *t, uint64_t gfn,
					 uint64_t *ret_end, uint32_t *ret_state)
{
	uint64_t end;
	uint32_t st;
	int rc;

	if (!t || !ret_end)
		return -EINVAL;
	if (gfn >= t->max_gfn)
		return -ERANGE;
	rc = sevmig_tracker_runs(t, gfn, t->max_gfn, &end, 1, &st, NULL);
	if (rc < 0)
		return rc;
	*ret_end = end;
	if (ret_state)
		*ret_state = st;
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_shared_pages(struct sevmig_tracker *t,
					      uint64_t *ret_pages)
{
	if (!t || !ret_pages)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	*ret_pages = slot_count(t->state, t->root_level);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* ---- sync ---- */

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

	if (!t || !ret_ranges || !max_ranges || max_ranges > INT_MAX / 2 ||
	    !info || flags)
		return -EINVAL;
	len = sevmig_struct_out_len(info, sizeof(k),
				    SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0);
	if (len < 0)
		return len;

	pthread_mutex_lock(&t->lock);
	if (!t->round_open) {
		/* Take the log atomically: later flips go to a fresh C. */
		t->pending = t->changed;
		t->changed = U0;
		t->generation++;
		t->round_open = true;
		t->round_cursor = 0;
		t->logging = true;
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
	pthread_mutex_unlock(&t->lock);
	free_dead(t, &d);
	sevmig_struct_out(info, &k, (size_t)len);
	return 0;
}

/* ---- life cycle and statistics ---- */

SEVMIG_EXPORT int sevmig_tracker_new(struct sevmig_ctx *ctx,
				     uint64_t max_gfn, uint32_t flags,
				     struct sevmig_tracker **ret_tracker)
{
	struct sevmig_tracker *t;
	uint32_t level = 0;

	if (!ret_tracker || flags || !max_gfn ||
	    max_gfn > SEVMIG_TRACKER_MAX_GFN)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t);
		return -ENOMEM;
	}
	while (span_of(level) < max_gfn)
		level++;
	t->ctx = ctx;
	t->max_gfn = max_gfn;
	t->root_level = level;
	/* Two partial paths, in S and in C, of at most 2 nodes a level. */
	t->res_nodes = 4 * level + 2;
	atomic_init(&t->mem, sizeof(*t));
	atomic_init(&t->nr_nodes, 0);
	atomic_init(&t->nr_leaves, 0);
	atomic_init(&t->nr_runs, 0);
	t->peak_mem = sizeof(*t);
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
	while (t->pool_nodes) {
		struct node *n = t->pool_nodes;

		t->pool_nodes = n->next;
		n->next = d.nodes;
		d.nodes = n;
		for (uint32_t i = 0; i < FAN; i++)
			n->slot[i] = U0;
	}
	while (t->pool_leaves) {
		struct leaf *l = t->pool_leaves;

		t->pool_leaves = l->h.next;
		l->h.next = d.leaves;
		d.leaves = l;
	}
	while (t->pool_runs) {
		struct rleaf *r = t->pool_runs;

		t->pool_runs = r->h.next;
		r->h.next = d.leaves;
		d.leaves = r;
	}
	free_dead(t, &d);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

SEVMIG_EXPORT int sevmig_tracker_stats(struct sevmig_tracker *t,
				       struct sevmig_tracker_stats *stats)
{
	struct sevmig_tracker_stats k = { .size = sizeof(k) };
	int len;

	if (!t || !stats)
		return -EINVAL;
	len = sevmig_struct_out_len(stats, sizeof(k),
				    SEVMIG_TRACKER_STATS_SIZE_VER0);
	if (len < 0)
		return len;
	pthread_mutex_lock(&t->lock);
	k.max_gfn = t->max_gfn;
	k.shared_pages = slot_count(t->state, t->root_level);
	k.changed_pages = slot_count(t->changed, t->root_level);
	k.pending_pages = slot_count(t->pending, t->root_level);
	k.generation = t->generation;
	k.seq = t->seq;
	k.mem_bytes = atomic_load(&t->mem);
	k.peak_mem_bytes = t->peak_mem;
	k.nodes = atomic_load(&t->nr_nodes);
	k.leaves = atomic_load(&t->nr_leaves);
	if (t->round_open)
		k.flags = SEVMIG_TRACKER_SYNC_MORE;
	pthread_mutex_unlock(&t->lock);
	sevmig_struct_out(stats, &k, (size_t)len);
	return 0;
}

/* ---- used by tracker-codec.c ---- */

void sevmig_tracker_lock(struct sevmig_tracker *t)
{
	pthread_mutex_lock(&t->lock);
}

void sevmig_tracker_unlock(struct sevmig_tracker *t, struct tracker_dead *d)
{
	pthread_mutex_unlock(&t->lock);
	free_dead(t, d);
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
