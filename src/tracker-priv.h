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
void sevmig_tracker_unlock(struct sevmig_tracker *t, struct tracker_dead *d);
uint64_t sevmig_tracker_max_gfn(const struct sevmig_tracker *t);
/* Set [s, e) (inside bounds) shared or private; the lock is held. */
int sevmig_tracker_apply_locked(struct sevmig_tracker *t,
				struct tracker_dead *d, uint64_t s, uint64_t e,
				bool shared);
/*
 * Run ends of the shared set from @gfn to @end (gfn < end <= max_gfn) into
 * out[0..max), max >= 1; *first = state at gfn (0 private, 1 shared);
 * *complete when the last entry is @end. The lock is held.
 */
uint32_t sevmig_tracker_runs_locked(const struct sevmig_tracker *t,
				    uint64_t gfn, uint64_t end, uint64_t *out,
				    uint32_t max, int *first, bool *complete);

/* Encoding constants (docs/tracker.md, "Encoding"). */
#define TRACKER_REC_MAGIC 0x544d5653u	/* "SVMT" little-endian */
#define TRACKER_REC_VERSION 1u
#define TRACKER_REC_HDR 40u

#endif /* SEVMIG_TRACKER_PRIV_H */
