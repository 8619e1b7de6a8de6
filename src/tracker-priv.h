/* SPDX-License-Identifier: MIT */
/* Private to libsevmig: what tracker-codec.c needs from tracker.c. */
#ifndef SEVMIG_TRACKER_PRIV_H
#define SEVMIG_TRACKER_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

/* Objects detached under the lock, freed by sevmig_tracker_unlock(). */
struct tracker_dead {
	void *leaves;
	void *nodes;
};

void sevmig_tracker_lock(struct sevmig_tracker *t);
/* Drop the lock, then free what @d holds. */
void sevmig_tracker_unlock(struct sevmig_tracker *t, struct tracker_dead *d);
struct sevmig_ctx *sevmig_tracker_ctx(const struct sevmig_tracker *t);
uint64_t sevmig_tracker_max_gfn(const struct sevmig_tracker *t);
/*
 * Set [s, e) (inside bounds) shared or private, taking the lock itself
 * (possibly several times: a long update runs in steps). 0, or -ENOMEM
 * (not logged) with *ret_done telling how far it got: s when nothing
 * changed, else [s, *ret_done) was applied.
 */
int sevmig_tracker_update(struct sevmig_tracker *t, uint64_t s, uint64_t e,
			  bool shared, uint64_t *ret_done);
/*
 * Run ends of the shared set from @gfn to @end (gfn < end <= max_gfn) into
 * out[0..max), max >= 1; *first = state at gfn (0 private, 1 shared);
 * *complete when the last entry is @end. The lock is held.
 */
uint32_t sevmig_tracker_runs_locked(const struct sevmig_tracker *t,
				    uint64_t gfn, uint64_t end, uint64_t *out,
				    uint32_t max, int *first, bool *complete);
/*
 * May a decoded record make [s, e) shared (sevmig_tracker_set_limit())?
 * Ranges must be asked in ascending order; *hint starts at 0. The lock is
 * held.
 */
bool sevmig_tracker_allowed_locked(const struct sevmig_tracker *t, uint64_t s,
				   uint64_t e, uint32_t *hint);

#ifdef SEVMIG_TRACKER_HOOKS
/*
 * Test and benchmark builds only (tracker.c compiled with
 * -DSEVMIG_TRACKER_HOOKS): called with 1 right after the tracker lock is
 * taken and with 0 right before it is released; the work budget of one
 * lock hold (0: the default), so tests can force long updates to run in
 * many steps; and a count of the objects (nodes, leaves) taken from the
 * pools, so tests can see that an update created nothing.
 */
extern void (*sevmig_tracker_lock_hook)(const struct sevmig_tracker *t,
					int held);
extern uint32_t sevmig_tracker_hold_budget;
extern _Atomic unsigned long sevmig_tracker_objects_made;
#endif

/* Encoding constants (docs/tracker.md, "Encoding"). */
#define TRACKER_REC_MAGIC 0x544d5653u	/* "SVMT" little-endian */
#define TRACKER_REC_VERSION 1u
#define TRACKER_REC_HDR 40u

#endif /* SEVMIG_TRACKER_PRIV_H */
