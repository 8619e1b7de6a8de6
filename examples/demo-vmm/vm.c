// SPDX-License-Identifier: MIT
/*
 * The VM: guest memory and page tables, the libsevmig VM handle and the
 * negotiation, vCPU threads and their exits, the demo's devices, and
 * stopping and resuming the vCPUs around a migration.
 *
 * Every KVM ioctl goes through v->sys (vmm_ioctl()): on a real SEV host that
 * is the kernel, under libsevmig-sim it is the simulator, which answers the
 * SEV side itself and passes everything else (KVM_RUN included) to the real
 * /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

/* The guest image, embedded by the build (guest-blob.c). */
extern const unsigned char demo_guest_image[];
extern const size_t demo_guest_image_len;

#define PTE_P	(1ull << 0)
#define PTE_RW	(1ull << 1)
#define PTE_US	(1ull << 2)	/* user mode runs the work loop */

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

int layout_compute(const struct demo_config *cfg, struct demo_layout *lay,
		   char *why, size_t why_len)
{
	uint64_t ram, npd, npt, pt_end, start, per, npages, tpages;

	memset(lay, 0, sizeof(*lay));
	if (cfg->vcpus < 1 || cfg->vcpus > DEMO_MAX_VCPUS) {
		snprintf(why, why_len, "--vcpus must be 1..%u", DEMO_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->mem_mib < 16 || cfg->mem_mib > 65536 || cfg->mem_mib % 2) {
		snprintf(why, why_len,
			 "--mem must be an even number of MiB, 16..65536");
		return -EINVAL;
	}
	ram = (uint64_t)cfg->mem_mib * MiB;
	npd = align_up(ram, GiB) / GiB;
	npt = ram / (2 * MiB);
	lay->ram_size = ram;
	lay->pt_pages = 2 + npd + npt;
	lay->pte_gpa = DEMO_PT_GPA + (2 + npd) * DEMO_PAGE;
	pt_end = DEMO_PT_GPA + lay->pt_pages * DEMO_PAGE;
	lay->launch_end = pt_end;
	start = align_up(pt_end, 2 * MiB);
	if (start + cfg->vcpus * 64 * DEMO_PAGE > ram) {
		snprintf(why, why_len, "--mem %u MiB is too small for %u vCPUs",
			 cfg->mem_mib, cfg->vcpus);
		return -EINVAL;
	}
	per = (ram - start) / cfg->vcpus / DEMO_PAGE;
	/* n data pages need n / 256 table pages (16 bytes each). */
	npages = per * 256 / 257;
	tpages = align_up(npages, 256) / 256;
	while (npages + tpages > per) {
		npages--;
		tpages = align_up(npages, 256) / 256;
	}
	if (npages <= (uint64_t)cfg->shared_pages + 1) {
		snprintf(why, why_len, "--shared-pages %u does not fit the "
			 "%llu pages of each vCPU", cfg->shared_pages,
			 (unsigned long long)npages);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		struct demo_region *r = &lay->region[i];

		r->table_gpa = start + i * per * DEMO_PAGE;
		r->data_gpa = r->table_gpa + tpages * DEMO_PAGE;
		r->npages = npages;
	}
	return 0;
}

int vmm_ioctl(struct vmm *v, int fd, unsigned long req, void *arg)
{
	return v->sys.ioctl(v->sys.opaque, fd, req, arg);
}

void vmm_note(struct vmm *v, const char *what, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (v->ev.note)
		v->ev.note(v->ev.opaque, what, buf);
}

/* ------------------------------------------------------------ memory */

/* Guest memory at @gpa, as the VMM sees it (page-aligned mapping). */
static void *gpa_ptr(struct vmm *v, uint64_t gpa)
{
	return v->ram + gpa;
}

static void build_page_tables(struct vmm *v)
{
	const struct demo_layout *l = &v->lay;
	uint64_t npd = align_up(l->ram_size, GiB) / GiB;
	uint64_t *pml4 = gpa_ptr(v, DEMO_PT_GPA);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pdpt + 512;
	uint64_t *pt = gpa_ptr(v, l->pte_gpa);
	/* U/S at every level: the work loop runs in user mode. With SEV the
	 * C-bit marks every page private (the guest clears it for pages it
	 * shares). */
	uint64_t f = PTE_P | PTE_RW | PTE_US | v->c_bit;

	pml4[0] = (DEMO_PT_GPA + DEMO_PAGE) | f;
	for (uint64_t i = 0; i < npd; i++)
		pdpt[i] = (DEMO_PT_GPA + (2 + i) * DEMO_PAGE) | f;
	for (uint64_t i = 0; i < l->ram_size / (2 * MiB); i++)
		pd[i] = (l->pte_gpa + i * DEMO_PAGE) | f;
	for (uint64_t i = 0; i < l->ram_size / DEMO_PAGE; i++)
		pt[i] = (i * DEMO_PAGE) | f;
}

static int load_guest(struct vmm *v, uint64_t *ret_entry)
{
	struct {
		uint64_t magic, entry, load_end, image_end, ro_end;
	} h;
	struct demo_boot_info *bi;

	if (demo_guest_image_len < sizeof(h) ||
	    demo_guest_image_len > DEMO_IMAGE_MAX)
		return -ENOEXEC;
	memcpy(&h, demo_guest_image, sizeof(h));
	if (h.magic != 0x4547414d49474d53ull ||
	    h.image_end > DEMO_IMAGE_GPA + DEMO_IMAGE_MAX ||
	    h.entry < DEMO_IMAGE_GPA || h.entry >= h.image_end)
		return -ENOEXEC;
	memcpy(v->ram + DEMO_IMAGE_GPA, demo_guest_image, demo_guest_image_len);

	bi = gpa_ptr(v, DEMO_BOOT_INFO_GPA);
	memset(bi, 0, sizeof(*bi));
	bi->magic = DEMO_BOOT_MAGIC;
	bi->version = DEMO_BOOT_VERSION;
	bi->nr_vcpus = v->cfg.vcpus;
	bi->ram_size = v->lay.ram_size;
	bi->tsc_khz = v->tsc_khz;
	bi->c_bit = v->c_bit;
	bi->pte_gpa = v->lay.pte_gpa;
	bi->hc_mode = v->hc_mode;
	bi->tick_us = v->cfg.tick_us;
	bi->dirty_rate = v->cfg.dirty_rate / v->cfg.vcpus;
	bi->report_ms = v->cfg.report_ms;
	bi->shared_pages = v->cfg.shared_pages;
	bi->shared_ms = v->cfg.shared_ms;
	memcpy(bi->region, v->lay.region, sizeof(bi->region));
	build_page_tables(v);
	*ret_entry = h.entry;
	return 0;
}

/* ------------------------------------------------------------- vCPUs */

static void on_kick(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN or the idle sleep */
}

static int get_cpuid_table(struct vmm *v)
{
	for (uint32_t n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int r;

		if (!c)
			return -ENOMEM;
		c->nent = n;
		r = vmm_ioctl(v, v->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
		if (r == 0) {
			v->cpuid = c;
			return 0;
		}
		free(c);
		if (r != -E2BIG)
			return r;
	}
	return -E2BIG;
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c,
					   uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == idx))
			return &c->entries[i];
	return NULL;
}

/* KVM_SET_CPUID2 with this vCPU's APIC ID in leaf 1. */
static int set_vcpu_cpuid(struct vmm *v, struct vcpu *c)
{
	size_t sz = sizeof(*v->cpuid) + v->cpuid->nent *
		    sizeof(v->cpuid->entries[0]);
	struct kvm_cpuid2 *t = malloc(sz);
	struct kvm_cpuid_entry2 *e;
	int r;

	if (!t)
		return -ENOMEM;
	memcpy(t, v->cpuid, sz);
	e = cpuid_find(t, 1, 0);
	if (e)
		e->ebx = (e->ebx & 0x00ffffffu) | c->id << 24;
	r = vmm_ioctl(v, c->fd, KVM_SET_CPUID2, t);
	free(t);
	return r;
}

static int vcpu_create(struct vmm *v, struct vcpu *c)
{
	int sz, r;
	void *p = NULL;

	c->fd = vmm_ioctl(v, v->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)c->id);
	if (c->fd < 0)
		return c->fd;
	sz = vmm_ioctl(v, v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (sz <= 0)
		return sz < 0 ? sz : -EINVAL;
	r = v->sys.mmap(v->sys.opaque, NULL, (size_t)sz,
			PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0, &p);
	if (r)
		return r;
	c->run = p;
	c->run_size = (size_t)sz;
	r = set_vcpu_cpuid(v, c);
	if (r)
		return r;
	/* The library completes pending exits of registered vCPUs when the
	 * VM is paused, and refuses to resume a guest that must not run. */
	r = sevmig_vm_vcpu_add(v->vm, c->fd, c->run, 0);
	if (r)
		return r;
	c->registered = true;
	return 0;
}

/* Long mode, ring 0, at the image's entry: what a boot loader leaves. */
static int vcpu_boot_state(struct vmm *v, struct vcpu *c, uint64_t entry)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_sregs s;
	struct kvm_regs r;
	int ret;

	ret = vmm_ioctl(v, c->fd, KVM_GET_SREGS, &s);
	if (ret)
		return ret;
	s.cr3 = DEMO_PT_GPA;
	s.cr4 = 0x620;			/* PAE, OSFXSR, OSXMMEXCPT */
	s.cr0 = 0x80050033;		/* PG, AM, WP, NE, ET, MP, PE */
	s.efer = 0x500;			/* LMA, LME */
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	ret = vmm_ioctl(v, c->fd, KVM_SET_SREGS, &s);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rdi = c->id;
	r.rsi = DEMO_BOOT_INFO_GPA;
	r.rflags = 2;
	return vmm_ioctl(v, c->fd, KVM_SET_REGS, &r);
}

/* ----------------------------------------------------------- devices */

static void on_report(struct vmm *v, struct vcpu *c, const struct kvm_regs *r)
{
	struct guest_view *g = &c->gv;
	uint32_t kind = (uint32_t)r->rax;
	uint64_t seq = r->rsi >> 8;

	if ((r->rsi & 0xff) != c->id)
		return;		/* not this vCPU's report: ignore */
	pthread_mutex_lock(&v->lock);
	/* Exactly one more than the last: no report lost or replayed. */
	if (g->seq && seq != g->seq + 1)
		g->seq_errors++;
	if (!g->seq_first)
		g->seq_first = seq;
	g->seq = seq;
	switch (kind) {
	case DEMO_REP_BOOT:
		g->booted = true;
		g->features = (uint32_t)r->rdx;
		g->boot_flags = (uint32_t)r->r8;
		break;
	case DEMO_REP_HEARTBEAT:
		g->heartbeats++;
		g->writes = r->rdx;
		if (r->rcx > g->max_gap_us)
			g->max_gap_us = r->rcx;
		g->conversions = r->r8;
		g->shared_now = r->r9;
		if (g->have_check)
			g->heartbeats_after_check++;
		break;
	case DEMO_REP_CHECK:
		g->have_check = true;
		g->check_pages = r->rdx;
		g->check_failures = r->rcx;
		g->check_gap_us = r->r8;
		g->check_gen = r->r9;
		g->heartbeats_after_check = 0;
		break;
	case DEMO_REP_ERROR:
		g->errors++;
		break;
	default:
		break;
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (v->ev.report)
		v->ev.report(v->ev.opaque, c, kind);
}

/*
 * The fallback doorbell: the same request as the KVM_HC_MAP_GPA_RANGE
 * hypercall, carried by an I/O port where the kernel does not forward the
 * hypercall to userspace; it goes to the same library call.
 */
static void on_doorbell(struct vmm *v, struct vcpu *c, const struct kvm_regs *r)
{
	uint64_t ret_hc = (uint64_t)-1000;	/* KVM_ENOSYS */
	int err;

	/* Said once, by whichever vCPU rings first. */
	if (!__atomic_exchange_n(&v->doorbell_used, true, __ATOMIC_RELAXED)) {
		vmm_note(v, "doorbell", "doorbell in use: the guest reports "
			 "page-state changes through I/O port 0x%x, and the "
			 "VMM turns each into sevmig_vm_map_gpa_range(), the "
			 "call a KVM_HC_MAP_GPA_RANGE exit makes",
			 DEMO_PORT_DOORBELL);
	}
	if ((uint32_t)r->rax == DEMO_KVM_HC_MAP_GPA_RANGE) {
		err = sevmig_vm_map_gpa_range(v->vm, r->rbx, r->rcx, r->rdx,
					      SEVMIG_MAP_GPA_F_LONG_MODE,
					      &ret_hc);
		if (err) {
			/* Recorded as TRACKING_LOST: this VM cannot migrate
			 * any more; the guest is told its call failed. */
			ret_hc = (uint64_t)-22;
			vmm_note(v, "error", "page-state change not recorded: "
				 "%s", sevmig_strerror(err));
		}
	}
	c->doorbell_ret = (int64_t)ret_hc;
}

static void idle(struct vmm *v, uint32_t us)
{
	struct timespec ts;

	if (us > 100000)
		us = 100000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	pthread_mutex_lock(&v->lock);
	if (v->pause_req || v->quit)
		us = 0;
	pthread_mutex_unlock(&v->lock);
	if (us)
		nanosleep(&ts, NULL);	/* a kick (signal) ends it early */
}

static void crash(struct vmm *v, struct vcpu *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void crash(struct vmm *v, struct vcpu *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&v->lock);
	va_start(ap, fmt);
	vsnprintf(c->gv.crash, sizeof(c->gv.crash), fmt, ap);
	va_end(ap);
	c->gv.crashed = true;
	c->halted = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	vmm_note(v, "guest-crash", "vCPU %u: %s", c->id, c->gv.crash);
}

static void on_io(struct vmm *v, struct vcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	struct kvm_regs regs;
	uint32_t val = 0;

	if (run->io.size != 4 || run->io.count != 1) {
		if (!out)
			memset(data, 0xff, (size_t)run->io.size * run->io.count);
		return;
	}
	if (out)
		memcpy(&val, data, 4);
	switch (run->io.port) {
	case DEMO_PORT_DOORBELL:
		if (!out) {
			val = (uint32_t)c->doorbell_ret;
			break;
		}
		if (vmm_ioctl(v, c->fd, KVM_GET_REGS, &regs) == 0)
			on_doorbell(v, c, &regs);
		return;
	case DEMO_PORT_REPORT:
		if (out && vmm_ioctl(v, c->fd, KVM_GET_REGS, &regs) == 0)
			on_report(v, c, &regs);
		return;
	case DEMO_PORT_IDLE:
		if (out)
			idle(v, val);
		return;
	case DEMO_PORT_GEN:
		val = (uint32_t)__atomic_load_n(&v->gen, __ATOMIC_RELAXED);
		break;
	case DEMO_PORT_PANIC:
		if (out && vmm_ioctl(v, c->fd, KVM_GET_REGS, &regs) == 0)
			crash(v, c, "exception %u at rip 0x%llx, error code "
			      "0x%llx, cr2 0x%llx", val,
			      (unsigned long long)regs.rsi,
			      (unsigned long long)regs.rdx,
			      (unsigned long long)regs.rcx);
		return;
	default:
		val = 0xffffffffu;	/* nothing there */
		break;
	}
	if (!out)
		memcpy(data, &val, 4);
}

/* Exits libsevmig left to the VMM. Returns false when the vCPU stops. */
static bool handle_exit(struct vmm *v, struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct kvm_regs regs;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		on_io(v, c);
		return true;
	case KVM_EXIT_HLT:
		/* Only the exception handler halts (interrupts are off). */
		pthread_mutex_lock(&v->lock);
		c->halted = true;
		pthread_mutex_unlock(&v->lock);
		return false;
	case KVM_EXIT_HYPERCALL:
		/* A hypercall the library does not own: not implemented. */
		run->hypercall.ret = (uint64_t)-1000;
		return true;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		run->msr.error = 1;	/* #GP */
		return true;
	case KVM_EXIT_SHUTDOWN:
		memset(&regs, 0, sizeof(regs));
		vmm_ioctl(v, c->fd, KVM_GET_REGS, &regs);
		crash(v, c, "triple fault (shutdown) at rip 0x%llx",
		      (unsigned long long)regs.rip);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		crash(v, c, "KVM could not enter the guest (reason 0x%llx)",
		      (unsigned long long)
		      run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		crash(v, c, "KVM internal error %u", run->internal.suberror);
		return false;
	default:
		crash(v, c, "unexpected exit %u", run->exit_reason);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vmm *v = c->vmm;
	bool warned = false;

	for (;;) {
		int r;

		pthread_mutex_lock(&v->lock);
		while ((v->pause_req || c->halted) && !v->quit) {
			v->parked++;
			pthread_cond_broadcast(&v->cond);
			pthread_cond_wait(&v->cond, &v->lock);
			v->parked--;
		}
		if (v->quit) {
			pthread_mutex_unlock(&v->lock);
			break;
		}
		pthread_mutex_unlock(&v->lock);

		r = vmm_ioctl(v, c->fd, KVM_RUN, NULL);
		if (r == -EINTR || r == -EAGAIN)
			continue;	/* kicked: look at pause_req */
		if (r < 0) {
			crash(v, c, "KVM_RUN: %s", strerror(-r));
			continue;
		}
		/* Every exit goes to libsevmig first. */
		r = sevmig_vm_handle_exit(v->vm, c->run, 0);
		if (r == SEVMIG_EXIT_HANDLED)
			continue;
		if (r < 0 && !warned) {
			warned = true;
			vmm_note(v, "error", "sevmig_vm_handle_exit: %s",
				 sevmig_strerror(r));
		}
		if (r == SEVMIG_EXIT_NOT_OURS)
			handle_exit(v, c);
	}
	pthread_mutex_lock(&v->lock);
	v->running--;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* ---------------------------------------------------------- lifecycle */

static int create_ram(struct vmm *v)
{
	struct kvm_userspace_memory_region mr;
	void *p;
	int r;

	p = mmap(NULL, v->lay.ram_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	v->ram = p;
	memset(&mr, 0, sizeof(mr));
	mr.slot = 0;
	mr.memory_size = v->lay.ram_size;
	mr.userspace_addr = (uintptr_t)p;
	r = vmm_ioctl(v, v->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
	if (r)
		return r;
	v->ram_slot = true;
	/* libsevmig reads and writes guest pages through this mapping. */
	return sevmig_vm_ram_add(v->vm, 0, v->lay.ram_size, p, 0);
}

int vmm_set_dirty_log(struct vmm *v, bool on)
{
	struct kvm_userspace_memory_region mr;
	int r;

	memset(&mr, 0, sizeof(mr));
	mr.slot = 0;
	mr.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	mr.memory_size = v->lay.ram_size;
	mr.userspace_addr = (uintptr_t)v->ram;
	r = vmm_ioctl(v, v->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
	if (r == 0)
		v->dirty_log = on;
	return r;
}

static uint32_t phys_bits_of(struct vmm *v)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(v->cpuid, 0x80000008, 0);
	uint32_t bits = e ? (e->eax & 0xff) : 48;

	if (v->sev == DEMO_SEV_REAL) {
		struct kvm_cpuid_entry2 *s = cpuid_find(v->cpuid, 0x8000001f, 0);

		/* The C-bit position and the address bits SEV reserves. */
		if (s) {
			v->c_bit = 1ull << (s->ebx & 0x3f);
			bits -= (s->ebx >> 6) & 0x3f;
		}
	}
	return bits < 32 ? 32 : bits > 52 ? 52 : bits;
}

int vmm_create(struct vmm *v, const struct demo_config *cfg, bool incoming,
	       const struct vmm_events *ev)
{
	struct sevmig_vm_opts o = { .size = sizeof(o) };
	char why[160];
	int r;

	v->cfg = *cfg;
	v->incoming = incoming;
	if (ev)
		v->ev = *ev;
	v->kvm_fd = v->vm_fd = -1;
	for (unsigned i = 0; i < DEMO_MAX_VCPUS; i++) {
		v->vcpus[i].fd = -1;
		v->vcpus[i].vmm = v;
		v->vcpus[i].id = i;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	r = layout_compute(cfg, &v->lay, why, sizeof(why));
	if (r) {
		vmm_note(v, "error", "%s", why);
		return r;
	}
	r = platform_open(v, incoming);
	if (r)
		return r;

	v->vm_fd = vmm_ioctl(v, v->kvm_fd, KVM_CREATE_VM, NULL);
	if (v->vm_fd < 0) {
		r = v->vm_fd;
		vmm_note(v, "error", "KVM_CREATE_VM: %s", strerror(-r));
		return r;
	}
	r = get_cpuid_table(v);
	if (r) {
		vmm_note(v, "error", "KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
		return r;
	}
	v->phys_bits = phys_bits_of(v);

	o.vm_fd = v->vm_fd;
	o.phys_bits = v->phys_bits;
	o.host_policy = cfg->host_policy;
	o.platform = v->platform;
	r = sevmig_vm_new(v->ctx, &o, &v->vm);
	if (r) {
		vmm_note(v, "error", "sevmig_vm_new: %s", sevmig_strerror(r));
		return r;
	}
	/*
	 * A source starts its SEV guest now (KVM_SEV_INIT must precede the
	 * vCPUs); a destination leaves that to the receive session.
	 */
	if (!incoming) {
		r = platform_sev_init(v);
		if (r)
			return r;
	}
	r = create_ram(v);
	if (r) {
		vmm_note(v, "error", "guest RAM (%u MiB): %s", cfg->mem_mib,
			 strerror(-r));
		return r;
	}
	/* The negotiation plumbing, the same on both ends. */
	r = sevmig_vm_enable_exits(v->vm, 0, 0, 0);
	if (!r)
		r = sevmig_vm_set_msr_filter(v->vm, NULL, 0);
	if (r) {
		vmm_note(v, "error", "migration exits: %s", sevmig_strerror(r));
		return r;
	}
	r = sevmig_vm_cpuid_apply(v->vm, v->cpuid, 0);
	if (r < 0) {
		vmm_note(v, "error", "sevmig_vm_cpuid_apply: %s",
			 sevmig_strerror(r));
		return r;
	}
	v->offered = r == 1;
	if (!v->offered)
		vmm_note(v, "negotiation", "migration features NOT offered to "
			 "the guest (host policy or kernel)");
	return 0;
}

/* Source: guest image, boot info, page tables, SEV launch, vCPUs. */
int vmm_boot(struct vmm *v)
{
	uint64_t entry;
	int r;

	r = vmm_create_vcpus(v);
	if (r)
		return r;
	r = load_guest(v, &entry);
	if (r) {
		vmm_note(v, "error", "the embedded guest image is not valid");
		return r;
	}
	/* Pin the RAM for the SEV guest, then measure and start it. */
	r = platform_register_ram(v);
	if (!r)
		r = platform_launch(v);
	if (r)
		return r;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		r = vcpu_boot_state(v, &v->vcpus[i], entry);
		if (r) {
			vmm_note(v, "error", "vCPU %u registers: %s", i,
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

int vmm_create_vcpus(struct vmm *v)
{
	int khz;

	for (unsigned i = 0; i < v->cfg.vcpus; i++) {
		int r = vcpu_create(v, &v->vcpus[i]);

		if (r) {
			vmm_note(v, "error", "vCPU %u: %s", i, strerror(-r));
			return r;
		}
		v->nr_vcpus = i + 1;
	}
	/* The guest turns TSC ticks into time with this. */
	khz = vmm_ioctl(v, v->vcpus[0].fd, KVM_GET_TSC_KHZ, NULL);
	if (khz <= 0) {
		vmm_note(v, "error", "KVM_GET_TSC_KHZ: %s",
			 khz ? strerror(-khz) : "no frequency");
		return khz ? khz : -EIO;
	}
	v->tsc_khz = (uint32_t)khz;
	return 0;
}

int vmm_start(struct vmm *v)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;	/* no SA_RESTART: KVM_RUN gets EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct vcpu *c = &v->vcpus[i];
		int r;

		pthread_mutex_lock(&v->lock);
		v->running++;
		pthread_mutex_unlock(&v->lock);
		r = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (r) {
			pthread_mutex_lock(&v->lock);
			v->running--;
			pthread_mutex_unlock(&v->lock);
			return -r;
		}
		c->thread_started = true;
	}
	return 0;
}

static void kick_all(struct vmm *v)
{
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct vcpu *c = &v->vcpus[i];

		/* A thread about to enter KVM_RUN returns at once. */
		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (c->thread_started)
			pthread_kill(c->thread, SIGUSR1);
	}
}

/*
 * Stop every vCPU thread outside KVM_RUN, then tell libsevmig: it completes
 * the exits KVM still holds (so nothing is lost or replayed) and marks the
 * VM paused, which the final pass of a migration requires.
 */
int vmm_stop(struct vmm *v)
{
	int r;

	pthread_mutex_lock(&v->lock);
	v->pause_req = true;
	pthread_mutex_unlock(&v->lock);
	kick_all(v);
	pthread_mutex_lock(&v->lock);
	while (v->parked < v->running) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&v->cond, &v->lock, &ts);
		if (v->parked < v->running) {
			pthread_mutex_unlock(&v->lock);
			kick_all(v);	/* a kick can land before the sleep */
			pthread_mutex_lock(&v->lock);
		}
	}
	pthread_mutex_unlock(&v->lock);
	r = sevmig_vm_pause(v->vm, 0);
	if (r)
		vmm_note(v, "error", "sevmig_vm_pause: %s", sevmig_strerror(r));
	return r;
}

/* Ask libsevmig first: a guest that was sent or moved must never run. */
int vmm_resume(struct vmm *v)
{
	int r = sevmig_vm_resume(v->vm, 0);

	if (r)
		return r;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		__atomic_store_n(&v->vcpus[i].run->immediate_exit, 0,
				 __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&v->lock);
	v->pause_req = false;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void vmm_snapshot_views(struct vmm *v, struct guest_view *out)
{
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		out[i] = v->vcpus[i].gv;
	pthread_mutex_unlock(&v->lock);
}

/* Wait (up to @timeout_ms, < 0 forever) until done() holds. */
bool vmm_wait(struct vmm *v, bool (*done)(struct vmm *v, void *arg),
	      void *arg, int timeout_ms)
{
	struct timespec end, now;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	for (;;) {
		ok = done(v, arg);
		if (ok)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 &&
		    (now.tv_sec > end.tv_sec ||
		     (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
			return false;
		/* Reports broadcast the condition; poll as a fallback. */
		pthread_mutex_lock(&v->lock);
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&v->cond, &v->lock, &ts);
		}
		pthread_mutex_unlock(&v->lock);
	}
}

/*
 * Teardown, the normal shutdown sequence, for a VM in any state: the vCPU
 * threads leave; the VM's removals (encrypted region, memslot) go through
 * sevmig_vm_teardown_ioctl(), which passes them through on a live VM and,
 * on one that was sent, moved or died, takes KVM's EIO for the removals it
 * knows to be done anyway; then the vCPUs and the VM descriptor close, the
 * handle's life ends (sevmig_vm_teardown(): it forgets RAM and vCPUs, and
 * the handle is DEAD) and the memory goes.
 */
void vmm_destroy(struct vmm *v)
{
	pthread_mutex_lock(&v->lock);
	v->quit = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		if (v->vcpus[i].run)
			__atomic_store_n(&v->vcpus[i].run->immediate_exit, 1,
					 __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < DEMO_MAX_VCPUS; i++) {
		struct vcpu *c = &v->vcpus[i];

		if (c->thread_started) {
			pthread_kill(c->thread, SIGUSR1);
			pthread_join(c->thread, NULL);
			c->thread_started = false;
		}
	}
	if (v->vm && v->vm_fd >= 0) {
		struct kvm_enc_region reg = {
			.addr = (uint64_t)(uintptr_t)v->ram,
			.size = v->lay.ram_size,
		};
		struct kvm_userspace_memory_region del = {
			.slot = 0,
			.userspace_addr = (uint64_t)(uintptr_t)v->ram,
		};
		int r;

		if (v->ram_registered) {
			r = sevmig_vm_teardown_ioctl(v->vm, v->vm_fd,
					KVM_MEMORY_ENCRYPT_UNREG_REGION, &reg,
					0);
			if (r < 0)
				vmm_note(v, "error", "teardown: unregistering "
					 "guest RAM: %s", sevmig_strerror(r));
		}
		if (v->ram_slot) {
			r = sevmig_vm_teardown_ioctl(v->vm, v->vm_fd,
					KVM_SET_USER_MEMORY_REGION, &del, 0);
			if (r < 0)
				vmm_note(v, "error", "teardown: deleting the "
					 "memory slot: %s", sevmig_strerror(r));
		}
	}
	for (unsigned i = 0; i < DEMO_MAX_VCPUS; i++) {
		struct vcpu *c = &v->vcpus[i];

		if (c->run)
			v->sys.munmap(v->sys.opaque, c->run, c->run_size);
		c->run = NULL;
		if (c->fd >= 0)
			v->sys.close(v->sys.opaque, c->fd);
		c->fd = -1;
		c->registered = false;
	}
	v->nr_vcpus = 0;
	if (v->vm_fd >= 0)
		v->sys.close(v->sys.opaque, v->vm_fd);
	v->vm_fd = -1;
	if (v->vm) {
		int r = sevmig_vm_teardown(v->vm, 0);

		if (r)
			vmm_note(v, "error", "sevmig_vm_teardown: %s",
				 sevmig_strerror(r));
		sevmig_vm_free(v->vm);
	}
	v->vm = NULL;
	if (v->ram)
		munmap(v->ram, v->lay.ram_size);
	v->ram = NULL;
	free(v->cpuid);
	v->cpuid = NULL;
	platform_close(v);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
}
