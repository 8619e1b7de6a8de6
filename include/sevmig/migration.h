/* SPDX-License-Identifier: MIT */
/*
 * libsevmig migration sessions: cross-host live migration of an SEV guest
 * over the versioned libsevmig stream (docs/stream.md), with a two-phase
 * commit that never loses the guest and never runs it twice.
 * Conventions: <sevmig/common.h>.
 *
 * A send session lives on the source VM handle, a receive session on the
 * destination VM handle. The VMM owns the transport and hands the sessions
 * channels (its own callbacks, or a plain fd). The source, step by step:
 *
 *   sevmig_send_new(vm, opts)          refuses unless negotiation is done
 *   sevmig_send_begin()                handshake: the target's certificates
 *                                      are checked, SEND_START, START record
 *   sevmig_send_pass() ...             pre-copy while the guest runs; the
 *                                      VMM reports dirty pages or registers
 *                                      KVM dirty-log slots
 *   (VMM stops its vCPUs) sevmig_vm_pause(vm)
 *   sevmig_send_record() ...           the VMM's own vCPU and device state
 *   sevmig_send_commit()               final pass, page-state map, END,
 *                                      the destination's ACK, SEND_FINISH,
 *                                      COMMIT: the source is SENT
 *
 * Any failure before the destination's acknowledgement ends in SEND_CANCEL:
 * the guest's firmware state is RUNNING again, the VM handle is LIVE, the
 * call returns the error, and the VMM resumes the guest (sevmig_vm_resume)
 * and may try another target. After SEND_FINISH the source never runs again.
 *
 * The destination: sevmig_receive_new(vm, opts) on a VM created for the
 * guest (no SEV init: the session does it), with its RAM registered and its
 * negotiation plumbing in place; then sevmig_receive_run() until the commit.
 * It runs the guest only after a 0 return; on any error it discards the VM.
 */
#ifndef SEVMIG_MIGRATION_H
#define SEVMIG_MIGRATION_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/common.h>
#include <sevmig/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Channels
 * ====================================================================== */

/**
 * struct sevmig_channel_ops - a transport the VMM gives a session.
 *
 * @size:   sizeof(struct sevmig_channel_ops).
 * @flags:  must be 0.
 * @opaque: passed unchanged to every member.
 * @writev: write all @iovcnt buffers, in order, completely; return 0 or a
 *          negative errno (the session then fails). NULL for a channel the
 *          session only reads.
 * @read:   read exactly @len bytes into @buf; return 0, -ENODATA when the
 *          stream ended cleanly before the first byte, or another negative
 *          errno (a stream cut in the middle of @len bytes is -EPIPE). NULL
 *          for a channel the session only writes.
 * @flush:  optional; make everything written so far durable (fsync for a
 *          file). Called before the commit of a SEVMIG_COMMIT_FLUSH session.
 * @cancel: optional; make a @read or @writev blocked in another thread
 *          return promptly with an error (e.g. shutdown(2) a socket). A
 *          session calls it on its other channels when one fails, so that
 *          its worker threads can be joined; without it the session waits
 *          until the VMM's transport fails those calls by itself.
 *
 * Members are called from the session's threads (see sevmig_send_opts);
 * one channel's members are never called from two threads at once.
 */
struct sevmig_channel_ops {
	uint32_t size;
	uint32_t flags;
	void *opaque;
	int (*writev)(void *opaque, const struct sevmig_iovec *iov,
		      uint32_t iovcnt);
	int (*read)(void *opaque, void *buf, size_t len);
	int (*flush)(void *opaque);
	void (*cancel)(void *opaque);
};
#define SEVMIG_CHANNEL_OPS_SIZE_VER0 48u

/** A channel of a migration stream. Opaque. */
struct sevmig_channel;

/**
 * sevmig_channel_new() - a channel on the VMM's own transport callbacks.
 *
 * @ctx:         the context; must outlive the channel.
 * @ops:         the callbacks (copied; @ops->opaque must stay valid).
 * @flags:       must be 0.
 * @ret_channel: receives the channel.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, no callback at all), -E2BIG
 *         (newer record with a non-zero tail), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_channel_new(struct sevmig_ctx *ctx,
					  const struct sevmig_channel_ops *ops,
					  uint32_t flags,
					  struct sevmig_channel **ret_channel);

/**
 * sevmig_channel_from_fds() - a channel on plain descriptors.
 *
 * For a socket give the same descriptor twice; for a pipe pair the two
 * ends; for a file to write give -1 as @read_fd, for a file to read -1 as
 * @write_fd. Partial reads and writes and EINTR are handled; a
 * non-blocking descriptor is waited for with poll(2). The descriptors are
 * borrowed: never closed. flush() is fsync(2) on @write_fd when it is a
 * regular file, and nothing otherwise.
 *
 * @ctx:         the context; must outlive the channel.
 * @read_fd:     descriptor to read from, or -1.
 * @write_fd:    descriptor to write to, or -1.
 * @flags:       must be 0.
 * @ret_channel: receives the channel.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, both descriptors -1), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_channel_from_fds(struct sevmig_ctx *ctx,
					       int read_fd, int write_fd,
					       uint32_t flags,
					       struct sevmig_channel **ret_channel);

/**
 * sevmig_channel_free() - free a channel. NULL is ignored. Closes nothing.
 *
 * Errors: none. Firmware: not reached.
 * Context: no session may still use the channel.
 */
void sevmig_channel_free(struct sevmig_channel *channel);

/* ======================================================================
 * Progress and metrics
 * ====================================================================== */

/* struct sevmig_mig_stats.phase */
enum sevmig_mig_phase {
	SEVMIG_MIG_NEW = 1,		/* created, nothing sent */
	SEVMIG_MIG_HANDSHAKE = 2,	/* HELLO and START */
	SEVMIG_MIG_PRECOPY = 3,		/* passes while the guest runs */
	SEVMIG_MIG_FINAL = 4,		/* final pass, state, END */
	SEVMIG_MIG_AWAIT_COMMIT = 5,	/* END sent or ACK sent, not committed */
	SEVMIG_MIG_COMMITTED = 6,	/* source SENT / destination may run */
	SEVMIG_MIG_CANCELLED = 7,	/* source runnable again / dest discarded */
	SEVMIG_MIG_FAILED = 8,		/* ended with an error (see error) */
	SEVMIG_MIG_IN_DOUBT = 9,	/* lost contact in the commit window */
};

/**
 * struct sevmig_mig_stats - what a session did so far.
 *
 * Readable at any time from any thread (each field is consistent; the
 * record as a whole is a snapshot taken under the session's lock).
 *
 * @size:             in: sizeof(); out: bytes written.
 * @phase:            SEVMIG_MIG_*.
 * @error:            0, or the negative errno the session ended with.
 * @fw_error:         the last firmware status a command reported (0: none).
 * @passes:           passes completed (the final pass included).
 * @pages_private:    private pages sent or received (PSP packets).
 * @pages_shared:     shared pages sent or received (plaintext).
 * @bytes_private:    stream bytes of private page records.
 * @bytes_shared:     stream bytes of shared page records.
 * @bytes_total:      all stream bytes, every channel, both directions.
 * @records:          records sent or received.
 * @remaining_pages:  estimate of the pages still to send (source: dirty
 *                    pages known now; destination: 0 until END).
 * @dirty_rate:       pages per second reported dirtied (dirty logs, the
 *                    VMM's reports, conversions) during the last pass;
 *                    RAM nobody reports on is not in it.
 * @elapsed_ns:       since sevmig_send_begin() / sevmig_receive_run().
 * @downtime_ns:      source: from sevmig_send_commit()'s start (vCPUs
 *                    paused) to COMMIT written; 0 before.
 * @psp_commands:     firmware commands issued.
 * @psp_ns_min, @psp_ns_mean, @psp_ns_p99, @psp_ns_max: firmware command
 *                    latency (p99 from a fixed log2 histogram: an upper
 *                    bound within a factor of 2^(1/4)).
 * @fw_status_seen:   bit n set when firmware status n (n < 64) was seen.
 */
struct sevmig_mig_stats {
	uint32_t size;
	uint32_t phase;
	int32_t error;
	uint32_t fw_error;
	uint64_t passes;
	uint64_t pages_private;
	uint64_t pages_shared;
	uint64_t bytes_private;
	uint64_t bytes_shared;
	uint64_t bytes_total;
	uint64_t records;
	uint64_t remaining_pages;
	uint64_t dirty_rate;
	uint64_t elapsed_ns;
	uint64_t downtime_ns;
	uint64_t psp_commands;
	uint64_t psp_ns_min;
	uint64_t psp_ns_mean;
	uint64_t psp_ns_p99;
	uint64_t psp_ns_max;
	uint64_t fw_status_seen;
};
#define SEVMIG_MIG_STATS_SIZE_VER0 152u

/*
 * Progress callback: called on the session's calling thread after each
 * batch of records and at each phase change, with a snapshot (->size set
 * to sizeof(struct sevmig_mig_stats) of this library). Must not call back
 * into the session. Its return value is ignored.
 */
typedef void (*sevmig_progress_fn)(void *opaque,
				   const struct sevmig_mig_stats *stats);

/* ======================================================================
 * Send session
 * ====================================================================== */

/* struct sevmig_send_opts.commit and the START record's commit mode. */
enum sevmig_commit_mode {
	/*
	 * Two-phase: SEND_FINISH only after the destination acknowledged the
	 * whole stream on channel 0. Needs a channel 0 that reads and writes.
	 */
	SEVMIG_COMMIT_ACK = 1,
	/*
	 * To a file (or any one-way transport): no acknowledgement can come
	 * back. SEND_FINISH after END was written and the channels flushed;
	 * the file then is the guest. The target's HELLO comes from
	 * @target_hello (sevmig_hello_export() on the target host).
	 */
	SEVMIG_COMMIT_FLUSH = 2,
};

/**
 * struct sevmig_send_opts - how a send session is built.
 *
 * @size:         sizeof().
 * @flags:        must be 0.
 * @channels:     @nr_channels channels; channel 0 carries the control
 *                records (and reads the HELLO and ACK), the others carry
 *                page records only. All are borrowed.
 * @nr_channels:  1..16. With n channels the session runs n - 1 worker
 *                threads during each sevmig_send_pass() and
 *                sevmig_send_commit(), joined before the call returns:
 *                firmware commands of one channel overlap the I/O of the
 *                others.
 * @commit:       SEVMIG_COMMIT_*; 0 means ACK.
 * @target_hello, @target_hello_len: the target's HELLO record, for
 *                SEVMIG_COMMIT_FLUSH (else NULL and 0: read from channel 0).
 * @progress, @progress_opaque: optional progress callback.
 * @max_vmm_record: largest VMM record accepted by sevmig_send_record();
 *                0 means 16 MiB. The destination must accept it too.
 */
struct sevmig_send_opts {
	uint32_t size;
	uint32_t flags;
	struct sevmig_channel *const *channels;
	uint32_t nr_channels;
	uint32_t commit;
	const void *target_hello;
	size_t target_hello_len;
	sevmig_progress_fn progress;
	void *progress_opaque;
	uint32_t max_vmm_record;
	uint32_t reserved0;
};
#define SEVMIG_SEND_OPTS_SIZE_VER0 64u

/** A send session. Opaque. */
struct sevmig_send;

/**
 * sevmig_send_new() - create a send session on a source VM.
 *
 * Checks, without talking to anyone, that the VM may migrate: the handle
 * has a platform, its lifecycle state is LIVE, and sevmig_vm_readiness()
 * gives no reason (kernel capabilities, host policy, guest READY or the
 * operator override, guest policy). Allocates every buffer the session
 * will use: nothing is allocated per page later.
 *
 * @vm:          the source VM handle; must outlive the session.
 * @opts:        options (channels required).
 * @ret_send:    receives the session.
 * @ret_reasons: optional; receives the readiness reasons on -EPERM.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, reserved fields, channel count,
 *         a channel that cannot do what its position needs, unknown commit
 *         mode, FLUSH without target_hello), -E2BIG, -ENODEV (the handle has
 *         no platform), -EPERM (readiness refused: *ret_reasons says why,
 *         each reason described by sevmig_reason_string()), -EBUSY (another
 *         session is open on this VM), -ESTALE (the VM is not LIVE),
 *         -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_send_new(struct sevmig_vm *vm,
				       const struct sevmig_send_opts *opts,
				       struct sevmig_send **ret_send,
				       uint64_t *ret_reasons);

/**
 * sevmig_send_begin() - the handshake, up to the first page.
 *
 * Reads the target's HELLO (or takes opts->target_hello): its PDH, platform
 * chain, AMD chain and firmware API version. Refuses a target before the
 * firmware is asked: structural certificate checks, an AMD root (ARK) that
 * is not a genuine AMD root of any SEV generation nor one added with
 * sevmig_ctx_add_ark(), a PDH not signed by the target's PEK when the
 * context has a signature verifier (sevmig_ctx_opts.verify), and
 * sevmig_preflight() against the guest's policy (read with GUEST_STATUS).
 * Then SEND_START (the VM handle goes SENDING), and writes the stream
 * headers and the START record: policy, session, this host's PDH and the
 * RAM layout. Starts the page-state change log: every conversion from now
 * on is caught by a later pass. On failure after SEND_START it cancels
 * (SEND_CANCEL) and the VM is LIVE again.
 *
 * @send:         the session.
 * @ret_reasons:  optional; on -EPERM the SEVMIG_REASON_* bits that refused
 *                the target (certificates, roots, policy).
 * @ret_fw_error: optional; firmware status when a command refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @send), -EPERM (the target is refused:
 *         *ret_reasons), -EBADMSG (the HELLO is malformed or corrupt; the
 *         log names the field), -EPROTO (the peer spoke out of turn or
 *         another stream version; or the guest's firmware state is not
 *         RUNNING), -EPIPE (the target closed channel 0 before its HELLO),
 *         -EIO (firmware status in *ret_fw_error), -EALREADY (begin was
 *         called before), the channel's errors, and the errors of
 *         sevmig_vm_guest_status() (-EBADF: no guest was started on the
 *         VM), sevmig_platform_pdh_export() and sevmig_psp_send_start().
 * Firmware: GUEST_STATUS, PDH_CERT_EXPORT, SEND_START (POLICY_FAILURE,
 *         INVALID_CERTIFICATE, BAD_SIGNATURE ...), SEND_CANCEL on failure.
 * Context: the VMM's migration thread; blocks on the channel.
 */
SEVMIG_WARN_UNUSED int sevmig_send_begin(struct sevmig_send *send,
					 uint64_t *ret_reasons,
					 uint32_t *ret_fw_error);

/**
 * sevmig_send_mark_dirty() - pages the guest wrote since the last pass.
 *
 * For RAM whose dirty pages the VMM tracks itself: a bitmap with one bit
 * per 4 KiB page of [@gpa, @gpa + @size) (bit i of byte i / 8 for page i),
 * or NULL for "all of it". The next pass sends them. A registered RAM
 * region is tracked from the first report on any part of it (an all-zero
 * bitmap says "tracked, nothing written yet"); one with neither a report
 * nor a dirty-log slot (sevmig_send_dirty_log_slot()) is sent whole in
 * every pass and counts whole in remaining_pages.
 *
 * @send:   the session.
 * @gpa:    start, 4 KiB aligned, inside registered RAM.
 * @size:   bytes, a non-zero multiple of 4 KiB.
 * @bitmap: (@size / 4096 + 7) / 8 bytes, or NULL.
 * @flags:  must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (alignment, flags, outside registered RAM), -ESTALE (the
 *         session has ended).
 * Firmware: not reached.
 * Context: any thread, also while a pass runs (the pages join the next).
 */
SEVMIG_WARN_UNUSED int sevmig_send_mark_dirty(struct sevmig_send *send,
					      uint64_t gpa, uint64_t size,
					      const void *bitmap,
					      uint32_t flags);

/**
 * sevmig_send_dirty_log_slot() - let the library read KVM's dirty log.
 *
 * The VMM created KVM memory slot @slot for [@gpa, @gpa + @size) with
 * KVM_MEM_LOG_DIRTY_PAGES; at the start of the first pass (to clear it),
 * at the end of each pass (for its remaining_pages) and at the start of
 * the next, the session reads and clears its dirty bitmap with
 * KVM_GET_DIRTY_LOG through the VM descriptor the handle borrows.
 *
 * @send:  the session.
 * @slot:  the KVM slot id (as in KVM_SET_USER_MEMORY_REGION).
 * @gpa:   the slot's guest physical start, as registered RAM.
 * @size:  the slot's size.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (alignment, flags, not exactly inside registered RAM),
 *         -EEXIST (slot or range registered twice), -ENOSPC (more than 64
 *         slots), -EALREADY (after the first pass started).
 * Firmware: not reached.
 * Context: the VMM's migration thread, before the first pass.
 */
SEVMIG_WARN_UNUSED int sevmig_send_dirty_log_slot(struct sevmig_send *send,
						  uint32_t slot, uint64_t gpa,
						  uint64_t size,
						  uint32_t flags);

/**
 * struct sevmig_pass_info - what one pass did.
 *
 * @size:            in: sizeof(); out: bytes written.
 * @pass:            the pass number (1 for the first).
 * @pages_private:   private pages sent in this pass.
 * @pages_shared:    shared pages sent in this pass.
 * @remaining_pages: pages dirtied or converted while it ran (the next
 *                   pass's work as known now).
 * @duration_ns:     how long it took.
 */
struct sevmig_pass_info {
	uint32_t size;
	uint32_t pass;
	uint64_t pages_private;
	uint64_t pages_shared;
	uint64_t remaining_pages;
	uint64_t duration_ns;
};
#define SEVMIG_PASS_INFO_SIZE_VER0 40u

/**
 * sevmig_send_pass() - one pre-copy pass while the guest runs.
 *
 * The first pass sends all registered RAM; later passes send what was
 * dirtied (sevmig_send_mark_dirty(), dirty-log slots) or converted between
 * private and shared since the previous pass. Each page goes as private (a
 * PSP packet) or shared (plaintext) according to its state when it is read.
 * The VMM decides when to stop (e.g. when remaining_pages is small enough
 * for its downtime target) and then pauses the VM and commits. On error
 * the session is cancelled (SEND_CANCEL; the VM is LIVE).
 *
 * @send:  the session, after sevmig_send_begin().
 * @info:  optional record to fill (->size set).
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EPROTO (begin not done), -EIO (firmware status: see the
 *         stats' fw_error), -ESTALE (the session ended), -EAGAIN (the
 *         worker thread of a channel could not be started), -EINVAL (NULL
 *         @send, flags, @info size), the channel's errors, the errno of
 *         KVM_GET_DIRTY_LOG for a dirty-log slot, and the common errors of
 *         the raw guest commands (psp.h).
 * Firmware: SEND_UPDATE_DATA per private page; SEND_CANCEL on failure.
 * Context: the VMM's migration thread; vCPU threads keep running and
 *          handling exits meanwhile.
 */
SEVMIG_WARN_UNUSED int sevmig_send_pass(struct sevmig_send *send,
					struct sevmig_pass_info *info,
					uint32_t flags);

/* VMM record types: any value in this range is the VMM's own. */
#define SEVMIG_RECORD_VMM_FIRST 0x1000u
#define SEVMIG_RECORD_VMM_LAST  0xffffu

/**
 * sevmig_send_record() - carry one of the VMM's own records.
 *
 * vCPU registers, device state, anything the destination VMM needs: the
 * library frames, checksums and orders it on channel 0 and the destination
 * hands it back unchanged (sevmig_receive_opts.record). The buffer is
 * copied before the call returns.
 *
 * @send:  the session, after sevmig_send_begin() and before the commit.
 * @type:  SEVMIG_RECORD_VMM_FIRST..SEVMIG_RECORD_VMM_LAST.
 * @buf:   the bytes.
 * @len:   up to opts->max_vmm_record.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (type, flags, NULL @buf with @len), -EMSGSIZE (@len above
 *         the limit), -EPROTO (not between begin and commit), the channel's
 *         errors (the session is then cancelled).
 * Firmware: not reached.
 * Context: the VMM's migration thread.
 */
SEVMIG_WARN_UNUSED int sevmig_send_record(struct sevmig_send *send,
					  uint32_t type, const void *buf,
					  size_t len, uint32_t flags);

/**
 * sevmig_send_commit() - the final pass and the two-phase commit.
 *
 * The VMM has stopped its vCPUs and called sevmig_vm_pause() (pending exits
 * completed). Sends the pages still dirty or converted, the complete
 * page-state map, MSR_KVM_MIGRATION_CONTROL and END (totals and a digest of
 * every record); then waits for the destination's ACK, which it sends only
 * after checking everything. Only then SEND_FINISH (the point of no return:
 * the handle is SENT and refuses to resume) and COMMIT. Until ACK, any
 * failure cancels: SEND_CANCEL, the handle is LIVE, the call returns the
 * error and the VMM resumes the guest. While it runs, sevmig_vm_resume()
 * is refused with -EBUSY.
 *
 * With SEVMIG_COMMIT_FLUSH there is no ACK: after END the channels are
 * flushed, then SEND_FINISH and COMMIT.
 *
 * If COMMIT cannot be written after SEND_FINISH succeeded, the call still
 * returns 0 (the guest is the destination's now) and the session's phase
 * says IN_DOUBT for the destination: see sevmig_send_resolve().
 *
 * @send:         the session.
 * @ret_fw_error: optional; firmware status when a command refused.
 * @return 0 (the source is SENT: tear it down) or a negative errno (the
 *         source may run: resume it).
 *
 * Errors: -EINVAL (NULL @send), -EAGAIN (the VM is not paused; or the
 *         worker thread of a channel could not be started), -EPROTO (begin
 *         not done; the destination refused: its ABORT's words are logged;
 *         or out-of-turn records), -EBADMSG (a malformed or corrupt ACK),
 *         -EIO (firmware status), -ESTALE (the session ended), the
 *         channel's errors, and the common errors of the raw guest
 *         commands (psp.h).
 * Firmware: SEND_UPDATE_DATA, SEND_FINISH; SEND_CANCEL on failure.
 * Context: the VMM's migration thread; the vCPUs are stopped.
 */
SEVMIG_WARN_UNUSED int sevmig_send_commit(struct sevmig_send *send,
					  uint32_t *ret_fw_error);

/**
 * sevmig_send_cancel() - give up: the guest stays here.
 *
 * SEND_CANCEL (if SEND_START was issued), an ABORT record to the
 * destination (best effort), the handle back to LIVE. After the commit this
 * is refused: the guest belongs to the destination.
 *
 * @send:  the session.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags), -EPERM (already committed: SENT), -EIO
 *         (SEND_CANCEL failed, now or when the session failed: the guest's
 *         firmware state is unknown; see sevmig_vm_guest_status(), and call
 *         again to retry).
 * Firmware: SEND_CANCEL.
 * Context: the VMM's migration thread, when no other session call runs.
 */
SEVMIG_WARN_UNUSED int sevmig_send_cancel(struct sevmig_send *send,
					  uint32_t flags);

/**
 * sevmig_send_stats() - the session's progress and metrics.
 *
 * @send:  the session.
 * @stats: record to fill; set ->size first.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL, size), -E2BIG (newer record, non-zero tail).
 * Firmware: not reached.
 * Context: any thread, at any time, also while a pass runs.
 */
SEVMIG_WARN_UNUSED int sevmig_send_stats(struct sevmig_send *send,
					 struct sevmig_mig_stats *stats);

/**
 * sevmig_send_free() - end a send session. NULL is ignored.
 *
 * A session that did not commit is cancelled first, as with
 * sevmig_send_cancel() (the guest stays here). Closes no channel.
 *
 * Errors: none (a failed cancel is logged). Firmware: SEND_CANCEL.
 * Context: no other thread may use the session.
 */
void sevmig_send_free(struct sevmig_send *send);

/**
 * sevmig_send_resolve() - tell a destination in doubt how it ended.
 *
 * If the connection broke after the destination acknowledged, the
 * destination cannot know whether the source committed. This writes the
 * verdict for the VM's last send session on a fresh channel: COMMIT when
 * the source VM is SENT, ABORT when it is LIVE again. The destination
 * reads it with sevmig_receive_resolve().
 *
 * @vm:      the source VM handle.
 * @channel: a new channel to the destination (writes).
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL, flags), -ENOENT (no session ever ran on this VM),
 *         -EBUSY (a session is still running), -ENOMEM, the channel's
 *         errors.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_send_resolve(struct sevmig_vm *vm,
					   struct sevmig_channel *channel,
					   uint32_t flags);

/* ======================================================================
 * Receive session
 * ====================================================================== */

/*
 * VMM record callback: @type is the value given to sevmig_send_record(),
 * @buf and @len its bytes (valid during the call only). Called on the
 * session's calling thread, in the order the source sent them, before the
 * commit: keep the state and apply it when sevmig_receive_run() returned 0.
 * Return 0, or a negative errno to refuse the migration (the session then
 * aborts; the source cancels).
 */
typedef int (*sevmig_record_fn)(void *opaque, uint32_t type, const void *buf,
				size_t len);

/**
 * struct sevmig_receive_opts - how a receive session is built.
 *
 * @size:          sizeof().
 * @flags:         must be 0.
 * @channels:      @nr_channels channels as the source opened them; channel
 *                 0 writes too (HELLO, ACK) unless the stream is a file.
 * @nr_channels:   1..16; page records are accepted from any channel in any
 *                 order. n channels: n - 1 worker threads inside
 *                 sevmig_receive_run(), joined before it returns.
 * @amd_chain, @amd_chain_len: this host's ASK || ARK (the AMD chain of its
 *                 CPU generation), sent in the HELLO.
 * @record, @record_opaque: the VMM record callback (required when the
 *                 source sends VMM records; a record with no callback is an
 *                 error).
 * @progress, @progress_opaque: optional progress callback.
 * @max_vmm_record: largest VMM record accepted; 0 means 16 MiB.
 */
struct sevmig_receive_opts {
	uint32_t size;
	uint32_t flags;
	struct sevmig_channel *const *channels;
	uint32_t nr_channels;
	uint32_t max_vmm_record;
	const void *amd_chain;
	size_t amd_chain_len;
	sevmig_record_fn record;
	void *record_opaque;
	sevmig_progress_fn progress;
	void *progress_opaque;
};
#define SEVMIG_RECEIVE_OPTS_SIZE_VER0 72u

/** A receive session. Opaque. */
struct sevmig_receive;

/**
 * sevmig_receive_new() - create a receive session on a destination VM.
 *
 * The VM must be freshly created for the guest: no SEV init (the session
 * issues it), RAM registered with host addresses (sevmig_vm_ram_add()) the
 * size of the source's, and its negotiation plumbing in place (exits, MSR
 * filter, CPUID offer) so the guest finds it the moment it runs. The handle
 * goes INCOMING: it refuses to resume until the commit.
 *
 * @vm:          the destination VM handle; must outlive the session.
 * @opts:        options (channels and AMD chain required).
 * @ret_receive: receives the session.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, channel count, AMD chain size),
 *         -E2BIG, -ENODEV (no platform), -ESTALE (the VM is not LIVE),
 *         -EBUSY (a session is open on this VM), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_new(struct sevmig_vm *vm,
					  const struct sevmig_receive_opts *opts,
					  struct sevmig_receive **ret_receive);

/**
 * sevmig_receive_run() - receive the guest, up to the commit.
 *
 * Sends the HELLO (this host's PDH, platform chain, AMD chain, firmware
 * API version) unless the stream is a file; on START, checks it against
 * this VM (policy, RAM layout), issues KVM_SEV_INIT and RECEIVE_START;
 * applies page records from every channel (private: RECEIVE_UPDATE_DATA
 * into guest memory; shared: copied), the page-state map and the VMM
 * records; on END checks totals and digests of everything, then sends ACK
 * and waits for COMMIT; then RECEIVE_FINISH, the MSR value and the page
 * state are in the handle, and the handle is LIVE: run the guest.
 *
 * Every byte of the stream is untrusted: lengths, counts, frame numbers,
 * versions and checksums are checked before anything is applied, memory
 * stays bounded whatever the stream claims, and the log names the record
 * and field that failed. On any error before the ACK the session sends
 * ABORT (best effort), the handle is DEAD, and the VMM discards the VM.
 * Once the ACK was written (or tried: the source may hold it) only the
 * source's verdict decides: without one the phase is IN_DOUBT and the VM
 * is kept INCOMING until sevmig_receive_resolve() settles it.
 *
 * @receive:      the session.
 * @ret_fw_error: optional; firmware status when a command refused.
 * @return 0 (run the guest) or a negative errno (discard the VM, unless
 *         the session's phase is SEVMIG_MIG_IN_DOUBT).
 *
 * Errors: -EINVAL (NULL @receive), -EBADMSG (a malformed, corrupt,
 *         duplicated or reordered stream; the log says where), -EPIPE (the
 *         stream ends in the middle of a record, or before START),
 *         -EPROTO (out-of-turn records, an unknown required feature, the
 *         source aborted: its words are logged), -EPERM (START does not fit
 *         this VM: policy, RAM layout, plumbing), -EMSGSIZE (a VMM record
 *         above max_vmm_record), -ENOTCONN (no verdict after the ACK: the
 *         connection broke, a local error, or what came is no well-formed
 *         COMMIT or ABORT of this session; phase IN_DOUBT, the VM is kept
 *         INCOMING; see sevmig_receive_resolve()), -EIO (firmware status;
 *         a RECEIVE_FINISH that fails after the source's COMMIT also leaves
 *         the phase IN_DOUBT and the VM INCOMING: the guest exists only
 *         here), -ENOMEM (the RAM map START describes), -EAGAIN (the reader
 *         thread of a channel could not be started), -EALREADY, the
 *         channel's errors, the record callback's error, the common errors
 *         of the raw guest commands (psp.h), and for the HELLO the errors
 *         of sevmig_platform_pdh_export() and sevmig_platform_status().
 * Firmware: PDH_CERT_EXPORT, PLATFORM_STATUS, KVM_SEV_INIT, RECEIVE_START,
 *         RECEIVE_UPDATE_DATA (a MAC failure on tampered packets),
 *         RECEIVE_FINISH.
 * Context: the VMM's migration thread; blocks on the channels.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_run(struct sevmig_receive *receive,
					  uint32_t *ret_fw_error);

/**
 * sevmig_receive_resolve() - settle a session left in doubt.
 *
 * After sevmig_receive_run() returned -ENOTCONN (no verdict after the
 * ACK), reads the source's verdict from a fresh channel
 * (sevmig_send_resolve() on the source): COMMIT finishes the migration as
 * sevmig_receive_run() would (return 0: run the guest), ABORT discards it.
 * Anything else (a broken channel, a malformed verdict, one for another
 * session) leaves the session in doubt: call again with another channel.
 * After a RECEIVE_FINISH that failed following the COMMIT, it retries
 * RECEIVE_FINISH and reads nothing (@channel may be NULL).
 *
 * @receive:      the session, phase IN_DOUBT.
 * @channel:      a new channel from the source (reads).
 * @ret_fw_error: optional; firmware status of RECEIVE_FINISH.
 * @return 0 (run the guest) or a negative errno (discard the VM, unless
 *         the phase is still SEVMIG_MIG_IN_DOUBT).
 *
 * Errors: -EINVAL (NULL), -EPROTO (not in doubt; the verdict is ABORT: the
 *         VM is DEAD; a verdict for another session: still in doubt),
 *         -EBADMSG (a malformed or corrupt verdict: still in doubt, call
 *         again), -EIO (RECEIVE_FINISH refused: still in doubt), -ENOMEM,
 *         the channel's errors (still in doubt).
 * Firmware: RECEIVE_FINISH.
 * Context: the VMM's migration thread.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_resolve(struct sevmig_receive *receive,
					      struct sevmig_channel *channel,
					      uint32_t *ret_fw_error);

/**
 * sevmig_receive_stats() - the session's progress and metrics.
 *
 * As sevmig_send_stats().
 *
 * Errors: -EINVAL (NULL, size), -E2BIG (newer record, non-zero tail).
 * Firmware: not reached.
 * Context: any thread, at any time, also while the session runs.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_stats(struct sevmig_receive *receive,
					    struct sevmig_mig_stats *stats);

/**
 * sevmig_receive_free() - end a receive session. NULL is ignored.
 *
 * A session that did not commit leaves the handle DEAD: discard the VM.
 * Closes no channel.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use the session.
 */
void sevmig_receive_free(struct sevmig_receive *receive);

/**
 * sevmig_hello_export() - this host's HELLO, for a source that cannot ask.
 *
 * A migration to a file (SEVMIG_COMMIT_FLUSH) cannot read the target's
 * HELLO from the stream: the target host exports it ahead of time and the
 * operator gives it to the source (sevmig_send_opts.target_hello).
 *
 * @platform:  this host's SEV platform.
 * @amd_chain, @amd_chain_len: this host's ASK || ARK.
 * @buf, @size: where to write; NULL and 0 ask for the size.
 * @ret_len:   receives the bytes needed or written (also on -ENOSPC).
 * @ret_fw_error: optional; firmware status when a command refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL, AMD chain size), -ENOSPC (@size too small; the
 *         size needed is in *ret_len), the errors of
 *         sevmig_platform_pdh_export() and sevmig_platform_status().
 * Firmware: PLATFORM_STATUS, PDH_CERT_EXPORT.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_hello_export(struct sevmig_platform *platform,
					   const void *amd_chain,
					   size_t amd_chain_len, void *buf,
					   size_t size, size_t *ret_len,
					   uint32_t *ret_fw_error);

/* ======================================================================
 * Inspecting a saved stream
 * ====================================================================== */

/* Record types of the stream (docs/stream.md, "Record types"). */
enum sevmig_stream_record {
	SEVMIG_STREAM_HELLO = 1,
	SEVMIG_STREAM_START = 2,
	SEVMIG_STREAM_PAGE_PRIVATE = 3,
	SEVMIG_STREAM_PAGE_SHARED = 4,
	SEVMIG_STREAM_PASS_END = 5,
	SEVMIG_STREAM_PAGE_STATE = 6,
	SEVMIG_STREAM_VMM = 7,
	SEVMIG_STREAM_END = 8,
	SEVMIG_STREAM_ACK = 9,
	SEVMIG_STREAM_COMMIT = 10,
	SEVMIG_STREAM_ABORT = 11,
};

/* struct sevmig_stream_info.seen */
#define SEVMIG_STREAM_SEEN_HELLO     (1u << 0)
#define SEVMIG_STREAM_SEEN_START     (1u << 1)
#define SEVMIG_STREAM_SEEN_LAST_PASS (1u << 2) /* a PASS_END saying "last" */
#define SEVMIG_STREAM_SEEN_END       (1u << 3)
#define SEVMIG_STREAM_SEEN_ACK       (1u << 4)
#define SEVMIG_STREAM_SEEN_COMMIT    (1u << 5)
#define SEVMIG_STREAM_SEEN_ABORT     (1u << 6)
/*
 * Everything this channel direction carries in a finished migration: on
 * channel 0 from the source START, the last pass, END and COMMIT; on the
 * other channels from the source the last pass; from the destination
 * HELLO and ACK. Never with an ABORT.
 */
#define SEVMIG_STREAM_COMPLETE       (1u << 7)

/**
 * struct sevmig_stream_info - what one channel direction of a stream holds.
 *
 * Filled by sevmig_stream_inspect() up to the end of the data or up to the
 * first damage. Fields of records that did not occur are 0.
 *
 * @size:             in: sizeof(); out: bytes written.
 * @seen:             SEVMIG_STREAM_SEEN_* and SEVMIG_STREAM_COMPLETE.
 * @version:          the channel header's stream version (0: no header).
 * @direction:        1 source to destination, 2 destination to source.
 * @channel:          the channel index of the header.
 * @nr_channels:      the number of channels the header says.
 * @required_features, @optional_features: the header's feature bits.
 * @session_id:       the header's session id (zero from a destination).
 * @bytes:            bytes of the valid part: the header and whole records.
 * @records:          whole valid records.
 * @records_by_type:  [t] records of type t (enum sevmig_stream_record);
 *                    [0] OPTIONAL records of unknown types, skipped.
 * @pages_private:    PAGE_PRIVATE records.
 * @pages_shared:     PAGE_SHARED records.
 * @passes:           PASS_END records.
 * @commit_mode:      START's SEVMIG_COMMIT_* (0 without START).
 * @guest_policy:     START's guest policy.
 * @ram_regions:      START's RAM regions.
 * @ram_bytes:        START's RAM, all regions.
 * @shared_frames:    frames shared in the page-state map (PAGE_STATE).
 * @migration_control: END's MSR_KVM_MIGRATION_CONTROL.
 * @fw_api_major, @fw_api_minor, @fw_build: HELLO's firmware version.
 * @abort_errno:      an ABORT's errno (negative).
 * @digest:           the digest of this channel direction's records, END
 *                    excluded (docs/stream.md): compare with another
 *                    channel's @end_digests entry.
 * @end_records, @end_digests: END's per-channel record counts and digests
 *                    (END is on channel 0: this is how the other channels'
 *                    files are checked against it).
 * @error:            0, or the negative errno of the damage.
 * @error_type:       the type the damaged record's header says (0: the
 *                    channel header).
 * @error_record:     the damaged record's sequence number (its index).
 * @error_offset:     the byte offset where the damaged record (or the
 *                    channel header) starts.
 */
struct sevmig_stream_info {
	uint32_t size;
	uint32_t seen;
	uint32_t version;
	uint32_t direction;
	uint32_t channel;
	uint32_t nr_channels;
	uint64_t required_features;
	uint64_t optional_features;
	uint8_t session_id[16];
	uint64_t bytes;
	uint64_t records;
	uint64_t records_by_type[12];
	uint64_t pages_private;
	uint64_t pages_shared;
	uint32_t passes;
	uint32_t commit_mode;
	uint32_t guest_policy;
	uint32_t ram_regions;
	uint64_t ram_bytes;
	uint64_t shared_frames;
	uint64_t migration_control;
	uint32_t fw_api_major;
	uint32_t fw_api_minor;
	uint32_t fw_build;
	int32_t abort_errno;
	uint64_t digest;
	uint64_t end_records[16];
	uint64_t end_digests[16];
	int32_t error;
	uint32_t error_type;
	uint64_t error_record;
	uint64_t error_offset;
};
#define SEVMIG_STREAM_INFO_SIZE_VER0 528u

/**
 * sevmig_stream_inspect() - walk one channel direction of a saved stream.
 *
 * Reads @channel to its end (a file a SEVMIG_COMMIT_FLUSH session wrote,
 * one per channel, or a captured HELLO) and checks what can be checked
 * without firmware and without the other channels: the channel header
 * (magic, version, length, features, checksum), every record's header
 * check, type, flags, length bound, sequence, channel, pass and checksum,
 * and each record's fields and place: START first on channel 0 and HELLO
 * first from a destination; page records with valid lengths, inside
 * START's RAM, each frame at most once per pass, every frame in pass 1
 * when the stream has one channel (for RAM up to 512 GiB); PASS_END
 * counts; the page-state map tiling START's RAM in order; END after the
 * last pass with its counts and digest equal to channel 0's (and, with
 * one channel, its totals and shared frames); COMMIT with the session id;
 * nothing after COMMIT, ACK or ABORT. Private page contents are not
 * checked (only the PSP can).
 *
 * A stream that ends cleanly between records is not damaged: @info says
 * how far it got (SEVMIG_STREAM_COMPLETE or not). Damage stops the walk:
 * the call returns its errno, @info describes the valid part and the
 * damage (error fields), and the log names the record and the field.
 *
 * @ctx:     the context (logging).
 * @channel: a channel that reads (e.g. sevmig_channel_from_fds(ctx, fd,
 *           -1, ...) on the file).
 * @info:    record to fill; set ->size first. Filled on damage too.
 * @flags:   must be 0.
 * @return 0 (no damage) or a negative errno.
 *
 * Errors: -EINVAL (NULL, flags, a channel that cannot read), -E2BIG (newer
 *         record with a non-zero tail), -EBADMSG (damage: a malformed or
 *         corrupt record, a lost, duplicated or reordered one, fields that
 *         disagree; not a stream), -EPROTO (another stream version, an
 *         unknown required feature, a record out of turn such as a page
 *         after the last pass or anything after COMMIT), -EPIPE (the data
 *         ends inside the header or a record: truncated), -ENOMEM, the
 *         channel's errors. VMM records above 16 MiB (a sender that raised
 *         max_vmm_record) are refused as damage.
 * Firmware: not reached.
 * Context: any thread; memory stays bounded whatever the stream says.
 */
SEVMIG_WARN_UNUSED int sevmig_stream_inspect(struct sevmig_ctx *ctx,
					     struct sevmig_channel *channel,
					     struct sevmig_stream_info *info,
					     uint32_t flags);

/**
 * sevmig_stream_record_name() - "START", "PAGE_PRIVATE", ... for a type.
 *
 * @type: a record type (enum sevmig_stream_record).
 * @return a static string; "unknown record" for other values.
 *
 * Errors: none. Firmware: not reached. Context: any thread.
 */
const char *sevmig_stream_record_name(uint32_t type);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_MIGRATION_H */
