/* SPDX-License-Identifier: MIT */
/* Private: the /dev/sev platform object, shared by the psp-* files and the probe. */
#ifndef SEVMIG_PSP_PLATFORM_H
#define SEVMIG_PSP_PLATFORM_H

#include "internal.h"
#include "uapi/kvm-abi.h"

struct sevmig_platform {
	struct sevmig_ctx *ctx;
	int fd;
	bool owned;		/* opened by sevmig_platform_open(): close on free */
	int vms_started;	/* RECEIVE_STARTs that stored our fd number (atomic) */
};

/* PLATFORM_STATUS as the firmware answers it, in the public record's terms. */
void sevmig_psp_status_decode(const struct sev_user_data_status *st,
			      struct sevmig_platform_status *out);

#endif /* SEVMIG_PSP_PLATFORM_H */
