/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the simulator's tests: one struct per simulated host (its ops
 * table and open /dev/kvm and /dev/sev fds) and thin wrappers around the
 * SEV ioctls, all going through the host's ops table as a VMM would.
 */
#ifndef SEVMIG_SIM_TEST_H
#define SEVMIG_SIM_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sevmig/sim.h>

#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

struct th {
	struct sevmig_sim_host *host;   /* NULL for the real kernel */
	struct sevmig_sys_ops ops;
	int kvm;
	int sev;
};

/* The simulator mode named by argv[1] ("memory" default, "kvm"); exits 77
 * when "kvm" is asked and /dev/kvm is missing. */
uint32_t th_mode_from_args(int argc, char **argv);
/* A world in @mode (aborts the test on failure). */
struct sevmig_sim *th_world(uint32_t mode);
/* A host of @sim with its ops and /dev/kvm + /dev/sev (O_RDWR) open. */
void th_open(struct th *h, struct sevmig_sim *sim,
	     const struct sevmig_sim_host_opts *opts);
/* The real kernel: returns false when /dev/kvm or /dev/sev is missing. */
bool th_open_real(struct th *h);
void th_close(struct th *h);

int th_ioctl(struct th *h, int fd, unsigned long req, void *arg);
int th_ioctl_val(struct th *h, int fd, unsigned long req, unsigned long v);
/* SEV_ISSUE_CMD on @sev_fd; *err gets the error field. */
int th_sev(struct th *h, int sev_fd, uint32_t cmd, void *data, uint32_t *err);
/* KVM_MEMORY_ENCRYPT_OP on @vm with h->sev as sev_fd; *err = error. */
int th_op(struct th *h, int vm, uint32_t id, void *data, uint32_t *err);
int th_op_fd(struct th *h, int vm, uint32_t id, void *data, int sev_fd,
	     uint32_t *err);
int th_vm(struct th *h, uint32_t type);        /* KVM_CREATE_VM, asserts */
int th_vcpu(struct th *h, int vm, unsigned id); /* KVM_CREATE_VCPU, asserts */
/* INIT + LAUNCH_START(policy) + UPDATE_DATA(mem) + MEASURE + FINISH. */
void th_launch(struct th *h, int vm, uint32_t policy, void *mem, size_t len);
/* GUEST_STATUS state (asserts success). */
uint32_t th_state(struct th *h, int vm);
/* PDH and chain of @h via PDH_CERT_EXPORT (asserts). */
void th_export(struct th *h, uint8_t pdh[SEVMIG_SEV_CERT_LEN],
	       uint8_t chain[SEVMIG_PLAT_CHAIN_LEN]);

/* SEND_START from @src's @vm to a target described by its certs. */
int th_send_start(struct th *src, int vm, const uint8_t *pdh,
		  const uint8_t *chain, const uint8_t *amd, uint32_t amd_len,
		  uint8_t session[SEVMIG_SESSION_LEN], uint32_t *err);
int th_receive_start(struct th *dst, int vm, uint32_t policy,
		     const uint8_t *src_pdh, const uint8_t *session,
		     uint32_t *err);
/* One page (or part): SEND_UPDATE_DATA / RECEIVE_UPDATE_DATA. */
int th_send_page(struct th *h, int vm, const void *gva, uint32_t len,
		 uint8_t hdr[SEVMIG_PACKET_HDR_LEN], uint8_t *trans,
		 uint32_t *err);
int th_recv_page(struct th *h, int vm, void *gva, uint32_t len,
		 const uint8_t *hdr, const uint8_t *trans, uint32_t *err);
/* Page-aligned anonymous memory, n pages. */
void *th_pages(size_t n);
void th_free_pages(void *p, size_t n);

#endif /* SEVMIG_SIM_TEST_H */
