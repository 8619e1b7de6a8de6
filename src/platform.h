/* SPDX-License-Identifier: MIT */
/* Private: the /dev/sev platform object, shared by platform.c and guest-cmd.c. */
#ifndef SEVMIG_PLATFORM_H
#define SEVMIG_PLATFORM_H

#include "internal.h"

struct sevmig_platform {
	struct sevmig_ctx *ctx;
	int fd;
	bool owned;		/* opened by sevmig_platform_open(): close on free */
	int vms_started;	/* RECEIVE_STARTs that stored our fd number (atomic) */
};

#endif /* SEVMIG_PLATFORM_H */
