// SPDX-License-Identifier: MIT
/*
 * Tamper: a single flipped bit anywhere in a migration stream is detected,
 * nothing is acknowledged, and the source stays resumable (docs/stream.md,
 * "Tests").
 *
 * Replay (source to destination, every channel): a small migration (8
 * pages, 2 channels, two passes, a VMM record) runs once with its source's
 * channels recording what they write; its source ends SENT. Then, for each
 * chosen bit, a fresh destination VM on the same destination host (its PDH
 * is what the recorded session blob is bound to, so RECEIVE_START accepts
 * the replay) reads the recording with that one bit flipped, through fake
 * channels. Every bit of each unit's first 96 bytes (the channel header,
 * every record header and fixed payload part) is flipped, plus pseudo-random
 * bits of the larger payloads (page data, certificates), at least 20,000 in
 * all (SEVMIG_TAMPER_ALL=1: every bit of the recording). Before COMMIT each
 * flip must make sevmig_receive_run() fail with -EBADMSG or -EPROTO, with
 * no ACK written and the VM DEAD; a flip in COMMIT (after the ACK) must
 * leave the session IN_DOUBT, and the source's real verdict
 * (sevmig_send_resolve() of the recording's source) must then finish it.
 * An unflipped replay must finish with every page equal.
 *
 * Live (both directions, the source included): a flip at the start, the
 * length, the checksum and the middle of every unit of both directions of
 * every channel, through the fault runner's proxy (mig-scenario.h) between
 * a real source and destination: HELLO and ACK flips, which the replay
 * cannot reach, among them. Every one must end with the source running
 * again (LIVE, GUEST_STATUS RUNNING) and the destination DEAD, except a
 * flip in COMMIT, which must end with the destination running after the
 * resolve step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig-scenario.h"
#include "test-util.h"

#define PAGES 8u
#define NCH 2u
#define DEFAULT_FLIPS 20000u
#define REC_ACK 0x0009
#define REC_COMMIT 0x000a

static uint32_t mode = SEVMIG_SIM_MODE_MEMORY;
static struct mt_world world;
static struct mt rec;

/* ---- the recording ---- */

struct tape {
	unsigned char *p;
	size_t len, cap;
	int fd;
};

static struct tape tape[NCH];

static int tape_writev(void *opaque, const struct sevmig_iovec *iov,
		       uint32_t iovcnt)
{
	struct tape *t = opaque;

	for (uint32_t i = 0; i < iovcnt; i++) {
		const unsigned char *b = iov[i].base;
		size_t n = iov[i].len;

		if (t->len + n > t->cap) {
			t->cap = 2 * (t->len + n);
			t->p = realloc(t->p, t->cap);
			if (!t->p)
				return -ENOMEM;
		}
		memcpy(t->p + t->len, b, n);
		t->len += n;
		while (n) {
			ssize_t w = send(t->fd, b, n, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -EPIPE;
			b += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

static int tape_read(void *opaque, void *buf, size_t len)
{
	struct tape *t = opaque;
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(t->fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return got ? -EPIPE : -ENODATA;
		got += (size_t)r;
	}
	return 0;
}

static int on_record(void *opaque, uint32_t type, const void *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	return type == 0x1000 && len == 64 ? 0 : -EPROTO;
}

/* The VMM's script, as in the fault runner: two passes, a record, commit. */
static void record_migration(void)
{
	struct sevmig_receive_opts ro = { .size = sizeof(ro), .record = on_record };
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_send *s = NULL;
	unsigned char vcpu[64];
	uint64_t hc = 0;

	mt_setup_on(&rec, &world, PAGES, NCH, NULL, NULL, MT_NO_CHANNELS);
	mt_fill(&rec, 99);
	for (uint32_t i = 0; i < NCH; i++) {
		struct sevmig_channel_ops ops = {
			.size = sizeof(ops), .opaque = &tape[i],
			.writev = tape_writev, .read = tape_read,
		};
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, sv), 0);
		rec.src.fd[i] = sv[0];
		rec.dst.fd[i] = sv[1];
		tape[i].fd = sv[0];
		assert_int_equal(sevmig_channel_new(rec.src.ctx, &ops, 0,
						    &rec.src.ch[i]), 0);
		assert_int_equal(sevmig_channel_from_fds(rec.dst.ctx, sv[1], sv[1],
							 0, &rec.dst.ch[i]), 0);
	}
	mt_receive_start(&rec, &ro);
	o.channels = rec.src.ch;
	o.nr_channels = NCH;
	assert_int_equal(sevmig_send_new(rec.src.vm, &o, &s, NULL), 0);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	memset(rec.src.mem + 4096 + 10, 0x11, 100);
	assert_int_equal(sevmig_send_mark_dirty(s, 4096, 4096,
						NULL, 0), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(rec.src.vm, 5 * 4096, 1, 0,
						 SEVMIG_MAP_GPA_F_LONG_MODE,
						 &hc), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	memset(vcpu, 0x5c, sizeof(vcpu));
	assert_int_equal(sevmig_send_record(s, 0x1000, vcpu, sizeof(vcpu), 0), 0);
	assert_int_equal(sevmig_vm_pause(rec.src.vm, 0), 0);
	memset(rec.src.mem + 6 * 4096 + 10, 0x66, 100);
	assert_int_equal(sevmig_send_mark_dirty(s, 6 * 4096, 4096, NULL, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(mt_receive_join(&rec), 0);
	mt_assert_equal(&rec);
	sevmig_send_free(s);
	/* The destination VM of the recording goes; replays bring their own. */
	sevmig_receive_free(rec.recv);
	rec.recv = NULL;
	mt_vm_close(&rec.dst);
}

/* ---- units of the recording ---- */

struct unit {
	uint32_t ch;
	size_t off, len;
	uint16_t type;		/* 0: the channel header */
};

static struct unit units[512];
static uint32_t nunits;

static void split_units(void)
{
	for (uint32_t ch = 0; ch < NCH; ch++) {
		size_t off = 0;

		assert_true(tape[ch].len >= 64);
		units[nunits++] = (struct unit){ ch, 0, 64, 0 };
		off = 64;
		while (off < tape[ch].len) {
			uint32_t len;
			uint16_t type;

			assert_true(off + 32 <= tape[ch].len);
			memcpy(&type, tape[ch].p + off, 2);
			memcpy(&len, tape[ch].p + off + 4, 4);
			assert_true(nunits < ARRAY_LEN(units));
			units[nunits++] = (struct unit){ ch, off, 32u + len, type };
			off += 32u + len;
		}
		assert_int_equal(off, tape[ch].len);
	}
}

/* ---- a replay ---- */

/* A fake channel: reads the recording (one bit flipped), writes a sink. */
struct port {
	const unsigned char *p;
	size_t len, pos, flip;
	unsigned char mask;
	unsigned char *out;	/* channel 0: what the destination writes */
	size_t out_len, out_cap;
};

static int port_read(void *opaque, void *buf, size_t len)
{
	struct port *f = opaque;

	if (f->pos == f->len && len)
		return -ENODATA;
	if (len > f->len - f->pos) {
		f->pos = f->len;
		return -EPIPE;
	}
	memcpy(buf, f->p + f->pos, len);
	if (f->flip >= f->pos && f->flip - f->pos < len)
		((unsigned char *)buf)[f->flip - f->pos] ^= f->mask;
	f->pos += len;
	return 0;
}

static int port_writev(void *opaque, const struct sevmig_iovec *iov,
		       uint32_t iovcnt)
{
	struct port *f = opaque;

	for (uint32_t i = 0; i < iovcnt; i++) {
		size_t n = iov[i].len;

		if (n > f->out_cap - f->out_len)
			n = f->out_cap - f->out_len;
		memcpy(f->out + f->out_len, iov[i].base, n);
		f->out_len += n;
	}
	return 0;
}

static struct sevmig_channel *port_channel(struct sevmig_ctx *ctx,
					   struct port *f)
{
	struct sevmig_channel_ops ops = { .size = sizeof(ops), .opaque = f,
					  .read = port_read };
	struct sevmig_channel *ch = NULL;

	if (f->out)
		ops.writev = port_writev;
	assert_int_equal(sevmig_channel_new(ctx, &ops, 0, &ch), 0);
	return ch;
}

/* The record types in what a side wrote (channel header, then records). */
static bool wrote(const unsigned char *b, size_t n, uint16_t want)
{
	size_t off = 64;

	while (off + 32 <= n) {
		uint16_t type;
		uint32_t len;

		memcpy(&type, b + off, 2);
		memcpy(&len, b + off + 4, 4);
		if (type == want)
			return true;
		off += 32u + len;
	}
	return false;
}

static unsigned char verdict[4096];	/* the recording source's COMMIT */
static size_t verdict_len;
static unsigned char out_buf[1 << 15];

struct outcome {
	int ret;
	uint32_t phase;
	uint32_t state;
	bool acked;
	bool resolved;
	int resolve_ret;
};

/* Both channels of the recording into a fresh destination VM, bit @bit of
 * byte @byte of channel @flip_ch flipped (@bit 8: nothing flipped). */
static void replay(uint32_t flip_ch, size_t byte, unsigned int bit,
		   struct outcome *o)
{
	struct mt_side *d = &rec.dst;
	struct port f[NCH];
	struct sevmig_channel *ch[NCH];
	struct sevmig_receive_opts ro = {
		.size = sizeof(ro), .channels = ch, .nr_channels = NCH,
		.amd_chain = rec.amd, .amd_chain_len = rec.amd_len,
		.record = on_record,
		/* Its VMM record is 64 bytes: no 16 MiB buffer per replay. */
		.max_vmm_record = 65536,
	};
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	struct sevmig_receive *r = NULL;

	memset(o, 0, sizeof(*o));
	for (uint32_t i = 0; i < NCH; i++)
		f[i] = (struct port){ .p = tape[i].p, .len = tape[i].len,
				      .flip = SIZE_MAX };
	f[0].out = out_buf;
	f[0].out_cap = sizeof(out_buf);
	if (bit < 8) {
		f[flip_ch].flip = byte;
		f[flip_ch].mask = (unsigned char)(1u << bit);
	}
	memset(d->mem, 0, d->pages * 4096);
	mt_vm_open(d);
	for (uint32_t i = 0; i < NCH; i++)
		ch[i] = port_channel(d->ctx, &f[i]);
	assert_int_equal(sevmig_receive_new(d->vm, &ro, &r), 0);
	o->ret = sevmig_receive_run(r, NULL);
	assert_int_equal(sevmig_receive_stats(r, &st), 0);
	o->phase = st.phase;
	o->acked = wrote(f[0].out, f[0].out_len, REC_ACK);
	if (o->phase == SEVMIG_MIG_IN_DOUBT) {
		struct port vf = { .p = verdict, .len = verdict_len,
				   .flip = SIZE_MAX };
		struct sevmig_channel *vc = port_channel(d->ctx, &vf);

		o->resolved = true;
		o->resolve_ret = sevmig_receive_resolve(r, vc, NULL);
		sevmig_channel_free(vc);
	}
	assert_int_equal(sevmig_vm_state(d->vm, &o->state), 0);
	if (o->state == SEVMIG_VM_LIVE)
		mt_assert_equal(&rec);
	sevmig_receive_free(r);
	for (uint32_t i = 0; i < NCH; i++)
		sevmig_channel_free(ch[i]);
	mt_vm_close(d);
}

static int verdict_writev(void *opaque, const struct sevmig_iovec *iov,
			  uint32_t iovcnt)
{
	(void)opaque;
	for (uint32_t i = 0; i < iovcnt; i++) {
		assert_true(verdict_len + iov[i].len <= sizeof(verdict));
		memcpy(verdict + verdict_len, iov[i].base, iov[i].len);
		verdict_len += iov[i].len;
	}
	return 0;
}

/* ---- the replay sweep ---- */

static uint64_t rng_state = 0x7a3f;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *type_name(uint16_t type)
{
	static const char *const n[] = {
		"channel header", "HELLO", "START", "PAGE_PRIVATE",
		"PAGE_SHARED", "PASS_END", "PAGE_STATE", "VMM", "END", "ACK",
		"COMMIT", "ABORT",
	};

	return type < ARRAY_LEN(n) ? n[type] : "?";
}

static uint64_t flips_by_type[16], detected_by_errno[3];

static void flip_one(const struct unit *u, size_t byte, unsigned int bit)
{
	struct outcome o;

	replay(u->ch, byte, bit, &o);
	flips_by_type[u->type < 16 ? u->type : 15]++;
	if (u->type == REC_COMMIT) {
		/* After the ACK: in doubt, never discarded, never run on a
		 * corrupt COMMIT; the real verdict finishes it. */
		if (o.ret != -ENOTCONN || !o.acked || !o.resolved ||
		    o.resolve_ret || o.state != SEVMIG_VM_LIVE)
			fail_msg("COMMIT byte %zu bit %u: receive %d, acked %d, resolve %d, VM %s",
				 byte - u->off, bit, o.ret, o.acked,
				 o.resolve_ret, sevmig_vm_state_name(o.state));
		return;
	}
	/* -EPIPE: a flipped length ran the record past the recording's end. */
	if ((o.ret != -EBADMSG && o.ret != -EPROTO && o.ret != -EPIPE) ||
	    o.acked ||
	    o.phase != SEVMIG_MIG_FAILED || o.state != SEVMIG_VM_DEAD)
		fail_msg("channel %u %s at +%zu, bit %u: receive %d, phase %u, acked %d, VM %s",
			 u->ch, type_name(u->type), byte - u->off, bit, o.ret,
			 o.phase, o.acked, sevmig_vm_state_name(o.state));
	detected_by_errno[o.ret == -EBADMSG ? 0 : o.ret == -EPROTO ? 1 : 2]++;
}

static void test_replay(void **state)
{
	const char *env = getenv("SEVMIG_TAMPER_FLIPS");
	bool all = getenv("SEVMIG_TAMPER_ALL") != NULL;
	uint64_t target = env ? strtoull(env, NULL, 0) :
			  mode == SEVMIG_SIM_MODE_KVM ? 1000 : DEFAULT_FLIPS;
	uint64_t total = 0;
	struct outcome o;
	uint32_t left, skip;

	(void)state;
	/* The recording is a complete stream, as the inspector sees it. */
	for (uint32_t i = 0; i < NCH; i++) {
		struct port f = { .p = tape[i].p, .len = tape[i].len,
				  .flip = SIZE_MAX };
		struct sevmig_channel *ch = port_channel(rec.dst.ctx, &f);
		struct sevmig_stream_info in = { .size = sizeof(in) };

		assert_int_equal(sevmig_stream_inspect(rec.dst.ctx, ch, &in, 0), 0);
		assert_true(in.seen & SEVMIG_STREAM_COMPLETE);
		if (!i)
			assert_int_equal(in.commit_mode, SEVMIG_COMMIT_ACK);
		sevmig_channel_free(ch);
	}
	/* The unflipped replay finishes: the method itself works. */
	replay(0, 0, 8, &o);
	assert_int_equal(o.ret, 0);
	assert_true(o.acked);
	assert_int_equal(o.state, SEVMIG_VM_LIVE);

	/* Every bit of every channel header and record header (all bits of
	 * everything with SEVMIG_TAMPER_ALL); in KVM mode, where a replay
	 * costs a real VM, only the round-robin sample below. */
	for (uint32_t i = 0; (all || mode != SEVMIG_SIM_MODE_KVM) && i < nunits;
	     i++) {
		const struct unit *u = &units[i];
		size_t n = all ? u->len : u->type ? 32 : 64;

		for (size_t b = 0; b < n; b++)
			for (unsigned int bit = 0; bit < 8; bit++, total++)
				flip_one(u, u->off + b, bit);
	}
	/* Then bits of every unit in turn, so that every record type gets
	 * its share, until the target: payload bits after the header tier,
	 * any bit in KVM mode. */
	skip = mode == SEVMIG_SIM_MODE_KVM ? 0 : 32;
	left = 0;
	for (uint32_t i = 0; i < nunits; i++)
		left += units[i].len > skip && (units[i].type || !skip);
	for (uint32_t i = 0; !all && left && total < target; i = (i + 1) % nunits) {
		const struct unit *u = &units[i];
		uint64_t x;

		if (u->len <= skip || (!u->type && skip))
			continue;
		x = rng() % (8u * (u->len - skip));
		flip_one(u, u->off + skip + x / 8, (unsigned)(x % 8));
		total++;
	}
	printf("tamper replay: %llu single-bit flips over the %u units of a %zu + %zu byte recording, each detected\n",
	       (unsigned long long)total, nunits, tape[0].len, tape[1].len);
	for (uint32_t t = 0; t < 16; t++)
		if (flips_by_type[t])
			printf("  %-14s %llu\n", type_name((uint16_t)t),
			       (unsigned long long)flips_by_type[t]);
	printf("  before the ACK: %llu refused -EBADMSG, %llu -EPROTO, %llu -EPIPE (a length past the end), none acknowledged; COMMIT flips: all in doubt, then resolved\n",
	       (unsigned long long)detected_by_errno[0],
	       (unsigned long long)detected_by_errno[1],
	       (unsigned long long)detected_by_errno[2]);
	/* Every record type of the source's stream was hit. */
	for (uint16_t t = 0; t <= REC_COMMIT; t++)
		if (t != 1 && t != REC_ACK && !flips_by_type[t])
			fail_msg("no flip in %s", type_name(t));
}

/* ---- live flips, both directions, the source included ---- */

static void test_live(void **state)
{
	uint64_t n = 0, in_doubt = 0, missed = 0, by_type[16] = { 0 };

	(void)state;
	for (uint32_t nch = 1; nch <= NCH; nch++) {
		struct ms_case clean = { .kind = MS_CLEAN, .nch = nch,
					 .pages = PAGES };
		struct ms_result cr, r;

		ms_run(&world, &clean, &cr);
		assert_true(cr.dst_runs);
		for (uint32_t ch = 0; ch < nch; ch++)
			for (uint32_t dir = 1; dir <= 2; dir++) {
				const struct ms_flow *fl = &cr.flow[ch][dir];

				for (uint64_t u = 0; u < fl->units &&
				     u < ARRAY_LEN(fl->unit_end); u++) {
					uint64_t start = u ? fl->unit_end[u - 1] : 0;
					uint64_t len = fl->unit_end[u] - start;
					uint64_t at[4] = { 0, 4, 28, len / 2 };

					for (uint32_t i = 0; i < 4; i++) {
						struct ms_case c = {
							.kind = MS_FLIP,
							.nch = nch,
							.pages = PAGES,
							.ch = ch, .dir = dir,
							.at = start + at[i] % len,
							.bit = (unsigned)(u + i) % 8,
						};

						ms_run(&world, &c, &r);
						n++;
						if (!r.fired) {
							/* The pages took the other
							 * channel this time. */
							assert_true(r.dst_runs);
							missed++;
							continue;
						}
						by_type[r.flip_type < 16 ? r.flip_type : 15]++;
						if (r.flip_type == REC_COMMIT) {
							assert_true(r.dst_runs && r.in_doubt);
							in_doubt++;
						} else if (!r.src_runs) {
							fail_msg("flip in %s (byte %llu bit %u) of channel %u direction %u, %u channel(s): the source does not run again (destination runs %d, in doubt %d, send %d, receive %d)",
								 type_name(r.flip_type),
								 (unsigned long long)c.at,
								 c.bit, ch, dir, nch,
								 r.dst_runs, r.in_doubt,
								 r.send_ret, r.recv_ret);
						}
					}
				}
			}
	}
	printf("tamper live: %llu flips through a real source and destination (%llu missed: the pages took the other channel); "
	       "the source ran again after every one but the %llu in COMMIT (resolved: the destination ran)\n",
	       (unsigned long long)n, (unsigned long long)missed,
	       (unsigned long long)in_doubt);
	for (uint32_t t = 0; t < 16; t++)
		if (by_type[t])
			printf("  %-14s %llu\n", type_name((uint16_t)t),
			       (unsigned long long)by_type[t]);
	assert_true(by_type[1] && by_type[REC_ACK]);
}

static int setup(void **state)
{
	struct sevmig_channel_ops ops = { .size = sizeof(ops),
					  .writev = verdict_writev };
	struct sevmig_channel *vc = NULL;

	(void)state;
	mt_world_new(&world, mode);
	record_migration();
	split_units();
	assert_int_equal(sevmig_channel_new(rec.src.ctx, &ops, 0, &vc), 0);
	assert_int_equal(sevmig_send_resolve(rec.src.vm, vc, 0), 0);
	sevmig_channel_free(vc);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mt_teardown(&rec);
	mt_world_free(&world);
	for (uint32_t i = 0; i < NCH; i++)
		free(tape[i].p);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_live),
	};

	mode = th_mode_from_args(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
