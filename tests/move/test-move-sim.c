// SPDX-License-Identifier: MIT
/*
 * Intra-host moves, mirrors and source teardown through the VM handle, on
 * the simulator (memory mode; with the argument "kvm" over real /dev/kvm,
 * where VMs, vCPUs, memslots, ioeventfds and irqfds are real KVM objects).
 *
 * - Moves of SEV and SEV-ES guests: the SEV type learnt from GUEST_STATUS,
 *   the page state, MSR value and policy on the destination, guest memory
 *   intact; in KVM mode the guest, stopped on the source, goes on running on
 *   the destination and reads what it wrote before the move.
 * - Each precondition violated on purpose, with its reason; the ones only
 *   KVM sees (an SEV-ES vCPU without LAUNCH_UPDATE_VMSA) named afterwards.
 * - Mirrors: creation both ways, every rule, what a mirror may not do, the
 *   order of teardown.
 * - Teardown of a moved and of a sent source through the wrapper, every
 *   allow-listed request and some that stay errors, and a VMM-style shutdown
 *   sequence that completes with no error after a move.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm-guest.h"
#include "sim-test.h"
#include "test-util.h"
#include "vm-priv.h"

static uint32_t mode;
static struct sevmig_sim *world;
static struct th H;
static struct sevmig_ctx *ctx;
static struct sevmig_platform *plat;
static uint8_t *mem;
static char log_text[1 << 16];

static uint16_t u16_at(size_t off)
{
	uint16_t v;

	memcpy(&v, mem + off, sizeof(v));
	return v;
}

static bool kvm_mode(void)
{
	return mode == SEVMIG_SIM_MODE_KVM;
}

static void record_log(void *opaque, uint32_t level, const char *msg)
{
	size_t n = strlen(log_text);

	(void)opaque;
	if (n < sizeof(log_text) - 1)
		snprintf(log_text + n, sizeof(log_text) - n, "[%u] %s\n",
			 level, msg);
}

static int setup(void **state)
{
	struct sevmig_sim_host_opts ho = { .size = sizeof(ho),
					   .config = SEVMIG_SIM_CONFIG_ES };
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = record_log,
				     .log_level = SEVMIG_LOG_DEBUG };

	(void)state;
	th_open(&H, world, &ho);
	o.sys = &H.ops;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	assert_int_equal(sevmig_platform_from_fd(ctx, H.sev, 0, &plat), 0);
	mem = th_pages(KG_MEM_SIZE / 4096);
	log_text[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sevmig_platform_free(plat);
	sevmig_ctx_free(ctx);
	th_close(&H);
	th_free_pages(mem, KG_MEM_SIZE / 4096);
	return 0;
}

static void xclose(int fd)
{
	assert_int_equal(H.ops.close(H.ops.opaque, fd), 0);
}

static struct sevmig_sim_host_stats stats(void)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	return st;
}

/* A handle as a VMM makes one: SEV type not said, learnt from the PSP. */
static struct sevmig_vm *handle(int vm_fd, uint32_t vm_type, uint32_t sev_type)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = vm_fd,
				    .phys_bits = 40, .vm_type = vm_type,
				    .sev_type = sev_type, .platform = plat };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	return vm;
}

static uint32_t vm_state(struct sevmig_vm *vm)
{
	uint32_t s = 0;

	assert_int_equal(sevmig_vm_state(vm, &s), 0);
	return s;
}

/* ---- vCPUs: registered and paused as a VMM does it ---- */

struct vcpu {
	int fd;
	void *run;
	size_t run_size;
	_Alignas(64) uint8_t buf[KVM_RUN_SIZE];	/* memory mode's kvm_run */
};

static void vcpu_open(struct vcpu *v, int vm, unsigned id)
{
	memset(v, 0, sizeof(*v));
	v->fd = th_vcpu(&H, vm, id);
	if (kvm_mode()) {
		v->run = kg_map_run(&H.ops, H.kvm, v->fd, &v->run_size);
		assert_non_null(v->run);
	} else {
		v->run = v->buf;	/* placeholder vCPUs cannot be mapped */
	}
}

static void vcpu_close(struct vcpu *v)
{
	if (v->run_size)
		munmap(v->run, v->run_size);
	xclose(v->fd);
}

/*
 * Register and pause. KVM mode pauses registered vCPUs for real (KVM_RUN
 * with immediate_exit); memory mode has no KVM_RUN, so it pauses first.
 */
static void attach(struct sevmig_vm *vm, struct vcpu *v, unsigned n)
{
	if (!kvm_mode())
		assert_int_equal(sevmig_vm_pause(vm, 0), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sevmig_vm_vcpu_add(vm, v[i].fd, v[i].run, 0), 0);
	assert_int_equal(sevmig_vm_pause(vm, 0), 0);
}

/* ---- guests ---- */

static void launch_es(int vm, struct vcpu *v, unsigned n, unsigned vmsa_first)
{
	struct kvm_sev_launch_start ls = { .policy = SEVMIG_GUEST_POLICY_ES };
	struct { uint64_t uaddr; uint32_t len, pad; } ud = {
		(uint64_t)(uintptr_t)mem, 4096, 0 };
	uint8_t meas[48];
	uint32_t err = 0;

	assert_int_equal(th_op(&H, vm, KVM_SEV_ES_INIT, NULL, &err), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_UPDATE_DATA, &ud, &err), 0);
	for (unsigned i = 0; i < vmsa_first; i++)
		vcpu_open(&v[i], vm, i);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, &err), 0);
	/* vCPUs created after it have no encrypted state. */
	for (unsigned i = vmsa_first; i < n; i++)
		vcpu_open(&v[i], vm, i);
	ud.uaddr = (uint64_t)(uintptr_t)meas;
	ud.len = sizeof(meas);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_MEASURE, &ud, &err), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_FINISH, NULL, &err), 0);
}

static int cpuid_apply(struct sevmig_vm *vm)
{
	struct { uint32_t nent, pad; struct kvm_cpuid_entry2 e[2]; } t;

	memset(&t, 0, sizeof(t));
	t.nent = 2;
	t.e[0].function = 0x40000000;
	t.e[0].eax = 0x40000001;
	t.e[0].ebx = 0x4b4d564bu;
	t.e[0].ecx = 0x564b4d56u;
	t.e[0].edx = 0x4du;
	t.e[1].function = 0x40000001;
	return sevmig_vm_cpuid_apply(vm, &t, 0);
}

/* The negotiation, then a guest that shares some pages and says READY. */
static void negotiate_and_share(struct sevmig_vm *vm)
{
	uint64_t hc = 1;

	assert_int_equal(sevmig_vm_ram_add(vm, 0, KG_MEM_SIZE, mem, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), 0);
	assert_int_equal(cpuid_apply(vm), 1);
	/* Shared: frames 16..23 and 100; then 20 back to private. */
	assert_int_equal(sevmig_vm_map_gpa_range(vm, 16 << 12, 8, 0, 1, &hc), 0);
	assert_int_equal(hc, 0);
	assert_int_equal(sevmig_vm_map_gpa_range(vm, 100 << 12, 1, 0, 1, &hc), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(vm, 20 << 12, 1,
						 KVM_MAP_GPA_RANGE_ENCRYPTED,
						 1, &hc), 0);
	assert_int_equal(sevmig_vm_set_migration_control(vm, 1, 0), 0);
}

static void check_page_state(struct sevmig_vm *vm)
{
	struct sevmig_tracker *t = sevmig_vm_tracker(vm);
	uint64_t ends[8], n = 0;
	uint32_t first = 0;
	int r;

	assert_int_equal(sevmig_tracker_shared_pages(t, &n), 0);
	assert_int_equal(n, 8);
	r = sevmig_tracker_runs(t, 0, 128, ends, 8, &first, NULL);
	assert_int_equal(r, 7);
	assert_int_equal(first, SEVMIG_PAGE_PRIVATE);
	assert_int_equal(ends[0], 16);
	assert_int_equal(ends[1], 20);
	assert_int_equal(ends[2], 21);
	assert_int_equal(ends[3], 24);
	assert_int_equal(ends[4], 100);
	assert_int_equal(ends[5], 101);
	assert_int_equal(ends[6], 128);
}

/* ------------------------------------------------------------------ moves */

static void move_guest(bool es)
{
	struct vcpu sv[2], dv[2];
	unsigned n = es ? 2 : 1;
	int src = th_vm(&H, KVM_X86_DEFAULT_VM), dst;
	struct sevmig_vm *s, *d;
	struct kg_state saved;
	struct kvm_sev_guest_status gs;
	uint64_t v = 0, r = 0;
	uint32_t t = 0;
	uint16_t out = 0;

	kg_program(mem, 0x1233);
	if (es) {
		launch_es(src, sv, n, n);
	} else {
		th_launch(&H, src, 0x1, mem, 4096);
		vcpu_open(&sv[0], src, 0);
	}
	s = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	negotiate_and_share(s);
	if (kvm_mode()) {	/* the guest runs on the source first */
		assert_int_equal(kg_memslot(&H.ops, src, mem), 0);
		assert_int_equal(kg_vcpu_reset(&H.ops, sv[0].fd), 0);
		assert_int_equal(kg_run(&H.ops, sv[0].fd, sv[0].run, &out), 0);
		assert_int_equal(u16_at(KG_RESULT), 0x1234);
	}
	attach(s, sv, n);
	/* Plain SEV: the VMM carries vCPU state, before the move. */
	if (kvm_mode())
		assert_int_equal(kg_save(&H.ops, sv[0].fd, &saved), 0);

	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	for (unsigned i = 0; i < n; i++)
		vcpu_open(&dv[i], dst, i);
	d = handle(dst, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_ram_add(d, 0, KG_MEM_SIZE, mem, 0), 0);
	attach(d, dv, n);
	assert_int_equal(sevmig_vm_move_check(d, s, &r, 0), 0);
	assert_int_equal(r, 0);
	/* The types were learnt from GUEST_STATUS (ES bit, ENOTTY). */
	assert_int_equal(sevmig_vm_sev_type(s, &t, NULL), 0);
	assert_int_equal(t, es ? SEVMIG_SEV_TYPE_SEV_ES : SEVMIG_SEV_TYPE_SEV);
	assert_int_equal(sevmig_vm_sev_type(d, &t, NULL), 0);
	assert_int_equal(t, SEVMIG_SEV_TYPE_NONE);

	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), 0);
	assert_int_equal(vm_state(s), SEVMIG_VM_MOVED);
	assert_int_equal(vm_state(d), SEVMIG_VM_LIVE);
	/* What KVM does not carry, carried. */
	check_page_state(d);
	assert_int_equal(sevmig_vm_migration_control(d, &v), 0);
	assert_int_equal(v, 1);
	assert_true(d->guest_policy_known);
	assert_int_equal(d->guest_policy, es ? SEVMIG_GUEST_POLICY_ES : 0x1);
	assert_int_equal(sevmig_vm_sev_type(d, &t, NULL), 0);
	assert_int_equal(t, es ? SEVMIG_SEV_TYPE_SEV_ES : SEVMIG_SEV_TYPE_SEV);
	/* The firmware guest lives on, in the destination; memory intact. */
	assert_int_equal(stats().guest_count, 1);
	assert_int_equal(u16_at(KG_MARKER), 0x1233);
	assert_int_equal(th_op(&H, dst, KVM_SEV_INIT, NULL, NULL), -EINVAL);
	/* KVM considers the source dead; the handle refuses it anyway. */
	assert_int_equal(th_op(&H, src, KVM_SEV_GUEST_STATUS, &gs, NULL), -EIO);
	assert_int_equal(sevmig_vm_resume(s, 0), -ESTALE);
	assert_int_equal(sevmig_vm_complete_pending(s, sv[0].fd, sv[0].run, 0),
			 -ESTALE);
	{
		struct sevmig_guest_status st = { .size = sizeof(st) };

		assert_int_equal(sevmig_vm_guest_status(s, &st, NULL), -ESTALE);
		/* No /dev/sev descriptor came with the context (KVM's way). */
		assert_int_equal(sevmig_vm_guest_status(d, &st, NULL), -EBADF);
		assert_non_null(strstr(log_text, "took its context by an intra-host move"));
	}
	assert_int_equal(sevmig_vm_resume(d, 0), 0);
	if (kvm_mode()) {	/* ... and goes on running on the destination */
		assert_int_equal(kg_memslot(&H.ops, dst, mem), 0);
		assert_int_equal(kg_restore(&H.ops, dv[0].fd, &saved), 0);
		assert_int_equal(kg_run(&H.ops, dv[0].fd, dv[0].run, &out), 1);
		assert_int_equal(out, 0x1234);
		assert_int_equal(kg_run(&H.ops, sv[0].fd, sv[0].run, &out), -EIO);
	}
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	for (unsigned i = 0; i < n; i++) {
		vcpu_close(&sv[i]);
		vcpu_close(&dv[i]);
	}
	xclose(src);
	assert_int_equal(stats().guest_count, 1);
	xclose(dst);
	assert_int_equal(stats().guest_count, 0);
}

static void test_move_sev(void **state)
{
	(void)state;
	move_guest(false);
}

static void test_move_es(void **state)
{
	(void)state;
	move_guest(true);
}

/* A chain of moves: the guest and its page state travel on. */
static void test_move_chain(void **state)
{
	struct sevmig_vm *h[4];
	int fd[4];

	(void)state;
	fd[0] = th_vm(&H, KVM_X86_DEFAULT_VM);
	th_launch(&H, fd[0], 0x1, mem, 4096);
	h[0] = handle(fd[0], SEVMIG_VM_TYPE_DEFAULT, 0);
	negotiate_and_share(h[0]);
	for (int i = 1; i < 4; i++) {
		fd[i] = th_vm(&H, KVM_X86_DEFAULT_VM);
		h[i] = handle(fd[i], SEVMIG_VM_TYPE_DEFAULT, 0);
		assert_int_equal(sevmig_vm_move_from(h[i], h[i - 1], 0, NULL), 0);
	}
	check_page_state(h[3]);
	/* Back into a dead source: the handle says why before KVM would. */
	{
		uint64_t r = 0;

		assert_int_equal(sevmig_vm_move_from(h[0], h[3], 0, &r), -ESTALE);
		assert_int_equal(r, SEVMIG_REASON_DEST_NOT_LIVE);
	}
	for (int i = 0; i < 4; i++) {
		sevmig_vm_free(h[i]);
		xclose(fd[i]);
	}
	assert_int_equal(stats().guest_count, 0);
}

/* --------------------------------------------------- preconditions */

/*
 * Refused with @err; the verdict names the same rules, except those only
 * KVM could see. Nothing moved: the source is still LIVE unless it was
 * already something else.
 */
static uint64_t refused(struct sevmig_vm *d, struct sevmig_vm *s, int err)
{
	uint64_t r = 0, c = 0;
	uint32_t before = vm_state(s);

	assert_int_equal(sevmig_vm_move_check(d, s, &c, 0), 0);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), err);
	if (r & (SEVMIG_REASON_KERNEL_REFUSED | SEVMIG_REASON_ES_VMSA))
		assert_int_equal(c, 0);
	else
		assert_int_equal(c, r);
	assert_int_equal(vm_state(s), before);
	return r;
}

static void test_preconditions(void **state)
{
	int src = th_vm(&H, KVM_X86_DEFAULT_VM), dst, x;
	struct sevmig_vm *s, *d, *h;
	uint64_t r;

	(void)state;
	th_launch(&H, src, 0x1, mem, 4096);
	s = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	d = handle(dst, SEVMIG_VM_TYPE_DEFAULT, 0);

	/* Same VM. */
	h = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(refused(h, s, -EINVAL), SEVMIG_REASON_SAME_VM);
	sevmig_vm_free(h);

	/* A destination with a context of its own (KVM_SEV_INIT done). */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&H, x, KVM_SEV_INIT, NULL, NULL), 0);
	h = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(refused(h, s, -EINVAL), SEVMIG_REASON_DEST_HAS_CONTEXT);
	assert_non_null(strstr(log_text, "without any SEV setup"));
	sevmig_vm_free(h);
	xclose(x);

	/* A source that is no SEV guest. */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	h = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(refused(d, h, -EINVAL), SEVMIG_REASON_SOURCE_NOT_SEV);
	sevmig_vm_free(h);
	xclose(x);

	/* Different VM types: named when said, KVM's EINVAL when not. */
	x = th_vm(&H, KVM_X86_SEV_VM);
	h = handle(x, SEVMIG_VM_TYPE_SEV, SEVMIG_SEV_TYPE_NONE);
	assert_int_equal(refused(h, s, -EINVAL), SEVMIG_REASON_VM_TYPE_MISMATCH);
	sevmig_vm_free(h);
	h = handle(x, 0, SEVMIG_SEV_TYPE_NONE);
	assert_int_equal(refused(h, s, -EINVAL), SEVMIG_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(log_text, "KVM types"));
	sevmig_vm_free(h);
	xclose(x);

	/* SNP (the simulator has no SNP VMs: the handle is told). */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	h = handle(x, 0, SEVMIG_SEV_TYPE_SNP);
	assert_int_equal(refused(d, h, -EOPNOTSUPP), SEVMIG_REASON_SNP);
	sevmig_vm_free(h);
	xclose(x);

	/* A registered vCPU that is not paused. */
	{
		struct vcpu v;

		vcpu_open(&v, src, 0);
		assert_int_equal(sevmig_vm_vcpu_add(s, v.fd, v.run, 0), 0);
		assert_int_equal(refused(d, s, -EBUSY), SEVMIG_REASON_VCPUS_RUNNING);
		assert_int_equal(sevmig_vm_vcpu_remove(s, v.fd, 0), 0);
		vcpu_close(&v);
	}

	/* A source with a mirror. */
	{
		struct sevmig_vm *m = NULL;

		assert_int_equal(sevmig_vm_mirror_create(s, H.kvm, 0, &m, NULL), 0);
		assert_int_equal(refused(d, s, -EBUSY), SEVMIG_REASON_HAS_MIRRORS);
		assert_int_equal(sevmig_vm_teardown(m, 0), 0);
		sevmig_vm_free(m);
	}

	/* A source that was sent (real SEND_START / SEND_FINISH). */
	{
		struct th T;
		uint8_t tpdh[SEVMIG_SEV_CERT_LEN], tchain[SEVMIG_PLAT_CHAIN_LEN];
		uint8_t amd[4096], session[SEVMIG_SESSION_LEN];
		size_t amd_len = 0;
		uint32_t err = 0;
		struct sevmig_vm *sent;

		th_open(&T, world, NULL);
		th_export(&T, tpdh, tchain);
		assert_int_equal(sevmig_sim_amd_chain(world, amd, sizeof(amd),
						      &amd_len), 0);
		x = th_vm(&H, KVM_X86_DEFAULT_VM);
		th_launch(&H, x, 0x1, mem, 4096);
		sent = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
		assert_int_equal(th_send_start(&H, x, tpdh, tchain, amd,
					       (uint32_t)amd_len, session, &err), 0);
		assert_int_equal(sevmig_vm_transition(sent, SEVMIG_VM_LIVE,
						      SEVMIG_VM_SENDING, "test"), 0);
		assert_int_equal(refused(d, sent, -EBUSY),
				 SEVMIG_REASON_SOURCE_NOT_LIVE);
		assert_int_equal(th_op(&H, x, KVM_SEV_SEND_FINISH, NULL, &err), 0);
		assert_int_equal(sevmig_vm_transition(sent, SEVMIG_VM_SENDING,
						      SEVMIG_VM_SENT, "test"), 0);
		assert_int_equal(refused(d, sent, -ESTALE),
				 SEVMIG_REASON_SOURCE_NOT_LIVE);
		assert_non_null(strstr(log_text, "sent to another host"));
		sevmig_vm_free(sent);
		xclose(x);
		th_close(&T);
	}

	/* A destination that is dead to KVM but not to its (new) handle. */
	{
		int a = th_vm(&H, KVM_X86_DEFAULT_VM);
		struct sevmig_vm *ha = handle(a, SEVMIG_VM_TYPE_DEFAULT, 0), *hb;

		th_launch(&H, a, 0x1, mem, 4096);
		x = th_vm(&H, KVM_X86_DEFAULT_VM);
		h = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
		assert_int_equal(sevmig_vm_move_from(h, ha, 0, NULL), 0);
		/* The handle of the moved-from VM says so ... */
		assert_int_equal(refused(ha, s, -ESTALE), SEVMIG_REASON_DEST_NOT_LIVE);
		/* ... a handle that never saw the move gets KVM's EIO. */
		hb = handle(a, SEVMIG_VM_TYPE_DEFAULT, SEVMIG_SEV_TYPE_NONE);
		r = 0;
		assert_int_equal(sevmig_vm_move_from(hb, s, 0, &r), -EIO);
		assert_non_null(strstr(log_text, "considers that VM dead"));
		assert_int_equal(vm_state(s), SEVMIG_VM_LIVE);
		sevmig_vm_free(hb);
		sevmig_vm_free(ha);
		sevmig_vm_free(h);
		xclose(a);
		xclose(x);
	}
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	xclose(dst);
	xclose(src);
	assert_int_equal(stats().guest_count, 0);
}

/* SEV-ES: vCPU counts, and the rule only KVM can see. */
static void test_preconditions_es(void **state)
{
	struct vcpu sv[2], dv[2], xv;
	int src = th_vm(&H, KVM_X86_DEFAULT_VM), dst, x;
	struct sevmig_vm *s, *d, *h;
	uint64_t r = 0;

	(void)state;
	/* The second source vCPU is created after LAUNCH_UPDATE_VMSA. */
	launch_es(src, sv, 2, 1);
	s = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	attach(s, sv, 2);
	/* Registered counts that differ. */
	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	vcpu_open(&dv[0], dst, 0);
	d = handle(dst, SEVMIG_VM_TYPE_DEFAULT, 0);
	attach(d, dv, 1);
	assert_int_equal(refused(d, s, -EINVAL), SEVMIG_REASON_ES_VCPU_COUNT);
	/* Counts the handle does not know differ: KVM's EINVAL, named. */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	vcpu_open(&xv, x, 0);
	h = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_vcpu_remove(s, sv[0].fd, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_remove(s, sv[1].fd, 0), 0);
	assert_int_equal(sevmig_vm_move_from(h, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(log_text, "SEV-ES vCPU counts"));
	sevmig_vm_free(h);
	vcpu_close(&xv);
	xclose(x);
	attach(s, sv, 2);
	/* Counts equal, but a vCPU without encrypted state: ES_VMSA. */
	vcpu_open(&dv[1], dst, 1);
	assert_int_equal(sevmig_vm_vcpu_add(d, dv[1].fd, dv[1].run, 0), 0);
	assert_int_equal(sevmig_vm_move_check(d, s, &r, 0), 0);
	assert_int_equal(r, 0);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_ES_VMSA);
	assert_non_null(strstr(log_text, "LAUNCH_UPDATE_VMSA"));
	assert_int_equal(vm_state(s), SEVMIG_VM_LIVE);
	assert_int_equal(stats().guest_count, 1);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	for (int i = 0; i < 2; i++) {
		vcpu_close(&sv[i]);
		vcpu_close(&dv[i]);
	}
	xclose(dst);
	xclose(src);
}

/* --------------------------------------------------------------- mirrors */

static void test_mirrors(void **state)
{
	int prim = th_vm(&H, KVM_X86_DEFAULT_VM), mfd, x;
	struct sevmig_vm *p, *m = NULL, *m2, *h;
	struct sevmig_guest_status st = { .size = sizeof(st) };
	uint32_t role = 0, n = 0;
	uint64_t r = 0;
	struct sevmig_sim_host_stats before;

	(void)state;
	th_launch(&H, prim, 0x1, mem, 4096);
	p = handle(prim, SEVMIG_VM_TYPE_DEFAULT, 0);
	/* libsevmig creates the VM: it cannot have vCPUs before the copy. */
	assert_int_equal(sevmig_vm_mirror_create(p, H.kvm, 0, &m, &r), 0);
	mfd = sevmig_vm_fd(m);
	assert_true(mfd >= 0);
	assert_int_equal(sevmig_vm_role(m, &role, NULL), 0);
	assert_int_equal(role, SEVMIG_VM_ROLE_MIRROR);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 1);
	/* A mirror may ask GUEST_STATUS (it shares the /dev/sev fd) ... */
	assert_int_equal(sevmig_vm_guest_status(m, &st, NULL), 0);
	assert_int_equal(st.state, SEVMIG_GUEST_RUNNING);
	/* ... but runs no SEV command of its own: refused by the handle,
	 * and KVM would refuse it too. */
	assert_int_equal(sevmig_vm_check_fw(m, KVM_SEV_SEND_START, "test"),
			 -EINVAL);
	assert_int_equal(th_op(&H, mfd, KVM_SEV_SEND_FINISH, NULL, NULL), -EINVAL);
	/* The VMM builds the mirror's vCPUs on it, afterwards. */
	{
		struct vcpu v;

		vcpu_open(&v, mfd, 0);
		assert_int_equal(sevmig_vm_vcpu_add(m, v.fd, v.run, 0), 0);
		assert_int_equal(sevmig_vm_vcpu_remove(m, v.fd, 0), 0);
		vcpu_close(&v);
	}

	/* No mirror of a mirror; no copy into a VM with a context. */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	m2 = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_mirror_from(m2, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_IS_MIRROR | SEVMIG_REASON_DEST_HAS_CONTEXT);
	/* Not of a VM that is no SEV guest. */
	h = handle(th_vm(&H, KVM_X86_DEFAULT_VM), SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_mirror_from(m2, h, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_SEV);
	xclose(sevmig_vm_fd(h));
	sevmig_vm_free(h);
	/* Not into a VM with vCPUs: registered (named first) or not (KVM). */
	{
		struct vcpu v;

		vcpu_open(&v, x, 0);
		assert_int_equal(sevmig_vm_vcpu_add(m2, v.fd, v.run, 0), 0);
		assert_int_equal(sevmig_vm_mirror_from(m2, p, 0, &r), -EINVAL);
		assert_int_equal(r, SEVMIG_REASON_MIRROR_HAS_VCPUS);
		assert_int_equal(sevmig_vm_vcpu_remove(m2, v.fd, 0), 0);
		assert_int_equal(sevmig_vm_mirror_from(m2, p, 0, &r), -EINVAL);
		assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
		vcpu_close(&v);
	}
	sevmig_vm_free(m2);
	xclose(x);

	/* A mirror is never moved; a primary with a mirror is not moved. */
	x = th_vm(&H, KVM_X86_DEFAULT_VM);
	h = handle(x, SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_move_from(h, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(sevmig_vm_move_from(h, p, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_HAS_MIRRORS);
	/* A second mirror, made from a VMM's VM. */
	m2 = handle(th_vm(&H, KVM_X86_DEFAULT_VM), SEVMIG_VM_TYPE_DEFAULT, 0);
	assert_int_equal(sevmig_vm_mirror_from(m2, p, 0, &r), 0);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 2);

	/* The primary goes last: refused, then ordered. */
	assert_int_equal(sevmig_vm_teardown(p, 0), -EBUSY);
	assert_non_null(strstr(log_text, "has 2 mirror(s)"));
	before = stats();
	log_text[0] = 0;
	assert_int_equal(sevmig_vm_teardown(p, SEVMIG_TEARDOWN_MIRRORS), 0);
	/* The mirror libsevmig created is closed; the VMM's is not. */
	assert_int_equal(stats().vm_count, before.vm_count - 1);
	assert_int_equal(vm_state(m), SEVMIG_VM_DEAD);
	assert_int_equal(vm_state(m2), SEVMIG_VM_DEAD);
	assert_int_equal(vm_state(p), SEVMIG_VM_DEAD);
	assert_int_equal(sevmig_vm_resume(m2, 0), -ESTALE);
	/* With its primary torn down, the primary can move no more either. */
	assert_int_equal(sevmig_vm_move_from(h, p, 0, &r), -ESTALE);
	sevmig_vm_free(m);
	xclose(sevmig_vm_fd(m2));
	sevmig_vm_free(m2);
	sevmig_vm_free(h);
	xclose(x);
	sevmig_vm_free(p);
	assert_int_equal(stats().guest_count, 1);
	xclose(prim);	/* the last reference: the guest is decommissioned */
	assert_int_equal(stats().guest_count, 0);
}

/* --------------------------------------------------------------- teardown */

/*
 * What a VMM sets up on a VM and takes down at shutdown. On a VM KVM
 * considers dead nothing can be set up (the simulator's memory mode has no
 * memslots or eventfds at all): the setup is then skipped.
 */
struct vmm_objs {
	int efd_io, efd_irq;
	bool real;
};

static struct kvm_userspace_memory_region slot_del = { .slot = 0 };
static struct kvm_userspace_memory_region2 slot2_del = { .slot = 0 };
static struct kvm_coalesced_mmio_zone zone = { .addr = 0xfe000000,
					       .size = 4096 };
static struct kvm_enc_region region;

/* Pin guest memory for the encryption context (SEV VMs only). */
static void reg_region(int vm)
{
	region.addr = (uint64_t)(uintptr_t)mem;
	region.size = 4096;
	assert_int_equal(th_ioctl(&H, vm, KVM_MEMORY_ENCRYPT_REG_REGION,
				  &region), 0);
}

/* Before the VM's vCPUs exist (KVM creates an irqchip only then). */
static void vmm_setup(int vm, struct vmm_objs *o)
{
	struct kvm_ioeventfd io;
	struct kvm_irqfd irq;

	memset(o, 0, sizeof(*o));
	o->efd_io = eventfd(0, EFD_CLOEXEC);
	o->efd_irq = eventfd(0, EFD_CLOEXEC);
	assert_true(o->efd_io >= 0 && o->efd_irq >= 0);
	o->real = kvm_mode();
	if (!o->real)
		return;
	assert_int_equal(kg_memslot(&H.ops, vm, mem), 0);
	assert_int_equal(th_ioctl(&H, vm, KVM_CREATE_IRQCHIP, NULL), 0);
	memset(&io, 0, sizeof(io));
	io.addr = 0xf00;
	io.len = 2;
	io.fd = o->efd_io;
	io.flags = KVM_IOEVENTFD_FLAG_PIO;
	assert_int_equal(th_ioctl(&H, vm, KVM_IOEVENTFD, &io), 0);
	memset(&irq, 0, sizeof(irq));
	irq.fd = (uint32_t)o->efd_irq;
	irq.gsi = 5;
	assert_int_equal(th_ioctl(&H, vm, KVM_IRQFD, &irq), 0);
	assert_int_equal(th_ioctl(&H, vm, KVM_REGISTER_COALESCED_MMIO, &zone), 0);
}

/*
 * The shutdown sequence, every request through the wrapper, each expected
 * to answer @expect (0: no error); then the VMM closes its descriptors and
 * the handle is torn down and freed.
 */
static void vmm_shutdown(struct sevmig_vm *vm, struct vmm_objs *o,
			 struct vcpu *v, unsigned n, int expect)
{
	struct kvm_ioeventfd io;
	struct kvm_irqfd irq;
	int fd = sevmig_vm_fd(vm);

	memset(&io, 0, sizeof(io));
	io.addr = 0xf00;
	io.len = 2;
	io.fd = o->efd_io;
	io.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN;
	memset(&irq, 0, sizeof(irq));
	irq.fd = (uint32_t)o->efd_irq;
	irq.gsi = 5;
	irq.flags = KVM_IRQFD_FLAG_DEASSIGN;
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd, KVM_IOEVENTFD, &io, 0),
			 expect);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd, KVM_IRQFD, &irq, 0),
			 expect);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd,
						  KVM_UNREGISTER_COALESCED_MMIO,
						  &zone, 0), expect);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd,
						  KVM_MEMORY_ENCRYPT_UNREG_REGION,
						  &region, 0), 0);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd,
						  KVM_SET_USER_MEMORY_REGION,
						  &slot_del, 0), expect);
	close(o->efd_io);
	close(o->efd_irq);
	for (unsigned i = 0; i < n; i++)
		vcpu_close(&v[i]);
	xclose(fd);
	assert_int_equal(sevmig_vm_teardown(vm, 0), 0);
	sevmig_vm_free(vm);
}

/* Requests that must stay errors on a dead VM. */
static void stays_errors(struct sevmig_vm *vm, struct vcpu *v)
{
	struct kvm_ioeventfd io = { .addr = 0xf02, .len = 2, .fd = 0,
				    .flags = KVM_IOEVENTFD_FLAG_PIO };
	struct kvm_userspace_memory_region add = { .slot = 3,
		.guest_phys_addr = 0x200000, .memory_size = 4096,
		.userspace_addr = (uint64_t)(uintptr_t)mem };
	uint8_t regs[144];
	int fd = sevmig_vm_fd(vm);

	assert_int_equal(sevmig_vm_teardown_ioctl(vm, v->fd, KVM_RUN, NULL, 0),
			 -ESTALE);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, v->fd,
						  UAPI_IOR(KVMIO, 0x81, 144u),
						  regs, 0), -EIO);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd, KVM_IOEVENTFD, &io, 0),
			 -EIO);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd,
						  KVM_SET_USER_MEMORY_REGION,
						  &add, 0), -EIO);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, fd,
						  KVM_REGISTER_COALESCED_MMIO,
						  &zone, 0), -EIO);
	/* A removal on a vCPU descriptor is not the VM's own. */
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, v->fd,
						  KVM_SET_USER_MEMORY_REGION,
						  &slot_del, 0), -EIO);
}

static void test_teardown_moved(void **state)
{
	int src = th_vm(&H, KVM_X86_DEFAULT_VM), dst;
	struct vcpu sv, dv;
	struct vmm_objs so, dobj;
	struct sevmig_vm *s, *d;

	(void)state;
	th_launch(&H, src, 0x1, mem, 4096);
	vmm_setup(src, &so);
	reg_region(src);
	vcpu_open(&sv, src, 0);
	s = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	attach(s, &sv, 1);
	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	vmm_setup(dst, &dobj);
	vcpu_open(&dv, dst, 0);
	d = handle(dst, SEVMIG_VM_TYPE_DEFAULT, 0);
	attach(d, &dv, 1);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, NULL), 0);

	/* Every allow-listed removal, one by one, on the dead source. */
	log_text[0] = 0;
	assert_int_equal(sevmig_vm_teardown_ioctl(s, src,
						  KVM_SET_USER_MEMORY_REGION2,
						  &slot2_del, 0), 0);
	assert_non_null(strstr(log_text, "treated as done"));
	stays_errors(s, &sv);
	/* The VMM's own shutdown of the source: no error anywhere. */
	log_text[0] = 0;
	vmm_shutdown(s, &so, &sv, 1, 0);
	assert_null(strstr(log_text, "[1]"));	/* nothing logged as error */

	/* The destination lives on, and shuts down as a live VM. */
	assert_int_equal(stats().guest_count, 1);
	assert_int_equal(sevmig_vm_resume(d, 0), 0);
	reg_region(dst);
	vmm_shutdown(d, &dobj, &dv, 1, kvm_mode() ? 0 : -ENOTTY);
	assert_int_equal(stats().guest_count, 0);
}

static void test_teardown_sent(void **state)
{
	struct th T;
	uint8_t tpdh[SEVMIG_SEV_CERT_LEN], tchain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t amd[4096], session[SEVMIG_SESSION_LEN];
	struct sevmig_guest_status st = { .size = sizeof(st) };
	size_t amd_len = 0;
	uint32_t err = 0;
	int src = th_vm(&H, KVM_X86_DEFAULT_VM);
	struct vcpu sv;
	struct vmm_objs so;
	struct sevmig_vm *s;

	(void)state;
	th_open(&T, world, NULL);
	th_export(&T, tpdh, tchain);
	assert_int_equal(sevmig_sim_amd_chain(world, amd, sizeof(amd), &amd_len), 0);
	th_launch(&H, src, 0x1, mem, 4096);
	vmm_setup(src, &so);
	reg_region(src);
	vcpu_open(&sv, src, 0);
	s = handle(src, SEVMIG_VM_TYPE_DEFAULT, 0);
	attach(s, &sv, 1);
	/* The raw firmware calls a session makes, then its state change. */
	{
		struct sevmig_send_start_args a = {
			.size = sizeof(a), .pdh = tpdh, .pdh_len = sizeof(tpdh),
			.plat_chain = tchain, .plat_chain_len = sizeof(tchain),
			.amd_chain = amd, .amd_chain_len = amd_len,
			.session = session, .session_size = sizeof(session),
		};

		assert_int_equal(sevmig_vm_transition(s, SEVMIG_VM_LIVE,
						      SEVMIG_VM_SENDING, "test"), 0);
		assert_int_equal(sevmig_psp_send_start(plat, src, &a, NULL, NULL,
						       &err), 0);
		assert_int_equal(sevmig_psp_send_finish(plat, src, &err), 0);
		assert_int_equal(sevmig_vm_transition(s, SEVMIG_VM_SENDING,
						      SEVMIG_VM_SENT, "test"), 0);
	}
	/* Nothing runs it again; the firmware's view is still readable. */
	assert_int_equal(sevmig_vm_resume(s, 0), -ESTALE);
	assert_int_equal(sevmig_vm_pause(s, 0), -ESTALE);
	assert_int_equal(sevmig_vm_complete_pending(s, sv.fd, sv.run, 0), -ESTALE);
	assert_int_equal(sevmig_vm_teardown_ioctl(s, sv.fd, KVM_RUN, NULL, 0),
			 -ESTALE);
	assert_int_equal(sevmig_vm_guest_status(s, &st, NULL), 0);
	assert_int_equal(st.state, SEVMIG_GUEST_SENT);
	assert_int_equal(stats().sent_vcpu_runs, 0);	/* libsevmig never tried */
	/* The counter is real: a VMM that bypasses libsevmig is caught. */
	assert_int_equal(th_ioctl(&H, sv.fd, KVM_RUN, NULL), -EIO);
	assert_int_equal(stats().sent_vcpu_runs, 1);
	/*
	 * A sent source is not dead to KVM: its teardown requests succeed
	 * (memory mode answers ENOTTY for what it does not emulate), and
	 * the wrapper passes the answers through.
	 */
	log_text[0] = 0;
	{	/* KVM's own error on a live VM stays the answer. */
		struct kvm_userspace_memory_region2 none = { .slot = 7 };

		assert_true(sevmig_vm_teardown_ioctl(s, src,
						     KVM_SET_USER_MEMORY_REGION2,
						     &none, 0) < 0);
	}
	vmm_shutdown(s, &so, &sv, 1, kvm_mode() ? 0 : -ENOTTY);
	assert_null(strstr(log_text, "treated as done"));
	assert_int_equal(stats().sent_vcpu_runs, 1);
	th_close(&T);
	assert_int_equal(stats().guest_count, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_sev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_es, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preconditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preconditions_es, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirrors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_sent, setup, teardown),
	};
	int ret;

	mode = th_mode_from_args(argc, argv);
	world = th_world(mode);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	sevmig_sim_free(world);
	return ret;
}
