// SPDX-License-Identifier: MIT
/* sevmig probe: a readable (or JSON) account of sevmig_host_probe(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cmd_probe_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig probe [--json] [--verbose] [--require WHAT]...\n\n"
		"Probes /dev/kvm and /dev/sev and says whether this host can take\n"
		"part in SEV live migration, with the reason for every \"no\".\n\n"
		"  --json          machine-readable output\n"
		"  --verbose       log every probe step to stderr\n"
		"  --require WHAT  exit 3 unless WHAT is possible here; WHAT is\n"
		"                  cross-host, intra-host, mirror or es-cross-host\n");
}

struct verdict {
	const char *key;
	const char *label;
	uint64_t reasons;
};

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void status_line(const char *label, int status, const char *yes)
{
	char buf[32];

	if (status == 0)
		printf("  %-28s %s\n", label, yes);
	else
		printf("  %-28s no: %s (%s)\n", label,
		       cli_errno_name(status, buf, sizeof(buf)),
		       sevmig_strerror(status));
}

static void print_reasons(uint64_t reasons)
{
	for (unsigned int b = 0; b < 64; b++)
		if (reasons & (UINT64_C(1) << b))
			printf("      - %s\n",
			       sevmig_reason_string(UINT64_C(1) << b));
}

static void print_table(const struct sevmig_host_caps *c,
			const struct verdict *v, size_t nv)
{
	char line[96];

	printf("libsevmig %s host probe\n\nKVM\n", sevmig_version_string());
	if (!(c->flags & SEVMIG_HOST_KVM)) {
		status_line("/dev/kvm", c->kvm_status, "");
	} else {
		snprintf(line, sizeof(line), "yes (API version %d)",
			 c->kvm_api_version);
		printf("  %-28s %s\n", "/dev/kvm", line);
		snprintf(line, sizeof(line), "%s (KVM_CAP_EXIT_HYPERCALL mask 0x%x)",
			 yes_no(c->flags & SEVMIG_HOST_EXIT_HC_MAP_GPA),
			 c->exit_hypercall_mask);
		printf("  %-28s %s\n", "exit on KVM_HC_MAP_GPA_RANGE", line);
		printf("  %-28s %s\n", "user-space MSR exits",
		       yes_no(c->flags & SEVMIG_HOST_USER_SPACE_MSR));
		printf("  %-28s %s\n", "MSR filters",
		       yes_no(c->flags & SEVMIG_HOST_MSR_FILTER));
		printf("  %-28s %s\n", "move encryption context",
		       c->flags & SEVMIG_HOST_MOVE_ENC_CONTEXT ?
		       "reported (every x86 KVM reports it; the move itself is the real test)" :
		       "no");
		printf("  %-28s %s\n", "mirror VMs (copy context)",
		       c->flags & SEVMIG_HOST_COPY_ENC_CONTEXT ?
		       "reported (every x86 KVM reports it; creating a mirror is the real test)" :
		       "no");
		if (c->flags & SEVMIG_HOST_VM_TYPES)
			printf("  %-28s 0x%x%s\n", "VM types", c->vm_types,
			       c->vm_types & (1u << 2) ? " (SEV VM type supported)" :
			       " (no SEV VM type)");
		status_line("SEV enabled in KVM", c->kvm_sev_status, "yes");
		if (c->flags & SEVMIG_HOST_KVM_SEV)
			status_line("SEND_UPDATE_VMSA implemented",
				    c->es_vmsa_probe_status == -EINVAL ?
				    -EINVAL : 0, "answers (vendor kernel)");
	}

	printf("\nSEV platform (/dev/sev)\n");
	if (c->flags & SEVMIG_HOST_SEV_DEVICE_RO)
		printf("  %-28s read-only (read-write: %s)\n", "device",
		       sevmig_strerror(c->sev_dev_status));
	else
		status_line("device (read-write)", c->sev_dev_status, "yes");
	if (c->flags & SEVMIG_HOST_SEV_STATUS) {
		printf("  %-28s %u.%u build %u\n", "firmware API",
		       c->sev_api_major, c->sev_api_minor, c->sev_build);
		printf("  %-28s %s\n", "platform state",
		       cli_platform_state_name(c->sev_state));
		printf("  %-28s %s\n", "owner",
		       c->flags & SEVMIG_HOST_SEV_EXT_OWNED ? "external" :
		       "self");
		printf("  %-28s %s\n", "SEV-ES initialized",
		       yes_no(c->flags & SEVMIG_HOST_SEV_ES_INIT));
		printf("  %-28s %u\n", "guests", c->sev_guest_count);
	} else if (c->sev_dev_status == 0 ||
		   (c->flags & SEVMIG_HOST_SEV_DEVICE_RO)) {
		if (c->sev_fw_error)
			printf("  %-28s failed: firmware 0x%x %s\n",
			       "PLATFORM_STATUS", c->sev_fw_error,
			       sevmig_fw_strerror(c->sev_fw_error));
		else
			status_line("PLATFORM_STATUS", c->sev_platform_status,
				    "");
	}

	printf("\nVerdicts\n");
	for (size_t i = 0; i < nv; i++) {
		printf("  %-28s %s\n", v[i].label, v[i].reasons ? "no" : "yes");
		print_reasons(v[i].reasons);
	}
}

static void json_reasons(struct json *j, const char *key, uint64_t reasons)
{
	json_obj_open(j, key);
	json_bool(j, "possible", reasons == 0);
	json_hex(j, "reason_mask", reasons);
	json_arr_open(j, "reasons");
	for (unsigned int b = 0; b < 64; b++)
		if (reasons & (UINT64_C(1) << b))
			json_str(j, NULL, sevmig_reason_string(UINT64_C(1) << b));
	json_arr_close(j);
	json_obj_close(j);
}

static void json_errno(struct json *j, const char *key, int status)
{
	char buf[32];

	json_str(j, key, status ? cli_errno_name(status, buf, sizeof(buf)) :
			 NULL);
}

static void print_json(const struct sevmig_host_caps *c,
		       const struct verdict *v, size_t nv)
{
	struct json j;

	json_begin(&j, stdout);
	json_str(&j, "libsevmig_version", sevmig_version_string());
	json_obj_open(&j, "kvm");
	json_bool(&j, "present", c->flags & SEVMIG_HOST_KVM);
	json_errno(&j, "error", c->kvm_status);
	json_int(&j, "api_version", c->kvm_api_version);
	json_hex(&j, "exit_hypercall_mask", c->exit_hypercall_mask);
	json_bool(&j, "exit_map_gpa_range", c->flags & SEVMIG_HOST_EXIT_HC_MAP_GPA);
	json_bool(&j, "user_space_msr", c->flags & SEVMIG_HOST_USER_SPACE_MSR);
	json_bool(&j, "msr_filter", c->flags & SEVMIG_HOST_MSR_FILTER);
	json_bool(&j, "move_enc_context_reported",
		  c->flags & SEVMIG_HOST_MOVE_ENC_CONTEXT);
	json_bool(&j, "copy_enc_context_reported",
		  c->flags & SEVMIG_HOST_COPY_ENC_CONTEXT);
	if (c->flags & SEVMIG_HOST_VM_TYPES)
		json_hex(&j, "vm_types", c->vm_types);
	json_bool(&j, "sev_enabled", c->flags & SEVMIG_HOST_KVM_SEV);
	json_errno(&j, "sev_probe_error", c->kvm_sev_status);
	json_obj_close(&j);

	json_obj_open(&j, "sev_device");
	json_bool(&j, "present", c->flags & SEVMIG_HOST_SEV_DEVICE);
	json_bool(&j, "read_only", c->flags & SEVMIG_HOST_SEV_DEVICE_RO);
	json_errno(&j, "error", c->sev_dev_status);
	json_bool(&j, "status_read", c->flags & SEVMIG_HOST_SEV_STATUS);
	if (c->flags & SEVMIG_HOST_SEV_STATUS) {
		json_uint(&j, "api_major", c->sev_api_major);
		json_uint(&j, "api_minor", c->sev_api_minor);
		json_uint(&j, "build", c->sev_build);
		json_str(&j, "state", cli_platform_state_name(c->sev_state));
		json_bool(&j, "externally_owned",
			  c->flags & SEVMIG_HOST_SEV_EXT_OWNED);
		json_bool(&j, "es_initialized", c->flags & SEVMIG_HOST_SEV_ES_INIT);
		json_uint(&j, "guest_count", c->sev_guest_count);
	} else if (c->sev_fw_error) {
		json_hex(&j, "fw_error", c->sev_fw_error);
		json_str(&j, "fw_error_text", sevmig_fw_strerror(c->sev_fw_error));
	}
	json_obj_close(&j);

	json_obj_open(&j, "verdicts");
	for (size_t i = 0; i < nv; i++)
		json_reasons(&j, v[i].key, v[i].reasons);
	json_obj_close(&j);
	json_end(&j);
}

int cmd_probe(int argc, char **argv)
{
	struct sevmig_host_caps caps;
	struct sevmig_ctx *ctx;
	bool json = false, verbose = false;
	const char *require[8];
	size_t nreq = 0;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--require") && i + 1 < argc &&
			   nreq < sizeof(require) / sizeof(require[0])) {
			require[nreq++] = argv[++i];
		} else {
			fprintf(stderr, "sevmig probe: unexpected argument '%s'\n\n",
				argv[i]);
			cmd_probe_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}

	if (cli_ctx_new(&ctx, verbose))
		return CLI_EXIT_FAILURE;
	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	ret = sevmig_host_probe(ctx, &caps, 0);
	sevmig_ctx_free(ctx);
	if (ret) {
		fprintf(stderr, "sevmig probe: %s\n", sevmig_strerror(ret));
		return CLI_EXIT_FAILURE;
	}

	const struct verdict v[] = {
		{ "cross_host", "cross-host SEV migration", caps.cross_host_reasons },
		{ "intra_host", "intra-host context move", caps.intra_host_reasons },
		{ "mirror", "mirror VMs", caps.mirror_reasons },
		{ "es_cross_host", "SEV-ES cross-host migration",
		  caps.es_cross_host_reasons },
	};
	const char *const req_names[] = { "cross-host", "intra-host", "mirror",
					  "es-cross-host" };
	const size_t nv = sizeof(v) / sizeof(v[0]);

	for (size_t r = 0; r < nreq; r++) {
		size_t k;

		for (k = 0; k < nv; k++)
			if (!strcmp(require[r], req_names[k]))
				break;
		if (k == nv) {
			fprintf(stderr, "sevmig probe: unknown verdict '%s' for --require\n",
				require[r]);
			return CLI_EXIT_USAGE;
		}
	}

	if (json)
		print_json(&caps, v, nv);
	else
		print_table(&caps, v, nv);

	for (size_t r = 0; r < nreq; r++)
		for (size_t k = 0; k < nv; k++)
			if (!strcmp(require[r], req_names[k]) && v[k].reasons)
				return CLI_EXIT_UNAVAILABLE;
	return CLI_EXIT_OK;
}
