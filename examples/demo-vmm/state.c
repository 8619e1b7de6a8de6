// SPDX-License-Identifier: MIT
/*
 * The VMM's own state, carried as its own records in the libsevmig stream
 * (sevmig_send_record() on the source, the record callback on the
 * destination): the VM's shape, every vCPU's registers, and the demo's
 * device state. libsevmig frames, checksums and orders them; it does not
 * look inside. The destination treats every byte as untrusted: it checks
 * sizes, versions and numbers, and loads the registers into its vCPUs while
 * the stream is still open, so a record the kernel refuses aborts the
 * migration before the destination acknowledges it (after that the source
 * is gone). Both ends are the same program on x86-64, so the records are
 * the kernel's structures as they are.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

#define STATE_VERSION 1u

/* MSRs the guest may have changed, besides EFER (in sregs). TSC last. */
static const uint32_t saved_msrs[] = {
	0x174, 0x175, 0x176,		/* SYSENTER_CS, _ESP, _EIP */
	0xc0000081, 0xc0000082,		/* STAR, LSTAR */
	0xc0000083, 0xc0000084,		/* CSTAR, SYSCALL_MASK */
	0xc0000102,			/* KERNEL_GS_BASE */
	0x277,				/* PAT */
	0x10,				/* TSC */
};
#define NR_MSRS (sizeof(saved_msrs) / sizeof(saved_msrs[0]))
#define MSR_TSC_SLOT (NR_MSRS - 1)

struct config_rec {
	uint32_t version;
	uint32_t mem_mib;
	uint32_t vcpus;
	uint32_t sev;		/* DEMO_SEV_*: a simulated guest has no C-bit */
	uint64_t c_bit;
};

struct vcpu_rec {
	uint32_t version;
	uint32_t id;
	uint32_t has_xsave;	/* xsave (else fpu) holds the FPU state */
	uint32_t nmsrs;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_msr_entry msrs[NR_MSRS];
	struct kvm_fpu fpu;
	uint32_t xsave[1024];	/* struct kvm_xsave */
};

struct devices_rec {
	uint32_t version;
	uint32_t nr_vcpus;
	uint64_t gen;		/* the GEN port */
	uint64_t tsc_khz;
	uint64_t stop_ns;	/* CLOCK_REALTIME when the vCPUs stopped */
	struct {
		int64_t doorbell_ret;	/* the doorbell's answer latch */
		uint64_t report_seq;	/* last report sequence number */
	} vcpu[DEMO_MAX_VCPUS];
};

struct demo_incoming_state {
	bool have_config;
	bool have_devices;
	uint32_t vcpus_seen;	/* bit per vCPU */
	struct devices_rec dev;
	uint64_t tsc[DEMO_MAX_VCPUS];
};

/* struct kvm_msrs with room for our entries. */
struct msrs_buf {
	uint32_t nmsrs;
	uint32_t pad;
	struct kvm_msr_entry e[NR_MSRS];
};
_Static_assert(offsetof(struct kvm_msrs, entries) ==
	       offsetof(struct msrs_buf, e), "kvm_msrs layout");

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------- save */

static int save_vcpu(struct vmm *v, struct vcpu *c, struct vcpu_rec *r)
{
	struct msrs_buf m;
	int ret;

	memset(r, 0, sizeof(*r));
	r->version = STATE_VERSION;
	r->id = c->id;
	ret = vmm_ioctl(v, c->fd, KVM_GET_REGS, &r->regs);
	if (!ret)
		ret = vmm_ioctl(v, c->fd, KVM_GET_SREGS, &r->sregs);
	if (!ret)
		ret = vmm_ioctl(v, c->fd, KVM_GET_VCPU_EVENTS, &r->events);
	if (ret)
		return ret;
	if (vmm_ioctl(v, c->fd, KVM_GET_XSAVE, r->xsave) == 0) {
		r->has_xsave = 1;
	} else {
		ret = vmm_ioctl(v, c->fd, KVM_GET_FPU, &r->fpu);
		if (ret)
			return ret;
	}
	memset(&m, 0, sizeof(m));
	m.nmsrs = NR_MSRS;
	for (unsigned i = 0; i < NR_MSRS; i++)
		m.e[i].index = saved_msrs[i];
	ret = vmm_ioctl(v, c->fd, KVM_GET_MSRS, &m);
	if (ret < 0)
		return ret;
	if ((unsigned)ret != NR_MSRS)
		return -EIO;	/* KVM_GET_MSRS stops at the first it lacks */
	memcpy(r->msrs, m.e, sizeof(r->msrs));
	r->nmsrs = NR_MSRS;
	return 0;
}

int state_save(struct vmm *v,
	       int (*emit)(void *opaque, uint32_t type, const void *buf,
			   size_t len),
	       void *opaque)
{
	struct config_rec cfg = {
		.version = STATE_VERSION,
		.mem_mib = v->cfg.mem_mib,
		.vcpus = v->nr_vcpus,
		.sev = v->sev,
		.c_bit = v->c_bit,
	};
	struct devices_rec dev;
	struct vcpu_rec *r;
	int ret;

	ret = emit(opaque, DEMO_REC_CONFIG, &cfg, sizeof(cfg));
	if (ret)
		return ret;
	memset(&dev, 0, sizeof(dev));
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	dev.stop_ns = realtime_ns();
	for (unsigned i = 0; i < v->nr_vcpus && !ret; i++) {
		ret = save_vcpu(v, &v->vcpus[i], r);
		if (ret) {
			vmm_note(v, "error", "saving vCPU %u: %s", i,
				 strerror(-ret));
			break;
		}
		ret = emit(opaque, DEMO_REC_VCPU, r, sizeof(*r));
	}
	free(r);
	if (ret)
		return ret;
	/* Last: it tells the destination that the state is complete. */
	dev.version = STATE_VERSION;
	dev.nr_vcpus = v->nr_vcpus;
	dev.gen = v->gen;
	dev.tsc_khz = v->tsc_khz;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		dev.vcpu[i].doorbell_ret = v->vcpus[i].doorbell_ret;
		dev.vcpu[i].report_seq = v->vcpus[i].gv.seq;
	}
	pthread_mutex_unlock(&v->lock);
	return emit(opaque, DEMO_REC_DEVICES, &dev, sizeof(dev));
}

/* ---------------------------------------------------------- receive */

struct demo_incoming_state *state_incoming_new(void)
{
	return calloc(1, sizeof(struct demo_incoming_state));
}

void state_incoming_free(struct demo_incoming_state *s)
{
	free(s);
}

uint64_t state_last_seq(const struct demo_incoming_state *s, unsigned vcpu)
{
	return vcpu < DEMO_MAX_VCPUS ? s->dev.vcpu[vcpu].report_seq : 0;
}

#define REFUSE(...)						\
	do {							\
		snprintf(why, why_len, __VA_ARGS__);		\
		return -EPROTO;					\
	} while (0)

/* Load one vCPU's registers; the kernel validates what it is given. */
static int load_vcpu(struct vmm *v, const struct vcpu_rec *r, char *why,
		     size_t why_len)
{
	struct vcpu *c = &v->vcpus[r->id];
	struct msrs_buf m;
	int ret;

	ret = vmm_ioctl(v, c->fd, KVM_SET_SREGS, (void *)&r->sregs);
	if (ret)
		REFUSE("vCPU %u: KVM_SET_SREGS refused the segment and "
		       "control registers (%s)", r->id, strerror(-ret));
	ret = vmm_ioctl(v, c->fd, KVM_SET_REGS, (void *)&r->regs);
	if (ret)
		REFUSE("vCPU %u: KVM_SET_REGS: %s", r->id, strerror(-ret));
	if (r->has_xsave)
		ret = vmm_ioctl(v, c->fd, KVM_SET_XSAVE, (void *)r->xsave);
	else
		ret = vmm_ioctl(v, c->fd, KVM_SET_FPU, (void *)&r->fpu);
	if (ret)
		REFUSE("vCPU %u: FPU state refused (%s)", r->id,
		       strerror(-ret));
	ret = vmm_ioctl(v, c->fd, KVM_SET_VCPU_EVENTS, (void *)&r->events);
	if (ret)
		REFUSE("vCPU %u: KVM_SET_VCPU_EVENTS: %s", r->id,
		       strerror(-ret));
	/* Everything but the TSC now; the TSC when the guest resumes. */
	memset(&m, 0, sizeof(m));
	m.nmsrs = MSR_TSC_SLOT;
	memcpy(m.e, r->msrs, MSR_TSC_SLOT * sizeof(m.e[0]));
	ret = vmm_ioctl(v, c->fd, KVM_SET_MSRS, &m);
	if (ret != (int)MSR_TSC_SLOT)
		REFUSE("vCPU %u: KVM_SET_MSRS took %d of %u MSRs", r->id, ret,
		       (unsigned)MSR_TSC_SLOT);
	return 0;
}

int state_record(struct demo_incoming_state *s, struct vmm *v, uint32_t type,
		 const void *buf, size_t len, char *why, size_t why_len)
{
	switch (type) {
	case DEMO_REC_CONFIG: {
		struct config_rec c;

		if (len != sizeof(c))
			REFUSE("config record: %zu bytes, expected %zu", len,
			       sizeof(c));
		memcpy(&c, buf, sizeof(c));
		if (c.version != STATE_VERSION)
			REFUSE("config record version %u (this VMM: %u)",
			       c.version, STATE_VERSION);
		if (s->have_config)
			REFUSE("config record twice");
		if (c.mem_mib != v->cfg.mem_mib || c.vcpus != v->cfg.vcpus)
			REFUSE("the source's guest has %u MiB and %u vCPUs, "
			       "this destination %u MiB and %u vCPUs",
			       c.mem_mib, c.vcpus, v->cfg.mem_mib,
			       v->cfg.vcpus);
		if (c.sev != v->sev || c.c_bit != v->c_bit)
			REFUSE("the source runs %s SEV, this host %s",
			       c.sev == DEMO_SEV_REAL ? "real" : "simulated",
			       v->sev == DEMO_SEV_REAL ? "real" : "simulated");
		s->have_config = true;
		return 0;
	}
	case DEMO_REC_VCPU: {
		struct vcpu_rec *r;
		int ret;

		if (len != sizeof(*r))
			REFUSE("vCPU record: %zu bytes, expected %zu", len,
			       sizeof(*r));
		if (!s->have_config)
			REFUSE("vCPU record before the config record");
		r = malloc(sizeof(*r));
		if (!r)
			return -ENOMEM;
		memcpy(r, buf, sizeof(*r));
		ret = -EPROTO;
		if (r->version != STATE_VERSION)
			snprintf(why, why_len, "vCPU record version %u",
				 r->version);
		else if (r->id >= v->cfg.vcpus)
			snprintf(why, why_len, "vCPU record for vCPU %u of %u",
				 r->id, v->cfg.vcpus);
		else if (s->vcpus_seen & (1u << r->id))
			snprintf(why, why_len, "vCPU %u sent twice", r->id);
		else if (r->nmsrs != NR_MSRS || r->has_xsave > 1)
			snprintf(why, why_len, "vCPU %u: malformed record",
				 r->id);
		else
			ret = 0;
		for (unsigned i = 0; !ret && i < NR_MSRS; i++)
			if (r->msrs[i].index != saved_msrs[i]) {
				snprintf(why, why_len, "vCPU %u: MSR %u is "
					 "0x%x", r->id, i, r->msrs[i].index);
				ret = -EPROTO;
			}
		/* The vCPUs exist once the session issued KVM_SEV_INIT. */
		if (!ret && !v->nr_vcpus) {
			ret = vmm_create_vcpus(v);
			if (ret)
				snprintf(why, why_len, "creating vCPUs: %s",
					 strerror(-ret));
		}
		if (!ret)
			ret = load_vcpu(v, r, why, why_len);
		if (!ret) {
			s->vcpus_seen |= 1u << r->id;
			s->tsc[r->id] = r->msrs[MSR_TSC_SLOT].data;
		}
		free(r);
		return ret;
	}
	case DEMO_REC_DEVICES: {
		struct devices_rec d;

		if (len != sizeof(d))
			REFUSE("devices record: %zu bytes, expected %zu", len,
			       sizeof(d));
		memcpy(&d, buf, sizeof(d));
		if (d.version != STATE_VERSION)
			REFUSE("devices record version %u", d.version);
		if (s->have_devices)
			REFUSE("devices record twice");
		if (d.nr_vcpus != v->cfg.vcpus)
			REFUSE("devices record for %u vCPUs", d.nr_vcpus);
		/* The devices record comes last: everything else is here. */
		if (!s->have_config ||
		    s->vcpus_seen != (1u << v->cfg.vcpus) - 1)
			REFUSE("the source's state is incomplete (vCPUs seen: "
			       "0x%x)", s->vcpus_seen);
		if (d.gen >= 0xffffffffull || !d.tsc_khz ||
		    d.tsc_khz > 100000000ull)
			REFUSE("devices record: generation %llu, TSC %llu kHz",
			       (unsigned long long)d.gen,
			       (unsigned long long)d.tsc_khz);
		s->dev = d;
		s->have_devices = true;
		return 0;
	}
	default:
		REFUSE("unknown VMM record type 0x%x", type);
	}
}

int state_complete(const struct demo_incoming_state *s, const struct vmm *v,
		   char *why, size_t why_len)
{
	if (!s->have_config || !s->have_devices ||
	    s->vcpus_seen != (1u << v->cfg.vcpus) - 1)
		REFUSE("the source's VMM state did not arrive complete");
	return 0;
}

/*
 * After the commit: the TSC moves on by the time the guest was stopped
 * (so the guest sees its downtime as time that passed, as it did), the
 * devices get their state, and the migration generation goes up by one.
 */
int state_apply(struct vmm *v, const struct demo_incoming_state *s)
{
	uint64_t now = realtime_ns(), delta = 0;
	int ret;

	if (now > s->dev.stop_ns)
		delta = (now - s->dev.stop_ns) / 1000 * s->dev.tsc_khz / 1000;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct msrs_buf m;

		memset(&m, 0, sizeof(m));
		m.nmsrs = 1;
		m.e[0].index = saved_msrs[MSR_TSC_SLOT];
		m.e[0].data = s->tsc[i] + delta;
		ret = vmm_ioctl(v, v->vcpus[i].fd, KVM_SET_MSRS, &m);
		if (ret != 1) {
			vmm_note(v, "error", "vCPU %u: setting the TSC: %d", i,
				 ret);
			return ret < 0 ? ret : -EIO;
		}
	}
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->gen, s->dev.gen + 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		v->vcpus[i].doorbell_ret = s->dev.vcpu[i].doorbell_ret;
		/* Reports here must continue exactly where the source's
		 * stopped. */
		v->vcpus[i].gv.seq = s->dev.vcpu[i].report_seq;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

uint64_t state_stop_ns(const struct demo_incoming_state *s)
{
	return s->dev.stop_ns;
}
