// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void log_to_stderr(void *opaque, uint32_t level, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "sevmig: %s%s\n",
		level == SEVMIG_LOG_ERR ? "" : "note: ", msg);
}

int cli_ctx_new(struct sevmig_ctx **ret_ctx, bool verbose)
{
	struct sevmig_ctx_opts opts = {
		.size = sizeof(opts),
		.log = log_to_stderr,
		.log_level = verbose ? SEVMIG_LOG_DEBUG : SEVMIG_LOG_ERR,
	};
	int ret = sevmig_ctx_new(&opts, ret_ctx);

	if (ret)
		fprintf(stderr, "sevmig: cannot create a context: %s\n",
			sevmig_strerror(ret));
	return ret;
}

const char *cli_errno_name(int err, char *buf, size_t len)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { E2BIG, "E2BIG" },
		{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" },
		{ ENOSYS, "ENOSYS" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EBADMSG, "EBADMSG" },
		{ 524, "ENOTSUPP" },
	};

	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, len, "errno %d", err);
	return buf;
}

static void json_sep(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
	if (key)
		fprintf(j->out, "\"%s\": ", key);
}

static void json_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_open(struct json *j, const char *key, char c)
{
	json_sep(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < (int)(sizeof(j->first) / sizeof(j->first[0])))
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(c, j->out);
}

void json_begin(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	fputc('{', out);
	j->depth = 1;
	j->first[1] = true;	/* top-level keys sit one level in */
}

void json_end(struct json *j)
{
	fputs("\n}\n", j->out);
}

void json_obj_open(struct json *j, const char *key) { json_open(j, key, '{'); }
void json_obj_close(struct json *j) { json_close(j, '}'); }
void json_arr_open(struct json *j, const char *key) { json_open(j, key, '['); }
void json_arr_close(struct json *j) { json_close(j, ']'); }

void json_str(struct json *j, const char *key, const char *val)
{
	json_sep(j, key);
	if (val)
		json_escaped(j->out, val);
	else
		fputs("null", j->out);
}

void json_int(struct json *j, const char *key, int64_t val)
{
	json_sep(j, key);
	fprintf(j->out, "%" PRId64, val);
}

void json_uint(struct json *j, const char *key, uint64_t val)
{
	json_sep(j, key);
	fprintf(j->out, "%" PRIu64, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_sep(j, key);
	fputs(val ? "true" : "false", j->out);
}

void json_hex(struct json *j, const char *key, uint64_t val)
{
	json_sep(j, key);
	fprintf(j->out, "\"0x%" PRIx64 "\"", val);
}

const char *cli_platform_state_name(uint32_t state)
{
	switch (state) {
	case SEVMIG_PLATFORM_UNINIT: return "UNINIT";
	case SEVMIG_PLATFORM_INIT: return "INIT";
	case SEVMIG_PLATFORM_WORKING: return "WORKING";
	default: return "unknown";
	}
}
