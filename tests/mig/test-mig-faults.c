// SPDX-License-Identifier: MIT
/*
 * The fault matrix of the two-phase commit, on the simulator: a migration
 * of a few dozen pages over 1 and 2 channels, run again and again with one
 * fault each (mig-scenario.h):
 *   - the k-th system call of the source, then of the destination, fails
 *     (-EIO for ioctls, -EPIPE for writev, -ECONNRESET for read, ...), for
 *     every k a clean run makes and a few beyond;
 *   - the k-th ioctl of either side does its work but answers -EIO;
 *   - the k-th PSP command of the source's host, then of the destination's,
 *     reports a firmware error, for every k;
 *   - a channel is cut at every unit boundary (channel header, records) of
 *     each direction, and at pseudo-random byte offsets;
 *   - the source, then the destination, dies between any two units.
 * Every case must end with exactly one side running the guest (see
 * ms_run()). The counts are printed at the end. SEVMIG_FAULTS_FULL=1 cuts
 * at 400 random offsets per direction instead of 24; SEVMIG_FAULTS_SEED
 * changes the offsets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mig-scenario.h"
#include "test-util.h"

#define PAGES 40u
#define CLEAN_RUNS 3u
#define EXTRA_K 4u		/* k past the clean run's count: no fault */

static uint32_t mode = SEVMIG_SIM_MODE_MEMORY;
static struct mt_world world;

/* The most each (channels, channel, direction) carried in clean runs. */
static struct {
	uint64_t calls[2], ioctls[2], psp[2];
	uint64_t units[MT_MAX_CH][3], bytes[MT_MAX_CH][3];
} shape[3];

static struct {
	uint64_t cases, fired, dst_runs, src_runs, in_doubt, lost;
} tally;

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void run(const struct ms_case *c)
{
	struct ms_result r;

	ms_run(&world, c, &r);
	tally.cases++;
	tally.fired += r.fired;
	tally.dst_runs += r.dst_runs;
	tally.src_runs += r.src_runs;
	tally.in_doubt += r.in_doubt;
	tally.lost += r.lost;
	/* Without its fault a run must simply succeed. */
	if (!r.fired && !r.dst_runs) {
		char name[96];

		fail_msg("%s: the fault never happened, yet the migration failed",
			 ms_case_name(c, name, sizeof(name)));
	}
}

static void learn_shape(uint32_t nch)
{
	struct ms_case c = { .kind = MS_CLEAN, .nch = nch, .pages = PAGES };
	struct ms_result r;

	for (uint32_t i = 0; i < CLEAN_RUNS; i++) {
		ms_run(&world, &c, &r);
		assert_true(r.dst_runs && !r.in_doubt);
		tally.cases++;
		tally.dst_runs++;
		for (uint32_t s = 0; s < 2; s++) {
			shape[nch].calls[s] = max64(shape[nch].calls[s], r.calls[s]);
			shape[nch].psp[s] = max64(shape[nch].psp[s], r.psp[s]);
			shape[nch].ioctls[s] = max64(shape[nch].ioctls[s],
						     r.ioctls[s]);
		}
		for (uint32_t ch = 0; ch < nch; ch++)
			for (uint32_t d = 1; d <= 2; d++) {
				shape[nch].units[ch][d] =
					max64(shape[nch].units[ch][d],
					      r.flow[ch][d].units);
				shape[nch].bytes[ch][d] =
					max64(shape[nch].bytes[ch][d],
					      r.flow[ch][d].bytes);
			}
	}
}

static void test_syscalls(void **state)
{
	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t side = MS_SRC; side <= MS_DST; side++)
			for (uint64_t k = 1;
			     k <= shape[nch].calls[side] + EXTRA_K; k++) {
				struct ms_case c = { .kind = MS_SYS, .nch = nch,
						     .pages = PAGES,
						     .side = side, .k = k };

				run(&c);
			}
}

/* The call did its work but its caller hears -EIO (an answer lost on the
 * way back): SEND_START, SEND_FINISH and RECEIVE_FINISH among them. */
static void test_late_ioctls(void **state)
{
	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t side = MS_SRC; side <= MS_DST; side++)
			for (uint64_t k = 1; k <= shape[nch].ioctls[side] + 1;
			     k++) {
				struct ms_case c = { .kind = MS_LATE, .nch = nch,
						     .pages = PAGES,
						     .side = side, .k = k };

				run(&c);
			}
}

static void test_firmware(void **state)
{
	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t side = MS_SRC; side <= MS_DST; side++)
			for (uint64_t k = 1; k <= shape[nch].psp[side] + 1; k++) {
				struct ms_case c = { .kind = MS_FW, .nch = nch,
						     .pages = PAGES,
						     .side = side, .k = k };

				run(&c);
			}
}

static void test_cut_units(void **state)
{
	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t ch = 0; ch < nch; ch++)
			for (uint32_t d = 1; d <= 2; d++)
				for (uint64_t u = 0;
				     u <= shape[nch].units[ch][d]; u++) {
					struct ms_case c = {
						.kind = MS_CUT, .nch = nch,
						.pages = PAGES, .ch = ch,
						.dir = d, .at_unit = true,
						.at = u,
					};

					/* Unit 0 of both directions is the
					 * same cut. */
					if (d == MS_DIR_TO_SRC && !u)
						continue;
					run(&c);
				}
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void test_cut_bytes(void **state)
{
	uint32_t per = getenv("SEVMIG_FAULTS_FULL") ? 400 : 24;

	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t ch = 0; ch < nch; ch++)
			for (uint32_t d = 1; d <= 2; d++) {
				uint64_t n = shape[nch].bytes[ch][d];

				for (uint32_t i = 0; n > 1 && i < per; i++) {
					struct ms_case c = {
						.kind = MS_CUT, .nch = nch,
						.pages = PAGES, .ch = ch,
						.dir = d, .at = 1 + rng() % (n - 1),
					};

					run(&c);
				}
			}
}

static void test_kill(void **state)
{
	(void)state;
	for (uint32_t nch = 1; nch <= 2; nch++)
		for (uint32_t side = MS_SRC; side <= MS_DST; side++)
			for (uint32_t ch = 0; ch < nch; ch++)
				for (uint32_t d = 1; d <= 2; d++)
					for (uint64_t u = 0;
					     u <= shape[nch].units[ch][d]; u++) {
						struct ms_case c = {
							.kind = MS_KILL,
							.nch = nch,
							.pages = PAGES,
							.side = side, .ch = ch,
							.dir = d,
							.at_unit = true,
							.at = u,
						};

						if (d == MS_DIR_TO_SRC && !u)
							continue;
						run(&c);
					}
}

static int setup(void **state)
{
	const char *seed = getenv("SEVMIG_FAULTS_SEED");

	(void)state;
	rng_state = seed ? strtoull(seed, NULL, 0) : 20240601;
	mt_world_new(&world, mode);
	learn_shape(1);
	learn_shape(2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mt_world_free(&world);
	printf("fault matrix: %llu cases run, %llu with the fault fired; "
	       "the destination ran in %llu, the source in %llu; "
	       "%llu resolved from doubt; %llu lost with a destination killed after its ACK\n",
	       (unsigned long long)tally.cases, (unsigned long long)tally.fired,
	       (unsigned long long)tally.dst_runs,
	       (unsigned long long)tally.src_runs,
	       (unsigned long long)tally.in_doubt,
	       (unsigned long long)tally.lost);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_late_ioctls),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_cut_units),
		cmocka_unit_test(test_cut_bytes),
		cmocka_unit_test(test_kill),
	};

	mode = th_mode_from_args(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
