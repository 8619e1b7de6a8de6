// SPDX-License-Identifier: MIT
/*
 * Conformance suite: one test per rule the simulator emulates (§3 /dev/sev,
 * §4 KVM_MEMORY_ENCRYPT_OP, §6 transport and policy: the sections of the
 * project's kernel-interface notes; docs/simulator.md lists the rules), named
 * after the rule. It runs against the simulator (argument
 * "memory" or "kvm") and against the real kernel (argument "real": needs
 * /dev/sev and an SEV-enabled KVM, else exit 77), so the simulator can be
 * held against hardware. Rules that need two hosts or simulator knobs are
 * marked sim-only and skipped on real hardware.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

#define PG 4096u

static bool real;
static uint32_t mode;
static struct sevmig_sim *world;
static struct th H;
static uint8_t *mem;

static int setup(void **state)
{
	(void)state;
	if (real)
		assert_true(th_open_real(&H));
	else
		th_open(&H, world, NULL);
	mem = th_pages(2);
	memset(mem, 0x5a, 2 * PG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_close(&H);
	th_free_pages(mem, 2);
	return 0;
}

#define SIM_ONLY()                                                   \
	do {                                                         \
		if (real)                                            \
			skip();                                      \
	} while (0)

static void vm_close(int fd)
{
	H.ops.close(H.ops.opaque, fd);
}

static int running_vm(uint32_t policy)
{
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	th_launch(&H, vm, policy, mem, PG);
	return vm;
}

/* ---------------------------------------------------------------- §3 */

static void r3_2_platform_status_any_fd(void **state)
{
	struct sev_user_data_status st;
	uint32_t err = 0xdead;
	int ro = H.ops.open(H.ops.opaque, "/dev/sev", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(ro >= 0);
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(th_sev(&H, ro, SEV_PLATFORM_STATUS, &st, &err), 0);
	assert_int_equal(err, 0);
	assert_true(st.state <= 2);
	assert_true(st.api_major > 0 || st.api_minor >= 16);
	H.ops.close(H.ops.opaque, ro);
}

static void r3_2_pdh_export_length_query(void **state)
{
	struct sev_user_data_pdh_cert_export e = { 0 };
	uint32_t err = 0;

	(void)state;
	assert_int_equal(th_sev(&H, H.sev, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, SEVMIG_SEV_CERT_LEN);
	assert_int_equal(e.cert_chain_len, SEVMIG_PLAT_CHAIN_LEN);
}

static void r3_2_pdh_export_blob_cap_efault(void **state)
{
	static uint8_t big[0x4001];
	struct sev_user_data_pdh_cert_export e = {
		.pdh_cert_address = (uint64_t)(uintptr_t)big,
		.pdh_cert_len = sizeof(big),
		.cert_chain_address = (uint64_t)(uintptr_t)big,
		.cert_chain_len = 100,
	};

	(void)state;
	assert_int_equal(th_sev(&H, H.sev, SEV_PDH_CERT_EXPORT, &e, NULL),
			 -EFAULT);
}

static void r3_2_pdh_export_small_buffers(void **state)
{
	static uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[100];
	struct sev_user_data_pdh_cert_export e = {
		.pdh_cert_address = (uint64_t)(uintptr_t)pdh,
		.pdh_cert_len = sizeof(pdh),
		.cert_chain_address = (uint64_t)(uintptr_t)chain,
		.cert_chain_len = sizeof(chain),
	};
	uint32_t err = 0;

	(void)state;
	assert_int_equal(th_sev(&H, H.sev, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.cert_chain_len, SEVMIG_PLAT_CHAIN_LEN);
}

static void r3_2_pdh_export_chain_verifies(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];

	(void)state;
	th_export(&H, pdh, chain);
	/* PEK || OCA || CEK; the PDH is signed by the PEK, the PEK by the OCA
	 * and the CEK. */
	assert_int_equal(sevmig_sim_cert_verify(pdh, sizeof(pdh), chain,
						SEVMIG_SEV_CERT_LEN, 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(chain, SEVMIG_SEV_CERT_LEN,
						chain + SEVMIG_SEV_CERT_LEN,
						SEVMIG_SEV_CERT_LEN, 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(chain, SEVMIG_SEV_CERT_LEN,
						chain + 2 * SEVMIG_SEV_CERT_LEN,
						SEVMIG_SEV_CERT_LEN, 0), 0);
}

static void r3_2_get_id2_length_query(void **state)
{
	uint8_t id[256];
	struct sev_user_data_get_id2 g = { 0 };
	uint32_t err = 0;
	int ret;

	(void)state;
	ret = th_sev(&H, H.sev, SEV_GET_ID2, &g, &err);
	if (ret == -ENOTSUPP)
		skip(); /* firmware older than 0.16 */
	assert_int_equal(ret, -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_true(g.length >= 64 && g.length <= sizeof(id));
	g.address = (uint64_t)(uintptr_t)id;
	assert_int_equal(th_sev(&H, H.sev, SEV_GET_ID2, &g, &err), 0);
}

static void r3_2_writable_fd_needed(void **state)
{
	int ro = H.ops.open(H.ops.opaque, "/dev/sev", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(ro >= 0);
	assert_int_equal(th_sev(&H, ro, SEV_PEK_GEN, NULL, NULL), -EPERM);
	assert_int_equal(th_sev(&H, ro, SEV_PDH_GEN, NULL, NULL), -EPERM);
	assert_int_equal(th_sev(&H, ro, SEV_FACTORY_RESET, NULL, NULL),
			 -EPERM);
	H.ops.close(H.ops.opaque, ro);
}

static void r3_1_bad_ioctl_and_cmd(void **state)
{
	struct sev_issue_cmd c = { .cmd = 200 };

	(void)state;
	assert_int_equal(th_ioctl(&H, H.sev, SEV_ISSUE_CMD, &c), -EINVAL);
	assert_int_equal(th_ioctl(&H, H.sev, SEV_ISSUE_CMD + 1, &c),
			 -EINVAL);
}

/* sim-only: a platform in UNINIT (newer kernels leave it so). */
static void r3_2_pdh_export_uninit_needs_writable(void **state)
{
	struct sevmig_sim_host_opts o = { .size = sizeof(o),
					  .state = SEVMIG_PLATFORM_UNINIT };
	struct sev_user_data_pdh_cert_export e = { 0 };
	struct sev_user_data_status st;
	struct th u;
	int ro;

	(void)state;
	SIM_ONLY();
	th_open(&u, world, &o);
	ro = u.ops.open(u.ops.opaque, "/dev/sev", O_RDONLY);
	assert_int_equal(th_sev(&u, ro, SEV_PDH_CERT_EXPORT, &e, NULL),
			 -EPERM);
	assert_int_equal(th_sev(&u, ro, SEV_PLATFORM_STATUS, &st, NULL), 0);
	assert_int_equal(st.state, 0);
	assert_int_equal(th_sev(&u, u.sev, SEV_PDH_CERT_EXPORT, &e, NULL),
			 -EIO);
	assert_int_equal(th_sev(&u, ro, SEV_PLATFORM_STATUS, &st, NULL), 0);
	assert_int_equal(st.state, 1);
	u.ops.close(u.ops.opaque, ro);
	th_close(&u);
}

/* sim-only: GET_ID2 needs API >= 0.16, else the leaked -ENOTSUPP. */
static void r3_2_get_id2_old_firmware(void **state)
{
	struct sevmig_sim_host_opts o = { .size = sizeof(o), .api_major = 0,
					  .api_minor = 14 };
	struct sev_user_data_get_id2 g = { 0 };
	struct th u;

	(void)state;
	SIM_ONLY();
	th_open(&u, world, &o);
	assert_int_equal(th_sev(&u, u.sev, SEV_GET_ID2, &g, NULL),
			 -ENOTSUPP);
	th_close(&u);
}

/* sim-only (destructive on a real host): key regeneration and reset. */
static void r3_4_pek_pdh_gen_and_reset(void **state)
{
	uint8_t pdh1[SEVMIG_SEV_CERT_LEN], pdh2[SEVMIG_SEV_CERT_LEN];
	uint8_t chain1[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t chain2[SEVMIG_PLAT_CHAIN_LEN];
	struct sev_user_data_status st;
	uint32_t err = 0;
	int vm;

	(void)state;
	SIM_ONLY();
	th_export(&H, pdh1, chain1);
	assert_int_equal(th_sev(&H, H.sev, SEV_PDH_GEN, NULL, &err), 0);
	th_export(&H, pdh2, chain2);
	assert_memory_not_equal(pdh1, pdh2, sizeof(pdh1));
	assert_memory_equal(chain1, chain2, sizeof(chain1)); /* same PEK */
	assert_int_equal(sevmig_sim_cert_verify(pdh2, sizeof(pdh2), chain2,
						SEVMIG_SEV_CERT_LEN, 0), 0);
	assert_int_equal(th_sev(&H, H.sev, SEV_PEK_GEN, NULL, &err), 0);
	th_export(&H, pdh1, chain1);
	assert_memory_not_equal(chain1, chain2, SEVMIG_SEV_CERT_LEN);
	/* With a guest the platform is WORKING: no PEK_GEN, no reset. */
	vm = running_vm(0);
	assert_int_equal(th_sev(&H, H.sev, SEV_PLATFORM_STATUS, &st, NULL),
			 0);
	assert_int_equal(st.state, 2);
	assert_int_equal(st.guest_count, 1);
	assert_int_equal(th_sev(&H, H.sev, SEV_PEK_GEN, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(th_sev(&H, H.sev, SEV_FACTORY_RESET, NULL, &err),
			 -EBUSY);
	vm_close(vm);
	/* Last guest gone: INIT again; reset goes to UNINIT with a new OCA. */
	assert_int_equal(th_sev(&H, H.sev, SEV_PLATFORM_STATUS, &st, NULL),
			 0);
	assert_int_equal(st.state, 1);
	assert_int_equal(th_sev(&H, H.sev, SEV_FACTORY_RESET, NULL, &err),
			 0);
	assert_int_equal(th_sev(&H, H.sev, SEV_PLATFORM_STATUS, &st, NULL),
			 0);
	assert_int_equal(st.state, 0);
	th_export(&H, pdh2, chain2);
	assert_memory_not_equal(chain1 + SEVMIG_SEV_CERT_LEN,
				chain2 + SEVMIG_SEV_CERT_LEN,
				SEVMIG_SEV_CERT_LEN);
}

/* ---------------------------------------------------------------- §4.2 */

static void r4_2_null_arg_is_sev_probe(void **state)
{
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_ioctl(&H, vm, KVM_MEMORY_ENCRYPT_OP, NULL), 0);
	vm_close(vm);
}

static void r4_2_not_sev_enotty_receive_einval(void **state)
{
	struct kvm_sev_guest_status st;
	struct kvm_sev_send_update_data d = { 0 };
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_GUEST_STATUS, &st, NULL),
			 -ENOTTY);
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_FINISH, NULL, NULL),
			 -ENOTTY);
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_UPDATE_DATA, &d,
			       NULL), -EINVAL);
	vm_close(vm);
}

static void r4_2_vmsa_migration_einval(void **state)
{
	uint8_t buf[64] = { 0 };
	int vm = running_vm(0);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_UPDATE_VMSA, buf,
			       NULL), -EINVAL);
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_UPDATE_VMSA, buf,
			       NULL), -EINVAL);
	assert_int_equal(th_op(&H, vm, KVM_SEV_CERT_EXPORT, buf, NULL),
			 -EINVAL);
	vm_close(vm);
}

static void r4_2_sev_fd_must_be_dev_sev(void **state)
{
	struct kvm_sev_launch_start ls = { 0 };
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op_fd(&H, vm, KVM_SEV_LAUNCH_START, &ls,
				  H.kvm, NULL), -EBADF);
	assert_int_equal(th_op_fd(&H, vm, KVM_SEV_LAUNCH_START, &ls,
				  9999, NULL), -EBADF);
	vm_close(vm);
}

static void r4_2_stored_sev_fd_must_stay_open(void **state)
{
	struct kvm_sev_launch_start ls = { 0 };
	struct kvm_sev_guest_status st;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);
	int fd2 = H.ops.open(H.ops.opaque, "/dev/sev", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op_fd(&H, vm, KVM_SEV_LAUNCH_START, &ls, fd2,
				  NULL), 0);
	/* Later commands use the stored number, whatever sev_fd says. */
	assert_int_equal(th_op_fd(&H, vm, KVM_SEV_GUEST_STATUS, &st, 9999,
				  NULL), 0);
	H.ops.close(H.ops.opaque, fd2);
	assert_int_equal(th_op(&H, vm, KVM_SEV_GUEST_STATUS, &st, NULL),
			 -EBADF);
	vm_close(vm);
}

static void r4_1_init_rules(void **state)
{
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM), vm2, vcpu;

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), -EINVAL);
	vm2 = th_vm(&H, KVM_X86_DEFAULT_VM);
	vcpu = th_vcpu(&H, vm2, 0);
	assert_int_equal(th_op(&H, vm2, KVM_SEV_INIT, NULL, NULL),
			 -EINVAL);
	H.ops.close(H.ops.opaque, vcpu);
	vm_close(vm2);
	vm_close(vm);
}

static void r4_1_sev_vm_type_needs_init2(void **state)
{
	struct { uint64_t f; uint32_t flags; uint16_t ghcb, pad1;
		 uint32_t pad2[8]; } init2 = { 0 };
	int ret = th_ioctl_val(&H, H.kvm, KVM_CREATE_VM,
			       KVM_X86_SEV_VM), vcpu;

	(void)state;
	if (real && ret < 0)
		skip(); /* kernel without KVM_X86_SEV_VM */
	assert_true(ret >= 0);
	assert_int_equal(th_op(&H, ret, KVM_SEV_INIT, NULL, NULL),
			 -EINVAL);
	vcpu = th_vcpu(&H, ret, 0);
	assert_int_equal(th_ioctl(&H, vcpu, KVM_RUN, NULL), -EINVAL);
	H.ops.close(H.ops.opaque, vcpu);
	vm_close(ret);
	ret = th_vm(&H, KVM_X86_SEV_VM);
	init2.flags = 1;
	assert_int_equal(th_op(&H, ret, KVM_SEV_INIT2, &init2, NULL),
			 -EINVAL);
	init2.flags = 0;
	assert_int_equal(th_op(&H, ret, KVM_SEV_INIT2, &init2, NULL), 0);
	assert_int_equal(th_op(&H, ret, KVM_SEV_INIT2, &init2, NULL),
			 -EINVAL);
	vm_close(ret);
}

struct init2 { /* struct kvm_sev_init */
	uint64_t vmsa_features;
	uint32_t flags;
	uint16_t ghcb_version, pad1;
	uint32_t pad2[8];
};

/* sev_guest_init2() / __sev_guest_init(): INIT2 only on a type-2/3 VM that
 * still needs it, its argument copied (EFAULT), no vCPU yet, flags and
 * vmsa_features 0 (nothing supported for plain SEV), ghcb_version 0 for
 * plain SEV; the pads are not looked at. */
static void r4_1_init2_argument_rules(void **state)
{
	struct init2 d = { 0 };
	int vm = th_ioctl_val(&H, H.kvm, KVM_CREATE_VM, KVM_X86_SEV_VM), v0;

	(void)state;
	if (real && vm < 0)
		skip(); /* kernel without KVM_X86_SEV_VM */
	assert_true(vm >= 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, NULL, NULL), -EFAULT);
	d.ghcb_version = 1;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	d.ghcb_version = 0;
	d.vmsa_features = 1;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	d.vmsa_features = 0;
	d.pad1 = 0xffff;
	d.pad2[7] = 0xffffffffu;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	vm_close(vm);
	/* Not on a type-0 VM, and not after a vCPU exists. */
	vm = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	vm_close(vm);
	vm = th_vm(&H, KVM_X86_SEV_VM);
	v0 = th_vcpu(&H, vm, 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	H.ops.close(H.ops.opaque, v0);
	vm_close(vm);
}

/* sim-only: a host without SEV-ES. sev_mem_enc_ioctl() answers ES_INIT
 * with ENOTTY before sev_guest_init() looks at the VM type, and KVM offers
 * no SEV-ES VM type (kvm_caps.supported_vm_types). */
static void r4_1_no_es_host(void **state)
{
	int vm, types;

	(void)state;
	SIM_ONLY();
	vm = th_vm(&H, KVM_X86_SEV_VM);
	assert_int_equal(th_op(&H, vm, KVM_SEV_ES_INIT, NULL, NULL), -ENOTTY);
	vm_close(vm);
	types = th_ioctl_val(&H, H.kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	assert_true(types > 0);
	assert_true(types & (1 << KVM_X86_SEV_VM));
	assert_false(types & (1 << KVM_X86_SEV_ES_VM));
	assert_int_equal(th_ioctl_val(&H, H.kvm, KVM_CREATE_VM,
				      KVM_X86_SEV_ES_VM), -EINVAL);
}

/* sim-only: a host with SEV-ES: the type-3 VM, INIT2's GHCB version (at
 * most 2), and the legacy ES_INIT on a type-0 VM. */
static void r4_1_es_host_init(void **state)
{
	struct sevmig_sim_host_opts o = { .size = sizeof(o),
					  .config = SEVMIG_SIM_CONFIG_ES };
	struct init2 d = { .ghcb_version = 3 };
	struct th e;
	int vm, types;

	(void)state;
	SIM_ONLY();
	th_open(&e, world, &o);
	types = th_ioctl_val(&e, e.kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	assert_true(types & (1 << KVM_X86_SEV_ES_VM));
	vm = th_vm(&e, KVM_X86_SEV_ES_VM);
	assert_int_equal(th_op(&e, vm, KVM_SEV_INIT2, &d, NULL), -EINVAL);
	d.ghcb_version = 2;
	assert_int_equal(th_op(&e, vm, KVM_SEV_INIT2, &d, NULL), 0);
	e.ops.close(e.ops.opaque, vm);
	vm = th_vm(&e, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&e, vm, KVM_SEV_ES_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&e, vm, KVM_SEV_INIT, NULL, NULL), -EINVAL);
	e.ops.close(e.ops.opaque, vm);
	vm = th_vm(&e, KVM_X86_SEV_VM);
	assert_int_equal(th_op(&e, vm, KVM_SEV_ES_INIT, NULL, NULL), -EINVAL);
	e.ops.close(e.ops.opaque, vm);
	th_close(&e);
}

/* ---------------------------------------------------------------- §3.4 */

static void r3_4_launch_state_machine(void **state)
{
	struct kvm_sev_launch_start ls = { 0 };
	struct { uint64_t uaddr; uint32_t len, pad; } m = { 0, 0, 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_LUPDATE);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_FINISH, NULL, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	/* LAUNCH_MEASURE length query. */
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_MEASURE, &m, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(m.len, 48);
	vm_close(vm);
}

static void r3_4_launch_update_alignment(void **state)
{
	struct kvm_sev_launch_start ls = { 0 };
	struct { uint64_t uaddr; uint32_t len, pad; } d = {
		(uint64_t)(uintptr_t)(mem + 8), 16, 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	d.len = 0;
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_UPDATE_DATA, &d,
			       &err), -EINVAL);
	vm_close(vm);
}

/* ---------------------------------------------------------------- §4.3 */

static void r4_3_send_start_length_query(void **state)
{
	struct kvm_sev_send_start s = { 0 };
	uint32_t err = 0;
	int vm = running_vm(0);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_START, &s, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(s.session_len, SEVMIG_SESSION_LEN);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_RUNNING);
	vm_close(vm);
}

static void r4_3_send_start_blobs_nonempty(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = running_vm(0);

	(void)state;
	th_export(&H, pdh, chain);
	/* No AMD chain: the kernel refuses although the policy needs none. */
	assert_int_equal(th_send_start(&H, vm, pdh, chain, NULL, 0, session,
				       &err), -EINVAL);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 0x4001,
				       session, &err), -EINVAL);
	vm_close(vm);
}

static void r4_3_send_start_not_running(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	struct kvm_sev_launch_start ls = { 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	th_export(&H, pdh, chain);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	vm_close(vm);
}

static void r4_3_nosend_policy_failure(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = running_vm(SEVMIG_GUEST_POLICY_NOSEND);

	(void)state;
	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	vm_close(vm);
}

/* sim-only: needs a second host and the world's AMD chain. */
static void r4_3_sev_policy_chain_checks(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN], amd[AMD_CHAIN_2K_2K];
	uint32_t err = 0;
	size_t len;
	struct th b;
	int vm;

	(void)state;
	SIM_ONLY();
	/* A sender on firmware 2.0 with a guest that needs API 2.0. */
	{
		struct sevmig_sim_host_opts o = { .size = sizeof(o),
						  .api_major = 2 };
		struct th s;
		int svm;

		th_open(&s, world, &o);
		svm = th_vm(&s, KVM_X86_DEFAULT_VM);
		th_launch(&s, svm, SEVMIG_GUEST_POLICY_SEV | (2u << 16), mem, PG);
		th_export(&H, pdh, chain);
		assert_int_equal(sevmig_sim_amd_chain(world, amd, sizeof(amd),
						      &len), 0);
		/* The receiver's PEK says 1.55 < 2.0. */
		assert_int_equal(th_send_start(&s, svm, pdh, chain, amd,
					       (uint32_t)len, session, &err),
				 -EIO);
		assert_int_equal(err, SEV_RET_POLICY_FAILURE);
		s.ops.close(s.ops.opaque, svm);
		th_close(&s);
	}
	th_open(&b, world, NULL);
	th_export(&b, pdh, chain);
	vm = running_vm(SEVMIG_GUEST_POLICY_SEV);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, amd, 1000, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	chain[200] ^= 1; /* the PEK's key: CEK and OCA signatures break */
	assert_int_equal(th_send_start(&H, vm, pdh, chain, amd, (uint32_t)len,
				       session, &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_SIGNATURE);
	chain[200] ^= 1;
	assert_int_equal(th_send_start(&H, vm, pdh, chain, amd, (uint32_t)len,
				       session, &err), 0);
	vm_close(vm);
	th_close(&b);
}

/* sim-only: DOMAIN needs the receiver's OCA to equal the sender's. */
static void r4_3_domain_policy_same_oca(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	struct th b;
	int vm;

	(void)state;
	SIM_ONLY();
	vm = running_vm(SEVMIG_GUEST_POLICY_DOMAIN);
	th_open(&b, world, NULL);
	th_export(&b, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	/* To itself (same OCA) it is allowed. */
	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), 0);
	vm_close(vm);
	th_close(&b);
}

/* ---------------------------------------------------------------- §4.4 */

static int supdate_vm(void)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = running_vm(0);

	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), 0);
	return vm;
}

static void r4_4_send_update_length_query(void **state)
{
	struct kvm_sev_send_update_data d = { 0 };
	uint32_t err = 0;
	int vm = supdate_vm();

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_UPDATE_DATA, &d, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(d.hdr_len, SEVMIG_PACKET_HDR_LEN);
	assert_int_equal(d.trans_len, 0);
	vm_close(vm);
}

static void r4_4_page_bounds(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[2 * PG];
	uint32_t err = 0;
	int vm = supdate_vm();

	(void)state;
	assert_int_equal(th_send_page(&H, vm, mem, PG + 16, hdr, trans, &err),
			 -EINVAL);
	assert_int_equal(th_send_page(&H, vm, mem + PG - 16, 32, hdr, trans,
				      &err), -EINVAL);
	assert_int_equal(th_send_page(&H, vm, mem + PG - 16, 16, hdr, trans,
				      &err), 0);
	assert_int_equal(th_send_page(&H, vm, NULL, 16, hdr, trans, &err),
			 -EINVAL);
	vm_close(vm);
}

static void r4_4_alignment_firmware(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	uint32_t err = 0;
	int vm = supdate_vm();

	(void)state;
	assert_int_equal(th_send_page(&H, vm, mem + 8, 16, hdr, trans, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_ADDRESS);
	assert_int_equal(th_send_page(&H, vm, mem, 24, hdr, trans, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	vm_close(vm);
}

static void r4_4_send_update_needs_supdate(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	uint32_t err = 0;
	int vm = running_vm(0);

	(void)state;
	assert_int_equal(th_send_page(&H, vm, mem, PG, hdr, trans, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	vm_close(vm);
}

/* ---------------------------------------------------------------- §4.5 */

static void r4_5_sent_is_terminal(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = supdate_vm();

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_FINISH, NULL, &err), 0);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_SENT);
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_CANCEL, NULL, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_FINISH, NULL, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	vm_close(vm);
}

static void r4_5_cancel_returns_to_running(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = supdate_vm();

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_CANCEL, NULL, &err), 0);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_RUNNING);
	assert_int_equal(th_op(&H, vm, KVM_SEV_SEND_CANCEL, NULL, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), 0);
	vm_close(vm);
}

/* ---------------------------------------------------------------- §4.6 */

static void r4_6_receive_start_kernel_checks(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN] = { 0 };
	struct kvm_sev_receive_start r = { 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	th_export(&H, pdh, chain);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_START, &r, &err),
			 -EINVAL);
	r.pdh_uaddr = (uint64_t)(uintptr_t)pdh;
	r.pdh_len = SEVMIG_SEV_CERT_LEN - 4;
	r.session_uaddr = (uint64_t)(uintptr_t)session;
	r.session_len = SEVMIG_SESSION_LEN;
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_START, &r, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	r.pdh_len = SEVMIG_SEV_CERT_LEN;
	r.session_len = 0x4001;
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_START, &r, &err),
			 -EINVAL);
	r.session_len = 64;
	assert_int_equal(th_op(&H, vm, KVM_SEV_RECEIVE_START, &r, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	vm_close(vm);
}

static void r4_6_receive_update_without_guest(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN] = { 0 }, trans[PG] = { 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	/* No RECEIVE_START: the stored sev fd (0) is not /dev/sev. */
	assert_int_equal(th_recv_page(&H, vm, mem, PG, hdr, trans, &err), -EBADF);
	vm_close(vm);
}

/* sim-only: a receiver in RUPDATE needs a real session from a sender. */
static void r4_6_receive_update_lengths(void **state)
{
	uint8_t pdh_a[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t pdh_b[SEVMIG_SEV_CERT_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct kvm_sev_send_update_data d;
	uint32_t err = 0;
	struct th b;
	int vm, vmb;

	(void)state;
	SIM_ONLY();
	vm = running_vm(0);
	th_open(&b, world, NULL);
	th_export(&H, pdh_a, chain);
	th_export(&b, pdh_b, chain);
	assert_int_equal(th_send_start(&H, vm, pdh_b, chain, chain, 1664,
				       session, &err), 0);
	vmb = th_vm(&b, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&b, vmb, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_receive_start(&b, vmb, 0, pdh_a, session, &err), 0);
	assert_int_equal(th_send_page(&H, vm, mem, 64, hdr, trans, &err), 0);
	d = (struct kvm_sev_send_update_data){
		.hdr_uaddr = (uint64_t)(uintptr_t)hdr, .hdr_len = 52,
		.guest_uaddr = (uint64_t)(uintptr_t)(mem + PG), .guest_len = 64,
		.trans_uaddr = (uint64_t)(uintptr_t)trans, .trans_len = 80 };
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d,
			       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	d.trans_len = 64;
	d.hdr_len = 0x4001;
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d,
			       &err), -EINVAL);
	d.hdr_len = 52;
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d,
			       &err), 0);
	assert_memory_equal(mem, mem + PG, 64);
	/* RECEIVE_FINISH: RUPDATE -> RUNNING, and only once. */
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_FINISH, NULL,
			       &err), 0);
	assert_int_equal(th_state(&b, vmb), SEV_GSTATE_RUNNING);
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_FINISH, NULL,
			       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	b.ops.close(b.ops.opaque, vmb);
	th_close(&b);
	vm_close(vm);
}

/* ---------------------------------------------------------------- §4.7 */

static void r4_7_guest_status_fields(void **state)
{
	struct kvm_sev_guest_status st = { 0 };
	uint32_t policy = SEVMIG_GUEST_POLICY_NODBG | SEVMIG_GUEST_POLICY_NOKS;
	int vm = running_vm(policy);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_GUEST_STATUS, &st, NULL), 0);
	assert_int_equal(st.policy, policy);
	assert_true(st.handle != 0);
	assert_int_equal(st.state, SEV_GSTATE_RUNNING);
	vm_close(vm);
}

/* ---------------------------------------------------------------- §6.1 */

static void r6_1_reserved_policy_bits(void **state)
{
	struct kvm_sev_launch_start ls = { .policy = 1u << 6 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	ls.policy = 0xffu << 16; /* API 255.0: newer than any firmware */
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	vm_close(vm);
}

static void r6_1_noks_forbids_key_sharing(void **state)
{
	struct kvm_sev_guest_status st = { 0 };
	struct kvm_sev_launch_start ls = { .policy = SEVMIG_GUEST_POLICY_NOKS };
	uint32_t err = 0;
	int vm = running_vm(SEVMIG_GUEST_POLICY_NOKS), vm2;

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_GUEST_STATUS, &st, NULL), 0);
	vm2 = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&H, vm2, KVM_SEV_INIT, NULL, NULL), 0);
	ls.handle = st.handle;
	assert_int_equal(th_op(&H, vm2, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	vm_close(vm2);
	vm_close(vm);
}

/* sim-only: a platform without SEV-ES. */
static void r6_1_es_policy_needs_es_platform(void **state)
{
	struct kvm_sev_launch_start ls = { .policy = SEVMIG_GUEST_POLICY_ES };
	uint32_t err = 0;
	int vm;

	(void)state;
	SIM_ONLY();
	vm = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&H, vm, KVM_SEV_ES_INIT, NULL, NULL),
			 -ENOTTY);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_UNSUPPORTED);
	vm_close(vm);
}

/* ------------------------------------------------ §6 transport rules */

/* A copy of @pdh with its version and key algorithm replaced. */
static void pdh_variant(uint8_t out[SEVMIG_SEV_CERT_LEN], const uint8_t *pdh,
			uint32_t version, uint32_t algo)
{
	struct sev_cert c;

	memcpy(&c, pdh, sizeof(c));
	c.version = version;
	c.pub_key_algo = algo;
	memcpy(out, &c, sizeof(c));
}

/* AMD-ASPFW sev_channel_open_client(): sev_cert_sanity_check(target PDH,
 * PDH, ECDH_SHA256) before any ECDH, whatever the guest policy. */
static void r6_2_send_start_target_pdh_ecdh_sha256(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t bad[SEVMIG_SEV_CERT_LEN], session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;
	int vm = running_vm(0);

	(void)state;
	th_export(&H, pdh, chain);
	pdh_variant(bad, pdh, 1, SEVMIG_CERT_ALGO_ECDH_SHA384);
	assert_int_equal(th_send_start(&H, vm, bad, chain, chain, 1664,
				       session, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_CERTIFICATE);
	pdh_variant(bad, pdh, 1, SEVMIG_CERT_ALGO_ECDSA_SHA256);
	assert_int_equal(th_send_start(&H, vm, bad, chain, chain, 1664,
				       session, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_CERTIFICATE);
	pdh_variant(bad, pdh, 2, SEVMIG_CERT_ALGO_ECDH_SHA256);
	assert_int_equal(th_send_start(&H, vm, bad, chain, chain, 1664,
				       session, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_CERTIFICATE);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_RUNNING);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664,
				       session, &err), 0);
	vm_close(vm);
}

/* AMD-ASPFW sev_mcmd_receive_start() -> sev_channel_open_server(): the
 * sender's PDH must be ECDH_SHA256 (INVALID_CERTIFICATE), checked before
 * the session's WRAP_MAC (BAD_MEASUREMENT). */
static void r6_2_receive_start_sender_pdh_ecdh_sha256(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t bad[SEVMIG_SEV_CERT_LEN];
	uint8_t session[SEVMIG_SESSION_LEN] = { 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	th_export(&H, pdh, chain);
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	pdh_variant(bad, pdh, 1, SEVMIG_CERT_ALGO_ECDH_SHA384);
	assert_int_equal(th_receive_start(&H, vm, 0, bad, session, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_CERTIFICATE);
	/* A good PDH gets as far as the (all-zero) session's MAC. */
	assert_int_equal(th_receive_start(&H, vm, 0, pdh, session, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	vm_close(vm);
}

/* sim-only: a receiver in RUPDATE needs a real session from a sender.
 * AMD-ASPFW sev_mcmd_receive_update(): lengths and address first, then
 * COMPRESSED is UNSUPPORTED; every other FLAGS bit is part of the MAC's
 * input (sev_channel_hmac), so it fails as a MAC failure. */
static void r6_4_receive_flags_mac_failure(void **state)
{
	uint8_t pdh_a[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t pdh_b[SEVMIG_SEV_CERT_LEN], session[SEVMIG_SESSION_LEN];
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	static const uint32_t unknown[] = { 1u << 1, 1u << 7, 1u << 31 };
	struct kvm_sev_send_update_data d;
	uint32_t err = 0, flags;
	struct th b;
	int vm, vmb;

	(void)state;
	SIM_ONLY();
	vm = running_vm(0);
	th_open(&b, world, NULL);
	th_export(&H, pdh_a, chain);
	th_export(&b, pdh_b, chain);
	assert_int_equal(th_send_start(&H, vm, pdh_b, chain, chain, 1664,
				       session, &err), 0);
	vmb = th_vm(&b, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&b, vmb, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_receive_start(&b, vmb, 0, pdh_a, session, &err),
			 0);
	assert_int_equal(th_send_page(&H, vm, mem, 64, hdr, trans, &err), 0);
	d = (struct kvm_sev_send_update_data){
		.hdr_uaddr = (uint64_t)(uintptr_t)hdr, .hdr_len = 52,
		.guest_uaddr = (uint64_t)(uintptr_t)(mem + PG), .guest_len = 64,
		.trans_uaddr = (uint64_t)(uintptr_t)trans, .trans_len = 64 };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		memcpy(&flags, hdr, 4);
		flags ^= unknown[i];
		memcpy(hdr, &flags, 4);
		assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA,
				       &d, &err), -EIO);
		assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
		flags ^= unknown[i];
		memcpy(hdr, &flags, 4);
	}
	flags = 1; /* COMPRESSED */
	memcpy(hdr, &flags, 4);
	d.trans_len = 80; /* lengths come first */
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	d.trans_len = 64;
	d.guest_uaddr += 8; /* then the address */
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_ADDRESS);
	d.guest_uaddr -= 8;
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_UNSUPPORTED);
	flags = 0;
	memcpy(hdr, &flags, 4);
	assert_int_equal(th_op(&b, vmb, KVM_SEV_RECEIVE_UPDATE_DATA, &d, &err),
			 0);
	assert_memory_equal(mem, mem + PG, 64);
	b.ops.close(b.ops.opaque, vmb);
	th_close(&b);
	vm_close(vm);
}

/* ----------------------------------------------------------- libsevmig */

/* The library's own probe, driven through the backend under test. */
static void r1_5_probe_sees_sev(void **state)
{
	struct sevmig_ctx_opts o = { .size = sizeof(o), .sys = &H.ops };
	struct sevmig_host_caps caps = { .size = sizeof(caps) };
	struct sevmig_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	assert_int_equal(sevmig_host_probe(ctx, &caps, 0), 0);
	assert_true(caps.flags & SEVMIG_HOST_KVM_SEV);
	assert_true(caps.flags & SEVMIG_HOST_SEV_DEVICE);
	assert_true(caps.flags & SEVMIG_HOST_SEV_STATUS);
	assert_int_equal(caps.kvm_sev_status, 0);
	assert_int_equal(caps.es_vmsa_probe_status, -EINVAL);
	assert_int_equal(caps.cross_host_reasons, 0);
	sevmig_ctx_free(ctx);
}

#define RULE(fn, name) { name, fn, setup, teardown, NULL }

int main(int argc, char **argv)
{
	const struct CMUnitTest rules[] = {
		RULE(r3_1_bad_ioctl_and_cmd, "§3.1 /dev/sev: other ioctls and cmd > SEV_MAX are EINVAL"),
		RULE(r3_2_platform_status_any_fd, "§3.2 PLATFORM_STATUS works on a read-only fd"),
		RULE(r3_2_writable_fd_needed, "§3.2 PEK_GEN/PDH_GEN/FACTORY_RESET need a writable fd (EPERM)"),
		RULE(r3_2_pdh_export_length_query, "§3.2/§8.8 PDH_CERT_EXPORT length query: EIO + INVALID_LEN, 2084/6252"),
		RULE(r3_2_pdh_export_small_buffers, "§3.2 PDH_CERT_EXPORT into short buffers: INVALID_LEN with lengths"),
		RULE(r3_2_pdh_export_blob_cap_efault, "§3.2 PDH_CERT_EXPORT length > 16 KiB: EFAULT (sic)"),
		RULE(r3_2_pdh_export_chain_verifies, "§3.2/§6.2 exported PDH/PEK/OCA/CEK signatures verify"),
		RULE(r3_2_pdh_export_uninit_needs_writable, "§3.2 PDH_CERT_EXPORT in UNINIT needs a writable fd, then INITs [sim]"),
		RULE(r3_2_get_id2_length_query, "§3.2 GET_ID2 length query: EIO + INVALID_LEN"),
		RULE(r3_2_get_id2_old_firmware, "§3.2 GET_ID2 before API 0.16: ENOTSUPP (524) [sim]"),
		RULE(r3_4_pek_pdh_gen_and_reset, "§3.2/§3.4 PDH_GEN, PEK_GEN (INIT only), FACTORY_RESET (EBUSY in WORKING) [sim]"),
		RULE(r4_2_null_arg_is_sev_probe, "§4.2 KVM_MEMORY_ENCRYPT_OP(NULL) returns 0 with SEV"),
		RULE(r4_2_not_sev_enotty_receive_einval, "§4.2 non-SEV VM: ENOTTY, but RECEIVE_UPDATE_DATA EINVAL"),
		RULE(r4_2_vmsa_migration_einval, "§4.2 SEND/RECEIVE_UPDATE_VMSA and CERT_EXPORT: EINVAL"),
		RULE(r4_2_sev_fd_must_be_dev_sev, "§4.2 sev_fd at LAUNCH_START must be /dev/sev (EBADF)"),
		RULE(r4_2_stored_sev_fd_must_stay_open, "§4.2/§8.10 later commands use the stored fd number (EBADF once closed)"),
		RULE(r4_1_init_rules, "§4.1 KVM_SEV_INIT: once only, before vCPUs (EINVAL)"),
		RULE(r4_1_sev_vm_type_needs_init2, "§4.1 SEV VM type: legacy INIT EINVAL, KVM_RUN EINVAL until INIT2, INIT2 flags 0"),
		RULE(r4_1_init2_argument_rules, "§4.1 INIT2: type 2/3 needing it, EFAULT, no vCPUs, flags/vmsa_features/ghcb_version checked, pads not (sev_guest_init2)"),
		RULE(r4_1_no_es_host, "§4.1 no SEV-ES: ES_INIT ENOTTY before the type check, no type-3 VMs [sim]"),
		RULE(r4_1_es_host_init, "§4.1 SEV-ES host: type-3 INIT2 with ghcb_version <= 2, legacy ES_INIT on type 0 only [sim]"),
		RULE(r3_4_launch_state_machine, "§3.4 LAUNCH_FINISH from LUPDATE: INVALID_GUEST_STATE; MEASURE query 48"),
		RULE(r3_4_launch_update_alignment, "§3.4 LAUNCH_UPDATE_DATA of length 0: EINVAL"),
		RULE(r4_3_send_start_length_query, "§4.3 SEND_START length query: EIO + INVALID_LEN, 128"),
		RULE(r4_3_send_start_blobs_nonempty, "§4.3 SEND_START: all three cert blobs non-empty and <= 16 KiB (EINVAL)"),
		RULE(r4_3_send_start_not_running, "§4.3 SEND_START outside RUNNING: INVALID_GUEST_STATE"),
		RULE(r4_3_nosend_policy_failure, "§4.3/§6.1 NOSEND: POLICY_FAILURE"),
		RULE(r4_3_sev_policy_chain_checks, "§4.3/§6.1 SEV bit: lengths, chain signatures, receiver API version [sim]"),
		RULE(r4_3_domain_policy_same_oca, "§4.3/§6.1 DOMAIN bit: receiver OCA must equal sender's [sim]"),
		RULE(r4_4_send_update_length_query, "§4.4 SEND_UPDATE_DATA query: hdr_len 52, trans_len 0"),
		RULE(r4_4_page_bounds, "§4.4/§8.9 one page at most, never crossing a page (EINVAL)"),
		RULE(r4_4_alignment_firmware, "§4.4 16-byte address (INVALID_ADDRESS) and length (INVALID_LEN)"),
		RULE(r4_4_send_update_needs_supdate, "§4.4 SEND_UPDATE_DATA outside SUPDATE: INVALID_GUEST_STATE"),
		RULE(r4_5_sent_is_terminal, "§4.5 SEND_FINISH: SENT is terminal"),
		RULE(r4_5_cancel_returns_to_running, "§4.5 SEND_CANCEL: back to RUNNING, SEND_START again"),
		RULE(r4_6_receive_start_kernel_checks, "§4.6 RECEIVE_START: non-empty blobs (EINVAL), pdh 2084 and session 128 (INVALID_LEN)"),
		RULE(r4_6_receive_update_without_guest, "§4.6 RECEIVE_UPDATE_DATA before RECEIVE_START: stored fd EBADF"),
		RULE(r4_6_receive_update_lengths, "§4.6 RECEIVE_UPDATE_DATA: trans_len == guest_len, blob caps; RECEIVE_FINISH [sim]"),
		RULE(r4_7_guest_status_fields, "§4.7 GUEST_STATUS: handle, policy, state"),
		RULE(r6_1_reserved_policy_bits, "§6.1 reserved policy bits / too new API: POLICY_FAILURE"),
		RULE(r6_1_noks_forbids_key_sharing, "§6.1 NOKS: no key sharing (POLICY_FAILURE)"),
		RULE(r6_1_es_policy_needs_es_platform, "§6.1 ES policy without SEV-ES platform: UNSUPPORTED [sim]"),
		RULE(r6_2_send_start_target_pdh_ecdh_sha256, "§6.2 SEND_START: target PDH version 1, ECDH_SHA256 exactly, else INVALID_CERTIFICATE (AMD-ASPFW sev_channel_open_client)"),
		RULE(r6_2_receive_start_sender_pdh_ecdh_sha256, "§6.2 RECEIVE_START: sender PDH ECDH_SHA256 exactly (INVALID_CERTIFICATE) before the WRAP_MAC (BAD_MEASUREMENT) (AMD-ASPFW sev_channel_open_server)"),
		RULE(r6_4_receive_flags_mac_failure, "§6.4 RECEIVE_UPDATE_DATA: unknown FLAGS bits fail the MAC (BAD_MEASUREMENT); COMPRESSED is UNSUPPORTED after lengths and address (AMD-ASPFW sev_mcmd_receive_update) [sim]"),
		RULE(r1_5_probe_sees_sev, "§1.5 sevmig_host_probe through the backend sees SEV"),
	};
	int ret;

	if (argc > 1 && !strcmp(argv[1], "real")) {
		struct th t;
		int vm;

		real = true;
		if (!th_open_real(&t)) {
			fprintf(stderr, "no /dev/sev or /dev/kvm: skipping real run\n");
			return TEST_SKIP;
		}
		vm = th_ioctl_val(&t, t.kvm, KVM_CREATE_VM, 0);
		ret = vm >= 0 ? th_ioctl(&t, vm, KVM_MEMORY_ENCRYPT_OP,
					 NULL) : vm;
		if (vm >= 0)
			t.ops.close(NULL, vm);
		th_close(&t);
		if (ret) {
			fprintf(stderr, "KVM without SEV: skipping real run\n");
			return TEST_SKIP;
		}
		return cmocka_run_group_tests_name("conformance-real", rules,
						   NULL, NULL);
	}
	mode = th_mode_from_args(argc, argv);
	world = th_world(mode);
	ret = cmocka_run_group_tests_name("conformance-sim", rules, NULL, NULL);
	sevmig_sim_free(world);
	return ret;
}
