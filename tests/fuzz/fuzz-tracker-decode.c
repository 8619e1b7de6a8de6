// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the tracker's record decoder on hostile input. The
 * input is a sequence of records. Each must decode or fail with -EBADMSG
 * or -EINVAL, never crash or allocate unboundedly (ASan/UBSan check). A
 * record that decodes must have applied exactly its window: re-encoding the
 * window and decoding that into a second tracker gives the same runs. A
 * third tracker has a decode limit (two allowed ranges): it must accept
 * the record exactly when every shared range lies inside them, apply the
 * same window then, and change nothing otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sevmig/sevmig.h>

#include "fuzz-tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_runs(struct sevmig_tracker *a, struct sevmig_tracker *b,
		      uint64_t g, uint64_t e)
{
	uint64_t ea[64], eb[64];
	uint32_t fa, fb;

	while (g < e) {
		int na = sevmig_tracker_runs(a, g, e, ea, 64, &fa, NULL);
		int nb = sevmig_tracker_runs(b, g, e, eb, 64, &fb, NULL);

		if (na < 1 || na != nb || fa != fb ||
		    memcmp(ea, eb, (size_t)na * 8))
			abort();
		g = ea[na - 1];
	}
}

static const uint64_t allowed[4] = { 100, 40000, 70000, 100000 };

/* Are the shared runs of @t in [g, e) all inside the allowed ranges? */
static int inside_limit(struct sevmig_tracker *t, uint64_t g, uint64_t e)
{
	uint64_t ends[64];
	uint32_t first;

	while (g < e) {
		int n = sevmig_tracker_runs(t, g, e, ends, 64, &first, NULL);
		int st = first == SEVMIG_PAGE_SHARED;

		if (n < 1)
			abort();
		for (int i = 0; i < n; i++, st ^= 1) {
			if (st && !((g >= allowed[0] && ends[i] <= allowed[1]) ||
				    (g >= allowed[2] && ends[i] <= allowed[3])))
				return 0;
			g = ends[i];
		}
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sevmig_tracker *t, *u, *lim;
	unsigned char buf[512];

	if (sevmig_tracker_new(NULL, FUZZ_MAX_GFN, 0, &t))
		return 0;
	if (sevmig_tracker_new(NULL, FUZZ_MAX_GFN, 0, &u)) {
		sevmig_tracker_free(t);
		return 0;
	}
	if (sevmig_tracker_new(NULL, FUZZ_MAX_GFN, 0, &lim) ||
	    sevmig_tracker_set_limit(lim, allowed, 2, 0))
		abort();
	while (size) {
		size_t used = 0, len;
		uint32_t kind;
		uint64_t start, end, next;
		int rc = sevmig_tracker_decode(t, data, size, &used, &kind, 0);

		if (rc == -EBADMSG || rc == -EINVAL)
			break;
		if (rc || used < 40 || used > size)
			abort();
		if (kind != SEVMIG_TRACKER_RECORD_FULL &&
		    kind != SEVMIG_TRACKER_RECORD_DELTA)
			abort();
		memcpy(&start, data + 16, 8);	/* little-endian host */
		memcpy(&end, data + 24, 8);
		for (uint64_t g = start; g < end; g = next) {
			if (sevmig_tracker_encode(t, kind, g, end, buf,
						  sizeof(buf), &len, &next, 0) ||
			    next <= g ||
			    sevmig_tracker_decode(u, buf, len, NULL, NULL, 0))
				abort();
		}
		same_runs(t, u, start, end);
		{
			uint64_t before, after;
			int ok = inside_limit(t, start, end);

			if (sevmig_tracker_shared_pages(lim, &before))
				abort();
			rc = sevmig_tracker_decode(lim, data, size, NULL, NULL, 0);
			if (sevmig_tracker_shared_pages(lim, &after))
				abort();
			if (ok ? rc != 0 : (rc != -ERANGE || before != after))
				abort();
			if (ok)
				same_runs(t, lim, start, end);
		}
		data += used;
		size -= used;
	}
	sevmig_tracker_free(t);
	sevmig_tracker_free(u);
	sevmig_tracker_free(lim);
	return 0;
}
