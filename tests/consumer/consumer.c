/* SPDX-License-Identifier: MIT */
/*
 * An outside program built only from the installed header, .pc and library;
 * run.sh compiles it as C99 and again as C++.
 */
#include <stdio.h>
#include <string.h>

#include <sevmig/sevmig.h>

int main(void)
{
	struct sevmig_host_caps caps;
	struct sevmig_ctx *ctx;
	int ret;

	if (sevmig_version() != SEVMIG_VERSION_NUMBER) {
		fprintf(stderr, "header %s but library %s\n", SEVMIG_VERSION_STRING,
			sevmig_version_string());
		return 1;
	}
	ret = sevmig_ctx_new(NULL, &ctx);
	if (ret) {
		fprintf(stderr, "sevmig_ctx_new: %s\n", sevmig_strerror(ret));
		return 1;
	}
	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	ret = sevmig_host_probe(ctx, &caps, 0);
	sevmig_ctx_free(ctx);
	if (ret) {
		fprintf(stderr, "sevmig_host_probe: %s\n", sevmig_strerror(ret));
		return 1;
	}
	printf("consumer: libsevmig %s, kvm_status %d, cross-host %s\n",
	       sevmig_version_string(), caps.kvm_status,
	       caps.cross_host_reasons ? "no" : "yes");
	return 0;
}
