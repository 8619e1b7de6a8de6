// SPDX-License-Identifier: MIT
/*
 * The send session: handshake, pre-copy passes, the final pass and the
 * two-phase commit on the source (include/sevmig/migration.h,
 * docs/stream.md). The rule that shapes everything here: until the
 * destination acknowledged, every failure ends in SEND_CANCEL and a LIVE
 * VM handle; after SEND_FINISH the VM is SENT and never runs again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig-bitmap.h"
#include "mig-session.h"
#include "psp-platform.h"
#include "uapi/kvm-abi.h"

#define BATCH_BYTES (256u << 10)
#define CHUNK_PAGES 512u		/* pages a worker takes at a time */
#define MAX_SLOTS 64u
#define SYNC_RANGES 256u

enum send_state { S_NEW, S_BEGUN, S_COMMITTED, S_CANCELLED, S_FAILED };

struct send_slot {
	uint32_t slot;
	uint32_t region;
};

struct sevmig_send {
	struct sevmig_vm *vm;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
	uint32_t nr_channels;
	struct sevmig_channel *ch[MIG_MAX_CHANNELS];
	struct mig_writer w[MIG_MAX_CHANNELS];
	uint32_t commit_mode;
	unsigned char *target_hello;	/* copy of opts->target_hello */
	size_t target_hello_len;
	sevmig_progress_fn progress;
	void *progress_opaque;
	uint32_t max_vmm;

	enum send_state state;
	bool send_started;		/* SEND_START succeeded: cancel needed */
	bool headers_written;		/* channel headers are on the wire */
	uint8_t session_id[MIG_SESSION_ID_LEN];
	uint32_t policy;

	struct mig_layout layout;
	uint64_t nwords;
	uint64_t *dirty;		/* reported since the last pass (atomic) */
	uint64_t *pass_set;		/* the current pass's pages */
	uint8_t *region_tracked;	/* the VMM reported dirty pages here */
	struct send_slot slots[MAX_SLOTS];
	uint32_t nslots;
	uint64_t *slot_buf;		/* one KVM dirty bitmap (largest slot) */
	uint64_t *sync_ranges;		/* tracker sync output */
	unsigned char *state_buf;	/* PAGE_STATE encoding */
	unsigned char *hello_buf;	/* HELLO as read from channel 0 */
	/*
	 * What the handshake and the commit read and write, allocated with
	 * the session so that neither can fail for memory: the HELLO's reader
	 * (on channel 0, or on opts->target_hello), the ACK's reader, this
	 * host's PDH and chain, START's region list.
	 */
	struct sevmig_channel hello_memch;
	struct mig_mem hello_mem;
	struct mig_reader hello_r, ack_r;
	bool hello_r_ok, ack_r_ok;
	unsigned char *our_certs;
	unsigned char *regions;

	/* the running pass */
	uint32_t pass;			/* passes started */
	uint64_t cursor;		/* next page index to hand out (atomic) */
	int pass_error;			/* first worker error (atomic) */
	uint64_t last_pass_ns;

	/* totals for END */
	uint64_t private_records, shared_records, state_records, vmm_records;

	struct mig_stats stats;
};

static uint64_t bytes_total(const struct sevmig_send *s)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < s->nr_channels; i++)
		n += __atomic_load_n(&s->ch[i]->bytes_out, __ATOMIC_RELAXED) +
		     __atomic_load_n(&s->ch[i]->bytes_in, __ATOMIC_RELAXED);
	return n;
}

static void report(struct sevmig_send *s)
{
	struct sevmig_mig_stats k;

	if (!s->progress)
		return;
	mig_stats_snapshot(&s->stats, bytes_total(s), &k);
	s->progress(s->progress_opaque, &k);
}

static void phase(struct sevmig_send *s, uint32_t ph)
{
	mig_stats_phase(&s->stats, ph);
	report(s);
}

/* ---- creation ---- */

static int check_channels(struct sevmig_send *s, const struct sevmig_send_opts *o)
{
	for (uint32_t i = 0; i < o->nr_channels; i++) {
		struct sevmig_channel *ch = o->channels[i];

		if (!ch)
			return sevmig_arg_invalid(s->ctx, "sevmig_send_new",
						  "channel %u is NULL", i);
		if (!mig_chan_can_write(ch))
			return sevmig_arg_invalid(s->ctx, "sevmig_send_new",
						  "channel %u cannot write", i);
		for (uint32_t j = 0; j < i; j++)
			if (o->channels[j] == ch)
				return sevmig_arg_invalid(s->ctx, "sevmig_send_new",
							  "channel %u is channel %u again",
							  i, j);
		s->ch[i] = ch;
	}
	if (s->commit_mode == SEVMIG_COMMIT_ACK && !mig_chan_can_read(s->ch[0]))
		return sevmig_arg_invalid(s->ctx, "sevmig_send_new",
					  "channel 0 must read too (the HELLO and the ACK come back on it), or use SEVMIG_COMMIT_FLUSH");
	return 0;
}

static void send_destroy(struct sevmig_send *s)
{
	for (uint32_t i = 0; i < s->nr_channels; i++)
		mig_writer_fini(&s->w[i]);
	if (s->hello_r_ok)
		mig_reader_fini(&s->hello_r);
	if (s->ack_r_ok)
		mig_reader_fini(&s->ack_r);
	free(s->our_certs);
	free(s->regions);
	mig_layout_free(&s->layout);
	free(s->dirty);
	free(s->pass_set);
	free(s->region_tracked);
	free(s->slot_buf);
	free(s->sync_ranges);
	free(s->state_buf);
	free(s->hello_buf);
	free(s->target_hello);
	mig_stats_fini(&s->stats);
	free(s);
}

static int send_alloc(struct sevmig_send *s)
{
	uint64_t max_region = 0;

	for (uint32_t i = 0; i < s->nr_channels; i++)
		if (mig_writer_init(&s->w[i], s->ch[i], i, BATCH_BYTES))
			return -ENOMEM;
	if (mig_layout_from_vm(s->vm, &s->layout))
		return -ENOMEM;
	for (uint32_t i = 0; i < s->layout.n; i++)
		if (s->layout.r[i].npages > max_region)
			max_region = s->layout.r[i].npages;
	s->nwords = mig_bits_words(s->layout.pages);
	s->dirty = calloc(s->nwords + 1, 8);
	s->pass_set = calloc(s->nwords + 1, 8);
	s->region_tracked = calloc(s->layout.n + 1, 1);
	s->slot_buf = calloc(mig_bits_words(max_region) + 1, 8);
	s->sync_ranges = calloc(2 * SYNC_RANGES, 8);
	s->state_buf = malloc(MIG_PAGE_STATE_MAX);
	s->hello_buf = malloc(mig_rec_max_payload(MIG_REC_HELLO, 0));
	s->our_certs = malloc(SEVMIG_SEV_CERT_LEN + SEVMIG_PLAT_CHAIN_LEN);
	s->regions = malloc(16u * s->layout.n + 1);
	if (!s->dirty || !s->pass_set || !s->region_tracked || !s->slot_buf ||
	    !s->sync_ranges || !s->state_buf || !s->hello_buf ||
	    !s->our_certs || !s->regions)
		return -ENOMEM;
	if (s->target_hello)
		mig_chan_mem(&s->hello_memch, &s->hello_mem, s->ctx,
			     s->target_hello, s->target_hello_len);
	if (mig_reader_init(&s->hello_r, s->ctx,
			    s->target_hello ? &s->hello_memch : s->ch[0], 0,
			    mig_rec_max_payload(MIG_REC_HELLO, 0), 0))
		return -ENOMEM;
	s->hello_r_ok = true;
	if (s->commit_mode == SEVMIG_COMMIT_ACK) {
		if (mig_reader_init(&s->ack_r, s->ctx, s->ch[0], 0,
				    mig_rec_max_payload(MIG_REC_ABORT, 0), 0))
			return -ENOMEM;
		s->ack_r_ok = true;
	}
	return 0;
}

SEVMIG_EXPORT int sevmig_send_new(struct sevmig_vm *vm,
				  const struct sevmig_send_opts *opts,
				  struct sevmig_send **ret_send,
				  uint64_t *ret_reasons)
{
	struct sevmig_send_opts o;
	struct sevmig_send *s;
	uint64_t reasons = 0;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!opts || !ret_send)
		return sevmig_arg_null(vm->ctx, __func__, opts ? "ret_send" : "opts");
	if ((ret = sevmig_arg_in(vm->ctx, __func__, "opts", &o, sizeof(o), opts,
				 SEVMIG_SEND_OPTS_SIZE_VER0)) ||
	    (ret = sevmig_arg_flags(vm->ctx, __func__, o.flags)))
		return ret;
	if (o.reserved0)
		return sevmig_arg_invalid(vm->ctx, __func__, "opts->reserved0 must be 0");
	if (!o.channels || o.nr_channels < 1 || o.nr_channels > MIG_MAX_CHANNELS)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "%u channels: give 1 to %u", o.nr_channels,
					  MIG_MAX_CHANNELS);
	if (!o.commit)
		o.commit = SEVMIG_COMMIT_ACK;
	if (o.commit != SEVMIG_COMMIT_ACK && o.commit != SEVMIG_COMMIT_FLUSH)
		return sevmig_arg_invalid(vm->ctx, __func__, "unknown commit mode %u",
					  o.commit);
	if (o.commit == SEVMIG_COMMIT_FLUSH && (!o.target_hello || !o.target_hello_len))
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "SEVMIG_COMMIT_FLUSH needs the target's HELLO (opts->target_hello): nothing comes back on a one-way stream");
	if (!o.target_hello != !o.target_hello_len ||
	    o.target_hello_len > MIG_CHAN_HDR_LEN + MIG_REC_HDR_LEN +
				 mig_rec_max_payload(MIG_REC_HELLO, 0))
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "target_hello: %zu bytes is not a HELLO",
					  o.target_hello_len);
	if (!vm->platform)
		return sevmig_err(vm->ctx, -ENODEV,
				  "%s: the VM handle has no platform (sevmig_vm_opts.platform): it cannot reach the firmware",
				  __func__);
	ret = sevmig_vm_check_fw(vm, KVM_SEV_SEND_START, __func__);
	if (ret)
		return ret;
	if (sevmig_vm_get_state(vm) != SEVMIG_VM_LIVE)
		return sevmig_err(vm->ctx, -ESTALE, "%s: the VM is %s, not live",
				  __func__,
				  sevmig_vm_state_name(sevmig_vm_get_state(vm)));
	ret = sevmig_vm_readiness(vm, &reasons, 0);
	if (ret)
		return ret;
	if (reasons) {
		for (unsigned int b = 0; b < 64; b++)
			if (reasons & (1ull << b))
				sevmig_log(vm->ctx, SEVMIG_LOG_ERR, "%s: %s", __func__,
					   sevmig_reason_string(1ull << b));
		if (ret_reasons)
			*ret_reasons = reasons;
		return sevmig_err(vm->ctx, -EPERM,
				  "%s: this VM may not migrate now (reasons 0x%llx)",
				  __func__, (unsigned long long)reasons);
	}
	if (__atomic_exchange_n(&vm->session_busy, 1, __ATOMIC_ACQ_REL))
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: another migration session is open on this VM",
				  __func__);

	s = calloc(1, sizeof(*s));
	if (!s || mig_stats_init(&s->stats)) {
		free(s);
		__atomic_store_n(&vm->session_busy, 0, __ATOMIC_RELEASE);
		return sevmig_err(vm->ctx, -ENOMEM, "%s: out of memory", __func__);
	}
	s->vm = vm;
	s->ctx = vm->ctx;
	s->p = vm->platform;
	s->nr_channels = o.nr_channels;
	s->commit_mode = o.commit;
	s->progress = o.progress;
	s->progress_opaque = o.progress_opaque;
	s->max_vmm = o.max_vmm_record ? o.max_vmm_record : MIG_VMM_RECORD_DEFAULT;
	ret = check_channels(s, &o);
	if (!ret && o.target_hello) {
		s->target_hello = malloc(o.target_hello_len);
		if (s->target_hello) {
			memcpy(s->target_hello, o.target_hello, o.target_hello_len);
			s->target_hello_len = o.target_hello_len;
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret && send_alloc(s))
		ret = sevmig_err(vm->ctx, -ENOMEM, "%s: out of memory", __func__);
	if (!ret && !s->layout.n)
		ret = sevmig_arg_invalid(vm->ctx, __func__,
					 "the VM has no RAM registered with a host address (sevmig_vm_ram_add): there is nothing to migrate");
	if (ret) {
		send_destroy(s);
		__atomic_store_n(&vm->session_busy, 0, __ATOMIC_RELEASE);
		return ret;
	}
	*ret_send = s;
	return 0;
}

/* ---- ending: cancel or commit ---- */

static void remember(struct sevmig_send *s)
{
	pthread_rwlock_wrlock(&s->vm->lock);
	memcpy(s->vm->last_session_id, s->session_id, MIG_SESSION_ID_LEN);
	s->vm->last_session_valid = true;
	pthread_rwlock_unlock(&s->vm->lock);
}

/*
 * Everything that can go wrong before the destination acknowledged ends
 * here: SEND_CANCEL, ABORT to the destination, the VM runnable again.
 */
static int send_fail(struct sevmig_send *s, int err, uint32_t fw,
		     const char *why)
{
	uint32_t cfw = 0;
	int ret;

	if (s->state == S_COMMITTED)
		return err;
	mig_stats_fail(&s->stats, err, fw);
	if (s->send_started) {
		ret = sevmig_psp_send_cancel(s->p, s->vm->vm_fd, &cfw);
		if (ret) {
			/* The guest's firmware state is now unknown: say so. */
			sevmig_log(s->ctx, SEVMIG_LOG_ERR,
				   "SEND_CANCEL failed (%s): check the guest with sevmig_vm_guest_status() before resuming it",
				   sevmig_strerror(ret));
		} else {
			s->send_started = false;
		}
	}
	if (!s->headers_written && s->commit_mode == SEVMIG_COMMIT_ACK) {
		/* The destination waits for our header: give it one to read. */
		struct mig_chan_hdr h = { .version = MIG_VERSION,
					  .nr_channels = s->nr_channels,
					  .direction = MIG_DIR_TO_DST };

		memcpy(h.session_id, s->session_id, MIG_SESSION_ID_LEN);
		s->w[0].error = 0;
		s->headers_written = !mig_writer_header(&s->w[0], &h);
	}
	if (s->headers_written)
		mig_abort_write(&s->w[0], s->session_id, err, why);
	if (s->state == S_BEGUN) {
		remember(s);
		sevmig_vm_transition(s->vm, SEVMIG_VM_SENDING, SEVMIG_VM_LIVE,
				     "the migration was cancelled");
	}
	__atomic_store_n(&s->vm->resume_blocked, 0, __ATOMIC_RELEASE);
	s->state = err == -ECANCELED ? S_CANCELLED : S_FAILED;
	phase(s, err == -ECANCELED ? SEVMIG_MIG_CANCELLED : SEVMIG_MIG_FAILED);
	return err;
}

static int ended(const struct sevmig_send *s, const char *fn)
{
	static const char *const what[] = {
		[S_NEW] = "not begun", [S_BEGUN] = "running",
		[S_COMMITTED] = "committed", [S_CANCELLED] = "cancelled",
		[S_FAILED] = "failed",
	};

	return sevmig_err(s->ctx, -ESTALE, "%s: the session is %s", fn,
			  what[s->state]);
}

/* The firmware's state of the guest (SEVMIG_GUEST_*), 0 when unknown. */
static uint32_t guest_state(struct sevmig_send *s)
{
	struct sevmig_guest_status gs = { .size = sizeof(gs) };

	if (sevmig_psp_guest_status(s->p, s->vm->vm_fd, &gs, NULL))
		return 0;
	return gs.state;
}

/* ---- handshake ---- */

static int read_hello(struct sevmig_send *s, struct mig_hello *h)
{
	struct mig_reader *r = &s->hello_r;
	struct mig_chan_hdr hdr;
	struct mig_rec rec = { 0 };	/* read only after a successful read */
	int ret;

	r->who = "the target's HELLO";
	ret = mig_reader_header(r, &hdr);
	if (!ret && hdr.direction != MIG_DIR_TO_SRC)
		ret = sevmig_err(s->ctx, -EPROTO,
				 "the target's HELLO: the channel header says it flows to the destination");
	if (!ret)
		ret = mig_reader_next(r, &rec);
	if (ret == -ENODATA)
		ret = sevmig_err(s->ctx, -EPIPE,
				 "the target closed channel 0 before its HELLO");
	if (!ret && rec.type != MIG_REC_HELLO)
		ret = rec.type == MIG_REC_ABORT ?
		      mig_abort_report(s->ctx, "destination", rec.payload, rec.len) :
		      sevmig_err(s->ctx, -EPROTO,
				 "the target sent %s where its HELLO belongs",
				 mig_rec_name(rec.type));
	if (!ret) {
		memcpy(s->hello_buf, rec.payload, rec.len);
		ret = mig_hello_parse(s->ctx, s->hello_buf, rec.len, h);
	}
	if (!ret && h->max_channels < s->nr_channels)
		ret = sevmig_err(s->ctx, -EPROTO,
				 "the target accepts %u channels; this session has %u",
				 h->max_channels, s->nr_channels);
	return ret;
}

static int write_start(struct sevmig_send *s, const unsigned char *session,
		       const unsigned char *our_pdh)
{
	unsigned char fixed[MIG_START_FIXED];
	struct sevmig_iovec iov[4];
	unsigned char *regions = s->regions;
	struct mig_chan_hdr h = { .version = MIG_VERSION,
				  .nr_channels = s->nr_channels,
				  .direction = MIG_DIR_TO_DST };
	int ret = 0;

	memcpy(h.session_id, s->session_id, MIG_SESSION_ID_LEN);
	for (uint32_t i = 0; !ret && i < s->nr_channels; i++) {
		h.channel = i;
		ret = mig_writer_header(&s->w[i], &h);
		if (!ret && i == 0)
			s->headers_written = true;
	}
	memset(fixed, 0, sizeof(fixed));
	mig_put32(fixed, s->policy);
	mig_put32(fixed + 4, s->commit_mode);
	mig_put32(fixed + 8, s->nr_channels);
	mig_put32(fixed + 12, s->vm->phys_bits);
	mig_put32(fixed + 16, s->layout.n);
	mig_put32(fixed + 20, SEVMIG_SESSION_LEN);
	mig_put32(fixed + 24, SEVMIG_SEV_CERT_LEN);
	for (uint32_t i = 0; i < s->layout.n; i++) {
		mig_put64(regions + 16u * i, s->layout.r[i].gfn << GUEST_PAGE_SHIFT);
		mig_put64(regions + 16u * i + 8,
			  s->layout.r[i].npages << GUEST_PAGE_SHIFT);
	}
	iov[0] = (struct sevmig_iovec){ fixed, sizeof(fixed) };
	iov[1] = (struct sevmig_iovec){ session, SEVMIG_SESSION_LEN };
	iov[2] = (struct sevmig_iovec){ our_pdh, SEVMIG_SEV_CERT_LEN };
	iov[3] = (struct sevmig_iovec){ regions, 16u * s->layout.n };
	if (!ret)
		ret = mig_writer_record(&s->w[0], MIG_REC_START, iov, 4, NULL);
	for (uint32_t i = 0; !ret && i < s->nr_channels; i++)
		ret = mig_writer_flush(&s->w[i]);
	return ret;
}

/* The frames the guest converted since the last round: dirty again. */
static int tracker_drain(struct sevmig_send *s)
{
	struct sevmig_tracker *t = sevmig_vm_tracker(s->vm);
	struct sevmig_tracker_sync_info info;
	int ret;

	do {
		info = (struct sevmig_tracker_sync_info){ .size = sizeof(info) };
		ret = sevmig_tracker_sync(t, s->sync_ranges, SYNC_RANGES, &info, 0);
		if (ret)
			return ret;
		for (uint64_t i = 0; i < info.nr_ranges; i++) {
			uint64_t a = s->sync_ranges[2 * i], b = s->sync_ranges[2 * i + 1];

			for (uint32_t k = 0; k < s->layout.n; k++) {
				const struct mig_region *r = &s->layout.r[k];
				uint64_t lo = a > r->gfn ? a : r->gfn;
				uint64_t hi = b < r->gfn + r->npages ? b :
					      r->gfn + r->npages;

				if (lo < hi)
					mig_bits_set(s->dirty,
						     r->first_bit + (lo - r->gfn),
						     hi - lo);
			}
		}
	} while (info.flags & SEVMIG_TRACKER_SYNC_MORE);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_begin(struct sevmig_send *s, uint64_t *ret_reasons,
				    uint32_t *ret_fw_error)
{
	struct sevmig_guest_status gs = { .size = sizeof(gs) };
	unsigned char *our = s ? s->our_certs : NULL;
	unsigned char session[SEVMIG_SESSION_LEN];
	struct sevmig_target_certs tc = { .size = sizeof(tc) };
	struct sevmig_preflight_args pa = { .size = sizeof(pa) };
	struct sevmig_send_start_args sa = { .size = sizeof(sa) };
	uint64_t reasons = 0;
	size_t pdh_len = 0, chain_len = 0, slen = 0;
	struct mig_hello h;
	uint32_t fw = 0;
	int ret;

	if (!s)
		return -EINVAL;
	if (s->state != S_NEW)
		return sevmig_err(s->ctx, -EALREADY, "%s: the session has begun already",
				  __func__);
	phase(s, SEVMIG_MIG_HANDSHAKE);
	ret = read_hello(s, &h);
	if (ret)
		return send_fail(s, ret, 0, "the source could not read the HELLO");

	/* The guest: its policy, and that it is running. */
	ret = sevmig_vm_guest_status(s->vm, &gs, &fw);
	if (!ret && gs.state != SEVMIG_GUEST_RUNNING)
		ret = sevmig_err(s->ctx, -EPROTO,
				 "%s: the guest's firmware state is %u, not RUNNING",
				 __func__, gs.fw_state);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return send_fail(s, ret, fw, "the source's guest is not running");
	}
	s->policy = gs.policy;

	/* This host's PDH (for RECEIVE_START) and OCA (for DOMAIN). */
	ret = sevmig_platform_pdh_export(s->p, our, SEVMIG_SEV_CERT_LEN,
					 our + SEVMIG_SEV_CERT_LEN,
					 SEVMIG_PLAT_CHAIN_LEN, &pdh_len,
					 &chain_len, &fw);
	if (!ret && (pdh_len != SEVMIG_SEV_CERT_LEN ||
		     chain_len != SEVMIG_PLAT_CHAIN_LEN))
		ret = sevmig_err(s->ctx, -EPROTO,
				 "%s: this platform exported a %zu-byte PDH", __func__,
				 pdh_len);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return send_fail(s, ret, fw, "the source could not export its PDH");
	}

	/* Refuse a target before the firmware is asked. */
	tc.pdh = h.pdh;
	tc.pdh_len = SEVMIG_SEV_CERT_LEN;
	tc.plat_chain = h.plat;
	tc.plat_chain_len = SEVMIG_PLAT_CHAIN_LEN;
	tc.amd_chain = h.amd;
	tc.amd_chain_len = h.amd_len;
	pa.policy = s->policy;
	pa.our_oca = our + SEVMIG_SEV_CERT_LEN + SEVMIG_SEV_CERT_LEN;
	pa.our_oca_len = SEVMIG_SEV_CERT_LEN;
	pa.target = &tc;
	pa.target_api_major = h.api_major;
	pa.target_api_minor = h.api_minor;
	ret = sevmig_preflight(s->ctx, &pa, &reasons);
	if (!ret && reasons) {
		if (ret_reasons)
			*ret_reasons = reasons;
		ret = sevmig_err(s->ctx, -EPERM,
				 "%s: the target is refused (reasons 0x%llx; each is logged above)",
				 __func__, (unsigned long long)reasons);
	}
	if (ret) {
		return send_fail(s, ret, 0, "the source refused this target");
	}

	/* SEND_START: from here a failure must cancel. */
	ret = sevmig_vm_transition(s->vm, SEVMIG_VM_LIVE, SEVMIG_VM_SENDING,
				   "a send session begins");
	if (ret) {
		return send_fail(s, ret, 0, "the source VM is not live");
	}
	s->state = S_BEGUN;
	mig_session_id(s->session_id);
	sa.pdh = h.pdh;
	sa.pdh_len = SEVMIG_SEV_CERT_LEN;
	sa.plat_chain = h.plat;
	sa.plat_chain_len = SEVMIG_PLAT_CHAIN_LEN;
	sa.amd_chain = h.amd;
	sa.amd_chain_len = h.amd_len;
	sa.session = session;
	sa.session_size = sizeof(session);
	{
		uint64_t t0 = mig_now_ns();

		ret = sevmig_psp_send_start(s->p, s->vm->vm_fd, &sa, &s->policy,
					    &slen, &fw);
		mig_stats_psp(&s->stats, mig_now_ns() - t0, fw);
	}
	if (!ret && slen != SEVMIG_SESSION_LEN)
		ret = sevmig_err(s->ctx, -EPROTO, "SEND_START: a %zu-byte session",
				 slen);
	/* A SEND_START whose answer was lost may have run: the guest is then
	 * SUPDATE and needs SEND_CANCEL to run normally again. */
	if (ret && guest_state(s) != SEVMIG_GUEST_RUNNING)
		s->send_started = true;
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return send_fail(s, ret, fw, "SEND_START failed on the source");
	}
	s->send_started = true;

	/* Conversions from now on are caught by a later pass. */
	ret = sevmig_tracker_log_start(sevmig_vm_tracker(s->vm), 0);
	if (!ret)
		ret = write_start(s, session, our);
	if (ret)
		return send_fail(s, ret, 0, "the source could not write START");
	phase(s, SEVMIG_MIG_PRECOPY);
	return 0;
}

/* ---- dirty pages ---- */

/* Registered RAM [gpa, gpa + size) as (region, first page); -EINVAL if not. */
static int find_range(const struct sevmig_send *s, const char *fn, uint64_t gpa,
		      uint64_t size, uint32_t *ret_region)
{
	uint64_t gfn = gpa >> GUEST_PAGE_SHIFT, n = size >> GUEST_PAGE_SHIFT;
	const struct mig_region *r;

	if ((gpa | size) & (GUEST_PAGE_SIZE - 1) || !size)
		return sevmig_arg_invalid(s->ctx, fn,
					  "[0x%llx, +0x%llx) is not a non-empty 4 KiB-aligned range",
					  (unsigned long long)gpa,
					  (unsigned long long)size);
	r = mig_layout_find(&s->layout, gfn);
	if (!r || n > r->npages - (gfn - r->gfn))
		return sevmig_arg_invalid(s->ctx, fn,
					  "[0x%llx, +0x%llx) is not inside one registered RAM region with a host address",
					  (unsigned long long)gpa,
					  (unsigned long long)size);
	*ret_region = (uint32_t)(r - s->layout.r);
	return 0;
}

/* Region @k has a reporter: set by any thread (mark_dirty), read when a
 * pass set is taken. One accessor each, so the only cross-thread access
 * to the flag is named (scripts/quality-valgrind.supp). */
static void region_set_reported(struct sevmig_send *s, uint32_t k)
{
	__atomic_store_n(&s->region_tracked[k], 1, __ATOMIC_RELAXED);
}

static bool region_reported(const struct sevmig_send *s, uint32_t k)
{
	return __atomic_load_n(&s->region_tracked[k], __ATOMIC_RELAXED);
}

SEVMIG_EXPORT int sevmig_send_mark_dirty(struct sevmig_send *s, uint64_t gpa,
					 uint64_t size, const void *bitmap,
					 uint32_t flags)
{
	const struct mig_region *r;
	uint32_t k;
	int ret;

	if (!s)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(s->ctx, __func__, flags)) ||
	    (ret = find_range(s, __func__, gpa, size, &k)))
		return ret;
	if (s->state >= S_COMMITTED)
		return ended(s, __func__);
	r = &s->layout.r[k];
	region_set_reported(s, k);
	if (bitmap)
		mig_bits_or(s->dirty, r->first_bit + ((gpa >> GUEST_PAGE_SHIFT) - r->gfn),
			    bitmap, size >> GUEST_PAGE_SHIFT);
	else
		mig_bits_set(s->dirty, r->first_bit + ((gpa >> GUEST_PAGE_SHIFT) - r->gfn),
			     size >> GUEST_PAGE_SHIFT);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_dirty_log_slot(struct sevmig_send *s, uint32_t slot,
					     uint64_t gpa, uint64_t size,
					     uint32_t flags)
{
	uint32_t k;
	int ret;

	if (!s)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(s->ctx, __func__, flags)) ||
	    (ret = find_range(s, __func__, gpa, size, &k)))
		return ret;
	if (s->pass)
		return sevmig_err(s->ctx, -EALREADY,
				  "%s: register dirty-log slots before the first pass",
				  __func__);
	if (gpa >> GUEST_PAGE_SHIFT != s->layout.r[k].gfn ||
	    size >> GUEST_PAGE_SHIFT != s->layout.r[k].npages)
		return sevmig_arg_invalid(s->ctx, __func__,
					  "slot %u must cover exactly one registered RAM region",
					  slot);
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->slots[i].slot == slot || s->slots[i].region == k)
			return sevmig_err(s->ctx, -EEXIST,
					  "%s: slot %u or its region is registered already",
					  __func__, slot);
	if (s->nslots == MAX_SLOTS)
		return sevmig_err(s->ctx, -ENOSPC, "%s: more than %u slots",
				  __func__, MAX_SLOTS);
	s->slots[s->nslots++] = (struct send_slot){ .slot = slot, .region = k };
	return 0;
}

/* KVM_GET_DIRTY_LOG for every registered slot; @keep: OR into dirty. */
static int pull_dirty_logs(struct sevmig_send *s, bool keep)
{
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct mig_region *r = &s->layout.r[s->slots[i].region];
		struct kvm_dirty_log dl = {
			.slot = s->slots[i].slot,
			.dirty_bitmap = sevmig_ptr_u64(s->slot_buf),
		};
		int ret;

		memset(s->slot_buf, 0, mig_bits_words(r->npages) * 8);
		ret = sevmig_sys_ioctl(s->ctx, s->vm->vm_fd, KVM_GET_DIRTY_LOG, &dl);
		if (ret < 0)
			return sevmig_err(s->ctx, ret,
					  "KVM_GET_DIRTY_LOG(slot %u): %s (was the slot created with KVM_MEM_LOG_DIRTY_PAGES?)",
					  s->slots[i].slot, sevmig_strerror(ret));
		if (keep)
			mig_bits_or(s->dirty, r->first_bit, s->slot_buf, r->npages);
	}
	return 0;
}

/* Nobody reports on region @k (no dirty-log slot, no mark_dirty): all of
 * it is taken as dirty. Decided when a pass set is taken, not before: the
 * VMM may start reporting between passes. */
static bool region_untracked(const struct sevmig_send *s, uint32_t k)
{
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->slots[i].region == k)
			return false;
	return !region_reported(s, k);
}

/*
 * What was dirtied or converted since the last pass set was taken, ORed
 * into s->dirty: KVM's dirty logs and the tracker's conversions. Called at
 * the end of a pass (for its figures) and again by the next collect(),
 * which adds what came since and the untracked regions.
 */
static int gather_dirty(struct sevmig_send *s)
{
	int ret = pull_dirty_logs(s, true);

	return ret ? ret : tracker_drain(s);
}

/* The next pass's work as known now: dirty pages and untracked regions. */
static uint64_t remaining(const struct sevmig_send *s)
{
	uint64_t n = mig_bits_count(s->dirty, s->nwords);

	for (uint32_t k = 0; k < s->layout.n; k++) {
		const struct mig_region *r = &s->layout.r[k];

		if (region_untracked(s, k))
			n += r->npages - mig_bits_count_range(s->dirty, r->first_bit,
							      r->npages);
	}
	return n;
}

/* Gather the next pass's pages into pass_set; returns the count or -errno. */
static int64_t collect(struct sevmig_send *s)
{
	int ret;

	if (!s->pass) {
		/* Pass 1: everything; dirty logs start from here. */
		ret = pull_dirty_logs(s, false);
		if (ret)
			return ret;
		/* Reports from before pass 1 are covered by it: drop them
		 * (atomically: vCPU threads may report right now). */
		mig_bits_take(s->pass_set, s->dirty, s->nwords);
		mig_bits_set(s->pass_set, 0, s->layout.pages);
		return (int64_t)s->layout.pages;
	}
	ret = gather_dirty(s);
	if (ret)
		return ret;
	for (uint32_t k = 0; k < s->layout.n; k++)
		if (region_untracked(s, k))
			mig_bits_set(s->dirty, s->layout.r[k].first_bit,
				     s->layout.r[k].npages);
	return (int64_t)mig_bits_take(s->pass_set, s->dirty, s->nwords);
}

/* ---- sending pages ---- */

struct worker {
	struct sevmig_send *s;
	uint32_t index;
	bool last;
	uint64_t records, pages_private, pages_shared;
	uint32_t fw;
	int ret;
};

/* The region holding layout page @bit. */
static const struct mig_region *region_of(const struct mig_layout *l,
					  uint64_t bit)
{
	uint32_t lo = 0, hi = l->n;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (l->r[mid].first_bit <= bit)
			lo = mid;
		else
			hi = mid;
	}
	return &l->r[lo];
}

static int send_private(struct worker *wk, uint64_t gfn, unsigned char *hva)
{
	struct sevmig_send *s = wk->s;
	struct mig_writer *w = &s->w[wk->index];
	unsigned char *pl = mig_writer_reserve(w, MIG_REC_PAGE_PRIVATE,
					       MIG_PAGE_PRIVATE_FIXED + MIG_PAGE_SIZE);
	struct sevmig_page_xfer x = { .size = sizeof(x) };
	uint64_t t0;
	uint32_t fw = 0;
	int ret;

	if (!pl)
		return w->error;
	mig_put64(pl, gfn);
	mig_put32(pl + 60, MIG_PAGE_SIZE);
	x.guest = hva;
	x.hdr = pl + 8;
	x.hdr_len = SEVMIG_PACKET_HDR_LEN;
	x.trans = pl + MIG_PAGE_PRIVATE_FIXED;
	x.trans_len = MIG_PAGE_SIZE;
	x.guest_len = MIG_PAGE_SIZE;
	t0 = mig_now_ns();
	ret = sevmig_psp_send_update_data(s->p, s->vm->vm_fd, &x, &fw);
	mig_stats_psp(&s->stats, mig_now_ns() - t0, fw);
	if (ret) {
		wk->fw = fw;
		w->len = w->open_off;	/* drop the reserved record */
		w->open_off = SIZE_MAX;
		return ret;
	}
	mig_writer_commit(w);
	wk->pages_private++;
	__atomic_add_fetch(&s->stats.pages_private, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->stats.bytes_private,
			   MIG_REC_HDR_LEN + MIG_PAGE_PRIVATE_FIXED + MIG_PAGE_SIZE,
			   __ATOMIC_RELAXED);
	return 0;
}

static int send_shared(struct worker *wk, uint64_t gfn, const unsigned char *hva)
{
	struct sevmig_send *s = wk->s;
	struct mig_writer *w = &s->w[wk->index];
	unsigned char *pl = mig_writer_reserve(w, MIG_REC_PAGE_SHARED,
					       MIG_PAGE_SHARED_FIXED + MIG_PAGE_SIZE);

	if (!pl)
		return w->error;
	mig_put64(pl, gfn);
	mig_put32(pl + 8, MIG_PAGE_SIZE);
	mig_put32(pl + 12, 0);
	/* A copy the guest cannot change between checksum and write. */
	memcpy(pl + MIG_PAGE_SHARED_FIXED, hva, MIG_PAGE_SIZE);
	mig_writer_commit(w);
	wk->pages_shared++;
	__atomic_add_fetch(&s->stats.pages_shared, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->stats.bytes_shared,
			   MIG_REC_HDR_LEN + MIG_PAGE_SHARED_FIXED + MIG_PAGE_SIZE,
			   __ATOMIC_RELAXED);
	return 0;
}

/* Send the pass_set pages of [bit, end), all inside region @r. */
static int send_span(struct worker *wk, const struct mig_region *r,
		     uint64_t bit, uint64_t end)
{
	struct sevmig_send *s = wk->s;
	struct sevmig_tracker *t = sevmig_vm_tracker(s->vm);
	uint64_t ends[CHUNK_PAGES + 1];
	uint64_t gfn = r->gfn + (bit - r->first_bit);
	uint64_t gend = r->gfn + (end - r->first_bit);
	uint32_t state, run = 0;
	int n, ret;

	/* One locked walk of the tracker for the span's states. */
	n = sevmig_tracker_runs(t, gfn, gend, ends, CHUNK_PAGES + 1, &state, NULL);
	if (n < 0)
		return n;
	for (uint64_t b = bit; b < end; b++, gfn++) {
		while ((int)run < n - 1 && gfn >= ends[run]) {
			run++;
			state = state == SEVMIG_PAGE_SHARED ? SEVMIG_PAGE_PRIVATE :
							      SEVMIG_PAGE_SHARED;
		}
		if (!(s->pass_set[b / 64] & (1ull << (b % 64))))
			continue;
		if (__atomic_load_n(&s->pass_error, __ATOMIC_RELAXED))
			return -ECANCELED;
		{
			unsigned char *hva = r->hva + ((gfn - r->gfn) << GUEST_PAGE_SHIFT);

			ret = state == SEVMIG_PAGE_SHARED ?
			      send_shared(wk, gfn, hva) : send_private(wk, gfn, hva);
		}
		if (ret)
			return ret;
		wk->records++;
	}
	return 0;
}

static void *worker_run(void *arg)
{
	struct worker *wk = arg;
	struct sevmig_send *s = wk->s;
	struct mig_writer *w = &s->w[wk->index];
	unsigned char *pl;
	int ret = 0;

	for (;;) {
		uint64_t bit = __atomic_fetch_add(&s->cursor, CHUNK_PAGES,
						  __ATOMIC_RELAXED);
		uint64_t end;

		if (bit >= s->layout.pages ||
		    __atomic_load_n(&s->pass_error, __ATOMIC_RELAXED))
			break;
		end = bit + CHUNK_PAGES < s->layout.pages ? bit + CHUNK_PAGES :
							    s->layout.pages;
		/* Split the chunk where regions meet. */
		while (!ret && bit < end) {
			const struct mig_region *r = region_of(&s->layout, bit);
			uint64_t rend = r->first_bit + r->npages;
			uint64_t e = rend < end ? rend : end;

			ret = send_span(wk, r, bit, e);
			bit = e;
		}
		if (ret)
			break;
		if (wk->index == 0)
			report(s);
	}
	if (!ret) {
		pl = mig_writer_reserve(w, MIG_REC_PASS_END, MIG_PASS_END_LEN);
		if (pl) {
			mig_put32(pl, w->pass);
			mig_put32(pl + 4, wk->last ? 1u : 0u);
			mig_put64(pl + 8, wk->records);
			mig_put64(pl + 16, 0);
			mig_writer_commit(w);
			w->pass++;
			ret = mig_writer_flush(w);
		} else {
			ret = w->error;
		}
	}
	if (ret) {
		int zero = 0;

		__atomic_compare_exchange_n(&s->pass_error, &zero, ret, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	wk->ret = ret;
	return NULL;
}

/* One pass over pass_set on every channel. */
static int run_pass(struct sevmig_send *s, bool last, struct sevmig_pass_info *out,
		    uint32_t *ret_fw)
{
	struct worker wk[MIG_MAX_CHANNELS];
	pthread_t th[MIG_MAX_CHANNELS];
	bool started[MIG_MAX_CHANNELS] = { false };
	uint64_t t0 = mig_now_ns(), priv = 0, shared = 0, rem, dirtied;
	int64_t n;
	int ret = 0;

	n = collect(s);
	if (n < 0)
		return (int)n;
	s->pass++;
	s->cursor = 0;
	s->pass_error = 0;
	/* At least one channel: channel 0's worker is always set up. */
	for (uint32_t i = 0; i == 0 || i < s->nr_channels; i++)
		wk[i] = (struct worker){ .s = s, .index = i, .last = last };
	for (uint32_t i = 1; i < s->nr_channels; i++) {
		if (pthread_create(&th[i], NULL, worker_run, &wk[i])) {
			__atomic_store_n(&s->pass_error, -EAGAIN, __ATOMIC_RELAXED);
			ret = sevmig_err(s->ctx, -EAGAIN,
					 "pass %u: cannot start the worker of channel %u",
					 s->pass, i);
			break;
		}
		started[i] = true;
	}
	if (!ret)
		worker_run(&wk[0]);
	for (uint32_t i = 1; i < s->nr_channels; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (uint32_t i = 0; i < s->nr_channels; i++) {
		if (!ret && wk[i].ret && wk[i].ret != -ECANCELED)
			ret = wk[i].ret;
		if (wk[i].fw)
			*ret_fw = wk[i].fw;
		priv += wk[i].pages_private;
		shared += wk[i].pages_shared;
	}
	if (!ret && s->pass_error)
		ret = s->pass_error;
	if (ret)
		return ret;
	s->private_records += priv;
	s->shared_records += shared;
	s->last_pass_ns = mig_now_ns() - t0;
	/*
	 * What the guest dirtied meanwhile, for the figures the VMM decides
	 * on. A failure here is logged and comes back from the next pass's
	 * collect(), which repeats the same steps.
	 */
	if (!last)
		(void)gather_dirty(s);
	dirtied = mig_bits_count(s->dirty, s->nwords);
	rem = last ? dirtied : remaining(s);
	pthread_mutex_lock(&s->stats.lock);
	s->stats.passes = s->pass;
	s->stats.remaining_pages = rem;
	/* What was reported dirtied: untracked regions say nothing of it. */
	if (!last && s->last_pass_ns)
		s->stats.dirty_rate = (uint64_t)((double)dirtied * 1e9 /
						 (double)s->last_pass_ns);
	pthread_mutex_unlock(&s->stats.lock);
	if (out) {
		out->pass = s->pass;
		out->pages_private = priv;
		out->pages_shared = shared;
		out->remaining_pages = rem;
		out->duration_ns = s->last_pass_ns;
	}
	report(s);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_pass(struct sevmig_send *s,
				   struct sevmig_pass_info *info, uint32_t flags)
{
	struct sevmig_pass_info k;
	uint32_t fw = 0;
	int len = 0, ret;

	if (!s)
		return -EINVAL;
	if (sevmig_arg_flags(s->ctx, __func__, flags))
		return -EINVAL;
	if (info) {
		len = sevmig_arg_out(s->ctx, __func__, "pass info", info,
				     sizeof(k), SEVMIG_PASS_INFO_SIZE_VER0);
		if (len < 0)
			return len;
	}
	if (s->state == S_NEW)
		return sevmig_err(s->ctx, -EPROTO, "%s: call sevmig_send_begin() first",
				  __func__);
	if (s->state != S_BEGUN)
		return ended(s, __func__);
	memset(&k, 0, sizeof(k));
	k.size = sizeof(k);
	ret = run_pass(s, false, &k, &fw);
	if (ret)
		return send_fail(s, ret, fw, "a pre-copy pass failed on the source");
	if (info)
		sevmig_struct_out(info, &k, (size_t)len);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_record(struct sevmig_send *s, uint32_t type,
				     const void *buf, size_t len, uint32_t flags)
{
	unsigned char fixed[MIG_VMM_FIXED];
	struct sevmig_iovec iov[2];
	int ret;

	if (!s)
		return -EINVAL;
	if (sevmig_arg_flags(s->ctx, __func__, flags))
		return -EINVAL;
	if (type < SEVMIG_RECORD_VMM_FIRST || type > SEVMIG_RECORD_VMM_LAST)
		return sevmig_arg_invalid(s->ctx, __func__,
					  "type 0x%x is outside the VMM range 0x%x..0x%x",
					  type, SEVMIG_RECORD_VMM_FIRST,
					  SEVMIG_RECORD_VMM_LAST);
	if (!buf && len)
		return sevmig_arg_null(s->ctx, __func__, "buf");
	if (len > s->max_vmm)
		return sevmig_err(s->ctx, -EMSGSIZE,
				  "%s: %zu bytes; the limit is %u (opts->max_vmm_record)",
				  __func__, len, s->max_vmm);
	if (s->state != S_BEGUN)
		return s->state == S_NEW ?
		       sevmig_err(s->ctx, -EPROTO, "%s: call sevmig_send_begin() first",
				  __func__) : ended(s, __func__);
	mig_put32(fixed, type);
	mig_put32(fixed + 4, 0);
	iov[0] = (struct sevmig_iovec){ fixed, sizeof(fixed) };
	iov[1] = (struct sevmig_iovec){ buf, len };
	ret = mig_writer_record(&s->w[0], MIG_REC_VMM, iov, 2, NULL);
	if (ret)
		return send_fail(s, ret, 0, "the source could not write a VMM record");
	s->vmm_records++;
	return 0;
}

/* ---- the commit ---- */

static int write_page_state(struct sevmig_send *s, uint64_t *ret_shared)
{
	struct sevmig_tracker *t = sevmig_vm_tracker(s->vm);
	uint64_t shared = 0;

	for (uint32_t k = 0; k < s->layout.n; k++) {
		const struct mig_region *r = &s->layout.r[k];
		uint64_t gfn = r->gfn, end = r->gfn + r->npages, n;
		int ret;

		while (gfn < end) {
			struct sevmig_iovec iov;
			size_t len = 0;
			uint64_t next = gfn;

			ret = sevmig_tracker_encode(t, SEVMIG_TRACKER_RECORD_FULL,
						    gfn, end, s->state_buf,
						    MIG_PAGE_STATE_MAX, &len,
						    &next, 0);
			if (ret)
				return sevmig_err(s->ctx, ret,
						  "page-state map: encoding [0x%llx, 0x%llx) failed: %s",
						  (unsigned long long)gfn,
						  (unsigned long long)end,
						  sevmig_strerror(ret));
			iov = (struct sevmig_iovec){ s->state_buf, len };
			ret = mig_writer_record(&s->w[0], MIG_REC_PAGE_STATE, &iov,
						1, NULL);
			if (ret)
				return ret;
			s->state_records++;
			gfn = next;
		}
		/* Shared frames of this region, for END's cross-check. */
		ret = mig_shared_frames_in(t, r->gfn, end, &n);
		if (ret)
			return ret;
		shared += n;
	}
	*ret_shared = shared;
	return 0;
}

static int write_end(struct sevmig_send *s, uint64_t shared, uint32_t *ret_crc)
{
	unsigned char buf[MIG_END_FIXED + 16u * MIG_MAX_CHANNELS];
	struct mig_end e = { .passes = s->pass, .nr_channels = s->nr_channels };
	struct sevmig_iovec iov = { buf, mig_end_len(s->nr_channels) };

	e.migration_control = __atomic_load_n(&s->vm->migration_control,
					      __ATOMIC_ACQUIRE);
	e.shared_pages = shared;
	e.private_records = s->private_records;
	e.shared_records = s->shared_records;
	e.state_records = s->state_records;
	e.vmm_records = s->vmm_records;
	for (uint32_t i = 0; i < s->nr_channels; i++) {
		/* Channel 0 counts END itself in its records, not its digest. */
		e.ch_records[i] = s->w[i].records + (i == 0);
		e.ch_digest[i] = s->w[i].digest;
	}
	mig_end_encode(&e, buf);
	return mig_writer_record(&s->w[0], MIG_REC_END, &iov, 1, ret_crc);
}

static int await_ack(struct sevmig_send *s, uint32_t end_crc)
{
	struct mig_reader *r = &s->ack_r;
	struct mig_rec rec;
	int ret;

	/* The destination's direction of channel 0 carried HELLO before. */
	r->who = "the destination's answer";
	r->seq = 1;
	r->digest = 0;
	ret = mig_reader_next(r, &rec);
	if (ret == -ENODATA)
		ret = sevmig_err(s->ctx, -EPIPE,
				 "the destination closed channel 0 instead of acknowledging");
	if (!ret && rec.type == MIG_REC_ABORT)
		ret = mig_abort_report(s->ctx, "destination", rec.payload, rec.len);
	else if (!ret && rec.type != MIG_REC_ACK)
		ret = sevmig_err(s->ctx, -EPROTO,
				 "the destination sent %s where its ACK belongs",
				 mig_rec_name(rec.type));
	else if (!ret && (rec.len != MIG_ACK_LEN ||
			  memcmp(rec.payload, s->session_id, MIG_SESSION_ID_LEN) != 0 ||
			  mig_get32(rec.payload + 16) != end_crc ||
			  mig_get32(rec.payload + 20)))
		ret = sevmig_err(s->ctx, -EBADMSG,
				 "the destination's ACK is not for this session's END");
	return ret;
}

SEVMIG_EXPORT int sevmig_send_commit(struct sevmig_send *s, uint32_t *ret_fw_error)
{
	uint64_t shared = 0;
	uint32_t end_crc = 0, fw = 0;
	unsigned char cm[MIG_COMMIT_LEN];
	struct sevmig_iovec iov = { cm, sizeof(cm) };
	int ret;

	if (!s)
		return -EINVAL;
	if (s->state != S_BEGUN)
		return s->state == S_NEW ?
		       sevmig_err(s->ctx, -EPROTO, "%s: call sevmig_send_begin() first",
				  __func__) : ended(s, __func__);
	if (!sevmig_vm_flag(&s->vm->paused))
		return sevmig_err(s->ctx, -EAGAIN,
				  "%s: stop the vCPUs and call sevmig_vm_pause() first: the final pass needs a still guest",
				  __func__);
	__atomic_store_n(&s->vm->resume_blocked, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&s->stats.lock);
	s->stats.downtime_start_ns = mig_now_ns();
	pthread_mutex_unlock(&s->stats.lock);
	phase(s, SEVMIG_MIG_FINAL);

	ret = run_pass(s, true, NULL, &fw);
	if (!ret)
		ret = write_page_state(s, &shared);
	if (!ret)
		ret = write_end(s, shared, &end_crc);
	if (!ret)
		ret = mig_writer_flush(&s->w[0]);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return send_fail(s, ret, fw, "the source failed in its final pass");
	}
	phase(s, SEVMIG_MIG_AWAIT_COMMIT);
	if (s->commit_mode == SEVMIG_COMMIT_ACK) {
		ret = await_ack(s, end_crc);
	} else {
		for (uint32_t i = 0; !ret && i < s->nr_channels; i++)
			ret = mig_chan_flush(s->ch[i]);
	}
	if (ret)
		return send_fail(s, ret, 0, "the source got no acknowledgement");

	/* The point of no return. */
	{
		uint64_t t0 = mig_now_ns();

		ret = sevmig_psp_send_finish(s->p, s->vm->vm_fd, &fw);
		mig_stats_psp(&s->stats, mig_now_ns() - t0, fw);
	}
	/* A SEND_FINISH whose answer was lost after it ran left the guest
	 * SENT: the destination owns it, so this is a commit. */
	if (ret && guest_state(s) == SEVMIG_GUEST_SENT) {
		sevmig_log(s->ctx, SEVMIG_LOG_WARNING,
			   "SEND_FINISH reported %s, but the guest is SENT: it finished",
			   sevmig_strerror(ret));
		ret = 0;
	}
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return send_fail(s, ret, fw, "SEND_FINISH failed on the source");
	}
	s->send_started = false;
	s->state = S_COMMITTED;
	remember(s);
	sevmig_vm_transition(s->vm, SEVMIG_VM_SENDING, SEVMIG_VM_SENT,
			     "SEND_FINISH: the guest runs on the destination");
	memcpy(cm, s->session_id, sizeof(cm));
	ret = mig_writer_record(&s->w[0], MIG_REC_COMMIT, &iov, 1, NULL);
	if (!ret)
		ret = mig_writer_flush(&s->w[0]);
	if (!ret && s->commit_mode == SEVMIG_COMMIT_FLUSH)
		ret = mig_chan_flush(s->ch[0]);
	pthread_mutex_lock(&s->stats.lock);
	s->stats.downtime_ns = mig_now_ns() - s->stats.downtime_start_ns;
	pthread_mutex_unlock(&s->stats.lock);
	if (ret) {
		sevmig_log(s->ctx, SEVMIG_LOG_WARNING,
			   "%s: the source is SENT but COMMIT did not reach the destination (%s): it is in doubt until sevmig_send_resolve() tells it",
			   __func__, sevmig_strerror(ret));
		phase(s, SEVMIG_MIG_IN_DOUBT);
		return 0;
	}
	phase(s, SEVMIG_MIG_COMMITTED);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_cancel(struct sevmig_send *s, uint32_t flags)
{
	if (!s)
		return -EINVAL;
	if (sevmig_arg_flags(s->ctx, __func__, flags))
		return -EINVAL;
	if (s->state == S_COMMITTED)
		return sevmig_err(s->ctx, -EPERM,
				  "%s: the migration committed: the guest belongs to the destination",
				  __func__);
	if ((s->state == S_CANCELLED || s->state == S_FAILED) &&
	    s->send_started) {
		/* The SEND_CANCEL of the failure did not go through: again. */
		uint32_t fw = 0;
		int ret = sevmig_psp_send_cancel(s->p, s->vm->vm_fd, &fw);

		if (ret)
			return sevmig_err(s->ctx, -EIO,
					  "%s: SEND_CANCEL failed again (%s): the guest's firmware state is unknown; check it with sevmig_vm_guest_status() before resuming it",
					  __func__, sevmig_strerror(ret));
		s->send_started = false;
		return 0;
	}
	if (s->state == S_CANCELLED || s->state == S_FAILED)
		return 0;
	send_fail(s, -ECANCELED, 0, "the source's VMM cancelled the migration");
	return s->send_started ? -EIO : 0;
}

SEVMIG_EXPORT int sevmig_send_stats(struct sevmig_send *s,
				    struct sevmig_mig_stats *stats)
{
	if (!s)
		return -EINVAL;
	return mig_stats_read(&s->stats, s->ctx, __func__, bytes_total(s), stats);
}

SEVMIG_EXPORT void sevmig_send_free(struct sevmig_send *s)
{
	if (!s)
		return;
	if (s->state == S_NEW || s->state == S_BEGUN)
		send_fail(s, -ECANCELED, 0, "the source ended the session");
	/* The change log is a migration's: a VM that stays here stops paying. */
	if (sevmig_tracker_log_stop(sevmig_vm_tracker(s->vm), 0))
		sevmig_log(s->ctx, SEVMIG_LOG_DEBUG, "stopping the page-state log failed");
	__atomic_store_n(&s->vm->resume_blocked, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->vm->session_busy, 0, __ATOMIC_RELEASE);
	send_destroy(s);
}

SEVMIG_EXPORT int sevmig_send_resolve(struct sevmig_vm *vm,
				      struct sevmig_channel *channel,
				      uint32_t flags)
{
	struct mig_chan_hdr h = { .version = MIG_VERSION, .nr_channels = 1,
				  .direction = MIG_DIR_TO_DST };
	struct mig_writer w;
	bool sent;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!channel)
		return sevmig_arg_null(vm->ctx, __func__, "channel");
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	if (sevmig_vm_flag(&vm->session_busy))
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: a session is still running on this VM", __func__);
	pthread_rwlock_rdlock(&vm->lock);
	ret = vm->last_session_valid ? 0 : -ENOENT;
	memcpy(h.session_id, vm->last_session_id, MIG_SESSION_ID_LEN);
	pthread_rwlock_unlock(&vm->lock);
	if (ret)
		return sevmig_err(vm->ctx, ret,
				  "%s: no migration session ran on this VM", __func__);
	sent = sevmig_vm_get_state(vm) == SEVMIG_VM_SENT;
	ret = mig_writer_init(&w, channel, 0, 4096);
	if (ret)
		return sevmig_err(vm->ctx, ret, "%s: out of memory", __func__);
	ret = mig_writer_header(&w, &h);
	if (!ret && sent) {
		struct sevmig_iovec iov = { h.session_id, MIG_SESSION_ID_LEN };

		ret = mig_writer_record(&w, MIG_REC_COMMIT, &iov, 1, NULL);
		if (!ret)
			ret = mig_writer_flush(&w);
	} else if (!ret) {
		ret = mig_abort_write(&w, h.session_id, -ECANCELED,
				      "the source cancelled: its guest runs there");
	}
	mig_writer_fini(&w);
	if (!ret)
		sevmig_log(vm->ctx, SEVMIG_LOG_INFO, "%s: told the destination %s",
			   __func__, sent ? "COMMIT" : "ABORT");
	return ret;
}
