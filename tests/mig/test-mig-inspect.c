// SPDX-License-Identifier: MIT
/*
 * sevmig_stream_inspect() on what a SEVMIG_COMMIT_FLUSH send session wrote
 * (one channel, and one file per channel of two), on a HELLO the target
 * exported, and on damaged copies: truncated at every record boundary
 * (clean, incomplete) and inside records, flipped bits, swapped and
 * duplicated records, and records whose fields lie with valid checksums.
 * Each damage must be refused with the record, its offset and a log line
 * naming the field.
 *
 * With "write DIR" it only writes DIR/stream-1ch.ch0, DIR/stream-2ch.ch0,
 * DIR/stream-2ch.ch1 and DIR/hello for the CLI's test (test-inspect-cli.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig-test.h"
#include "test-util.h"

/* The library's own CRC32C (the stream's checksum), to forge records. */
uint32_t sevmig_crc32c(uint32_t crc, const void *buf, size_t len);

#define PAGES 64u
#define PAGES_2CH 1100u		/* more than a chunk: both channels carry pages */

struct saved {
	unsigned char *ch[2];
	size_t len[2];
	unsigned char *hello;
	size_t hello_len;
	struct sevmig_mig_stats st;	/* the sender's */
	uint32_t pages;
	uint32_t shared;		/* shared frames at the end */
	uint32_t policy;
};

static struct mt_world world;
static struct saved one, two;

static unsigned char *slurp(int fd, size_t *ret_len)
{
	off_t n = lseek(fd, 0, SEEK_END);
	unsigned char *b = malloc((size_t)n + 1);

	assert_non_null(b);
	assert_true(pread(fd, b, (size_t)n, 0) == n);
	*ret_len = (size_t)n;
	return b;
}

/* A FLUSH-mode migration of @nch channels into temporary files. */
static void save(struct saved *sv, uint32_t nch, uint32_t pages)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_channel *wch[2] = { NULL, NULL };
	struct sevmig_send *s = NULL;
	unsigned char vcpu[100];
	int fd[2];
	uint64_t hc = 0;
	struct mt t;

	sv->pages = pages;
	mt_setup_on(&t, &world, pages, nch, NULL, NULL, MT_NO_CHANNELS);
	mt_fill(&t, 7 + nch);
	assert_int_equal(sevmig_hello_export(t.dst.p, t.amd, t.amd_len, NULL, 0,
					     &sv->hello_len, NULL), 0);
	sv->hello = malloc(sv->hello_len);
	assert_non_null(sv->hello);
	assert_int_equal(sevmig_hello_export(t.dst.p, t.amd, t.amd_len,
					     sv->hello, sv->hello_len,
					     &sv->hello_len, NULL), 0);
	for (uint32_t i = 0; i < nch; i++) {
		char path[] = "/tmp/sevmig-inspect-XXXXXX";

		fd[i] = mkstemp(path);
		assert_true(fd[i] >= 0);
		unlink(path);
		assert_int_equal(sevmig_channel_from_fds(t.src.ctx, -1, fd[i], 0,
							 &wch[i]), 0);
	}
	o.channels = wch;
	o.nr_channels = nch;
	o.commit = SEVMIG_COMMIT_FLUSH;
	o.target_hello = sv->hello;
	o.target_hello_len = sv->hello_len;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, NULL), 0);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	memset(t.src.mem + 2 * 4096, 0x22, 64);
	assert_int_equal(sevmig_send_mark_dirty(s, 2 * 4096, 4096, NULL, 0), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(t.src.vm, 9 * 4096, 1, 0,
						 SEVMIG_MAP_GPA_F_LONG_MODE,
						 &hc), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	memset(vcpu, 0x5c, sizeof(vcpu));
	assert_int_equal(sevmig_send_record(s, 0x1234, vcpu, sizeof(vcpu), 0), 0);
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	sv->st.size = sizeof(sv->st);
	assert_int_equal(sevmig_send_stats(s, &sv->st), 0);
	sevmig_send_free(s);
	for (uint64_t g = 0; g < pages; g++)
		sv->shared += mt_state(&t.src, g) == SEVMIG_PAGE_SHARED;
	for (uint32_t i = 0; i < nch; i++) {
		sv->ch[i] = slurp(fd[i], &sv->len[i]);
		sevmig_channel_free(wch[i]);
		close(fd[i]);
	}
	mt_teardown(&t);
}

/* ---- inspecting bytes in memory ---- */

struct mem {
	const unsigned char *p;
	size_t len, pos;
};

static int mem_read(void *opaque, void *buf, size_t len)
{
	struct mem *m = opaque;

	if (m->pos == m->len && len)
		return -ENODATA;
	if (len > m->len - m->pos) {
		m->pos = m->len;
		return -EPIPE;
	}
	memcpy(buf, m->p + m->pos, len);
	m->pos += len;
	return 0;
}

static char logbuf[8192];

static void on_log(void *opaque, uint32_t level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)opaque;
	if (level == SEVMIG_LOG_ERR && n + strlen(msg) + 2 < sizeof(logbuf))
		snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static int inspect(const unsigned char *p, size_t len,
		   struct sevmig_stream_info *info)
{
	struct sevmig_ctx_opts co = { .size = sizeof(co), .log = on_log,
				      .log_level = SEVMIG_LOG_ERR };
	struct mem m = { p, len, 0 };
	struct sevmig_channel_ops ops = { .size = sizeof(ops), .opaque = &m,
					  .read = mem_read };
	struct sevmig_channel *ch = NULL;
	struct sevmig_ctx *ctx = NULL;
	int ret;

	logbuf[0] = 0;
	assert_int_equal(sevmig_ctx_new(&co, &ctx), 0);
	assert_int_equal(sevmig_channel_new(ctx, &ops, 0, &ch), 0);
	memset(info, 0xee, sizeof(*info));
	info->size = sizeof(*info);
	ret = sevmig_stream_inspect(ctx, ch, info, 0);
	sevmig_channel_free(ch);
	sevmig_ctx_free(ctx);
	if (getenv("MT_VERBOSE"))
		fprintf(stderr, "inspect: %d\n%s", ret, logbuf);
	return ret;
}

/* Units of a file: the channel header, then records. */
static uint32_t units(const unsigned char *p, size_t len, size_t *off,
		      uint32_t max)
{
	uint32_t n = 0;
	size_t o = 64;

	off[n++] = 0;
	while (o < len && n < max) {
		uint32_t l;

		off[n++] = o;
		memcpy(&l, p + o + 4, 4);
		o += 32u + l;
	}
	assert_int_equal(o, len);
	return n;
}

static uint16_t type_at(const unsigned char *p, size_t off)
{
	uint16_t t;

	memcpy(&t, p + off, 2);
	return t;
}

/* ---- the tests ---- */

static void check_source_ch0(const struct sevmig_stream_info *in,
			     const struct saved *sv, uint32_t nch)
{
	uint64_t sum = 0;

	assert_int_equal(in->version, 1);
	assert_int_equal(in->direction, 1);
	assert_int_equal(in->channel, 0);
	assert_int_equal(in->nr_channels, nch);
	assert_int_equal(in->error, 0);
	assert_int_equal(in->seen & (SEVMIG_STREAM_SEEN_START |
				     SEVMIG_STREAM_SEEN_LAST_PASS |
				     SEVMIG_STREAM_SEEN_END |
				     SEVMIG_STREAM_SEEN_COMMIT |
				     SEVMIG_STREAM_COMPLETE),
			 SEVMIG_STREAM_SEEN_START | SEVMIG_STREAM_SEEN_LAST_PASS |
			 SEVMIG_STREAM_SEEN_END | SEVMIG_STREAM_SEEN_COMMIT |
			 SEVMIG_STREAM_COMPLETE);
	assert_int_equal(in->commit_mode, SEVMIG_COMMIT_FLUSH);
	assert_int_equal(in->ram_regions, 1);
	assert_int_equal(in->ram_bytes, sv->pages * 4096ull);
	assert_int_equal(in->passes, 3);
	assert_int_equal(in->bytes, sv->len[0]);
	assert_int_equal(in->records_by_type[SEVMIG_STREAM_START], 1);
	assert_int_equal(in->records_by_type[SEVMIG_STREAM_VMM], 1);
	assert_int_equal(in->records_by_type[SEVMIG_STREAM_END], 1);
	assert_int_equal(in->records_by_type[SEVMIG_STREAM_COMMIT], 1);
	assert_int_equal(in->records_by_type[SEVMIG_STREAM_PASS_END], 3);
	assert_true(in->records_by_type[SEVMIG_STREAM_PAGE_STATE] >= 1);
	assert_int_equal(in->records_by_type[0], 0);
	for (uint32_t t = 1; t < 12; t++)
		sum += in->records_by_type[t];
	assert_int_equal(sum, in->records);
	assert_int_equal(in->shared_frames, sv->shared);
	assert_int_equal(in->migration_control, 1);
	assert_int_equal(in->end_records[0], in->records - 1);	/* no COMMIT */
	assert_int_equal(in->end_digests[0], in->digest);
}

static void test_one_channel(void **state)
{
	struct sevmig_stream_info in;

	(void)state;
	assert_int_equal(inspect(one.ch[0], one.len[0], &in), 0);
	check_source_ch0(&in, &one, 1);
	assert_int_equal(in.pages_private, one.st.pages_private);
	assert_int_equal(in.pages_shared, one.st.pages_shared);
	assert_int_equal(in.pages_private + in.pages_shared,
			 in.records_by_type[SEVMIG_STREAM_PAGE_PRIVATE] +
			 in.records_by_type[SEVMIG_STREAM_PAGE_SHARED]);
}

static void test_two_channels(void **state)
{
	struct sevmig_stream_info c0, c1;

	(void)state;
	assert_int_equal(inspect(two.ch[0], two.len[0], &c0), 0);
	check_source_ch0(&c0, &two, 2);
	assert_int_equal(inspect(two.ch[1], two.len[1], &c1), 0);
	assert_int_equal(c1.channel, 1);
	assert_int_equal(c1.nr_channels, 2);
	assert_memory_equal(c1.session_id, c0.session_id, 16);
	assert_int_equal(c1.passes, 3);
	assert_int_equal(c1.seen, SEVMIG_STREAM_SEEN_LAST_PASS |
			 SEVMIG_STREAM_COMPLETE);
	/* The page channel is what END on channel 0 says it is. */
	assert_int_equal(c1.records, c0.end_records[1]);
	assert_int_equal(c1.digest, c0.end_digests[1]);
	assert_int_equal(c0.pages_private + c1.pages_private,
			 two.st.pages_private);
	assert_int_equal(c0.pages_shared + c1.pages_shared, two.st.pages_shared);
	assert_true(c0.pages_private && c1.pages_private);
	/* Another channel's digest differs: the comparison means something. */
	assert_int_not_equal(c1.digest, c0.end_digests[0]);
}

static void test_hello(void **state)
{
	struct sevmig_platform_status ps = { .size = sizeof(ps) };
	struct sevmig_stream_info in;
	struct th h = world.dst;
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_platform *p = NULL;
	struct sevmig_ctx_opts co = { .size = sizeof(co), .sys = &h.ops };

	(void)state;
	assert_int_equal(inspect(one.hello, one.hello_len, &in), 0);
	assert_int_equal(in.direction, 2);
	assert_int_equal(in.seen, SEVMIG_STREAM_SEEN_HELLO);
	assert_int_equal(in.records, 1);
	assert_int_equal(in.records_by_type[SEVMIG_STREAM_HELLO], 1);
	assert_int_equal(sevmig_ctx_new(&co, &ctx), 0);
	assert_int_equal(sevmig_platform_from_fd(ctx, h.sev, 0, &p), 0);
	assert_int_equal(sevmig_platform_status(p, &ps, NULL), 0);
	assert_int_equal(in.fw_api_major, ps.api_major);
	assert_int_equal(in.fw_api_minor, ps.api_minor);
	assert_int_equal(in.fw_build, ps.build);
	sevmig_platform_free(p);
	sevmig_ctx_free(ctx);
}

static void test_truncated(void **state)
{
	size_t off[256];
	uint32_t n = units(one.ch[0], one.len[0], off, 256);
	struct sevmig_stream_info in;

	(void)state;
	/* Empty, and inside the channel header. */
	assert_int_equal(inspect(one.ch[0], 0, &in), -EPIPE);
	assert_int_equal(in.error_offset, 0);
	assert_int_equal(inspect(one.ch[0], 40, &in), -EPIPE);
	assert_non_null(strstr(logbuf, "inside its channel header"));
	for (uint32_t u = 1; u < n; u++) {
		/* At a boundary: not damaged, just not complete. */
		assert_int_equal(inspect(one.ch[0], off[u], &in), 0);
		assert_int_equal(in.records, u - 1);
		assert_int_equal(in.bytes, off[u]);
		assert_false(in.seen & SEVMIG_STREAM_COMPLETE);
		/* Inside record u - 1 (its header, then its payload). */
		assert_int_equal(inspect(one.ch[0], off[u] + 10, &in), -EPIPE);
		assert_int_equal(in.error_record, u - 1);
		assert_int_equal(in.error_offset, off[u]);
		assert_int_equal(in.records, u - 1);
		assert_non_null(strstr(logbuf, "truncated"));
		if (u + 1 < n && off[u + 1] - off[u] > 40) {
			assert_int_equal(inspect(one.ch[0], off[u] + 40, &in),
					 -EPIPE);
			assert_int_equal(in.error_type, type_at(one.ch[0], off[u]));
		}
	}
	/* Without COMMIT: END is there, the stream is not complete. */
	assert_int_equal(inspect(one.ch[0], off[n - 1], &in), 0);
	assert_true(in.seen & SEVMIG_STREAM_SEEN_END);
	assert_false(in.seen & (SEVMIG_STREAM_SEEN_COMMIT | SEVMIG_STREAM_COMPLETE));
}

static void test_flipped(void **state)
{
	size_t off[256];
	uint32_t n = units(one.ch[0], one.len[0], off, 256);
	unsigned char *b = malloc(one.len[0]);
	struct sevmig_stream_info in;
	uint64_t x = 1;

	(void)state;
	assert_non_null(b);
	for (uint32_t u = 0; u < n; u++) {
		size_t end = u + 1 < n ? off[u + 1] : one.len[0];

		for (uint32_t k = 0; k < 24; k++) {
			size_t at;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			at = off[u] + (x >> 33) % (end - off[u]);
			memcpy(b, one.ch[0], one.len[0]);
			b[at] ^= (unsigned char)(1u << ((x >> 20) % 8));
			assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
			assert_int_equal(in.error_offset, off[u]);
			assert_int_equal(in.error_record, u ? u - 1 : 0);
			assert_int_equal(in.records, u ? u - 1 : 0);
			assert_non_null(strstr(logbuf, u ? "checksum mismatch" :
						   "channel header"));
		}
	}
	free(b);
}

static void test_reordered(void **state)
{
	size_t off[256];
	uint32_t n = units(one.ch[0], one.len[0], off, 256);
	unsigned char *b = malloc(2 * one.len[0]);
	struct sevmig_stream_info in;
	size_t a = off[3], la = off[4] - off[3], lb = off[5] - off[4];

	(void)state;
	assert_non_null(b);
	assert_true(n > 6);
	/* Records 2 and 3 swapped. */
	memcpy(b, one.ch[0], one.len[0]);
	memcpy(b + a, one.ch[0] + off[4], lb);
	memcpy(b + a + lb, one.ch[0] + a, la);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_record, 2);
	assert_int_equal(in.error_offset, a);
	assert_non_null(strstr(logbuf, "lost, duplicated or reordered"));
	/* Record 2 twice. */
	memcpy(b, one.ch[0], off[4]);
	memcpy(b + off[4], one.ch[0] + a, la);
	memcpy(b + off[4] + la, one.ch[0] + off[4], one.len[0] - off[4]);
	assert_int_equal(inspect(b, one.len[0] + la, &in), -EBADMSG);
	assert_int_equal(in.error_record, 3);
	/* Not a stream at all. */
	memset(b, 'x', 200);
	assert_int_equal(inspect(b, 200, &in), -EBADMSG);
	assert_non_null(strstr(logbuf, "bad magic"));
	free(b);
}

/* Rewrite a record's payload word and seal it again: the checksums hold,
 * the field lies. */
static void forge32(unsigned char *b, size_t rec, size_t field, uint32_t v)
{
	uint32_t len, crc;

	memcpy(&len, b + rec + 4, 4);
	memcpy(b + rec + 32 + field, &v, 4);
	crc = sevmig_crc32c(0, b + rec, 28);
	crc = sevmig_crc32c(crc, b + rec + 32, len);
	memcpy(b + rec + 28, &crc, 4);
}

static size_t find(const unsigned char *p, const size_t *off, uint32_t n,
		   uint16_t type, uint32_t nth)
{
	for (uint32_t u = 1; u < n; u++)
		if (type_at(p, off[u]) == type && !nth--)
			return off[u];
	fail_msg("no record of type %u", type);
	return 0;
}

static void test_lying_fields(void **state)
{
	size_t off[256];
	uint32_t n = units(one.ch[0], one.len[0], off, 256);
	unsigned char *b = malloc(one.len[0]);
	struct sevmig_stream_info in;
	size_t r;
	uint32_t v;

	(void)state;
	assert_non_null(b);
	/* START: two channels in a one-channel stream. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_START, 0);
	forge32(b, r, 8, 2);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_type, SEVMIG_STREAM_START);
	assert_non_null(strstr(logbuf, "START says 2 channels"));
	/* A page outside START's RAM. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_PAGE_PRIVATE, 3);
	forge32(b, r, 0, PAGES + 5);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_offset, r);
	assert_non_null(strstr(logbuf, "outside the RAM regions"));
	/* A frame twice in pass 1. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_PAGE_PRIVATE, 3);
	forge32(b, r, 0, 0);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_non_null(strstr(logbuf, "frame 0x0 twice in pass 1"));
	/* PASS_END miscounts. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_PASS_END, 0);
	memcpy(&v, b + r + 32 + 8, 4);
	forge32(b, r, 8, v + 1);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_type, SEVMIG_STREAM_PASS_END);
	assert_non_null(strstr(logbuf, "PASS_END says pass 1 had"));
	/* END's totals. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_END, 0);
	memcpy(&v, b + r + 32 + 24, 4);
	forge32(b, r, 24, v + 1);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_type, SEVMIG_STREAM_END);
	assert_non_null(strstr(logbuf, "END totals"));
	/* END's shared frames. */
	memcpy(b, one.ch[0], one.len[0]);
	forge32(b, r, 16, one.shared + 1);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_non_null(strstr(logbuf, "shared frames; the page-state map has"));
	/* COMMIT of another session. */
	memcpy(b, one.ch[0], one.len[0]);
	r = find(b, off, n, SEVMIG_STREAM_COMMIT, 0);
	forge32(b, r, 0, 0x12345678);
	assert_int_equal(inspect(b, one.len[0], &in), -EBADMSG);
	assert_int_equal(in.error_type, SEVMIG_STREAM_COMMIT);
	assert_true(in.seen & SEVMIG_STREAM_SEEN_END);
	assert_false(in.seen & SEVMIG_STREAM_COMPLETE);
	free(b);
}

static void test_arguments(void **state)
{
	struct sevmig_stream_info in = { .size = 8 };
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_channel *w = NULL;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	assert_int_equal(sevmig_channel_from_fds(ctx, -1, 1, 0, &w), 0);
	assert_int_equal(sevmig_stream_inspect(NULL, w, &in, 0), -EINVAL);
	assert_int_equal(sevmig_stream_inspect(ctx, NULL, &in, 0), -EINVAL);
	assert_int_equal(sevmig_stream_inspect(ctx, w, NULL, 0), -EINVAL);
	in.size = sizeof(in);
	assert_int_equal(sevmig_stream_inspect(ctx, w, &in, 1), -EINVAL);
	/* A channel that only writes. */
	assert_int_equal(sevmig_stream_inspect(ctx, w, &in, 0), -EINVAL);
	in.size = 8;
	assert_int_equal(sevmig_stream_inspect(ctx, w, &in, 0), -EINVAL);
	assert_string_equal(sevmig_stream_record_name(SEVMIG_STREAM_PAGE_STATE),
			    "PAGE_STATE");
	assert_string_equal(sevmig_stream_record_name(99), "unknown record");
	sevmig_channel_free(w);
	sevmig_ctx_free(ctx);
}

static void write_file(const char *dir, const char *name,
		       const unsigned char *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static int setup(void **state)
{
	(void)state;
	mt_world_new(&world, SEVMIG_SIM_MODE_MEMORY);
	save(&one, 1, PAGES);
	save(&two, 2, PAGES_2CH);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mt_world_free(&world);
	for (uint32_t i = 0; i < 2; i++) {
		free(one.ch[i]);
		free(two.ch[i]);
	}
	free(one.hello);
	free(two.hello);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_channel),
		cmocka_unit_test(test_two_channels),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_lying_fields),
		cmocka_unit_test(test_arguments),
	};

	if (argc == 3 && !strcmp(argv[1], "write")) {
		setup(NULL);
		write_file(argv[2], "stream-1ch.ch0", one.ch[0], one.len[0]);
		write_file(argv[2], "stream-2ch.ch0", two.ch[0], two.len[0]);
		write_file(argv[2], "stream-2ch.ch1", two.ch[1], two.len[1]);
		write_file(argv[2], "hello", one.hello, one.hello_len);
		teardown(NULL);
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
