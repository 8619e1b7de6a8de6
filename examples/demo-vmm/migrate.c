// SPDX-License-Identifier: MIT
/*
 * The migration itself, driven through libsevmig's sessions. The library
 * owns everything SEV: the handshake and certificate checks, SEND_START,
 * the pages (private ones through the PSP, shared ones as plaintext), the
 * page-state map, MSR_KVM_MIGRATION_CONTROL, the two-phase commit. The VMM
 * owns the transport (a TCP socket), when to stop pre-copy, stopping its
 * vCPUs, and its own state, which it hands the session as records.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef DEMO_HAVE_SIM
#include <sevmig/sim.h>
#endif

#include "vmm.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void msg(struct demo_mig_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void msg(struct demo_mig_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

/* Why a VM or a target was refused: every reason bit in words. */
static void reasons_text(uint64_t reasons, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned b = 0; b < 64 && o + 4 < len; b++)
		if (reasons & (1ull << b))
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o ? "; " : "",
					      sevmig_reason_string(1ull << b));
}

/*
 * Trust the destination's AMD root. libsevmig accepts a target whose chain
 * ends in a genuine AMD root or in one the operator added; a simulated
 * world's root is neither, so the operator (this demo) adds it. The
 * simulated firmware checks the chain too when the guest policy has the
 * SEV bit, so its world is told as well.
 */
int migrate_trust_ark(struct vmm *v, const char *path)
{
	size_t len = 0;
	void *ark = platform_read_file(path, 16384, &len);
	int r = 0;

	if (!ark) {
		r = -errno;
		vmm_note(v, "error", "%s: %s", path, strerror(errno));
		return r;
	}
	r = sevmig_ctx_add_ark(v->ctx, ark, len, 0);
	if (r == -EEXIST)
		r = 0;		/* trusted already: a genuine root, or before */
	if (r)
		vmm_note(v, "error", "sevmig_ctx_add_ark(%s): %s", path,
			 sevmig_strerror(r));
#ifdef DEMO_HAVE_SIM
	if (!r && v->sim) {
		r = sevmig_sim_trust_ark(v->sim, ark, len, 0);
		if (r == -EEXIST)
			r = 0;
		if (r)
			vmm_note(v, "error", "sevmig_sim_trust_ark(%s): %s",
				 path, sevmig_strerror(r));
	}
#endif
	free(ark);
	return r;
}

/* ============================================================ source */

struct send_ctx {
	struct vmm *v;
	const struct demo_mig_opts *o;
	struct sevmig_send *s;
};

static void send_progress(void *opaque, const struct sevmig_mig_stats *st)
{
	struct send_ctx *sc = opaque;

	if (sc->o->progress)
		sc->o->progress(sc->o->opaque, st, NULL);
}

static int send_record(void *opaque, uint32_t type, const void *buf,
		       size_t len)
{
	return sevmig_send_record(opaque, type, buf, len, 0);
}

/*
 * When to stop pre-copy: the next pass would send about what the guest
 * dirtied during this one (its dirty rate times the pass's length, or more
 * if the library already knows more); stop once that fits the downtime
 * target at the throughput seen so far.
 */
static bool precopy_done(const struct demo_mig_opts *o,
			 const struct sevmig_pass_info *pi,
			 const struct sevmig_mig_stats *st)
{
	double bps, pages, ms;

	if (pi->pass >= o->max_passes)
		return true;
	if (pi->pass < o->min_passes || pi->pass < 2)
		return false;
	if (!st->elapsed_ns || !st->bytes_total)
		return false;
	bps = st->bytes_total * 1e9 / st->elapsed_ns;
	pages = st->dirty_rate * (pi->duration_ns / 1e9);
	if (pi->remaining_pages > pages)
		pages = pi->remaining_pages;
	ms = pages * 4096.0 / bps * 1e3;
	return ms <= o->downtime_ms;
}

int migrate_send(struct vmm *v, const struct demo_mig_opts *o,
		 struct demo_mig_result *res)
{
	struct send_ctx sc = { .v = v, .o = o };
	struct sevmig_channel *ch = NULL;
	struct sevmig_send_opts so = { .size = sizeof(so) };
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	char why[512], rtext[1024];
	uint64_t reasons = 0, t_stop = 0;
	uint32_t fw = 0;
	bool stopped = false;
	int fd, r;

	memset(res, 0, sizeof(*res));
	fd = net_connect(o->target, why, sizeof(why));
	if (fd < 0) {
		msg(res, "%s", why);
		return res->error = fd;
	}
	r = sevmig_channel_from_fds(v->ctx, fd, fd, 0, &ch);
	if (r) {
		msg(res, "sevmig_channel_from_fds: %s", sevmig_strerror(r));
		goto out;
	}
	so.channels = &ch;
	so.nr_channels = 1;
	so.commit = SEVMIG_COMMIT_ACK;
	so.progress = send_progress;
	so.progress_opaque = &sc;

	/* Readiness: the kernel, the host policy, the guest's READY. */
	r = sevmig_send_new(v->vm, &so, &sc.s, &reasons);
	if (r) {
		reasons_text(reasons, rtext, sizeof(rtext));
		msg(res, "this VM may not migrate: %s%s%s", sevmig_strerror(r),
		    reasons ? ": " : "", rtext);
		goto out;
	}
	/* KVM's dirty log for the RAM slot; the library reads it. */
	r = vmm_set_dirty_log(v, true);
	if (!r)
		r = sevmig_send_dirty_log_slot(sc.s, 0, 0, v->lay.ram_size, 0);
	if (r) {
		msg(res, "dirty logging: %s", sevmig_strerror(r));
		goto out;
	}
	/* Handshake: the target's certificates, then SEND_START. */
	r = sevmig_send_begin(sc.s, &reasons, &fw);
	if (r) {
		reasons_text(reasons, rtext, sizeof(rtext));
		msg(res, "handshake: %s%s%s", sevmig_strerror(r),
		    reasons ? ": " : "", rtext);
		goto out;
	}
	/* Pre-copy: the guest keeps running and dirtying. */
	for (;;) {
		struct sevmig_pass_info pi = { .size = sizeof(pi) };

		r = sevmig_send_pass(sc.s, &pi, 0);
		if (r) {
			msg(res, "pass %llu: %s",
			    (unsigned long long)res->passes + 1,
			    sevmig_strerror(r));
			goto out;
		}
		res->passes = pi.pass;
		st.size = sizeof(st);
		if (sevmig_send_stats(sc.s, &st) == 0 && o->progress)
			o->progress(o->opaque, &st, &pi);
		if (precopy_done(o, &pi, &st))
			break;
		if (o->pass_interval_ms && pi.pass < o->min_passes) {
			struct timespec ts = {
				.tv_sec = o->pass_interval_ms / 1000,
				.tv_nsec = (long)(o->pass_interval_ms % 1000) *
					   1000000,
			};

			nanosleep(&ts, NULL);
		}
	}
	/* Stop-and-copy: the vCPUs stop, libsevmig completes their pending
	 * exits, the VMM's state goes as records, then the commit. */
	t_stop = now_ns();
	r = vmm_stop(v);
	stopped = true;		/* the threads are parked, even on error */
	if (r) {
		msg(res, "stopping the vCPUs: %s", sevmig_strerror(r));
		goto out;
	}
	r = state_save(v, send_record, sc.s);
	if (r) {
		msg(res, "sending the VMM state: %s", sevmig_strerror(r));
		goto out;
	}
	r = sevmig_send_commit(sc.s, &fw);
	if (r) {
		msg(res, "commit: %s%s%s", sevmig_strerror(r),
		    fw ? ", firmware status " : "",
		    fw ? sevmig_fw_status_name(fw) : "");
		goto out;
	}
	res->stop_ns = now_ns() - t_stop;
	/* SENT: the guest is the destination's. Show that it cannot run
	 * here again: the library refuses the resume. */
	__atomic_store_n(&v->expect_refusal, true, __ATOMIC_RELAXED);
	res->resume_after = vmm_resume(v);
	__atomic_store_n(&v->expect_refusal, false, __ATOMIC_RELAXED);
out:
	if (sc.s) {
		st.size = sizeof(st);
		if (sevmig_send_stats(sc.s, &st) == 0)
			res->stats = st;
		/* Ends the session; cancels (SEND_CANCEL) if not committed. */
		sevmig_send_free(sc.s);
	}
	if (v->vm && sevmig_vm_state(v->vm, &fw) == 0)
		res->vm_state_after = fw;
	if (r) {
		res->error = r;
		if (v->dirty_log)
			vmm_set_dirty_log(v, false);
		/* Cancelled: the VM is LIVE again and the guest goes on here. */
		if (stopped) {
			int rr = vmm_resume(v);

			if (rr)
				vmm_note(v, "error", "the guest cannot resume "
					 "here after the failed migration: %s",
					 sevmig_strerror(rr));
		}
	}
	sevmig_channel_free(ch);
	close(fd);
	return r;
}

/* ======================================================= destination */

struct recv_ctx {
	struct vmm *v;
	struct demo_incoming_state *st;
	const struct demo_mig_opts *o;
	char why[256];
};

static int recv_record(void *opaque, uint32_t type, const void *buf,
		       size_t len)
{
	struct recv_ctx *rc = opaque;
	int r = state_record(rc->st, rc->v, type, buf, len, rc->why,
			     sizeof(rc->why));

	if (r)
		vmm_note(rc->v, "error", "the source's VMM state is refused: %s",
			 rc->why);
	return r;
}

static void recv_progress(void *opaque, const struct sevmig_mig_stats *st)
{
	struct recv_ctx *rc = opaque;

	if (rc->o && rc->o->progress)
		rc->o->progress(rc->o->opaque, st, NULL);
}

int migrate_receive(struct vmm *v, int listen_fd, int timeout_ms,
		    const struct demo_mig_opts *o, struct demo_mig_result *res,
		    struct demo_incoming_state **ret_state)
{
	struct recv_ctx rc = { .v = v, .o = o };
	struct sevmig_receive_opts ro = { .size = sizeof(ro) };
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	struct sevmig_receive *recv = NULL;
	struct sevmig_channel *ch = NULL;
	void *chain = NULL;
	size_t chain_len = 0;
	uint32_t fw = 0;
	int fd, r;

	memset(res, 0, sizeof(*res));
	*ret_state = NULL;
	fd = net_accept(listen_fd, timeout_ms);
	if (fd < 0) {
		msg(res, "no source connected: %s", strerror(-fd));
		return res->error = fd;
	}
	rc.st = state_incoming_new();
	if (!rc.st) {
		r = -ENOMEM;
		goto out;
	}
	r = platform_amd_chain(v, &chain, &chain_len);
	if (r) {
		msg(res, "this host's AMD chain: %s", sevmig_strerror(r));
		goto out;
	}
	r = sevmig_channel_from_fds(v->ctx, fd, fd, 0, &ch);
	if (r) {
		msg(res, "sevmig_channel_from_fds: %s", sevmig_strerror(r));
		goto out;
	}
	ro.channels = &ch;
	ro.nr_channels = 1;
	ro.amd_chain = chain;
	ro.amd_chain_len = chain_len;
	ro.record = recv_record;
	ro.record_opaque = &rc;
	ro.progress = recv_progress;
	ro.progress_opaque = &rc;
	r = sevmig_receive_new(v->vm, &ro, &recv);
	if (r) {
		msg(res, "sevmig_receive_new: %s", sevmig_strerror(r));
		goto out;
	}
	/* Everything up to the commit; the guest may run only after 0. */
	r = sevmig_receive_run(recv, &fw);
	st.size = sizeof(st);
	if (sevmig_receive_stats(recv, &st) == 0)
		res->stats = st;
	res->passes = st.passes;
	if (r) {
		if (rc.why[0])
			msg(res, "%s", rc.why);
		else
			msg(res, "%s%s%s", sevmig_strerror(r),
			    fw ? ", firmware status " : "",
			    fw ? sevmig_fw_status_name(fw) : "");
		goto out;
	}
	r = state_complete(rc.st, v, rc.why, sizeof(rc.why));
	if (!r)
		r = platform_register_ram(v);
	if (!r)
		r = state_apply(v, rc.st);
	if (r) {
		msg(res, "%s", rc.why[0] ? rc.why : sevmig_strerror(r));
		goto out;
	}
	*ret_state = rc.st;
	rc.st = NULL;
out:
	res->error = r;
	sevmig_receive_free(recv);	/* not committed: the VM is DEAD */
	sevmig_channel_free(ch);
	close(fd);
	free(chain);
	state_incoming_free(rc.st);
	return r;
}
