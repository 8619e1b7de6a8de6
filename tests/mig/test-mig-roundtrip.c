// SPDX-License-Identifier: MIT
/*
 * Migration sessions end to end on the simulator (memory mode, and KVM mode
 * with "kvm"): a source VM's memory, page-state map and MSR value arrive
 * equal on the destination; pages dirtied or converted between passes, and
 * while a pass runs on other threads, arrive in their last form; VMM
 * records pass through in order; the handles end SENT and LIVE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig-test.h"
#include "test-util.h"

static uint32_t mode = SEVMIG_SIM_MODE_MEMORY;

static struct sevmig_send *send_new(struct mt *t)
{
	struct sevmig_send_opts o = { .size = sizeof(o), .channels = t->src.ch,
				      .nr_channels = t->nch };
	struct sevmig_send *s = NULL;
	uint64_t why = 0;

	assert_int_equal(sevmig_send_new(t->src.vm, &o, &s, &why), 0);
	assert_int_equal(why, 0);
	return s;
}

static void finish_ok(struct mt *t, struct sevmig_send *s)
{
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	uint32_t fw = 0, state = 0;

	assert_int_equal(sevmig_vm_pause(t->src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, &fw), 0);
	assert_int_equal(mt_receive_join(t), 0);
	assert_int_equal(sevmig_send_stats(s, &st), 0);
	assert_int_equal(st.phase, SEVMIG_MIG_COMMITTED);
	assert_true(st.downtime_ns > 0);
	assert_true(st.psp_commands > 0 && st.psp_ns_p99 >= st.psp_ns_min &&
		    st.psp_ns_p99 <= st.psp_ns_max);
	mt_assert_equal(t);
	assert_int_equal(sevmig_vm_state(t->src.vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_SENT);
	assert_int_equal(sevmig_vm_state(t->dst.vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_LIVE);
	assert_int_equal(th_state(&t->src.h, t->src.vm_fd), SEV_GSTATE_SENT);
	assert_int_equal(th_state(&t->dst.h, t->dst.vm_fd), SEV_GSTATE_RUNNING);
	/* The source refuses to run again; the destination runs. */
	assert_int_equal(sevmig_vm_resume(t->src.vm, 0), -ESTALE);
	assert_int_equal(sevmig_vm_resume(t->dst.vm, 0), 0);
	assert_int_equal(sevmig_receive_stats(t->recv, &st), 0);
	assert_int_equal(st.phase, SEVMIG_MIG_COMMITTED);
	sevmig_send_free(s);
}

static void test_basic(void **state)
{
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_send *s;
	struct mt t;
	uint64_t why = 0;

	(void)state;
	mt_setup(&t, mode, 300, 1);
	mt_fill(&t, 1);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, &why, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pass, 1);
	assert_int_equal(pi.pages_private + pi.pages_shared, 300);
	assert_true(pi.pages_shared > 0 && pi.pages_private > 0);
	finish_ok(&t, s);
	mt_teardown(&t);
}

static void test_dirty_and_converted(void **state)
{
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_send *s;
	uint8_t bitmap[64];
	uint64_t hc;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 512, 3);
	mt_fill(&t, 2);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	/* The guest writes pages 10..13 and converts 100 (private->shared)
	 * and 3 (shared->private) between passes. */
	memset(t.src.mem + 10 * 4096, 0xab, 4 * 4096);
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[1] = 0x3c;	/* pages 10-13 */
	assert_int_equal(sevmig_send_mark_dirty(s, 0, 512 * 4096, bitmap, 0), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(t.src.vm, 100 * 4096, 1, 0,
						 SEVMIG_MAP_GPA_F_LONG_MODE, &hc), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(t.src.vm, 3 * 4096, 1, 0x10,
						 SEVMIG_MAP_GPA_F_LONG_MODE, &hc), 0);
	memset(t.src.mem + 100 * 4096, 0x5a, 4096);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	/* Exactly the dirtied and converted pages went again; 10 and 11 are
	 * shared (mt_fill), 100 now is. */
	assert_int_equal(pi.pages_private + pi.pages_shared, 6);
	assert_int_equal(pi.pages_shared, 3);
	finish_ok(&t, s);
	assert_int_equal(mt_state(&t.dst, 100), SEVMIG_PAGE_SHARED);
	assert_int_equal(mt_state(&t.dst, 3), SEVMIG_PAGE_PRIVATE);
	mt_teardown(&t);
}

/* A "vCPU" converting and writing pages while passes run. */
struct churn {
	struct mt *t;
	struct sevmig_send *s;
	volatile int stop;
	uint64_t flips;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	uint64_t x = 12345, hc;

	while (!c->stop) {
		uint64_t page, attrs;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		page = (x >> 33) % c->t->src.pages;
		attrs = (x >> 20) & 1 ? 0x10 : 0;
		c->t->src.mem[page * 4096 + (x >> 40) % 4096] ^= 0xff;
		if (sevmig_send_mark_dirty(c->s, page * 4096, 4096, NULL, 0))
			break;
		if (sevmig_vm_map_gpa_range(c->t->src.vm, page * 4096, 1, attrs,
					    SEVMIG_MAP_GPA_F_LONG_MODE, &hc))
			break;
		c->flips++;
	}
	return NULL;
}

static void test_concurrent_churn(void **state)
{
	struct churn c = { 0 };
	pthread_t th;
	struct sevmig_send *s;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 1024, 2);
	mt_fill(&t, 3);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	c.t = &t;
	c.s = s;
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	c.stop = 1;
	pthread_join(th, NULL);
	assert_true(c.flips > 0);
	finish_ok(&t, s);
	mt_teardown(&t);
}

/* VMM records arrive in order, unchanged. */
struct vmm_seen {
	uint32_t n;
	uint32_t types[4];
	size_t lens[4];
	unsigned char first[16];
};

static int on_record(void *opaque, uint32_t type, const void *buf, size_t len)
{
	struct vmm_seen *v = opaque;

	if (v->n < 4) {
		v->types[v->n] = type;
		v->lens[v->n] = len;
		if (!v->n && len >= 16)
			memcpy(v->first, buf, 16);
	}
	v->n++;
	return 0;
}

static void test_vmm_records(void **state)
{
	struct sevmig_receive_opts ro = { .size = sizeof(ro) };
	struct vmm_seen seen = { 0 };
	static unsigned char big[1 << 20];
	struct sevmig_send *s;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 64, 1);
	mt_fill(&t, 4);
	ro.record = on_record;
	ro.record_opaque = &seen;
	mt_receive_start(&t, &ro);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_record(s, 0x1000, "0123456789abcdef", 16, 0), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_send_record(s, 0x0fff, "x", 1, 0), -EINVAL);
	memset(big, 0x77, sizeof(big));
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_record(s, 0x2000, big, sizeof(big), 0), 0);
	assert_int_equal(sevmig_send_record(s, 0xffff, NULL, 0, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(mt_receive_join(&t), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.types[0], 0x1000);
	assert_int_equal(seen.types[1], 0x2000);
	assert_int_equal(seen.types[2], 0xffff);
	assert_int_equal(seen.lens[1], sizeof(big));
	assert_memory_equal(seen.first, "0123456789abcdef", 16);
	mt_assert_equal(&t);
	sevmig_send_free(s);
	mt_teardown(&t);
}

static void test_refused_not_ready(void **state)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_send *s = NULL;
	uint64_t why = 0;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 16, 1);
	assert_int_equal(sevmig_vm_set_migration_control(t.src.vm, 0, 0), 0);
	o.channels = t.src.ch;
	o.nr_channels = 1;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, &why), -EPERM);
	assert_int_equal(why, SEVMIG_REASON_GUEST_NOT_READY);
	assert_null(s);
	mt_teardown(&t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_dirty_and_converted),
		cmocka_unit_test(test_concurrent_churn),
		cmocka_unit_test(test_vmm_records),
		cmocka_unit_test(test_refused_not_ready),
	};

	mode = th_mode_from_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
