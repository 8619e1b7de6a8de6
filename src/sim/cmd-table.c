// SPDX-License-Identifier: MIT
/*
 * The command tables, one row per command id, and the two dispatchers that
 * read them: SEV_ISSUE_CMD on /dev/sev (sev_ioctl() in the kernel's
 * sev-dev.c) and KVM_MEMORY_ENCRYPT_OP on a VM (sev_mem_enc_ioctl() in
 * arch/x86/kvm/svm/sev.c), with their rules on what is copied back.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

#define NOT_EMULATED (-EOPNOTSUPP)
#define UNKNOWN_TO_KVM (-EINVAL)

/* A row for a command the simulator runs, and one for an id it answers
 * without running anything. */
#define RUN(i, fn, nsev, fd, mir)                                      \
	{ .id = (i), .run = (fn), .not_sev = (nsev), .sev_fd = (fd),    \
	  .mirror_ok = (mir) }
#define ABSENT(i, err, mir) { .id = (i), .absent = (err), .mirror_ok = (mir) }

static const struct sim_guest_cmd guest_cmds[] = {
	/*  id                           handler                  not SEV  /dev/sev fd    mirror */
	RUN(KVM_SEV_INIT,                sim_cmd_init,                  0, SIM_SEVFD_NONE, false),
	RUN(KVM_SEV_ES_INIT,             sim_cmd_init,                  0, SIM_SEVFD_NONE, false),
	RUN(KVM_SEV_INIT2,               sim_cmd_init,                  0, SIM_SEVFD_NONE, false),
	RUN(KVM_SEV_LAUNCH_START,        sim_cmd_launch_start,    -ENOTTY, SIM_SEVFD_ARG,  false),
	RUN(KVM_SEV_LAUNCH_UPDATE_DATA,  sim_cmd_launch_update_data, -ENOTTY, SIM_SEVFD_VM, false),
	RUN(KVM_SEV_LAUNCH_UPDATE_VMSA,  sim_cmd_launch_update_vmsa, -ENOTTY, SIM_SEVFD_VM, true),
	RUN(KVM_SEV_LAUNCH_MEASURE,      sim_cmd_launch_measure,  -ENOTTY, SIM_SEVFD_VM,   false),
	RUN(KVM_SEV_LAUNCH_FINISH,       sim_cmd_launch_finish,   -ENOTTY, SIM_SEVFD_VM,   false),
	RUN(KVM_SEV_GUEST_STATUS,        sim_cmd_guest_status,    -ENOTTY, SIM_SEVFD_VM,   true),
	RUN(KVM_SEV_SEND_START,          sim_cmd_send_start,      -ENOTTY, SIM_SEVFD_VM,   false),
	RUN(KVM_SEV_SEND_UPDATE_DATA,    sim_cmd_send_update_data, -ENOTTY, SIM_SEVFD_VM,  false),
	RUN(KVM_SEV_SEND_FINISH,         sim_cmd_send_finish,     -ENOTTY, SIM_SEVFD_VM,   false),
	RUN(KVM_SEV_SEND_CANCEL,         sim_cmd_send_cancel,     -ENOTTY, SIM_SEVFD_VM,   false),
	RUN(KVM_SEV_RECEIVE_START,       sim_cmd_receive_start,   -ENOTTY, SIM_SEVFD_ARG,  false),
	/* sic: -EINVAL, not -ENOTTY, on a VM without SEV */
	RUN(KVM_SEV_RECEIVE_UPDATE_DATA, sim_cmd_receive_update_data, -EINVAL, SIM_SEVFD_VM, false),
	RUN(KVM_SEV_RECEIVE_FINISH,      sim_cmd_receive_finish,  -ENOTTY, SIM_SEVFD_VM,   false),
	/* Upstream KVM has never had these: its default case. */
	ABSENT(KVM_SEV_SEND_UPDATE_VMSA,    UNKNOWN_TO_KVM, false),
	ABSENT(KVM_SEV_RECEIVE_UPDATE_VMSA, UNKNOWN_TO_KVM, false),
	ABSENT(KVM_SEV_CERT_EXPORT,         UNKNOWN_TO_KVM, false),
	/* KVM has these; the simulator does not emulate them. */
	ABSENT(KVM_SEV_LAUNCH_SECRET,          NOT_EMULATED, false),
	ABSENT(KVM_SEV_DBG_DECRYPT,            NOT_EMULATED, true),
	ABSENT(KVM_SEV_DBG_ENCRYPT,            NOT_EMULATED, true),
	ABSENT(KVM_SEV_GET_ATTESTATION_REPORT, NOT_EMULATED, false),
	ABSENT(100, NOT_EMULATED, false), /* KVM_SEV_SNP_LAUNCH_START */
	ABSENT(101, NOT_EMULATED, false), /* KVM_SEV_SNP_LAUNCH_UPDATE */
	ABSENT(102, NOT_EMULATED, false), /* KVM_SEV_SNP_LAUNCH_FINISH */
};

/* .run NULL: known to the kernel, not emulated (-EOPNOTSUPP). */
static const struct sim_platform_cmd platform_cmds[] = {
	/* id                  handler                   writable  API 0.16 */
	{ SEV_FACTORY_RESET,   sim_cmd_factory_reset,    true,     false },
	{ SEV_PLATFORM_STATUS, sim_cmd_platform_status,  false,    false },
	{ SEV_PEK_GEN,         sim_cmd_key_gen,          true,     false },
	{ SEV_PEK_CSR,         NULL,                     true,     false },
	{ SEV_PDH_GEN,         sim_cmd_key_gen,          true,     false },
	/* writable only in UNINIT: the handler decides */
	{ SEV_PDH_CERT_EXPORT, sim_cmd_pdh_cert_export,  false,    false },
	{ SEV_PEK_CERT_IMPORT, NULL,                     true,     false },
	{ SEV_GET_ID,          sim_cmd_get_id,           false,    true },
	{ SEV_GET_ID2,         sim_cmd_get_id2,          false,    true },
	{ 9,                   NULL,                     false,    false }, /* SNP_PLATFORM_STATUS */
	{ 10,                  NULL,                     true,     false }, /* SNP_COMMIT */
	{ 11,                  NULL,                     true,     false }, /* SNP_SET_CONFIG */
	{ 12,                  NULL,                     true,     false }, /* SNP_VLEK_LOAD */
};

const struct sim_guest_cmd *sim_guest_cmd_find(uint32_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(guest_cmds); i++)
		if (guest_cmds[i].id == id)
			return &guest_cmds[i];
	return NULL;
}

const struct sim_platform_cmd *sim_platform_cmd_find(uint32_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(platform_cmds); i++)
		if (platform_cmds[i].id == id)
			return &platform_cmds[i];
	return NULL;
}

static bool api_at_least(const struct sevmig_sim_host *h, unsigned maj,
			 unsigned min)
{
	return h->api_major > maj || (h->api_major == maj && h->api_minor >= min);
}

int sim_sev_ioctl(struct sevmig_sim_host *host, bool writable,
		  unsigned long req, void *arg)
{
	struct sev_issue_cmd in;
	struct sim_pcmd p = { .host = host, .writable = writable };
	uint32_t fw;
	int ret;

	if (req != SEV_ISSUE_CMD)
		return -EINVAL;
	if (!arg)
		return -EFAULT;
	memcpy(&in, arg, sizeof(in));
	if (in.cmd > SIM_SEV_MAX)
		return -EINVAL;
	p.def = sim_platform_cmd_find(in.cmd);
	p.data = sim_uptr(in.data);
	fw = in.error; /* left as it was unless the firmware says something */
	p.fw = &fw;
	if (!p.def) {
		ret = -EINVAL; /* SEV_MAX itself */
	} else if (p.def->writable && !writable) {
		ret = -EPERM;
	} else if (p.def->api_0_16 && !api_at_least(host, 0, 16)) {
		ret = -ENOTSUPP;
	} else if (!p.def->run) {
		ret = NOT_EMULATED;
	} else {
		pthread_mutex_lock(&host->psp);
		ret = p.def->run(&p);
		pthread_mutex_unlock(&host->psp);
	}
	/* Once dispatched, the whole command (with its error) goes back. */
	in.error = fw;
	memcpy(arg, &in, sizeof(in));
	sim_psp_wait(p.done_ns);
	return ret;
}

int sim_mem_enc_op(struct sim_vm *vm, struct kvm_sev_cmd *user)
{
	struct kvm_sev_cmd c;
	struct sim_gcmd g = { .host = vm->host, .vm = vm, .c = &c,
			      .fw = &c.error };
	int ret;

	memcpy(&c, user, sizeof(c));
	g.def = sim_guest_cmd_find(c.id);
	pthread_mutex_lock(&vm->lock);
	/* Rejections before the command is looked at are not copied back. */
	if ((sim_vm_owner(vm) && !(g.def && g.def->mirror_ok)) || !g.def ||
	    g.def->absent == UNKNOWN_TO_KVM) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	if (g.def->absent) {
		ret = g.def->absent;
	} else if (g.def->not_sev && !vm->sev_active) {
		ret = g.def->not_sev;
	} else {
		pthread_mutex_lock(&vm->host->psp);
		ret = g.def->run(&g);
		pthread_mutex_unlock(&vm->host->psp);
	}
	pthread_mutex_unlock(&vm->lock);
	memcpy(user, &c, sizeof(c));
	sim_psp_wait(g.done_ns);
	return ret;
}
