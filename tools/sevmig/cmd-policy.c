// SPDX-License-Identifier: MIT
/* sevmig policy show: an SEV guest policy in words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cmd_policy_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig policy show POLICY [--json]\n\n"
		"Decodes a 32-bit SEV guest policy (e.g. 0x1, or 0x0d000005 for\n"
		"NODBG and ES with a minimum firmware API of 0.13) and\n"
		"says what each set bit means for the guest and its migration.\n"
		"A policy with reserved bits (6-15) set is shown and marked\n"
		"invalid: the firmware refuses it.\n\n"
		"  --json  machine-readable output\n");
}

int cmd_policy(int argc, char **argv)
{
	struct sevmig_policy_info info;
	const char *arg = NULL;
	bool json = false;
	unsigned long long v;
	char *end;
	int ret;

	if (argc < 2 || strcmp(argv[1], "show")) {
		fprintf(stderr, "sevmig policy: expected 'show POLICY'\n\n");
		cmd_policy_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!arg && argv[i][0] != '-')
			arg = argv[i];
		else {
			fprintf(stderr, "sevmig policy show: unexpected argument '%s'\n\n",
				argv[i]);
			cmd_policy_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!arg) {
		fprintf(stderr, "sevmig policy show: POLICY is required\n\n");
		cmd_policy_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || *end || end == arg || v > 0xffffffffull) {
		fprintf(stderr,
			"sevmig policy show: '%s' is not a 32-bit number (write it like 0x00160005)\n",
			arg);
		return CLI_EXIT_USAGE;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ret = sevmig_policy_decode((uint32_t)v, &info);
	if (ret) {
		fprintf(stderr, "sevmig policy show: %s\n", sevmig_strerror(ret));
		return CLI_EXIT_FAILURE;
	}
	if (json) {
		struct json j;
		char ver[16];

		json_begin(&j, stdout);
		json_hex(&j, "policy", info.policy);
		json_bool(&j, "valid", info.reserved == 0);
		json_arr_open(&j, "flags");
		for (unsigned int b = 0; b < 6; b++) {
			if (!(info.flags & (1u << b)))
				continue;
			json_obj_open(&j, NULL);
			json_str(&j, "name", sevmig_policy_bit_name(1u << b));
			json_str(&j, "meaning", sevmig_policy_bit_describe(1u << b));
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_hex(&j, "reserved_bits", info.reserved);
		snprintf(ver, sizeof(ver), "%u.%u", info.api_major, info.api_minor);
		json_str(&j, "min_api_version", ver);
		json_end(&j);
		return CLI_EXIT_OK;
	}
	printf("policy 0x%08x%s\n", info.policy,
	       info.reserved ? " (INVALID: reserved bits set)" : "");
	for (unsigned int b = 0; b < 6; b++) {
		if (info.flags & (1u << b))
			printf("  %-7s yes: %s\n", sevmig_policy_bit_name(1u << b),
			       sevmig_policy_bit_describe(1u << b));
		else
			printf("  %-7s no\n", sevmig_policy_bit_name(1u << b));
	}
	if (info.reserved)
		printf("  reserved bits 0x%04x are set: %s\n", info.reserved,
		       sevmig_policy_bit_describe(info.reserved & -info.reserved));
	printf("  minimum firmware API version: %u.%u\n", info.api_major,
	       info.api_minor);
	if (info.flags & (1u << 2))
		printf("  migration: only within this host (SEV-ES cannot cross hosts on upstream KVM)\n");
	else if (info.flags & (1u << 3))
		printf("  migration: never (NOSEND)\n");
	return CLI_EXIT_OK;
}
