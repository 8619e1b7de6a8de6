// SPDX-License-Identifier: MIT
/*
 * The syscall backend a host's struct sevmig_sys_ops points at: it routes
 * open, close, ioctl and mmap by fd kind to /dev/sev, /dev/kvm, VM, vCPU
 * and device handling, and everything it does not emulate to the real
 * kernel (sevmig_sys_default()). Nothing here calls ioctl() itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "sim-internal.h"

/* ------------------------------------------------------------- /dev/kvm */

static uint32_t sev_vm_types(const struct sevmig_sim_host *host)
{
	uint32_t types = 1u << KVM_X86_SEV_VM;

	if (host->config & SEVMIG_SIM_CONFIG_ES) /* kvm_caps.supported_vm_types */
		types |= 1u << KVM_X86_SEV_ES_VM;
	return types;
}

static int mem_check_extension(const struct sevmig_sim_host *host,
			       unsigned long cap)
{
	switch (cap) {
	case KVM_CAP_EXIT_HYPERCALL:
		return (int)KVM_EXIT_HYPERCALL_VALID_MASK;
	case KVM_CAP_X86_USER_SPACE_MSR:
	case KVM_CAP_X86_MSR_FILTER:
	case KVM_CAP_VM_COPY_ENC_CONTEXT_FROM:
	case KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM:
		return 1;
	case KVM_CAP_VM_TYPES:
		return (int)((1u << KVM_X86_DEFAULT_VM) | sev_vm_types(host));
	default:
		return 0;
	}
}

static int create_vm(struct sevmig_sim_host *host, int fd, bool placeholder,
		     unsigned long type)
{
	struct sim_fd e = { .kind = SIM_FD_VM, .host = host,
			    .placeholder = placeholder };
	bool sev_type = type < 32 && ((1u << type) & sev_vm_types(host));
	int vm_fd, ret;

	if (type != KVM_X86_DEFAULT_VM && !sev_type &&
	    (placeholder || type == KVM_X86_SEV_ES_VM ||
	     type == KVM_X86_SNP_VM))
		return -EINVAL;
	if (placeholder)
		vm_fd = sim_placeholder_fd("sevmig-sim-vm", O_CLOEXEC);
	else /* SEV types become real default VMs */
		vm_fd = sim_real()->ioctl(NULL, fd, KVM_CREATE_VM,
					  sev_type ? NULL : (void *)type);
	if (vm_fd < 0)
		return vm_fd;
	e.vm = sim_vm_new(host, (uint32_t)type);
	ret = e.vm ? sim_fd_register(host->sim, vm_fd, &e) : -ENOMEM;
	if (ret) {
		if (e.vm)
			sim_vm_put(e.vm);
		sim_real()->close(NULL, vm_fd);
		return ret;
	}
	return vm_fd;
}

static int kvm_ioctl(struct sevmig_sim_host *host, int fd, bool placeholder,
		     unsigned long req, void *arg)
{
	uintptr_t val = (uintptr_t)arg;
	int ret;

	switch (req) {
	case KVM_GET_API_VERSION:
		if (placeholder)
			return KVM_API_VERSION;
		break;
	case KVM_CHECK_EXTENSION:
		if (placeholder)
			return mem_check_extension(host, val);
		ret = sim_real()->ioctl(NULL, fd, req, arg);
		if (ret >= 0 && val == KVM_CAP_VM_TYPES)
			ret |= (int)sev_vm_types(host);
		else if (ret >= 0 && (val == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM ||
				      val == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM))
			ret = 1;
		return ret;
	case KVM_CREATE_VM:
		return create_vm(host, fd, placeholder, val);
	default:
		break;
	}
	if (placeholder)
		return -ENOTTY;
	return sim_real()->ioctl(NULL, fd, req, arg);
}

/* --------------------------------------------------------------- VM fds */

static int mem_enable_cap(const struct kvm_enable_cap *cap)
{
	if (cap->flags)
		return -EINVAL;
	switch (cap->cap) {
	case KVM_CAP_EXIT_HYPERCALL:
		return (cap->args[0] & ~KVM_EXIT_HYPERCALL_VALID_MASK) ?
			       -EINVAL : 0;
	case KVM_CAP_X86_USER_SPACE_MSR:
		return (cap->args[0] & ~UINT64_C(7)) ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

static int create_vcpu(struct sim_vm *vm, int fd, bool placeholder,
		       void *arg)
{
	struct sim_fd e = { .kind = SIM_FD_VCPU, .host = vm->host,
			    .placeholder = placeholder, .vm = vm };
	int vfd, ret;

	pthread_mutex_lock(&vm->lock);
	if (placeholder)
		vfd = sim_placeholder_fd("sevmig-sim-vcpu", O_CLOEXEC);
	else
		vfd = sim_real()->ioctl(NULL, fd, KVM_CREATE_VCPU, arg);
	if (vfd >= 0) {
		ret = sim_fd_register(vm->host->sim, vfd, &e);
		if (ret) {
			sim_real()->close(NULL, vfd);
			vfd = ret;
		} else {
			vm->nr_vcpus++;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return vfd;
}

/* KVM mode: learn device fds, so they die with their VM like in KVM. */
static int create_device(struct sim_vm *vm, int fd, void *arg)
{
	struct sim_fd e = { .kind = SIM_FD_DEVICE, .host = vm->host, .vm = vm };
	struct sim_kvm_create_device d;
	int ret;

	ret = sim_real()->ioctl(NULL, fd, SIM_KVM_CREATE_DEVICE, arg);
	if (ret < 0 || !arg)
		return ret;
	memcpy(&d, arg, sizeof(d));
	if (d.flags & SIM_KVM_CREATE_DEVICE_TEST)
		return ret;
	ret = sim_fd_register(vm->host->sim, (int)d.fd, &e);
	if (ret)
		sim_real()->close(NULL, (int)d.fd);
	return ret;
}

static int vm_ioctl(struct sim_vm *vm, int fd, bool placeholder,
		    unsigned long req, void *arg)
{
	struct kvm_enable_cap cap;

	if (__atomic_load_n(&vm->dead, __ATOMIC_ACQUIRE))
		return -EIO; /* kvm_vm_ioctl() on a dead VM: every ioctl */
	switch (req) {
	case KVM_MEMORY_ENCRYPT_OP:
		if (!arg)
			return 0; /* the SEV probe: enabled */
		return sim_mem_enc_op(vm, arg);
	case KVM_MEMORY_ENCRYPT_REG_REGION:
	case KVM_MEMORY_ENCRYPT_UNREG_REGION:
		if (!arg)
			return -EFAULT;
		return sim_reg_region(vm, req, arg);
	case KVM_ENABLE_CAP:
		if (!arg)
			return -EFAULT;
		memcpy(&cap, arg, sizeof(cap));
		if (cap.cap == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM ||
		    cap.cap == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM) {
			if (cap.flags)
				return -EINVAL;
			return sim_enc_context_from(vm, &cap);
		}
		if (placeholder)
			return mem_enable_cap(&cap);
		break;
	case KVM_CREATE_VCPU:
		return create_vcpu(vm, fd, placeholder, arg);
	case SIM_KVM_CREATE_DEVICE:
		if (!placeholder)
			return create_device(vm, fd, arg);
		break;
	case KVM_X86_SET_MSR_FILTER:
		if (placeholder) {
			const struct kvm_msr_filter *f = arg;

			if (!f)
				return -EFAULT;
			return (f->flags & ~KVM_MSR_FILTER_DEFAULT_DENY) ?
				       -EINVAL : 0;
		}
		break;
	default:
		break;
	}
	if (placeholder)
		return -ENOTTY;
	return sim_real()->ioctl(NULL, fd, req, arg);
}

/* ------------------------------------------------- vCPU and device fds */

static int vcpu_ioctl(struct sim_vm *vm, int fd, bool placeholder,
		      unsigned long req, void *arg)
{
	if (__atomic_load_n(&vm->dead, __ATOMIC_ACQUIRE))
		return -EIO; /* kvm_vcpu_ioctl() on a dead VM */
	if (req == KVM_RUN) {
		bool need_init;

		/* Not the kernel's rule: a guest the firmware has SENT must
		 * never run again, and tests count who tries. */
		if (sim_vm_guest_sent(vm)) {
			__atomic_add_fetch(&vm->host->sent_runs, 1,
					   __ATOMIC_RELAXED);
			return -EIO;
		}
		pthread_mutex_lock(&vm->lock);
		need_init = vm->need_init;
		pthread_mutex_unlock(&vm->lock);
		if (need_init)
			return -EINVAL; /* SEV VM type without KVM_SEV_INIT2 */
	}
	if (placeholder)
		return req == KVM_SET_CPUID2 ? 0 : -ENOTTY;
	return sim_real()->ioctl(NULL, fd, req, arg);
}

static int device_ioctl(struct sim_vm *vm, int fd, unsigned long req,
			void *arg)
{
	if (__atomic_load_n(&vm->dead, __ATOMIC_ACQUIRE))
		return -EIO; /* kvm_device_ioctl() on a dead VM */
	return sim_real()->ioctl(NULL, fd, req, arg);
}

/* ------------------------------------------------------------ ops table */

static int sim_open(void *opaque, const char *path, int oflags)
{
	struct sevmig_sim_host *host = opaque;
	struct sim_fd e = { .host = host };
	int fd, ret;

	if (!path)
		return -EFAULT;
	if (!strcmp(path, "/dev/sev")) {
		e.kind = SIM_FD_SEV;
		e.placeholder = true;
		e.writable = (oflags & O_ACCMODE) != O_RDONLY;
		fd = sim_placeholder_fd("sevmig-sim-sev", oflags);
	} else if (!strcmp(path, "/dev/kvm")) {
		e.kind = SIM_FD_KVM;
		e.placeholder = host->sim->mode == SEVMIG_SIM_MODE_MEMORY;
		fd = e.placeholder ? sim_placeholder_fd("sevmig-sim-kvm", oflags) :
				     sim_real()->open(NULL, path, oflags);
	} else {
		return sim_real()->open(NULL, path, oflags);
	}
	if (fd < 0)
		return fd;
	ret = sim_fd_register(host->sim, fd, &e);
	if (ret) {
		sim_real()->close(NULL, fd);
		return ret;
	}
	return fd;
}

static int sim_close(void *opaque, int fd)
{
	struct sevmig_sim_host *host = opaque;

	sim_fd_forget(host->sim, fd);
	return sim_real()->close(NULL, fd);
}

static int sim_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct sevmig_sim_host *host = opaque;
	struct sim_fd e = sim_fd_get(host->sim, fd);
	int ret;

	switch (e.kind) {
	case SIM_FD_SEV:
		ret = sim_sev_ioctl(e.host, e.writable, req, arg);
		break;
	case SIM_FD_KVM:
		ret = kvm_ioctl(e.host, fd, e.placeholder, req, arg);
		break;
	case SIM_FD_VM:
		ret = vm_ioctl(e.vm, fd, e.placeholder, req, arg);
		break;
	case SIM_FD_VCPU:
		ret = vcpu_ioctl(e.vm, fd, e.placeholder, req, arg);
		break;
	case SIM_FD_DEVICE:
		ret = device_ioctl(e.vm, fd, req, arg);
		break;
	default:
		ret = sim_real()->ioctl(NULL, fd, req, arg);
		break;
	}
	if (e.vm)
		sim_vm_put(e.vm);
	return ret;
}

static int sim_mmap(void *opaque, void *addr, size_t length, int prot,
		    int mflags, int fd, int64_t offset, void **ret_addr)
{
	struct sevmig_sim_host *host = opaque;
	struct sim_fd e = sim_fd_get(host->sim, fd);

	if (e.vm)
		sim_vm_put(e.vm);
	if (e.kind != SIM_FD_NONE && e.placeholder)
		return -ENODEV;
	return sim_real()->mmap(NULL, addr, length, prot, mflags, fd, offset,
				ret_addr);
}

static int sim_munmap(void *opaque, void *addr, size_t length)
{
	(void)opaque;
	return sim_real()->munmap(NULL, addr, length);
}

void sim_dispatch_ops(struct sevmig_sim_host *host, struct sevmig_sys_ops *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->opaque = host;
	o->open = sim_open;
	o->close = sim_close;
	o->ioctl = sim_ioctl;
	o->mmap = sim_mmap;
	o->munmap = sim_munmap;
}
