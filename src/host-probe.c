// SPDX-License-Identifier: MIT
/*
 * Host probe: what this kernel and platform offer for SEV migration. Missing
 * pieces are findings with reasons, not errors; only a probe that cannot run
 * at all (bad arguments, no memory) fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"
#include "psp-platform.h"
#include "uapi/kvm-abi.h"

static int check_ext(struct sevmig_ctx *ctx, int kvm_fd, unsigned long cap)
{
	int ret = sevmig_sys_ioctl_val(ctx, kvm_fd, KVM_CHECK_EXTENSION,
				       cap);

	if (ret < 0)
		sevmig_log(ctx, SEVMIG_LOG_DEBUG,
			   "KVM_CHECK_EXTENSION(%lu): %s", cap,
			   sevmig_strerror(ret));
	return ret < 0 ? 0 : ret;
}

static int create_scratch_vm(struct sevmig_ctx *ctx, int kvm_fd)
{
	int fd;

	do {
		fd = sevmig_sys_ioctl_val(ctx, kvm_fd, KVM_CREATE_VM,
					  KVM_X86_DEFAULT_VM);
	} while (fd == -EINTR);
	return fd;
}

/*
 * SEV in KVM: KVM_MEMORY_ENCRYPT_OP with a NULL argument returns 0 when SEV is
 * enabled and ENOTTY when not; the capability bits cannot tell. With SEV on,
 * also ask for SEND_UPDATE_VMSA: upstream KVM does not know that command and
 * answers EINVAL before touching the (non-SEV) scratch VM.
 */
static void probe_kvm_sev(struct sevmig_ctx *ctx, int kvm_fd,
			  struct sevmig_host_caps *c)
{
	struct kvm_sev_cmd cmd;
	int vm_fd, ret;

	vm_fd = create_scratch_vm(ctx, kvm_fd);
	if (vm_fd < 0) {
		c->kvm_sev_status = vm_fd;
		sevmig_log(ctx, SEVMIG_LOG_WARNING,
			   "probe: KVM_CREATE_VM failed: %s",
			   sevmig_strerror(vm_fd));
		return;
	}
	ret = sevmig_sys_ioctl(ctx, vm_fd, KVM_MEMORY_ENCRYPT_OP, NULL);
	c->kvm_sev_status = ret < 0 ? ret : 0;
	if (ret == 0) {
		c->flags |= SEVMIG_HOST_KVM_SEV;
		memset(&cmd, 0, sizeof(cmd));
		cmd.id = KVM_SEV_SEND_UPDATE_VMSA;
		ret = sevmig_sys_ioctl(ctx, vm_fd, KVM_MEMORY_ENCRYPT_OP,
				       &cmd);
		c->es_vmsa_probe_status = ret < 0 ? ret : 0;
	}
	sevmig_sys_close(ctx, vm_fd);
}

static void probe_kvm(struct sevmig_ctx *ctx, struct sevmig_host_caps *c)
{
	int kvm_fd, ret;

	kvm_fd = sevmig_sys_open(ctx, "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		c->kvm_status = kvm_fd;
		return;
	}
	c->flags |= SEVMIG_HOST_KVM;

	ret = sevmig_sys_ioctl_val(ctx, kvm_fd, KVM_GET_API_VERSION, 0);
	c->kvm_api_version = ret;
	if (ret != KVM_API_VERSION)
		goto out;

	c->exit_hypercall_mask = (uint32_t)check_ext(
		ctx, kvm_fd, KVM_CAP_EXIT_HYPERCALL);
	if (c->exit_hypercall_mask & KVM_EXIT_HYPERCALL_VALID_MASK)
		c->flags |= SEVMIG_HOST_EXIT_HC_MAP_GPA;
	if (check_ext(ctx, kvm_fd, KVM_CAP_X86_USER_SPACE_MSR) > 0)
		c->flags |= SEVMIG_HOST_USER_SPACE_MSR;
	if (check_ext(ctx, kvm_fd, KVM_CAP_X86_MSR_FILTER) > 0)
		c->flags |= SEVMIG_HOST_MSR_FILTER;
	if (check_ext(ctx, kvm_fd, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM) > 0)
		c->flags |= SEVMIG_HOST_MOVE_ENC_CONTEXT;
	if (check_ext(ctx, kvm_fd, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM) > 0)
		c->flags |= SEVMIG_HOST_COPY_ENC_CONTEXT;
	ret = sevmig_sys_ioctl_val(ctx, kvm_fd, KVM_CHECK_EXTENSION,
				   KVM_CAP_VM_TYPES);
	if (ret > 0) {
		c->vm_types = (uint32_t)ret;
		c->flags |= SEVMIG_HOST_VM_TYPES;
	}
	probe_kvm_sev(ctx, kvm_fd, c);
out:
	sevmig_sys_close(ctx, kvm_fd);
}

static void probe_sev_device(struct sevmig_ctx *ctx,
			     struct sevmig_host_caps *c)
{
	struct sev_user_data_status st;
	struct sevmig_platform_status ps;
	uint32_t fw = 0;
	int fd, ret;

	fd = sevmig_sys_open(ctx, "/dev/sev", O_RDWR | O_CLOEXEC);
	c->sev_dev_status = fd < 0 ? fd : 0;
	if (fd >= 0) {
		c->flags |= SEVMIG_HOST_SEV_DEVICE;
	} else if (fd == -EACCES || fd == -EPERM) {
		/* PLATFORM_STATUS is not gated: still worth reading. */
		fd = sevmig_sys_open(ctx, "/dev/sev", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			c->flags |= SEVMIG_HOST_SEV_DEVICE_RO;
	}
	if (fd < 0)
		return;

	memset(&st, 0, sizeof(st));
	ret = sevmig_psp_platform_cmd(ctx, fd, SEV_PLATFORM_STATUS, &st,
				      &fw);
	c->sev_platform_status = ret;
	c->sev_fw_error = fw;
	if (ret == 0) {
		sevmig_psp_status_decode(&st, &ps);
		c->flags |= SEVMIG_HOST_SEV_STATUS;
		c->sev_api_major = ps.api_major;
		c->sev_api_minor = ps.api_minor;
		c->sev_build = ps.build;
		c->sev_state = ps.state;
		c->sev_config = ps.config;
		c->sev_guest_count = ps.guest_count;
		if (ps.flags & SEVMIG_PLATFORM_OWNER_EXTERNAL)
			c->flags |= SEVMIG_HOST_SEV_EXT_OWNED;
		if (ps.flags & SEVMIG_PLATFORM_ES_INITIALIZED)
			c->flags |= SEVMIG_HOST_SEV_ES_INIT;
	}
	sevmig_sys_close(ctx, fd);
}

/* Everything a migration across hosts needs from the kernel itself. */
static uint64_t kvm_reasons(const struct sevmig_host_caps *c)
{
	uint64_t r = 0;

	if (!(c->flags & SEVMIG_HOST_KVM))
		return SEVMIG_REASON_NO_KVM;
	if (c->kvm_api_version != KVM_API_VERSION)
		return SEVMIG_REASON_KVM_API_VERSION;
	if (!(c->flags & SEVMIG_HOST_KVM_SEV))
		r |= c->kvm_sev_status == -ENOTTY ?
			SEVMIG_REASON_KVM_NO_SEV :
			SEVMIG_REASON_KVM_SEV_PROBE_FAILED;
	return r;
}

static void derive_verdicts(const struct sevmig_ctx *ctx,
			    struct sevmig_host_caps *c)
{
	uint64_t kvm = kvm_reasons(c), cross = kvm, psp = 0;

	if (c->flags & SEVMIG_HOST_KVM &&
	    c->kvm_api_version == KVM_API_VERSION) {
		if (!(c->flags & SEVMIG_HOST_EXIT_HC_MAP_GPA))
			cross |= SEVMIG_REASON_NO_EXIT_HYPERCALL;
		if (!(c->flags & SEVMIG_HOST_USER_SPACE_MSR))
			cross |= SEVMIG_REASON_NO_USER_SPACE_MSR;
		if (!(c->flags & SEVMIG_HOST_MSR_FILTER))
			cross |= SEVMIG_REASON_NO_MSR_FILTER;
	}
	if (c->sev_dev_status == -ENOENT || c->sev_dev_status == -ENODEV ||
	    c->sev_dev_status == -ENXIO)
		psp |= SEVMIG_REASON_NO_SEV_DEVICE;
	else if (c->sev_dev_status < 0)
		psp |= SEVMIG_REASON_SEV_DEVICE_ACCESS;
	else if (!(c->flags & SEVMIG_HOST_SEV_STATUS))
		psp |= SEVMIG_REASON_SEV_STATUS_FAILED;
	if (sevmig_psp_is_dead(ctx))
		psp |= SEVMIG_REASON_PSP_DEAD;
	c->cross_host_reasons = cross | psp;

	c->intra_host_reasons = kvm;
	if (!kvm && !(c->flags & SEVMIG_HOST_MOVE_ENC_CONTEXT))
		c->intra_host_reasons |= SEVMIG_REASON_NO_MOVE_ENC_CONTEXT;
	c->mirror_reasons = kvm;
	if (!kvm && !(c->flags & SEVMIG_HOST_COPY_ENC_CONTEXT))
		c->mirror_reasons |= SEVMIG_REASON_NO_COPY_ENC_CONTEXT;

	/*
	 * No upstream kernel implements VMSA migration. A kernel that knows the
	 * command (a vendor tree) answers something other than EINVAL, but
	 * libsevmig does not drive it either, so the verdict stays no.
	 */
	c->es_cross_host_reasons = c->cross_host_reasons |
				   SEVMIG_REASON_ES_NO_VMSA_MIGRATION;
}

SEVMIG_EXPORT int sevmig_host_probe(struct sevmig_ctx *ctx,
				    struct sevmig_host_caps *caps,
				    uint32_t flags)
{
	struct sevmig_host_caps c;
	int len;

	if (!ctx)
		return -EINVAL;
	if (!caps)
		return sevmig_arg_null(ctx, __func__, "the caps record");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	len = sevmig_arg_out(ctx, __func__, "caps record", caps, sizeof(c),
			     SEVMIG_HOST_CAPS_SIZE_VER0);
	if (len < 0)
		return len;

	memset(&c, 0, sizeof(c));
	probe_kvm(ctx, &c);
	probe_sev_device(ctx, &c);
	derive_verdicts(ctx, &c);
	sevmig_struct_out(caps, &c, (size_t)len);
	return 0;
}
