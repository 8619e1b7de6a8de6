// SPDX-License-Identifier: MIT
/*
 * The receive session: everything the source sends is checked before it
 * is applied (docs/stream.md, "Rules the receiver enforces"); only a
 * complete, consistent stream is acknowledged, and the VM runs only after
 * the source's COMMIT. Any failure before that leaves the VM DEAD: there is
 * no RECEIVE cancel in the firmware, so the VMM discards it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig-bitmap.h"
#include "mig-session.h"
#include "uapi/sev-cert.h"
#include "psp-platform.h"
#include "tracker-priv.h"
#include "uapi/kvm-abi.h"

/* R_IN_DOUBT: ACK sent, no verdict; R_FINISH_PENDING: COMMIT received,
 * RECEIVE_FINISH failed: both keep the VM INCOMING. */
enum recv_state {
	R_NEW, R_RUNNING, R_IN_DOUBT, R_FINISH_PENDING, R_COMMITTED, R_FAILED
};

struct sevmig_receive {
	struct sevmig_vm *vm;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
	uint32_t nr_channels;
	struct sevmig_channel *ch[MIG_MAX_CHANNELS];
	struct mig_reader r[MIG_MAX_CHANNELS];
	bool reader_ok[MIG_MAX_CHANNELS];
	struct mig_writer w0;		/* to the source, on channel 0 */
	bool w0_ok, w0_header;
	unsigned char *amd;
	size_t amd_len;
	sevmig_record_fn record;
	void *record_opaque;
	sevmig_progress_fn progress;
	void *progress_opaque;
	uint32_t max_vmm;

	enum recv_state state;
	uint8_t session_id[MIG_SESSION_ID_LEN];
	uint32_t policy, commit_mode;
	bool started;			/* RECEIVE_START succeeded */

	struct mig_ram ram;		/* START's regions, hva this VM's mapping */
	uint64_t pages;
	uint64_t *seen;			/* frames delivered in this pass */

	/* pass barrier across channels */
	pthread_mutex_t bar_lock;
	pthread_cond_t bar_cond;
	uint32_t bar_pass;		/* passes every channel finished */
	uint32_t bar_arrived;
	uint32_t bar_last;		/* channels that said "last" */
	bool bar_done;			/* the last pass is finished */
	int bar_error;			/* first worker error: stop all */

	uint64_t private_records, shared_records, state_records, vmm_records;
	struct mig_end end;
	uint32_t end_crc;

	struct mig_stats stats;
};

struct rworker {
	struct sevmig_receive *r;
	uint32_t index;
	uint64_t pass_records;		/* page records in this pass */
	int ret;
	uint32_t fw;
};

static uint64_t bytes_total(const struct sevmig_receive *r)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < r->nr_channels; i++)
		n += __atomic_load_n(&r->ch[i]->bytes_out, __ATOMIC_RELAXED) +
		     __atomic_load_n(&r->ch[i]->bytes_in, __ATOMIC_RELAXED);
	return n;
}

static void report(struct sevmig_receive *r)
{
	struct sevmig_mig_stats k;

	if (!r->progress)
		return;
	mig_stats_snapshot(&r->stats, bytes_total(r), &k);
	r->progress(r->progress_opaque, &k);
}

static void phase(struct sevmig_receive *r, uint32_t ph)
{
	mig_stats_phase(&r->stats, ph);
	report(r);
}

/* ---- creation ---- */

static void recv_destroy(struct sevmig_receive *r)
{
	for (uint32_t i = 0; i < r->nr_channels; i++)
		if (r->reader_ok[i])
			mig_reader_fini(&r->r[i]);
	if (r->w0_ok)
		mig_writer_fini(&r->w0);
	free(r->amd);
	mig_ram_free(&r->ram);
	free(r->seen);
	pthread_cond_destroy(&r->bar_cond);
	pthread_mutex_destroy(&r->bar_lock);
	mig_stats_fini(&r->stats);
	free(r);
}

static uint32_t ch0_buf_cap(uint32_t max_vmm)
{
	uint32_t cap = mig_rec_max_payload(MIG_REC_START, 0);
	uint32_t vmm = mig_rec_max_payload(MIG_REC_VMM, max_vmm);

	return vmm > cap ? vmm : cap;
}

SEVMIG_EXPORT int sevmig_receive_new(struct sevmig_vm *vm,
				     const struct sevmig_receive_opts *opts,
				     struct sevmig_receive **ret_receive)
{
	struct sevmig_receive_opts o;
	struct sevmig_receive *r;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!opts || !ret_receive)
		return sevmig_arg_null(vm->ctx, __func__,
				       opts ? "ret_receive" : "opts");
	if ((ret = sevmig_arg_in(vm->ctx, __func__, "opts", &o, sizeof(o), opts,
				 SEVMIG_RECEIVE_OPTS_SIZE_VER0)) ||
	    (ret = sevmig_arg_flags(vm->ctx, __func__, o.flags)))
		return ret;
	if (!o.channels || o.nr_channels < 1 || o.nr_channels > MIG_MAX_CHANNELS)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "%u channels: give 1 to %u", o.nr_channels,
					  MIG_MAX_CHANNELS);
	if (!o.amd_chain || (o.amd_chain_len != AMD_CHAIN_2K_2K &&
			     o.amd_chain_len != AMD_CHAIN_4K_2K &&
			     o.amd_chain_len != AMD_CHAIN_2K_4K &&
			     o.amd_chain_len != AMD_CHAIN_4K_4K))
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "this host's AMD chain (ASK || ARK) is needed: %zu bytes is not 1664, 2176, 2688 or 3200",
					  o.amd_chain ? o.amd_chain_len : 0);
	for (uint32_t i = 0; i < o.nr_channels; i++) {
		if (!o.channels[i] || !mig_chan_can_read(o.channels[i]))
			return sevmig_arg_invalid(vm->ctx, __func__,
						  "channel %u is NULL or cannot read", i);
		for (uint32_t j = 0; j < i; j++)
			if (o.channels[j] == o.channels[i])
				return sevmig_arg_invalid(vm->ctx, __func__,
							  "channel %u is channel %u again",
							  i, j);
	}
	if (!vm->platform)
		return sevmig_err(vm->ctx, -ENODEV,
				  "%s: the VM handle has no platform (sevmig_vm_opts.platform)",
				  __func__);
	/* A mirror issues no migration commands of its own. */
	ret = sevmig_vm_check_fw(vm, KVM_SEV_RECEIVE_START, __func__);
	if (ret)
		return ret;
	if (__atomic_exchange_n(&vm->session_busy, 1, __ATOMIC_ACQ_REL))
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: another migration session is open on this VM",
				  __func__);
	ret = sevmig_vm_transition(vm, SEVMIG_VM_LIVE, SEVMIG_VM_INCOMING,
				   "a receive session begins");
	if (ret) {
		__atomic_store_n(&vm->session_busy, 0, __ATOMIC_RELEASE);
		return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r || mig_stats_init(&r->stats)) {
		free(r);
		ret = -ENOMEM;
		goto fail_vm;
	}
	pthread_mutex_init(&r->bar_lock, NULL);
	pthread_cond_init(&r->bar_cond, NULL);
	r->vm = vm;
	r->ctx = vm->ctx;
	r->p = vm->platform;
	r->nr_channels = o.nr_channels;
	r->record = o.record;
	r->record_opaque = o.record_opaque;
	r->progress = o.progress;
	r->progress_opaque = o.progress_opaque;
	r->max_vmm = o.max_vmm_record ? o.max_vmm_record : MIG_VMM_RECORD_DEFAULT;
	r->amd = malloc(o.amd_chain_len);
	ret = r->amd ? 0 : -ENOMEM;
	if (r->amd) {
		memcpy(r->amd, o.amd_chain, o.amd_chain_len);
		r->amd_len = o.amd_chain_len;
	}
	for (uint32_t i = 0; !ret && i < o.nr_channels; i++) {
		r->ch[i] = o.channels[i];
		ret = mig_reader_init(&r->r[i], r->ctx, r->ch[i], i,
				      i ? mig_rec_max_payload(MIG_REC_PAGE_PRIVATE, 0) :
					  ch0_buf_cap(r->max_vmm),
				      r->max_vmm);
		r->reader_ok[i] = !ret;
	}
	if (!ret && mig_chan_can_write(r->ch[0])) {
		ret = mig_writer_init(&r->w0, r->ch[0], 0, 16384);
		r->w0_ok = !ret;
	}
	if (ret) {
		recv_destroy(r);
		goto fail_vm;
	}
	*ret_receive = r;
	return 0;
fail_vm:
	sevmig_vm_transition(vm, SEVMIG_VM_INCOMING, SEVMIG_VM_LIVE,
			     "the receive session could not be created");
	__atomic_store_n(&vm->session_busy, 0, __ATOMIC_RELEASE);
	return sevmig_err(vm->ctx, ret, "%s: out of memory", __func__);
}

/* ---- failing ---- */

static void bar_break(struct sevmig_receive *r, int err)
{
	pthread_mutex_lock(&r->bar_lock);
	if (!r->bar_error)
		r->bar_error = err ? err : -ECANCELED;
	pthread_cond_broadcast(&r->bar_cond);
	pthread_mutex_unlock(&r->bar_lock);
}

static int recv_fail(struct sevmig_receive *r, int err, uint32_t fw,
		     const char *why)
{
	mig_stats_fail(&r->stats, err, fw);
	if (r->w0_ok) {
		if (!r->w0_header) {
			struct mig_chan_hdr h = { .version = MIG_VERSION,
						  .nr_channels = r->nr_channels,
						  .direction = MIG_DIR_TO_SRC };

			r->w0_header = !mig_writer_header(&r->w0, &h);
		}
		if (r->w0_header)
			mig_abort_write(&r->w0, r->session_id, err, why);
	}
	sevmig_vm_transition(r->vm, SEVMIG_VM_INCOMING, SEVMIG_VM_DEAD,
			     "the incoming migration failed: discard this VM");
	r->state = R_FAILED;
	phase(r, SEVMIG_MIG_FAILED);
	return err;
}

/* ---- START ---- */

static int take_layout(struct sevmig_receive *r, const struct mig_start *st)
{
	struct mig_layout dst;
	int ret = mig_layout_from_vm(r->vm, &dst);

	if (ret)
		return sevmig_err(r->ctx, ret,
				  "START: out of memory for this VM's RAM map");
	if (mig_ram_from_start(&r->ram, st)) {
		mig_layout_free(&dst);
		return sevmig_err(r->ctx, -ENOMEM,
				  "START: out of memory for %u RAM regions",
				  st->nr_regions);
	}
	for (uint32_t i = 0; i < r->ram.l.n; i++) {
		struct mig_region *rg = &r->ram.l.r[i];
		uint64_t gfn = rg->gfn, n = rg->npages;
		const struct mig_region *d = mig_layout_find(&dst, gfn);

		if (!d || n > d->npages - (gfn - d->gfn)) {
			mig_layout_free(&dst);
			return sevmig_err(r->ctx, -EPERM,
					  "START: the source's RAM region [0x%llx, +0x%llx) is not inside this VM's registered RAM",
					  (unsigned long long)(gfn << GUEST_PAGE_SHIFT),
					  (unsigned long long)(n << GUEST_PAGE_SHIFT));
		}
		rg->hva = d->hva + ((gfn - d->gfn) << GUEST_PAGE_SHIFT);
	}
	r->pages = r->ram.l.pages;
	mig_layout_free(&dst);
	r->seen = calloc(mig_bits_words(r->pages) + 1, 8);
	if (!r->seen)
		return sevmig_err(r->ctx, -ENOMEM,
				  "START: out of memory for the bitmap of %llu pages",
				  (unsigned long long)r->pages);
	return 0;
}

static int handle_start(struct sevmig_receive *r, const struct mig_rec *rec,
			uint32_t *ret_fw)
{
	const uint64_t plumbing = SEVMIG_REASON_EXITS_NOT_ENABLED |
				  SEVMIG_REASON_MSR_FILTER_MISSING |
				  SEVMIG_REASON_CPUID_NOT_OFFERED |
				  SEVMIG_REASON_HOST_POLICY_DENY |
				  SEVMIG_REASON_TRACKING_LOST;
	struct sevmig_receive_start_args ra = { .size = sizeof(ra) };
	struct mig_start st;
	uint64_t reasons = 0, t0;
	uint32_t fw = 0;
	int ret;

	ret = mig_start_parse(r->ctx, rec->payload, rec->len, &st);
	if (ret)
		return ret;
	if (st.nr_channels != r->nr_channels)
		return sevmig_err(r->ctx, -EPROTO,
				  "START: the source uses %u channels, this session %u",
				  st.nr_channels, r->nr_channels);
	if (st.commit == SEVMIG_COMMIT_ACK && !r->w0_ok)
		return sevmig_err(r->ctx, -EPROTO,
				  "START: the source waits for an ACK, but channel 0 cannot write");
	if (st.phys_bits != r->vm->phys_bits)
		return sevmig_err(r->ctx, -EPERM,
				  "START: the guest has %u physical address bits, this VM %u",
				  st.phys_bits, r->vm->phys_bits);
	ret = sevmig_vm_readiness(r->vm, &reasons, 0);
	if (!ret && (reasons & plumbing)) {
		for (unsigned int b = 0; b < 64; b++)
			if (reasons & plumbing & (1ull << b))
				sevmig_log(r->ctx, SEVMIG_LOG_ERR, "destination: %s",
					   sevmig_reason_string(1ull << b));
		return sevmig_err(r->ctx, -EPERM,
				  "START: this VM's negotiation plumbing is not in place; the guest would find no migration features here");
	}
	ret = take_layout(r, &st);
	if (ret)
		return ret;
	r->policy = st.policy;
	r->commit_mode = st.commit;

	t0 = mig_now_ns();
	ret = sevmig_psp_init(r->p, r->vm->vm_fd, 0, &fw);
	mig_stats_psp(&r->stats, mig_now_ns() - t0, fw);
	if (ret) {
		*ret_fw = fw;
		return ret;
	}
	ra.policy = st.policy;
	ra.pdh = st.pdh;
	ra.pdh_len = SEVMIG_SEV_CERT_LEN;
	ra.session = st.session;
	ra.session_len = SEVMIG_SESSION_LEN;
	t0 = mig_now_ns();
	ret = sevmig_psp_receive_start(r->p, r->vm->vm_fd, &ra, NULL, &fw);
	mig_stats_psp(&r->stats, mig_now_ns() - t0, fw);
	if (ret) {
		*ret_fw = fw;
		return ret;
	}
	r->started = true;
	pthread_rwlock_wrlock(&r->vm->lock);
	/* Counted in the platform until the handle is freed: one count. */
	if (r->vm->received)
		sevmig_platform_vm_released(r->vm->received);
	r->vm->received = sevmig_platform_vm_received(r->p);
	r->vm->guest_policy = st.policy;
	r->vm->guest_policy_known = true;
	pthread_rwlock_unlock(&r->vm->lock);
	return 0;
}

/* ---- pages ---- */

static int apply_page(struct rworker *wk, const struct mig_rec *rec)
{
	struct sevmig_receive *r = wk->r;
	bool private = rec->type == MIG_REC_PAGE_PRIVATE;
	const struct mig_region *rg;
	struct mig_page pg;
	uint64_t gfn, bit;
	uint32_t len;
	unsigned char *hva;
	int ret;

	ret = mig_page_parse(r->ctx, r->r[wk->index].who, rec, &pg);
	if (ret)
		return ret;
	gfn = pg.gfn;
	len = pg.len;
	rg = mig_layout_find(&r->ram.l, gfn);
	if (!rg)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: %s frame 0x%llx is outside the RAM regions of START",
				  r->r[wk->index].who, mig_rec_name(rec->type),
				  (unsigned long long)gfn);
	bit = rg->first_bit + (gfn - rg->gfn);
	if (mig_bits_test_and_set(r->seen, bit))
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: frame 0x%llx arrived twice in pass %u (replayed or duplicated)",
				  r->r[wk->index].who, (unsigned long long)gfn,
				  r->r[wk->index].pass);
	hva = rg->hva + ((gfn - rg->gfn) << GUEST_PAGE_SHIFT);
	if (private) {
		struct sevmig_page_xfer x = { .size = sizeof(x) };
		uint64_t t0 = mig_now_ns();
		uint32_t fw = 0;

		x.guest = hva;
		x.guest_len = len;
		x.hdr = (void *)(uintptr_t)pg.hdr;
		x.hdr_len = SEVMIG_PACKET_HDR_LEN;
		x.trans = (void *)(uintptr_t)pg.data;
		x.trans_len = len;
		ret = sevmig_psp_receive_update_data(r->p, r->vm->vm_fd, &x, &fw);
		mig_stats_psp(&r->stats, mig_now_ns() - t0, fw);
		if (ret) {
			wk->fw = fw;
			return sevmig_err(r->ctx, ret,
					  "%s: frame 0x%llx: RECEIVE_UPDATE_DATA refused the packet (tampered, or not from this session)",
					  r->r[wk->index].who,
					  (unsigned long long)gfn);
		}
		__atomic_add_fetch(&r->stats.pages_private, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->stats.bytes_private,
				   MIG_REC_HDR_LEN + rec->len, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->private_records, 1, __ATOMIC_RELAXED);
	} else {
		memcpy(hva, pg.data, MIG_PAGE_SIZE);
		__atomic_add_fetch(&r->stats.pages_shared, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->stats.bytes_shared,
				   MIG_REC_HDR_LEN + rec->len, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->shared_records, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&r->stats.records, 1, __ATOMIC_RELAXED);
	wk->pass_records++;
	return 0;
}

/*
 * PASS_END: check it, then wait until every channel finished this pass.
 * The last channel to arrive checks pass 1's coverage and clears the
 * per-pass duplicate map. Returns 1 when this was the channel's last pass.
 */
static int pass_end(struct rworker *wk, const struct mig_rec *rec)
{
	struct sevmig_receive *r = wk->r;
	struct mig_reader *rd = &r->r[wk->index];
	uint32_t pass = rec->pass, last = 0;
	uint64_t records = 0;
	int ret;

	ret = mig_pass_end_parse(r->ctx, rd->who, rec, &last, &records);
	if (ret)
		return ret;
	if (records != wk->pass_records)
		return sevmig_err(r->ctx, -EBADMSG,
				  "%s: PASS_END says pass %u had %llu page records; %llu arrived",
				  rd->who, pass, (unsigned long long)records,
				  (unsigned long long)wk->pass_records);
	pthread_mutex_lock(&r->bar_lock);
	if (r->bar_error) {
		ret = r->bar_error;
		goto out;
	}
	r->bar_arrived++;
	r->bar_last += last;
	if (r->bar_arrived == r->nr_channels) {
		uint64_t got = mig_bits_count(r->seen, mig_bits_words(r->pages));

		if (r->bar_last && r->bar_last != r->nr_channels)
			ret = sevmig_err(r->ctx, -EBADMSG,
					 "pass %u: only %u of %u channels said it was the last",
					 pass, r->bar_last, r->nr_channels);
		else if (pass == 1 && got != r->pages)
			ret = sevmig_err(r->ctx, -EBADMSG,
					 "pass 1 delivered %llu of the %llu RAM pages of START",
					 (unsigned long long)got,
					 (unsigned long long)r->pages);
		if (ret) {
			r->bar_error = ret;
		} else {
			memset(r->seen, 0, mig_bits_words(r->pages) * 8);
			r->bar_done = r->bar_last != 0;
			r->bar_pass = pass;
			r->bar_arrived = 0;
			r->bar_last = 0;
			pthread_mutex_lock(&r->stats.lock);
			r->stats.passes = pass;
			pthread_mutex_unlock(&r->stats.lock);
		}
		pthread_cond_broadcast(&r->bar_cond);
	} else {
		while (r->bar_pass < pass && !r->bar_error)
			pthread_cond_wait(&r->bar_cond, &r->bar_lock);
		ret = r->bar_pass < pass ? r->bar_error : 0;
	}
out:
	pthread_mutex_unlock(&r->bar_lock);
	if (ret)
		return ret;
	rd->pass++;
	wk->pass_records = 0;
	return last ? 1 : 0;
}

/* Channels 1..n-1: header, then page records and pass ends. */
static void *worker_run(void *arg)
{
	struct rworker *wk = arg;
	struct sevmig_receive *r = wk->r;
	struct mig_reader *rd = &r->r[wk->index];
	struct mig_chan_hdr h;
	struct mig_rec rec;
	int ret;

	ret = mig_reader_header(rd, &h);
	if (!ret && (h.direction != MIG_DIR_TO_DST ||
		     h.nr_channels != r->nr_channels ||
		     memcmp(h.session_id, r->session_id, MIG_SESSION_ID_LEN) != 0))
		ret = sevmig_err(r->ctx, -EPROTO,
				 "%s: the header belongs to another session or direction",
				 rd->who);
	while (!ret) {
		ret = mig_reader_next(rd, &rec);
		if (ret == -ENODATA)
			ret = sevmig_err(r->ctx, -EPIPE,
					 "%s: the stream ended before its last pass",
					 rd->who);
		if (ret)
			break;
		if (rec.type == MIG_REC_PAGE_PRIVATE ||
		    rec.type == MIG_REC_PAGE_SHARED) {
			ret = apply_page(wk, &rec);
		} else if (rec.type == MIG_REC_PASS_END) {
			ret = pass_end(wk, &rec);
			if (ret == 1) {
				ret = 0;
				break;
			}
		} else {
			ret = sevmig_err(r->ctx, -EBADMSG,
					 "%s: a %s record on a page channel",
					 rd->who, mig_rec_name(rec.type));
		}
	}
	if (ret)
		bar_break(r, ret);
	wk->ret = ret;
	return NULL;
}

/* ---- channel 0 ---- */

static int page_state(struct sevmig_receive *r, const struct mig_rec *rec)
{
	struct sevmig_tracker *t = sevmig_vm_tracker(r->vm);
	const unsigned char *pl = rec->payload;
	uint64_t start, end;
	size_t used = 0;
	uint32_t kind = 0, k = 0;
	int ret;

	if (!r->bar_done)
		return sevmig_err(r->ctx, -EPROTO,
				  "PAGE_STATE before the last pass ended");
	if (rec->len < TRACKER_REC_HDR)
		return sevmig_err(r->ctx, -EBADMSG, "PAGE_STATE: %u bytes", rec->len);
	start = mig_get64(pl + 16);
	end = mig_get64(pl + 24);
	ret = mig_ram_state_window(r->ctx, "channel 0", &r->ram, start, end, &k);
	if (ret)
		return ret;
	ret = sevmig_tracker_decode(t, pl, rec->len, &used, &kind, 0);
	if (ret == -EINVAL || ret == -EBADMSG || (!ret && used != rec->len) ||
	    (!ret && kind != SEVMIG_TRACKER_RECORD_FULL))
		return sevmig_err(r->ctx, -EBADMSG,
				  "PAGE_STATE: not one full page-state record (%s)",
				  ret ? sevmig_strerror(ret) : "trailing bytes or a delta");
	if (ret)
		return ret;
	r->ram.state_next[k] = end;
	r->state_records++;
	return 0;
}

static int vmm_record(struct sevmig_receive *r, const struct mig_rec *rec)
{
	uint32_t type = 0;
	int ret;

	ret = mig_vmm_parse(r->ctx, rec, &type);
	if (ret)
		return ret;
	if (!r->record)
		return sevmig_err(r->ctx, -EPROTO,
				  "the source sent a VMM record (type 0x%x) and this session has no record callback",
				  type);
	ret = r->record(r->record_opaque, type, rec->payload + MIG_VMM_FIXED,
			rec->len - MIG_VMM_FIXED);
	if (ret)
		return sevmig_err(r->ctx, ret < 0 ? ret : -EPROTO,
				  "the VMM refused its record of type 0x%x (%s)",
				  type, sevmig_strerror(ret));
	r->vmm_records++;
	return 0;
}

static int check_end(struct sevmig_receive *r, const struct mig_rec *rec)
{
	struct mig_end *e = &r->end;
	uint64_t shared = 0;
	int ret;

	ret = mig_end_parse(r->ctx, rec->payload, rec->len, e);
	if (ret)
		return ret;
	if (!r->bar_done)
		return sevmig_err(r->ctx, -EPROTO, "END before the last pass ended");
	if (e->nr_channels != r->nr_channels || e->passes != r->bar_pass)
		return sevmig_err(r->ctx, -EBADMSG,
				  "END: %u channels and %u passes; %u and %u arrived",
				  e->nr_channels, e->passes, r->nr_channels,
				  r->bar_pass);
	for (uint32_t i = 0; i < r->nr_channels; i++) {
		/* Channel 0's END counts itself but is not in its digest. */
		uint64_t recs = r->r[i].records, dig = r->r[i].digest;

		if (e->ch_records[i] != recs || e->ch_digest[i] != dig)
			return sevmig_err(r->ctx, -EBADMSG,
					  "END: channel %u sent %llu records (digest 0x%llx); %llu arrived (digest 0x%llx)",
					  i, (unsigned long long)e->ch_records[i],
					  (unsigned long long)e->ch_digest[i],
					  (unsigned long long)recs,
					  (unsigned long long)dig);
	}
	if (e->private_records != r->private_records ||
	    e->shared_records != r->shared_records ||
	    e->state_records != r->state_records ||
	    e->vmm_records != r->vmm_records)
		return sevmig_err(r->ctx, -EBADMSG,
				  "END: totals (private %llu, shared %llu, state %llu, VMM %llu) differ from what arrived (%llu, %llu, %llu, %llu)",
				  (unsigned long long)e->private_records,
				  (unsigned long long)e->shared_records,
				  (unsigned long long)e->state_records,
				  (unsigned long long)e->vmm_records,
				  (unsigned long long)r->private_records,
				  (unsigned long long)r->shared_records,
				  (unsigned long long)r->state_records,
				  (unsigned long long)r->vmm_records);
	ret = mig_ram_shared_frames(r->ctx, "channel 0", &r->ram,
				    sevmig_vm_tracker(r->vm), &shared);
	if (ret)
		return ret;
	if (shared != e->shared_pages)
		return sevmig_err(r->ctx, -EBADMSG,
				  "END: the source has %llu shared RAM frames, the map that arrived %llu",
				  (unsigned long long)e->shared_pages,
				  (unsigned long long)shared);
	if (e->migration_control & ~(uint64_t)SEVMIG_MIGRATION_CONTROL_READY)
		return sevmig_err(r->ctx, -EBADMSG,
				  "END: MSR_KVM_MIGRATION_CONTROL 0x%llx sets reserved bits",
				  (unsigned long long)e->migration_control);
	r->end_crc = rec->crc;
	return 0;
}

/* Channel 0 until END: pages, pass ends, VMM records, the state map. */
static int channel0(struct sevmig_receive *r, struct rworker *wk)
{
	struct mig_reader *rd = &r->r[0];
	struct mig_rec rec;
	int ret;

	for (;;) {
		uint64_t before = rd->digest;

		ret = mig_reader_next(rd, &rec);
		if (ret == -ENODATA)
			ret = sevmig_err(r->ctx, -EPIPE,
					 "channel 0: the stream ended before END");
		if (ret)
			return ret;
		switch (rec.type) {
		case MIG_REC_PAGE_PRIVATE:
		case MIG_REC_PAGE_SHARED:
			if (r->bar_done)
				return sevmig_err(r->ctx, -EPROTO,
						  "channel 0: a page after the last pass");
			ret = apply_page(wk, &rec);
			break;
		case MIG_REC_PASS_END:
			if (r->bar_done)
				return sevmig_err(r->ctx, -EPROTO,
						  "channel 0: PASS_END after the last pass");
			ret = pass_end(wk, &rec);
			if (ret > 0)
				ret = 0;
			report(r);
			break;
		case MIG_REC_VMM:
			ret = vmm_record(r, &rec);
			break;
		case MIG_REC_PAGE_STATE:
			ret = page_state(r, &rec);
			break;
		case MIG_REC_END:
			/* END is counted, but not in the digest it carries. */
			rd->digest = before;
			ret = check_end(r, &rec);
			return ret;
		case MIG_REC_ABORT:
			return mig_abort_report(r->ctx, "source", rec.payload,
						rec.len);
		default:
			return sevmig_err(r->ctx, -EPROTO,
					  "channel 0: %s out of turn",
					  mig_rec_name(rec.type));
		}
		if (ret)
			return ret;
	}
}

static int write_ack(struct sevmig_receive *r)
{
	unsigned char ack[MIG_ACK_LEN];
	struct sevmig_iovec iov = { ack, sizeof(ack) };
	int ret;

	memcpy(ack, r->session_id, MIG_SESSION_ID_LEN);
	mig_put32(ack + 16, r->end_crc);
	mig_put32(ack + 20, 0);
	ret = mig_writer_record(&r->w0, MIG_REC_ACK, &iov, 1, NULL);
	return ret ? ret : mig_writer_flush(&r->w0);
}

/*
 * The source's verdict from @rd: 0 with *ret_abort set, or a negative errno
 * when no verdict could be read (the connection broke, a local error, or
 * what came is not a well-formed COMMIT or ABORT of this session). After
 * the ACK only a verdict settles anything: the source may have committed
 * on that ACK, so every other outcome leaves the session in doubt.
 */
static int read_verdict(struct sevmig_receive *r, struct mig_reader *rd,
			bool *ret_abort)
{
	struct mig_rec rec;
	int ret = mig_reader_next(rd, &rec);

	if (ret == -ENODATA)
		ret = sevmig_err(r->ctx, -EPIPE,
				 "%s: the stream ended before the source's verdict",
				 rd->who);
	if (ret)
		return ret;
	if ((rec.type == MIG_REC_COMMIT || rec.type == MIG_REC_ABORT) &&
	    rec.len >= MIG_SESSION_ID_LEN &&
	    !memcmp(rec.payload, r->session_id, MIG_SESSION_ID_LEN)) {
		if (rec.type == MIG_REC_COMMIT && rec.len == MIG_COMMIT_LEN) {
			*ret_abort = false;
			return 0;
		}
		if (rec.type == MIG_REC_ABORT) {
			/* -EPROTO: a well-formed ABORT, its words logged. */
			ret = mig_abort_report(r->ctx, "source", rec.payload,
					       rec.len);
			*ret_abort = ret == -EPROTO;
			return *ret_abort ? 0 : ret;
		}
	}
	return sevmig_err(r->ctx, -EBADMSG,
			  "%s: %s (%u bytes) where this session's COMMIT or ABORT belongs",
			  rd->who, mig_rec_name(rec.type), rec.len);
}

/* No verdict after the ACK: keep the VM INCOMING until one arrives. */
static int in_doubt(struct sevmig_receive *r, const char *fn, int why)
{
	r->state = R_IN_DOUBT;
	phase(r, SEVMIG_MIG_IN_DOUBT);
	return sevmig_err(r->ctx, -ENOTCONN,
			  "%s: no verdict from the source after the acknowledgement (%s): it may or may not have committed; keep this VM and ask the source (sevmig_receive_resolve())",
			  fn, sevmig_strerror(why));
}

static int finish(struct sevmig_receive *r, uint32_t *ret_fw_error)
{
	struct sevmig_guest_status gs = { .size = sizeof(gs) };
	uint64_t t0 = mig_now_ns();
	uint32_t fw = 0;
	int ret;

	ret = sevmig_psp_receive_finish(r->p, r->vm->vm_fd, &fw);
	mig_stats_psp(&r->stats, mig_now_ns() - t0, fw);
	/*
	 * The source committed: the guest exists only here now, so never
	 * discard it. A RECEIVE_FINISH whose answer was lost after it ran
	 * left the guest RUNNING; one that did not run may be retried.
	 */
	if (ret && !sevmig_psp_guest_status(r->p, r->vm->vm_fd, &gs, NULL) &&
	    gs.state == SEVMIG_GUEST_RUNNING) {
		sevmig_log(r->ctx, SEVMIG_LOG_WARNING,
			   "RECEIVE_FINISH reported %s, but the guest is RUNNING: it finished",
			   sevmig_strerror(ret));
		ret = 0;
	}
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		mig_stats_fail(&r->stats, ret, fw);
		r->state = R_FINISH_PENDING;
		phase(r, SEVMIG_MIG_IN_DOUBT);
		return sevmig_err(r->ctx, ret,
				  "RECEIVE_FINISH failed after the source committed (%s): the guest exists only here; keep this VM and retry with sevmig_receive_resolve()",
				  fw ? sevmig_fw_strerror(fw) : sevmig_strerror(ret));
	}
	__atomic_store_n(&r->vm->migration_control, r->end.migration_control,
			 __ATOMIC_RELEASE);
	sevmig_vm_transition(r->vm, SEVMIG_VM_INCOMING, SEVMIG_VM_LIVE,
			     "RECEIVE_FINISH: the guest may run here");
	r->state = R_COMMITTED;
	phase(r, SEVMIG_MIG_COMMITTED);
	return 0;
}

SEVMIG_EXPORT int sevmig_receive_run(struct sevmig_receive *r,
				     uint32_t *ret_fw_error)
{
	struct rworker wk[MIG_MAX_CHANNELS];
	pthread_t th[MIG_MAX_CHANNELS];
	bool started[MIG_MAX_CHANNELS] = { false };
	struct mig_chan_hdr h;
	struct mig_rec rec;
	uint32_t fw = 0;
	bool abort = false;
	int ret;

	if (!r)
		return -EINVAL;
	if (r->state != R_NEW)
		return sevmig_err(r->ctx, -EALREADY, "%s: the session ran already",
				  __func__);
	r->state = R_RUNNING;
	phase(r, SEVMIG_MIG_HANDSHAKE);

	/* HELLO, unless the stream is a file with nothing to answer. */
	if (r->w0_ok) {
		unsigned char *hello;
		size_t len = 0;

		mig_hello_build(r->p, r->amd, r->amd_len, NULL, 0, &len, NULL);
		hello = malloc(len);
		if (!hello)
			return recv_fail(r, sevmig_err(r->ctx, -ENOMEM,
						       "%s: out of memory for the HELLO",
						       __func__),
					 0, "out of memory");
		ret = mig_hello_build(r->p, r->amd, r->amd_len, hello, len, &len,
				      &fw);
		if (!ret) {
			struct mig_chan_hdr oh = { .version = MIG_VERSION,
						   .nr_channels = r->nr_channels,
						   .direction = MIG_DIR_TO_SRC };
			struct sevmig_iovec iov = { hello, len };

			ret = mig_writer_header(&r->w0, &oh);
			r->w0_header = !ret;
			if (!ret)
				ret = mig_writer_record(&r->w0, MIG_REC_HELLO, &iov,
							1, NULL);
			if (!ret)
				ret = mig_writer_flush(&r->w0);
		}
		free(hello);
		if (ret) {
			sevmig_put_fw(ret_fw_error, fw);
			return recv_fail(r, ret, fw, "the destination could not say HELLO");
		}
	}

	/* The source's header and START. */
	ret = mig_reader_header(&r->r[0], &h);
	if (!ret && (h.direction != MIG_DIR_TO_DST ||
		     h.nr_channels != r->nr_channels))
		ret = sevmig_err(r->ctx, -EPROTO,
				 "channel 0: the source's header says direction %u, %u channels (this session: %u)",
				 h.direction, h.nr_channels, r->nr_channels);
	if (ret)
		return recv_fail(r, ret, 0, "bad channel header");
	memcpy(r->session_id, h.session_id, MIG_SESSION_ID_LEN);
	ret = mig_reader_next(&r->r[0], &rec);
	if (ret == -ENODATA)
		ret = sevmig_err(r->ctx, -EPIPE, "channel 0: the stream ended before START");
	if (!ret && rec.type == MIG_REC_ABORT)
		ret = mig_abort_report(r->ctx, "source", rec.payload, rec.len);
	else if (!ret && rec.type != MIG_REC_START)
		ret = sevmig_err(r->ctx, -EPROTO, "channel 0: %s where START belongs",
				 mig_rec_name(rec.type));
	if (!ret)
		ret = handle_start(r, &rec, &fw);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return recv_fail(r, ret, fw, "the destination refused START");
	}
	phase(r, SEVMIG_MIG_PRECOPY);

	/* Every channel at once; this thread reads channel 0. */
	/* At least one channel: channel 0's worker is always set up. */
	for (uint32_t i = 0; i == 0 || i < r->nr_channels; i++)
		wk[i] = (struct rworker){ .r = r, .index = i };
	for (uint32_t i = 1; !ret && i < r->nr_channels; i++) {
		if (pthread_create(&th[i], NULL, worker_run, &wk[i]))
			ret = sevmig_err(r->ctx, -EAGAIN,
					 "cannot start the reader of channel %u", i);
		else
			started[i] = true;
	}
	if (!ret)
		ret = channel0(r, &wk[0]);
	if (ret) {
		/* Unblock readers stuck on their channels, then join them. */
		bar_break(r, ret);
		for (uint32_t i = 1; i < r->nr_channels; i++)
			if (started[i])
				mig_chan_cancel(r->ch[i]);
	}
	for (uint32_t i = 1; i < r->nr_channels; i++) {
		if (!started[i])
			continue;
		pthread_join(th[i], NULL);
		if (!ret && wk[i].ret)
			ret = wk[i].ret;
		if (wk[i].fw)
			fw = wk[i].fw;
	}
	if (wk[0].fw)
		fw = wk[0].fw;
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return recv_fail(r, ret, fw, "the destination refused the stream");
	}

	/* Everything checked: acknowledge, then wait for the verdict. */
	phase(r, SEVMIG_MIG_AWAIT_COMMIT);
	if (r->commit_mode == SEVMIG_COMMIT_ACK) {
		/*
		 * Once the ACK was tried, the source may hold it (a write can
		 * fail after its bytes left): never ABORT after that, and
		 * never send the ACK later either. Only the verdict settles it.
		 */
		ret = write_ack(r);
		if (ret) {
			r->w0.len = 0;
			return in_doubt(r, __func__, ret);
		}
	}
	ret = read_verdict(r, &r->r[0], &abort);
	if (ret)
		return in_doubt(r, __func__, ret);
	if (abort)
		return recv_fail(r, -EPROTO, 0, "the source aborted after the acknowledgement");
	return finish(r, ret_fw_error);
}

SEVMIG_EXPORT int sevmig_receive_resolve(struct sevmig_receive *r,
					 struct sevmig_channel *channel,
					 uint32_t *ret_fw_error)
{
	struct mig_chan_hdr h;
	struct mig_reader rd;
	bool abort = false;
	int ret;

	if (!r)
		return -EINVAL;
	if (r->state == R_FINISH_PENDING)
		return finish(r, ret_fw_error);	/* the verdict was COMMIT */
	if (!channel)
		return sevmig_arg_null(r->ctx, __func__, "channel");
	if (r->state != R_IN_DOUBT)
		return sevmig_err(r->ctx, -EPROTO,
				  "%s: the session is not in doubt", __func__);
	ret = mig_reader_init(&rd, r->ctx, channel, 0,
			      mig_rec_max_payload(MIG_REC_ABORT, 0), 0);
	if (ret)
		return sevmig_err(r->ctx, ret, "%s: out of memory", __func__);
	rd.who = "the source's verdict";
	ret = mig_reader_header(&rd, &h);
	if (!ret && (h.direction != MIG_DIR_TO_DST ||
		     memcmp(h.session_id, r->session_id, MIG_SESSION_ID_LEN) != 0))
		ret = sevmig_err(r->ctx, -EPROTO,
				 "%s: the verdict is for another session", __func__);
	if (!ret)
		ret = read_verdict(r, &rd, &abort);
	mig_reader_fini(&rd);
	if (ret)
		return ret;	/* still in doubt: try again */
	if (abort)
		return recv_fail(r, -EPROTO, 0, "the source's verdict is ABORT");
	return finish(r, ret_fw_error);
}

SEVMIG_EXPORT int sevmig_receive_stats(struct sevmig_receive *r,
				       struct sevmig_mig_stats *stats)
{
	if (!r)
		return -EINVAL;
	return mig_stats_read(&r->stats, r->ctx, __func__, bytes_total(r), stats);
}

SEVMIG_EXPORT void sevmig_receive_free(struct sevmig_receive *r)
{
	if (!r)
		return;
	if (r->state != R_COMMITTED && r->state != R_FAILED)
		sevmig_vm_transition(r->vm, SEVMIG_VM_INCOMING, SEVMIG_VM_DEAD,
				     "the incoming migration did not commit: discard this VM");
	__atomic_store_n(&r->vm->session_busy, 0, __ATOMIC_RELEASE);
	recv_destroy(r);
}

SEVMIG_EXPORT int sevmig_hello_export(struct sevmig_platform *p,
				      const void *amd_chain, size_t amd_chain_len,
				      void *buf, size_t size, size_t *ret_len,
				      uint32_t *ret_fw_error)
{
	struct mig_chan_hdr h = { .version = MIG_VERSION, .nr_channels = 1,
				  .direction = MIG_DIR_TO_SRC };
	unsigned char *out = buf;
	size_t plen = 0, need;
	uint32_t crc;
	int ret;

	if (!p)
		return -EINVAL;
	if (!ret_len)
		return sevmig_arg_null(p->ctx, __func__, "ret_len");
	if (!amd_chain || (amd_chain_len != AMD_CHAIN_2K_2K &&
			   amd_chain_len != AMD_CHAIN_4K_2K &&
			   amd_chain_len != AMD_CHAIN_2K_4K &&
			   amd_chain_len != AMD_CHAIN_4K_4K))
		return sevmig_arg_invalid(p->ctx, __func__,
					  "an AMD chain of %zu bytes (1664, 2176, 2688 or 3200)",
					  amd_chain ? amd_chain_len : 0);
	mig_hello_build(p, amd_chain, amd_chain_len, NULL, 0, &plen, NULL);
	need = MIG_CHAN_HDR_LEN + MIG_REC_HDR_LEN + plen;
	if (!buf) {
		*ret_len = need;
		return 0;
	}
	if (size < need) {
		*ret_len = need;
		return sevmig_err(p->ctx, -ENOSPC,
				  "%s: the HELLO needs %zu bytes; the buffer holds %zu",
				  __func__, need, size);
	}
	ret = mig_hello_build(p, amd_chain, amd_chain_len,
			      out + MIG_CHAN_HDR_LEN + MIG_REC_HDR_LEN, plen,
			      &plen, ret_fw_error);
	if (ret)
		return ret;
	mig_chan_hdr_encode(&h, out);
	memset(out + MIG_CHAN_HDR_LEN, 0, MIG_REC_HDR_LEN);
	mig_put16(out + MIG_CHAN_HDR_LEN, MIG_REC_HELLO);
	mig_put32(out + MIG_CHAN_HDR_LEN + 4, (uint32_t)plen);
	mig_put32(out + MIG_CHAN_HDR_LEN + 20, 1);
	mig_rec_hdr_seal(out + MIG_CHAN_HDR_LEN);
	crc = sevmig_crc32c(0, out + MIG_CHAN_HDR_LEN, 28);
	crc = sevmig_crc32c(crc, out + MIG_CHAN_HDR_LEN + MIG_REC_HDR_LEN, plen);
	mig_put32(out + MIG_CHAN_HDR_LEN + 28, crc);
	*ret_len = need;
	return 0;
}
