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
 * with the range count checked against the bytes present, before applying
 * anything, and allocates nothing proportional to the input.
 */
#include <errno.h>
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

	if (!t || !buf || !ret_len || !ret_next || flags || gfn >= end ||
	    (kind != SEVMIG_TRACKER_RECORD_FULL &&
	     kind != SEVMIG_TRACKER_RECORD_DELTA))
		return -EINVAL;
	if (end > sevmig_tracker_max_gfn(t))
		return -ERANGE;
	if (buf_len < SEVMIG_TRACKER_RECORD_MIN)
		return -ENOSPC;

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

/* Validate the whole record; nothing is applied. */
static int parse(const unsigned char *p, size_t len, uint64_t max_gfn,
		 struct rec *r)
{
	uint64_t pos;
	size_t off = TRACKER_REC_HDR;

	if (len < TRACKER_REC_HDR)
		return -EBADMSG;
	if ((uint32_t)get_u64(p) != TRACKER_REC_MAGIC ||
	    p[4] != TRACKER_REC_VERSION || p[6] || p[7])
		return -EBADMSG;
	r->kind = p[5];
	if (r->kind != SEVMIG_TRACKER_RECORD_FULL &&
	    r->kind != SEVMIG_TRACKER_RECORD_DELTA)
		return -EBADMSG;
	if (get_u64(p + 8) != max_gfn)
		return -EINVAL;
	r->start = get_u64(p + 16);
	r->end = get_u64(p + 24);
	r->nr = get_u64(p + 32);
	if (r->start >= r->end || r->end > max_gfn)
		return -EBADMSG;
	/* Each range takes at least 2 bytes: check before any loop. */
	if (r->nr > (len - TRACKER_REC_HDR) / 2)
		return -EBADMSG;
	pos = r->start;
	for (uint64_t i = 0; i < r->nr; i++) {
		uint64_t gap, n1;
		size_t k;

		k = get_leb(p + off, len - off, &gap);
		if (!k)
			return -EBADMSG;
		off += k;
		k = get_leb(p + off, len - off, &n1);
		if (!k)
			return -EBADMSG;
		off += k;
		if (i > 0 && gap == 0)
			return -EBADMSG;	/* not coalesced */
		if (gap >= r->end - pos || n1 >= r->end - pos - gap)
			return -EBADMSG;	/* outside the window */
		pos += gap + n1 + 1;
	}
	r->used = off;
	return 0;
}

SEVMIG_EXPORT int sevmig_tracker_decode(struct sevmig_tracker *t,
					const void *buf, size_t len,
					size_t *ret_used, uint32_t *ret_kind,
					uint32_t flags)
{
	const unsigned char *p = buf;
	struct tracker_dead d = { NULL, NULL };
	struct rec r;
	size_t off = TRACKER_REC_HDR;
	uint64_t pos;
	int rc;

	if (!t || !buf || flags)
		return -EINVAL;
	rc = parse(p, len, sevmig_tracker_max_gfn(t), &r);
	if (rc)
		return rc;

	sevmig_tracker_lock(t);
	rc = sevmig_tracker_apply_locked(t, &d, r.start, r.end, false);
	pos = r.start;
	for (uint64_t i = 0; !rc && i < r.nr; i++) {
		uint64_t gap, n1;

		off += get_leb(p + off, len - off, &gap);
		off += get_leb(p + off, len - off, &n1);
		pos += gap;
		rc = sevmig_tracker_apply_locked(t, &d, pos, pos + n1 + 1, true);
		pos += n1 + 1;
	}
	sevmig_tracker_unlock(t, &d);
	if (rc)
		return rc;
	if (ret_used)
		*ret_used = r.used;
	if (ret_kind)
		*ret_kind = r.kind;
	return 0;
}
