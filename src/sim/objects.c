// SPDX-License-Identifier: MIT
/*
 * The simulator's objects: the world's fd table, VM references, the hosts'
 * firmware guests and the PSP gate every firmware command passes (count,
 * death, latency, faults). The commands above build on these; nothing here
 * knows a command.
 *
 * Emulated devices get real fd numbers (memfds) so the kernel's rules about
 * fd numbers (a /dev/sev fd must stay open at the number given to
 * LAUNCH_START / RECEIVE_START) can be emulated exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sim-internal.h"

int sim_placeholder_fd(const char *name, int oflags)
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

int sim_fd_register(struct sevmig_sim *sim, int fd, const struct sim_fd *e)
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

struct sim_fd sim_fd_get(struct sevmig_sim *sim, int fd)
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

void sim_fd_forget(struct sevmig_sim *sim, int fd)
{
	struct sim_vm *vm;

	pthread_mutex_lock(&sim->lock);
	vm = fd_clear_locked(sim, fd);
	pthread_mutex_unlock(&sim->lock);
	if (vm) /* a closed vCPU fd leaves the vCPU counted, as in KVM */
		sim_vm_put(vm);
}

bool sim_fd_is_sev(struct sevmig_sim_host *host, int fd)
{
	struct sevmig_sim *sim = host->sim;
	bool ok = false;

	pthread_mutex_lock(&sim->lock);
	if (fd >= 0 && (size_t)fd < sim->nfds)
		ok = sim->fds[fd].kind == SIM_FD_SEV && sim->fds[fd].host == host;
	pthread_mutex_unlock(&sim->lock);
	return ok;
}

void sim_fd_close_host(struct sevmig_sim_host *host)
{
	struct sevmig_sim *sim = host->sim;

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
		sim_real()->close(NULL, fd);
	}
}

/* -------------------------------------------------------------------- VMs */

struct sim_vm *sim_vm_new(struct sevmig_sim_host *host, uint32_t type)
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
	return vm;
}

void sim_vm_get(struct sim_vm *vm)
{
	pthread_mutex_lock(&vm->host->sim->lock);
	vm->refs++;
	pthread_mutex_unlock(&vm->host->sim->lock);
}

void sim_vm_put(struct sim_vm *vm)
{
	struct sevmig_sim *sim = vm->host->sim;
	struct sim_vm **pp;

	pthread_mutex_lock(&sim->lock);
	if (vm->refs > 1) {
		vm->refs--;
		pthread_mutex_unlock(&sim->lock);
		return;
	}
	vm->refs = 0;
	for (pp = &sim->vms; *pp; pp = &(*pp)->next) {
		if (*pp == vm) {
			*pp = vm->next;
			break;
		}
	}
	pthread_mutex_unlock(&sim->lock);
	/* sev_vm_destroy: a mirror drops its owner; an owner decommissions. */
	if (sim_vm_owner(vm)) {
		sim_vm_put(sim_vm_owner(vm));
	} else if (vm->sev_active && vm->handle) {
		pthread_mutex_lock(&vm->host->psp);
		sim_guest_decommission(vm->host, vm->handle);
		pthread_mutex_unlock(&vm->host->psp);
	}
	free(vm->regions);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

struct sim_vm *sim_vm_get_fd(struct sevmig_sim *sim, int fd)
{
	struct sim_fd e = sim_fd_get(sim, fd);

	if (e.kind == SIM_FD_VM && e.vm)
		return e.vm;
	if (e.vm)
		sim_vm_put(e.vm);
	return NULL;
}

uint32_t sim_vm_count(struct sevmig_sim_host *host)
{
	uint32_t n = 0;

	pthread_mutex_lock(&host->sim->lock);
	for (struct sim_vm *vm = host->sim->vms; vm; vm = vm->next)
		if (vm->host == host)
			n++;
	pthread_mutex_unlock(&host->sim->lock);
	return n;
}

bool sim_vm_guest_sent(struct sim_vm *vm)
{
	struct sim_guest *g;
	uint32_t handle;
	bool sent;

	pthread_mutex_lock(&vm->lock);
	handle = vm->sev_active ? vm->handle : 0;
	pthread_mutex_lock(&vm->host->psp);
	g = handle ? sim_guest_find(vm->host, handle) : NULL;
	sent = g && g->state == SEV_GSTATE_SENT;
	pthread_mutex_unlock(&vm->host->psp);
	pthread_mutex_unlock(&vm->lock);
	return sent;
}

/* ----------------------------------------------------------------- guests */

struct sim_guest *sim_guest_find(struct sevmig_sim_host *host, uint32_t handle)
{
	for (struct sim_guest *g = host->guests; g; g = g->next)
		if (g->handle == handle)
			return g;
	return NULL;
}

struct sim_guest *sim_guest_new(struct sevmig_sim_host *host,
				uint32_t policy, uint32_t state)
{
	struct sim_guest *guest = calloc(1, sizeof(*guest));

	if (!guest)
		return NULL;
	guest->handle = host->next_handle++;
	if (!host->next_handle)
		host->next_handle = 1;
	guest->policy = policy;
	guest->state = state;
	guest->next = host->guests;
	host->guests = guest;
	host->pstate = SEV_PSTATE_WORKING;
	return guest;
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
	/* The last guest gone: the platform is back in INIT (an assumption,
	 * docs/simulator.md). */
	if (!host->guests && host->pstate == SEV_PSTATE_WORKING)
		host->pstate = SEV_PSTATE_INIT;
}

uint32_t sim_guest_count(const struct sevmig_sim_host *host)
{
	uint32_t n = 0;

	for (const struct sim_guest *g = host->guests; g; g = g->next)
		n++;
	return n;
}

void sim_guest_chan_close(struct sim_guest *guest)
{
	guest->chan = false;
	OPENSSL_cleanse(guest->tek, sizeof(guest->tek));
	OPENSSL_cleanse(guest->tik, sizeof(guest->tik));
}

/* --------------------------------------------------------------- PSP gate */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool fault_matches(const struct sevmig_sim_fault *f, uint32_t kind,
			  uint32_t cmd)
{
	if (!f->nth)
		return false;
	if (f->kind == SEVMIG_SIM_FAULT_ANY)
		return true;
	return f->kind == kind && f->cmd == cmd;
}

/*
 * The latency model (sim.h, docs/simulator.md): one PSP per host executes
 * commands back to back. A command entering at t starts at max(t, the
 * previous command's finish) and finishes L later; its caller returns at
 * that finish. The timeline is virtual, so callers that wake late do not
 * push later commands back, and an idle PSP banks no time.
 */
static void psp_reserve(struct sevmig_sim_host *host, uint64_t *done_ns)
{
	uint64_t l = __atomic_load_n(&host->latency_us, __ATOMIC_RELAXED);
	uint64_t start, t;

	if (!l)
		return;
	t = now_ns();
	start = host->psp_free_ns > t ? host->psp_free_ns : t;
	host->psp_free_ns = start + l * 1000u;
	if (host->psp_free_ns > *done_ns)
		*done_ns = host->psp_free_ns;
}

int sim_psp_enter(struct sevmig_sim_host *host, uint32_t kind, uint32_t cmd,
		  uint32_t *fw, uint64_t *done_ns)
{
	if (host->psp_dead)
		return -EBUSY;
	psp_reserve(host, done_ns);
	host->psp_commands++;
	if (fault_matches(&host->fault, kind, cmd) &&
	    ++host->fault_seen == host->fault.nth) {
		struct sevmig_sim_fault f = host->fault;

		host->fault.nth = 0;
		if (f.err == -ETIMEDOUT) {
			host->psp_dead = true;
			return -ETIMEDOUT;
		}
		if (f.fw_status)
			return sim_fw_fail(fw, f.fw_status);
		return f.err;
	}
	return 0;
}

/*
 * The one place the simulator sleeps. A default timer slack of 50 us makes
 * a 20 us sleep last about 90 us here, more than a PSP command; the slack
 * is cut to 1 ns for this sleep only and given back after it (it is a
 * per-thread attribute), which brings the overshoot to about 20 us
 * without spinning.
 */
void sim_psp_wait(uint64_t done_ns)
{
	struct timespec ts;
	int slack;

	if (!done_ns || now_ns() >= done_ns)
		return;
	ts.tv_sec = (time_t)(done_ns / 1000000000u);
	ts.tv_nsec = (long)(done_ns % 1000000000u);
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack > 1)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
	if (slack > 1)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
}

uint64_t sim_latency_deadline(struct sevmig_sim_host *host)
{
	uint64_t l = __atomic_load_n(&host->latency_us, __ATOMIC_RELAXED);

	return l ? now_ns() + l * 1000u : 0;
}

int sim_platform_init(struct sevmig_sim_host *host, uint32_t *fw,
		      uint64_t *done_ns)
{
	int ret;

	if (host->pstate != SEV_PSTATE_UNINIT)
		return 0;
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM,
			    SIM_PLATFORM_INIT_CMD, fw, done_ns);
	if (ret)
		return ret;
	host->pstate = SEV_PSTATE_INIT;
	*fw = 0;
	return 0;
}
