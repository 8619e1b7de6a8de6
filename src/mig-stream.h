/* SPDX-License-Identifier: MIT */
/*
 * Private: the migration stream (docs/stream.md) as the session code uses
 * it: formats, per-channel writers that batch records into one buffer, and
 * per-channel readers that validate every record before handing it on.
 */
#ifndef SEVMIG_MIG_STREAM_H
#define SEVMIG_MIG_STREAM_H

#include <string.h>

#include <sevmig/migration.h>

#include "internal.h"

/* ---- format (docs/stream.md) ---- */
#define MIG_MAGIC "SEVMIGST"
#define MIG_VERSION 1u
#define MIG_CHAN_HDR_LEN 64u
#define MIG_REC_HDR_LEN 32u
#define MIG_MAX_CHANNELS 16u
#define MIG_MAX_REGIONS 4096u
#define MIG_SESSION_ID_LEN 16u
#define MIG_DIR_TO_DST 1u
#define MIG_DIR_TO_SRC 2u
#define MIG_REC_F_OPTIONAL 0x1u
#define MIG_ABORT_TEXT_MAX 256u
#define MIG_PAGE_STATE_MAX 65536u
#define MIG_VMM_RECORD_DEFAULT (16u << 20)

enum mig_rec_type {
	MIG_REC_HELLO = 0x0001,
	MIG_REC_START = 0x0002,
	MIG_REC_PAGE_PRIVATE = 0x0003,
	MIG_REC_PAGE_SHARED = 0x0004,
	MIG_REC_PASS_END = 0x0005,
	MIG_REC_PAGE_STATE = 0x0006,
	MIG_REC_VMM = 0x0007,
	MIG_REC_END = 0x0008,
	MIG_REC_ACK = 0x0009,
	MIG_REC_COMMIT = 0x000a,
	MIG_REC_ABORT = 0x000b,
	MIG_REC_TYPE_LAST = MIG_REC_ABORT,
};

/* Payload layouts (fixed parts; all little-endian). */
#define MIG_HELLO_FIXED 48u		/* then PDH, platform chain, AMD chain */
#define MIG_START_FIXED 32u		/* then session, PDH, regions */
#define MIG_PAGE_PRIVATE_FIXED 64u	/* gfn 8, packet header 52, len 4 */
#define MIG_PAGE_SHARED_FIXED 16u	/* gfn 8, len 4, reserved 4 */
#define MIG_PASS_END_LEN 24u
#define MIG_VMM_FIXED 8u
#define MIG_END_FIXED 56u		/* then 16 bytes per channel */
#define MIG_ACK_LEN 24u
#define MIG_COMMIT_LEN 16u
#define MIG_ABORT_FIXED 24u

#define MIG_PAGE_SIZE 4096u

/* Little-endian field access (the library runs on x86-64, but say it). */
static inline void mig_put16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void mig_put32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void mig_put64(void *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t mig_get16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}
static inline uint32_t mig_get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}
static inline uint64_t mig_get64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

const char *mig_rec_name(uint32_t type);

/* Digest of a channel direction: FNV-1a 64 over the record headers. */
#define MIG_DIGEST_INIT 0xcbf29ce484222325ull
uint64_t mig_digest(uint64_t d, const void *hdr);

/* ---- channels (mig-channel.c) ---- */
struct sevmig_channel {
	struct sevmig_ctx *ctx;
	struct sevmig_channel_ops ops;
	/* the fd helper's own state; unused for callback channels */
	int rfd, wfd;
	int cancelled;			/* atomic */
	unsigned char *rbuf;		/* read-ahead for plain fds */
	size_t rbuf_pos, rbuf_len;
	uint64_t bytes_in, bytes_out;	/* atomic */
};

/* Write all of @iov; 0 or -errno. Counts bytes. */
int mig_chan_writev(struct sevmig_channel *ch, const struct sevmig_iovec *iov,
		    uint32_t iovcnt);
/* Read exactly @len bytes; 0, -ENODATA (clean end before any byte), -errno. */
int mig_chan_read(struct sevmig_channel *ch, void *buf, size_t len);
int mig_chan_flush(struct sevmig_channel *ch);
void mig_chan_cancel(struct sevmig_channel *ch);
static inline bool mig_chan_can_read(const struct sevmig_channel *ch)
{
	return ch->ops.read != NULL;
}
static inline bool mig_chan_can_write(const struct sevmig_channel *ch)
{
	return ch->ops.writev != NULL;
}

/* A read-only channel over @len bytes at @buf (a saved HELLO, a file). */
struct mig_mem {
	const unsigned char *p;
	size_t len, pos;
};
void mig_chan_mem(struct sevmig_channel *ch, struct mig_mem *m,
		  struct sevmig_ctx *ctx, const void *buf, size_t len);

/* ---- channel headers ---- */
struct mig_chan_hdr {
	uint32_t version;
	uint64_t required, optional;
	uint8_t session_id[MIG_SESSION_ID_LEN];
	uint32_t channel, nr_channels, direction;
};
void mig_chan_hdr_encode(const struct mig_chan_hdr *h,
			 unsigned char out[MIG_CHAN_HDR_LEN]);
/* Validates magic, version, length, features, CRC; -EBADMSG/-EPROTO logged. */
int mig_chan_hdr_decode(const struct sevmig_ctx *ctx, const char *who,
			const unsigned char in[MIG_CHAN_HDR_LEN],
			struct mig_chan_hdr *h);

/* ---- writer: one per channel direction, used by one thread at a time ---- */
struct mig_writer {
	struct sevmig_channel *ch;
	uint32_t channel;
	uint32_t pass;			/* PASS_END records written + 1 */
	uint64_t seq;
	uint64_t digest;
	uint64_t records;		/* all records written */
	uint64_t bytes;
	unsigned char *buf;		/* batch: whole records, back to back */
	size_t cap, len;
	size_t open_off;		/* offset of the reserved record, or SIZE_MAX */
	int error;			/* sticky */
};

int mig_writer_init(struct mig_writer *w, struct sevmig_channel *ch,
		    uint32_t channel, size_t batch);
void mig_writer_fini(struct mig_writer *w);
/* Write a channel header at once (not batched). */
int mig_writer_header(struct mig_writer *w, const struct mig_chan_hdr *h);
/*
 * Reserve room for a record of @len payload bytes in the batch (flushing
 * first if needed) and return the payload pointer, or NULL with w->error
 * set. Fill it, then mig_writer_commit().
 */
void *mig_writer_reserve(struct mig_writer *w, uint16_t type, uint32_t len);
/* Finish the reserved record: CRC, sequence, digest. Returns its CRC. */
uint32_t mig_writer_commit(struct mig_writer *w);
/* A record whose payload is @iov (copied into the batch, or written directly
 * when larger than the batch). Returns 0 or -errno; *ret_crc optional. */
int mig_writer_record(struct mig_writer *w, uint16_t type,
		      const struct sevmig_iovec *iov, uint32_t iovcnt,
		      uint32_t *ret_crc);
int mig_writer_flush(struct mig_writer *w);

/* ---- reader: one per channel direction ---- */
struct mig_rec {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint64_t seq;
	uint32_t channel;
	uint32_t pass;
	uint32_t crc;
	const unsigned char *payload;	/* valid until the next read */
};

struct mig_reader {
	struct sevmig_channel *ch;
	const struct sevmig_ctx *ctx;
	uint32_t channel;
	uint32_t pass;			/* PASS_END records read + 1 */
	uint64_t seq;			/* next expected */
	uint64_t digest;
	uint64_t records;
	uint64_t bytes;
	uint32_t buf_cap;		/* largest payload this channel accepts */
	uint32_t max_vmm;		/* largest VMM payload (channel 0) */
	unsigned char *buf;
	const char *who;		/* "channel 3" for messages */
	char who_buf[24];
};

/* @buf_cap: the largest record payload accepted on this channel. */
int mig_reader_init(struct mig_reader *r, const struct sevmig_ctx *ctx,
		    struct sevmig_channel *ch, uint32_t channel,
		    uint32_t buf_cap, uint32_t max_vmm);
void mig_reader_fini(struct mig_reader *r);
int mig_reader_header(struct mig_reader *r, struct mig_chan_hdr *h);
/*
 * Read and check the next record: header fields, length bound for its type,
 * sequence, channel, pass, reserved, CRC. Returns 0, -ENODATA (clean end
 * of stream before a record), -EBADMSG (logged with the field), or the
 * channel's error. Unknown optional records are skipped here.
 */
int mig_reader_next(struct mig_reader *r, struct mig_rec *rec);

/* Largest payload a record type may have (0: unknown type). */
uint32_t mig_rec_max_payload(uint32_t type, uint32_t max_vmm);

#endif /* SEVMIG_MIG_STREAM_H */
