// SPDX-License-Identifier: MIT
/*
 * What the guest commands share: the kernel's blob rule, the PSP gate
 * through the right /dev/sev fd, and the firmware's checks of a new guest.
 * Each guest command runs the kernel-side checks first (errno results, no
 * firmware status), then enters the PSP and runs the firmware checks in the
 * firmware's order (-EIO plus a status in kvm_sev_cmd.error).
 */
#include <errno.h>

#include "sim-internal.h"

int sim_blob_check(uint64_t uaddr, uint32_t len)
{
	if (!uaddr || !len || len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	return 0;
}

int sim_gcmd_issue(struct sim_gcmd *g)
{
	int fd = g->def->sev_fd == SIM_SEVFD_ARG ? (int)g->c->sev_fd :
						   g->vm->sev_fd;

	/* __sev_issue_cmd(): the number must be a /dev/sev fd right now. */
	if (!sim_fd_is_sev(g->host, fd))
		return -EBADF;
	return sim_psp_enter(g->host, SEVMIG_SIM_FAULT_GUEST, g->c->id, g->fw,
			     &g->done_ns);
}

struct sim_guest *sim_gcmd_guest(struct sim_gcmd *g, int *ret)
{
	struct sim_guest *guest;

	if (g->host->pstate != SEV_PSTATE_WORKING) {
		*ret = sim_fw_fail(g->fw, SEV_RET_INVALID_PLATFORM_STATE);
		return NULL;
	}
	guest = sim_guest_find(g->host, g->vm->handle);
	if (!guest)
		*ret = sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST);
	return guest;
}

int sim_fw_new_guest_policy(struct sim_gcmd *g, uint32_t handle,
			    uint32_t policy)
{
	const struct sevmig_sim_host *h = g->host;
	unsigned maj = SEV_POLICY_API_MAJOR(policy);
	unsigned min = SEV_POLICY_API_MINOR(policy);

	if ((policy & SEVMIG_GUEST_POLICY_RESERVED) || maj > h->api_major ||
	    (maj == h->api_major && min > h->api_minor))
		return sim_fw_fail(g->fw, SEV_RET_POLICY_FAILURE);
	if (handle) { /* key sharing with an existing guest */
		const struct sim_guest *other = sim_guest_find(g->host, handle);

		if (!other)
			return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST);
		if ((other->policy & SEVMIG_GUEST_POLICY_NOKS) ||
		    other->policy != policy)
			return sim_fw_fail(g->fw, SEV_RET_POLICY_FAILURE);
	}
	if ((policy & SEVMIG_GUEST_POLICY_ES) &&
	    !(h->config & SEVMIG_SIM_CONFIG_ES))
		return sim_fw_fail(g->fw, SEV_RET_UNSUPPORTED);
	return 0;
}

int sim_gcmd_activate(struct sim_gcmd *g, struct sim_guest *guest)
{
	if (g->vm->handle) { /* this VM's ASID is bound to another guest */
		sim_guest_decommission(g->host, guest->handle);
		return sim_fw_fail(g->fw, SIM_FW_ASID_OWNED);
	}
	guest->active = true;
	g->vm->handle = guest->handle;
	g->vm->sev_fd = (int)g->c->sev_fd;
	return 0;
}
