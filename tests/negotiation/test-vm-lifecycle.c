// SPDX-License-Identifier: MIT
/*
 * The VM handle beyond single exits, on the scripted fake: lifecycle state,
 * vCPU registry with pause and resume, firmware-shared ranges on a fresh and
 * a reset VM, readiness naming each missing piece (also after a failed
 * reinstall), vetoes logged at WARNING, and MAP_GPA_RANGE ranges at the 2^64
 * boundary with every page-size code.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"
#include "vm-priv.h"

enum { VM_FD = 20 };

/* ---- a context on the fake that records every log line with its level ---- */

static char log_text[8192];
static uint32_t log_worst;	/* lowest (most severe) level seen, 0 = none */

static void record_log(void *opaque, uint32_t level, const char *msg)
{
	size_t n = strlen(log_text);

	(void)opaque;
	snprintf(log_text + n, sizeof(log_text) - n, "[%u] %s\n", level, msg);
	if (!log_worst || level < log_worst)
		log_worst = level;
}

static void log_reset(void)
{
	log_text[0] = 0;
	log_worst = 0;
}

/* Level 0: the library's default (WARNING and above are delivered). */
static struct sevmig_ctx *logging_ctx(struct fake_sys *fs, uint32_t level)
{
	struct sevmig_sys_ops ops;
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = record_log,
				     .log_level = level };
	struct sevmig_ctx *ctx = NULL;

	fake_sys_ops(fs, &ops);
	o.sys = &ops;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	log_reset();
	return ctx;
}

static struct sevmig_vm *new_vm(struct sevmig_ctx *ctx)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = VM_FD,
				    .phys_bits = 40 };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	return vm;
}

static struct kvm_enable_cap want_hc, want_msr;

static struct fake_call cap_call(struct kvm_enable_cap *want, uint32_t cap,
				 uint64_t arg, int ret)
{
	struct fake_call c = FAKE_IOCTL_ANY(VM_FD, KVM_ENABLE_CAP, ret);

	memset(want, 0, sizeof(*want));
	want->cap = cap;
	want->args[0] = arg;
	c.in = want;
	c.in_len = sizeof(*want);
	return c;
}

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

static int cpuid_apply(struct sevmig_vm *vm)
{
	struct cpuid_table t;

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

static uint64_t readiness(struct sevmig_vm *vm)
{
	uint64_t r = 0;

	assert_int_equal(sevmig_vm_readiness(vm, &r, 0), 0);
	return r;
}

/* ---- lifecycle and vCPUs ---- */

static _Alignas(64) uint8_t run0[KVM_RUN_SIZE], run1[KVM_RUN_SIZE];

static int expect_immediate(const struct fake_call *c, void *arg)
{
	uint8_t *run = c->hook_data;

	(void)arg;
	assert_int_equal(run[1], 1);	/* immediate_exit set during KVM_RUN */
	return c->ret;
}

static void test_vcpus_pause_resume(void **state)
{
	struct fake_call script[2] = {
		FAKE_IOCTL_VAL(30, KVM_RUN, 0, -EINTR),
		FAKE_IOCTL_VAL(31, KVM_RUN, 0, -EINTR),
	};
	struct fake_sys *fs;
	struct sevmig_vm *vm;
	uint32_t n = 99, paused = 99;

	(void)state;
	script[0].hook = expect_immediate;
	script[0].hook_data = run0;
	script[1].hook = expect_immediate;
	script[1].hook_data = run1;
	fs = fake_sys_new(script, 2);
	vm = new_vm(fake_sys_ctx(fs));
	assert_int_equal(sevmig_vm_vcpu_count(vm, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sevmig_vm_vcpu_add(vm, 30, run0, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_add(vm, 31, run1, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_add(vm, 30, run0, 0), -EEXIST);
	assert_int_equal(sevmig_vm_vcpu_add(vm, -1, run0, 0), -EINVAL);
	assert_int_equal(sevmig_vm_vcpu_add(vm, 32, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_vcpu_add(vm, 32, run0, 1), -EINVAL);
	assert_int_equal(sevmig_vm_vcpu_count(vm, &n), 0);
	assert_int_equal(n, 2);

	/* Pause completes each vCPU's pending exit, once. */
	assert_int_equal(sevmig_vm_paused(vm, &paused), 0);
	assert_int_equal(paused, 0);
	assert_int_equal(sevmig_vm_pause(vm, 0), 0);
	assert_int_equal(fake_sys_calls(fs), 2);
	assert_int_equal(sevmig_vm_pause(vm, 0), 0);	/* no-op */
	assert_int_equal(fake_sys_calls(fs), 2);
	assert_int_equal(sevmig_vm_paused(vm, &paused), 0);
	assert_int_equal(paused, 1);
	assert_int_equal(sevmig_vm_resume(vm, 0), 0);
	assert_int_equal(sevmig_vm_paused(vm, &paused), 0);
	assert_int_equal(paused, 0);

	assert_int_equal(sevmig_vm_vcpu_remove(vm, 31, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_remove(vm, 31, 0), -ENOENT);
	assert_int_equal(sevmig_vm_vcpu_count(vm, &n), 0);
	assert_int_equal(n, 1);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_states_refuse_running(void **state)
{
	static const struct {
		uint32_t state;
		int resume, pause, pending;
		const char *why;
	} cases[] = {
		{ SEVMIG_VM_LIVE, 0, 0, 0, NULL },
		{ SEVMIG_VM_SENDING, 0, 0, 0, NULL },
		{ SEVMIG_VM_SENT, -ESTALE, -ESTALE, -ESTALE, "must never run again" },
		{ SEVMIG_VM_MOVED, -ESTALE, -ESTALE, -ESTALE, "moved to another VM" },
		{ SEVMIG_VM_DEAD, -ESTALE, -ESTALE, -ESTALE, "torn down" },
		{ SEVMIG_VM_INCOMING, -EBUSY, 0, 0, "only after the migration committed" },
	};
	struct fake_sys *fs = fake_sys_new(NULL, 0);	/* no ioctl may happen */
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs));
	uint32_t got = 0;

	(void)state;
	assert_int_equal(sevmig_vm_state(vm, &got), 0);
	assert_int_equal(got, SEVMIG_VM_LIVE);
	assert_string_equal(sevmig_vm_state_name(SEVMIG_VM_SENT), "sent");
	assert_string_equal(sevmig_vm_state_name(0), "unknown");
	assert_string_equal(sevmig_vm_state_name(99), "unknown");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		vm->state = cases[i].state;
		vm->paused = 0;
		assert_int_equal(sevmig_vm_resume(vm, 0), cases[i].resume);
		if (cases[i].why && cases[i].resume)
			assert_non_null(strstr(fake_sys_last_error(fs),
					       cases[i].why));
		assert_int_equal(sevmig_vm_pause(vm, 0), cases[i].pause);
		/* Refused before any ioctl (the fake has none to give). */
		if (cases[i].pending)
			assert_int_equal(sevmig_vm_complete_pending(vm, 30, run0, 0),
					 cases[i].pending);
		/* Readiness says the VM is not live in every other state. */
		assert_int_equal(!!(readiness(vm) & SEVMIG_REASON_VM_NOT_LIVE),
				 cases[i].state != SEVMIG_VM_LIVE);
	}
	/* State transitions are compare-and-swap: a wrong "from" is refused. */
	vm->state = SEVMIG_VM_LIVE;
	assert_int_equal(sevmig_vm_transition(vm, SEVMIG_VM_SENDING,
					      SEVMIG_VM_SENT, "test"), -ESTALE);
	assert_int_equal(sevmig_vm_transition(vm, SEVMIG_VM_LIVE,
					      SEVMIG_VM_SENDING, "test"), 0);
	assert_int_equal(sevmig_vm_state(vm, &got), 0);
	assert_int_equal(got, SEVMIG_VM_SENDING);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_guest_status_needs_platform(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs));
	struct sevmig_guest_status st = { .size = sizeof(st) };

	(void)state;
	assert_int_equal(sevmig_vm_guest_status(vm, &st, NULL), -ENODEV);
	assert_non_null(strstr(fake_sys_last_error(fs), "without a platform"));
	assert_int_equal(sevmig_vm_guest_status(vm, NULL, NULL), -EINVAL);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* ---- firmware-shared ranges: a fresh VM and a reset VM agree ---- */

static void runs_of(struct sevmig_vm *vm, uint64_t *ends, uint32_t max,
		    int *nr, uint32_t *first)
{
	*nr = sevmig_tracker_runs(sevmig_vm_tracker(vm), 0, 1ull << 28, ends,
				  max, first, NULL);
	assert_true(*nr > 0);
}

static void test_fw_shared_fresh_equals_reset(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs));
	uint64_t fresh[16], reset[16];
	uint32_t f0, r0;
	int nf, nr;

	(void)state;
	assert_int_equal(sevmig_vm_ram_add(vm, 0, 1ull << 30, NULL, 0), 0);
	assert_int_equal(sevmig_vm_firmware_shared_add(vm, 0x800000, 0x4000, 0), 0);
	assert_int_equal(sevmig_vm_firmware_shared_add(vm, 0xfe000000, 0x1000, 0), 0);
	runs_of(vm, fresh, 16, &nf, &f0);
	/* The ranges are shared from the moment they are added. */
	assert_int_equal(f0, SEVMIG_PAGE_PRIVATE);
	assert_int_equal(nf, 5);
	assert_int_equal(fresh[0], 0x800);
	assert_int_equal(fresh[1], 0x804);
	/* The guest flips other pages; a reset brings back the fresh state. */
	assert_int_equal(sevmig_tracker_set_shared(sevmig_vm_tracker(vm), 5, 100), 0);
	assert_int_equal(sevmig_tracker_set_private(sevmig_vm_tracker(vm), 0x801, 1), 0);
	assert_int_equal(sevmig_vm_reset(vm, 0), 0);
	runs_of(vm, reset, 16, &nr, &r0);
	assert_int_equal(nr, nf);
	assert_int_equal(r0, f0);
	assert_memory_equal(reset, fresh, (size_t)nf * sizeof(fresh[0]));
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* ---- readiness names each missing piece; vetoes are WARNINGs ---- */

static struct fake_call neg[6];

static void test_readiness_pieces_and_reinstall(void **state)
{
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
	const uint64_t plumbing = SEVMIG_REASON_EXITS_NOT_ENABLED |
				  SEVMIG_REASON_MSR_FILTER_MISSING |
				  SEVMIG_REASON_CPUID_NOT_OFFERED;

	(void)state;
	neg[0] = cap_call(&want_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, 0);
	neg[1] = cap_call(&want_msr, KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
	neg[2] = (struct fake_call)FAKE_IOCTL_ANY(VM_FD, KVM_X86_SET_MSR_FILTER, 0);
	/* The VMM changes its filter later; the kernel refuses the new one. */
	neg[3] = (struct fake_call)FAKE_IOCTL_ANY(VM_FD, KVM_X86_SET_MSR_FILTER,
						  -EINVAL);
	neg[4] = (struct fake_call)FAKE_IOCTL_ANY(VM_FD, KVM_X86_SET_MSR_FILTER, 0);
	/* Then enabling the exits again fails. */
	neg[5] = cap_call(&want_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, -ENOMEM);
	fs = fake_sys_new(neg, 6);
	ctx = logging_ctx(fs, 0);
	vm = new_vm(ctx);

	assert_int_equal(readiness(vm) & plumbing, plumbing);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	assert_int_equal(readiness(vm) & plumbing,
			 plumbing & ~SEVMIG_REASON_EXITS_NOT_ENABLED);
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), 0);
	assert_int_equal(readiness(vm) & plumbing, SEVMIG_REASON_CPUID_NOT_OFFERED);
	assert_int_equal(cpuid_apply(vm), 1);
	assert_int_equal(readiness(vm), SEVMIG_REASON_GUEST_NOT_READY);

	/* A failed reinstall: readiness tells the truth, and says so loudly. */
	log_reset();
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), -EINVAL);
	assert_int_equal(readiness(vm), SEVMIG_REASON_GUEST_NOT_READY |
			 SEVMIG_REASON_MSR_FILTER_MISSING);
	assert_non_null(strstr(log_text, "[2] "));	/* a WARNING */
	assert_non_null(strstr(log_text, "offered migration"));
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), 0);
	assert_int_equal(readiness(vm), SEVMIG_REASON_GUEST_NOT_READY);

	log_reset();
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), -ENOMEM);
	assert_true(readiness(vm) & SEVMIG_REASON_EXITS_NOT_ENABLED);
	assert_non_null(strstr(log_text, "enabling the exits failed"));
	sevmig_vm_free(vm);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

static void test_veto_is_a_warning(void **state)
{
	static const struct {
		uint32_t host_policy;
		bool exits;
		const char *says;
		uint64_t reason;
	} cases[] = {
		{ SEVMIG_HOST_POLICY_ALLOW, false, "exits are not enabled",
		  SEVMIG_REASON_EXITS_NOT_ENABLED },
		{ SEVMIG_HOST_POLICY_ALLOW, true, "MSR filter is not installed",
		  SEVMIG_REASON_MSR_FILTER_MISSING },
		{ SEVMIG_HOST_POLICY_DENY, false, "host policy denies",
		  SEVMIG_REASON_HOST_POLICY_DENY },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = VM_FD,
					    .host_policy = cases[i].host_policy };
		struct fake_sys *fs;
		struct sevmig_ctx *ctx;
		struct sevmig_vm *vm = NULL;

		neg[0] = cap_call(&want_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, 0);
		neg[1] = cap_call(&want_msr, KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
		fs = fake_sys_new(neg, cases[i].exits ? 2 : 0);
		/* The default log level: WARNING and above reach the VMM. */
		ctx = logging_ctx(fs, 0);
		assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
		if (cases[i].exits)
			assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
		log_reset();
		assert_int_equal(cpuid_apply(vm), 0);
		assert_int_equal(log_worst, SEVMIG_LOG_WARNING);
		assert_non_null(strstr(log_text, cases[i].says));
		assert_true(readiness(vm) & cases[i].reason);
		sevmig_vm_free(vm);
		sevmig_ctx_free(ctx);
		fake_sys_done(fs);
	}
}

/* ---- MAP_GPA_RANGE at the 2^64 boundary ---- */

static void offer(struct fake_sys **fs, struct sevmig_vm **vm)
{
	neg[0] = cap_call(&want_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, 0);
	neg[1] = cap_call(&want_msr, KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
	neg[2] = (struct fake_call)FAKE_IOCTL_ANY(VM_FD, KVM_X86_SET_MSR_FILTER, 0);
	*fs = fake_sys_new(neg, 3);
	*vm = new_vm(fake_sys_ctx(*fs));
	assert_int_equal(sevmig_vm_ram_add(*vm, 0, 1ull << 30, NULL, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(*vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(*vm, NULL, 0), 0);
	assert_int_equal(cpuid_apply(*vm), 1);
}

static void test_map_gpa_range_2_64(void **state)
{
	const uint64_t einval = (uint64_t)-22, gpa = 0x100000;
	const uint64_t to_2_64 = (1ull << 52) - (gpa >> 12);
	const struct {
		uint64_t npages;
		uint64_t want;
	} cases[] = {
		{ to_2_64 - 1, 0 },		/* one page below 2^64 */
		{ to_2_64, 0 },			/* ends exactly at 2^64 */
		{ to_2_64 + 1, einval },	/* one page past */
		{ 0xfffffffffff01ull, einval },	/* below 2^52, end past 2^64 */
		{ (1ull << 52) - 1, einval },
	};
	struct fake_sys *fs;
	struct sevmig_vm *vm;

	(void)state;
	offer(&fs, &vm);
	for (uint64_t psz = 0; psz <= 2; psz++) {
		for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
			uint64_t ret = 7, before, after;

			assert_int_equal(sevmig_tracker_shared_pages(sevmig_vm_tracker(vm),
								     &before), 0);
			/* Decrypt: a wrong acceptance would share all RAM. */
			assert_int_equal(sevmig_vm_map_gpa_range(vm, gpa,
								 cases[i].npages,
								 psz,
								 SEVMIG_MAP_GPA_F_LONG_MODE,
								 &ret), 0);
			if (ret != cases[i].want)
				fail_msg("page size %llu, case %zu: ret 0x%llx, want 0x%llx",
					 (unsigned long long)psz, i,
					 (unsigned long long)ret,
					 (unsigned long long)cases[i].want);
			assert_int_equal(sevmig_tracker_shared_pages(sevmig_vm_tracker(vm),
								     &after), 0);
			if (ret == einval)
				assert_int_equal(after, before);	/* nothing changed */
			else
				/* RAM above gpa: [0x100, 0x40000) frames. */
				assert_int_equal(after, (1ull << 18) - 0x100);
			/* Back to all private for the next case. */
			assert_int_equal(sevmig_vm_map_gpa_range(vm, 0, 1ull << 18,
								 0x10 | psz,
								 SEVMIG_MAP_GPA_F_LONG_MODE,
								 &ret), 0);
			assert_int_equal(ret, 0);
		}
	}
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpus_pause_resume),
		cmocka_unit_test(test_states_refuse_running),
		cmocka_unit_test(test_guest_status_needs_platform),
		cmocka_unit_test(test_fw_shared_fresh_equals_reset),
		cmocka_unit_test(test_readiness_pieces_and_reinstall),
		cmocka_unit_test(test_veto_is_a_warning),
		cmocka_unit_test(test_map_gpa_range_2_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
