// SPDX-License-Identifier: MIT
/*
 * The migration stream's framing (docs/stream.md): channel headers, batched
 * record writers and validating record readers. Nothing here knows what a
 * record means; the sessions do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig-stream.h"

static const char *const rec_names[] = {
	[MIG_REC_HELLO] = "HELLO",
	[MIG_REC_START] = "START",
	[MIG_REC_PAGE_PRIVATE] = "PAGE_PRIVATE",
	[MIG_REC_PAGE_SHARED] = "PAGE_SHARED",
	[MIG_REC_PASS_END] = "PASS_END",
	[MIG_REC_PAGE_STATE] = "PAGE_STATE",
	[MIG_REC_VMM] = "VMM",
	[MIG_REC_END] = "END",
	[MIG_REC_ACK] = "ACK",
	[MIG_REC_COMMIT] = "COMMIT",
	[MIG_REC_ABORT] = "ABORT",
};

const char *mig_rec_name(uint32_t type)
{
	if (type < ARRAY_SIZE(rec_names) && rec_names[type])
		return rec_names[type];
	return "unknown record";
}

uint64_t mig_digest(uint64_t d, const void *hdr)
{
	const unsigned char *p = hdr;

	for (unsigned int i = 0; i < MIG_REC_HDR_LEN; i++) {
		d ^= p[i];
		d *= 0x100000001b3ull;
	}
	return d;
}

uint32_t mig_rec_max_payload(uint32_t type, uint32_t max_vmm)
{
	switch (type) {
	case MIG_REC_HELLO:
		return MIG_HELLO_FIXED + SEVMIG_SEV_CERT_LEN +
		       SEVMIG_PLAT_CHAIN_LEN + 3200u;
	case MIG_REC_START:
		return MIG_START_FIXED + SEVMIG_SESSION_LEN +
		       SEVMIG_SEV_CERT_LEN + 16u * MIG_MAX_REGIONS;
	case MIG_REC_PAGE_PRIVATE:
		return MIG_PAGE_PRIVATE_FIXED + MIG_PAGE_SIZE;
	case MIG_REC_PAGE_SHARED:
		return MIG_PAGE_SHARED_FIXED + MIG_PAGE_SIZE;
	case MIG_REC_PASS_END:
		return MIG_PASS_END_LEN;
	case MIG_REC_PAGE_STATE:
		return MIG_PAGE_STATE_MAX;
	case MIG_REC_VMM:
		return MIG_VMM_FIXED + max_vmm;
	case MIG_REC_END:
		return MIG_END_FIXED + 16u * MIG_MAX_CHANNELS;
	case MIG_REC_ACK:
		return MIG_ACK_LEN;
	case MIG_REC_COMMIT:
		return MIG_COMMIT_LEN;
	case MIG_REC_ABORT:
		return MIG_ABORT_FIXED + MIG_ABORT_TEXT_MAX;
	default:
		return 0;
	}
}

/* ---- channel headers ---- */

void mig_chan_hdr_encode(const struct mig_chan_hdr *h,
			 unsigned char out[MIG_CHAN_HDR_LEN])
{
	memset(out, 0, MIG_CHAN_HDR_LEN);
	/* The magic is 8 bytes on the wire, without the string's NUL. */
	memcpy(out, MIG_MAGIC, 8); // NOLINT(bugprone-not-null-terminated-result)
	mig_put32(out + 8, h->version);
	mig_put32(out + 12, MIG_CHAN_HDR_LEN);
	mig_put64(out + 16, h->required);
	mig_put64(out + 24, h->optional);
	memcpy(out + 32, h->session_id, MIG_SESSION_ID_LEN);
	mig_put32(out + 48, h->channel);
	mig_put32(out + 52, h->nr_channels);
	mig_put32(out + 56, h->direction);
	mig_put32(out + 60, sevmig_crc32c(0, out, 60));
}

int mig_chan_hdr_decode(const struct sevmig_ctx *ctx, const char *who,
			const unsigned char in[MIG_CHAN_HDR_LEN],
			struct mig_chan_hdr *h)
{
	if (memcmp(in, MIG_MAGIC, 8) != 0)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: not a libsevmig migration stream (bad magic)",
				  who);
	if (mig_get32(in + 60) != sevmig_crc32c(0, in, 60))
		return sevmig_err(ctx, -EBADMSG,
				  "%s: channel header checksum mismatch", who);
	h->version = mig_get32(in + 8);
	if (h->version != MIG_VERSION)
		return sevmig_err(ctx, -EPROTO,
				  "%s: stream version %u; this library speaks version %u",
				  who, h->version, MIG_VERSION);
	if (mig_get32(in + 12) != MIG_CHAN_HDR_LEN)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: channel header length %u, expected %u", who,
				  mig_get32(in + 12), MIG_CHAN_HDR_LEN);
	h->required = mig_get64(in + 16);
	h->optional = mig_get64(in + 24);
	if (h->required)
		return sevmig_err(ctx, -EPROTO,
				  "%s: the stream requires features 0x%llx this library does not know",
				  who, (unsigned long long)h->required);
	memcpy(h->session_id, in + 32, MIG_SESSION_ID_LEN);
	h->channel = mig_get32(in + 48);
	h->nr_channels = mig_get32(in + 52);
	h->direction = mig_get32(in + 56);
	if (h->nr_channels < 1 || h->nr_channels > MIG_MAX_CHANNELS ||
	    h->channel >= h->nr_channels)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: channel %u of %u is not a valid channel index",
				  who, h->channel, h->nr_channels);
	if (h->direction != MIG_DIR_TO_DST && h->direction != MIG_DIR_TO_SRC)
		return sevmig_err(ctx, -EBADMSG, "%s: direction %u is not 1 or 2",
				  who, h->direction);
	return 0;
}

/* ---- writer ---- */

int mig_writer_init(struct mig_writer *w, struct sevmig_channel *ch,
		    uint32_t channel, size_t batch)
{
	memset(w, 0, sizeof(*w));
	w->buf = malloc(batch);
	if (!w->buf)
		return -ENOMEM;
	w->ch = ch;
	w->channel = channel;
	w->pass = 1;
	w->cap = batch;
	w->digest = MIG_DIGEST_INIT;
	w->open_off = SIZE_MAX;
	return 0;
}

void mig_writer_fini(struct mig_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}

int mig_writer_flush(struct mig_writer *w)
{
	struct sevmig_iovec iov = { w->buf, w->len };
	int ret;

	if (w->error)
		return w->error;
	if (!w->len)
		return 0;
	ret = mig_chan_writev(w->ch, &iov, 1);
	if (ret)
		return w->error = ret;
	w->bytes += w->len;
	w->len = 0;
	return 0;
}

int mig_writer_header(struct mig_writer *w, const struct mig_chan_hdr *h)
{
	unsigned char hdr[MIG_CHAN_HDR_LEN];
	struct sevmig_iovec iov = { hdr, sizeof(hdr) };
	int ret;

	mig_chan_hdr_encode(h, hdr);
	ret = mig_writer_flush(w);
	if (!ret)
		ret = mig_chan_writev(w->ch, &iov, 1);
	if (ret)
		return w->error = ret;
	w->bytes += sizeof(hdr);
	return 0;
}

static void hdr_fill(const struct mig_writer *w, unsigned char *h,
		     uint16_t type, uint32_t len)
{
	mig_put16(h, type);
	mig_put16(h + 2, 0);
	mig_put32(h + 4, len);
	mig_put64(h + 8, w->seq);
	mig_put32(h + 16, w->channel);
	mig_put32(h + 20, w->pass);
	mig_put32(h + 24, 0);
	mig_put32(h + 28, 0);
}

void *mig_writer_reserve(struct mig_writer *w, uint16_t type, uint32_t len)
{
	size_t need = MIG_REC_HDR_LEN + (size_t)len;

	if (w->error)
		return NULL;
	if (need > w->cap) {
		w->error = -EMSGSIZE;
		return NULL;
	}
	if (w->len + need > w->cap && mig_writer_flush(w))
		return NULL;
	w->open_off = w->len;
	hdr_fill(w, w->buf + w->len, type, len);
	w->len += need;
	return w->buf + w->open_off + MIG_REC_HDR_LEN;
}

uint32_t mig_writer_commit(struct mig_writer *w)
{
	unsigned char *h = w->buf + w->open_off;
	uint32_t len = mig_get32(h + 4), crc;

	/* Sealed here, not at reserve: whatever was set in between counts. */
	mig_rec_hdr_seal(h);
	crc = sevmig_crc32c(0, h, 28);
	crc = sevmig_crc32c(crc, h + MIG_REC_HDR_LEN, len);
	mig_put32(h + 28, crc);
	w->digest = mig_digest(w->digest, h);
	w->seq++;
	w->records++;
	w->open_off = SIZE_MAX;
	return crc;
}

int mig_writer_record(struct mig_writer *w, uint16_t type,
		      const struct sevmig_iovec *iov, uint32_t iovcnt,
		      uint32_t *ret_crc)
{
	unsigned char h[MIG_REC_HDR_LEN];
	struct sevmig_iovec big[1 + 4];
	size_t len = 0;
	uint32_t crc;
	int ret;

	for (uint32_t i = 0; i < iovcnt; i++)
		len += iov[i].len;
	if (len > UINT32_MAX || iovcnt > 4)
		return w->error = -EMSGSIZE;
	if (MIG_REC_HDR_LEN + len <= w->cap) {
		unsigned char *p = mig_writer_reserve(w, type, (uint32_t)len);

		if (!p)
			return w->error;
		for (uint32_t i = 0; i < iovcnt; i++) {
			if (iov[i].len)
				memcpy(p, iov[i].base, iov[i].len);
			p += iov[i].len;
		}
		crc = mig_writer_commit(w);
		if (ret_crc)
			*ret_crc = crc;
		return 0;
	}
	/* Larger than the batch (a big VMM record): header, then the bytes. */
	ret = mig_writer_flush(w);
	if (ret)
		return ret;
	hdr_fill(w, h, type, (uint32_t)len);
	mig_rec_hdr_seal(h);
	crc = sevmig_crc32c(0, h, 28);
	for (uint32_t i = 0; i < iovcnt; i++)
		crc = sevmig_crc32c(crc, iov[i].base, iov[i].len);
	mig_put32(h + 28, crc);
	big[0] = (struct sevmig_iovec){ h, sizeof(h) };
	for (uint32_t i = 0; i < iovcnt; i++)
		big[1 + i] = iov[i];
	ret = mig_chan_writev(w->ch, big, 1 + iovcnt);
	if (ret)
		return w->error = ret;
	w->digest = mig_digest(w->digest, h);
	w->seq++;
	w->records++;
	w->bytes += sizeof(h) + len;
	if (ret_crc)
		*ret_crc = crc;
	return 0;
}

/* ---- reader ---- */

int mig_reader_init(struct mig_reader *r, const struct sevmig_ctx *ctx,
		    struct sevmig_channel *ch, uint32_t channel,
		    uint32_t buf_cap, uint32_t max_vmm)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(buf_cap ? buf_cap : 1);
	if (!r->buf)
		return -ENOMEM;
	r->ch = ch;
	r->ctx = ctx;
	r->channel = channel;
	r->pass = 1;
	r->buf_cap = buf_cap;
	r->max_vmm = max_vmm;
	r->digest = MIG_DIGEST_INIT;
	(void)snprintf(r->who_buf, sizeof(r->who_buf), "stream channel %u", channel);
	r->who = r->who_buf;
	return 0;
}

void mig_reader_fini(struct mig_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static int read_err(const struct mig_reader *r, int ret, const char *what)
{
	if (ret == -ENODATA)
		return ret;
	if (ret == -EPIPE)
		return sevmig_err(r->ctx, -EPIPE,
				  "%s: the stream ends in the middle of %s (truncated)",
				  r->who, what);
	return ret;
}

int mig_reader_header(struct mig_reader *r, struct mig_chan_hdr *h)
{
	unsigned char in[MIG_CHAN_HDR_LEN];
	int ret = mig_chan_read(r->ch, in, sizeof(in));

	if (ret == -ENODATA)
		return sevmig_err(r->ctx, -EPIPE,
				  "%s: the stream ended before its channel header",
				  r->who);
	if (ret)
		return read_err(r, ret, "the channel header");
	r->bytes += sizeof(in);
	ret = mig_chan_hdr_decode(r->ctx, r->who, in, h);
	if (!ret && h->channel != r->channel)
		ret = sevmig_err(r->ctx, -EBADMSG,
				 "%s: the header says channel %u", r->who,
				 h->channel);
	return ret;
}

int mig_reader_next(struct mig_reader *r, struct mig_rec *rec)
{
	unsigned char h[MIG_REC_HDR_LEN];
	uint32_t max, crc;
	int ret;

again:
	ret = mig_chan_read(r->ch, h, sizeof(h));
	if (ret)
		return read_err(r, ret, "a record header");
	rec->type = mig_get16(h);
	rec->flags = mig_get16(h + 2);
	rec->len = mig_get32(h + 4);
	rec->seq = mig_get64(h + 8);
	rec->channel = mig_get32(h + 16);
	rec->pass = mig_get32(h + 20);
	rec->crc = mig_get32(h + 28);
	max = mig_rec_max_payload(rec->type, r->max_vmm);
	/* First: no field of a damaged header is trusted, least of all the
	 * length, which would have the reader wait for bytes never sent. */
	if (mig_get32(h + 24) != sevmig_crc32c(0, h, 24))
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu: header checksum mismatch (a damaged record header)",
				  r->who, (unsigned long long)r->seq);
	if (rec->flags & ~MIG_REC_F_OPTIONAL)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu (%s): unknown flags 0x%x",
				  r->who, (unsigned long long)r->seq,
				  mig_rec_name(rec->type), rec->flags);
	if (!max && !(rec->flags & MIG_REC_F_OPTIONAL))
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu: unknown type 0x%x",
				  r->who, (unsigned long long)r->seq, rec->type);
	if (!max || max > r->buf_cap)
		max = r->buf_cap;
	if (rec->type == MIG_REC_VMM && r->channel == 0 && r->max_vmm &&
	    rec->len > max &&
	    max == mig_rec_max_payload(MIG_REC_VMM, r->max_vmm))
		/*
		 * On channel 0, where VMM records travel, this is no
		 * corruption: the two VMMs disagree on the limit.
		 */
		return sevmig_err(r->ctx, -EMSGSIZE,
				  "%s: record %llu: a VMM record of %u bytes, above this session's limit of %u (sevmig_receive_opts.max_vmm_record)",
				  r->who, (unsigned long long)r->seq,
				  rec->len - MIG_VMM_FIXED, r->max_vmm);
	if (rec->len > max)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu (%s): length %u exceeds the %u this channel accepts",
				  r->who, (unsigned long long)r->seq,
				  mig_rec_name(rec->type), rec->len, max);
	if (rec->seq != r->seq)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record sequence %llu where %llu was expected (lost, duplicated or reordered records)",
				  r->who, (unsigned long long)rec->seq,
				  (unsigned long long)r->seq);
	if (rec->channel != r->channel)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu (%s) says channel %u",
				  r->who, (unsigned long long)r->seq,
				  mig_rec_name(rec->type), rec->channel);
	if (rec->pass != r->pass)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu (%s) says pass %u during pass %u",
				  r->who, (unsigned long long)r->seq,
				  mig_rec_name(rec->type), rec->pass, r->pass);
	ret = rec->len ? mig_chan_read(r->ch, r->buf, rec->len) : 0;
	if (ret == -ENODATA)
		ret = -EPIPE;
	if (ret)
		return read_err(r, ret, "a record payload");
	mig_put32(h + 28, 0);
	crc = sevmig_crc32c(0, h, 28);
	crc = sevmig_crc32c(crc, r->buf, rec->len);
	if (crc != rec->crc)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: record %llu (%s, %u bytes): checksum mismatch (corrupted)",
				  r->who, (unsigned long long)rec->seq,
				  mig_rec_name(rec->type), rec->len);
	mig_put32(h + 28, rec->crc);
	r->digest = mig_digest(r->digest, h);
	r->seq++;
	r->records++;
	r->bytes += sizeof(h) + rec->len;
	rec->payload = r->buf;
	if (!mig_rec_max_payload(rec->type, r->max_vmm)) {
		sevmig_log(r->ctx, SEVMIG_LOG_DEBUG,
			   "%s: skipped optional record type 0x%x", r->who,
			   rec->type);
		goto again;
	}
	return 0;
}
