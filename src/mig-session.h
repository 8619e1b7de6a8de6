/* SPDX-License-Identifier: MIT */
/*
 * Private: what the send and receive sessions share: metrics, the RAM
 * layout they agree on, and the control records' contents (mig-records.c).
 */
#ifndef SEVMIG_MIG_SESSION_H
#define SEVMIG_MIG_SESSION_H

#include <pthread.h>

#include "mig-stream.h"
#include "vm-priv.h"

/* ---- metrics (mig-stats.c) ---- */
#define MIG_LAT_BUCKETS 160u	/* 4 per power of two, up to ~2^40 ns */

struct mig_stats {
	pthread_mutex_t lock;		/* the non-atomic fields */
	uint32_t phase;
	int32_t error;
	uint32_t fw_error;
	uint64_t passes;
	uint64_t remaining_pages;
	uint64_t dirty_rate;
	uint64_t start_ns, end_ns;
	uint64_t downtime_start_ns, downtime_ns;
	/* atomics, updated by every worker */
	uint64_t pages_private, pages_shared;
	uint64_t bytes_private, bytes_shared;
	uint64_t records;
	uint64_t psp_commands, psp_ns_sum, psp_ns_min, psp_ns_max;
	uint64_t fw_status_seen;
	uint64_t lat[MIG_LAT_BUCKETS];
};

uint64_t mig_now_ns(void);
int mig_stats_init(struct mig_stats *s);
void mig_stats_fini(struct mig_stats *s);
void mig_stats_phase(struct mig_stats *s, uint32_t phase);
void mig_stats_fail(struct mig_stats *s, int err, uint32_t fw);
void mig_stats_psp(struct mig_stats *s, uint64_t ns, uint32_t fw);
/* Snapshot into a caller's record (sized rules); @bytes_total added. */
int mig_stats_read(struct mig_stats *s, const struct sevmig_ctx *ctx,
		   const char *fn, uint64_t bytes_total,
		   struct sevmig_mig_stats *out);
void mig_stats_snapshot(struct mig_stats *s, uint64_t bytes_total,
			struct sevmig_mig_stats *k);

/* ---- RAM layout ---- */
struct mig_region {
	uint64_t gfn, npages;
	unsigned char *hva;
	uint64_t first_bit;		/* index of its first page in bitmaps */
};

struct mig_layout {
	struct mig_region *r;
	uint32_t n;
	uint64_t pages;			/* sum of npages */
};

/* Copy the VM's RAM regions that have a host address (mig-ram.c). */
int mig_layout_from_vm(struct sevmig_vm *vm, struct mig_layout *l);
void mig_layout_free(struct mig_layout *l);
/* The region holding @gfn, or NULL. */
const struct mig_region *mig_layout_find(const struct mig_layout *l,
					 uint64_t gfn);

/* ---- control records (mig-records.c) ---- */
struct mig_hello {
	uint32_t ver_min, ver_max;
	uint64_t features;
	uint32_t api_major, api_minor, build;
	uint32_t max_channels;
	const unsigned char *pdh, *plat, *amd;	/* into the payload */
	uint32_t amd_len;
};
/* Build this host's HELLO payload; *ret_len set, -ENOSPC if too small. */
int mig_hello_build(struct sevmig_platform *p, const void *amd,
		    size_t amd_len, unsigned char *buf, size_t size,
		    size_t *ret_len, uint32_t *ret_fw_error);
int mig_hello_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, struct mig_hello *h);

struct mig_start {
	uint32_t policy, commit, nr_channels, phys_bits, nr_regions;
	const unsigned char *session, *pdh, *regions;
};
int mig_start_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, struct mig_start *s);

/*
 * The RAM a START names, as a stream's reader tracks it (mig-ram.c): the
 * regions in the stream's order (sorted, disjoint: mig_start_parse()
 * checked), their hva NULL until the reader sets it, and per region the
 * next frame the page-state map must cover.
 */
struct mig_ram {
	struct mig_layout l;
	uint64_t *state_next;
};
/* From a parsed START: 0 or -ENOMEM (nothing held). */
int mig_ram_from_start(struct mig_ram *m, const struct mig_start *st);
void mig_ram_free(struct mig_ram *m);
/* PAGE_STATE's window [start, end) continues region *ret_k's map, or
 * -EBADMSG logged as "@who: ...". The caller moves state_next on. */
int mig_ram_state_window(const struct sevmig_ctx *ctx, const char *who,
			 const struct mig_ram *m, uint64_t start, uint64_t end,
			 uint32_t *ret_k);
/* The shared frames of @t in [gfn, end): 0 or the tracker's error. */
int mig_shared_frames_in(struct sevmig_tracker *t, uint64_t gfn,
			 uint64_t end, uint64_t *ret_n);
/* At END: every region's map is complete (else -EBADMSG logged); the
 * shared frames of @map inside the regions. */
int mig_ram_shared_frames(const struct sevmig_ctx *ctx, const char *who,
			  const struct mig_ram *m, struct sevmig_tracker *map,
			  uint64_t *ret_shared);

struct mig_end {
	uint32_t passes, nr_channels;
	uint64_t migration_control, shared_pages;
	uint64_t private_records, shared_records, state_records, vmm_records;
	uint64_t ch_records[MIG_MAX_CHANNELS], ch_digest[MIG_MAX_CHANNELS];
};
uint32_t mig_end_len(uint32_t nr_channels);
void mig_end_encode(const struct mig_end *e, unsigned char *out);
int mig_end_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		  uint32_t len, struct mig_end *e);

/* Page records (PAGE_PRIVATE, PAGE_SHARED): their fields, checked. */
struct mig_page {
	uint64_t gfn;
	uint32_t len;			/* data bytes */
	const unsigned char *hdr;	/* private: the PSP packet header */
	const unsigned char *data;
};
int mig_page_parse(const struct sevmig_ctx *ctx, const char *who,
		   const struct mig_rec *rec, struct mig_page *pg);
/* PASS_END: its pass must be the record's own; *ret_records its count. */
int mig_pass_end_parse(const struct sevmig_ctx *ctx, const char *who,
		       const struct mig_rec *rec, uint32_t *ret_last,
		       uint64_t *ret_records);
/* A VMM record's type, in the VMM range, reserved word 0. */
int mig_vmm_parse(const struct sevmig_ctx *ctx, const struct mig_rec *rec,
		  uint32_t *ret_type);
/* ABORT's fields (-EBADMSG logged when malformed; nothing else logged). */
int mig_abort_parse(const struct sevmig_ctx *ctx, const unsigned char *pl,
		    uint32_t len, int32_t *ret_err, uint32_t *ret_text_len);

/* ABORT: write one (best effort), or say what a received one says. */
int mig_abort_write(struct mig_writer *w, const uint8_t *session_id, int err,
		    const char *why);
int mig_abort_report(const struct sevmig_ctx *ctx, const char *side,
		     const unsigned char *pl, uint32_t len);

/*
 * A fresh session id. It binds the channels and the verdict to one session;
 * it is not a secret, so it is mixed from the clock, the process and a
 * counter rather than taken from the kernel's random source.
 */
void mig_session_id(uint8_t out[MIG_SESSION_ID_LEN]);

#endif /* SEVMIG_MIG_SESSION_H */
