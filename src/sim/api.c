// SPDX-License-Identifier: MIT
/*
 * The public sevmig_sim_* functions: worlds, hosts, their knobs and
 * counters, and the certificate helpers. Records follow libsevmig's sized
 * rules through sized.c, compiled into this library.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sim-internal.h"

/* Each record's first size is where its first version's last field ends. */
SEVMIG_RECORD_VER0(struct sevmig_sim_opts, SEVMIG_SIM_OPTS_SIZE_VER0,
		   reserved0);
SEVMIG_RECORD_VER0(struct sevmig_sim_host_opts, SEVMIG_SIM_HOST_OPTS_SIZE_VER0,
		   latency_us);
SEVMIG_RECORD_VER0(struct sevmig_sim_fault, SEVMIG_SIM_FAULT_SIZE_VER0,
		   reserved0);
SEVMIG_RECORD_VER0(struct sevmig_sim_host_stats,
		   SEVMIG_SIM_HOST_STATS_SIZE_VER0, sent_vcpu_runs);

/* ----------------------------------------------------------------- worlds */

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
		int fd = sim_real()->open(NULL, "/dev/kvm", O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			sim_real()->close(NULL, fd);
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

static void host_keys_free(struct sevmig_sim_host *host);

/* A host already off its simulator's list: its guests, keys and memory. */
static void host_destroy(struct sevmig_sim_host *host)
{
	/* Close what the caller leaked, so VMs and guests go away. */
	sim_fd_close_host(host);
	while (host->guests)
		sim_guest_decommission(host, host->guests->handle);
	host_keys_free(host);
	pthread_mutex_destroy(&host->psp);
	OPENSSL_cleanse(host, sizeof(*host));
	free(host);
}

SIM_EXPORT void sevmig_sim_free(struct sevmig_sim *sim)
{
	if (!sim)
		return;
	/* Each host is destroyed without unlinking itself: the list goes whole. */
	for (struct sevmig_sim_host *h = sim->hosts, *next; h; h = next) {
		next = h->next;
		host_destroy(h);
	}
	sim->hosts = NULL;
	for (size_t i = 0; i < sim->nroots; i++)
		free(sim->roots[i]);
	EVP_PKEY_free(sim->ark_key);
	EVP_PKEY_free(sim->ask_key);
	free(sim->fds);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
}

SIM_EXPORT int sevmig_sim_amd_chain(const struct sevmig_sim *sim, void *buf,
				    size_t len, size_t *ret_len)
{
	if (!sim || !ret_len)
		return -EINVAL;
	*ret_len = sim->amd_chain_len;
	if (!buf)
		return 0;
	if (len < sim->amd_chain_len)
		return -ENOSPC;
	memcpy(buf, sim->amd_chain, sim->amd_chain_len);
	return 0;
}

SIM_EXPORT int sevmig_sim_trust_ark(struct sevmig_sim *sim, const void *ark,
				    size_t len, uint32_t flags)
{
	if (!sim || !ark || flags)
		return -EINVAL;
	return sim_trust_ark(sim, ark, len);
}

SIM_EXPORT int sevmig_sim_cert_verify(const void *cert, size_t cert_len,
				      const void *signer, size_t signer_len,
				      uint32_t flags)
{
	if (!cert || !signer || flags)
		return -EINVAL;
	return sim_cert_verify(cert, cert_len, signer, signer_len);
}

/* ----------------------------------------------------------------- hosts */

static void host_keys_free(struct sevmig_sim_host *host)
{
	EVP_PKEY_free(host->oca.pkey);
	EVP_PKEY_free(host->cek.pkey);
	EVP_PKEY_free(host->pek.pkey);
	EVP_PKEY_free(host->pdh.pkey);
}

SIM_EXPORT int sevmig_sim_host_new(struct sevmig_sim *sim,
				   const struct sevmig_sim_host_opts *opts,
				   struct sevmig_sim_host **ret_host)
{
	struct sevmig_sim_host_opts o;
	struct sevmig_sim_host *host;
	int ret;

	if (!sim || !ret_host)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts,
			       SEVMIG_SIM_HOST_OPTS_SIZE_VER0);
	if (ret)
		return ret;
	if (o.flags || o.api_major > 255 || o.api_minor > 255 || o.build > 255 ||
	    (o.state && o.state != SEVMIG_PLATFORM_UNINIT &&
	     o.state != SEVMIG_PLATFORM_INIT) ||
	    (o.config & ~SEVMIG_SIM_CONFIG_ES) ||
	    o.latency_us > SIM_LATENCY_MAX_US)
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
	host->pstate = o.state == SEVMIG_PLATFORM_UNINIT ? SEV_PSTATE_UNINIT :
							   SEV_PSTATE_INIT;
	host->latency_us = o.latency_us;
	host->next_handle = 1;
	ret = sim_host_keys(host, true, true);
	if (!ret)
		ret = simc_random(host->measure_key, sizeof(host->measure_key));
	if (ret) {
		host_keys_free(host);
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
	pthread_mutex_lock(&sim->lock);
	for (pp = &sim->hosts; *pp; pp = &(*pp)->next) {
		if (*pp == host) {
			*pp = host->next;
			break;
		}
	}
	pthread_mutex_unlock(&sim->lock);
	host_destroy(host);
}

SIM_EXPORT int sevmig_sim_host_sys_ops(struct sevmig_sim_host *host,
				       struct sevmig_sys_ops *ops)
{
	struct sevmig_sys_ops o;
	int len;

	if (!host || !ops)
		return -EINVAL;
	len = sevmig_struct_out_len(ops, sizeof(o), SEVMIG_SYS_OPS_SIZE_VER0);
	if (len < 0)
		return len;
	sim_dispatch_ops(host, &o);
	sevmig_struct_out(ops, &o, (size_t)len);
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
	if (!host || latency_us > SIM_LATENCY_MAX_US)
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
		if (f.kind < SEVMIG_SIM_FAULT_ANY ||
		    f.kind > SEVMIG_SIM_FAULT_GUEST ||
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
	int len;

	if (!host || !stats)
		return -EINVAL;
	len = sevmig_struct_out_len(stats, sizeof(s),
				    SEVMIG_SIM_HOST_STATS_SIZE_VER0);
	if (len < 0)
		return len;
	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&host->psp);
	s.psp_commands = host->psp_commands;
	s.platform_state = host->pstate + 1;
	s.guest_count = sim_guest_count(host);
	s.psp_dead = host->psp_dead;
	pthread_mutex_unlock(&host->psp);
	s.vm_count = sim_vm_count(host);
	s.sent_vcpu_runs = __atomic_load_n(&host->sent_runs, __ATOMIC_RELAXED);
	sevmig_struct_out(stats, &s, (size_t)len);
	return 0;
}
