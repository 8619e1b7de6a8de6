// SPDX-License-Identifier: MIT
/*
 * Migration-stream encoding of the page-state tracker (docs/tracker.md,
 * "Encoding"). One record sets a window of frames to the sender's state:
 *
 *   0  u32 magic "SVMT"     8  u64 max_gfn     24 u64 window end
 *   4  u8  version (1)     16  u64 window start 32 u64 nr_ranges
 *   5  u8  kind (1 full, 2 delta)
 *   6  u16 reserved (0)
 *   40 nr_ranges x { LEB128 gap, LEB128 npages - 1 }
 *
 * All integers little-endian. The first gap is from the window start (may
 * be 0), later ones from the previous range's end (>= 1: ranges are
 * coalesced). The decoder trusts nothing: it validates the whole record,
 * with the range count checked against the bytes present, and checks it
 * against the receiver's limit (sevmig_tracker_set_limit()) before applying
 * anything, and allocates nothing proportional to the input. It applies
 * the window as updates (the gaps private, the ranges shared), so a log
 * that is on records only frames that really flip.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tracker-priv.h"

#define ENTRY_MAX 20u	/* two 10-byte LEB128 values */

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static size_t put_leb(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v & 0x7f;

		v >>= 7;
		p[n++] = (unsigned char)(b | (v ? 0x80 : 0));
	} while (v);
	return n;
}

/* Canonical LEB128 only; returns bytes read or 0 on error. */
static size_t get_leb(const unsigned char *p, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len && i < 10; i++) {
		uint64_t b = p[i] & 0x7f;

		if (i == 9 && p[i] > 1)
			return 0;	/* beyond 64 bits */
		v |= b << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return 0;	/* overlong */
			*ret = v;
			return i + 1;
		}
	}
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_encode(struct sevmig_tracker *t,
					uint32_t kind, uint64_t gfn,
					uint64_t end, void *buf,
					size_t buf_len, size_t *ret_len,
					uint64_t *ret_next, uint32_t flags)
{
	unsigned char *out = buf;
	struct tracker_dead d = { NULL, NULL };
	uint64_t ends[256], pos = gfn, prev = gfn, wend = end, nr = 0;
	size_t off = TRACKER_REC_HDR;
	bool done = false;
	struct sevmig_ctx *ctx;
	int rc;

	if (!t)
		return -EINVAL;
	ctx = sevmig_tracker_ctx(t);
	if (!buf)
		return sevmig_arg_null(ctx, __func__, "buf");
	if (!ret_len)
		return sevmig_arg_null(ctx, __func__, "ret_len");
	if (!ret_next)
		return sevmig_arg_null(ctx, __func__, "ret_next");
	rc = sevmig_arg_flags(ctx, __func__, flags);
	if (rc)
		return rc;
	if (kind != SEVMIG_TRACKER_RECORD_FULL &&
	    kind != SEVMIG_TRACKER_RECORD_DELTA)
		return sevmig_arg_invalid(ctx, __func__,
					  "kind %u is neither SEVMIG_TRACKER_RECORD_FULL nor _DELTA",
					  kind);
	if (gfn >= end)
		return sevmig_arg_invalid(ctx, __func__,
					  "the window [0x%llx, 0x%llx) is empty",
					  (unsigned long long)gfn,
					  (unsigned long long)end);
	if (end > sevmig_tracker_max_gfn(t))
		return sevmig_err(ctx, -ERANGE,
				  "%s: the window ends at 0x%llx, beyond the tracker's bound 0x%llx",
				  __func__, (unsigned long long)end,
				  (unsigned long long)sevmig_tracker_max_gfn(t));
	if (buf_len < SEVMIG_TRACKER_RECORD_MIN)
		return sevmig_err(ctx, -ENOSPC,
				  "%s: a %zu-byte buffer is below SEVMIG_TRACKER_RECORD_MIN (%u)",
				  __func__, buf_len, SEVMIG_TRACKER_RECORD_MIN);

	sevmig_tracker_lock(t);
	while (!done) {
		int first;
		bool complete;
		uint32_t n = sevmig_tracker_runs_locked(t, pos, end, ends,
							ARRAY_SIZE(ends),
							&first, &complete);
		uint64_t a = pos;
		int st = first;

		for (uint32_t i = 0; i < n; a = ends[i], st ^= 1, i++) {
			if (!st)
				continue;
			if (buf_len - off < ENTRY_MAX) {
				wend = a;	/* [prev, a) is private */
				done = true;
				break;
			}
			off += put_leb(out + off, a - prev);
			off += put_leb(out + off, ends[i] - a - 1);
			prev = ends[i];
			nr++;
		}
		pos = ends[n - 1];
		if (complete)
			break;
	}
	sevmig_tracker_unlock(t, &d);

	put_u64(out, TRACKER_REC_MAGIC);	/* low 4 bytes: magic */
	out[4] = TRACKER_REC_VERSION;
	out[5] = (unsigned char)kind;
	out[6] = out[7] = 0;
	put_u64(out + 8, sevmig_tracker_max_gfn(t));
	put_u64(out + 16, gfn);
	put_u64(out + 24, wend);
	put_u64(out + 32, nr);
	*ret_len = off;
	*ret_next = wend;
	return 0;
}

struct rec {
	uint32_t kind;
	uint64_t start, end, nr;
	size_t used;
};

/*
 * Validate the whole record; nothing is applied. On error, @why (of
 * @why_len bytes) says which field is wrong.
 */
static int parse(const unsigned char *p, size_t len, uint64_t max_gfn,
		 struct rec *r, char *why, size_t why_len)
{
	uint64_t pos;
	size_t off = TRACKER_REC_HDR;

#define BAD(...) (snprintf(why, why_len, __VA_ARGS__), -EBADMSG)
	if (len < TRACKER_REC_HDR)
		return BAD("%zu bytes: shorter than the %u-byte header", len,
			   TRACKER_REC_HDR);
	if ((uint32_t)get_u64(p) != TRACKER_REC_MAGIC)
		return BAD("magic 0x%08x is not \"SVMT\"",
			   (unsigned int)(uint32_t)get_u64(p));
	if (p[4] != TRACKER_REC_VERSION)
		return BAD("version %u (this library reads %u)", p[4],
			   TRACKER_REC_VERSION);
	if (p[6] || p[7])
		return BAD("reserved bytes 6-7 are not zero");
	r->kind = p[5];
	if (r->kind != SEVMIG_TRACKER_RECORD_FULL &&
	    r->kind != SEVMIG_TRACKER_RECORD_DELTA)
		return BAD("kind %u is neither FULL (1) nor DELTA (2)", p[5]);
	if (get_u64(p + 8) != max_gfn) {
		(void)snprintf(why, why_len,
			 "the sender's max_gfn 0x%llx differs from this tracker's 0x%llx",
			 (unsigned long long)get_u64(p + 8),
			 (unsigned long long)max_gfn);
		return -EINVAL;
	}
	r->start = get_u64(p + 16);
	r->end = get_u64(p + 24);
	r->nr = get_u64(p + 32);
	if (r->start >= r->end || r->end > max_gfn)
		return BAD("window [0x%llx, 0x%llx) is empty or ends beyond max_gfn",
			   (unsigned long long)r->start,
			   (unsigned long long)r->end);
	/* Each range takes at least 2 bytes: check before any loop. */
	if (r->nr > (len - TRACKER_REC_HDR) / 2)
		return BAD("nr_ranges %llu cannot fit in the %zu bytes that follow the header",
			   (unsigned long long)r->nr, len - TRACKER_REC_HDR);
	pos = r->start;
	for (uint64_t i = 0; i < r->nr; i++) {
		uint64_t gap, n1;
		size_t k;

		k = get_leb(p + off, len - off, &gap);
		if (!k)
			return BAD("range %llu: gap at byte %zu is truncated, overlong or beyond 64 bits",
				   (unsigned long long)i, off);
		off += k;
		k = get_leb(p + off, len - off, &n1);
		if (!k)
			return BAD("range %llu: length at byte %zu is truncated, overlong or beyond 64 bits",
				   (unsigned long long)i, off);
		off += k;
		if (i > 0 && gap == 0)
			return BAD("range %llu touches the one before (ranges are coalesced)",
				   (unsigned long long)i);
		if (gap >= r->end - pos || n1 >= r->end - pos - gap)
			return BAD("range %llu lies outside the window",
				   (unsigned long long)i);
		pos += gap + n1 + 1;
	}
#undef BAD
	r->used = off;
	return 0;
}

/* The next range of a validated record: [*s, *e), from *off. */
static void next_range(const unsigned char *p, size_t len, size_t *off,
		       uint64_t *pos, uint64_t *s, uint64_t *e)
{
	uint64_t gap = 0, n1 = 0;

	*off += get_leb(p + *off, len - *off, &gap);
	*off += get_leb(p + *off, len - *off, &n1);
	*s = *pos + gap;
	*e = *s + n1 + 1;
	*pos = *e;
}

SEVMIG_EXPORT int sevmig_tracker_decode(struct sevmig_tracker *t,
					const void *buf, size_t len,
					size_t *ret_used, uint32_t *ret_kind,
					uint32_t flags)
{
	const unsigned char *p = buf;
	struct tracker_dead d = { NULL, NULL };
	struct sevmig_ctx *ctx;
	struct rec r;
	char why[200];
	size_t off = TRACKER_REC_HDR;
	uint64_t pos, s = 0, e = 0, done = 0;
	uint32_t hint = 0;
	bool allowed = true;
	int rc;

	if (!t)
		return -EINVAL;
	ctx = sevmig_tracker_ctx(t);
	if (!buf)
		return sevmig_arg_null(ctx, __func__, "buf");
	rc = sevmig_arg_flags(ctx, __func__, flags);
	if (rc)
		return rc;
	rc = parse(p, len, sevmig_tracker_max_gfn(t), &r, why, sizeof(why));
	if (rc)
		return sevmig_err(ctx, rc, "%s: page-state record rejected: %s",
				  __func__, why);

	/* Every shared range must lie in the frames the receiver allows. */
	sevmig_tracker_lock(t);
	pos = r.start;
	for (uint64_t i = 0; allowed && i < r.nr; i++) {
		next_range(p, len, &off, &pos, &s, &e);
		allowed = sevmig_tracker_allowed_locked(t, s, e, &hint);
	}
	sevmig_tracker_unlock(t, &d);
	if (!allowed)
		return sevmig_err(ctx, -ERANGE,
				  "%s: page-state record rejected: it makes [0x%llx, 0x%llx) shared, outside the frames allowed by sevmig_tracker_set_limit()",
				  __func__, (unsigned long long)s,
				  (unsigned long long)e);

	/* The gaps private, the ranges shared: only real flips are logged. */
	off = TRACKER_REC_HDR;
	pos = r.start;
	for (uint64_t i = 0; !rc && i <= r.nr; i++) {
		uint64_t gap_start = pos;

		if (i < r.nr) {
			next_range(p, len, &off, &pos, &s, &e);
		} else {
			s = e = r.end;
		}
		if (s > gap_start)
			rc = sevmig_tracker_update(t, gap_start, s, false,
						   &done);
		if (!rc && e > s)
			rc = sevmig_tracker_update(t, s, e, true, &done);
	}
	if (rc)
		return sevmig_err(ctx, rc,
				  "%s: out of memory: the window [0x%llx, 0x%llx) is applied up to 0x%llx; decode the record again",
				  __func__, (unsigned long long)r.start,
				  (unsigned long long)r.end,
				  (unsigned long long)done);
	if (ret_used)
		*ret_used = r.used;
	if (ret_kind)
		*ret_kind = r.kind;
	return 0;
}
