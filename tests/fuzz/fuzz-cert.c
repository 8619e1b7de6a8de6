// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the certificate parser and the target-certificate
 * checks on hostile bytes (a target's HELLO carries them). The first byte
 * of an input picks what the rest is:
 *   0  one certificate for sevmig_cert_parse();
 *   1  a guest policy (u32), then a target's PDH (2084 bytes), platform
 *      chain PEK || OCA || CEK (6252) and AMD chain (the rest, up to 3200),
 *      cut where the input ends, for sevmig_cert_check_target().
 * Oracles besides the sanitizers: the parser returns 0 or -EBADMSG, and
 * on 0 says the certificate is as long as the input; the target check
 * always returns 0 and refuses (some reason bit) whatever the parser
 * refuses. Seeds (a simulated host's certificates and its world's AMD
 * chain) are written into the corpus folder named on the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sevmig/sevmig.h>
#include <sevmig/sim.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CERT 2084u
#define CHAIN (3u * CERT)

#define die(...)							\
	do {								\
		fprintf(stderr, "fuzz-cert: " __VA_ARGS__);		\
		fprintf(stderr, "\n");					\
		abort();						\
	} while (0)

static int parse(const uint8_t *p, size_t n)
{
	struct sevmig_cert_info ci;
	int ret;

	memset(&ci, 0, sizeof(ci));
	ci.size = sizeof(ci);
	ret = sevmig_cert_parse(NULL, p, n, &ci, 0);
	if (ret && ret != -EBADMSG && !(ret == -EINVAL && !p))
		die("sevmig_cert_parse: %d", ret);
	if (!ret && ci.length != n)
		die("a %zu-byte input parsed as a %u-byte certificate", n,
		    ci.length);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sevmig_target_certs tc = { .size = sizeof(tc) };
	uint64_t reasons = 0;
	uint32_t policy = 0;
	size_t n;

	if (!size)
		return 0;
	if (!(data[0] & 1)) {
		parse(size > 1 ? data + 1 : NULL, size - 1);
		return 0;
	}
	data++;
	size--;
	if (size < 4)
		return 0;
	memcpy(&policy, data, 4);
	data += 4;
	size -= 4;
	n = size < CERT ? size : CERT;
	tc.pdh = data;
	tc.pdh_len = n;
	data += n;
	size -= n;
	n = size < CHAIN ? size : CHAIN;
	tc.plat_chain = data;
	tc.plat_chain_len = n;
	data += n;
	size -= n;
	tc.amd_chain = size ? data : NULL;
	tc.amd_chain_len = size;
	if (sevmig_cert_check_target(NULL, &tc, policy, &reasons))
		die("sevmig_cert_check_target refused its arguments");
	/* A PDH the parser refuses is never accepted as a target's. */
	if (tc.pdh_len && parse(tc.pdh, tc.pdh_len) && !reasons)
		die("a malformed PDH passed the target check");
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint32_t usages[] = { 0x1003, 0x1002, 0x1001, 0x1004 };
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	static uint8_t certs[4][CERT], amd[3200];
	struct sevmig_sim_host *host = NULL;
	struct sevmig_sim *sim = NULL;
	const char *dir = NULL;
	size_t amd_len = 0;
	char path[4096];
	FILE *f;

	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-') {
			dir = (*argv)[i];
			break;
		}
	if (!dir)
		return 0;
	if (sevmig_sim_new(&so, &sim) || sevmig_sim_host_new(sim, NULL, &host) ||
	    sevmig_sim_amd_chain(sim, amd, sizeof(amd), &amd_len))
		die("no simulated host");
	for (int i = 0; i < 4; i++)
		if (sevmig_sim_host_cert(host, usages[i], certs[i], CERT))
			die("no certificate 0x%x", usages[i]);
	mkdir(dir, 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/seed-cert-%x", dir, usages[i]);
		f = fopen(path, "wb");
		if (!f || fwrite("\0", 1, 1, f) != 1 ||
		    fwrite(certs[i], 1, CERT, f) != CERT || fclose(f))
			die("cannot write %s", path);
	}
	snprintf(path, sizeof(path), "%s/seed-cert-ask", dir);
	f = fopen(path, "wb");
	/* The ASK alone: its length is in the AMD chain's own layout, so the
	 * whole chain is given to the target check below instead. */
	if (!f || fwrite("\0", 1, 1, f) != 1 ||
	    fwrite(amd, 1, amd_len / 2, f) != amd_len / 2 || fclose(f))
		die("cannot write %s", path);
	snprintf(path, sizeof(path), "%s/seed-target", dir);
	f = fopen(path, "wb");
	if (!f || fwrite("\1\0\0\0\0", 1, 5, f) != 5 ||
	    fwrite(certs[0], 1, CERT, f) != CERT ||
	    fwrite(certs[1], 1, CERT, f) != CERT ||
	    fwrite(certs[2], 1, CERT, f) != CERT ||
	    fwrite(certs[3], 1, CERT, f) != CERT ||
	    fwrite(amd, 1, amd_len, f) != amd_len || fclose(f))
		die("cannot write %s", path);
	sevmig_sim_free(sim);
	return 0;
}
