// SPDX-License-Identifier: MIT
/*
 * The simulator's syscall backend: worlds, hosts, the fd table, /dev/sev and
 * the /dev/kvm, VM and vCPU interception. Nothing here calls ioctl(): calls
 * that are not emulated go to sevmig_sys_default(). Emulated devices get
 * real fd numbers (memfds) so the kernel rules about fd numbers (a /dev/sev
 * fd must stay open at the number given to LAUNCH_START / RECEIVE_START) can
 * be emulated exactly.
 *
 * Lock order: VM lock (kvm->lock) -> host PSP mutex -> world lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sim-internal.h"

static const struct sevmig_sys_ops *real(void)
{
	return sevmig_sys_default();
}

static int placeholder_fd(const char *name, int oflags)
{
	int fd = memfd_create(name, (oflags & O_CLOEXEC) ? MFD_CLOEXEC : 0);

	return fd < 0 ? -errno : fd;
}

/* --------------------------------------------------------------- fd table */

static int fd_reserve(struct sevmig_sim *sim, int fd)
{
	if ((size_t)fd >= sim->nfds) {
		size_t n = (size_t)fd + 64;
		struct sim_fd *t = realloc(sim->fds, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + sim->nfds, 0, (n - sim->nfds) * sizeof(*t));
		sim->fds = t;
		sim->nfds = n;
	}
	return 0;
}

/* Detach entry @fd (world lock held); returns a VM reference to drop. */
static struct sim_vm *fd_clear_locked(struct sevmig_sim *sim, int fd)
{
	struct sim_vm *vm;

	if (fd < 0 || (size_t)fd >= sim->nfds)
		return NULL;
	vm = sim->fds[fd].vm;
	memset(&sim->fds[fd], 0, sizeof(sim->fds[fd]));
	return vm;
}

static int fd_register(struct sevmig_sim *sim, int fd, const struct sim_fd *e)
{
	struct sim_vm *stale;
	int ret;

	pthread_mutex_lock(&sim->lock);
	ret = fd_reserve(sim, fd);
	if (ret) {
		pthread_mutex_unlock(&sim->lock);
		return ret;
	}
	/* A number closed behind our back and reused: forget the old object. */
	stale = fd_clear_locked(sim, fd);
	sim->fds[fd] = *e;
	if (e->vm)
		e->vm->refs++;
	pthread_mutex_unlock(&sim->lock);
	if (stale)
		sim_vm_put(stale);
	return 0;
}

/* Snapshot of entry @fd with a VM reference taken. */
static struct sim_fd fd_get(struct sevmig_sim *sim, int fd)
{
	struct sim_fd e;

	memset(&e, 0, sizeof(e));
	pthread_mutex_lock(&sim->lock);
	if (fd >= 0 && (size_t)fd < sim->nfds) {
		e = sim->fds[fd];
		if (e.vm)
			e.vm->refs++;
	}
	pthread_mutex_unlock(&sim->lock);
	return e;
}

bool sim_is_sev_fd(struct sevmig_sim_host *host, int fd)
{
	struct sevmig_sim *sim = host->sim;
	bool ok = false;

	pthread_mutex_lock(&sim->lock);
	if (fd >= 0 && (size_t)fd < sim->nfds)
		ok = sim->fds[fd].kind == SIM_FD_SEV && sim->fds[fd].host == host;
	pthread_mutex_unlock(&sim->lock);
	return ok;
}

struct sim_vm *sim_vm_get_fd(struct sevmig_sim *sim, int fd, uint8_t kind)
{
	struct sim_fd e = fd_get(sim, fd);

	if (e.kind == kind && e.vm)
		return e.vm;
	if (e.vm)
		sim_vm_put(e.vm);
	return NULL;
}

/* ----------------------------------------------------------------- guests */

struct sim_guest *sim_guest_find(struct sevmig_sim_host *host, uint32_t handle)
{
	for (struct sim_guest *g = host->guests; g; g = g->next)
		if (g->handle == handle)
			return g;
	return NULL;
}

void sim_guest_decommission(struct sevmig_sim_host *host, uint32_t handle)
{
	struct sim_guest **pp;

	for (pp = &host->guests; *pp; pp = &(*pp)->next) {
		if ((*pp)->handle == handle) {
			struct sim_guest *g = *pp;

			*pp = g->next;
			OPENSSL_cleanse(g, sizeof(*g));
			free(g);
			break;
		}
	}
	/* The last guest gone: the platform is back in INIT [D]. */
	if (!host->guests && host->pstate == SIM_PSTATE_WORKING)
		host->pstate = SIM_PSTATE_INIT;
}

/* -------------------------------------------------------------------- VMs */

static struct sim_vm *vm_new(struct sevmig_sim_host *host, uint32_t type)
{
	struct sim_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	pthread_mutex_init(&vm->lock, NULL);
	vm->host = host;
	vm->type = type;
	vm->need_init = type == KVM_X86_SEV_VM ||
			type == KVM_X86_SEV_ES_VM;
	vm->sev_fd = 0;
	pthread_mutex_lock(&host->sim->lock);
	vm->next = host->sim->vms;
	host->sim->vms = vm;
	pthread_mutex_unlock(&host->sim->lock);
	return vm; /* refs == 0: fd_register takes the first */
}

void sim_vm_put(struct sim_vm *vm)
{
	struct sevmig_sim *sim = vm->host->sim;
	struct sim_vm **pp;

	pthread_mutex_lock(&sim->lock);
	if (--vm->refs) {
		pthread_mutex_unlock(&sim->lock);
		return;
	}
	for (pp = &sim->vms; *pp; pp = &(*pp)->next) {
		if (*pp == vm) {
			*pp = vm->next;
			break;
		}
	}
	pthread_mutex_unlock(&sim->lock);
	/* sev_vm_destroy: a mirror drops its owner; an owner decommissions. */
	if (vm->owner) {
		sim_vm_put(vm->owner);
	} else if (vm->sev_active && vm->handle) {
		pthread_mutex_lock(&vm->host->psp);
		sim_guest_decommission(vm->host, vm->handle);
		pthread_mutex_unlock(&vm->host->psp);
	}
	free(vm->regions);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/* ------------------------------------------------------------------- PSP */

static bool fault_matches(const struct sevmig_sim_fault *f, uint32_t kind,
			  uint32_t cmd)
{
	if (!f->nth)
		return false;
	if (f->kind == SEVMIG_SIM_FAULT_ANY)
		return true;
	return f->kind == kind && f->cmd == cmd;
}

int sim_psp_enter(struct sevmig_sim_host *host, uint32_t kind, uint32_t cmd,
		  uint32_t *fw)
{
	uint32_t us = __atomic_load_n(&host->latency_us, __ATOMIC_RELAXED);

	if (host->psp_dead)
		return -EBUSY;
	if (us) {
		struct timespec ts = { .tv_sec = us / 1000000u,
				       .tv_nsec = (long)(us % 1000000u) * 1000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	host->psp_commands++;
	if (fault_matches(&host->fault, kind, cmd) &&
	    ++host->fault_seen == host->fault.nth) {
		struct sevmig_sim_fault f = host->fault;

		host->fault.nth = 0;
		if (f.err == -ETIMEDOUT) {
			host->psp_dead = true;
			return -ETIMEDOUT;
		}
		if (f.fw_status) {
			*fw = f.fw_status;
			return -EIO;
		}
		return f.err;
	}
	return 0;
}

/* The kernel initialising the platform on demand (INIT). */
int sim_platform_init(struct sevmig_sim_host *host, uint32_t *fw)
{
	int ret;

	if (host->pstate != SIM_PSTATE_UNINIT)
		return 0;
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, 0xffffu, fw);
	if (ret)
		return ret;
	host->pstate = SIM_PSTATE_INIT;
	*fw = 0;
	return 0;
}

/* ------------------------------------------------------------- /dev/sev */

static bool api_at_least(const struct sevmig_sim_host *h, unsigned maj,
			 unsigned min)
{
	return h->api_major > maj || (h->api_major == maj && h->api_minor >= min);
}

static int do_pdh_export(struct sevmig_sim_host *host, bool writable,
			 uint64_t data, uint32_t *fw)
{
	struct sev_user_data_pdh_cert_export in;
	void *arg = (void *)(uintptr_t)data;
	bool query;
	int ret;

	if (host->pstate == SIM_PSTATE_UNINIT) {
		if (!writable)
			return -EPERM;
		ret = sim_platform_init(host, fw);
		if (ret)
			return ret;
	}
	if (!arg)
		return -EFAULT;
	memcpy(&in, arg, sizeof(in));
	query = !in.pdh_cert_address || !in.pdh_cert_len ||
		!in.cert_chain_address;
	if (!query && (in.pdh_cert_len > SEV_FW_BLOB_MAX_SIZE ||
		       in.cert_chain_len > SEV_FW_BLOB_MAX_SIZE))
		return -EFAULT; /* sic: the kernel says EFAULT */
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM,
			    SEV_PDH_CERT_EXPORT, fw);
	if (ret)
		return ret;
	if (host->pstate == SIM_PSTATE_UNINIT) {
		*fw = SEV_RET_INVALID_PLATFORM_STATE;
		return -EIO;
	}
	if (query || in.pdh_cert_len < SEVMIG_SEV_CERT_LEN ||
	    in.cert_chain_len < SEVMIG_PLAT_CHAIN_LEN) {
		in.pdh_cert_len = SEVMIG_SEV_CERT_LEN;
		in.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN;
		memcpy(arg, &in, sizeof(in));
		*fw = SEV_RET_INVALID_LEN;
		return -EIO;
	}
	in.pdh_cert_len = SEVMIG_SEV_CERT_LEN;
	in.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN;
	memcpy(arg, &in, sizeof(in));
	memcpy((void *)(uintptr_t)in.pdh_cert_address, &host->pdh.cert,
	       SEVMIG_SEV_CERT_LEN);
	{
		uint8_t *chain = (void *)(uintptr_t)in.cert_chain_address;

		memcpy(chain, &host->pek.cert, SEVMIG_SEV_CERT_LEN);
		memcpy(chain + SEVMIG_SEV_CERT_LEN, &host->oca.cert,
		       SEVMIG_SEV_CERT_LEN);
		memcpy(chain + 2 * SEVMIG_SEV_CERT_LEN, &host->cek.cert,
		       SEVMIG_SEV_CERT_LEN);
	}
	*fw = 0;
	return 0;
}

static int do_get_id2(struct sevmig_sim_host *host, uint64_t data, uint32_t *fw)
{
	struct sev_user_data_get_id2 in;
	void *arg = (void *)(uintptr_t)data;
	bool query;
	int ret;

	if (!api_at_least(host, 0, 16))
		return -ENOTSUPP;
	if (!arg)
		return -EFAULT;
	memcpy(&in, arg, sizeof(in));
	query = !in.address || !in.length;
	if (!query && in.length > SIM_KMALLOC_MAX)
		return -ENOMEM;
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM,
			    SEV_GET_ID2, fw);
	if (ret)
		return ret;
	if (query || in.length < SIM_ID_LEN) {
		in.length = SIM_ID_LEN;
		memcpy(arg, &in, sizeof(in));
		*fw = SEV_RET_INVALID_LEN;
		return -EIO;
	}
	in.length = SIM_ID_LEN;
	memcpy(arg, &in, sizeof(in));
	memcpy((void *)(uintptr_t)in.address, host->id, SIM_ID_LEN);
	*fw = 0;
	return 0;
}

static int do_platform_cmd(struct sevmig_sim_host *host, bool writable,
			   struct sev_issue_cmd *in)
{
	void *arg = (void *)(uintptr_t)in->data;
	uint32_t fw = in->error;
	int ret;

	switch (in->cmd) {
	case SEV_PLATFORM_STATUS: {
		struct sev_user_data_status st;

		ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, in->cmd, &fw);
		if (ret)
			break;
		fw = 0;
		memset(&st, 0, sizeof(st));
		st.api_major = host->api_major;
		st.api_minor = host->api_minor;
		st.state = (uint8_t)host->pstate;
		st.build = host->build;
		st.flags = host->pstate != SIM_PSTATE_UNINIT &&
					   (host->config & SEVMIG_SIM_CONFIG_ES) ?
				   SEV_STATUS_FLAGS_CONFIG_ES : 0;
		for (struct sim_guest *g = host->guests; g; g = g->next)
			st.guest_count++;
		if (!arg) {
			ret = -EFAULT;
			break;
		}
		memcpy(arg, &st, sizeof(st));
		break;
	}
	case SEV_PDH_CERT_EXPORT:
		ret = do_pdh_export(host, writable, in->data, &fw);
		break;
	case SEV_GET_ID2:
		ret = do_get_id2(host, in->data, &fw);
		break;
	case SEV_GET_ID: {
		struct sim_sev_user_data_get_id id;

		if (!api_at_least(host, 0, 16)) {
			ret = -ENOTSUPP;
			break;
		}
		ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, in->cmd, &fw);
		if (ret)
			break;
		fw = 0;
		memset(&id, 0, sizeof(id));
		memcpy(id.socket1, host->id, SIM_ID_LEN);
		if (!arg)
			ret = -EFAULT;
		else
			memcpy(arg, &id, sizeof(id));
		break;
	}
	case SEV_PEK_GEN:
	case SEV_PDH_GEN:
		if (!writable) {
			ret = -EPERM;
			break;
		}
		ret = sim_platform_init(host, &fw);
		if (ret)
			break;
		ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, in->cmd, &fw);
		if (ret)
			break;
		/* PEK_GEN needs INIT; PDH_GEN works in INIT and WORKING. */
		if (in->cmd == SEV_PEK_GEN &&
		    host->pstate != SIM_PSTATE_INIT) {
			fw = SEV_RET_INVALID_PLATFORM_STATE;
			ret = -EIO;
			break;
		}
		fw = 0;
		ret = sim_host_keys(host, false, in->cmd == SEV_PEK_GEN);
		break;
	case SEV_FACTORY_RESET:
		if (!writable) {
			ret = -EPERM;
			break;
		}
		if (host->pstate == SIM_PSTATE_WORKING) {
			ret = -EBUSY;
			break;
		}
		ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, in->cmd, &fw);
		if (ret)
			break;
		fw = 0;
		host->pstate = SIM_PSTATE_UNINIT;
		ret = sim_host_keys(host, true, true);
		break;
	default:
		ret = in->cmd < SIM_SEV_MAX ? -EOPNOTSUPP : -EINVAL;
		break;
	}
	in->error = fw;
	return ret;
}

static int sev_ioctl(struct sevmig_sim_host *host, bool writable,
		     unsigned long req, void *arg)
{
	struct sev_issue_cmd in;
	int ret;

	if (req != SEV_ISSUE_CMD)
		return -EINVAL;
	if (!arg)
		return -EFAULT;
	memcpy(&in, arg, sizeof(in));
	if (in.cmd > SIM_SEV_MAX)
		return -EINVAL;
	pthread_mutex_lock(&host->psp);
	ret = do_platform_cmd(host, writable, &in);
	pthread_mutex_unlock(&host->psp);
	memcpy(arg, &in, sizeof(in));
	return ret;
}

/* ------------------------------------------------------------- /dev/kvm */

static int mem_check_extension(unsigned long cap)
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
		return (int)((1u << KVM_X86_DEFAULT_VM) |
			     SIM_KVM_CREATE_VM_SEV_TYPES);
	default:
		return 0;
	}
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
			return mem_check_extension(val);
		ret = real()->ioctl(NULL, fd, req, arg);
		if (ret >= 0 && val == KVM_CAP_VM_TYPES)
			ret |= (int)SIM_KVM_CREATE_VM_SEV_TYPES;
		else if (ret >= 0 && (val == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM ||
				      val == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM))
			ret = 1;
		return ret;
	case KVM_CREATE_VM: {
		struct sim_fd e = { .kind = SIM_FD_VM, .host = host,
				    .placeholder = placeholder };
		bool sev_type = val < 32 &&
				((1u << val) & SIM_KVM_CREATE_VM_SEV_TYPES);
		int vm_fd;

		if (val == KVM_X86_SNP_VM ||
		    (placeholder && val != KVM_X86_DEFAULT_VM && !sev_type))
			return -EINVAL;
		if (placeholder)
			vm_fd = placeholder_fd("sevmig-sim-vm", O_CLOEXEC);
		else /* SEV types become real default VMs */
			vm_fd = real()->ioctl(NULL, fd, req,
					      sev_type ? NULL : arg);
		if (vm_fd < 0)
			return vm_fd;
		e.vm = vm_new(host, (uint32_t)val);
		ret = e.vm ? fd_register(host->sim, vm_fd, &e) : -ENOMEM;
		if (ret) {
			if (e.vm) {
				e.vm->refs = 1;
				sim_vm_put(e.vm);
			}
			real()->close(NULL, vm_fd);
			return ret;
		}
		return vm_fd;
	}
	default:
		break;
	}
	if (placeholder)
		return -ENOTTY;
	return real()->ioctl(NULL, fd, req, arg);
}

/* ------------------------------------------------------------- VM fds */

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

static int vm_ioctl(struct sevmig_sim_host *host, struct sim_vm *vm, int fd,
		    bool placeholder, unsigned long req, void *arg)
{
	int ret;

	if (__atomic_load_n(&vm->dead, __ATOMIC_ACQUIRE))
		return -EIO; /* kvm_vm_dead(): every VM ioctl */
	switch (req) {
	case KVM_MEMORY_ENCRYPT_OP:
		if (!arg)
			return 0; /* the SEV probe: enabled */
		return sim_mem_enc_op(vm->host, vm, arg);
	case KVM_MEMORY_ENCRYPT_REG_REGION:
	case KVM_MEMORY_ENCRYPT_UNREG_REGION:
		if (!arg)
			return -EFAULT;
		return sim_reg_region(vm, req, arg);
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (!arg)
			return -EFAULT;
		memcpy(&cap, arg, sizeof(cap));
		if (cap.cap == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM ||
		    cap.cap == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM) {
			if (cap.flags)
				return -EINVAL;
			return sim_enc_context_from(host, vm, &cap);
		}
		if (placeholder)
			return mem_enable_cap(&cap);
		break;
	}
	case KVM_CREATE_VCPU: {
		struct sim_fd e = { .kind = SIM_FD_VCPU, .host = vm->host,
				    .placeholder = placeholder, .vm = vm };
		int vfd;

		pthread_mutex_lock(&vm->lock);
		if (placeholder)
			vfd = placeholder_fd("sevmig-sim-vcpu", O_CLOEXEC);
		else
			vfd = real()->ioctl(NULL, fd, req, arg);
		if (vfd >= 0) {
			ret = fd_register(vm->host->sim, vfd, &e);
			if (ret) {
				real()->close(NULL, vfd);
				vfd = ret;
			} else {
				vm->nr_vcpus++;
			}
		}
		pthread_mutex_unlock(&vm->lock);
		return vfd;
	}
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
	return real()->ioctl(NULL, fd, req, arg);
}

static int vcpu_ioctl(struct sim_vm *vm, int fd, bool placeholder,
		      unsigned long req, void *arg)
{
	if (__atomic_load_n(&vm->dead, __ATOMIC_ACQUIRE))
		return -EIO;
	if (req == KVM_RUN && vm->need_init)
		return -EINVAL; /* SEV VM type without KVM_SEV_INIT2 */
	if (placeholder)
		return req == KVM_SET_CPUID2 ? 0 : -ENOTTY;
	return real()->ioctl(NULL, fd, req, arg);
}

/* ------------------------------------------------------------- ops table */

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
		fd = placeholder_fd("sevmig-sim-sev", oflags);
	} else if (!strcmp(path, "/dev/kvm")) {
		e.kind = SIM_FD_KVM;
		e.placeholder = host->sim->mode == SEVMIG_SIM_MODE_MEMORY;
		fd = e.placeholder ? placeholder_fd("sevmig-sim-kvm", oflags) :
				     real()->open(NULL, path, oflags);
	} else {
		return real()->open(NULL, path, oflags);
	}
	if (fd < 0)
		return fd;
	ret = fd_register(host->sim, fd, &e);
	if (ret) {
		real()->close(NULL, fd);
		return ret;
	}
	return fd;
}

static int sim_close(void *opaque, int fd)
{
	struct sevmig_sim_host *host = opaque;
	struct sevmig_sim *sim = host->sim;
	struct sim_vm *vm;

	pthread_mutex_lock(&sim->lock);
	vm = fd_clear_locked(sim, fd);
	pthread_mutex_unlock(&sim->lock);
	if (vm) /* a closed vCPU fd leaves the vCPU counted, as in KVM */
		sim_vm_put(vm);
	return real()->close(NULL, fd);
}

static int sim_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct sevmig_sim_host *host = opaque;
	struct sim_fd e = fd_get(host->sim, fd);
	int ret;

	switch (e.kind) {
	case SIM_FD_SEV:
		ret = sev_ioctl(e.host, e.writable, req, arg);
		break;
	case SIM_FD_KVM:
		ret = kvm_ioctl(e.host, fd, e.placeholder, req, arg);
		break;
	case SIM_FD_VM:
		ret = vm_ioctl(e.host, e.vm, fd, e.placeholder, req, arg);
		break;
	case SIM_FD_VCPU:
		ret = vcpu_ioctl(e.vm, fd, e.placeholder, req, arg);
		break;
	default:
		ret = real()->ioctl(NULL, fd, req, arg);
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
	struct sim_fd e = fd_get(host->sim, fd);

	if (e.vm)
		sim_vm_put(e.vm);
	if (e.kind != SIM_FD_NONE && e.placeholder)
		return -ENODEV;
	return real()->mmap(NULL, addr, length, prot, mflags, fd, offset,
			    ret_addr);
}

static int sim_munmap(void *opaque, void *addr, size_t length)
{
	(void)opaque;
	return real()->munmap(NULL, addr, length);
}

/* ---------------------------------------------------------------- worlds */

SIM_EXPORT int sevmig_sim_new(const struct sevmig_sim_opts *opts,
			      struct sevmig_sim **ret_sim)
{
	struct sevmig_sim_opts o;
	struct sevmig_sim *sim;
	int ret;

	if (!ret_sim)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts, SEVMIG_SIM_OPTS_SIZE_VER0);
	if (ret)
		return ret;
	if (o.flags || o.reserved0 || o.mode > SEVMIG_SIM_MODE_MEMORY)
		return -EINVAL;
	if (!o.mode)
		o.mode = SEVMIG_SIM_MODE_AUTO;
	if (o.mode != SEVMIG_SIM_MODE_MEMORY) {
		int fd = real()->open(NULL, "/dev/kvm", O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			real()->close(NULL, fd);
			o.mode = SEVMIG_SIM_MODE_KVM;
		} else if (o.mode == SEVMIG_SIM_MODE_KVM) {
			return fd == -ENOENT ? -ENODEV : fd;
		} else {
			o.mode = SEVMIG_SIM_MODE_MEMORY;
		}
	}
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->mode = o.mode;
	pthread_mutex_init(&sim->lock, NULL);
	ret = sim_world_keys(sim);
	if (ret) {
		sevmig_sim_free(sim);
		return ret;
	}
	*ret_sim = sim;
	return 0;
}

SIM_EXPORT uint32_t sevmig_sim_mode(const struct sevmig_sim *sim)
{
	return sim ? sim->mode : 0;
}

SIM_EXPORT void sevmig_sim_free(struct sevmig_sim *sim)
{
	if (!sim)
		return;
	/*
	 * Each call unlinks the host it frees from sim->hosts (the analyzer
	 * loses that across the lock), so the next iteration reads a live head.
	 */
	while (sim->hosts)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		sevmig_sim_host_free(sim->hosts);
	for (size_t i = 0; i < sim->nroots; i++)
		free(sim->roots[i]);
	EVP_PKEY_free(sim->ark_key);
	EVP_PKEY_free(sim->ask_key);
	free(sim->fds);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
}

/* ----------------------------------------------------------------- hosts */

SIM_EXPORT int sevmig_sim_host_new(struct sevmig_sim *sim,
				   const struct sevmig_sim_host_opts *opts,
				   struct sevmig_sim_host **ret_host)
{
	struct sevmig_sim_host_opts o;
	struct sevmig_sim_host *host;
	int ret;

	if (!sim || !ret_host)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts, SEVMIG_SIM_HOST_OPTS_SIZE_VER0);
	if (ret)
		return ret;
	if (o.flags || o.api_major > 255 || o.api_minor > 255 || o.build > 255 ||
	    (o.state && o.state != SEVMIG_PLATFORM_UNINIT &&
	     o.state != SEVMIG_PLATFORM_INIT) ||
	    (o.config & ~SEVMIG_SIM_CONFIG_ES) || o.latency_us > 10000000u)
		return -EINVAL;
	if (!o.api_major && !o.api_minor) {
		o.api_major = 1;
		o.api_minor = 55;
	}
	host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	host->sim = sim;
	pthread_mutex_init(&host->psp, NULL);
	host->api_major = (uint8_t)o.api_major;
	host->api_minor = (uint8_t)o.api_minor;
	host->build = (uint8_t)o.build;
	host->config = o.config;
	host->pstate = o.state == SEVMIG_PLATFORM_UNINIT ? SIM_PSTATE_UNINIT :
							   SIM_PSTATE_INIT;
	host->latency_us = o.latency_us;
	host->next_handle = 1;
	ret = sim_host_keys(host, true, true);
	if (!ret)
		ret = simc_random(host->measure_key, sizeof(host->measure_key));
	if (ret) {
		EVP_PKEY_free(host->oca.pkey);
		EVP_PKEY_free(host->cek.pkey);
		EVP_PKEY_free(host->pek.pkey);
		EVP_PKEY_free(host->pdh.pkey);
		pthread_mutex_destroy(&host->psp);
		free(host);
		return ret;
	}
	pthread_mutex_lock(&sim->lock);
	host->next = sim->hosts;
	sim->hosts = host;
	pthread_mutex_unlock(&sim->lock);
	*ret_host = host;
	return 0;
}

SIM_EXPORT void sevmig_sim_host_free(struct sevmig_sim_host *host)
{
	struct sevmig_sim *sim;
	struct sevmig_sim_host **pp;

	if (!host)
		return;
	sim = host->sim;
	/* Close what the caller leaked, so VMs and guests go away. */
	for (;;) {
		struct sim_vm *vm = NULL;
		int fd = -1;

		pthread_mutex_lock(&sim->lock);
		for (size_t i = 0; i < sim->nfds; i++) {
			if (sim->fds[i].kind && sim->fds[i].host == host) {
				fd = (int)i;
				vm = fd_clear_locked(sim, fd);
				break;
			}
		}
		pthread_mutex_unlock(&sim->lock);
		if (fd < 0)
			break;
		if (vm)
			sim_vm_put(vm);
		real()->close(NULL, fd);
	}
	pthread_mutex_lock(&sim->lock);
	for (pp = &sim->hosts; *pp; pp = &(*pp)->next) {
		if (*pp == host) {
			*pp = host->next;
			break;
		}
	}
	pthread_mutex_unlock(&sim->lock);
	while (host->guests)
		sim_guest_decommission(host, host->guests->handle);
	EVP_PKEY_free(host->oca.pkey);
	EVP_PKEY_free(host->cek.pkey);
	EVP_PKEY_free(host->pek.pkey);
	EVP_PKEY_free(host->pdh.pkey);
	pthread_mutex_destroy(&host->psp);
	OPENSSL_cleanse(host, sizeof(*host));
	free(host);
}

SIM_EXPORT int sevmig_sim_host_sys_ops(struct sevmig_sim_host *host,
				       struct sevmig_sys_ops *ops)
{
	struct sevmig_sys_ops o = {
		.size = sizeof(o),
		.flags = 0,
		.opaque = host,
		.open = sim_open,
		.close = sim_close,
		.ioctl = sim_ioctl,
		.mmap = sim_mmap,
		.munmap = sim_munmap,
	};
	uint32_t usize;

	if (!host || !ops)
		return -EINVAL;
	usize = ops->size;
	if (usize < SEVMIG_SYS_OPS_SIZE_VER0)
		return -EINVAL;
	for (size_t i = sizeof(o); i < usize; i++)
		if (((const uint8_t *)ops)[i])
			return -E2BIG;
	o.size = usize < sizeof(o) ? usize : (uint32_t)sizeof(o);
	memcpy(ops, &o, o.size);
	return 0;
}

SIM_EXPORT int sevmig_sim_host_cert(struct sevmig_sim_host *host,
				    uint32_t usage, void *buf, size_t len)
{
	const struct sim_key *k;

	if (!host || !buf)
		return -EINVAL;
	switch (usage) {
	case SEVMIG_CERT_USAGE_OCA: k = &host->oca; break;
	case SEVMIG_CERT_USAGE_PEK: k = &host->pek; break;
	case SEVMIG_CERT_USAGE_PDH: k = &host->pdh; break;
	case SEVMIG_CERT_USAGE_CEK: k = &host->cek; break;
	default: return -EINVAL;
	}
	if (len < SEVMIG_SEV_CERT_LEN)
		return -ENOSPC;
	pthread_mutex_lock(&host->psp);
	memcpy(buf, &k->cert, SEVMIG_SEV_CERT_LEN);
	pthread_mutex_unlock(&host->psp);
	return 0;
}

SIM_EXPORT int sevmig_sim_host_set_latency(struct sevmig_sim_host *host,
					   uint32_t latency_us)
{
	if (!host || latency_us > 10000000u)
		return -EINVAL;
	__atomic_store_n(&host->latency_us, latency_us, __ATOMIC_RELAXED);
	return 0;
}

SIM_EXPORT int sevmig_sim_host_inject_fault(struct sevmig_sim_host *host,
					    const struct sevmig_sim_fault *fault)
{
	struct sevmig_sim_fault f;
	int ret;

	if (!host || !fault)
		return -EINVAL;
	ret = sevmig_struct_in(&f, sizeof(f), fault, SEVMIG_SIM_FAULT_SIZE_VER0);
	if (ret)
		return ret;
	if (f.flags || f.reserved0)
		return -EINVAL;
	if (f.nth) {
		if (f.kind < SEVMIG_SIM_FAULT_ANY || f.kind > SEVMIG_SIM_FAULT_GUEST ||
		    (f.kind == SEVMIG_SIM_FAULT_ANY && f.cmd) || f.err > 0 ||
		    f.fw_status > 0xffffu || (!f.err && !f.fw_status) ||
		    (f.fw_status && f.err && f.err != -EIO))
			return -EINVAL;
	}
	pthread_mutex_lock(&host->psp);
	host->fault = f;
	host->fault_seen = 0;
	pthread_mutex_unlock(&host->psp);
	return 0;
}

SIM_EXPORT int sevmig_sim_host_stats(struct sevmig_sim_host *host,
				     struct sevmig_sim_host_stats *stats)
{
	struct sevmig_sim_host_stats s;
	uint32_t usize;

	if (!host || !stats)
		return -EINVAL;
	usize = stats->size;
	if (usize < SEVMIG_SIM_HOST_STATS_SIZE_VER0)
		return -EINVAL;
	for (size_t i = sizeof(s); i < usize; i++)
		if (((const uint8_t *)stats)[i])
			return -E2BIG;
	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&host->psp);
	s.psp_commands = host->psp_commands;
	s.platform_state = host->pstate + 1;
	for (struct sim_guest *g = host->guests; g; g = g->next)
		s.guest_count++;
	s.psp_dead = host->psp_dead;
	pthread_mutex_unlock(&host->psp);
	pthread_mutex_lock(&host->sim->lock);
	for (struct sim_vm *vm = host->sim->vms; vm; vm = vm->next)
		if (vm->host == host)
			s.vm_count++;
	pthread_mutex_unlock(&host->sim->lock);
	s.size = usize < sizeof(s) ? usize : (uint32_t)sizeof(s);
	memcpy(stats, &s, s.size);
	return 0;
}
