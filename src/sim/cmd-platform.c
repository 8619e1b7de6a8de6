// SPDX-License-Identifier: MIT
/*
 * /dev/sev platform commands (SEV_ISSUE_CMD): the kernel's rules of
 * drivers/crypto/ccp/sev-dev.c, then the firmware's. The dispatcher in
 * cmd-table.c has already checked the writable fd and the API version
 * its table asks for, and holds the host's PSP lock.
 */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"

int sim_cmd_platform_status(struct sim_pcmd *p)
{
	struct sevmig_sim_host *host = p->host;
	struct sev_user_data_status st;
	int ret;

	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id, p->fw,
			    &p->done_ns);
	if (ret)
		return ret;
	*p->fw = 0;
	memset(&st, 0, sizeof(st));
	st.api_major = host->api_major;
	st.api_minor = host->api_minor;
	st.state = (uint8_t)host->pstate;
	st.build = host->build;
	st.flags = host->pstate != SEV_PSTATE_UNINIT &&
				   (host->config & SEVMIG_SIM_CONFIG_ES) ?
			   SEV_STATUS_FLAGS_CONFIG_ES : 0;
	st.guest_count = sim_guest_count(host);
	if (!p->data)
		return -EFAULT;
	memcpy(p->data, &st, sizeof(st));
	return 0;
}

/* PEK_GEN regenerates the PEK and the PDH, PDH_GEN the PDH only. */
int sim_cmd_key_gen(struct sim_pcmd *p)
{
	struct sevmig_sim_host *host = p->host;
	bool pek = p->def->id == SEV_PEK_GEN;
	int ret;

	ret = sim_platform_init(host, p->fw, &p->done_ns);
	if (!ret)
		ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id,
				    p->fw, &p->done_ns);
	if (ret)
		return ret;
	/* PEK_GEN needs INIT; PDH_GEN works in INIT and WORKING. */
	if (pek && host->pstate != SEV_PSTATE_INIT)
		return sim_fw_fail(p->fw, SEV_RET_INVALID_PLATFORM_STATE);
	*p->fw = 0;
	return sim_host_keys(host, false, pek);
}

int sim_cmd_pdh_cert_export(struct sim_pcmd *p)
{
	struct sevmig_sim_host *host = p->host;
	struct sev_user_data_pdh_cert_export in;
	uint8_t *chain;
	bool query;
	int ret;

	if (host->pstate == SEV_PSTATE_UNINIT) {
		if (!p->writable)
			return -EPERM;
		ret = sim_platform_init(host, p->fw, &p->done_ns);
		if (ret)
			return ret;
	}
	if (!p->data)
		return -EFAULT;
	memcpy(&in, p->data, sizeof(in));
	query = !in.pdh_cert_address || !in.pdh_cert_len ||
		!in.cert_chain_address;
	if (!query && (in.pdh_cert_len > SEV_FW_BLOB_MAX_SIZE ||
		       in.cert_chain_len > SEV_FW_BLOB_MAX_SIZE))
		return -EFAULT; /* sic: the kernel says EFAULT */
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id, p->fw,
			    &p->done_ns);
	if (ret)
		return ret;
	if (host->pstate == SEV_PSTATE_UNINIT)
		return sim_fw_fail(p->fw, SEV_RET_INVALID_PLATFORM_STATE);
	if (query || in.pdh_cert_len < SEVMIG_SEV_CERT_LEN ||
	    in.cert_chain_len < SEVMIG_PLAT_CHAIN_LEN) {
		in.pdh_cert_len = SEVMIG_SEV_CERT_LEN;
		in.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN;
		memcpy(p->data, &in, sizeof(in));
		return sim_fw_fail(p->fw, SEV_RET_INVALID_LEN);
	}
	in.pdh_cert_len = SEVMIG_SEV_CERT_LEN;
	in.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN;
	memcpy(p->data, &in, sizeof(in));
	memcpy(sim_uptr(in.pdh_cert_address), &host->pdh.cert,
	       SEVMIG_SEV_CERT_LEN);
	chain = sim_uptr(in.cert_chain_address);
	memcpy(chain, &host->pek.cert, SEVMIG_SEV_CERT_LEN);
	memcpy(chain + SEVMIG_SEV_CERT_LEN, &host->oca.cert,
	       SEVMIG_SEV_CERT_LEN);
	memcpy(chain + 2 * SEVMIG_SEV_CERT_LEN, &host->cek.cert,
	       SEVMIG_SEV_CERT_LEN);
	*p->fw = 0;
	return 0;
}

int sim_cmd_get_id(struct sim_pcmd *p)
{
	struct sim_sev_user_data_get_id id;
	int ret;

	ret = sim_psp_enter(p->host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id,
			    p->fw, &p->done_ns);
	if (ret)
		return ret;
	*p->fw = 0;
	memset(&id, 0, sizeof(id));
	memcpy(id.socket1, p->host->id, SIM_ID_LEN);
	if (!p->data)
		return -EFAULT;
	memcpy(p->data, &id, sizeof(id));
	return 0;
}

int sim_cmd_get_id2(struct sim_pcmd *p)
{
	struct sev_user_data_get_id2 in;
	bool query;
	int ret;

	if (!p->data)
		return -EFAULT;
	memcpy(&in, p->data, sizeof(in));
	query = !in.address || !in.length;
	if (!query && in.length > SIM_KMALLOC_MAX)
		return -ENOMEM;
	ret = sim_psp_enter(p->host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id,
			    p->fw, &p->done_ns);
	if (ret)
		return ret;
	if (query || in.length < SIM_ID_LEN) {
		in.length = SIM_ID_LEN;
		memcpy(p->data, &in, sizeof(in));
		return sim_fw_fail(p->fw, SEV_RET_INVALID_LEN);
	}
	in.length = SIM_ID_LEN;
	memcpy(p->data, &in, sizeof(in));
	memcpy(sim_uptr(in.address), p->host->id, SIM_ID_LEN);
	*p->fw = 0;
	return 0;
}

int sim_cmd_factory_reset(struct sim_pcmd *p)
{
	struct sevmig_sim_host *host = p->host;
	int ret;

	if (host->pstate == SEV_PSTATE_WORKING)
		return -EBUSY;
	ret = sim_psp_enter(host, SEVMIG_SIM_FAULT_PLATFORM, p->def->id, p->fw,
			    &p->done_ns);
	if (ret)
		return ret;
	*p->fw = 0;
	host->pstate = SEV_PSTATE_UNINIT;
	return sim_host_keys(host, true, true);
}
