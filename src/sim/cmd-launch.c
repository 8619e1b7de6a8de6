// SPDX-License-Identifier: MIT
/*
 * Guest commands of a VM's own life: the INIT family (kernel only), the
 * LAUNCH_* commands and GUEST_STATUS.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

/*
 * KVM_SEV_INIT / ES_INIT / INIT2 as sev_guest_init(), sev_guest_init2() and
 * __sev_guest_init() check them (arch/x86/kvm/svm/sev.c), in that order.
 * ES_INIT on a host without SEV-ES was refused by the dispatcher's
 * -ENOTTY before the VM type is looked at.
 */
int sim_cmd_init(struct sim_gcmd *g)
{
	struct sim_vm *vm = g->vm;
	struct sim_kvm_sev_init d;
	bool es;
	int ret;

	memset(&d, 0, sizeof(d));
	if (g->c->id == KVM_SEV_INIT2) {
		if (!vm->need_init)
			return -EINVAL;
		if (vm->type != KVM_X86_SEV_VM && vm->type != KVM_X86_SEV_ES_VM)
			return -EINVAL;
		if (!g->c->data)
			return -EFAULT;
		memcpy(&d, sim_uptr(g->c->data), sizeof(d));
		es = vm->type == KVM_X86_SEV_ES_VM;
	} else {
		if (g->c->id == KVM_SEV_ES_INIT &&
		    !(g->host->config & SEVMIG_SIM_CONFIG_ES))
			return -ENOTTY; /* !sev_es_enabled */
		if (vm->type != KVM_X86_DEFAULT_VM)
			return -EINVAL;
		es = g->c->id == KVM_SEV_ES_INIT;
		d.ghcb_version = es ? 1 : 0; /* GHCB_VERSION_MIN for ES_INIT */
	}
	/* No VMSA feature is supported, and the pads are not checked. */
	if (vm->nr_vcpus || d.flags || d.vmsa_features ||
	    d.ghcb_version > SIM_GHCB_VERSION_MAX || (!es && d.ghcb_version))
		return -EINVAL;
	if (vm->sev_active)
		return -EINVAL;
	ret = sim_platform_init(g->host, g->fw, &g->done_ns);
	if (ret)
		return ret;
	vm->sev_active = true;
	vm->es_active = es;
	vm->need_init = false;
	return 0;
}

int sim_cmd_launch_start(struct sim_gcmd *g)
{
	struct kvm_sev_launch_start p;
	struct sim_guest *guest;
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if ((p.dh_uaddr && sim_blob_check(p.dh_uaddr, p.dh_len)) ||
	    (p.session_uaddr && sim_blob_check(p.session_uaddr, p.session_len)))
		return -EINVAL;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	if (g->host->pstate == SEV_PSTATE_UNINIT)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_PLATFORM_STATE);
	/* With a DH certificate the firmware checks the session first; the
	 * launch channel itself is not emulated. */
	if (p.dh_uaddr && (p.session_len != SEVMIG_SESSION_LEN ||
			   p.dh_len != SEVMIG_SEV_CERT_LEN))
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	ret = sim_fw_new_guest_policy(g, p.handle, p.policy);
	if (ret)
		return ret;
	guest = sim_guest_new(g->host, p.policy, SEV_GSTATE_LUPDATE);
	if (!guest)
		return -ENOMEM;
	*g->fw = 0;
	ret = sim_gcmd_activate(g, guest);
	if (ret)
		return ret;
	p.handle = guest->handle;
	memcpy(sim_uptr(g->c->data), &p, sizeof(p));
	return 0;
}

int sim_cmd_launch_update_data(struct sim_gcmd *g)
{
	struct sim_kvm_sev_launch_update_data p;
	struct sim_guest *guest;
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (!p.len || p.uaddr + p.len < p.uaddr) /* sev_pin_memory() */
		return -EINVAL;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != SEV_GSTATE_LUPDATE)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	if (p.uaddr & 15u)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_ADDRESS);
	if (p.len & 15u)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	*g->fw = 0;
	return simc_sha256(guest->digest, sizeof(guest->digest),
			   sim_uptr(p.uaddr), p.len, guest->digest);
}

int sim_cmd_launch_update_vmsa(struct sim_gcmd *g)
{
	struct sim_guest *guest;
	int ret;

	if (!g->vm->es_active)
		return -ENOTTY;
	if (g->vm->nr_vcpus && g->vm->nr_vmsa == g->vm->nr_vcpus)
		return -EINVAL; /* guest_state_protected already */
	for (uint32_t i = g->vm->nr_vmsa; i < g->vm->nr_vcpus; i++) {
		ret = sim_gcmd_issue(g); /* one firmware command per vCPU */
		if (ret)
			return ret;
		guest = sim_gcmd_guest(g, &ret);
		if (!guest)
			return ret;
		if (guest->state != SEV_GSTATE_LUPDATE)
			return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
		*g->fw = 0;
		g->vm->nr_vmsa = i + 1;
	}
	return 0;
}

int sim_cmd_launch_measure(struct sim_gcmd *g)
{
	struct sim_kvm_sev_launch_update_data p;
	struct sim_guest *guest;
	uint8_t msg[1 + 3 + 4 + 32 + 16], out[SIM_MEASURE_LEN];
	uint32_t len;
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (p.len && p.uaddr && p.len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	len = p.uaddr ? p.len : 0;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (len < SIM_MEASURE_LEN) {
		p.len = SIM_MEASURE_LEN;
		memcpy(sim_uptr(g->c->data), &p, sizeof(p));
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	}
	if (guest->state != SEV_GSTATE_LUPDATE)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	/* HMAC(key, 0x04 || api || build || policy || digest || mnonce) */
	msg[0] = 0x04;
	msg[1] = g->host->api_major;
	msg[2] = g->host->api_minor;
	msg[3] = g->host->build;
	memcpy(msg + 4, &guest->policy, 4);
	memcpy(msg + 8, guest->digest, 32);
	ret = simc_random(msg + 40, 16);
	if (!ret)
		ret = simc_hmac(g->host->measure_key, 32, msg, sizeof(msg), NULL,
				0, out);
	if (ret)
		return ret;
	memcpy(out + 32, msg + 40, 16);
	memcpy(sim_uptr(p.uaddr), out, sizeof(out));
	guest->state = SEV_GSTATE_LSECRET;
	*g->fw = 0;
	p.len = SIM_MEASURE_LEN;
	memcpy(sim_uptr(g->c->data), &p, sizeof(p));
	return 0;
}

int sim_cmd_launch_finish(struct sim_gcmd *g)
{
	struct sim_guest *guest;
	int ret;

	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != SEV_GSTATE_LSECRET)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	guest->state = SEV_GSTATE_RUNNING;
	*g->fw = 0;
	return 0;
}

int sim_cmd_guest_status(struct sim_gcmd *g)
{
	struct kvm_sev_guest_status st;
	struct sim_guest *guest;
	int ret;

	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	if (g->host->pstate == SEV_PSTATE_UNINIT)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_PLATFORM_STATE);
	guest = sim_guest_find(g->host, g->vm->handle);
	if (!guest)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST);
	*g->fw = 0;
	st.handle = guest->handle;
	st.policy = guest->policy;
	st.state = guest->state;
	if (!g->c->data)
		return -EFAULT;
	memcpy(sim_uptr(g->c->data), &st, sizeof(st));
	return 0;
}
