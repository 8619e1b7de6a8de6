// SPDX-License-Identifier: MIT
/*
 * sevmig cert show: what a certificate file says about itself. Accepts one
 * SEV certificate, one AMD certificate, a platform chain (PEK || OCA || CEK)
 * or an AMD chain (ASK || ARK).
 *
 * sevmig cert verify: a target's whole chain judged as the library judges
 * it before SEND_START (sevmig_cert_check_target()), with every signature
 * verified by libsevmig-sim's sevmig_sim_cert_verify() when this tool was
 * built with the simulator (it has the only SEV/AMD signature code, on
 * OpenSSL), and a report of each link and of the root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef SEVMIG_CLI_HAVE_SIM
#include <sevmig/sim.h>
#endif

#define MAX_FILE 65536

/* Can this build verify signatures (it links libsevmig-sim)? */
static bool cli_have_verifier(void)
{
#ifdef SEVMIG_CLI_HAVE_SIM
	return true;
#else
	return false;
#endif
}

void cmd_cert_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig cert show FILE [--json] [--verbose]\n"
		"       sevmig cert verify --pdh FILE\n"
		"                          (--chain FILE | --pek FILE --oca FILE --cek FILE)\n"
		"                          (--amd-chain FILE | --ask FILE --ark FILE)\n"
		"                          [--add-ark FILE]... [--json] [--verbose]\n\n"
		"show parses FILE and prints each certificate in it: format, usage,\n"
		"algorithm, curve or key size, firmware API version, signers and\n"
		"key ids. FILE may hold one SEV certificate (PDH, PEK, OCA, CEK;\n"
		"2084 bytes), one AMD certificate (ASK, ARK), a platform chain\n"
		"(PEK || OCA || CEK, 6252 bytes) or an AMD chain (ASK || ARK).\n"
		"Its checks are structural: no signature is verified.\n\n"
		"verify judges a migration target's whole chain: the structural\n"
		"checks, each signature (ARK -> ASK -> CEK -> PEK -> PDH and\n"
		"OCA -> PEK; %s), and whether the ARK is a genuine AMD root (and of\n"
		"which generation) or one given with --add-ark. --chain is the\n"
		"cert_chain.cert that 'sevmig pdh-export' writes.\n"
		"Exit: 0 every signature verifies and the root is trusted; 3 the\n"
		"chain is refused (the reasons and the failing link are printed);\n"
		"1 a file cannot be read or used, or signatures cannot be checked\n"
		"by this build; 2 bad command line.\n\n"
		"  --add-ark FILE  also trust this ARK (repeatable)\n"
		"  --json          machine-readable output\n"
		"  --verbose       log more to stderr\n",
		cli_have_verifier() ?
		"verified with OpenSSL through libsevmig-sim" :
		"NOT available: this sevmig was built without libsevmig-sim");
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

/* The whole of @path (at most MAX_FILE bytes), or NULL after saying why. */
static uint8_t *read_cert_file(const char *cmd, const char *path,
			       size_t *ret_len)
{
	uint8_t *buf;
	size_t len;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sevmig cert %s: cannot open %s: %s\n", cmd,
			path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_FILE + 1);
	len = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!buf || len > MAX_FILE || len == 0) {
		fprintf(stderr, "sevmig cert %s: %s: %s\n", cmd, path,
			!buf ? "out of memory" :
			len ? "larger than any certificate (64 KiB)" :
			      "empty file");
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

static int cert_show(int argc, char **argv)
{
	struct sevmig_cert_info certs[3];
	const char *file = NULL;
	struct sevmig_ctx *ctx;
	bool json = false, verbose = false;
	uint8_t *buf;
	size_t len;
	int n;

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
	buf = read_cert_file("show", file, &len);
	if (!buf)
		return CLI_EXIT_FAILURE;
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

/* ------------------------------------------------------------- verify */

/* The links of a target chain, in the order they are reported. */
enum { L_ARK_ASK, L_ASK_CEK, L_CEK_PEK, L_OCA_PEK, L_PEK_PDH, NR_LINKS };

static const struct {
	uint32_t signer, cert;
} link_usage[NR_LINKS] = {
	[L_ARK_ASK] = { SEVMIG_CERT_USAGE_ARK, SEVMIG_CERT_USAGE_ASK },
	[L_ASK_CEK] = { SEVMIG_CERT_USAGE_ASK, SEVMIG_CERT_USAGE_CEK },
	[L_CEK_PEK] = { SEVMIG_CERT_USAGE_CEK, SEVMIG_CERT_USAGE_PEK },
	[L_OCA_PEK] = { SEVMIG_CERT_USAGE_OCA, SEVMIG_CERT_USAGE_PEK },
	[L_PEK_PDH] = { SEVMIG_CERT_USAGE_PEK, SEVMIG_CERT_USAGE_PDH },
};

struct verify_run {
	/* Filled by the verifier as the library walks the chain. */
	bool checked[NR_LINKS];
	int result[NR_LINKS];
	/* The library's refusals, for --json; printed to stderr as they come. */
	char errors[16][512];
	unsigned int nerrors;
	bool quiet;
};

static void verify_log(void *opaque, uint32_t level, const char *msg)
{
	struct verify_run *v = opaque;

	if (v->quiet)
		return;
	fprintf(stderr, "sevmig: %s%s\n", level == SEVMIG_LOG_ERR ? "" : "note: ",
		msg);
	if (level == SEVMIG_LOG_ERR && v->nerrors < 16)
		snprintf(v->errors[v->nerrors++], sizeof(v->errors[0]), "%s",
			 msg);
}

#ifdef SEVMIG_CLI_HAVE_SIM
/*
 * The context's verifier: libsevmig-sim's, which knows both certificate
 * formats; each answer is recorded against the link it belongs to.
 */
static int record_verify(void *opaque, const void *cert, size_t cert_len,
			 const void *signer, size_t signer_len)
{
	struct verify_run *v = opaque;
	struct sevmig_cert_info c = { .size = sizeof(c) };
	struct sevmig_cert_info s = { .size = sizeof(s) };
	int ret = sevmig_sim_cert_verify(cert, cert_len, signer, signer_len, 0);

	if (sevmig_cert_parse(NULL, cert, cert_len, &c, 0) ||
	    sevmig_cert_parse(NULL, signer, signer_len, &s, 0))
		return ret;
	for (int l = 0; l < NR_LINKS; l++) {
		if (link_usage[l].cert == c.usage &&
		    link_usage[l].signer == s.usage) {
			v->checked[l] = true;
			v->result[l] = ret;
		}
	}
	return ret;
}
#endif

/* Read one file, or several concatenated (PEK, OCA, CEK; ASK, ARK). */
static uint8_t *load_parts(const char *const *paths, int n, size_t *ret_len)
{
	uint8_t *all = NULL, *part, *grown;
	size_t len = 0, plen;

	for (int i = 0; i < n; i++) {
		part = read_cert_file("verify", paths[i], &plen);
		grown = part ? realloc(all, len + plen) : NULL;
		if (!grown) {
			if (part)
				fprintf(stderr, "sevmig cert verify: out of memory\n");
			free(part);
			free(all);
			return NULL;
		}
		all = grown;
		memcpy(all + len, part, plen);
		len += plen;
		free(part);
	}
	*ret_len = len;
	return all;
}

struct verify_args {
	const char *pdh, *chain, *pek, *oca, *cek, *amd, *ask, *ark;
	const char *add[SEVMIG_MAX_ADDED_ARKS];
	unsigned int nadd;
	bool json, verbose;
};

/* "sevmig cert verify: [ARG: ]MSG", then the usage. */
static int verify_usage_error(const char *arg, const char *msg)
{
	fprintf(stderr, "sevmig cert verify: %s%s%s\n\n", arg ? arg : "",
		arg ? ": " : "", msg);
	cmd_cert_usage(stderr);
	return CLI_EXIT_USAGE;
}

/* 0, or an exit code (usage error, or --help answered). */
static int verify_parse_args(int argc, char **argv, struct verify_args *a)
{
	const struct {
		const char *opt;
		const char **dst;
	} files[] = {
		{ "--pdh", &a->pdh }, { "--chain", &a->chain },
		{ "--pek", &a->pek }, { "--oca", &a->oca }, { "--cek", &a->cek },
		{ "--amd-chain", &a->amd }, { "--ask", &a->ask },
		{ "--ark", &a->ark },
	};

	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		size_t f;

		if (!strcmp(argv[i], "--json")) {
			a->json = true;
			continue;
		}
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			a->verbose = true;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_cert_usage(stdout);
			return -1;
		}
		if (i + 1 >= argc)
			return verify_usage_error(argv[i], "needs a FILE");
		if (!strcmp(argv[i], "--add-ark")) {
			if (a->nadd == SEVMIG_MAX_ADDED_ARKS)
				return verify_usage_error(NULL,
							  "at most 16 --add-ark");
			a->add[a->nadd++] = argv[++i];
			continue;
		}
		for (f = 0; f < sizeof(files) / sizeof(files[0]); f++)
			if (!strcmp(argv[i], files[f].opt))
				break;
		if (f == sizeof(files) / sizeof(files[0]))
			return verify_usage_error(argv[i],
						  "unexpected argument");
		*files[f].dst = argv[++i];
	}
	if (!a->pdh)
		return verify_usage_error(NULL, "--pdh FILE is required");
	if (!!a->chain == !!(a->pek || a->oca || a->cek) ||
	    (!a->chain && !(a->pek && a->oca && a->cek)))
		return verify_usage_error(NULL,
					  "give the platform chain as --chain FILE or as --pek, --oca and --cek");
	if (!!a->amd == !!(a->ask || a->ark) ||
	    (!a->amd && !(a->ask && a->ark)))
		return verify_usage_error(NULL,
					  "give the AMD chain as --amd-chain FILE or as --ask and --ark");
	return 0;
}

/* What the chain's certificates are, for naming each link's signer. */
struct chain_info {
	struct sevmig_cert_info cert[6];	/* PDH, PEK, OCA, CEK, ASK, ARK */
	bool known[6];
};

static int cert_index(uint32_t usage)
{
	switch (usage) {
	case SEVMIG_CERT_USAGE_PDH: return 0;
	case SEVMIG_CERT_USAGE_PEK: return 1;
	case SEVMIG_CERT_USAGE_OCA: return 2;
	case SEVMIG_CERT_USAGE_CEK: return 3;
	case SEVMIG_CERT_USAGE_ASK: return 4;
	default: return 5;
	}
}

static void chain_describe(const uint8_t *pdh, size_t pdh_len,
			   const uint8_t *plat, size_t plat_len,
			   const uint8_t *amd, size_t amd_len,
			   struct chain_info *ci)
{
	struct sevmig_cert_info two[3];

	memset(ci, 0, sizeof(*ci));
	ci->known[0] = !parse_one(NULL, pdh, pdh_len, &ci->cert[0]);
	for (int k = 0; plat_len == 3u * 2084u && k < 3; k++)
		ci->known[1 + k] = !parse_one(NULL, plat + 2084u * (size_t)k,
					      2084, &ci->cert[1 + k]);
	if (parse_file(NULL, amd, amd_len, two) == 2) {
		ci->cert[4] = two[0];
		ci->cert[5] = two[1];
		ci->known[4] = ci->known[5] = true;
	}
}

static const char *link_state(const struct verify_run *v, int l)
{
	if (!v->checked[l])
		return "unchecked";
	return v->result[l] ? "bad" : "ok";
}

static void print_verify_text(const struct verify_run *v,
			      const struct chain_info *ci, uint64_t reasons,
			      uint32_t origin, bool verified)
{
	char key[64], id[33];

	printf("signatures (%s):\n", cli_have_verifier() ?
	       "verified with OpenSSL through libsevmig-sim" :
	       "not checked: this sevmig was built without libsevmig-sim");
	for (int l = 0; l < NR_LINKS; l++) {
		int si = cert_index(link_usage[l].signer);
		const struct sevmig_cert_info *s = &ci->cert[si];

		printf("  %s -> %s  %-9s", usage_name(link_usage[l].signer),
		       usage_name(link_usage[l].cert), link_state(v, l));
		if (ci->known[si]) {
			printf(" signer key %s", key_desc(s, key, sizeof(key)));
			if (s->type == SEVMIG_CERT_AMD) {
				hex16(s->key_id, id);
				printf(", key id %s", id);
			}
		}
		if (v->checked[l] && v->result[l])
			printf(": %s", sevmig_strerror(v->result[l]));
		printf("\n");
	}
	if (ci->known[5]) {
		hex16(ci->cert[5].key_id, id);
		if (origin == SEVMIG_ARK_ADDED)
			printf("root: ARK %s, trusted: added with --add-ark\n", id);
		else if (origin)
			printf("root: ARK %s, AMD's genuine %s root\n", id,
			       sevmig_ark_name(origin));
		else
			printf("root: ARK %s, NOT trusted: not a genuine AMD root\n",
			       id);
	} else {
		printf("root: not found (the AMD chain is malformed)\n");
	}
	printf("verdict: %s\n", verified ? "verified" : reasons ? "refused" :
	       "structure and root fine, signatures NOT verified");
	for (unsigned int b = 0; b < 64; b++)
		if (reasons & (1ULL << b))
			printf("  - %s\n", sevmig_reason_string(1ULL << b));
}

static void print_verify_json(const struct verify_run *v,
			      const struct chain_info *ci, uint64_t reasons,
			      uint32_t origin, bool verified)
{
	char key[64], id[33], name[16];
	struct json j;

	json_begin(&j, stdout);
	json_bool(&j, "verified", verified);
	json_bool(&j, "signatures_checked", cli_have_verifier());
	json_arr_open(&j, "links");
	for (int l = 0; l < NR_LINKS; l++) {
		int si = cert_index(link_usage[l].signer);

		json_obj_open(&j, NULL);
		snprintf(name, sizeof(name), "%s -> %s",
			 usage_name(link_usage[l].signer),
			 usage_name(link_usage[l].cert));
		json_str(&j, "link", name);
		json_str(&j, "signer", usage_name(link_usage[l].signer));
		json_str(&j, "certificate", usage_name(link_usage[l].cert));
		json_str(&j, "signature", link_state(v, l));
		if (ci->known[si]) {
			json_str(&j, "signer_key",
				 key_desc(&ci->cert[si], key, sizeof(key)));
			if (ci->cert[si].type == SEVMIG_CERT_AMD) {
				hex16(ci->cert[si].key_id, id);
				json_str(&j, "signer_key_id", id);
			}
		}
		json_str(&j, "error", v->checked[l] && v->result[l] ?
			 sevmig_strerror(v->result[l]) : NULL);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_open(&j, "root");
	if (ci->known[5]) {
		hex16(ci->cert[5].key_id, id);
		json_str(&j, "key_id", id);
	}
	json_bool(&j, "trusted", origin != 0);
	json_bool(&j, "genuine_amd", origin && origin != SEVMIG_ARK_ADDED);
	json_str(&j, "generation", origin && origin != SEVMIG_ARK_ADDED ?
		 sevmig_ark_name(origin) : NULL);
	json_obj_close(&j);
	json_hex(&j, "reason_mask", reasons);
	json_arr_open(&j, "reasons");
	for (unsigned int b = 0; b < 64; b++)
		if (reasons & (1ULL << b))
			json_str(&j, NULL, sevmig_reason_string(1ULL << b));
	json_arr_close(&j);
	json_arr_open(&j, "errors");
	for (unsigned int i = 0; i < v->nerrors; i++)
		json_str(&j, NULL, v->errors[i]);
	json_arr_close(&j);
	json_end(&j);
}

static int cert_verify(int argc, char **argv)
{
	static struct verify_run v;	/* 8 KiB of messages: not on the stack */
	struct sevmig_ctx_opts o = { .size = sizeof(o) };
	uint8_t *pdh = NULL, *plat = NULL, *amd = NULL;
	size_t pdh_len, plat_len, amd_len;
	struct sevmig_target_certs t = { .size = sizeof(t) };
	struct sevmig_ctx *ctx = NULL;
	struct chain_info ci;
	struct verify_args a;
	uint64_t reasons = 0, root_reasons;
	uint32_t origin = 0;
	bool verified;
	int ret, rc = CLI_EXIT_FAILURE;

	ret = verify_parse_args(argc, argv, &a);
	if (ret)
		return ret < 0 ? CLI_EXIT_OK : ret;
	{
		const char *plat_parts[3] = { a.pek, a.oca, a.cek };
		const char *amd_parts[2] = { a.ask, a.ark };

		pdh = load_parts(&a.pdh, 1, &pdh_len);
		plat = a.chain ? load_parts(&a.chain, 1, &plat_len) :
				 load_parts(plat_parts, 3, &plat_len);
		amd = a.amd ? load_parts(&a.amd, 1, &amd_len) :
			      load_parts(amd_parts, 2, &amd_len);
	}
	if (!pdh || !plat || !amd)
		goto out;

	memset(&v, 0, sizeof(v));
	o.log = verify_log;
	o.log_opaque = &v;
	o.log_level = a.verbose ? SEVMIG_LOG_DEBUG : SEVMIG_LOG_ERR;
#ifdef SEVMIG_CLI_HAVE_SIM
	o.verify = record_verify;
	o.verify_opaque = &v;
#endif
	ret = sevmig_ctx_new(&o, &ctx);
	if (ret) {
		fprintf(stderr, "sevmig cert verify: cannot create a context: %s\n",
			sevmig_strerror(ret));
		goto out;
	}
	for (unsigned int i = 0; i < a.nadd; i++) {
		size_t len;
		uint8_t *ark = read_cert_file("verify", a.add[i], &len);

		ret = ark ? sevmig_ctx_add_ark(ctx, ark, len, 0) : -ENOENT;
		free(ark);
		if (ret) {
			if (ret != -ENOENT)
				fprintf(stderr, "sevmig cert verify: --add-ark %s: %s\n",
					a.add[i], sevmig_strerror(ret));
			goto out;
		}
	}
	/* The links are recorded from here on. */
	memset(v.checked, 0, sizeof(v.checked));
	t.pdh = pdh;
	t.pdh_len = pdh_len;
	t.plat_chain = plat;
	t.plat_chain_len = plat_len;
	t.amd_chain = amd;
	t.amd_chain_len = amd_len;
	ret = sevmig_cert_check_target(ctx, &t, 0, &reasons);
	if (ret) {
		fprintf(stderr, "sevmig cert verify: %s\n", sevmig_strerror(ret));
		goto out;
	}
	/* Which root: asked quietly, check_target said it all already. */
	v.quiet = true;
	if (sevmig_cert_check_root(ctx, amd, amd_len, &origin, &root_reasons) ||
	    root_reasons & ~SEVMIG_REASON_TARGET_CERT_LINK)
		origin = 0;
	v.quiet = false;

	chain_describe(pdh, pdh_len, plat, plat_len, amd, amd_len, &ci);
	verified = !reasons && cli_have_verifier();
	for (int l = 0; l < NR_LINKS; l++)
		verified = verified && v.checked[l] && !v.result[l];
	if (a.json)
		print_verify_json(&v, &ci, reasons, origin, verified);
	else
		print_verify_text(&v, &ci, reasons, origin, verified);
	if (verified)
		rc = CLI_EXIT_OK;
	else if (reasons)
		rc = CLI_EXIT_UNAVAILABLE;
	else
		fprintf(stderr, "sevmig cert verify: %s\n", cli_have_verifier() ?
			"not every signature was checked" :
			"signatures cannot be verified: this sevmig was built without libsevmig-sim (libcrypto)");
out:
	sevmig_ctx_free(ctx);
	free(pdh);
	free(plat);
	free(amd);
	return rc;
}

int cmd_cert(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return cert_show(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cert_verify(argc, argv);
	fprintf(stderr, "sevmig cert: expected 'show FILE' or 'verify ...'\n\n");
	cmd_cert_usage(stderr);
	return CLI_EXIT_USAGE;
}
