// SPDX-License-Identifier: MIT
/*
 * sevmig_stream_inspect(): one channel direction of a saved stream, walked
 * with the receive session's reader and record parsers but with no
 * firmware, no VM and none of the other channels (docs/stream.md). What a
 * single channel cannot prove (the other channels' digests, totals across
 * channels) it reports for the caller to compare.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig-bitmap.h"
#include "mig-session.h"

/* Duplicate and coverage checks keep a bitmap of RAM frames: up to 512 GiB
 * of RAM (16 MiB), so a hostile START cannot make it large. */
#define INSPECT_BITMAP_PAGES (1ull << 27)

struct insp {
	struct sevmig_ctx *ctx;
	struct sevmig_stream_info *info;
	struct mig_reader rd;
	bool rd_ok;
	uint32_t dir, channel;
	uint8_t session_id[MIG_SESSION_ID_LEN];
	struct mig_ram ram;		/* START's regions; .l.n 0 before it */
	uint64_t *seen;			/* frames of this pass; NULL: unchecked */
	struct sevmig_tracker *map;	/* the page-state map */
	uint64_t pass_records;		/* page records of the current pass */
	uint64_t state_records, vmm_records;
	uint64_t digest_end;		/* the digest before END */
	bool last_done;			/* the PASS_END saying "last" */
	bool closed;			/* COMMIT, ACK or ABORT: nothing more */
};

static int out_of_turn(struct insp *x, const struct mig_rec *rec,
		       const char *why)
{
	return sevmig_err(x->ctx, -EPROTO, "%s: %s %s", x->rd.who,
			  mig_rec_name(rec->type), why);
}

static int on_start(struct insp *x, const struct mig_rec *rec)
{
	struct sevmig_stream_info *in = x->info;
	struct mig_start st;
	int ret;

	ret = mig_start_parse(x->ctx, rec->payload, rec->len, &st);
	if (ret)
		return ret;
	if (st.nr_channels != in->nr_channels)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: START says %u channels, the channel header %u",
				  x->rd.who, st.nr_channels, in->nr_channels);
	if (mig_ram_from_start(&x->ram, &st))
		return sevmig_err(x->ctx, -ENOMEM, "%s: out of memory", x->rd.who);
	if (x->ram.l.pages <= INSPECT_BITMAP_PAGES) {
		x->seen = calloc(mig_bits_words(x->ram.l.pages) + 1, 8);
		if (!x->seen)
			return sevmig_err(x->ctx, -ENOMEM, "%s: out of memory",
					  x->rd.who);
	}
	/* As the destination's map: the guest's whole address space. */
	ret = sevmig_tracker_new(x->ctx, 1ull << (st.phys_bits - 12), 0, &x->map);
	if (ret)
		return ret;
	in->commit_mode = st.commit;
	in->guest_policy = st.policy;
	in->ram_regions = st.nr_regions;
	in->ram_bytes = x->ram.l.pages * MIG_PAGE_SIZE;
	in->seen |= SEVMIG_STREAM_SEEN_START;
	return 0;
}

static int on_page(struct insp *x, const struct mig_rec *rec)
{
	const struct mig_region *r;
	struct mig_page pg;
	int ret;

	if (x->last_done)
		return out_of_turn(x, rec, "after the last pass");
	ret = mig_page_parse(x->ctx, x->rd.who, rec, &pg);
	if (ret)
		return ret;
	if (x->ram.l.n) {
		r = mig_layout_find(&x->ram.l, pg.gfn);
		if (!r)
			return sevmig_err(x->ctx, -EBADMSG,
					  "%s: %s frame 0x%llx is outside the RAM regions of START",
					  x->rd.who, mig_rec_name(rec->type),
					  (unsigned long long)pg.gfn);
		if (x->seen &&
		    mig_bits_test_and_set(x->seen, r->first_bit + (pg.gfn - r->gfn)))
			return sevmig_err(x->ctx, -EBADMSG,
					  "%s: frame 0x%llx twice in pass %u (replayed or duplicated)",
					  x->rd.who, (unsigned long long)pg.gfn,
					  rec->pass);
	}
	x->pass_records++;
	if (rec->type == MIG_REC_PAGE_PRIVATE)
		x->info->pages_private++;
	else
		x->info->pages_shared++;
	return 0;
}

static int on_pass_end(struct insp *x, const struct mig_rec *rec)
{
	uint64_t records = 0;
	uint32_t last = 0;
	int ret;

	if (x->last_done)
		return out_of_turn(x, rec, "after the last pass");
	ret = mig_pass_end_parse(x->ctx, x->rd.who, rec, &last, &records);
	if (ret)
		return ret;
	if (records != x->pass_records)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: PASS_END says pass %u had %llu page records; %llu are here",
				  x->rd.who, rec->pass, (unsigned long long)records,
				  (unsigned long long)x->pass_records);
	/* With one channel, pass 1 is all of RAM. */
	if (x->seen && rec->pass == 1 && x->info->nr_channels == 1) {
		uint64_t got = mig_bits_count(x->seen, mig_bits_words(x->ram.l.pages));

		if (got != x->ram.l.pages)
			return sevmig_err(x->ctx, -EBADMSG,
					  "%s: pass 1 carries %llu of the %llu RAM frames of START",
					  x->rd.who, (unsigned long long)got,
					  (unsigned long long)x->ram.l.pages);
	}
	if (x->seen)
		memset(x->seen, 0, mig_bits_words(x->ram.l.pages) * 8);
	x->pass_records = 0;
	x->info->passes++;
	x->rd.pass++;		/* what follows belongs to the next pass */
	if (last) {
		x->last_done = true;
		x->info->seen |= SEVMIG_STREAM_SEEN_LAST_PASS;
	}
	return 0;
}

static int on_page_state(struct insp *x, const struct mig_rec *rec)
{
	const unsigned char *pl = rec->payload;
	uint64_t start, end;
	uint32_t kind = 0, k = 0;
	size_t used = 0;
	int ret;

	if (!x->last_done)
		return out_of_turn(x, rec, "before the last pass ended");
	if (rec->len < 40)
		return sevmig_err(x->ctx, -EBADMSG, "%s: PAGE_STATE of %u bytes",
				  x->rd.who, rec->len);
	start = mig_get64(pl + 16);
	end = mig_get64(pl + 24);
	ret = mig_ram_state_window(x->ctx, x->rd.who, &x->ram, start, end, &k);
	if (ret)
		return ret;
	ret = sevmig_tracker_decode(x->map, pl, rec->len, &used, &kind, 0);
	if (ret == -EINVAL || ret == -EBADMSG || (!ret && used != rec->len) ||
	    (!ret && kind != SEVMIG_TRACKER_RECORD_FULL))
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: PAGE_STATE is not one full page-state record (%s)",
				  x->rd.who,
				  ret ? sevmig_strerror(ret) : "trailing bytes or a delta");
	if (ret)
		return ret;
	x->ram.state_next[k] = end;
	x->state_records++;
	return 0;
}

static int on_end(struct insp *x, const struct mig_rec *rec)
{
	struct sevmig_stream_info *in = x->info;
	struct mig_end e;
	uint64_t shared = 0;
	int ret;

	if (!x->last_done)
		return out_of_turn(x, rec, "before the last pass ended");
	ret = mig_end_parse(x->ctx, rec->payload, rec->len, &e);
	if (ret)
		return ret;
	if (e.nr_channels != in->nr_channels || e.passes != in->passes)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: END says %u channels and %u passes; the header says %u channels and %u passes are here",
				  x->rd.who, e.nr_channels, e.passes,
				  in->nr_channels, in->passes);
	if (e.ch_records[0] != x->rd.records || e.ch_digest[0] != x->digest_end)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: END says channel 0 has %llu records (digest 0x%llx); %llu are here (digest 0x%llx)",
				  x->rd.who, (unsigned long long)e.ch_records[0],
				  (unsigned long long)e.ch_digest[0],
				  (unsigned long long)x->rd.records,
				  (unsigned long long)x->digest_end);
	/* PAGE_STATE and VMM records travel on channel 0 only; page records
	 * on all channels, so with several only a bound holds here. */
	if (e.state_records != x->state_records ||
	    e.vmm_records != x->vmm_records ||
	    (in->nr_channels == 1 ?
	     e.private_records != in->pages_private ||
	     e.shared_records != in->pages_shared :
	     e.private_records < in->pages_private ||
	     e.shared_records < in->pages_shared))
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: END totals (private %llu, shared %llu, state %llu, VMM %llu) do not match this channel (%llu, %llu, %llu, %llu)",
				  x->rd.who, (unsigned long long)e.private_records,
				  (unsigned long long)e.shared_records,
				  (unsigned long long)e.state_records,
				  (unsigned long long)e.vmm_records,
				  (unsigned long long)in->pages_private,
				  (unsigned long long)in->pages_shared,
				  (unsigned long long)x->state_records,
				  (unsigned long long)x->vmm_records);
	ret = mig_ram_shared_frames(x->ctx, x->rd.who, &x->ram, x->map, &shared);
	if (ret)
		return ret;
	if (shared != e.shared_pages)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: END says %llu shared frames; the page-state map has %llu",
				  x->rd.who, (unsigned long long)e.shared_pages,
				  (unsigned long long)shared);
	if (e.migration_control & ~(uint64_t)SEVMIG_MIGRATION_CONTROL_READY)
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: END's MSR_KVM_MIGRATION_CONTROL 0x%llx sets reserved bits",
				  x->rd.who,
				  (unsigned long long)e.migration_control);
	in->shared_frames = shared;
	in->migration_control = e.migration_control;
	for (uint32_t i = 0; i < e.nr_channels; i++) {
		in->end_records[i] = e.ch_records[i];
		in->end_digests[i] = e.ch_digest[i];
	}
	in->seen |= SEVMIG_STREAM_SEEN_END;
	return 0;
}

static int on_abort(struct insp *x, const struct mig_rec *rec)
{
	uint32_t n = 0;
	int32_t err = 0;
	int ret = mig_abort_parse(x->ctx, rec->payload, rec->len, &err, &n);

	if (ret)
		return ret;
	x->info->abort_errno = err;
	x->info->seen |= SEVMIG_STREAM_SEEN_ABORT;
	x->closed = true;
	return 0;
}

/* Source to destination, channel 0: the control channel. */
static int on_control(struct insp *x, const struct mig_rec *rec)
{
	struct sevmig_stream_info *in = x->info;
	uint32_t type;

	if (rec->seq == 0 && rec->type != MIG_REC_START &&
	    rec->type != MIG_REC_ABORT)
		return out_of_turn(x, rec, "where START belongs");
	switch (rec->type) {
	case MIG_REC_START:
		if (rec->seq)
			return out_of_turn(x, rec, "again");
		return on_start(x, rec);
	case MIG_REC_PAGE_PRIVATE:
	case MIG_REC_PAGE_SHARED:
		if (in->seen & SEVMIG_STREAM_SEEN_END)
			return out_of_turn(x, rec, "after END");
		return on_page(x, rec);
	case MIG_REC_PASS_END:
		if (in->seen & SEVMIG_STREAM_SEEN_END)
			return out_of_turn(x, rec, "after END");
		return on_pass_end(x, rec);
	case MIG_REC_VMM:
		if (in->seen & SEVMIG_STREAM_SEEN_END)
			return out_of_turn(x, rec, "after END");
		x->vmm_records++;
		return mig_vmm_parse(x->ctx, rec, &type);
	case MIG_REC_PAGE_STATE:
		if (in->seen & SEVMIG_STREAM_SEEN_END)
			return out_of_turn(x, rec, "after END");
		return on_page_state(x, rec);
	case MIG_REC_END:
		if (in->seen & SEVMIG_STREAM_SEEN_END)
			return out_of_turn(x, rec, "again");
		return on_end(x, rec);
	case MIG_REC_COMMIT:
		if (!(in->seen & SEVMIG_STREAM_SEEN_END))
			return out_of_turn(x, rec, "before END");
		if (rec->len != MIG_COMMIT_LEN ||
		    memcmp(rec->payload, x->session_id, MIG_SESSION_ID_LEN) != 0)
			return sevmig_err(x->ctx, -EBADMSG,
					  "%s: COMMIT of %u bytes is not for this stream's session",
					  x->rd.who, rec->len);
		in->seen |= SEVMIG_STREAM_SEEN_COMMIT;
		x->closed = true;
		return 0;
	case MIG_REC_ABORT:
		return on_abort(x, rec);
	default:
		return out_of_turn(x, rec, "travels the other way");
	}
}

/* Source to destination, channels 1..n-1: page records and pass ends. */
static int on_pages(struct insp *x, const struct mig_rec *rec)
{
	switch (rec->type) {
	case MIG_REC_PAGE_PRIVATE:
	case MIG_REC_PAGE_SHARED:
		return on_page(x, rec);
	case MIG_REC_PASS_END:
		return on_pass_end(x, rec);
	default:
		return sevmig_err(x->ctx, -EBADMSG, "%s: a %s record on a page channel",
				  x->rd.who, mig_rec_name(rec->type));
	}
}

/* Destination to source: HELLO, then ACK or ABORT. */
static int on_answer(struct insp *x, const struct mig_rec *rec)
{
	struct sevmig_stream_info *in = x->info;
	struct mig_hello h;
	int ret;

	if (rec->type == MIG_REC_ABORT)
		return on_abort(x, rec);
	if (rec->seq == 0) {
		if (rec->type != MIG_REC_HELLO)
			return out_of_turn(x, rec, "where HELLO belongs");
		ret = mig_hello_parse(x->ctx, rec->payload, rec->len, &h);
		if (ret)
			return ret;
		in->fw_api_major = h.api_major;
		in->fw_api_minor = h.api_minor;
		in->fw_build = h.build;
		in->seen |= SEVMIG_STREAM_SEEN_HELLO;
		return 0;
	}
	if (rec->type != MIG_REC_ACK)
		return out_of_turn(x, rec, "from a destination after its HELLO");
	if (rec->len != MIG_ACK_LEN || mig_get32(rec->payload + 20))
		return sevmig_err(x->ctx, -EBADMSG,
				  "%s: ACK of %u bytes, or its reserved word set",
				  x->rd.who, rec->len);
	in->seen |= SEVMIG_STREAM_SEEN_ACK;
	x->closed = true;
	return 0;
}

static int walk(struct insp *x, struct sevmig_channel *ch)
{
	struct sevmig_stream_info *in = x->info;
	unsigned char hb[MIG_CHAN_HDR_LEN];
	struct mig_chan_hdr h;
	uint64_t by_type = 0;
	uint32_t cap;
	int ret;

	ret = mig_chan_read(ch, hb, sizeof(hb));
	if (ret == -ENODATA || ret == -EPIPE)
		return sevmig_err(x->ctx, -EPIPE,
				  "the stream ends %s its channel header (%u bytes)",
				  ret == -ENODATA ? "before" : "inside",
				  MIG_CHAN_HDR_LEN);
	if (ret)
		return ret;
	ret = mig_chan_hdr_decode(x->ctx, "the channel header", hb, &h);
	if (ret)
		return ret;
	in->version = h.version;
	in->direction = h.direction;
	in->channel = h.channel;
	in->nr_channels = h.nr_channels;
	in->required_features = h.required;
	in->optional_features = h.optional;
	memcpy(in->session_id, h.session_id, MIG_SESSION_ID_LEN);
	memcpy(x->session_id, h.session_id, MIG_SESSION_ID_LEN);
	in->bytes = MIG_CHAN_HDR_LEN;
	x->dir = h.direction;
	x->channel = h.channel;
	if (h.direction == MIG_DIR_TO_SRC && h.channel)
		return sevmig_err(x->ctx, -EBADMSG,
				  "the channel header: a destination writes on channel 0 only, not %u",
				  h.channel);
	cap = mig_rec_max_payload(MIG_REC_VMM, MIG_VMM_RECORD_DEFAULT);
	if (h.channel)
		cap = mig_rec_max_payload(MIG_REC_PAGE_PRIVATE, 0);
	ret = mig_reader_init(&x->rd, x->ctx, ch, h.channel, cap,
			      MIG_VMM_RECORD_DEFAULT);
	if (ret)
		return sevmig_err(x->ctx, ret, "out of memory");
	x->rd_ok = true;
	x->rd.bytes = MIG_CHAN_HDR_LEN;
	(void)snprintf(x->rd.who_buf, sizeof(x->rd.who_buf), "channel %u %s",
		 h.channel, h.direction == MIG_DIR_TO_DST ? "(source)" :
							    "(destination)");
	x->digest_end = MIG_DIGEST_INIT;

	for (;;) {
		uint64_t off = x->rd.bytes, seq = x->rd.seq, before = x->rd.digest;
		struct mig_rec rec;

		rec.type = 0;
		ret = mig_reader_next(&x->rd, &rec);
		if (ret == -ENODATA)
			break;
		if (!ret && x->closed)
			ret = out_of_turn(x, &rec, "after the stream was closed (COMMIT, ACK or ABORT)");
		if (!ret) {
			if (rec.type == MIG_REC_END)
				x->digest_end = before;
			ret = x->dir == MIG_DIR_TO_SRC ? on_answer(x, &rec) :
			      x->channel ? on_pages(x, &rec) :
					   on_control(x, &rec);
		}
		if (ret) {
			/* The valid part ends where the damaged record starts. */
			in->records = seq;
			in->error_type = rec.type;
			in->error_record = seq;
			in->error_offset = off;
			return ret;
		}
		if (rec.type < ARRAY_SIZE(in->records_by_type)) {
			in->records_by_type[rec.type]++;
			by_type++;
		}
		/* What the reader skipped: OPTIONAL records of unknown types. */
		in->records_by_type[0] = x->rd.records - by_type;
		in->records = x->rd.records;
		in->bytes = x->rd.bytes;
	}
	in->records = x->rd.records;
	in->digest = (in->seen & SEVMIG_STREAM_SEEN_END) ? x->digest_end :
							 x->rd.digest;
	if (in->seen & SEVMIG_STREAM_SEEN_ABORT)
		return 0;
	if (x->dir == MIG_DIR_TO_SRC ?
	    (in->seen & SEVMIG_STREAM_SEEN_HELLO) &&
	    (in->seen & SEVMIG_STREAM_SEEN_ACK) :
	    x->channel ? (in->seen & SEVMIG_STREAM_SEEN_LAST_PASS) :
	    (in->seen & SEVMIG_STREAM_SEEN_COMMIT))
		in->seen |= SEVMIG_STREAM_COMPLETE;
	return 0;
}

SEVMIG_EXPORT int sevmig_stream_inspect(struct sevmig_ctx *ctx,
					struct sevmig_channel *channel,
					struct sevmig_stream_info *info,
					uint32_t flags)
{
	struct sevmig_stream_info in;
	struct insp x;
	int len, ret;

	if (!ctx)
		return -EINVAL;
	if (!channel || !info)
		return sevmig_arg_null(ctx, __func__, channel ? "info" : "channel");
	if ((ret = sevmig_arg_flags(ctx, __func__, flags)))
		return ret;
	len = sevmig_arg_out(ctx, __func__, "stream info", info, sizeof(in),
			     SEVMIG_STREAM_INFO_SIZE_VER0);
	if (len < 0)
		return len;
	if (!mig_chan_can_read(channel))
		return sevmig_arg_invalid(ctx, __func__,
					  "the channel cannot read");
	memset(&in, 0, sizeof(in));
	memset(&x, 0, sizeof(x));
	x.ctx = ctx;
	x.info = &in;
	ret = walk(&x, channel);
	if (ret) {
		in.error = ret;
		if (!in.error_offset)
			sevmig_err(ctx, ret,
				   "%s: the stream's channel header (byte 0) is damaged or missing",
				   __func__);
		else
			sevmig_err(ctx, ret,
				   "%s: the stream is damaged at byte %llu, record %llu (%s)",
				   __func__, (unsigned long long)in.error_offset,
				   (unsigned long long)in.error_record,
				   mig_rec_name(in.error_type));
	}
	if (x.rd_ok)
		mig_reader_fini(&x.rd);
	sevmig_tracker_free(x.map);
	free(x.seen);
	mig_ram_free(&x.ram);
	sevmig_struct_out(info, &in, (size_t)len);
	return ret;
}

SEVMIG_EXPORT const char *sevmig_stream_record_name(uint32_t type)
{
	return mig_rec_name(type);
}
