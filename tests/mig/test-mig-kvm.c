// SPDX-License-Identifier: MIT
/*
 * Live migration of a running guest on real KVM (simulator in KVM mode; skip
 * 77 without /dev/kvm): the guest keeps writing while pre-copy passes run,
 * the library reads KVM's dirty log itself (sevmig_send_dirty_log_slot), a
 * later pass sends only what the guest wrote, and after the final pass with
 * the vCPU paused the destination's memory equals the source's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kvm-guest.h"
#include "mig-test.h"
#include "test-util.h"

#define PAGES 256u

static void test_dirty_log_live(void **state)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	struct sevmig_send *s = NULL;
	unsigned char before;
	bool ran = false;
	uint64_t left = 0;
	struct kg g;
	struct mt t;

	(void)state;
	mt_setup(&t, SEVMIG_SIM_MODE_KVM, PAGES, 2);
	mt_fill(&t, 7);
	assert_int_equal(kg_create(&g, &t.src.h.ops, t.src.h.kvm, t.src.vm_fd,
				   t.src.mem, PAGES * 4096), 0);
	assert_int_equal(sevmig_vm_vcpu_add(t.src.vm, g.vcpu, g.run, 0), 0);
	mt_receive_start(&t, NULL);
	o.channels = t.src.ch;
	o.nr_channels = 2;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, NULL), 0);
	assert_int_equal(sevmig_send_dirty_log_slot(s, 0, 0, PAGES * 4096, 0), 0);
	assert_int_equal(sevmig_send_dirty_log_slot(s, 0, 0, PAGES * 4096, 0),
			 -EEXIST);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);

	before = t.src.mem[KG_DATA_PAGE * 4096];
	assert_int_equal(kg_start(&g), 0);
	/* The guest runs (it has written) before the first pass begins. */
	for (int i = 0; i < 5000 && !ran; i++) {
		ran = __atomic_load_n(&t.src.mem[KG_DATA_PAGE * 4096],
				      __ATOMIC_RELAXED) != before;
		if (!ran)
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	assert_true(ran);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pages_private + pi.pages_shared, PAGES);
	/*
	 * A pass during which the guest wrote says so at its end: passes run
	 * until one does (a loaded machine may not schedule the guest during
	 * a short pass), each pass sending only what the guest wrote.
	 */
	for (int i = 0; i < 200 && !left; i++) {
		if (i) {
			assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
			assert_true(pi.pages_private + pi.pages_shared <= 16);
		}
		left = pi.remaining_pages;
		if (!left)
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	assert_true(left >= 1);
	assert_true(left <= 16);	/* its 16 data pages, not all RAM */
	assert_int_equal(sevmig_send_stats(s, &st), 0);
	assert_int_equal(st.remaining_pages, left);
	assert_true(st.dirty_rate > 0);
	nanosleep(&nap, NULL);
	/* What the figures announced is sent, with what came since. */
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_true(pi.pages_private + pi.pages_shared >= left);
	assert_true(pi.pages_private + pi.pages_shared <= 16);
	assert_int_equal(sevmig_send_dirty_log_slot(s, 1, 0, 4096, 0), -EALREADY);

	assert_int_equal(kg_stop(&g), 0);
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(mt_receive_join(&t), 0);
	mt_assert_equal(&t);
	sevmig_send_free(s);
	kg_destroy(&g);
	mt_teardown(&t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_log_live),
	};

	static char kvm_arg[] = "kvm";
	char *args[] = { argc ? argv[0] : kvm_arg, kvm_arg, NULL };

	th_mode_from_args(2, args);	/* skips (77) without /dev/kvm */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
