// SPDX-License-Identifier: MIT
/*
 * sevmig pdh-export: write this platform's PDH and certificate chain
 * (PEK || OCA || CEK) to a folder, as a migration peer needs them: the
 * target sends both to the source (SEND_START), the source sends its PDH to
 * the target (RECEIVE_START).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

void cmd_pdh_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig pdh-export --out DIR [--device PATH] [--verbose]\n\n"
		"Exports this platform's PDH and its certificate chain with\n"
		"PDH_CERT_EXPORT and writes them to DIR:\n"
		"  DIR/pdh.cert         the PDH (2084 bytes)\n"
		"  DIR/cert_chain.cert  PEK || OCA || CEK (6252 bytes)\n"
		"A migration target gives both to the source; a source gives its\n"
		"PDH to the target. Needs /dev/sev opened read-write.\n\n"
		"  --out DIR      folder to write to (created if missing)\n"
		"  --device PATH  SEV device (default /dev/sev)\n"
		"  --verbose      log every step to stderr\n");
}

static int write_file(const char *dir, const char *name, const void *buf,
		      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "sevmig pdh-export: cannot write %s: %s\n", path,
			strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f)) {
		fprintf(stderr, "sevmig pdh-export: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	printf("wrote %s (%zu bytes)\n", path, len);
	return 0;
}

static int export(struct sevmig_platform *p, const char *dir)
{
	struct sevmig_platform_status st;
	size_t pdh_len = 0, chain_len = 0;
	uint8_t *pdh = NULL, *chain = NULL;
	uint32_t fw = 0;
	int ret, rc = CLI_EXIT_FAILURE;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ret = sevmig_platform_status(p, &st, &fw);
	if (ret)
		return CLI_EXIT_FAILURE;	/* the library said why */
	printf("SEV platform: API %u.%u build %u, state %s\n", st.api_major,
	       st.api_minor, st.build, cli_platform_state_name(st.state));
	if (st.state == SEVMIG_PLATFORM_UNINIT)
		fprintf(stderr,
			"sevmig pdh-export: note: the platform is in UNINIT; the kernel initializes it for this export if /dev/sev is writable, older firmware paths may refuse\n");

	ret = sevmig_platform_pdh_export(p, NULL, 0, NULL, 0, &pdh_len,
					 &chain_len, &fw);
	if (ret)
		goto fail;
	pdh = malloc(pdh_len);
	chain = malloc(chain_len);
	if (!pdh || !chain) {
		fprintf(stderr, "sevmig pdh-export: out of memory\n");
		goto out;
	}
	ret = sevmig_platform_pdh_export(p, pdh, pdh_len, chain, chain_len,
					 &pdh_len, &chain_len, &fw);
	if (ret)
		goto fail;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "sevmig pdh-export: cannot create %s: %s\n", dir,
			strerror(errno));
		goto out;
	}
	if (write_file(dir, "pdh.cert", pdh, pdh_len) ||
	    write_file(dir, "cert_chain.cert", chain, chain_len))
		goto out;
	rc = CLI_EXIT_OK;
	goto out;
fail:
	if (ret == -EIO && fw == 0x01 /* INVALID_PLATFORM_STATE */)
		fprintf(stderr,
			"sevmig pdh-export: the SEV platform is not initialized (UNINIT); start an SEV guest or load kvm_amd with sev=1 so KVM initializes it, then retry\n");
	else
		fprintf(stderr, "sevmig pdh-export: PDH_CERT_EXPORT failed: %s%s%s\n",
			sevmig_strerror(ret), fw ? "; firmware: " : "",
			fw ? sevmig_fw_strerror(fw) : "");
out:
	free(pdh);
	free(chain);
	return rc;
}

int cmd_pdh(int argc, char **argv)
{
	const char *dir = NULL, *device = NULL;
	struct sevmig_platform *p = NULL;
	struct sevmig_ctx *ctx;
	bool verbose = false;
	int ret, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device = argv[++i];
		} else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			verbose = true;
		} else {
			fprintf(stderr, "sevmig pdh-export: unexpected argument '%s'\n\n",
				argv[i]);
			cmd_pdh_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!dir) {
		fprintf(stderr, "sevmig pdh-export: --out DIR is required\n\n");
		cmd_pdh_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_ctx_new(&ctx, verbose))
		return CLI_EXIT_FAILURE;
	ret = sevmig_platform_open(ctx, device, 0, &p);
	if (ret) {
		/* The library logged the cause (missing device, permissions). */
		fprintf(stderr, "sevmig pdh-export: cannot use the SEV platform: %s\n",
			sevmig_strerror(ret));
		sevmig_ctx_free(ctx);
		return CLI_EXIT_FAILURE;
	}
	rc = export(p, dir);
	sevmig_platform_free(p);
	sevmig_ctx_free(ctx);
	return rc;
}
