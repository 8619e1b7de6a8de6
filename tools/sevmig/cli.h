/* SPDX-License-Identifier: MIT */
/* Shared helpers of the sevmig CLI: exit codes, output, JSON. */
#ifndef SEVMIG_CLI_H
#define SEVMIG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sevmig/sevmig.h>

/* Exit codes, documented in `sevmig --help` and docs/cli.md. */
enum {
	CLI_EXIT_OK = 0,        /* done; for probe: the probe ran */
	CLI_EXIT_FAILURE = 1,   /* the operation failed (message on stderr) */
	CLI_EXIT_USAGE = 2,     /* bad command line */
	CLI_EXIT_UNAVAILABLE = 3, /* a --require'd verdict is "no" */
};

struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
};

/* A context whose errors go to stderr, prefixed "sevmig: ". */
int cli_ctx_new(struct sevmig_ctx **ret_ctx, bool verbose);
/* "UNINIT", "INIT", "WORKING" for SEVMIG_PLATFORM_*; "unknown" otherwise. */
const char *cli_platform_state_name(uint32_t state);
/* "ENOENT" for -2; "errno N" when unknown. Static or @buf. */
const char *cli_errno_name(int err, char *buf, size_t len);

/* Minimal JSON writer: enough for flat objects with nested objects/arrays. */
struct json {
	FILE *out;
	int depth;
	bool first[16];
};
void json_begin(struct json *j, FILE *out);
void json_end(struct json *j);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, int64_t val);
void json_uint(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_hex(struct json *j, const char *key, uint64_t val);

int cmd_probe(int argc, char **argv);
void cmd_probe_usage(FILE *out);
int cmd_pdh(int argc, char **argv);
void cmd_pdh_usage(FILE *out);
int cmd_cert(int argc, char **argv);
void cmd_cert_usage(FILE *out);
int cmd_policy(int argc, char **argv);
void cmd_policy_usage(FILE *out);
int cmd_inspect(int argc, char **argv);
void cmd_inspect_usage(FILE *out);

#endif /* SEVMIG_CLI_H */
