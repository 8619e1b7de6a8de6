/* SPDX-License-Identifier: MIT */
/* Private: the /dev/sev platform object, shared by the psp-* files and the probe. */
#ifndef SEVMIG_PSP_PLATFORM_H
#define SEVMIG_PSP_PLATFORM_H

#include "internal.h"
#include "uapi/kvm-abi.h"

/*
 * The count of VMs that may still use a platform's fd number, in its own
 * allocation so that a VM handle freed after the platform (against vm.h's
 * order, but only worth a warning) still has it to update.
 */
struct sevmig_platform_uses {
	int refs;		/* the platform and its received VM handles; atomic */
	int vms;		/* RECEIVE_STARTs not yet released; atomic */
};

struct sevmig_platform {
	struct sevmig_ctx *ctx;
	int fd;
	bool owned;		/* opened by sevmig_platform_open(): close on free */
	struct sevmig_platform_uses *uses;
};

/*
 * A receive session's VM handle keeps the count of @p's RECEIVE_START (the
 * firmware command counted it) until it is freed: returns the reference to
 * hand to sevmig_platform_vm_released() then.
 */
struct sevmig_platform_uses *sevmig_platform_vm_received(struct sevmig_platform *p);
/* That VM handle is freed: one VM fewer (sevmig_platform_free() warns
 * about the rest). Drops the reference. */
void sevmig_platform_vm_released(struct sevmig_platform_uses *u);

/* PLATFORM_STATUS as the firmware answers it, in the public record's terms. */
void sevmig_psp_status_decode(const struct sev_user_data_status *st,
			      struct sevmig_platform_status *out);

#endif /* SEVMIG_PSP_PLATFORM_H */
