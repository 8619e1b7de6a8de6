/* SPDX-License-Identifier: MIT */
/*
 * The naive model the tracker is checked against: one bit per page for the
 * shared set (S), the flipped-since-last-round log (C) and the open round
 * (P). Obviously right, hopelessly slow for real guests.
 */
#ifndef SEVMIG_TEST_ORACLE_H
#define SEVMIG_TEST_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct oracle {
	uint64_t n;		/* max_gfn */
	uint64_t words;
	uint64_t *s, *c, *p;
	uint64_t shared, changed;
	bool round_open;
	bool logging;		/* between log_start and log_stop */
};

static inline void oracle_init(struct oracle *o, uint64_t n)
{
	memset(o, 0, sizeof(*o));
	o->n = n;
	o->words = (n + 63) / 64;
	o->s = calloc(o->words, 8);
	o->c = calloc(o->words, 8);
	o->p = calloc(o->words, 8);
}

static inline void oracle_fini(struct oracle *o)
{
	free(o->s);
	free(o->c);
	free(o->p);
}

static inline int obit(const uint64_t *m, uint64_t g)
{
	return (int)((m[g >> 6] >> (g & 63)) & 1);
}

static inline uint64_t omask(uint64_t w, uint64_t s, uint64_t e)
{
	uint64_t lo = w * 64, m = ~UINT64_C(0);

	if (s > lo)
		m &= ~UINT64_C(0) << (s - lo);
	if (e < lo + 64)
		m &= ~UINT64_C(0) >> (lo + 64 - e);
	return m;
}

/* Set [s, e) to @v; flipped pages go to C. */
static inline void oracle_set(struct oracle *o, uint64_t s, uint64_t e, int v)
{
	for (uint64_t w = s / 64; w <= (e - 1) / 64; w++) {
		uint64_t m = omask(w, s, e), old = o->s[w];
		uint64_t nw = v ? old | m : old & ~m, diff = old ^ nw;

		o->s[w] = nw;
		o->shared += (uint64_t)__builtin_popcountll(nw);
		o->shared -= (uint64_t)__builtin_popcountll(old);
		if (!o->logging)
			continue;
		o->changed += (uint64_t)__builtin_popcountll(diff & ~o->c[w]);
		o->c[w] |= diff;
	}
}

/* First page >= g whose bit in @m differs from bit g, or n. */
static inline uint64_t oracle_run_end(const struct oracle *o,
				      const uint64_t *m, uint64_t g)
{
	uint64_t inv = obit(m, g) ? ~UINT64_C(0) : 0;
	uint64_t w = g / 64, x = (m[w] ^ inv) & (~UINT64_C(0) << (g & 63));

	while (!x) {
		if (++w >= o->words)
			return o->n;
		x = m[w] ^ inv;
	}
	g = w * 64 + (uint64_t)__builtin_ctzll(x);
	return g < o->n ? g : o->n;
}

/* sevmig_tracker_log_start() (@on) or _log_stop(): C and P emptied. */
static inline void oracle_log(struct oracle *o, bool on)
{
	memset(o->c, 0, o->words * 8);
	memset(o->p, 0, o->words * 8);
	o->changed = 0;
	o->round_open = false;
	o->logging = on;
}

static inline void oracle_take_round(struct oracle *o)
{
	uint64_t *t = o->p;

	o->p = o->c;
	o->c = t;
	memset(o->c, 0, o->words * 8);
	o->changed = 0;
	o->round_open = true;
}

#endif /* SEVMIG_TEST_ORACLE_H */
