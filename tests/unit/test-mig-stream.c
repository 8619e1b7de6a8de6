// SPDX-License-Identifier: MIT
/*
 * The stream's framing alone (src/mig-stream.c), on memory: what a writer
 * writes a reader accepts; every header rule the reader enforces is broken
 * once and named; unknown optional records are skipped and unknown required
 * features refused (docs/stream.md).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "mig-stream.h"

/* A channel that appends what is written to a buffer. */
struct sinkbuf {
	unsigned char data[1 << 20];
	size_t len;
};

static int sink_writev(void *opaque, const struct sevmig_iovec *iov, uint32_t n)
{
	struct sinkbuf *s = opaque;

	for (uint32_t i = 0; i < n; i++) {
		memcpy(s->data + s->len, iov[i].base, iov[i].len);
		s->len += iov[i].len;
	}
	return 0;
}

static struct sinkbuf sink;
static struct fake_sys *fs;
static struct sevmig_ctx *ctx;

static struct sevmig_channel *writer_channel(void)
{
	struct sevmig_channel_ops o = { .size = sizeof(o), .opaque = &sink,
					.writev = sink_writev };
	struct sevmig_channel *ch = NULL;

	sink.len = 0;
	assert_int_equal(sevmig_channel_new(ctx, &o, 0, &ch), 0);
	return ch;
}

/* Write a header and @n small records (type PASS_END-sized VMM records). */
static void write_stream(uint64_t required, uint32_t n, bool optional_extra)
{
	struct sevmig_channel *ch = writer_channel();
	struct mig_chan_hdr h = { .version = MIG_VERSION, .required = required,
				  .nr_channels = 2, .channel = 1,
				  .direction = MIG_DIR_TO_DST };
	struct mig_writer w;
	unsigned char pl[16];

	assert_int_equal(mig_writer_init(&w, ch, 1, 4096), 0);
	assert_int_equal(mig_writer_header(&w, &h), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct sevmig_iovec iov = { pl, sizeof(pl) };

		memset(pl, (int)i, sizeof(pl));
		mig_put32(pl, 0x1000 + i);
		mig_put32(pl + 4, 0);
		assert_int_equal(mig_writer_record(&w, MIG_REC_VMM, &iov, 1, NULL), 0);
		if (optional_extra && i == 0) {
			/* A type this reader does not know, flagged OPTIONAL. */
			unsigned char *p = mig_writer_reserve(&w, 0x0fff, 3);

			assert_non_null(p);
			memcpy(p, "abc", 3);
			/* set the OPTIONAL flag before sealing */
			mig_put16(w.buf + w.open_off + 2, MIG_REC_F_OPTIONAL);
			mig_writer_commit(&w);
		}
	}
	assert_int_equal(mig_writer_flush(&w), 0);
	mig_writer_fini(&w);
	sevmig_channel_free(ch);
}

/* Read the sink back: header, then records; returns the first error. */
static int read_stream(uint32_t *ret_records)
{
	struct sevmig_channel ch;
	struct mig_mem m;
	struct mig_reader r;
	struct mig_chan_hdr h;
	struct mig_rec rec;
	int ret;

	*ret_records = 0;
	mig_chan_mem(&ch, &m, ctx, sink.data, sink.len);
	assert_int_equal(mig_reader_init(&r, ctx, &ch, 1, 4096, 64), 0);
	ret = mig_reader_header(&r, &h);
	while (!ret) {
		ret = mig_reader_next(&r, &rec);
		if (!ret)
			(*ret_records)++;
	}
	mig_reader_fini(&r);
	return ret == -ENODATA ? 0 : ret;
}

static int setup(void **state)
{
	(void)state;
	fs = fake_sys_new(NULL, 0);
	ctx = fake_sys_ctx(fs);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_sys_done(fs);
	return 0;
}

static void test_roundtrip(void **state)
{
	uint32_t n;

	(void)state;
	write_stream(0, 20, false);
	assert_int_equal(read_stream(&n), 0);
	assert_int_equal(n, 20);
}

static void test_optional_skipped_required_refused(void **state)
{
	uint32_t n;

	(void)state;
	write_stream(0, 3, true);
	assert_int_equal(read_stream(&n), 0);
	assert_int_equal(n, 3);		/* the optional record was skipped */
	write_stream(1ull << 5, 3, false);
	assert_int_equal(read_stream(&n), -EPROTO);
	assert_non_null(strstr(fake_sys_last_error(fs), "requires features"));
}

/* Break one field of the first record (offset 64 + @off) and name it. */
static void broken(size_t off, uint32_t xor32, int want, const char *says)
{
	uint32_t n;

	write_stream(0, 3, false);
	mig_put32(sink.data + 64 + off, mig_get32(sink.data + 64 + off) ^ xor32);
	assert_int_equal(read_stream(&n), want);
	if (!strstr(fake_sys_last_error(fs), says))
		fail_msg("offset %zu: \"%s\" not in \"%s\"", off, says,
			 fake_sys_last_error(fs));
}

static void test_every_header_rule(void **state)
{
	uint32_t n;

	(void)state;
	broken(0, 0x00ff, -EBADMSG, "unknown type");		/* type */
	broken(0, 0x00020000, -EBADMSG, "unknown flags");	/* flags */
	broken(4, 0x00100000, -EBADMSG, "exceeds");		/* length */
	broken(8, 1, -EBADMSG, "sequence");			/* seq */
	broken(16, 1, -EBADMSG, "says channel");		/* channel */
	broken(20, 2, -EBADMSG, "says pass");			/* pass */
	broken(24, 1, -EBADMSG, "reserved");			/* reserved */
	broken(28, 1, -EBADMSG, "checksum");			/* crc */
	broken(32, 1, -EBADMSG, "checksum");			/* payload */
	/* The channel header. */
	write_stream(0, 1, false);
	sink.data[0] ^= 1;
	assert_int_equal(read_stream(&n), -EBADMSG);
	assert_non_null(strstr(fake_sys_last_error(fs), "magic"));
	write_stream(0, 1, false);
	sink.data[9] ^= 1;	/* version, CRC no longer matches either */
	assert_int_equal(read_stream(&n), -EBADMSG);
	/* Truncation anywhere inside a record. */
	write_stream(0, 2, false);
	sink.len -= 5;
	assert_int_equal(read_stream(&n), -EPIPE);
	assert_non_null(strstr(fake_sys_last_error(fs), "truncated"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_optional_skipped_required_refused),
		cmocka_unit_test(test_every_header_rule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
