// SPDX-License-Identifier: MIT
/*
 * The contents of the control records (docs/stream.md, "Record types"):
 * HELLO, START, END and ABORT, built and parsed with every field checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig-session.h"
#include "psp-platform.h"
#include "uapi/sev-cert.h"

/* ---- HELLO ---- */

int mig_hello_build(struct sevmig_platform *p, const void *amd,
		    size_t amd_len, unsigned char *buf, size_t size,
		    size_t *ret_len, uint32_t *ret_fw_error)
{
	struct sevmig_platform_status st = { .size = sizeof(st) };
	size_t need = MIG_HELLO_FIXED + SEVMIG_SEV_CERT_LEN +
		      SEVMIG_PLAT_CHAIN_LEN + amd_len;
	size_t pdh_len = 0, chain_len = 0;
	int ret;

	*ret_len = need;
	if (!buf)
		return 0;
	if (size < need)
		return -ENOSPC;
	ret = sevmig_platform_status(p, &st, ret_fw_error);
	if (ret)
		return ret;
	ret = sevmig_platform_pdh_export(p, buf + MIG_HELLO_FIXED,
					 SEVMIG_SEV_CERT_LEN,
					 buf + MIG_HELLO_FIXED + SEVMIG_SEV_CERT_LEN,
					 SEVMIG_PLAT_CHAIN_LEN, &pdh_len,
					 &chain_len, ret_fw_error);
	if (ret)
		return ret;
	if (pdh_len != SEVMIG_SEV_CERT_LEN || chain_len != SEVMIG_PLAT_CHAIN_LEN)
		return sevmig_err(p->ctx, -EPROTO,
				  "HELLO: the firmware exported a %zu-byte PDH and a %zu-byte chain",
				  pdh_len, chain_len);
	memset(buf, 0, MIG_HELLO_FIXED);
	mig_put32(buf + 0, MIG_VERSION);
	mig_put32(buf + 4, MIG_VERSION);
	mig_put64(buf + 8, 0);
	mig_put32(buf + 16, st.api_major);
	mig_put32(buf + 20, st.api_minor);
	mig_put32(buf + 24, st.build);
	mig_put32(buf + 28, MIG_MAX_CHANNELS);
	mig_put32(buf + 32, SEVMIG_SEV_CERT_LEN);
	mig_put32(buf + 36, SEVMIG_PLAT_CHAIN_LEN);
	mig_put32(buf + 40, (uint32_t)amd_len);
	memcpy(buf + MIG_HELLO_FIXED + SEVMIG_SEV_CERT_LEN + SEVMIG_PLAT_CHAIN_LEN,
	       amd, amd_len);
	return 0;
}

static bool amd_chain_len_ok(size_t n)
{
	return n == AMD_CHAIN_2K_2K || n == AMD_CHAIN_4K_2K ||
	       n == AMD_CHAIN_2K_4K || n == AMD_CHAIN_4K_4K;
}

int mig_hello_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, struct mig_hello *h)
{
	uint32_t pdh_len, plat_len;

	if (len < MIG_HELLO_FIXED)
		return sevmig_err(ctx, -EBADMSG, "HELLO: %u bytes, shorter than its fixed part",
				  len);
	h->ver_min = mig_get32(pl);
	h->ver_max = mig_get32(pl + 4);
	h->features = mig_get64(pl + 8);
	h->api_major = mig_get32(pl + 16);
	h->api_minor = mig_get32(pl + 20);
	h->build = mig_get32(pl + 24);
	h->max_channels = mig_get32(pl + 28);
	pdh_len = mig_get32(pl + 32);
	plat_len = mig_get32(pl + 36);
	h->amd_len = mig_get32(pl + 40);
	if (mig_get32(pl + 44))
		return sevmig_err(ctx, -EBADMSG, "HELLO: reserved field is not zero");
	/* Also refuses ver_min > ver_max: no version lies in that range. */
	if (h->ver_min > MIG_VERSION || h->ver_max < MIG_VERSION)
		return sevmig_err(ctx, -EPROTO,
				  "HELLO: the destination speaks stream versions %u..%u, this source %u",
				  h->ver_min, h->ver_max, MIG_VERSION);
	if (pdh_len != SEVMIG_SEV_CERT_LEN || plat_len != SEVMIG_PLAT_CHAIN_LEN)
		return sevmig_err(ctx, -EBADMSG,
				  "HELLO: PDH %u and platform chain %u bytes (expected %u and %u)",
				  pdh_len, plat_len, SEVMIG_SEV_CERT_LEN,
				  SEVMIG_PLAT_CHAIN_LEN);
	if (!amd_chain_len_ok(h->amd_len))
		return sevmig_err(ctx, -EBADMSG,
				  "HELLO: an AMD chain of %u bytes (1664, 2176, 2688 or 3200)",
				  h->amd_len);
	if (len != MIG_HELLO_FIXED + pdh_len + plat_len + h->amd_len)
		return sevmig_err(ctx, -EBADMSG,
				  "HELLO: %u bytes, but its fields add up to %u", len,
				  MIG_HELLO_FIXED + pdh_len + plat_len + h->amd_len);
	if (h->max_channels < 1 || h->max_channels > 1024)
		return sevmig_err(ctx, -EBADMSG, "HELLO: accepts %u channels",
				  h->max_channels);
	h->pdh = pl + MIG_HELLO_FIXED;
	h->plat = h->pdh + pdh_len;
	h->amd = h->plat + plat_len;
	return 0;
}

/* ---- START ---- */

int mig_start_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, struct mig_start *s)
{
	uint64_t prev_end = 0;

	if (len < MIG_START_FIXED)
		return sevmig_err(ctx, -EBADMSG, "START: %u bytes, shorter than its fixed part",
				  len);
	s->policy = mig_get32(pl);
	s->commit = mig_get32(pl + 4);
	s->nr_channels = mig_get32(pl + 8);
	s->phys_bits = mig_get32(pl + 12);
	s->nr_regions = mig_get32(pl + 16);
	if (mig_get32(pl + 20) != SEVMIG_SESSION_LEN ||
	    mig_get32(pl + 24) != SEVMIG_SEV_CERT_LEN || mig_get32(pl + 28))
		return sevmig_err(ctx, -EBADMSG,
				  "START: session %u and PDH %u bytes (expected %u and %u), reserved %u",
				  mig_get32(pl + 20), mig_get32(pl + 24),
				  SEVMIG_SESSION_LEN, SEVMIG_SEV_CERT_LEN,
				  mig_get32(pl + 28));
	if (s->commit != SEVMIG_COMMIT_ACK && s->commit != SEVMIG_COMMIT_FLUSH)
		return sevmig_err(ctx, -EBADMSG, "START: commit mode %u", s->commit);
	if (s->nr_channels < 1 || s->nr_channels > MIG_MAX_CHANNELS)
		return sevmig_err(ctx, -EBADMSG, "START: %u channels", s->nr_channels);
	if (s->phys_bits < 32 || s->phys_bits > 52)
		return sevmig_err(ctx, -EBADMSG, "START: %u physical address bits",
				  s->phys_bits);
	if (s->nr_regions < 1 || s->nr_regions > MIG_MAX_REGIONS)
		return sevmig_err(ctx, -EBADMSG, "START: %u RAM regions",
				  s->nr_regions);
	if (len != MIG_START_FIXED + SEVMIG_SESSION_LEN + SEVMIG_SEV_CERT_LEN +
		   16u * s->nr_regions)
		return sevmig_err(ctx, -EBADMSG,
				  "START: %u bytes, but %u regions need %u", len,
				  s->nr_regions,
				  MIG_START_FIXED + SEVMIG_SESSION_LEN +
				  SEVMIG_SEV_CERT_LEN + 16u * s->nr_regions);
	s->session = pl + MIG_START_FIXED;
	s->pdh = s->session + SEVMIG_SESSION_LEN;
	s->regions = s->pdh + SEVMIG_SEV_CERT_LEN;
	for (uint32_t i = 0; i < s->nr_regions; i++) {
		uint64_t gpa = mig_get64(s->regions + 16u * i);
		uint64_t size = mig_get64(s->regions + 16u * i + 8);

		if ((gpa | size) & (MIG_PAGE_SIZE - 1) || !size ||
		    size > (UINT64_C(1) << s->phys_bits) ||
		    gpa > (UINT64_C(1) << s->phys_bits) - size ||
		    (i && gpa < prev_end))
			return sevmig_err(ctx, -EBADMSG,
					  "START: RAM region %u [0x%llx, +0x%llx) is not aligned, sorted, disjoint and inside %u address bits",
					  i, (unsigned long long)gpa,
					  (unsigned long long)size, s->phys_bits);
		prev_end = gpa + size;
	}
	return 0;
}

/* ---- END ---- */

uint32_t mig_end_len(uint32_t nr_channels)
{
	return MIG_END_FIXED + 16u * nr_channels;
}

void mig_end_encode(const struct mig_end *e, unsigned char *o)
{
	mig_put32(o, e->passes);
	mig_put32(o + 4, e->nr_channels);
	mig_put64(o + 8, e->migration_control);
	mig_put64(o + 16, e->shared_pages);
	mig_put64(o + 24, e->private_records);
	mig_put64(o + 32, e->shared_records);
	mig_put64(o + 40, e->state_records);
	mig_put64(o + 48, e->vmm_records);
	for (uint32_t i = 0; i < e->nr_channels; i++) {
		mig_put64(o + MIG_END_FIXED + 16u * i, e->ch_records[i]);
		mig_put64(o + MIG_END_FIXED + 16u * i + 8, e->ch_digest[i]);
	}
}

int mig_end_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		  uint32_t len, struct mig_end *e)
{
	memset(e, 0, sizeof(*e));
	if (len < MIG_END_FIXED)
		return sevmig_err(ctx, -EBADMSG, "END: %u bytes, shorter than its fixed part",
				  len);
	e->passes = mig_get32(pl);
	e->nr_channels = mig_get32(pl + 4);
	if (e->nr_channels < 1 || e->nr_channels > MIG_MAX_CHANNELS ||
	    len != mig_end_len(e->nr_channels))
		return sevmig_err(ctx, -EBADMSG, "END: %u channels in %u bytes",
				  e->nr_channels, len);
	e->migration_control = mig_get64(pl + 8);
	e->shared_pages = mig_get64(pl + 16);
	e->private_records = mig_get64(pl + 24);
	e->shared_records = mig_get64(pl + 32);
	e->state_records = mig_get64(pl + 40);
	e->vmm_records = mig_get64(pl + 48);
	for (uint32_t i = 0; i < e->nr_channels; i++) {
		e->ch_records[i] = mig_get64(pl + MIG_END_FIXED + 16u * i);
		e->ch_digest[i] = mig_get64(pl + MIG_END_FIXED + 16u * i + 8);
	}
	return 0;
}

/* ---- page records, PASS_END, VMM records ---- */

int mig_page_parse(const struct sevmig_ctx *ctx, const char *who,
		   const struct mig_rec *rec, struct mig_page *pg)
{
	bool private = rec->type == MIG_REC_PAGE_PRIVATE;
	uint32_t fixed = private ? MIG_PAGE_PRIVATE_FIXED : MIG_PAGE_SHARED_FIXED;
	const unsigned char *pl = rec->payload;

	if (rec->len < fixed)
		return sevmig_err(ctx, -EBADMSG, "%s: %s of %u bytes", who,
				  mig_rec_name(rec->type), rec->len);
	pg->gfn = mig_get64(pl);
	pg->len = mig_get32(pl + (private ? 60 : 8));
	if (rec->len != fixed + pg->len ||
	    (private ? (!pg->len || pg->len > MIG_PAGE_SIZE || pg->len % 16) :
		       (pg->len != MIG_PAGE_SIZE || mig_get32(pl + 12))))
		return sevmig_err(ctx, -EBADMSG,
				  "%s: %s frame 0x%llx: data length %u in a %u-byte record",
				  who, mig_rec_name(rec->type),
				  (unsigned long long)pg->gfn, pg->len, rec->len);
	pg->hdr = private ? pl + 8 : NULL;
	pg->data = pl + fixed;
	return 0;
}

int mig_pass_end_parse(const struct sevmig_ctx *ctx, const char *who,
		       const struct mig_rec *rec, uint32_t *ret_last,
		       uint64_t *ret_records)
{
	uint32_t pass, last;

	if (rec->len != MIG_PASS_END_LEN)
		return sevmig_err(ctx, -EBADMSG, "%s: PASS_END of %u bytes", who,
				  rec->len);
	pass = mig_get32(rec->payload);
	last = mig_get32(rec->payload + 4);
	if (pass != rec->pass || last > 1 || mig_get64(rec->payload + 16))
		return sevmig_err(ctx, -EBADMSG,
				  "%s: PASS_END says pass %u (last %u, reserved 0x%llx) in pass %u",
				  who, pass, last,
				  (unsigned long long)mig_get64(rec->payload + 16),
				  rec->pass);
	*ret_last = last;
	*ret_records = mig_get64(rec->payload + 8);
	return 0;
}

int mig_vmm_parse(const struct sevmig_ctx *ctx, const struct mig_rec *rec,
		  uint32_t *ret_type)
{
	uint32_t type;

	if (rec->len < MIG_VMM_FIXED)
		return sevmig_err(ctx, -EBADMSG, "VMM record of %u bytes", rec->len);
	type = mig_get32(rec->payload);
	if (type < SEVMIG_RECORD_VMM_FIRST || type > SEVMIG_RECORD_VMM_LAST ||
	    mig_get32(rec->payload + 4))
		return sevmig_err(ctx, -EBADMSG,
				  "VMM record: type 0x%x outside the VMM range, or reserved bits",
				  type);
	*ret_type = type;
	return 0;
}

/* ---- ABORT ---- */

int mig_abort_write(struct mig_writer *w, const uint8_t *session_id, int err,
		    const char *why)
{
	unsigned char fixed[MIG_ABORT_FIXED];
	size_t n = why ? strlen(why) : 0;
	struct sevmig_iovec iov[2];

	if (n > MIG_ABORT_TEXT_MAX)
		n = MIG_ABORT_TEXT_MAX;
	memset(fixed, 0, sizeof(fixed));
	memcpy(fixed, session_id, MIG_SESSION_ID_LEN);
	mig_put32(fixed + 16, (uint32_t)err);
	mig_put32(fixed + 20, (uint32_t)n);
	iov[0] = (struct sevmig_iovec){ fixed, sizeof(fixed) };
	iov[1] = (struct sevmig_iovec){ why, n };
	w->error = 0;	/* best effort even after an earlier failure */
	if (mig_writer_record(w, MIG_REC_ABORT, iov, 2, NULL))
		return w->error;
	return mig_writer_flush(w);
}

int mig_abort_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, int32_t *ret_err, uint32_t *ret_text_len)
{
	uint32_t n;

	if (len < MIG_ABORT_FIXED)
		return sevmig_err(ctx, -EBADMSG, "ABORT: %u bytes", len);
	n = mig_get32(pl + 20);
	if (n > MIG_ABORT_TEXT_MAX || len != MIG_ABORT_FIXED + n)
		return sevmig_err(ctx, -EBADMSG, "ABORT: text of %u bytes in %u",
				  n, len);
	*ret_err = (int32_t)mig_get32(pl + 16);
	*ret_text_len = n;
	return 0;
}

int mig_abort_report(const struct sevmig_ctx *ctx, const char *side,
		     const unsigned char *pl, uint32_t len)
{
	uint32_t n;
	int32_t err;
	int ret = mig_abort_parse(ctx, pl, len, &err, &n);

	if (ret)
		return ret;
	/* The peer's words are data: print only printable ASCII of them. */
	{
		char text[MIG_ABORT_TEXT_MAX + 1];

		for (uint32_t i = 0; i < n; i++) {
			unsigned char c = pl[MIG_ABORT_FIXED + i];

			text[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
		}
		text[n] = 0;
		return sevmig_err(ctx, -EPROTO, "the %s aborted the migration (%s): %s",
				  side, err < 0 && err > -4096 ?
				  sevmig_strerror(err) : "no error code", text);
	}
}

/* ---- session ids ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void mig_session_id(uint8_t out[MIG_SESSION_ID_LEN])
{
	static uint64_t counter;
	uint64_t x = mig_now_ns() ^ ((uint64_t)(uintptr_t)&counter << 16) ^
		     (uint64_t)(uintptr_t)out ^
		     __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0x51ull;
	uint64_t a = splitmix(&x), b = splitmix(&x);

	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}
