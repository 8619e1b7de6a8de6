/* SPDX-License-Identifier: MIT */
/*
 * libsevmig page-state tracker: which guest frames are shared and which
 * private, what flipped since the last sync, and its stream encoding.
 * Conventions: <sevmig/common.h>.
 */
#ifndef SEVMIG_TRACKER_H
#define SEVMIG_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The set of shared guest frames of one VM (every other frame is private,
 * the SEV default), the frames whose state flipped since the last sync, and
 * their migration-stream encoding. GFNs are 4 KiB frame numbers; ranges are
 * half-open [gfn, gfn + npages). Updates cost O(log max_gfn) whatever the
 * length, memory never exceeds about one bit per page of the touched range
 * (32 KiB per GiB) whatever the guest does, and every function may be called
 * from any thread. Design and encoding: docs/tracker.md.
 *
 * Errors: every error is a negative errno and is logged, with its detail,
 * through the context given to sevmig_tracker_new(); a NULL @tracker is
 * -EINVAL and cannot be logged (the context is the tracker's).
 *
 * Locking: one mutex per tracker. No memory is allocated or freed while it
 * is held (objects come from a small per-tracker pool refilled with the
 * lock dropped). No update holds it for more than a bounded amount of
 * work: one that replaces a fragmented region while the log is on is
 * applied in ascending steps, the lock handed to waiting threads between
 * them, exactly as if the guest had split its call (docs/tracker.md,
 * "Concurrency guarantees"); readers hold it for work proportional to
 * the output they ask for.
 */

/** Page states; fields carrying them are uint32_t. */
enum sevmig_page_state {
	SEVMIG_PAGE_PRIVATE = 1,
	SEVMIG_PAGE_SHARED = 2,
};

/** Largest accepted max_gfn (52-bit guest physical addresses). */
#define SEVMIG_TRACKER_MAX_GFN (1ULL << 40)

/** A page-state tracker. Opaque. */
struct sevmig_tracker;

/**
 * sevmig_tracker_new() - create a tracker with every page private and the
 * log off.
 *
 * @ctx:         optional context: every error of this tracker's calls
 *               (this one included) is logged there with its detail; NULL
 *               logs nothing. Must outlive the tracker.
 * @max_gfn:     exclusive upper bound of the GFNs it will hold, e.g.
 *               1 << (guest physical address width - 12). Costs nothing
 *               until pages are shared.
 * @flags:       must be 0.
 * @ret_tracker: receives the tracker.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ret_tracker, flags, @max_gfn 0 or above
 *         SEVMIG_TRACKER_MAX_GFN), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_new(struct sevmig_ctx *ctx,
					  uint64_t max_gfn, uint32_t flags,
					  struct sevmig_tracker **ret_tracker);

/**
 * sevmig_tracker_free() - free a tracker. NULL is ignored.
 *
 * @tracker: the tracker.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @tracker during or after the call.
 */
void sevmig_tracker_free(struct sevmig_tracker *tracker);

/**
 * sevmig_tracker_set_shared() - mark [gfn, gfn + npages) shared.
 *
 * Idempotent; overlapping and adjacent ranges coalesce. While the log is
 * on (sevmig_tracker_log_start()), pages whose state flips are added to the
 * changed-since-sync log; an update that flips nothing costs the same with
 * the log on or off.
 *
 * @tracker: the tracker.
 * @gfn:     first frame.
 * @npages:  number of 4 KiB frames, >= 1.
 * @return 0 or a negative errno; on error nothing changed, with one
 *         exception: -ENOMEM in a later step of an update that runs in
 *         steps (above), which can only happen when memory runs out while
 *         other threads change the same region between its steps. The log
 *         line then says which prefix [gfn, x) was applied (and logged);
 *         repeating the call completes it.
 *
 * Errors: -EINVAL (NULL @tracker, @npages 0), -ERANGE (the range wraps past
 *         2^64 or ends beyond max_gfn), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread (vCPU threads on hypercall exits). Each hold of the
 *          lock does O(64 * log64(max_gfn / 32768)) slot updates plus at
 *          most two leaf edits (a 64-byte boundary list or up to 4 KiB of
 *          bitmap), or a bounded share of a log merge (docs/tracker.md:
 *          well under 1 ms); no allocation or free() under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_set_shared(struct sevmig_tracker *tracker,
						 uint64_t gfn, uint64_t npages);

/**
 * sevmig_tracker_set_private() - mark [gfn, gfn + npages) private.
 *
 * @tracker: the tracker.
 * @gfn:     first frame.
 * @npages:  number of 4 KiB frames, >= 1.
 * @return as sevmig_tracker_set_shared().
 *
 * Errors: as sevmig_tracker_set_shared().
 * Firmware: not reached.
 * Context: as sevmig_tracker_set_shared().
 */
SEVMIG_WARN_UNUSED int
sevmig_tracker_set_private(struct sevmig_tracker *tracker, uint64_t gfn,
			   uint64_t npages);

/**
 * sevmig_tracker_reset() - mark every page private (VM reset).
 *
 * Pages that were shared are logged as changed, like any other update.
 *
 * @tracker: the tracker.
 * @flags:   must be 0.
 * @return 0 or a negative errno; -ENOMEM as for sevmig_tracker_set_shared().
 *
 * Errors: -EINVAL (NULL @tracker, flags), -ENOMEM.
 * Firmware: not reached.
 * Context: as sevmig_tracker_set_private() over everything: with the log
 *          off O(1) under the lock (the shared set is freed after it is
 *          dropped); with the log on, in steps while it moves the shared
 *          set into the log.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_reset(struct sevmig_tracker *tracker,
					    uint32_t flags);

/**
 * sevmig_tracker_state() - state of one frame.
 *
 * @tracker:   the tracker.
 * @gfn:       the frame, below max_gfn.
 * @ret_state: receives SEVMIG_PAGE_PRIVATE or SEVMIG_PAGE_SHARED.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @ret_state), -ERANGE
 *         (@gfn >= max_gfn).
 * Firmware: not reached.
 * Context: any thread; O(log max_gfn) under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_state(struct sevmig_tracker *tracker,
					    uint64_t gfn, uint32_t *ret_state);

/**
 * sevmig_tracker_run_end() - end of the run of equal state starting at @gfn.
 *
 * @tracker:   the tracker.
 * @gfn:       the frame, below max_gfn.
 * @ret_end:   receives the first frame after @gfn whose state differs, or
 *             max_gfn.
 * @ret_state: optional; receives the state of the run.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @ret_end), -ERANGE (@gfn >= max_gfn).
 * Firmware: not reached.
 * Context: any thread; under the lock for O(log max_gfn) plus the leaf
 *          contents scanned (at most 512 bitmap words per 128 MiB of the
 *          run, 24 boundaries in a compact leaf).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_run_end(struct sevmig_tracker *tracker,
					      uint64_t gfn, uint64_t *ret_end,
					      uint32_t *ret_state);

/**
 * sevmig_tracker_runs() - classify [gfn, end) into maximal runs, in batches.
 *
 * Writes the end of each run: run 0 is [gfn, ret_ends[0]) in state
 * *ret_first_state, run i is [ret_ends[i-1], ret_ends[i]) and, the runs
 * being maximal, states alternate. The last run is clipped at @end. When
 * the return value is @max_ends and ret_ends[max_ends - 1] < @end, continue
 * from there. This is the send loop's walk: a pass over fully fragmented
 * memory costs a few ns per run.
 *
 * @tracker:         the tracker.
 * @gfn:             first frame; @gfn < @end.
 * @end:             exclusive end, <= max_gfn.
 * @ret_ends:        array of @max_ends run ends.
 * @max_ends:        its length, 1..INT_MAX.
 * @ret_first_state: receives the state of the first run.
 * @ret_seq:         optional; receives the update sequence number at the
 *                   time of the batch. Each batch is one atomic snapshot; a
 *                   walk whose batches all report the same sequence number
 *                   saw one consistent state. Flips during a walk are
 *                   caught by the next sevmig_tracker_sync().
 * @return the number of run ends written (>= 1), or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, @ret_ends or @ret_first_state; @max_ends
 *         0 or above INT_MAX; @gfn >= @end), -ERANGE (@end > max_gfn).
 * Firmware: not reached.
 * Context: any thread; holds the lock for O(log max_gfn + @max_ends).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_runs(struct sevmig_tracker *tracker,
					   uint64_t gfn, uint64_t end,
					   uint64_t *ret_ends,
					   uint32_t max_ends,
					   uint32_t *ret_first_state,
					   uint64_t *ret_seq);

/**
 * sevmig_tracker_shared_pages() - number of shared frames. O(1).
 *
 * @tracker:   the tracker.
 * @ret_pages: receives the count.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @ret_pages).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int
sevmig_tracker_shared_pages(struct sevmig_tracker *tracker,
			    uint64_t *ret_pages);

/**
 * sevmig_tracker_log_start() - start (or restart) the changed-since-sync
 * log.
 *
 * From this call on, every frame an update flips is recorded until a
 * sevmig_tracker_sync() round returns it. A migration calls this before
 * its first full pass over guest RAM, so that a conversion made while the
 * pass runs is reported by the next sync (sevmig_tracker_sync() refuses to
 * run before it: there is no other order). Calling it again forgets what
 * was logged and any open round, as a new migration (after a cancelled
 * one) wants: its first pass sends everything anyway. The log costs
 * memory of the same form as the shared set; a tracker that never
 * migrates never pays for it.
 *
 * @tracker: the tracker.
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, flags).
 * Firmware: not reached.
 * Context: any thread, normally the migration thread; O(1) under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_log_start(struct sevmig_tracker *tracker,
						uint32_t flags);

/**
 * sevmig_tracker_log_stop() - stop the log and free what it holds (at the
 * end of a migration, successful or not). Updates stop logging at once.
 *
 * @tracker: the tracker.
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, flags).
 * Firmware: not reached.
 * Context: any thread; O(1) under the lock, memory freed after.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_log_stop(struct sevmig_tracker *tracker,
					       uint32_t flags);

/* struct sevmig_tracker_sync_info.flags */
#define SEVMIG_TRACKER_SYNC_MORE (1u << 0) /* round not drained: call again */

/**
 * struct sevmig_tracker_sync_info - result of one sevmig_tracker_sync().
 *
 * @size:       in: sizeof(); out: bytes written.
 * @flags:      out: SEVMIG_TRACKER_SYNC_MORE while the round has ranges
 *              left.
 * @generation: out: the round's generation: +1 per round since the tracker
 *              was created (1 for its first round).
 * @nr_ranges:  out: ranges written by this call.
 * @pages:      out: frames in those ranges.
 */
struct sevmig_tracker_sync_info {
	uint32_t size;
	uint32_t flags;
	uint64_t generation;
	uint64_t nr_ranges;
	uint64_t pages;
};
#define SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0 32u

/**
 * sevmig_tracker_sync() - the frames whose state flipped since the last
 * round, coalesced.
 *
 * The log must be on (sevmig_tracker_log_start(), called before the first
 * pass). A round starts when no round is open: the frames flipped since
 * the log started or since the last round was taken are taken atomically
 * (later flips, even ones racing with this call, go to the next round) and
 * the generation is incremented. The round's ranges are then returned in
 * ascending order, at most @max_ranges per call; while info->flags has
 * SEVMIG_TRACKER_SYNC_MORE, call again to continue the same round. Frames
 * flipped twice (shared and back) are reported: they may have been sent in
 * the other form. Memory stays bounded: the log is a set of the same form
 * as the shared set.
 *
 * @tracker:    the tracker.
 * @ret_ranges: array of 2 * @max_ranges GFNs: pairs [start, end).
 * @max_ranges: 1..INT_MAX/2.
 * @info:       result record; set info->size first.
 * @flags:      must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, @ret_ranges or @info; @max_ranges 0 or
 *         above INT_MAX/2; flags; info->size below the first version),
 *         -E2BIG (newer record with a non-zero tail), -EPROTO (the log is
 *         off: sevmig_tracker_log_start() was not called).
 * Firmware: not reached.
 * Context: any thread, normally the migration thread; holds the lock for
 *          O(log max_gfn + @max_ranges).
 */
SEVMIG_WARN_UNUSED int
sevmig_tracker_sync(struct sevmig_tracker *tracker, uint64_t *ret_ranges,
		    uint32_t max_ranges, struct sevmig_tracker_sync_info *info,
		    uint32_t flags);

/**
 * struct sevmig_tracker_stats - counters of a tracker.
 *
 * @size:           in: sizeof(); out: bytes written.
 * @flags:          out: SEVMIG_TRACKER_SYNC_MORE while a sync round is
 *                  open, SEVMIG_TRACKER_STATS_LOGGING while the log is on.
 * @max_gfn:        the tracker's bound.
 * @shared_pages:   shared frames.
 * @changed_pages:  frames flipped since the log started or the current
 *                  round was taken.
 * @pending_pages:  frames in the open round (0 when none is open).
 * @generation:     generation of the last round taken.
 * @seq:            number of updates that flipped at least one frame (one
 *                  that ran in steps counts once per step).
 * @mem_bytes:      bytes the tracker holds now (its malloc requests,
 *                  including its small pool of free objects and its
 *                  decode limit).
 * @peak_mem_bytes: the most it ever held.
 * @nodes, @leaves: radix nodes and 4 KiB bitmap leaves allocated (compact
 *                  64-byte leaves count in @mem_bytes only).
 */
struct sevmig_tracker_stats {
	uint32_t size;
	uint32_t flags;
	uint64_t max_gfn;
	uint64_t shared_pages;
	uint64_t changed_pages;
	uint64_t pending_pages;
	uint64_t generation;
	uint64_t seq;
	uint64_t mem_bytes;
	uint64_t peak_mem_bytes;
	uint64_t nodes;
	uint64_t leaves;
};
#define SEVMIG_TRACKER_STATS_SIZE_VER0 88u
/* struct sevmig_tracker_stats.flags, beside SEVMIG_TRACKER_SYNC_MORE */
#define SEVMIG_TRACKER_STATS_LOGGING (1u << 1) /* the log is on */

/**
 * sevmig_tracker_stats() - read the counters.
 *
 * @tracker: the tracker.
 * @stats:   record to fill; set stats->size first.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @stats, size below the first
 *         version), -E2BIG (newer record with a non-zero tail).
 * Firmware: not reached.
 * Context: any thread; O(1) under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_stats(struct sevmig_tracker *tracker,
					    struct sevmig_tracker_stats *stats);

/* Record kinds of sevmig_tracker_encode(). */
#define SEVMIG_TRACKER_RECORD_FULL  1u /* part of the full set */
#define SEVMIG_TRACKER_RECORD_DELTA 2u /* a changed range from a sync */
/** Smallest buffer sevmig_tracker_encode() accepts. */
#define SEVMIG_TRACKER_RECORD_MIN 64u

/**
 * sevmig_tracker_encode() - encode the state of a window of frames.
 *
 * Writes one record (docs/tracker.md, "Encoding": a 40-byte header and
 * LEB128 shared ranges) that sets the window [gfn, *ret_next) on the
 * receiver to exactly this tracker's state there. If the buffer fills
 * first, the window stops at the last range that fit: continue from
 * *ret_next, which equals @end when done. Send the full set as records over
 * [0, max_gfn), and deltas as records over each range a sync returned.
 *
 * @tracker:  the tracker.
 * @kind:     SEVMIG_TRACKER_RECORD_FULL or _DELTA (carried to the
 *            receiver, which checks it; the encoding is the same).
 * @gfn:      window start; @gfn < @end.
 * @end:      window end, <= max_gfn.
 * @buf:      output buffer.
 * @buf_len:  its size, >= SEVMIG_TRACKER_RECORD_MIN.
 * @ret_len:  receives the record's length.
 * @ret_next: receives the window's end (> @gfn).
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, @buf, @ret_len or @ret_next; @kind;
 *         flags; @gfn >= @end), -ERANGE (@end > max_gfn), -ENOSPC
 *         (@buf_len < SEVMIG_TRACKER_RECORD_MIN).
 * Firmware: not reached.
 * Context: any thread; holds the lock for O(@buf_len) (one atomic snapshot
 *          of the window).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_encode(struct sevmig_tracker *tracker,
					     uint32_t kind, uint64_t gfn,
					     uint64_t end, void *buf,
					     size_t buf_len, size_t *ret_len,
					     uint64_t *ret_next,
					     uint32_t flags);

/** Most ranges sevmig_tracker_set_limit() accepts. */
#define SEVMIG_TRACKER_LIMIT_MAX 8192u

/**
 * sevmig_tracker_set_limit() - bound what decoded records may make shared.
 *
 * A receiver calls this with the guest RAM it registered (and any ranges
 * its firmware keeps shared) before decoding a stream: a record that would
 * make a frame outside these ranges shared is then refused whole
 * (sevmig_tracker_decode() answers -ERANGE, nothing applied). So whatever
 * a hostile stream holds, the receiver's tracker never holds more than the
 * bitmap of the allowed frames: at most one 4 KiB leaf per 128 MiB region
 * they touch plus its nodes (docs/tracker.md, "Bounded decoding"), three
 * times that with the log on. Without a limit, the bound is max_gfn's.
 * Updates through sevmig_tracker_set_shared() are not limited (the VM
 * layer clips those to RAM itself).
 *
 * @tracker:   the tracker.
 * @ranges:    2 * @nr_ranges GFNs, pairs [start, end), ascending, not
 *             overlapping (adjacent ones are merged); copied.
 * @nr_ranges: 0 removes the limit (@ranges may then be NULL), at most
 *             SEVMIG_TRACKER_LIMIT_MAX.
 * @flags:     must be 0.
 * @return 0 or a negative errno; on error the previous limit stays.
 *
 * Errors: -EINVAL (NULL @tracker, NULL @ranges with @nr_ranges > 0, flags,
 *         @nr_ranges above SEVMIG_TRACKER_LIMIT_MAX, an empty, unsorted or
 *         overlapping range), -ERANGE (a range ends beyond max_gfn),
 *         -ENOMEM.
 * Firmware: not reached.
 * Context: any thread; set it before decoding (a decode running
 *          concurrently uses the old or the new limit).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_set_limit(struct sevmig_tracker *tracker,
						const uint64_t *ranges,
						uint32_t nr_ranges,
						uint32_t flags);

/**
 * sevmig_tracker_decode() - apply one record made by sevmig_tracker_encode().
 *
 * The input is untrusted: the whole record is validated (magic, version,
 * kind, zero reserved bytes, matching max_gfn, window inside bounds,
 * ranges sorted, non-overlapping, coalesced and inside the window,
 * canonical LEB128, counts checked against the length before any work,
 * shared ranges inside the limit of sevmig_tracker_set_limit()) before
 * anything is applied. Records may be concatenated: @ret_used tells where
 * the next one starts. The window is applied as updates (the gaps between
 * the ranges private, the ranges shared), so with the log on only frames
 * whose state really changes are logged; other threads may see the window
 * partly applied while it runs.
 *
 * @tracker:  the receiving tracker (same max_gfn as the sender's).
 * @buf:      the input.
 * @len:      its length.
 * @ret_used: optional; receives the bytes the record used.
 * @ret_kind: optional; receives SEVMIG_TRACKER_RECORD_*.
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @buf, flags, the record's max_gfn
 *         differs from the tracker's; nothing applied), -EBADMSG
 *         (malformed or truncated record; nothing applied), -ERANGE (the
 *         record makes frames outside the limit shared; nothing applied),
 *         -ENOMEM (the window may be partly applied; decode the record
 *         again).
 * Firmware: not reached.
 * Context: any thread; each update it makes holds the lock as
 *          sevmig_tracker_set_shared() does, and the limit check for
 *          O(record length + limit ranges).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_decode(struct sevmig_tracker *tracker,
					     const void *buf, size_t len,
					     size_t *ret_used,
					     uint32_t *ret_kind,
					     uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_TRACKER_H */
