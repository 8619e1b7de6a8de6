// SPDX-License-Identifier: MIT
/*
 * sevmig cert show: what a certificate file says about itself. Accepts one
 * SEV certificate, one AMD certificate, a platform chain (PEK || OCA || CEK)
 * or an AMD chain (ASK || ARK).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_FILE 65536

void cmd_cert_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig cert show FILE [--json] [--verbose]\n\n"
		"Parses FILE and prints each certificate in it: format, usage,\n"
		"algorithm, curve or key size, firmware API version, signers and\n"
		"key ids. FILE may hold one SEV certificate (PDH, PEK, OCA, CEK;\n"
		"2084 bytes), one AMD certificate (ASK, ARK), a platform chain\n"
		"(PEK || OCA || CEK, 6252 bytes) or an AMD chain (ASK || ARK).\n"
		"The checks are structural: no signature is verified.\n\n"
		"  --json     machine-readable output\n"
		"  --verbose  log more to stderr\n");
}

static const char *usage_name(uint32_t u)
{
	switch (u) {
	case SEVMIG_CERT_USAGE_ARK: return "ARK";
	case SEVMIG_CERT_USAGE_ASK: return "ASK";
	case SEVMIG_CERT_USAGE_NONE: return "none";
	case SEVMIG_CERT_USAGE_OCA: return "OCA";
	case SEVMIG_CERT_USAGE_PEK: return "PEK";
	case SEVMIG_CERT_USAGE_PDH: return "PDH";
	case SEVMIG_CERT_USAGE_CEK: return "CEK";
	default: return "unknown";
	}
}

static const char *algo_name(uint32_t a)
{
	switch (a) {
	case SEVMIG_CERT_ALGO_RSA_SHA256: return "RSA SHA-256";
	case SEVMIG_CERT_ALGO_ECDSA_SHA256: return "ECDSA SHA-256";
	case SEVMIG_CERT_ALGO_ECDH_SHA256: return "ECDH SHA-256";
	case SEVMIG_CERT_ALGO_RSA_SHA384: return "RSA SHA-384";
	case SEVMIG_CERT_ALGO_ECDSA_SHA384: return "ECDSA SHA-384";
	case SEVMIG_CERT_ALGO_ECDH_SHA384: return "ECDH SHA-384";
	case 0: return "none";
	default: return "unknown";
	}
}

static const char *key_desc(const struct sevmig_cert_info *c, char *buf,
			    size_t len)
{
	static const char *const kinds[] = { "?", "RSA", "ECDSA", "ECDH" };
	const char *kind = c->key_type < 4 ? kinds[c->key_type] : "?";

	if (c->curve)
		snprintf(buf, len, "%s P-%u", kind, c->key_bits);
	else
		snprintf(buf, len, "%s %u bits", kind, c->key_bits);
	return buf;
}

static void hex16(const uint8_t *id, char *out)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
}

static void print_text(const struct sevmig_cert_info *c)
{
	char buf[64], id[33];

	printf("  %-13s %s certificate (%u bytes, version %u)\n", "format:",
	       c->type == SEVMIG_CERT_SEV ? "SEV" : "AMD", c->length, c->version);
	printf("  %-13s %s (0x%x)\n", "usage:", usage_name(c->usage), c->usage);
	if (c->type == SEVMIG_CERT_SEV)
		printf("  %-13s %s (0x%x)\n", "algorithm:", algo_name(c->algo),
		       c->algo);
	printf("  %-13s %s\n", "key:", key_desc(c, buf, sizeof(buf)));
	if (c->type == SEVMIG_CERT_SEV) {
		printf("  %-13s %u.%u\n", "API version:", c->api_major,
		       c->api_minor);
		printf("  %-13s %s (%s)", "signed by:", usage_name(c->sig1_usage),
		       algo_name(c->sig1_algo));
		if (c->sig2_usage != SEVMIG_CERT_USAGE_NONE)
			printf(", %s (%s)", usage_name(c->sig2_usage),
			       algo_name(c->sig2_algo));
		printf("\n  %-13s none (the SEV format carries no key ids)\n",
		       "key ids:");
	} else {
		printf("  %-13s %u bits\n", "exponent:", c->pub_exp_bits);
		printf("  %-13s %u bytes (RSA-%u signer)\n", "signature:",
		       c->sig_bytes, c->sig_bytes * 8);
		hex16(c->key_id, id);
		printf("  %-13s %s\n", "key id:", id);
		hex16(c->certifying_id, id);
		printf("  %-13s %s%s\n", "certified by:", id,
		       c->usage == SEVMIG_CERT_USAGE_ARK ? " (itself)" : "");
	}
}

static void print_json(struct json *j, const struct sevmig_cert_info *c)
{
	char buf[64], id[33];

	json_obj_open(j, NULL);
	json_str(j, "format", c->type == SEVMIG_CERT_SEV ? "sev" : "amd");
	json_uint(j, "length", c->length);
	json_uint(j, "version", c->version);
	json_str(j, "usage", usage_name(c->usage));
	json_hex(j, "usage_code", c->usage);
	json_str(j, "key", key_desc(c, buf, sizeof(buf)));
	json_uint(j, "key_bits", c->key_bits);
	if (c->curve)
		json_str(j, "curve", c->curve == SEVMIG_CERT_CURVE_P256 ?
				     "P-256" : "P-384");
	if (c->type == SEVMIG_CERT_SEV) {
		json_str(j, "algorithm", algo_name(c->algo));
		json_hex(j, "algorithm_code", c->algo);
		snprintf(buf, sizeof(buf), "%u.%u", c->api_major, c->api_minor);
		json_str(j, "api_version", buf);
		json_str(j, "sig1_signer", usage_name(c->sig1_usage));
		json_str(j, "sig1_algorithm", algo_name(c->sig1_algo));
		json_str(j, "sig2_signer", usage_name(c->sig2_usage));
		json_str(j, "sig2_algorithm", algo_name(c->sig2_algo));
	} else {
		json_uint(j, "pub_exp_bits", c->pub_exp_bits);
		json_uint(j, "signature_bytes", c->sig_bytes);
		hex16(c->key_id, id);
		json_str(j, "key_id", id);
		hex16(c->certifying_id, id);
		json_str(j, "certifying_id", id);
	}
	json_obj_close(j);
}

static int parse_one(struct sevmig_ctx *ctx, const uint8_t *b, size_t len,
		     struct sevmig_cert_info *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	return sevmig_cert_parse(ctx, b, len, c, 0);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Split @buf into certificates; returns how many, or -1 (logged). */
static int parse_file(struct sevmig_ctx *ctx, const uint8_t *b, size_t len,
		      struct sevmig_cert_info out[3])
{
	if (len == 3u * 2084u) {
		for (int i = 0; i < 3; i++)
			if (parse_one(ctx, b + 2084u * (size_t)i, 2084, &out[i]))
				return -1;
		return 3;
	}
	/* An AMD chain: the ASK's length depends on the ARK's modulus. */
	if (len > 64 && len != 2084) {
		size_t body = 64 + rd32(b + 56) / 8u + rd32(b + 60) / 8u;

		for (size_t sig = 256; sig <= 512; sig += 256) {
			if (body + sig >= len)
				break;
			if (!parse_one(NULL, b, body + sig, &out[0]) &&
			    !parse_one(NULL, b + body + sig, len - body - sig,
				       &out[1]))
				return 2;
		}
	}
	return parse_one(ctx, b, len, &out[0]) ? -1 : 1;
}

int cmd_cert(int argc, char **argv)
{
	struct sevmig_cert_info certs[3];
	const char *file = NULL;
	struct sevmig_ctx *ctx;
	bool json = false, verbose = false;
	uint8_t *buf;
	size_t len;
	FILE *f;
	int n;

	if (argc < 2 || strcmp(argv[1], "show")) {
		fprintf(stderr, "sevmig cert: expected 'show FILE'\n\n");
		cmd_cert_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_cert_usage(stdout);
			return CLI_EXIT_OK;
		} else if (!file && argv[i][0] != '-')
			file = argv[i];
		else {
			fprintf(stderr, "sevmig cert show: unexpected argument '%s'\n\n",
				argv[i]);
			cmd_cert_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!file) {
		fprintf(stderr, "sevmig cert show: FILE is required\n\n");
		cmd_cert_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "sevmig cert show: cannot open %s: %s\n", file,
			strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	buf = malloc(MAX_FILE + 1);
	len = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!buf || len > MAX_FILE || len == 0) {
		fprintf(stderr, "sevmig cert show: %s: %s\n", file,
			!buf ? "out of memory" :
			len ? "larger than any certificate (64 KiB)" :
			      "empty file");
		free(buf);
		return CLI_EXIT_FAILURE;
	}
	if (cli_ctx_new(&ctx, verbose)) {
		free(buf);
		return CLI_EXIT_FAILURE;
	}
	n = parse_file(ctx, buf, len, certs);
	sevmig_ctx_free(ctx);
	free(buf);
	if (n < 0) {
		fprintf(stderr,
			"sevmig cert show: %s is not a valid SEV or AMD certificate or chain (%zu bytes)\n",
			file, len);
		return CLI_EXIT_FAILURE;
	}
	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "file", file);
		json_uint(&j, "bytes", len);
		json_arr_open(&j, "certificates");
		for (int i = 0; i < n; i++)
			print_json(&j, &certs[i]);
		json_arr_close(&j);
		json_end(&j);
	} else {
		printf("%s: %d certificate%s, %zu bytes\n", file, n,
		       n == 1 ? "" : "s", len);
		for (int i = 0; i < n; i++) {
			printf("%s%s\n", i ? "\n" : "", usage_name(certs[i].usage));
			print_text(&certs[i]);
		}
	}
	return CLI_EXIT_OK;
}
