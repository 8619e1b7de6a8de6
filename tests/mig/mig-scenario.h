/* SPDX-License-Identifier: MIT */
/*
 * One small live migration on a kept world (mig-test.h), run under a fault:
 * the k-th system call of one side fails, the k-th PSP command of one host
 * reports a firmware error, a channel is cut at a record boundary or byte,
 * one side is killed between two records, or one bit of the stream is
 * flipped on its way. The run then recovers as a VMM would (an in-doubt
 * destination asks the source with sevmig_send_resolve() and
 * sevmig_receive_resolve() over a fresh socketpair) and checks the rule of
 * the two-phase commit: exactly one of "the destination runs, with every
 * page and the page-state map equal, the source SENT" and "the source runs
 * again (LIVE, GUEST_STATUS RUNNING), the destination DEAD".
 */
#ifndef SEVMIG_MIG_SCENARIO_H
#define SEVMIG_MIG_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "mig-test.h"

#define MS_DIR_TO_DST 1u	/* source to destination */
#define MS_DIR_TO_SRC 2u	/* destination to source (channel 0 only) */
#define MS_SRC 0u
#define MS_DST 1u

enum ms_kind {
	MS_CLEAN,	/* no fault: counts what a run does */
	MS_SYS,		/* the @k-th system call of @side fails */
	MS_LATE,	/* the @k-th ioctl of @side works, then answers -EIO */
	MS_FW,		/* the @k-th PSP command of @side's host fails */
	MS_CUT,		/* channel @ch is cut (both directions) at @at */
	MS_KILL,	/* @side dies at @at: every channel closes */
	MS_FLIP,	/* bit @bit of byte @at of (@ch, @dir) is flipped */
};

struct ms_case {
	enum ms_kind kind;
	uint32_t nch;		/* channels, 1..MT_MAX_CH */
	uint32_t pages;		/* guest RAM pages */
	uint32_t side;		/* MS_SRC or MS_DST */
	uint64_t k;		/* MS_SYS, MS_FW: 1-based */
	uint32_t ch, dir;	/* MS_CUT, MS_KILL, MS_FLIP: where, counted on */
	bool at_unit;		/* @at counts units (header, records), not bytes */
	uint64_t at;		/* units: after this many; bytes: after this many */
	uint32_t bit;		/* MS_FLIP */
};

/* What a direction of a channel carried, as the proxy saw it. */
struct ms_flow {
	uint64_t bytes;
	uint64_t units;		/* the channel header, then each record */
	uint64_t unit_end[256];	/* stream offset where unit i+1 ends */
	uint16_t unit_type[256];	/* record type of unit i+1 (0: header) */
};

struct ms_result {
	bool dst_runs;		/* exactly one of these two is true */
	bool src_runs;
	bool lost;		/* a killed destination after its ACK reached
				 * the source: the guest died with it */
	bool fired;		/* the fault or event happened */
	bool in_doubt;		/* the destination needed the resolve step */
	int send_ret, recv_ret;
	uint64_t calls[2];	/* system calls of each side's context */
	uint64_t ioctls[2];	/* of which ioctls */
	uint64_t psp[2];	/* PSP commands of each host during the run */
	uint16_t flip_type;	/* MS_FLIP: type of the record hit (0: header) */
	struct ms_flow flow[MT_MAX_CH][3];	/* [ch][dir] (MS_CUT/KILL/FLIP/CLEAN) */
};

/* Run one case on @w; fails the test (cmocka) when the rule is broken. */
void ms_run(struct mt_world *w, const struct ms_case *c, struct ms_result *r);
/* "source syscall 17 of 2 channels" and the like, for messages. */
const char *ms_case_name(const struct ms_case *c, char *buf, size_t len);

#endif /* SEVMIG_MIG_SCENARIO_H */
