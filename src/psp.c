// SPDX-License-Identifier: MIT
/*
 * The single choke point for SEV firmware commands: SEV_ISSUE_CMD on /dev/sev
 * and KVM_MEMORY_ENCRYPT_OP on a VM fd. Both keep errno and firmware status
 * apart: the kernel does not pre-set `error`, so we zero it before every call
 * and read it only when the ioctl failed with EIO.
 */
#include <errno.h>
#include <stdio.h>

#include "internal.h"
#include "uapi/kvm-abi.h"

static const char *const sev_cmd_names[] = {
	[SEV_FACTORY_RESET] = "FACTORY_RESET",
	[SEV_PLATFORM_STATUS] = "PLATFORM_STATUS",
	[SEV_PEK_GEN] = "PEK_GEN",
	[SEV_PEK_CSR] = "PEK_CSR",
	[SEV_PDH_GEN] = "PDH_GEN",
	[SEV_PDH_CERT_EXPORT] = "PDH_CERT_EXPORT",
	[SEV_PEK_CERT_IMPORT] = "PEK_CERT_IMPORT",
	[SEV_GET_ID] = "GET_ID",
	[SEV_GET_ID2] = "GET_ID2",
};

static const char *const kvm_sev_cmd_names[] = {
	[KVM_SEV_INIT] = "KVM_SEV_INIT",
	[KVM_SEV_ES_INIT] = "KVM_SEV_ES_INIT",
	[KVM_SEV_LAUNCH_START] = "LAUNCH_START",
	[KVM_SEV_LAUNCH_UPDATE_DATA] = "LAUNCH_UPDATE_DATA",
	[KVM_SEV_LAUNCH_UPDATE_VMSA] = "LAUNCH_UPDATE_VMSA",
	[KVM_SEV_LAUNCH_SECRET] = "LAUNCH_SECRET",
	[KVM_SEV_LAUNCH_MEASURE] = "LAUNCH_MEASURE",
	[KVM_SEV_LAUNCH_FINISH] = "LAUNCH_FINISH",
	[KVM_SEV_SEND_START] = "SEND_START",
	[KVM_SEV_SEND_UPDATE_DATA] = "SEND_UPDATE_DATA",
	[KVM_SEV_SEND_UPDATE_VMSA] = "SEND_UPDATE_VMSA",
	[KVM_SEV_SEND_FINISH] = "SEND_FINISH",
	[KVM_SEV_RECEIVE_START] = "RECEIVE_START",
	[KVM_SEV_RECEIVE_UPDATE_DATA] = "RECEIVE_UPDATE_DATA",
	[KVM_SEV_RECEIVE_UPDATE_VMSA] = "RECEIVE_UPDATE_VMSA",
	[KVM_SEV_RECEIVE_FINISH] = "RECEIVE_FINISH",
	[KVM_SEV_GUEST_STATUS] = "GUEST_STATUS",
	[KVM_SEV_DBG_DECRYPT] = "DBG_DECRYPT",
	[KVM_SEV_DBG_ENCRYPT] = "DBG_ENCRYPT",
	[KVM_SEV_CERT_EXPORT] = "CERT_EXPORT",
	[KVM_SEV_GET_ATTESTATION_REPORT] = "GET_ATTESTATION_REPORT",
	[KVM_SEV_SEND_CANCEL] = "SEND_CANCEL",
	[KVM_SEV_INIT2] = "KVM_SEV_INIT2",
};

const char *sevmig_sev_cmd_name(uint32_t cmd)
{
	if (cmd < ARRAY_SIZE(sev_cmd_names) && sev_cmd_names[cmd])
		return sev_cmd_names[cmd];
	return "unknown /dev/sev command";
}

const char *sevmig_kvm_sev_cmd_name(uint32_t id)
{
	if (id < ARRAY_SIZE(kvm_sev_cmd_names) && kvm_sev_cmd_names[id])
		return kvm_sev_cmd_names[id];
	return "unknown KVM SEV command";
}

bool sevmig_psp_is_dead(const struct sevmig_ctx *ctx)
{
	return __atomic_load_n(&ctx->psp_dead, __ATOMIC_RELAXED) != 0;
}

int sevmig_psp_query_answer(const struct sevmig_ctx *ctx, const char *what,
			    int rc, uint32_t fw, uint32_t *ret_fw_error)
{
	if (sevmig_psp_is_len_answer(rc, fw))
		return 0;
	if (!rc)
		return sevmig_err(ctx, -EPROTO,
				  "%s: the length query succeeded instead of answering INVALID_LEN",
				  what);
	sevmig_put_fw(ret_fw_error, fw);
	return rc;
}

/*
 * Common tail: firmware status out, PSP health, one clear log line. The
 * caller's @explain, when given, is the sentence for this errno (it knows
 * which descriptor and command), instead of the errno's general text.
 */
static int psp_finish(struct sevmig_ctx *ctx, const char *what, int rc,
		      uint32_t error, uint32_t *fw, const char *explain)
{
	uint32_t status = rc == -EIO ? error : 0;

	if (fw)
		*fw = status;
	if (rc >= 0)
		return 0;
	if (sevmig_psp_is_len_answer(rc, status))
		return rc;	/* a length query's normal answer: no noise */
	if (rc == -ETIMEDOUT) {
		__atomic_store_n(&ctx->psp_dead, 1, __ATOMIC_RELAXED);
		return sevmig_err(ctx, rc,
				  "%s: the PSP timed out; the kernel will refuse every further SEV command (EBUSY) until the host reboots",
				  what);
	}
	if (rc == -EBUSY && sevmig_psp_is_dead(ctx))
		return sevmig_err(ctx, rc,
				  "%s: refused because the PSP timed out earlier (dead until reboot)",
				  what);
	if (rc == -EIO && status)
		return sevmig_err(ctx, rc, "%s: SEV firmware status 0x%x %s",
				  what, status, sevmig_fw_strerror(status));
	if (explain)
		return sevmig_err(ctx, rc, "%s: %s", what, explain);
	return sevmig_err(ctx, rc, "%s: %s", what, sevmig_strerror(rc));
}

int sevmig_psp_platform_cmd(struct sevmig_ctx *ctx, int sev_fd, uint32_t cmd,
			    void *data, uint32_t *fw)
{
	struct sev_issue_cmd arg = {
		.cmd = cmd,
		.data = sevmig_ptr_u64(data),
		.error = 0,
	};
	char explain[200];
	int rc;

	rc = sevmig_sys_ioctl(ctx, sev_fd, SEV_ISSUE_CMD, &arg);
	if (rc == -EBADF)
		(void)snprintf(explain, sizeof(explain),
			 "fd %d is not open (was the /dev/sev descriptor closed while the platform object was in use?)",
			 sev_fd);
	else if (rc == -ENOTTY)
		(void)snprintf(explain, sizeof(explain), "fd %d is not /dev/sev",
			 sev_fd);
	else if (rc == -EPERM)
		(void)snprintf(explain, sizeof(explain),
			 "/dev/sev fd %d was opened read-only and the platform is not initialized; open it read-write",
			 sev_fd);
	else
		explain[0] = 0;
	return psp_finish(ctx, sevmig_sev_cmd_name(cmd), rc, arg.error, fw,
			  explain[0] ? explain : NULL);
}

int sevmig_psp_guest_cmd(struct sevmig_ctx *ctx, int vm_fd, int sev_fd,
			 uint32_t id, void *data, uint32_t *fw)
{
	struct kvm_sev_cmd arg = {
		.id = id,
		.data = sevmig_ptr_u64(data),
		.error = 0,
		.sev_fd = (uint32_t)sev_fd,
	};
	bool init = id == KVM_SEV_INIT || id == KVM_SEV_ES_INIT ||
		    id == KVM_SEV_INIT2;
	char explain[400];
	int rc;

	rc = sevmig_sys_ioctl(ctx, vm_fd, KVM_MEMORY_ENCRYPT_OP, &arg);
	explain[0] = 0;
	if (rc == -EBADF && init)
		(void)snprintf(explain, sizeof(explain), "VM fd %d is not open", vm_fd);
	else if (rc == -EBADF && (id == KVM_SEV_LAUNCH_START ||
				  id == KVM_SEV_RECEIVE_START))
		/* These two pass sev_fd, and KVM keeps its number. */
		(void)snprintf(explain, sizeof(explain),
			 "VM fd %d is not open, or fd %d is not an open /dev/sev descriptor",
			 vm_fd, sev_fd);
	else if (rc == -EBADF)
		/*
		 * Every other command uses the /dev/sev fd number KVM stored
		 * at LAUNCH_START or RECEIVE_START; before those it has none.
		 */
		(void)snprintf(explain, sizeof(explain),
			 "VM fd %d is not open, or KVM holds no open /dev/sev descriptor for it: no guest was started on this VM yet (no LAUNCH_START or RECEIVE_START), or the descriptor it was started with was closed (the platform object must outlive the VM)",
			 vm_fd);
	else if (rc == -ENOTTY)
		(void)snprintf(explain, sizeof(explain),
			 "SEV is not enabled in KVM, or VM fd %d is not an SEV guest",
			 vm_fd);
	else if (rc == -ENOMEM && (id == KVM_SEV_SEND_UPDATE_DATA ||
				   id == KVM_SEV_RECEIVE_UPDATE_DATA))
		(void)snprintf(explain, sizeof(explain),
			 "KVM could not pin the guest page (RLIMIT_MEMLOCK reached without CAP_IPC_LOCK?)");
	else if (rc == -EINVAL && init)
		(void)snprintf(explain, sizeof(explain),
			 "VM fd %d is an SEV guest already, or was not created as a plain (type 0) VM",
			 vm_fd);
	return psp_finish(ctx, sevmig_kvm_sev_cmd_name(id), rc, arg.error, fw,
			  explain[0] ? explain : NULL);
}
