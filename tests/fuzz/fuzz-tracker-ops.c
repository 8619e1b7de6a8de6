// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: operation sequences against the one-bit-per-page
 * oracle (tests/tracker/oracle.h). Each 9-byte step is an opcode and two
 * 32-bit operands; after each step the counts, a point state and run end
 * agree, and every sync round returns exactly the oracle's flipped set.
 * Opcode bits 4-5 pick the work budget of a lock hold (tiny budgets split
 * long updates into many steps); opcode 6 with bit 7 set starts (b odd) or
 * stops the log.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sevmig/sevmig.h>

#include "fuzz-tracker.h"
#include "oracle.h"
#include "tracker-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct sevmig_tracker *t, struct oracle *o, uint64_t g)
{
	uint64_t cnt, end;
	uint32_t st;
	struct sevmig_tracker_stats s = { .size = sizeof(s) };

	if (sevmig_tracker_shared_pages(t, &cnt) || cnt != o->shared)
		abort();
	if (sevmig_tracker_stats(t, &s) || s.changed_pages != o->changed)
		abort();
	if (sevmig_tracker_run_end(t, g, &end, &st) ||
	    end != oracle_run_end(o, o->s, g) ||
	    (st == SEVMIG_PAGE_SHARED) != obit(o->s, g))
		abort();
}

static void sync_round(struct sevmig_tracker *t, struct oracle *o,
		       uint32_t max)
{
	uint64_t r[16], g = 0;
	struct sevmig_tracker_sync_info info = { .size = sizeof(info) };

	if (!o->logging) {
		if (sevmig_tracker_sync(t, r, max, &info, 0) != -EPROTO)
			abort();
		return;
	}
	oracle_take_round(o);
	do {
		info.size = sizeof(info);
		if (sevmig_tracker_sync(t, r, max, &info, 0))
			abort();
		for (uint64_t i = 0; i < info.nr_ranges; i++) {
			/* The next oracle range must be exactly this one. */
			while (g < o->n && !obit(o->p, g))
				g = oracle_run_end(o, o->p, g);
			if (r[2 * i] != g ||
			    r[2 * i + 1] != oracle_run_end(o, o->p, g))
				abort();
			g = r[2 * i + 1];
		}
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	while (g < o->n && !obit(o->p, g))
		g = oracle_run_end(o, o->p, g);
	if (g < o->n)
		abort();	/* a flipped range was missed */
	o->round_open = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sevmig_tracker *t;
	struct oracle o;

	if (sevmig_tracker_new(NULL, FUZZ_MAX_GFN, 0, &t))
		return 0;
	oracle_init(&o, FUZZ_MAX_GFN);
	if (sevmig_tracker_log_start(t, 0))
		abort();
	oracle_log(&o, true);
	for (; size >= 9; data += 9, size -= 9) {
		static const uint32_t budgets[] = { 0, 1, 3, 30 };
		uint32_t a, b;
		uint64_t s, e;

		sevmig_tracker_hold_budget = budgets[(data[0] >> 4) & 3];
		memcpy(&a, data + 1, 4);
		memcpy(&b, data + 5, 4);
		s = a % FUZZ_MAX_GFN;
		/* Lengths: mostly small, sometimes everything. */
		e = (data[0] & 0x40) ? FUZZ_MAX_GFN : s + 1 + (b % 70000);
		if (e > FUZZ_MAX_GFN)
			e = FUZZ_MAX_GFN;
		switch (data[0] & 7) {
		case 0: case 1: case 2:
			if (sevmig_tracker_set_shared(t, s, e - s))
				abort();
			oracle_set(&o, s, e, 1);
			break;
		case 3: case 4: case 5:
			if (sevmig_tracker_set_private(t, s, e - s))
				abort();
			oracle_set(&o, s, e, 0);
			break;
		case 6:
			if (!(data[0] & 0x80)) {
				sync_round(t, &o, 1 + (b & 7));
				break;
			}
			if ((b & 1 ? sevmig_tracker_log_start(t, 0)
				   : sevmig_tracker_log_stop(t, 0)))
				abort();
			oracle_log(&o, b & 1);
			break;
		default:
			if (sevmig_tracker_reset(t, 0))
				abort();
			oracle_set(&o, 0, FUZZ_MAX_GFN, 0);
		}
		check(t, &o, s);
		check(t, &o, (uint64_t)b % FUZZ_MAX_GFN);
	}
	sevmig_tracker_free(t);
	oracle_fini(&o);
	return 0;
}
