// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

uint32_t th_mode_from_args(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "kvm")) {
		if (access("/dev/kvm", R_OK | W_OK)) {
			fprintf(stderr, "no usable /dev/kvm: skipping KVM mode\n");
			exit(TEST_SKIP);
		}
		return SEVMIG_SIM_MODE_KVM;
	}
	return SEVMIG_SIM_MODE_MEMORY;
}

struct sevmig_sim *th_world(uint32_t mode)
{
	struct sevmig_sim_opts o = { .size = sizeof(o), .mode = mode };
	struct sevmig_sim *sim = NULL;

	assert_int_equal(sevmig_sim_new(&o, &sim), 0);
	assert_int_equal(sevmig_sim_mode(sim), mode);
	return sim;
}

void th_open(struct th *h, struct sevmig_sim *sim,
	     const struct sevmig_sim_host_opts *opts)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(sevmig_sim_host_new(sim, opts, &h->host), 0);
	h->ops.size = sizeof(h->ops);
	assert_int_equal(sevmig_sim_host_sys_ops(h->host, &h->ops), 0);
	h->kvm = h->ops.open(h->ops.opaque, "/dev/kvm", O_RDWR | O_CLOEXEC);
	assert_true(h->kvm >= 0);
	h->sev = h->ops.open(h->ops.opaque, "/dev/sev", O_RDWR | O_CLOEXEC);
	assert_true(h->sev >= 0);
}

bool th_open_real(struct th *h)
{
	memset(h, 0, sizeof(*h));
	h->ops = *sevmig_sys_default();
	h->kvm = h->ops.open(NULL, "/dev/kvm", O_RDWR | O_CLOEXEC);
	h->sev = h->ops.open(NULL, "/dev/sev", O_RDWR | O_CLOEXEC);
	if (h->kvm < 0 || h->sev < 0) {
		th_close(h);
		return false;
	}
	return true;
}

void th_close(struct th *h)
{
	if (h->sev >= 0)
		h->ops.close(h->ops.opaque, h->sev);
	if (h->kvm >= 0)
		h->ops.close(h->ops.opaque, h->kvm);
	h->sev = h->kvm = -1;
	if (h->host)
		sevmig_sim_host_free(h->host);
	h->host = NULL;
}

int th_ioctl(struct th *h, int fd, unsigned long req, void *arg)
{
	return h->ops.ioctl(h->ops.opaque, fd, req, arg);
}

int th_ioctl_val(struct th *h, int fd, unsigned long req, unsigned long v)
{
	return h->ops.ioctl(h->ops.opaque, fd, req, (void *)(uintptr_t)v);
}

int th_sev(struct th *h, int sev_fd, uint32_t cmd, void *data, uint32_t *err)
{
	struct sev_issue_cmd c = { .cmd = cmd,
					  .data = (uint64_t)(uintptr_t)data };
	int ret = th_ioctl(h, sev_fd, SEV_ISSUE_CMD, &c);

	if (err)
		*err = c.error;
	return ret;
}

int th_op_fd(struct th *h, int vm, uint32_t id, void *data, int sev_fd,
	     uint32_t *err)
{
	struct kvm_sev_cmd c = { .id = id,
					.data = (uint64_t)(uintptr_t)data,
					.sev_fd = (uint32_t)sev_fd };
	int ret = th_ioctl(h, vm, KVM_MEMORY_ENCRYPT_OP, &c);

	if (err)
		*err = c.error;
	return ret;
}

int th_op(struct th *h, int vm, uint32_t id, void *data, uint32_t *err)
{
	return th_op_fd(h, vm, id, data, h->sev, err);
}

int th_vm(struct th *h, uint32_t type)
{
	int vm = th_ioctl_val(h, h->kvm, KVM_CREATE_VM, type);

	assert_true(vm >= 0);
	return vm;
}

int th_vcpu(struct th *h, int vm, unsigned id)
{
	int fd = th_ioctl_val(h, vm, KVM_CREATE_VCPU, id);

	assert_true(fd >= 0);
	return fd;
}

void th_launch(struct th *h, int vm, uint32_t policy, void *mem, size_t len)
{
	struct kvm_sev_launch_start ls = { .policy = policy };
	struct { uint64_t uaddr; uint32_t len, pad; } ud = {
		(uint64_t)(uintptr_t)mem, (uint32_t)len, 0 };
	uint8_t meas[48];
	uint32_t err = 0;

	assert_int_equal(th_op(h, vm, KVM_SEV_INIT, NULL, &err), 0);
	assert_int_equal(th_op(h, vm, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	assert_true(ls.handle != 0);
	if (mem && len)
		assert_int_equal(th_op(h, vm, KVM_SEV_LAUNCH_UPDATE_DATA,
				       &ud, &err), 0);
	ud.uaddr = (uint64_t)(uintptr_t)meas;
	ud.len = sizeof(meas);
	assert_int_equal(th_op(h, vm, KVM_SEV_LAUNCH_MEASURE, &ud, &err),
			 0);
	assert_int_equal(th_op(h, vm, KVM_SEV_LAUNCH_FINISH, NULL, &err),
			 0);
	assert_int_equal(th_state(h, vm), SEV_GSTATE_RUNNING);
}

uint32_t th_state(struct th *h, int vm)
{
	struct kvm_sev_guest_status st = { 0 };
	uint32_t err = 0;

	assert_int_equal(th_op(h, vm, KVM_SEV_GUEST_STATUS, &st, &err), 0);
	return st.state;
}

void th_export(struct th *h, uint8_t pdh[SEVMIG_SEV_CERT_LEN],
	       uint8_t chain[SEVMIG_PLAT_CHAIN_LEN])
{
	struct sev_user_data_pdh_cert_export e = {
		.pdh_cert_address = (uint64_t)(uintptr_t)pdh,
		.pdh_cert_len = SEVMIG_SEV_CERT_LEN,
		.cert_chain_address = (uint64_t)(uintptr_t)chain,
		.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN,
	};
	uint32_t err = 0;

	assert_int_equal(th_sev(h, h->sev, SEV_PDH_CERT_EXPORT, &e, &err),
			 0);
}

int th_send_start(struct th *src, int vm, const uint8_t *pdh,
		  const uint8_t *chain, const uint8_t *amd, uint32_t amd_len,
		  uint8_t session[SEVMIG_SESSION_LEN], uint32_t *err)
{
	struct kvm_sev_send_start s = {
		.pdh_cert_uaddr = (uint64_t)(uintptr_t)pdh,
		.pdh_cert_len = SEVMIG_SEV_CERT_LEN,
		.plat_certs_uaddr = (uint64_t)(uintptr_t)chain,
		.plat_certs_len = SEVMIG_PLAT_CHAIN_LEN,
		.amd_certs_uaddr = (uint64_t)(uintptr_t)amd,
		.amd_certs_len = amd_len,
		.session_uaddr = (uint64_t)(uintptr_t)session,
		.session_len = SEVMIG_SESSION_LEN,
	};

	return th_op(src, vm, KVM_SEV_SEND_START, &s, err);
}

int th_receive_start(struct th *dst, int vm, uint32_t policy,
		     const uint8_t *src_pdh, const uint8_t *session,
		     uint32_t *err)
{
	struct kvm_sev_receive_start r = {
		.policy = policy,
		.pdh_uaddr = (uint64_t)(uintptr_t)src_pdh,
		.pdh_len = SEVMIG_SEV_CERT_LEN,
		.session_uaddr = (uint64_t)(uintptr_t)session,
		.session_len = SEVMIG_SESSION_LEN,
	};

	return th_op(dst, vm, KVM_SEV_RECEIVE_START, &r, err);
}

int th_send_page(struct th *h, int vm, const void *gva, uint32_t len,
		 uint8_t hdr[SEVMIG_PACKET_HDR_LEN], uint8_t *trans,
		 uint32_t *err)
{
	struct kvm_sev_send_update_data d = {
		.hdr_uaddr = (uint64_t)(uintptr_t)hdr,
		.hdr_len = SEVMIG_PACKET_HDR_LEN,
		.guest_uaddr = (uint64_t)(uintptr_t)gva,
		.guest_len = len,
		.trans_uaddr = (uint64_t)(uintptr_t)trans,
		.trans_len = len,
	};

	return th_op(h, vm, KVM_SEV_SEND_UPDATE_DATA, &d, err);
}

int th_recv_page(struct th *h, int vm, void *gva, uint32_t len,
		 const uint8_t *hdr, const uint8_t *trans, uint32_t *err)
{
	struct kvm_sev_send_update_data d = {
		.hdr_uaddr = (uint64_t)(uintptr_t)hdr,
		.hdr_len = SEVMIG_PACKET_HDR_LEN,
		.guest_uaddr = (uint64_t)(uintptr_t)gva,
		.guest_len = len,
		.trans_uaddr = (uint64_t)(uintptr_t)trans,
		.trans_len = len,
	};

	return th_op(h, vm, KVM_SEV_RECEIVE_UPDATE_DATA, &d, err);
}

void *th_pages(size_t n)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

void th_free_pages(void *p, size_t n)
{
	munmap(p, n * 4096);
}
