// SPDX-License-Identifier: MIT
/*
 * sevmig inspect: what saved migration streams hold, and where one is
 * damaged (sevmig_stream_inspect()). Given the files of every channel of
 * one stream, it also checks each channel against END's counts and digests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_FILES 16

void cmd_inspect_usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig inspect FILE... [--json] [--require complete] [--verbose]\n\n"
		"Reads saved libsevmig migration streams (what a send session in\n"
		"SEVMIG_COMMIT_FLUSH mode wrote, one file per channel, or a HELLO a\n"
		"target exported) and says what each holds: stream version and\n"
		"features, channel and direction, session, records by type, pages\n"
		"by kind, passes, START's guest policy and RAM, the page-state map,\n"
		"and whether END and COMMIT are there (complete). Every header,\n"
		"checksum, sequence number and record field is checked; damage is\n"
		"reported with the record, its byte offset and the field, and\n"
		"exits 1. Given the files of every channel of one stream, each\n"
		"channel is also checked against END's counts and digests.\n\n"
		"  --json              machine-readable output\n"
		"  --require complete  exit 3 unless every file is complete\n"
		"  --verbose           log more to stderr\n");
}

/* The first error the library logged for the file being read. */
struct capture {
	char first[512];
	bool have;
	bool verbose;
};

static void on_log(void *opaque, uint32_t level, const char *msg)
{
	struct capture *c = opaque;

	if (level == SEVMIG_LOG_ERR && !c->have) {
		snprintf(c->first, sizeof(c->first), "%s", msg);
		c->have = true;
	}
	fprintf(stderr, "sevmig: %s%s\n", level == SEVMIG_LOG_ERR ? "" : "note: ",
		msg);
}

static const char *err_name(int err, char *buf, size_t len)
{
	if (err == -EPROTO)
		return "EPROTO";
	if (err == -EPIPE)
		return "EPIPE";
	return cli_errno_name(err, buf, len);
}

static const char *dir_name(uint32_t d)
{
	return d == 1 ? "source to destination" :
	       d == 2 ? "destination to source" : "unknown";
}

static const char *commit_name(uint32_t m)
{
	return m == SEVMIG_COMMIT_ACK ? "ACK" :
	       m == SEVMIG_COMMIT_FLUSH ? "FLUSH" : "none";
}

static void hex_id(const uint8_t *id, char out[33])
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
}

struct file {
	const char *path;
	uint64_t size;
	int ret;
	struct sevmig_stream_info info;
	char msg[512];
};

static int inspect_file(struct sevmig_ctx *ctx, struct capture *cap,
			struct file *f)
{
	struct sevmig_channel *ch = NULL;
	struct stat sb;
	int fd, ret;

	memset(&f->info, 0, sizeof(f->info));
	f->info.size = sizeof(f->info);
	cap->have = false;
	cap->first[0] = 0;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "sevmig inspect: %s: %s\n", f->path,
			sevmig_strerror(ret));
		return ret;
	}
	if (!fstat(fd, &sb))
		f->size = (uint64_t)sb.st_size;
	ret = sevmig_channel_from_fds(ctx, fd, -1, 0, &ch);
	if (!ret)
		ret = sevmig_stream_inspect(ctx, ch, &f->info, 0);
	sevmig_channel_free(ch);
	close(fd);
	f->ret = ret;
	snprintf(f->msg, sizeof(f->msg), "%s", cap->have ? cap->first : "");
	return 0;
}

static void records_line(const struct sevmig_stream_info *in)
{
	bool first = true;

	printf("  %-15s %llu", "records", (unsigned long long)in->records);
	for (uint32_t t = 1; t < 12; t++) {
		if (!in->records_by_type[t])
			continue;
		printf("%s%s %llu", first ? ": " : ", ",
		       sevmig_stream_record_name(t),
		       (unsigned long long)in->records_by_type[t]);
		first = false;
	}
	if (in->records_by_type[0])
		printf("%sskipped optional %llu", first ? ": " : ", ",
		       (unsigned long long)in->records_by_type[0]);
	printf("\n");
}

static void print_text(const struct file *f)
{
	const struct sevmig_stream_info *in = &f->info;
	char id[33], buf[32];

	printf("%s: %llu bytes", f->path, (unsigned long long)f->size);
	if (in->version)
		printf(", libsevmig migration stream version %u", in->version);
	printf("\n");
	if (in->version) {
		printf("  %-15s %u of %u, %s\n", "channel", in->channel,
		       in->nr_channels, dir_name(in->direction));
		hex_id(in->session_id, id);
		printf("  %-15s %s\n", "session", id);
		printf("  %-15s required 0x%llx, optional 0x%llx\n", "features",
		       (unsigned long long)in->required_features,
		       (unsigned long long)in->optional_features);
	}
	if (in->seen & SEVMIG_STREAM_SEEN_HELLO)
		printf("  %-15s firmware API %u.%u, build %u\n", "HELLO",
		       in->fw_api_major, in->fw_api_minor, in->fw_build);
	if (in->seen & SEVMIG_STREAM_SEEN_START)
		printf("  %-15s guest policy 0x%08x, commit mode %s, RAM %llu KiB in %u region%s\n",
		       "START", in->guest_policy, commit_name(in->commit_mode),
		       (unsigned long long)(in->ram_bytes >> 10), in->ram_regions,
		       in->ram_regions == 1 ? "" : "s");
	if (in->version)
		records_line(in);
	if (in->direction == 1 && in->version)
		printf("  %-15s %llu private, %llu shared, in %u pass%s%s\n",
		       "pages", (unsigned long long)in->pages_private,
		       (unsigned long long)in->pages_shared, in->passes,
		       in->passes == 1 ? "" : "es",
		       in->seen & SEVMIG_STREAM_SEEN_LAST_PASS ?
		       " (the last one ended)" : "");
	if (in->seen & SEVMIG_STREAM_SEEN_END) {
		printf("  %-15s %llu shared frames\n", "page-state map",
		       (unsigned long long)in->shared_frames);
		printf("  %-15s yes (MSR_KVM_MIGRATION_CONTROL 0x%llx)\n", "END",
		       (unsigned long long)in->migration_control);
	} else if (in->direction == 1 && in->channel == 0) {
		printf("  %-15s no\n", "END");
	}
	if (in->direction == 1 && in->channel == 0)
		printf("  %-15s %s\n", "COMMIT",
		       in->seen & SEVMIG_STREAM_SEEN_COMMIT ? "yes" : "no");
	if (in->direction == 2)
		printf("  %-15s %s\n", "ACK",
		       in->seen & SEVMIG_STREAM_SEEN_ACK ? "yes" : "no");
	if (in->seen & SEVMIG_STREAM_SEEN_ABORT)
		printf("  %-15s yes (%s)\n", "ABORT",
		       err_name(in->abort_errno, buf, sizeof(buf)));
	printf("  %-15s %s\n", "complete",
	       in->seen & SEVMIG_STREAM_COMPLETE ? "yes" : "no");
	if (f->ret && in->error_offset)
		printf("  %-15s at byte %llu, record %llu (%s): %s: %s\n",
		       "DAMAGED", (unsigned long long)in->error_offset,
		       (unsigned long long)in->error_record,
		       sevmig_stream_record_name(in->error_type),
		       err_name(f->ret, buf, sizeof(buf)), f->msg);
	else if (f->ret)
		printf("  %-15s in the channel header: %s: %s\n", "DAMAGED",
		       err_name(f->ret, buf, sizeof(buf)), f->msg);
}

static void print_json(struct json *j, const struct file *f)
{
	const struct sevmig_stream_info *in = &f->info;
	char id[33], buf[32];

	json_obj_open(j, NULL);
	json_str(j, "file", f->path);
	json_uint(j, "bytes", f->size);
	json_uint(j, "valid_bytes", in->bytes);
	json_uint(j, "version", in->version);
	json_str(j, "direction", in->direction == 1 ? "to-destination" :
				 in->direction == 2 ? "to-source" : NULL);
	json_uint(j, "channel", in->channel);
	json_uint(j, "channels", in->nr_channels);
	hex_id(in->session_id, id);
	json_str(j, "session_id", id);
	json_hex(j, "required_features", in->required_features);
	json_hex(j, "optional_features", in->optional_features);
	json_obj_open(j, "records");
	json_uint(j, "total", in->records);
	for (uint32_t t = 1; t < 12; t++)
		json_uint(j, sevmig_stream_record_name(t), in->records_by_type[t]);
	json_uint(j, "skipped_optional", in->records_by_type[0]);
	json_obj_close(j);
	json_obj_open(j, "pages");
	json_uint(j, "private", in->pages_private);
	json_uint(j, "shared", in->pages_shared);
	json_obj_close(j);
	json_uint(j, "passes", in->passes);
	json_bool(j, "last_pass", in->seen & SEVMIG_STREAM_SEEN_LAST_PASS);
	if (in->seen & SEVMIG_STREAM_SEEN_START) {
		json_obj_open(j, "start");
		json_hex(j, "guest_policy", in->guest_policy);
		json_str(j, "commit_mode", commit_name(in->commit_mode));
		json_uint(j, "ram_regions", in->ram_regions);
		json_uint(j, "ram_bytes", in->ram_bytes);
		json_obj_close(j);
	}
	if (in->seen & SEVMIG_STREAM_SEEN_HELLO) {
		json_obj_open(j, "hello");
		snprintf(buf, sizeof(buf), "%u.%u", in->fw_api_major,
			 in->fw_api_minor);
		json_str(j, "firmware_api", buf);
		json_uint(j, "firmware_build", in->fw_build);
		json_obj_close(j);
	}
	json_bool(j, "end", in->seen & SEVMIG_STREAM_SEEN_END);
	if (in->seen & SEVMIG_STREAM_SEEN_END) {
		json_uint(j, "shared_frames", in->shared_frames);
		json_hex(j, "migration_control", in->migration_control);
	}
	json_bool(j, "commit", in->seen & SEVMIG_STREAM_SEEN_COMMIT);
	json_bool(j, "ack", in->seen & SEVMIG_STREAM_SEEN_ACK);
	json_bool(j, "abort", in->seen & SEVMIG_STREAM_SEEN_ABORT);
	json_bool(j, "complete", in->seen & SEVMIG_STREAM_COMPLETE);
	json_hex(j, "digest", in->digest);
	if (f->ret) {
		json_obj_open(j, "error");
		json_str(j, "errno", err_name(f->ret, buf, sizeof(buf)));
		json_str(j, "message", f->msg);
		json_str(j, "where", in->error_offset ? "record" : "channel header");
		json_uint(j, "offset", in->error_offset);
		json_uint(j, "record", in->error_record);
		json_str(j, "type", in->error_offset ?
				    sevmig_stream_record_name(in->error_type) :
				    NULL);
		json_obj_close(j);
	} else {
		json_str(j, "error", NULL);
	}
	json_obj_close(j);
}

/*
 * The files of one stream's channels against END (on channel 0): each
 * channel once, all there, each with END's record count and digest.
 * Returns the number of problems, each printed to @out (text) or kept.
 */
static int cross_check(const struct file *f, int n, char problems[][160],
		       int max)
{
	const struct file *c0 = NULL;
	const struct file *by_ch[16] = { NULL };
	int np = 0;

#define PROBLEM(...)							\
	do {								\
		if (np < max)						\
			snprintf(problems[np], 160, __VA_ARGS__);	\
		np++;							\
	} while (0)

	for (int i = 0; i < n; i++) {
		const struct sevmig_stream_info *in = &f[i].info;

		if (f[i].ret || in->direction != 1)
			continue;
		if (in->channel >= 16 || by_ch[in->channel])
			PROBLEM("%s: channel %u is given twice", f[i].path,
				in->channel);
		else
			by_ch[in->channel] = &f[i];
		if (in->channel == 0)
			c0 = &f[i];
	}
	if (!c0) {
		PROBLEM("no file holds channel 0 (START, END): nothing to check the others against");
		return np;
	}
	for (int i = 0; i < n; i++) {
		const struct sevmig_stream_info *in = &f[i].info;

		if (f[i].ret || in->direction != 1 || &f[i] == c0)
			continue;
		if (memcmp(in->session_id, c0->info.session_id, 16) ||
		    in->nr_channels != c0->info.nr_channels)
			PROBLEM("%s: channel %u belongs to another stream",
				f[i].path, in->channel);
	}
	for (uint32_t ch = 0; ch < c0->info.nr_channels && ch < 16; ch++) {
		const struct sevmig_stream_info *in;

		if (!by_ch[ch]) {
			PROBLEM("channel %u of %u is missing", ch,
				c0->info.nr_channels);
			continue;
		}
		in = &by_ch[ch]->info;
		if (!(c0->info.seen & SEVMIG_STREAM_SEEN_END) || !ch)
			continue;
		if (in->records != c0->info.end_records[ch] ||
		    in->digest != c0->info.end_digests[ch])
			PROBLEM("channel %u: %llu records (digest 0x%llx); END says %llu (digest 0x%llx)",
				ch, (unsigned long long)in->records,
				(unsigned long long)in->digest,
				(unsigned long long)c0->info.end_records[ch],
				(unsigned long long)c0->info.end_digests[ch]);
	}
#undef PROBLEM
	return np;
}

int cmd_inspect(int argc, char **argv)
{
	struct capture cap = { .have = false };
	struct sevmig_ctx_opts co = { .size = sizeof(co), .log = on_log,
				      .log_opaque = &cap,
				      .log_level = SEVMIG_LOG_ERR };
	struct file files[MAX_FILES];
	char problems[32][160];
	bool json = false, require = false;
	struct sevmig_ctx *ctx = NULL;
	int n = 0, np = 0, rc = CLI_EXIT_OK, ret;

	memset(files, 0, sizeof(files));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--verbose")) {
			co.log_level = SEVMIG_LOG_DEBUG;
		} else if (!strcmp(argv[i], "--require")) {
			if (i + 1 >= argc || strcmp(argv[i + 1], "complete")) {
				fprintf(stderr, "sevmig inspect: --require takes 'complete'\n\n");
				cmd_inspect_usage(stderr);
				return CLI_EXIT_USAGE;
			}
			require = true;
			i++;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "sevmig inspect: unknown option '%s'\n\n",
				argv[i]);
			cmd_inspect_usage(stderr);
			return CLI_EXIT_USAGE;
		} else if (n == MAX_FILES) {
			fprintf(stderr, "sevmig inspect: at most %d files (one per channel)\n",
				MAX_FILES);
			return CLI_EXIT_USAGE;
		} else {
			files[n++].path = argv[i];
		}
	}
	if (!n) {
		fprintf(stderr, "sevmig inspect: FILE is required\n\n");
		cmd_inspect_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	ret = sevmig_ctx_new(&co, &ctx);
	if (ret) {
		fprintf(stderr, "sevmig: cannot create a context: %s\n",
			sevmig_strerror(ret));
		return CLI_EXIT_FAILURE;
	}
	for (int i = 0; i < n; i++) {
		if (inspect_file(ctx, &cap, &files[i])) {
			sevmig_ctx_free(ctx);
			return CLI_EXIT_FAILURE;
		}
		if (files[i].ret)
			rc = CLI_EXIT_FAILURE;
		else if (require && !(files[i].info.seen & SEVMIG_STREAM_COMPLETE) &&
			 rc == CLI_EXIT_OK)
			rc = CLI_EXIT_UNAVAILABLE;
	}
	sevmig_ctx_free(ctx);
	if (n > 1) {
		np = cross_check(files, n, problems, 32);
		if (np)
			rc = CLI_EXIT_FAILURE;
	}
	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_arr_open(&j, "files");
		for (int i = 0; i < n; i++)
			print_json(&j, &files[i]);
		json_arr_close(&j);
		if (n > 1) {
			json_obj_open(&j, "channels");
			json_bool(&j, "consistent", np == 0);
			json_arr_open(&j, "problems");
			for (int i = 0; i < np && i < 32; i++)
				json_str(&j, NULL, problems[i]);
			json_arr_close(&j);
			json_obj_close(&j);
		}
		json_end(&j);
		return rc;
	}
	for (int i = 0; i < n; i++)
		print_text(&files[i]);
	if (n > 1) {
		if (!np)
			printf("channels: the files agree with END: every channel is there with the records and digest END names\n");
		for (int i = 0; i < np && i < 32; i++)
			printf("channels: PROBLEM: %s\n", problems[i]);
	}
	return rc;
}
