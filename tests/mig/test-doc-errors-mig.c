// SPDX-License-Identifier: MIT
/*
 * The documented errors that need a simulated SEV platform (libsevmig-sim,
 * memory mode): guest commands on a VM with no guest, and migration
 * sessions in every state - begun, passing, committing, committed, in
 * doubt - with firmware faults injected where a command must refuse.
 * Streams for the destination are recorded from a real source session and
 * replayed, cut or corrupted. The runner is tests/unit/doc-errors.c; the
 * cases that need no simulator are in tests/unit/test-doc-errors.c.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "doc-errors.h"
#include "internal.h"
#include "sim-test.h"

#define PAGES 8

struct side {
	struct th h;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
	int vm_fd;
	struct sevmig_vm *vm;
	unsigned char *mem;
	size_t pages;
};

/*
 * One simulated world for every case (making one generates its AMD keys:
 * most of a second); each case has hosts of its own.
 */
static struct sevmig_sim *shared_sim;

struct world {
	struct sevmig_sim *sim;
	struct side src, dst;
	uint8_t amd[3200];
	size_t amd_len;
	unsigned char hello[16384];	/* the destination's HELLO */
	size_t hello_len;
};

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

static void side_free(void *arg)
{
	struct side *s = arg;

	sevmig_vm_free(s->vm);
	th_free_pages(s->mem, s->pages);
	s->h.ops.close(s->h.ops.opaque, s->vm_fd);
	sevmig_platform_free(s->p);
	th_close(&s->h);
}

/* A host with one VM: RAM at gpa 0, the negotiation plumbing in place. */
static void side_setup(struct world *w, struct side *s, size_t pages)
{
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .phys_bits = 40 };
	struct cpuid_table c;

	th_open(&s->h, w->sim, NULL);
	s->ctx = doc_ctx_ops(&s->h.ops);
	assert_int_equal(sevmig_platform_from_fd(s->ctx, s->h.sev, 0, &s->p), 0);
	s->vm_fd = th_vm(&s->h, 0);
	s->pages = pages;
	s->mem = th_pages(pages);
	vo.vm_fd = s->vm_fd;
	vo.platform = s->p;
	assert_int_equal(sevmig_vm_new(s->ctx, &vo, &s->vm), 0);
	doc_defer(side_free, s);
	assert_int_equal(sevmig_vm_ram_add(s->vm, 0, pages * 4096, s->mem, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(s->vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(s->vm, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	assert_int_equal(sevmig_vm_cpuid_apply(s->vm, &c, 0), 1);
}

static void world_free(void *arg)
{
	free(arg);
}

/*
 * Two hosts. The source's guest is launched with @policy and says READY
 * unless @launch is false; the destination's VM has no guest yet. The
 * source's context is the one under test unless a case says otherwise.
 */
static struct world *world_opts(size_t src_pages, size_t dst_pages,
				bool launch, uint32_t policy)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		abort();	/* the test itself ran out of memory */
	w->sim = shared_sim;
	doc_defer(world_free, w);
	side_setup(w, &w->src, src_pages);
	side_setup(w, &w->dst, dst_pages);
	assert_int_equal(sevmig_sim_amd_chain(w->sim, w->amd, sizeof(w->amd),
					      &w->amd_len), 0);
	/* The simulator's root is not AMD's: the source's operator adds it. */
	assert_int_equal(sevmig_ctx_add_ark(w->src.ctx, w->amd + w->amd_len / 2,
					    w->amd_len / 2, 0), 0);
	assert_int_equal(sevmig_hello_export(w->dst.p, w->amd, w->amd_len,
					     w->hello, sizeof(w->hello),
					     &w->hello_len, NULL), 0);
	if (launch) {
		th_launch(&w->src.h, w->src.vm_fd, policy, NULL, 0);
		assert_int_equal(sevmig_vm_set_migration_control(w->src.vm, 1, 0),
				 0);
	}
	return w;
}

static struct world *world(void)
{
	return world_opts(PAGES, PAGES, true, 0);
}

/* Make the next matching PSP command of @s's host fail. */
static void fault(struct side *s, uint32_t cmd, uint32_t nth, int err,
		  uint32_t fw)
{
	struct sevmig_sim_fault f = {
		.size = sizeof(f), .kind = SEVMIG_SIM_FAULT_GUEST, .cmd = cmd,
		.nth = nth, .err = err, .fw_status = fw,
	};

	assert_int_equal(sevmig_sim_host_inject_fault(s->h.host, &f), 0);
}

static uint32_t vm_state(struct side *s)
{
	uint32_t st = 0;

	assert_int_equal(sevmig_vm_state(s->vm, &st), 0);
	return st;
}

/* ---- channels over memory ---- */

struct capture {
	unsigned char *p;
	size_t len, cap;
};

static void capture_free(void *arg)
{
	struct capture *c = arg;

	free(c->p);
	free(c);
}

static int capture_writev(void *opaque, const struct sevmig_iovec *iov,
			  uint32_t iovcnt)
{
	struct capture *c = opaque;

	for (uint32_t i = 0; i < iovcnt; i++) {
		if (c->len + iov[i].len > c->cap) {
			size_t cap = (c->len + iov[i].len) * 2;
			unsigned char *n = realloc(c->p, cap);

			if (!n)
				return -ENOMEM;
			c->p = n;
			c->cap = cap;
		}
		memcpy(c->p + c->len, iov[i].base, iov[i].len);
		c->len += iov[i].len;
	}
	return 0;
}

static void channel_free(void *ch)
{
	sevmig_channel_free(ch);
}

/* A write-only channel that keeps everything written, in *@ret. */
static struct sevmig_channel *capture_channel(struct sevmig_ctx *ctx,
					      struct capture **ret)
{
	struct capture *c = calloc(1, sizeof(*c));
	struct sevmig_channel_ops ops = { .size = sizeof(ops),
					  .writev = capture_writev };
	struct sevmig_channel *ch = NULL;

	if (!c)
		abort();
	doc_defer(capture_free, c);
	ops.opaque = c;
	assert_int_equal(sevmig_channel_new(ctx, &ops, 0, &ch), 0);
	doc_defer(channel_free, ch);
	*ret = c;
	return ch;
}

/* ---- sessions ---- */

static void send_free(void *s)
{
	sevmig_send_free(s);
}

static void receive_free(void *r)
{
	sevmig_receive_free(r);
}

/*
 * A send session to a file-like stream (SEVMIG_COMMIT_FLUSH, the target's
 * HELLO given) on @nch channels, each captured in ret_streams[i].
 */
static struct sevmig_send *flush_send_n(struct world *w, uint32_t nch,
					struct capture **ret_streams)
{
	struct sevmig_channel *ch[4];
	struct sevmig_send_opts o = {
		.size = sizeof(o), .channels = ch, .nr_channels = nch,
		.commit = SEVMIG_COMMIT_FLUSH, .target_hello = w->hello,
		.target_hello_len = w->hello_len,
	};
	struct sevmig_send *s = NULL;
	struct capture *c;

	for (uint32_t i = 0; i < nch; i++) {
		ch[i] = capture_channel(w->src.ctx, &c);
		if (ret_streams)
			ret_streams[i] = c;
	}
	assert_int_equal(sevmig_send_new(w->src.vm, &o, &s, NULL), 0);
	doc_defer(send_free, s);
	return s;
}

static struct sevmig_send *flush_send(struct world *w,
				      struct capture **ret_stream)
{
	return flush_send_n(w, 1, ret_stream);
}

static struct sevmig_send *begun_send(struct world *w,
				      struct capture **ret_stream)
{
	struct sevmig_send *s = flush_send(w, ret_stream);

	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	return s;
}

/* A whole migration into memory; the source ends SENT. */
static struct capture *recorded(struct world *w, size_t vmm_record)
{
	static const unsigned char vmm[256];
	struct capture *c = NULL;
	struct sevmig_send *s = begun_send(w, &c);

	if (vmm_record)
		assert_int_equal(sevmig_send_record(s, SEVMIG_RECORD_VMM_FIRST,
						    vmm, vmm_record, 0), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(w->src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(vm_state(&w->src), SEVMIG_VM_SENT);
	return c;
}

static int accept_record(void *opaque, uint32_t type, const void *buf,
			 size_t len)
{
	(void)opaque;
	(void)type;
	(void)buf;
	(void)len;
	return 0;
}

/* A receive session on the destination reading @nch recorded streams. */
static struct sevmig_receive *replay_n(struct world *w,
				       struct capture *const *streams,
				       uint32_t nch, size_t cut,
				       uint32_t max_vmm)
{
	struct sevmig_channel *ch[4];
	struct sevmig_receive_opts o = {
		.size = sizeof(o), .channels = ch, .nr_channels = nch,
		.amd_chain = w->amd, .amd_chain_len = w->amd_len,
		.record = accept_record, .max_vmm_record = max_vmm,
	};
	struct sevmig_receive *r = NULL;

	for (uint32_t i = 0; i < nch; i++)
		ch[i] = doc_channel_bytes(w->dst.ctx, streams[i]->p,
					  streams[i]->len - (i ? 0 : cut), false);
	assert_int_equal(sevmig_receive_new(w->dst.vm, &o, &r), 0);
	doc_defer(receive_free, r);
	doc_primary(w->dst.ctx);
	return r;
}

/* The same on one stream, its last @cut bytes left out. */
static struct sevmig_receive *replay(struct world *w, struct capture *c,
				     size_t cut, uint32_t max_vmm)
{
	return replay_n(w, &c, 1, cut, max_vmm);
}

/* ======================================================================
 * psp.h, vm.h: a VM with no guest started
 * ====================================================================== */

/*
 * An SEV guest VM (KVM_SEV_INIT done) with no guest started: KVM stores the
 * /dev/sev descriptor only at LAUNCH_START or RECEIVE_START, so it has none
 * to pass a command through.
 */
static void sev_init_only(struct side *s)
{
	uint32_t err = 0;

	assert_int_equal(th_op(&s->h, s->vm_fd, KVM_SEV_INIT, NULL, &err), 0);
}

DOC_CASE(sevmig_psp_guest_status, EBADF)
{
	struct world *w = world_opts(PAGES, PAGES, false, 0);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	int ret;

	sev_init_only(&w->dst);
	doc_primary(w->dst.ctx);
	ret = DOC_CALL(sevmig_psp_guest_status(w->dst.p, w->dst.vm_fd, &st,
					       NULL));
	assert_true(doc_log_has("no guest was started on this VM yet"));
	return ret;
}

DOC_CASE(sevmig_vm_guest_status, EBADF)
{
	struct world *w = world_opts(PAGES, PAGES, false, 0);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	int ret;

	sev_init_only(&w->dst);
	doc_primary(w->dst.ctx);
	ret = DOC_CALL(sevmig_vm_guest_status(w->dst.vm, &st, NULL));
	assert_true(doc_log_has("no guest was started on this VM yet"));
	return ret;
}

DOC_CASE(sevmig_psp_guest_status, ENOTTY)
{
	/* Without KVM_SEV_INIT the VM is no SEV guest at all. */
	struct world *w = world_opts(PAGES, PAGES, false, 0);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	int ret;

	doc_primary(w->dst.ctx);
	ret = DOC_CALL(sevmig_psp_guest_status(w->dst.p, w->dst.vm_fd, &st,
					       NULL));
	assert_true(doc_log_has("is not an SEV guest"));
	return ret;
}

/* ======================================================================
 * migration.h: the source
 * ====================================================================== */

DOC_CASE(sevmig_send_begin, EBADF)
{
	/* As sevmig_vm_guest_status(): the source VM has no guest. */
	struct world *w = world_opts(PAGES, PAGES, false, 0);
	struct sevmig_send *s;

	sev_init_only(&w->src);
	assert_int_equal(sevmig_vm_set_migration_control(w->src.vm, 1, 0), 0);
	s = flush_send(w, NULL);
	return DOC_CALL(sevmig_send_begin(s, NULL, NULL));
}

DOC_CASE(sevmig_send_begin, EPERM)
{
	/* A NOSEND guest the handle was not told about: preflight refuses. */
	struct world *w = world_opts(PAGES, PAGES, true,
				     SEVMIG_GUEST_POLICY_NOSEND);
	struct sevmig_send *s = flush_send(w, NULL);
	uint64_t why = 0;
	int ret;

	ret = DOC_CALL(sevmig_send_begin(s, &why, NULL));
	assert_true(why & SEVMIG_REASON_POLICY_NOSEND);
	assert_int_equal(vm_state(&w->src), SEVMIG_VM_LIVE);
	return ret;
}

DOC_CASE(sevmig_send_begin, EBADMSG)
{
	struct world *w = world();
	struct sevmig_send *s;

	w->hello[w->hello_len - 1] ^= 1;	/* its checksum fails */
	s = flush_send(w, NULL);
	return DOC_CALL(sevmig_send_begin(s, NULL, NULL));
}

DOC_CASE(sevmig_send_begin, EPROTO)
{
	/* The guest is not RUNNING: a raw SEND_START made it SUPDATE. */
	struct world *w = world();
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	struct sevmig_send *s = flush_send(w, NULL);
	uint32_t err = 0;

	th_export(&w->dst.h, pdh, chain);
	assert_int_equal(th_send_start(&w->src.h, w->src.vm_fd, pdh, chain,
				       w->amd, (uint32_t)w->amd_len, session,
				       &err), 0);
	return DOC_CALL(sevmig_send_begin(s, NULL, NULL));
}

DOC_CASE(sevmig_send_begin, EIO)
{
	struct world *w = world();
	struct sevmig_send *s = flush_send(w, NULL);
	uint32_t fw = 0;
	int ret;

	fault(&w->src, KVM_SEV_SEND_START, 1, -EIO, SEV_RET_POLICY_FAILURE);
	ret = DOC_CALL(sevmig_send_begin(s, NULL, &fw));
	assert_int_equal(fw, SEV_RET_POLICY_FAILURE);
	assert_int_equal(vm_state(&w->src), SEVMIG_VM_LIVE);
	return ret;
}

DOC_CASE(sevmig_send_dirty_log_slot, EALREADY)
{
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);

	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	return DOC_CALL(sevmig_send_dirty_log_slot(s, 0, 0, PAGES * 4096, 0));
}

DOC_CASE(sevmig_send_pass, EIO)
{
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	int ret;

	fault(&w->src, KVM_SEV_SEND_UPDATE_DATA, 1, -EIO,
	      SEV_RET_INVALID_ADDRESS);
	ret = DOC_CALL(sevmig_send_pass(s, NULL, 0));
	/* Cancelled: the guest runs here again; the stats keep the status. */
	assert_int_equal(vm_state(&w->src), SEVMIG_VM_LIVE);
	assert_int_equal(sevmig_send_stats(s, &st), 0);
	assert_int_equal(st.fw_error, SEV_RET_INVALID_ADDRESS);
	return ret;
}

DOC_CASE(sevmig_send_commit, EAGAIN)
{
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);

	/* The vCPUs were not paused. */
	return DOC_CALL(sevmig_send_commit(s, NULL));
}

DOC_CASE(sevmig_send_commit, EIO)
{
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);
	uint32_t fw = 0;
	int ret;

	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(w->src.vm, 0), 0);
	fault(&w->src, KVM_SEV_SEND_FINISH, 1, -EIO,
	      SEV_RET_INVALID_GUEST_STATE);
	ret = DOC_CALL(sevmig_send_commit(s, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_GUEST_STATE);
	assert_int_equal(vm_state(&w->src), SEVMIG_VM_LIVE);
	return ret;
}

DOC_CASE(sevmig_send_cancel, EPERM)
{
	struct world *w = world();
	struct capture *c = NULL;
	struct sevmig_send *s = begun_send(w, &c);

	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(w->src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	return DOC_CALL(sevmig_send_cancel(s, 0));
}

DOC_CASE(sevmig_send_cancel, EIO)
{
	/* SEND_CANCEL itself is refused: the guest's state is unknown. */
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);

	fault(&w->src, KVM_SEV_SEND_CANCEL, 1, -EIO,
	      SEV_RET_INVALID_GUEST_STATE);
	return DOC_CALL(sevmig_send_cancel(s, 0));
}

DOC_CASE(sevmig_send_pass, EAGAIN)
{
	/* Two channels: the pass needs a worker thread for the second. */
	struct world *w = world();
	struct sevmig_send *s = flush_send_n(w, 2, NULL);

	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	doc_nothreads();
	return DOC_CALL(sevmig_send_pass(s, NULL, 0));
}

DOC_CASE(sevmig_send_cancel, EIO)
{
	/*
	 * The PSP timed out during a pass, so the session's own SEND_CANCEL
	 * was refused too (a dead PSP answers EBUSY): cancelling again must
	 * not say all is well.
	 */
	struct world *w = world();
	struct sevmig_send *s = begun_send(w, NULL);

	fault(&w->src, KVM_SEV_SEND_UPDATE_DATA, 1, -ETIMEDOUT, 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), -ETIMEDOUT);
	return DOC_CALL(sevmig_send_cancel(s, 0));
}

DOC_CASE(sevmig_send_resolve, ENOMEM)
{
	/* A session that began and was cancelled: its verdict is ABORT. */
	struct world *w = world();
	struct capture *c = NULL, *v = NULL;
	struct sevmig_send *s = flush_send_n(w, 1, &c);
	struct sevmig_channel *ch = capture_channel(w->src.ctx, &v);

	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_cancel(s, 0), 0);
	assert_int_equal(sevmig_send_resolve(w->src.vm, ch, 0), -EBUSY);
	sevmig_send_free(s);	/* over: resolve may speak for it now */
	doc_forget(s);
	doc_nomem();
	return DOC_CALL(sevmig_send_resolve(w->src.vm, ch, 0));
}

/* ======================================================================
 * migration.h: the destination, from a recorded stream
 * ====================================================================== */

DOC_CASE(sevmig_receive_run, EBADMSG)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r;
	int ret;

	c->p[c->len / 2] ^= 0x40;	/* a bit flipped on the way */
	r = replay(w, c, 0, 0);
	ret = DOC_CALL(sevmig_receive_run(r, NULL));
	assert_int_equal(vm_state(&w->dst), SEVMIG_VM_DEAD);
	return ret;
}

DOC_CASE(sevmig_receive_run, EPIPE)
{
	/* The stream is cut. */
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r = replay(w, c, 100, 0);

	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EPROTO)
{
	/* The source cancelled after START: its ABORT ends the stream. */
	struct world *w = world();
	struct capture *c = NULL;
	struct sevmig_send *s = begun_send(w, &c);
	struct sevmig_receive *r;

	assert_int_equal(sevmig_send_cancel(s, 0), 0);
	r = replay(w, c, 0, 0);
	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EPERM)
{
	/* The source has more RAM than this VM registered. */
	struct world *w = world_opts(PAGES, PAGES / 2, true, 0);
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r = replay(w, c, 0, 0);

	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EMSGSIZE)
{
	struct world *w = world();
	struct capture *c = recorded(w, 200);
	struct sevmig_receive *r = replay(w, c, 0, 100);

	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EIO)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r = replay(w, c, 0, 0);
	uint32_t fw = 0;
	int ret;

	fault(&w->dst, KVM_SEV_RECEIVE_START, 1, -EIO, SEV_RET_BAD_SIGNATURE);
	ret = DOC_CALL(sevmig_receive_run(r, &fw));
	assert_int_equal(fw, SEV_RET_BAD_SIGNATURE);
	return ret;
}

DOC_CASE(sevmig_receive_run, ENOMEM)
{
	/* START names the source's RAM: the session maps it onto this VM. */
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r = replay(w, c, 0, 0);

	doc_nomem();
	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EAGAIN)
{
	/* Two channels: the session reads the second one in a thread. */
	struct world *w = world();
	struct capture *c[2];
	struct sevmig_send *s = flush_send_n(w, 2, c);
	struct sevmig_receive *r;

	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(w->src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	r = replay_n(w, c, 2, 0, 0);
	doc_nothreads();
	return DOC_CALL(sevmig_receive_run(r, NULL));
}

DOC_CASE(sevmig_receive_run, EALREADY)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_receive *r = replay(w, c, 100, 0);

	assert_int_equal(sevmig_receive_run(r, NULL), -EPIPE);
	return DOC_CALL(sevmig_receive_run(r, NULL));
}

/* ======================================================================
 * migration.h: both ends at once (ACK mode over socket pairs)
 * ====================================================================== */

/*
 * The source's channel 0 over a socket (blocking reads and writes of its
 * own), with two ways to go wrong after the destination acknowledged:
 * flip a bit of the ACK as it is read, or lose the connection when COMMIT
 * is written.
 */
struct src_ch {
	int fd;
	bool corrupt_ack;
	bool cut_after_ack;
	bool ack_read;
};

static int src_read(void *opaque, void *buf, size_t len)
{
	struct src_ch *c = opaque;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(c->fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -EPIPE : -ENODATA;
		got += (size_t)n;
	}
	/* The ACK's payload is the only 24-byte read of the source. */
	if (len == 24) {
		c->ack_read = true;
		if (c->corrupt_ack)
			((unsigned char *)buf)[20] ^= 1;
	}
	return 0;
}

static int src_writev(void *opaque, const struct sevmig_iovec *iov,
		      uint32_t iovcnt)
{
	struct src_ch *c = opaque;

	if (c->cut_after_ack && c->ack_read) {
		shutdown(c->fd, SHUT_RDWR);
		return -EPIPE;
	}
	for (uint32_t i = 0; i < iovcnt; i++) {
		const char *p = iov[i].base;
		size_t left = iov[i].len;

		while (left) {
			ssize_t n = send(c->fd, p, left, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			p += n;
			left -= (size_t)n;
		}
	}
	return 0;
}

struct duo {
	struct world *w;
	int sv[2];
	struct src_ch sc;
	struct sevmig_channel *src_ch, *dst_ch;
	struct sevmig_send *send;
	struct sevmig_receive *recv;
	pthread_t thread;		/* the other end */
	bool running;
	int thread_ret;
};

static void duo_free(void *arg)
{
	struct duo *d = arg;

	if (d->running) {
		shutdown(d->sv[0], SHUT_RDWR);
		shutdown(d->sv[1], SHUT_RDWR);
		pthread_join(d->thread, NULL);
	}
	sevmig_send_free(d->send);
	sevmig_receive_free(d->recv);
	sevmig_channel_free(d->src_ch);
	sevmig_channel_free(d->dst_ch);
	close(d->sv[0]);
	close(d->sv[1]);
	free(d);
}

/* The channels of both ends and the receive session, nothing started. */
static struct duo *duo_new(struct world *w)
{
	struct duo *d = calloc(1, sizeof(*d));
	struct sevmig_channel_ops ops = { .size = sizeof(ops),
					  .read = src_read,
					  .writev = src_writev };
	struct sevmig_receive_opts ro = {
		.size = sizeof(ro), .nr_channels = 1, .amd_chain = w->amd,
		.amd_chain_len = w->amd_len,
	};

	if (!d)
		abort();
	d->w = w;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    d->sv), 0);
	doc_defer(duo_free, d);
	d->sc.fd = d->sv[0];
	ops.opaque = &d->sc;
	assert_int_equal(sevmig_channel_new(w->src.ctx, &ops, 0, &d->src_ch), 0);
	assert_int_equal(sevmig_channel_from_fds(w->dst.ctx, d->sv[1], d->sv[1],
						 0, &d->dst_ch), 0);
	ro.channels = &d->dst_ch;
	assert_int_equal(sevmig_receive_new(w->dst.vm, &ro, &d->recv), 0);
	return d;
}

/* The source up to its commit (not on the test's thread: no asserts). */
static int src_steps(struct duo *d, bool commit)
{
	struct sevmig_send_opts so = { .size = sizeof(so),
				       .channels = &d->src_ch,
				       .nr_channels = 1 };
	int ret;

	ret = sevmig_send_new(d->w->src.vm, &so, &d->send, NULL);
	if (!ret)
		ret = sevmig_send_begin(d->send, NULL, NULL);
	if (!ret)
		ret = sevmig_send_pass(d->send, NULL, 0);
	if (!ret)
		ret = sevmig_vm_pause(d->w->src.vm, 0);
	if (!ret && commit)
		ret = sevmig_send_commit(d->send, NULL);
	return ret;
}

static void *recv_main(void *arg)
{
	struct duo *d = arg;

	d->thread_ret = sevmig_receive_run(d->recv, NULL);
	return NULL;
}

static void *src_main(void *arg)
{
	struct duo *d = arg;

	d->thread_ret = src_steps(d, true);
	return NULL;
}

static void duo_thread(struct duo *d, void *(*fn)(void *))
{
	assert_int_equal(pthread_create(&d->thread, NULL, fn, d), 0);
	d->running = true;
}

static int duo_join(struct duo *d)
{
	pthread_join(d->thread, NULL);
	d->running = false;
	return d->thread_ret;
}

/* The destination receiving in a thread; the source begun, one pass in. */
static struct duo *duo(struct world *w)
{
	struct duo *d = duo_new(w);

	duo_thread(d, recv_main);
	assert_int_equal(src_steps(d, false), 0);
	return d;
}

DOC_CASE(sevmig_send_commit, EBADMSG)
{
	struct duo *d = duo(world());
	int ret;

	d->sc.corrupt_ack = true;
	ret = DOC_CALL(sevmig_send_commit(d->send, NULL));
	/* The source cancelled and told the destination. */
	assert_int_equal(vm_state(&d->w->src), SEVMIG_VM_LIVE);
	assert_int_equal(duo_join(d), -EPROTO);
	return ret;
}

DOC_CASE(sevmig_receive_run, ENOTCONN)
{
	/* Contact is lost after the ACK: the source committed, unheard. */
	struct duo *d = duo_new(world());
	int ret;

	d->sc.cut_after_ack = true;
	duo_thread(d, src_main);
	doc_primary(d->w->dst.ctx);
	ret = DOC_CALL(sevmig_receive_run(d->recv, NULL));
	assert_int_equal(duo_join(d), 0);
	assert_int_equal(vm_state(&d->w->src), SEVMIG_VM_SENT);
	assert_int_equal(vm_state(&d->w->dst), SEVMIG_VM_INCOMING);
	return ret;
}

/* A destination left in doubt, as above. */
static struct duo *in_doubt(void)
{
	struct duo *d = duo_new(world());

	d->sc.cut_after_ack = true;
	duo_thread(d, recv_main);
	assert_int_equal(src_steps(d, true), 0);
	assert_int_equal(vm_state(&d->w->src), SEVMIG_VM_SENT);
	assert_int_equal(duo_join(d), -ENOTCONN);
	return d;
}

/* The source's verdict for a destination in doubt, in memory. */
static struct capture *verdict(struct duo *d)
{
	struct capture *c = NULL;
	struct sevmig_channel *ch = capture_channel(d->w->src.ctx, &c);

	/* The session is over: resolve refuses while one is open. */
	sevmig_send_free(d->send);
	d->send = NULL;
	assert_int_equal(sevmig_send_resolve(d->w->src.vm, ch, 0), 0);
	return c;
}

DOC_CASE(sevmig_receive_resolve, EBADMSG)
{
	struct duo *d = in_doubt();
	struct capture *c = verdict(d);
	struct sevmig_channel *ch;
	int ret;

	c->p[c->len - 1] ^= 1;
	ch = doc_channel_bytes(d->w->dst.ctx, c->p, c->len, false);
	doc_primary(d->w->dst.ctx);
	ret = DOC_CALL(sevmig_receive_resolve(d->recv, ch, NULL));
	/* Still in doubt: a good verdict may still come. */
	assert_int_equal(vm_state(&d->w->dst), SEVMIG_VM_INCOMING);
	return ret;
}

DOC_CASE(sevmig_receive_resolve, EIO)
{
	struct duo *d = in_doubt();
	struct capture *c = verdict(d);
	struct sevmig_channel *ch;
	uint32_t fw = 0;
	int ret;

	ch = doc_channel_bytes(d->w->dst.ctx, c->p, c->len, false);
	fault(&d->w->dst, KVM_SEV_RECEIVE_FINISH, 1, -EIO,
	      SEV_RET_HWSEV_RET_UNSAFE);
	doc_primary(d->w->dst.ctx);
	ret = DOC_CALL(sevmig_receive_resolve(d->recv, ch, &fw));
	assert_int_equal(fw, SEV_RET_HWSEV_RET_UNSAFE);
	return ret;
}

DOC_CASE(sevmig_receive_resolve, ENOMEM)
{
	struct duo *d = in_doubt();
	struct capture *c = verdict(d);
	struct sevmig_channel *ch;

	ch = doc_channel_bytes(d->w->dst.ctx, c->p, c->len, false);
	doc_primary(d->w->dst.ctx);
	doc_nomem();
	return DOC_CALL(sevmig_receive_resolve(d->recv, ch, NULL));
}

/* ---- sevmig_stream_inspect: a saved stream, whole or damaged ---- */

static int inspect_bytes(struct world *w, const void *buf, size_t len)
{
	struct sevmig_stream_info info = { .size = sizeof(info) };
	struct sevmig_channel *ch = doc_channel_bytes(w->dst.ctx, buf, len,
						      false);

	doc_primary(w->dst.ctx);
	return DOC_CALL(sevmig_stream_inspect(w->dst.ctx, ch, &info, 0));
}

DOC_CASE(sevmig_stream_inspect, EINVAL)
{
	struct world *w = world();
	struct sevmig_stream_info info = { .size = sizeof(info) };
	struct sevmig_channel *ch = doc_channel_bytes(w->dst.ctx, "", 0, false);

	doc_primary(w->dst.ctx);
	return DOC_CALL(sevmig_stream_inspect(w->dst.ctx, ch, &info, 1));
}

DOC_CASE(sevmig_stream_inspect, E2BIG)
{
	struct world *w = world();
	struct {
		struct sevmig_stream_info info;
		uint64_t newer;
	} big = { .info.size = sizeof(big), .newer = 1 };
	struct sevmig_channel *ch = doc_channel_bytes(w->dst.ctx, "", 0, false);

	doc_primary(w->dst.ctx);
	return DOC_CALL(sevmig_stream_inspect(w->dst.ctx, ch, &big.info, 0));
}

DOC_CASE(sevmig_stream_inspect, EBADMSG)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);

	c->p[100] ^= 0x10;	/* inside START's payload: its checksum fails */
	return inspect_bytes(w, c->p, c->len);
}

DOC_CASE(sevmig_stream_inspect, EPIPE)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);

	return inspect_bytes(w, c->p, 100);	/* ends inside START */
}

DOC_CASE(sevmig_stream_inspect, EPROTO)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);

	uint32_t crc;

	c->p[8] = 2;	/* another stream version, the header re-sealed */
	crc = sevmig_crc32c(0, c->p, 60);
	memcpy(c->p + 60, &crc, 4);
	return inspect_bytes(w, c->p, c->len);
}

DOC_CASE(sevmig_stream_inspect, ENOMEM)
{
	struct world *w = world();
	struct capture *c = recorded(w, 0);
	struct sevmig_stream_info info = { .size = sizeof(info) };
	struct sevmig_channel *ch = doc_channel_bytes(w->dst.ctx, c->p, c->len,
						      false);

	doc_primary(w->dst.ctx);
	doc_nomem();
	return DOC_CALL(sevmig_stream_inspect(w->dst.ctx, ch, &info, 0));
}

int main(void)
{
	struct sevmig_sim_opts o = { .size = sizeof(o),
				     .mode = SEVMIG_SIM_MODE_MEMORY };
	int ret;

	if (sevmig_sim_new(&o, &shared_sim))
		return 1;
	ret = doc_run_all("documented errors (simulator)");
	sevmig_sim_free(shared_sim);
	return ret;
}
