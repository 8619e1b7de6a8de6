/* SPDX-License-Identifier: MIT */
/*
 * demo-vmm: a small VMM on /dev/kvm that live-migrates a running guest
 * between two processes with libsevmig. Read docs/demo.md first; the files:
 *
 *   main.c     command line and the three roles (demo, source, incoming)
 *   platform.c where SEV comes from: real /dev/sev or libsevmig-sim, and
 *              the guest launch (LAUNCH_START ... LAUNCH_FINISH)
 *   vm.c       the VM: memory, page tables, negotiation, vCPU threads, the
 *              exits and the demo's devices, stopping and resuming
 *   state.c    the VMM's own records: vCPU registers and device state
 *   migrate.c  the libsevmig send and receive sessions over TCP
 *   ui.c       progress display, summary, JSON, event lines
 */
#ifndef DEMO_VMM_H
#define DEMO_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <sevmig/sevmig.h>
#include <sevmig/migration.h>

#include "demo-abi.h"

/* struct demo_config.sev */
#define DEMO_SEV_AUTO	0u
#define DEMO_SEV_SIM	1u	/* libsevmig-sim: real KVM, emulated PSP */
#define DEMO_SEV_REAL	2u	/* /dev/sev and SEV in KVM */

/* struct demo_config.hypercall */
#define DEMO_HYPERCALL_AUTO	0u

/* What both ends of a migration must agree on (the guest's shape). */
struct demo_config {
	uint32_t mem_mib;	/* guest RAM */
	uint32_t vcpus;
	uint32_t dirty_rate;	/* pages per second, whole guest */
	uint32_t tick_us;	/* guest loop iteration */
	uint32_t report_ms;	/* guest heartbeat period */
	uint32_t shared_pages;	/* shared window per vCPU */
	uint32_t shared_ms;	/* window moves after this long */
	uint32_t psp_latency_us; /* simulator: per PSP command */
	uint32_t sev;		/* DEMO_SEV_* */
	uint32_t hypercall;	/* DEMO_HYPERCALL_AUTO, DEMO_HC_* */
	uint32_t policy;	/* SEV guest policy */
	uint32_t host_policy;	/* SEVMIG_HOST_POLICY_* */
};

/* Where things are in guest memory, computed from the config alone. */
struct demo_layout {
	uint64_t ram_size;
	uint64_t pt_pages;	/* PML4, PDPT, PDs, PTs from DEMO_PT_GPA */
	uint64_t pte_gpa;	/* first PT */
	uint64_t launch_end;	/* measured at launch: [0, launch_end) */
	struct demo_region region[DEMO_MAX_VCPUS];
};

/* What the guest told the VMM about one vCPU (its reports). */
struct guest_view {
	uint32_t boot_flags;
	uint32_t features;
	bool booted;
	uint64_t seq;		/* last report sequence number seen */
	uint64_t seq_first;	/* first seen by this process (0: none) */
	uint64_t seq_errors;	/* reports out of sequence */
	uint64_t heartbeats;
	uint64_t writes;
	uint64_t conversions;
	uint64_t shared_now;
	uint64_t max_gap_us;	/* largest heartbeat gap seen here */
	/* The last CHECK report. */
	bool have_check;
	uint64_t check_gen;
	uint64_t check_pages;
	uint64_t check_failures;
	uint64_t check_gap_us;
	uint64_t heartbeats_after_check;
	uint64_t errors;	/* DEMO_REP_ERROR reports */
	/* A guest exception or triple fault (the vCPU stopped). */
	bool crashed;
	char crash[128];
};

struct vmm;

struct vcpu {
	struct vmm *vmm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	bool registered;	/* with sevmig_vm_vcpu_add() */
	/* Device state (migrates in the devices record). */
	int64_t doorbell_ret;
	/* Guarded by vmm->lock. */
	struct guest_view gv;
	bool halted;
};

/* Callbacks for what the VMM observes (ui.c implements them). */
struct vmm_events {
	void (*report)(void *opaque, struct vcpu *c, uint32_t kind);
	void (*note)(void *opaque, const char *what, const char *detail);
	void *opaque;
};

struct vmm {
	struct demo_config cfg;
	struct demo_layout lay;
	bool incoming;		/* a migration destination */

	/* Where every KVM and SEV system call goes (real or simulated). */
	struct sevmig_sys_ops sys;
	struct sevmig_sim *sim;		/* NULL on a real SEV host */
	struct sevmig_sim_host *sim_host;
	uint32_t sev;			/* DEMO_SEV_SIM or DEMO_SEV_REAL */
	struct sevmig_ctx *ctx;
	struct sevmig_platform *platform;
	int kvm_fd;
	int vm_fd;

	struct sevmig_vm *vm;
	uint8_t *ram;
	struct kvm_cpuid2 *cpuid;
	uint64_t c_bit;
	uint32_t phys_bits;
	uint32_t hc_mode;		/* DEMO_HC_* */
	uint32_t tsc_khz;
	bool offered;			/* CPUID bits 16/17 offered */
	bool dirty_log;			/* slot 0 logs dirty pages */
	bool ram_slot;			/* slot 0 exists */
	bool ram_registered;		/* KVM_MEMORY_ENCRYPT_REG_REGION */
	bool doorbell_used;
	bool expect_refusal;		/* a library error we provoke */

	struct vcpu vcpus[DEMO_MAX_VCPUS];
	unsigned nr_vcpus;

	/* Run control: vCPU threads park while pause_req is set. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req;
	bool quit;
	unsigned parked;
	unsigned running;		/* threads alive */
	uint64_t gen;			/* device state: GEN port */

	struct vmm_events ev;
	const char *amd_chain_path;	/* real SEV: ASK||ARK file */
};

/* platform.c */
int platform_open(struct vmm *v, bool incoming);
void platform_close(struct vmm *v);
int platform_sev_init(struct vmm *v);
int platform_launch(struct vmm *v);
int platform_amd_chain(struct vmm *v, void **ret_chain, size_t *ret_len);
int platform_export_ark(struct vmm *v, const char *path);
void *platform_read_file(const char *path, size_t max, size_t *ret_len);
int platform_register_ram(struct vmm *v);
const char *platform_describe(const struct vmm *v);

/* vm.c */
int layout_compute(const struct demo_config *cfg, struct demo_layout *lay,
		   char *why, size_t why_len);
int vmm_create(struct vmm *v, const struct demo_config *cfg, bool incoming,
	       const struct vmm_events *ev);
int vmm_boot(struct vmm *v);
int vmm_create_vcpus(struct vmm *v);
int vmm_start(struct vmm *v);
int vmm_stop(struct vmm *v);
int vmm_resume(struct vmm *v);
void vmm_destroy(struct vmm *v);
int vmm_set_dirty_log(struct vmm *v, bool on);
int vmm_ioctl(struct vmm *v, int fd, unsigned long req, void *arg);
void vmm_snapshot_views(struct vmm *v, struct guest_view *out);
bool vmm_wait(struct vmm *v, bool (*done)(struct vmm *v, void *arg),
	      void *arg, int timeout_ms);
void vmm_note(struct vmm *v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* state.c: the VMM's records (types SEVMIG_RECORD_VMM_FIRST + n). */
#define DEMO_REC_CONFIG		(SEVMIG_RECORD_VMM_FIRST + 0)
#define DEMO_REC_VCPU		(SEVMIG_RECORD_VMM_FIRST + 1)
#define DEMO_REC_DEVICES	(SEVMIG_RECORD_VMM_FIRST + 2)

/* What a destination collects from the stream before it may apply it. */
struct demo_incoming_state;
struct demo_incoming_state *state_incoming_new(void);
void state_incoming_free(struct demo_incoming_state *s);
int state_record(struct demo_incoming_state *s, struct vmm *v,
		 uint32_t type, const void *buf, size_t len, char *why,
		 size_t why_len);
int state_complete(const struct demo_incoming_state *s, const struct vmm *v,
		   char *why, size_t why_len);
int state_apply(struct vmm *v, const struct demo_incoming_state *s);
/* Save the stopped VM's records; emit() is sevmig_send_record() or a test. */
int state_save(struct vmm *v,
	       int (*emit)(void *opaque, uint32_t type, const void *buf,
			   size_t len),
	       void *opaque);
uint64_t state_last_seq(const struct demo_incoming_state *s, unsigned vcpu);
uint64_t state_stop_ns(const struct demo_incoming_state *s);

/* migrate.c */
struct demo_mig_result {
	int error;			/* 0 or negative errno */
	char message[256];
	struct sevmig_mig_stats stats;
	uint64_t passes;
	uint64_t vm_state_after;	/* source: SEVMIG_VM_* after the end */
	int resume_after;		/* source: sevmig_vm_resume() after SENT */
	uint64_t stop_ns;		/* source: vCPUs stopped to commit done */
};

struct demo_mig_opts {
	uint32_t max_passes;
	uint32_t min_passes;
	uint32_t downtime_ms;		/* pre-copy ends below this estimate */
	uint32_t pass_interval_ms;	/* pause between the first passes */
	const char *target;		/* host:port */
	void (*progress)(void *opaque, const struct sevmig_mig_stats *st,
			 const struct sevmig_pass_info *pass);
	void *opaque;
};

int migrate_trust_ark(struct vmm *v, const char *path);
int migrate_send(struct vmm *v, const struct demo_mig_opts *o,
		 struct demo_mig_result *res);
int migrate_receive(struct vmm *v, int listen_fd, int timeout_ms,
		    const struct demo_mig_opts *o, struct demo_mig_result *res,
		    struct demo_incoming_state **ret_state);

/* net.c */
int net_listen(const char *addr, int *ret_port, char *why, size_t why_len);
int net_accept(int fd, int timeout_ms);
int net_connect(const char *addr, char *why, size_t why_len);

#endif /* DEMO_VMM_H */
