// SPDX-License-Identifier: MIT
/*
 * sevmig_host_probe() on the scripted fake: every branch, every step failing
 * with the errnos the kernel can return there. A scenario describes the host;
 * build_script() turns it into the exact call sequence the probe must make.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "internal.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"

enum { KVM_FD = 10, VM_FD = 11, SEV_FD = 12 };

struct scenario {
	int kvm_open;		/* fd or -errno */
	int api_version;
	int exit_hc;		/* CHECK_EXTENSION results (>= 0 or -errno) */
	int user_msr, msr_filter, move, copy, vm_types;
	int create_vm_eintr;	/* number of EINTR answers before the result */
	int create_vm;		/* fd or -errno */
	int enc_op_null;	/* 0, -ENOTTY, ... */
	int vmsa_probe;		/* -EINVAL upstream */
	int sev_open_rw;	/* fd or -errno */
	int sev_open_ro;	/* used only when rw fails with EACCES/EPERM */
	int status_ret;
	uint32_t status_fw;
	struct sev_user_data_status status;
};

/* The machines this project runs on: software KVM, no SEV, no /dev/sev. */
static const struct scenario dev_machine = {
	.kvm_open = KVM_FD, .api_version = 12, .exit_hc = 0x1000,
	.user_msr = 1, .msr_filter = 1, .move = 1, .copy = 1, .vm_types = 1,
	.create_vm = VM_FD, .enc_op_null = -ENOTTY, .vmsa_probe = -EINVAL,
	.sev_open_rw = -ENOENT,
};

/* A Milan host with SEV enabled and the platform initialised. */
static const struct scenario sev_host = {
	.kvm_open = KVM_FD, .api_version = 12, .exit_hc = 0x1000,
	.user_msr = 1, .msr_filter = 1, .move = 1, .copy = 1, .vm_types = 0x1f,
	.create_vm = VM_FD, .enc_op_null = 0, .vmsa_probe = -EINVAL,
	.sev_open_rw = SEV_FD, .status_ret = 0,
	.status = { .api_major = 1, .api_minor = 55, .state = 1,
		    .flags = 0x0100, .build = 21, .guest_count = 3 },
};

struct script {
	struct fake_call calls[32];
	size_t n;
};

static void push(struct script *s, struct fake_call c)
{
	assert_true(s->n < ARRAY_LEN(s->calls));
	s->calls[s->n++] = c;
}

static void push_ext(struct script *s, unsigned long cap, int ret)
{
	push(s, (struct fake_call)FAKE_IOCTL_VAL(KVM_FD, KVM_CHECK_EXTENSION,
						 cap, ret));
}

static void build_script(const struct scenario *sc, struct script *s)
{
	struct fake_call c;

	s->n = 0;
	c = (struct fake_call)FAKE_OPEN("/dev/kvm", sc->kvm_open);
	c.oflags_mask = O_RDWR | O_CLOEXEC;
	push(s, c);
	if (sc->kvm_open >= 0) {
		push(s, (struct fake_call)FAKE_IOCTL_VAL(
			KVM_FD, KVM_GET_API_VERSION, 0, sc->api_version));
		if (sc->api_version == 12) {
			push_ext(s, KVM_CAP_EXIT_HYPERCALL, sc->exit_hc);
			push_ext(s, KVM_CAP_X86_USER_SPACE_MSR, sc->user_msr);
			push_ext(s, KVM_CAP_X86_MSR_FILTER, sc->msr_filter);
			push_ext(s, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, sc->move);
			push_ext(s, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, sc->copy);
			push_ext(s, KVM_CAP_VM_TYPES, sc->vm_types);
			for (int i = 0; i < sc->create_vm_eintr; i++)
				push(s, (struct fake_call)FAKE_IOCTL_VAL(
					KVM_FD, KVM_CREATE_VM, 0, -EINTR));
			push(s, (struct fake_call)FAKE_IOCTL_VAL(
				KVM_FD, KVM_CREATE_VM, 0, sc->create_vm));
			if (sc->create_vm >= 0) {
				push(s, (struct fake_call)FAKE_IOCTL_NULL(
					VM_FD, KVM_MEMORY_ENCRYPT_OP,
					sc->enc_op_null));
				if (sc->enc_op_null == 0) {
					static const struct kvm_sev_cmd vmsa = {
						.id = KVM_SEV_SEND_UPDATE_VMSA,
					};
					c = (struct fake_call)FAKE_IOCTL_ANY(
						VM_FD, KVM_MEMORY_ENCRYPT_OP,
						sc->vmsa_probe);
					c.in = &vmsa;
					c.in_len = sizeof(vmsa);
					push(s, c);
				}
				push(s, (struct fake_call)FAKE_CLOSE(VM_FD, 0));
			}
		}
		push(s, (struct fake_call)FAKE_CLOSE(KVM_FD, 0));
	}

	c = (struct fake_call)FAKE_OPEN("/dev/sev", sc->sev_open_rw);
	c.oflags_mask = O_RDWR | O_CLOEXEC;
	push(s, c);
	int sev_fd = sc->sev_open_rw;
	if (sev_fd == -EACCES || sev_fd == -EPERM) {
		c = (struct fake_call)FAKE_OPEN("/dev/sev", sc->sev_open_ro);
		push(s, c);
		sev_fd = sc->sev_open_ro;
	}
	if (sev_fd >= 0) {
		static struct sev_issue_cmd want = {
			.cmd = SEV_PLATFORM_STATUS };
		static const unsigned char mask[16] = {
			1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };

		c = (struct fake_call)FAKE_IOCTL_ANY(sev_fd, SEV_ISSUE_CMD,
						     sc->status_ret);
		c.in = &want;
		c.in_len = sizeof(want);
		c.in_mask = mask;
		c.nested_off = offsetof(struct sev_issue_cmd, data);
		if (sc->status_ret == 0) {
			c.nested_out = &sc->status;
			c.nested_out_len = sizeof(sc->status);
		}
		if (sc->status_fw) {
			/* The driver's `error`, written on EIO. */
			static struct sev_issue_cmd out;

			out = want;
			out.error = sc->status_fw;
			c.out = &out;
			c.out_len = sizeof(out);
			c.in = NULL;
		}
		push(s, c);
		push(s, (struct fake_call)FAKE_CLOSE(sev_fd, 0));
	}
}

static void run(const struct scenario *sc, struct sevmig_host_caps *caps)
{
	struct script s;
	struct fake_sys *fs;

	build_script(sc, &s);
	fs = fake_sys_new(s.calls, s.n);
	memset(caps, 0, sizeof(*caps));
	caps->size = sizeof(*caps);
	assert_int_equal(sevmig_host_probe(fake_sys_ctx(fs), caps, 0), 0);
	assert_int_equal(caps->size, sizeof(*caps));
	fake_sys_done(fs);
}

static void test_dev_machine(void **state)
{
	struct sevmig_host_caps c;

	(void)state;
	run(&dev_machine, &c);
	assert_int_equal(c.kvm_status, 0);
	assert_int_equal(c.kvm_api_version, 12);
	assert_int_equal(c.exit_hypercall_mask, 0x1000);
	assert_int_equal(c.flags & (SEVMIG_HOST_KVM | SEVMIG_HOST_EXIT_HC_MAP_GPA |
				    SEVMIG_HOST_USER_SPACE_MSR | SEVMIG_HOST_MSR_FILTER),
			 SEVMIG_HOST_KVM | SEVMIG_HOST_EXIT_HC_MAP_GPA |
			 SEVMIG_HOST_USER_SPACE_MSR | SEVMIG_HOST_MSR_FILTER);
	assert_false(c.flags & SEVMIG_HOST_KVM_SEV);
	assert_int_equal(c.kvm_sev_status, -ENOTTY);
	assert_int_equal(c.sev_dev_status, -ENOENT);
	assert_int_equal(c.vm_types, 1);
	assert_true(c.flags & SEVMIG_HOST_VM_TYPES);
	assert_int_equal(c.cross_host_reasons,
			 SEVMIG_REASON_KVM_NO_SEV | SEVMIG_REASON_NO_SEV_DEVICE);
	assert_int_equal(c.intra_host_reasons, SEVMIG_REASON_KVM_NO_SEV);
	assert_int_equal(c.mirror_reasons, SEVMIG_REASON_KVM_NO_SEV);
	assert_true(c.es_cross_host_reasons & SEVMIG_REASON_ES_NO_VMSA_MIGRATION);
}

static void test_sev_host(void **state)
{
	struct sevmig_host_caps c;

	(void)state;
	run(&sev_host, &c);
	assert_true(c.flags & SEVMIG_HOST_KVM_SEV);
	assert_true(c.flags & SEVMIG_HOST_SEV_DEVICE);
	assert_true(c.flags & SEVMIG_HOST_SEV_STATUS);
	assert_true(c.flags & SEVMIG_HOST_SEV_ES_INIT);
	assert_false(c.flags & SEVMIG_HOST_SEV_EXT_OWNED);
	assert_int_equal(c.sev_api_major, 1);
	assert_int_equal(c.sev_api_minor, 55);
	assert_int_equal(c.sev_build, 21);
	assert_int_equal(c.sev_state, SEVMIG_PLATFORM_INIT);
	assert_int_equal(c.sev_config, 1);
	assert_int_equal(c.sev_guest_count, 3);
	assert_int_equal(c.es_vmsa_probe_status, -EINVAL);
	assert_int_equal(c.cross_host_reasons, 0);
	assert_int_equal(c.intra_host_reasons, 0);
	assert_int_equal(c.mirror_reasons, 0);
	assert_int_equal(c.es_cross_host_reasons,
			 SEVMIG_REASON_ES_NO_VMSA_MIGRATION);
}

static void test_platform_states_and_owner(void **state)
{
	static const uint32_t want[] = { SEVMIG_PLATFORM_UNINIT,
					 SEVMIG_PLATFORM_INIT,
					 SEVMIG_PLATFORM_WORKING, 0 };
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	for (uint8_t st = 0; st < 4; st++) {
		sc.status.state = st;
		sc.status.flags = 1;	/* owner external, no ES */
		run(&sc, &c);
		assert_int_equal(c.sev_state, want[st]);
		assert_true(c.flags & SEVMIG_HOST_SEV_EXT_OWNED);
		assert_false(c.flags & SEVMIG_HOST_SEV_ES_INIT);
	}
}

static void test_kvm_open_fails(void **state)
{
	static const int errs[] = { -ENOENT, -EACCES, -EPERM, -ENXIO, -EMFILE };
	struct scenario sc = dev_machine;
	struct sevmig_host_caps c;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
		sc.kvm_open = errs[i];
		run(&sc, &c);
		assert_int_equal(c.kvm_status, errs[i]);
		assert_false(c.flags & SEVMIG_HOST_KVM);
		assert_true(c.cross_host_reasons & SEVMIG_REASON_NO_KVM);
		assert_int_equal(c.intra_host_reasons, SEVMIG_REASON_NO_KVM);
		assert_int_equal(c.mirror_reasons, SEVMIG_REASON_NO_KVM);
		/* No KVM-derived reason beyond "no KVM". */
		assert_false(c.cross_host_reasons & SEVMIG_REASON_NO_EXIT_HYPERCALL);
	}
}

static void test_api_version(void **state)
{
	static const int vers[] = { 11, 13, -EINVAL };
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(vers); i++) {
		sc.api_version = vers[i];
		run(&sc, &c);
		assert_int_equal(c.kvm_api_version, vers[i]);
		assert_int_equal(c.cross_host_reasons,
				 SEVMIG_REASON_KVM_API_VERSION);
		assert_int_equal(c.intra_host_reasons,
				 SEVMIG_REASON_KVM_API_VERSION);
	}
}

static void test_caps_missing(void **state)
{
	struct sevmig_host_caps c;
	struct scenario sc;

	(void)state;
	/* Each capability absent (0) or the check failing (-EINVAL). */
	for (int v = 0; v >= -EINVAL; v -= EINVAL) {
		sc = sev_host; sc.exit_hc = v; run(&sc, &c);
		assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_NO_EXIT_HYPERCALL);
		assert_int_equal(c.intra_host_reasons, 0);

		sc = sev_host; sc.user_msr = v; run(&sc, &c);
		assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_NO_USER_SPACE_MSR);

		sc = sev_host; sc.msr_filter = v; run(&sc, &c);
		assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_NO_MSR_FILTER);

		sc = sev_host; sc.move = v; run(&sc, &c);
		assert_int_equal(c.cross_host_reasons, 0);
		assert_int_equal(c.intra_host_reasons, SEVMIG_REASON_NO_MOVE_ENC_CONTEXT);
		assert_int_equal(c.mirror_reasons, 0);

		sc = sev_host; sc.copy = v; run(&sc, &c);
		assert_int_equal(c.mirror_reasons, SEVMIG_REASON_NO_COPY_ENC_CONTEXT);
		assert_int_equal(c.intra_host_reasons, 0);

		sc = sev_host; sc.vm_types = v; run(&sc, &c);
		assert_false(c.flags & SEVMIG_HOST_VM_TYPES);
		assert_int_equal(c.cross_host_reasons, 0);
	}
	/* A mask without bit 12 (a kernel forwarding other hypercalls). */
	sc = sev_host; sc.exit_hc = 0x2; run(&sc, &c);
	assert_int_equal(c.exit_hypercall_mask, 0x2);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_NO_EXIT_HYPERCALL);
}

static void test_create_vm(void **state)
{
	static const int errs[] = { -ENOMEM, -EMFILE, -EINVAL, -EPERM };
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	sc.create_vm_eintr = 2;	/* retried */
	run(&sc, &c);
	assert_int_equal(c.cross_host_reasons, 0);
	sc.create_vm_eintr = 0;
	for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
		sc.create_vm = errs[i];
		run(&sc, &c);
		assert_int_equal(c.kvm_sev_status, errs[i]);
		assert_false(c.flags & SEVMIG_HOST_KVM_SEV);
		assert_int_equal(c.cross_host_reasons,
				 SEVMIG_REASON_KVM_SEV_PROBE_FAILED);
		assert_int_equal(c.intra_host_reasons,
				 SEVMIG_REASON_KVM_SEV_PROBE_FAILED);
	}
}

static void test_kvm_sev_probe(void **state)
{
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	/* Very old kernels answer EFAULT to the NULL argument. */
	sc.enc_op_null = -EFAULT;
	run(&sc, &c);
	assert_int_equal(c.kvm_sev_status, -EFAULT);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_KVM_SEV_PROBE_FAILED);
	sc.enc_op_null = -ENOTTY;
	run(&sc, &c);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_KVM_NO_SEV);
	/* A kernel that knows SEND_UPDATE_VMSA: recorded, verdict still no. */
	sc = sev_host;
	sc.vmsa_probe = -ENOTTY;
	run(&sc, &c);
	assert_int_equal(c.es_vmsa_probe_status, -ENOTTY);
	assert_int_equal(c.es_cross_host_reasons,
			 SEVMIG_REASON_ES_NO_VMSA_MIGRATION);
}

static void test_sev_device(void **state)
{
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	sc.sev_open_rw = -ENODEV;
	run(&sc, &c);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_NO_SEV_DEVICE);
	assert_int_equal(c.intra_host_reasons, 0);	/* /dev/sev not needed */

	/* No write permission: status still read through a read-only fd. */
	sc.sev_open_rw = -EACCES;
	sc.sev_open_ro = SEV_FD;
	run(&sc, &c);
	assert_true(c.flags & SEVMIG_HOST_SEV_DEVICE_RO);
	assert_false(c.flags & SEVMIG_HOST_SEV_DEVICE);
	assert_true(c.flags & SEVMIG_HOST_SEV_STATUS);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_SEV_DEVICE_ACCESS);

	sc.sev_open_rw = -EPERM;
	sc.sev_open_ro = -EACCES;
	run(&sc, &c);
	assert_false(c.flags & SEVMIG_HOST_SEV_STATUS);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_SEV_DEVICE_ACCESS);
}

static void test_platform_status_fails(void **state)
{
	static const int errs[] = { -EFAULT, -ENODEV, -EINVAL };
	struct scenario sc = sev_host;
	struct sevmig_host_caps c;

	(void)state;
	sc.status_ret = -EIO;
	sc.status_fw = SEV_RET_INVALID_PLATFORM_STATE;
	run(&sc, &c);
	assert_int_equal(c.sev_platform_status, -EIO);
	assert_int_equal(c.sev_fw_error, 1);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_SEV_STATUS_FAILED);

	sc.status_fw = 0;
	for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
		sc.status_ret = errs[i];
		run(&sc, &c);
		assert_int_equal(c.sev_platform_status, errs[i]);
		assert_int_equal(c.sev_fw_error, 0);
		assert_int_equal(c.cross_host_reasons,
				 SEVMIG_REASON_SEV_STATUS_FAILED);
	}
	sc.status_ret = -ETIMEDOUT;
	run(&sc, &c);
	assert_int_equal(c.cross_host_reasons, SEVMIG_REASON_SEV_STATUS_FAILED |
			 SEVMIG_REASON_PSP_DEAD);
}

static void test_bad_args(void **state)
{
	struct { struct sevmig_host_caps c; uint64_t extra; } big;
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_host_caps c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	assert_int_equal(sevmig_host_probe(NULL, &c, 0), -EINVAL);
	assert_int_equal(sevmig_host_probe(ctx, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_host_probe(ctx, &c, 1), -EINVAL);
	c.size = 8;
	assert_int_equal(sevmig_host_probe(ctx, &c, 0), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs), "first published version"));
	memset(&big, 0, sizeof(big));
	big.c.size = sizeof(big);
	big.extra = 1;
	assert_int_equal(sevmig_host_probe(ctx, &big.c, 0), -E2BIG);
	assert_non_null(strstr(fake_sys_last_error(fs), "sevmig_host_probe"));
	assert_non_null(strstr(fake_sys_last_error(fs), "non-zero fields past its end"));
	/* No call reached the backend. */
	assert_int_equal(fake_sys_calls(fs), 0);
	fake_sys_done(fs);
}

static void test_larger_record_zero_tail(void **state)
{
	struct { struct sevmig_host_caps c; uint64_t extra; } big;
	struct script s;
	struct fake_sys *fs;

	(void)state;
	build_script(&dev_machine, &s);
	fs = fake_sys_new(s.calls, s.n);
	memset(&big, 0, sizeof(big));
	big.c.size = sizeof(big);
	assert_int_equal(sevmig_host_probe(fake_sys_ctx(fs), &big.c, 0), 0);
	/* We say how much we wrote; the caller's extra field stays zero. */
	assert_int_equal(big.c.size, sizeof(struct sevmig_host_caps));
	assert_int_equal(big.extra, 0);
	assert_int_equal(big.c.exit_hypercall_mask, 0x1000);
	fake_sys_done(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_machine),
		cmocka_unit_test(test_sev_host),
		cmocka_unit_test(test_platform_states_and_owner),
		cmocka_unit_test(test_kvm_open_fails),
		cmocka_unit_test(test_api_version),
		cmocka_unit_test(test_caps_missing),
		cmocka_unit_test(test_create_vm),
		cmocka_unit_test(test_kvm_sev_probe),
		cmocka_unit_test(test_sev_device),
		cmocka_unit_test(test_platform_status_fails),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_larger_record_zero_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
