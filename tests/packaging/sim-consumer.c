/* SPDX-License-Identifier: MIT */
/*
 * An outside user of the installed libsevmig-sim-dev: a simulated host's
 * syscall table drives a libsevmig context, built only from the installed
 * headers and pkg-config files.
 */
#include <stdio.h>
#include <string.h>

#include <sevmig/sim.h>

int main(void)
{
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	struct sevmig_sys_ops ops = { .size = sizeof(ops) };
	struct sevmig_ctx_opts co = { .size = sizeof(co), .sys = &ops };
	struct sevmig_host_caps caps;
	struct sevmig_sim_host *host;
	struct sevmig_sim *sim;
	struct sevmig_ctx *ctx;
	int ret;

	if (sevmig_sim_new(&so, &sim) || sevmig_sim_host_new(sim, NULL, &host) ||
	    sevmig_sim_host_sys_ops(host, &ops) || sevmig_ctx_new(&co, &ctx)) {
		fprintf(stderr, "sim-consumer: cannot set up the simulator\n");
		return 1;
	}
	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	ret = sevmig_host_probe(ctx, &caps, 0);
	sevmig_ctx_free(ctx);
	sevmig_sim_free(sim);
	if (ret) {
		fprintf(stderr, "sim-consumer: probe: %s\n", sevmig_strerror(ret));
		return 1;
	}
	/* The simulated host has an SEV device: the probe must see it. */
	if (!(caps.flags & SEVMIG_HOST_SEV_DEVICE)) {
		fprintf(stderr, "sim-consumer: no simulated /dev/sev (flags 0x%x)\n",
			caps.flags);
		return 1;
	}
	printf("sim-consumer: simulated SEV API %u.%u\n", caps.sev_api_major,
	       caps.sev_api_minor);
	return 0;
}
