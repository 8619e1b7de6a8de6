// SPDX-License-Identifier: MIT
/*
 * The migration transport end to end (docs/simulator.md, "Transport"):
 * launch a guest with known memory on host A, SEND every page to host B,
 * RECEIVE, compare plaintext; then the tamper cases, each failing with the
 * firmware status the simulator documents, and host A's guest resumable
 * after SEND_CANCEL.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

#define NPAGES 16u
#define PG 4096u

static uint32_t mode;
static struct sevmig_sim *world;

struct mig {
	struct th a, b;
	int vm_a, vm_b;
	uint8_t *mem_a, *mem_b;
	uint8_t pdh_a[SEVMIG_SEV_CERT_LEN], chain_a[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t pdh_b[SEVMIG_SEV_CERT_LEN], chain_b[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t amd[AMD_CHAIN_4K_4K];
	uint32_t amd_len;
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t policy;
};

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Host A with a RUNNING guest, host B with an SEV-initialised VM. */
static void mig_setup(struct mig *m, uint32_t policy)
{
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	m->policy = policy;
	th_open(&m->a, world, NULL);
	th_open(&m->b, world, NULL);
	m->mem_a = th_pages(NPAGES);
	m->mem_b = th_pages(NPAGES);
	fill(m->mem_a, NPAGES * PG, 42);
	m->vm_a = th_vm(&m->a, KVM_X86_DEFAULT_VM);
	th_launch(&m->a, m->vm_a, policy, m->mem_a, NPAGES * PG);
	th_export(&m->a, m->pdh_a, m->chain_a);
	th_export(&m->b, m->pdh_b, m->chain_b);
	assert_int_equal(sevmig_sim_amd_chain(world, m->amd, sizeof(m->amd),
					      &len), 0);
	m->amd_len = (uint32_t)len;
	m->vm_b = th_vm(&m->b, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&m->b, m->vm_b, KVM_SEV_INIT, NULL, NULL),
			 0);
}

static void mig_teardown(struct mig *m)
{
	m->a.ops.close(m->a.ops.opaque, m->vm_a);
	m->b.ops.close(m->b.ops.opaque, m->vm_b);
	th_close(&m->a);
	th_close(&m->b);
	th_free_pages(m->mem_a, NPAGES);
	th_free_pages(m->mem_b, NPAGES);
}

static void start_session(struct mig *m)
{
	uint32_t err = 0;

	assert_int_equal(th_send_start(&m->a, m->vm_a, m->pdh_b, m->chain_b,
				       m->amd, m->amd_len, m->session, &err), 0);
	assert_int_equal(th_state(&m->a, m->vm_a), SEV_GSTATE_SUPDATE);
	assert_int_equal(th_receive_start(&m->b, m->vm_b, m->policy, m->pdh_a,
					  m->session, &err), 0);
	assert_int_equal(th_state(&m->b, m->vm_b), SEV_GSTATE_RUPDATE);
}

static void transfer_all(struct mig *m)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	uint32_t err = 0;

	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(th_send_page(&m->a, m->vm_a, m->mem_a + i * PG,
					      PG, hdr, trans, &err), 0);
		/* The transport really is ciphertext. */
		assert_memory_not_equal(trans, m->mem_a + i * PG, PG);
		assert_int_equal(th_recv_page(&m->b, m->vm_b, m->mem_b + i * PG,
					      PG, hdr, trans, &err), 0);
	}
}

static void roundtrip(uint32_t policy)
{
	struct mig m;
	uint32_t err = 0;

	mig_setup(&m, policy);
	start_session(&m);
	transfer_all(&m);
	assert_int_equal(th_op(&m.a, m.vm_a, KVM_SEV_SEND_FINISH, NULL,
			       &err), 0);
	assert_int_equal(th_state(&m.a, m.vm_a), SEV_GSTATE_SENT);
	assert_int_equal(th_op(&m.b, m.vm_b, KVM_SEV_RECEIVE_FINISH, NULL,
			       &err), 0);
	assert_int_equal(th_state(&m.b, m.vm_b), SEV_GSTATE_RUNNING);
	assert_memory_equal(m.mem_a, m.mem_b, NPAGES * PG);
	mig_teardown(&m);
}

static void test_roundtrip_plain(void **state)
{
	(void)state;
	roundtrip(0);
}

/* §6.1 SEV bit: the full ARK→ASK→CEK→PEK→PDH check passes on sim chains. */
static void test_roundtrip_sev_policy(void **state)
{
	(void)state;
	roundtrip(SEVMIG_GUEST_POLICY_SEV | SEVMIG_GUEST_POLICY_NODBG);
}

/* Expect RECEIVE_UPDATE_DATA of @hdr/@trans to fail with @fw, then
 * cancel on A and check A's guest is RUNNING and can start again. */
static void expect_recv_fail(struct mig *m, const uint8_t *hdr,
			     const uint8_t *trans, uint32_t fw)
{
	uint32_t err = 0;

	assert_int_equal(th_recv_page(&m->b, m->vm_b, m->mem_b, PG, hdr, trans,
				      &err), -EIO);
	assert_int_equal(err, fw);
	assert_int_equal(th_op(&m->a, m->vm_a, KVM_SEV_SEND_CANCEL, NULL,
			       &err), 0);
	assert_int_equal(th_state(&m->a, m->vm_a), SEV_GSTATE_RUNNING);
}

static void test_tamper_header_iv(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	hdr[4] ^= 0x01; /* IV */
	expect_recv_fail(&m, hdr, trans, SEV_RET_BAD_MEASUREMENT);
	mig_teardown(&m);
}

static void test_tamper_header_mac(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	hdr[51] ^= 0x80; /* last MAC byte */
	expect_recv_fail(&m, hdr, trans, SEV_RET_BAD_MEASUREMENT);
	mig_teardown(&m);
}

static void test_tamper_header_flags(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	hdr[0] |= 0x01; /* COMPRESSED: not supported */
	expect_recv_fail(&m, hdr, trans, SEV_RET_UNSUPPORTED);
	mig_teardown(&m);
}

static void test_tamper_ciphertext(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a + PG, PG, hdr,
				      trans, &err), 0);
	trans[1000] ^= 0x10;
	expect_recv_fail(&m, hdr, trans, SEV_RET_BAD_MEASUREMENT);
	/* Nothing was written to B's page. */
	for (unsigned i = 0; i < PG; i++)
		assert_int_equal(m.mem_b[i], 0);
	mig_teardown(&m);
}

/* A packet of an earlier session does not verify in a new one. */
static void test_packet_from_other_session(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;
	int vm_b2;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	assert_int_equal(th_op(&m.a, m.vm_a, KVM_SEV_SEND_CANCEL, NULL,
			       &err), 0);
	/* Second session A -> B into a fresh VM. */
	vm_b2 = th_vm(&m.b, KVM_X86_DEFAULT_VM);
	assert_int_equal(th_op(&m.b, vm_b2, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(th_send_start(&m.a, m.vm_a, m.pdh_b, m.chain_b, m.amd,
				       m.amd_len, m.session, &err), 0);
	assert_int_equal(th_receive_start(&m.b, vm_b2, 0, m.pdh_a, m.session,
					  &err), 0);
	assert_int_equal(th_recv_page(&m.b, vm_b2, m.mem_b, PG, hdr, trans,
				      &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	/* A packet of this session still works. */
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	assert_int_equal(th_recv_page(&m.b, vm_b2, m.mem_b, PG, hdr, trans,
				      &err), 0);
	assert_memory_equal(m.mem_a, m.mem_b, PG);
	m.b.ops.close(m.b.ops.opaque, vm_b2);
	mig_teardown(&m);
}

/* SEND_START to a third host's PDH: B cannot unwrap the session. */
static void test_wrong_target_pdh(void **state)
{
	uint8_t pdh_c[SEVMIG_SEV_CERT_LEN], chain_c[SEVMIG_PLAT_CHAIN_LEN];
	struct mig m;
	struct th c;
	uint32_t err = 0;

	(void)state;
	mig_setup(&m, 0);
	th_open(&c, world, NULL);
	th_export(&c, pdh_c, chain_c);
	assert_int_equal(th_send_start(&m.a, m.vm_a, pdh_c, chain_c, m.amd,
				       m.amd_len, m.session, &err), 0);
	assert_int_equal(th_receive_start(&m.b, m.vm_b, 0, m.pdh_a, m.session,
					  &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	/* B's VM has no guest; A cancels, resumes, and migrates to B. */
	assert_int_equal(th_op(&m.a, m.vm_a, KVM_SEV_SEND_CANCEL, NULL,
			       &err), 0);
	assert_int_equal(th_state(&m.a, m.vm_a), SEV_GSTATE_RUNNING);
	start_session(&m);
	transfer_all(&m);
	assert_memory_equal(m.mem_a, m.mem_b, NPAGES * PG);
	th_close(&c);
	mig_teardown(&m);
}

/* RECEIVE_START told the wrong source PDH (B's own). */
static void test_wrong_source_pdh(void **state)
{
	struct mig m;
	uint32_t err = 0;

	(void)state;
	mig_setup(&m, 0);
	assert_int_equal(th_send_start(&m.a, m.vm_a, m.pdh_b, m.chain_b, m.amd,
				       m.amd_len, m.session, &err), 0);
	assert_int_equal(th_receive_start(&m.b, m.vm_b, 0, m.pdh_b, m.session,
					  &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	mig_teardown(&m);
}

/* The policy travels outside the session: changing it breaks POLICY_MAC. */
static void test_policy_mac_mismatch(void **state)
{
	struct mig m;
	uint32_t err = 0;

	(void)state;
	mig_setup(&m, SEVMIG_GUEST_POLICY_NODBG);
	assert_int_equal(th_send_start(&m.a, m.vm_a, m.pdh_b, m.chain_b, m.amd,
				       m.amd_len, m.session, &err), 0);
	assert_int_equal(th_receive_start(&m.b, m.vm_b, 0, m.pdh_a, m.session,
					  &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	/* Flipped session byte (WRAP_TK) fails too, with the right policy. */
	m.session[0x10] ^= 1;
	assert_int_equal(th_receive_start(&m.b, m.vm_b, SEVMIG_GUEST_POLICY_NODBG,
					  m.pdh_a, m.session, &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	m.session[0x10] ^= 1;
	assert_int_equal(th_receive_start(&m.b, m.vm_b, SEVMIG_GUEST_POLICY_NODBG,
					  m.pdh_a, m.session, &err), 0);
	mig_teardown(&m);
}

/* Pages may be sent in any order and more than once (§6.4). */
static void test_resend_and_order(void **state)
{
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	struct mig m;
	uint32_t err;

	(void)state;
	mig_setup(&m, 0);
	start_session(&m);
	for (int i = (int)NPAGES - 1; i >= 0; i--) {
		assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a + i * PG, PG,
					      hdr, trans, &err), 0);
		assert_int_equal(th_recv_page(&m.b, m.vm_b, m.mem_b + i * PG, PG,
					      hdr, trans, &err), 0);
	}
	m.mem_a[5] ^= 0xff; /* the guest dirtied page 0: send it again */
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a, PG, hdr, trans,
				      &err), 0);
	assert_int_equal(th_recv_page(&m.b, m.vm_b, m.mem_b, PG, hdr, trans,
				      &err), 0);
	/* A 16-byte piece inside a page works too. */
	assert_int_equal(th_send_page(&m.a, m.vm_a, m.mem_a + 32, 16, hdr,
				      trans, &err), 0);
	assert_int_equal(th_recv_page(&m.b, m.vm_b, m.mem_b + 32, 16, hdr,
				      trans, &err), 0);
	assert_memory_equal(m.mem_a, m.mem_b, NPAGES * PG);
	mig_teardown(&m);
}

/* Several migrations at once between the same two hosts, one per thread
 * (no cmocka asserts off the main thread: each returns what went wrong). */
struct par {
	struct mig *m; /* shared hosts, certs and AMD chain */
	int result;
};

static int par_migrate(struct mig *m)
{
	struct kvm_sev_launch_start ls = { 0 };
	struct { uint64_t uaddr; uint32_t len, pad; } ud;
	uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[PG];
	uint8_t session[SEVMIG_SESSION_LEN], meas[48];
	uint8_t *a = th_pages(NPAGES), *b = th_pages(NPAGES);
	uint32_t err = 0;
	int va, vb, ret = 1;

	fill(a, NPAGES * PG, (uint32_t)(uintptr_t)a);
	va = th_ioctl_val(&m->a, m->a.kvm, KVM_CREATE_VM, 0);
	vb = th_ioctl_val(&m->b, m->b.kvm, KVM_CREATE_VM, 0);
	ud.uaddr = (uint64_t)(uintptr_t)a;
	ud.len = NPAGES * PG;
	ud.pad = 0;
	if (va < 0 || vb < 0 ||
	    th_op(&m->a, va, KVM_SEV_INIT, NULL, &err) ||
	    th_op(&m->a, va, KVM_SEV_LAUNCH_START, &ls, &err) ||
	    th_op(&m->a, va, KVM_SEV_LAUNCH_UPDATE_DATA, &ud, &err))
		goto out;
	ud.uaddr = (uint64_t)(uintptr_t)meas;
	ud.len = sizeof(meas);
	if (th_op(&m->a, va, KVM_SEV_LAUNCH_MEASURE, &ud, &err) ||
	    th_op(&m->a, va, KVM_SEV_LAUNCH_FINISH, NULL, &err) ||
	    th_send_start(&m->a, va, m->pdh_b, m->chain_b, m->amd, m->amd_len,
			  session, &err) ||
	    th_op(&m->b, vb, KVM_SEV_INIT, NULL, &err) ||
	    th_receive_start(&m->b, vb, 0, m->pdh_a, session, &err))
		goto out;
	for (unsigned i = 0; i < NPAGES; i++)
		if (th_send_page(&m->a, va, a + i * PG, PG, hdr, trans, &err) ||
		    th_recv_page(&m->b, vb, b + i * PG, PG, hdr, trans, &err))
			goto out;
	if (th_op(&m->a, va, KVM_SEV_SEND_FINISH, NULL, &err) ||
	    th_op(&m->b, vb, KVM_SEV_RECEIVE_FINISH, NULL, &err))
		goto out;
	ret = memcmp(a, b, NPAGES * PG) ? 2 : 0;
out:
	if (va >= 0)
		m->a.ops.close(m->a.ops.opaque, va);
	if (vb >= 0)
		m->b.ops.close(m->b.ops.opaque, vb);
	th_free_pages(a, NPAGES);
	th_free_pages(b, NPAGES);
	return ret;
}

static void *par_thread(void *arg)
{
	struct par *p = arg;

	for (int i = 0; i < 3 && !p->result; i++)
		p->result = par_migrate(p->m);
	return NULL;
}

static void test_parallel_migrations(void **state)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };
	struct par p[4];
	pthread_t t[4];
	struct mig m;

	(void)state;
	mig_setup(&m, 0);
	for (int i = 0; i < 4; i++) {
		p[i] = (struct par){ &m, -1 };
		p[i].result = 0;
		assert_int_equal(pthread_create(&t[i], NULL, par_thread, &p[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(p[i].result, 0);
	}
	/* Only host A's launched guest is left; B has none. */
	assert_int_equal(sevmig_sim_host_stats(m.a.host, &st), 0);
	assert_int_equal(st.guest_count, 1);
	assert_int_equal(sevmig_sim_host_stats(m.b.host, &st), 0);
	assert_int_equal(st.guest_count, 0);
	mig_teardown(&m);
}

static int group_setup(void **state)
{
	(void)state;
	world = th_world(mode);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sevmig_sim_free(world);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_roundtrip_sev_policy),
		cmocka_unit_test(test_resend_and_order),
		cmocka_unit_test(test_tamper_header_iv),
		cmocka_unit_test(test_tamper_header_mac),
		cmocka_unit_test(test_tamper_header_flags),
		cmocka_unit_test(test_tamper_ciphertext),
		cmocka_unit_test(test_packet_from_other_session),
		cmocka_unit_test(test_wrong_target_pdh),
		cmocka_unit_test(test_wrong_source_pdh),
		cmocka_unit_test(test_policy_mac_mismatch),
		cmocka_unit_test(test_parallel_migrations),
	};

	mode = th_mode_from_args(argc, argv);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
