/* SPDX-License-Identifier: MIT */
/*
 * Helpers for migration-session tests on the simulator: a world with a
 * source and a destination host, a VM handle on each with guest RAM, the
 * negotiation done, a launched SEV guest on the source, and channels over
 * socketpairs between the two sides.
 */
#ifndef SEVMIG_MIG_TEST_H
#define SEVMIG_MIG_TEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sevmig/sevmig.h>
#include <sevmig/sim.h>

#include "sim-test.h"

#define MT_MAX_CH 4

struct mt_side {
	struct th h;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
	int vm_fd;
	struct sevmig_vm *vm;
	unsigned char *mem;
	size_t pages;
	struct sevmig_channel *ch[MT_MAX_CH];
	int fd[MT_MAX_CH];
	char log[16384];	/* the context's log, for assertions */
	pthread_mutex_t log_lock;
};

struct mt {
	struct sevmig_sim *sim;
	struct mt_side src, dst;
	uint32_t nch;
	uint8_t amd[3200];
	size_t amd_len;
	uint32_t policy;
	/* the receive side, run in a thread */
	struct sevmig_receive *recv;
	pthread_t recv_thread;
	int recv_ret;
	uint32_t recv_fw;
};

/* World in @mode, both sides with @pages of RAM, @nch channels. */
void mt_setup(struct mt *t, uint32_t mode, size_t pages, uint32_t nch);
/* Fill the source's RAM with a pattern from @seed; share some pages. */
void mt_fill(struct mt *t, uint64_t seed);
/* Shared-or-private state of @gfn in @side's tracker. */
uint32_t mt_state(struct mt_side *s, uint64_t gfn);
/* Create the receive session and run it in a thread. */
void mt_receive_start(struct mt *t, const struct sevmig_receive_opts *extra);
int mt_receive_join(struct mt *t);
/* Everything on the destination equals the source (memory, page state,
 * MSR value). */
void mt_assert_equal(struct mt *t);
/* Close the channels of one side (as a VMM would on failure). */
void mt_close_side(struct mt_side *s, uint32_t nch);
void mt_teardown(struct mt *t);
bool mt_log_has(struct mt_side *s, const char *text);

#endif /* SEVMIG_MIG_TEST_H */
