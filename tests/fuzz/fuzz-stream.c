// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the migration stream's receive side on hostile bytes,
 * on the simulator in memory mode (docs/stream.md, "Tests").
 *
 * The first byte of an input picks what the rest is:
 *   0  channel 0 of a one-channel stream, into a receive session;
 *   1  a two-channel stream: a 32-bit little-endian length, that many
 *      bytes of channel 0, the rest channel 1 (a page channel);
 *   2  one channel direction for sevmig_stream_inspect();
 *   3  a target's HELLO (channel header and record) for a send session in
 *      SEVMIG_COMMIT_FLUSH mode, through sevmig_send_begin().
 * Between them the parsers of channel headers, HELLO, START, page records,
 * PASS_END, PAGE_STATE, VMM records, END, COMMIT and ABORT are all reached.
 *
 * LLVMFuzzerInitialize() builds a world with a source and a destination
 * host, records valid streams of a small migration (FLUSH mode, 1 and 2
 * channels, two passes, a VMM record), checks that each of them migrates
 * through this harness, and writes them as seeds (one per mode) into the
 * corpus directory named on the command line, which libFuzzer reads after
 * initialising. A receive session runs every input on a fresh destination
 * VM of the same destination host.
 *
 * START carries the session blob SEND_START made for this process's
 * destination PDH; an input from another run (a crash to reproduce, an old
 * corpus entry) would only ever fail RECEIVE_START. So when START's session
 * is none of this process's, the harness writes this process's first one in
 * and seals the record again: the record's fields, lengths and everything
 * after it stay the input's. (Private pages of another run still fail
 * their MAC, as they would on real firmware.)
 *
 * Oracles besides the sanitizers: a receive session that returns 0 has a
 * LIVE VM, one that fails outside IN_DOUBT a DEAD one; the inspector's
 * errors are only those it documents, and a clean result accounts for every
 * byte; a send session freed after its HELLO leaves the source LIVE with
 * its guest RUNNING.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sevmig/sevmig.h>
#include <sevmig/sim.h>

#include "uapi/kvm-abi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The library's CRC32C, to seal a repaired START. */
uint32_t sevmig_crc32c(uint32_t crc, const void *buf, size_t len);

#define PAGES 24u
#define MAX_VMM (64u << 10)
#define START_SESSION 32u	/* payload offsets of START */
#define START_PDH (32u + 128u)
#define START_MIN (32u + 128u + 2084u + 16u)

#define die(...)							\
	do {								\
		fprintf(stderr, "fuzz-stream: " __VA_ARGS__);		\
		fprintf(stderr, "\n");					\
		abort();						\
	} while (0)

struct host {
	struct sevmig_sim_host *host;
	struct sevmig_sys_ops ops;
	int kvm, sev;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
};

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static struct {
	struct sevmig_sim *sim;
	struct host src, dst;
	uint8_t amd[3200];
	size_t amd_len;
	unsigned char *dst_mem;
	/* a source VM kept LIVE for HELLO inputs */
	int hello_vm_fd;
	struct sevmig_vm *hello_vm;
	unsigned char *hello_mem;
	/* the seeds and the sessions they carry */
	struct buf one, two[2], hello;
	unsigned char session[2][128], pdh[2][2084];
} F;

/* Guest RAM: page-aligned, as a VMM maps it. */
static unsigned char *ram(void)
{
	void *p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("no guest RAM");
	return p;
}

static void quiet(void *opaque, uint32_t level, const char *msg)
{
	(void)opaque;
	if (getenv("SEVMIG_FUZZ_VERBOSE"))
		fprintf(stderr, "[%u] %s\n", level, msg);
}

static void host_open(struct host *h)
{
	struct sevmig_ctx_opts co = { .size = sizeof(co), .log = quiet,
				      .log_level = SEVMIG_LOG_DEBUG };

	if (sevmig_sim_host_new(F.sim, NULL, &h->host))
		die("no host");
	h->ops.size = sizeof(h->ops);
	if (sevmig_sim_host_sys_ops(h->host, &h->ops))
		die("no ops");
	h->kvm = h->ops.open(h->ops.opaque, "/dev/kvm", O_RDWR | O_CLOEXEC);
	h->sev = h->ops.open(h->ops.opaque, "/dev/sev", O_RDWR | O_CLOEXEC);
	co.sys = &h->ops;
	if (h->kvm < 0 || h->sev < 0 || sevmig_ctx_new(&co, &h->ctx) ||
	    sevmig_platform_from_fd(h->ctx, h->sev, 0, &h->p))
		die("cannot open the simulated devices");
}

static int sev_op(struct host *h, int vm, uint32_t id, void *data)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uint64_t)(uintptr_t)data,
				 .sev_fd = (uint32_t)h->sev };

	return h->ops.ioctl(h->ops.opaque, vm, KVM_MEMORY_ENCRYPT_OP, &c);
}

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

/* A VM handle on @h with @mem as RAM and the negotiation plumbing. */
static struct sevmig_vm *vm_open(struct host *h, unsigned char *mem, int *ret_fd)
{
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .phys_bits = 40 };
	struct cpuid_table c;
	struct sevmig_vm *vm = NULL;
	int fd = h->ops.ioctl(h->ops.opaque, h->kvm, KVM_CREATE_VM, NULL);

	if (fd < 0)
		die("KVM_CREATE_VM: %d", fd);
	vo.vm_fd = fd;
	vo.platform = h->p;
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	if (sevmig_vm_new(h->ctx, &vo, &vm) ||
	    sevmig_vm_ram_add(vm, 0, PAGES * 4096, mem, 0) ||
	    sevmig_vm_enable_exits(vm, 0, 0, 0) ||
	    sevmig_vm_set_msr_filter(vm, NULL, 0) ||
	    sevmig_vm_cpuid_apply(vm, &c, 0) != 1)
		die("cannot set up a VM");
	*ret_fd = fd;
	return vm;
}

static void vm_close(struct host *h, struct sevmig_vm *vm, int fd)
{
	sevmig_vm_free(vm);
	h->ops.close(h->ops.opaque, fd);
}

/* A source VM with a launched guest that says READY, some pages shared. */
static struct sevmig_vm *source_vm(unsigned char *mem, int *ret_fd, uint32_t seed)
{
	struct kvm_sev_launch_start ls = { .policy = 0 };
	struct { uint64_t uaddr; uint32_t len, pad; } m;
	uint8_t meas[48];
	struct sevmig_vm *vm = vm_open(&F.src, mem, ret_fd);
	uint64_t hc = 0;

	m.uaddr = (uint64_t)(uintptr_t)meas;
	m.len = sizeof(meas);
	if (sev_op(&F.src, *ret_fd, KVM_SEV_INIT, NULL) ||
	    sev_op(&F.src, *ret_fd, KVM_SEV_LAUNCH_START, &ls) ||
	    sev_op(&F.src, *ret_fd, KVM_SEV_LAUNCH_MEASURE, &m) ||
	    sev_op(&F.src, *ret_fd, KVM_SEV_LAUNCH_FINISH, NULL) ||
	    sevmig_vm_set_migration_control(vm, 1, 0))
		die("cannot launch the source guest");
	for (uint32_t i = 0; i < PAGES * 4096; i++)
		mem[i] = (unsigned char)(i * 7 + seed);
	for (uint32_t p = 2; p < PAGES; p += 5)
		if (sevmig_vm_map_gpa_range(vm, p * 4096ull, 1 + p % 2, 0,
					    SEVMIG_MAP_GPA_F_LONG_MODE, &hc))
			die("cannot share pages");
	return vm;
}

/* ---- channels over memory ---- */

static int buf_writev(void *opaque, const struct sevmig_iovec *iov,
		      uint32_t iovcnt)
{
	struct buf *b = opaque;

	for (uint32_t i = 0; i < iovcnt; i++) {
		if (b->len + iov[i].len > b->cap) {
			b->cap = 2 * (b->len + iov[i].len);
			b->p = realloc(b->p, b->cap);
			if (!b->p)
				return -ENOMEM;
		}
		memcpy(b->p + b->len, iov[i].base, iov[i].len);
		b->len += iov[i].len;
	}
	return 0;
}

static int sink_writev(void *opaque, const struct sevmig_iovec *iov,
		       uint32_t iovcnt)
{
	(void)opaque;
	(void)iov;
	(void)iovcnt;
	return 0;
}

struct feed {
	const unsigned char *p;
	size_t len, pos;
};

static int feed_read(void *opaque, void *out, size_t len)
{
	struct feed *f = opaque;

	if (f->pos == f->len && len)
		return -ENODATA;
	if (len > f->len - f->pos) {
		f->pos = f->len;
		return -EPIPE;
	}
	memcpy(out, f->p + f->pos, len);
	f->pos += len;
	return 0;
}

static struct sevmig_channel *chan(struct sevmig_ctx *ctx, void *opaque,
				   bool reads, int (*writev)(void *,
					const struct sevmig_iovec *, uint32_t))
{
	struct sevmig_channel_ops ops = { .size = sizeof(ops), .opaque = opaque,
					  .writev = writev };
	struct sevmig_channel *ch = NULL;

	if (reads)
		ops.read = feed_read;
	if (sevmig_channel_new(ctx, &ops, 0, &ch))
		die("no channel");
	return ch;
}

/* ---- recording the seeds ---- */

static void record(uint32_t nch, struct buf *out)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_channel *ch[2];
	struct sevmig_send *s = NULL;
	unsigned char *mem = ram(), vcpu[40];
	struct sevmig_vm *vm;
	int fd;

	vm = source_vm(mem, &fd, nch);
	for (uint32_t i = 0; i < nch; i++)
		ch[i] = chan(F.src.ctx, &out[i], false, buf_writev);
	o.channels = ch;
	o.nr_channels = nch;
	o.commit = SEVMIG_COMMIT_FLUSH;
	o.target_hello = F.hello.p;
	o.target_hello_len = F.hello.len;
	memset(vcpu, 0xc3, sizeof(vcpu));
	if (sevmig_send_new(vm, &o, &s, NULL) || sevmig_send_begin(s, NULL, NULL) ||
	    sevmig_send_pass(s, NULL, 0) ||
	    sevmig_send_mark_dirty(s, 4096, 3 * 4096, NULL, 0) ||
	    sevmig_send_pass(s, NULL, 0) ||
	    sevmig_send_record(s, 0x1000, vcpu, sizeof(vcpu), 0) ||
	    sevmig_vm_pause(vm, 0) || sevmig_send_commit(s, NULL))
		die("the seed migration failed");
	sevmig_send_free(s);
	for (uint32_t i = 0; i < nch; i++)
		sevmig_channel_free(ch[i]);
	vm_close(&F.src, vm, fd);
	munmap(mem, PAGES * 4096);
}

/* ---- running inputs ---- */

static int on_record(void *opaque, uint32_t type, const void *b, size_t len)
{
	(void)opaque;
	(void)type;
	(void)b;
	(void)len;
	return 0;
}

/* START's session blob and PDH, when this process did not make them. */
static void repair_start(unsigned char *ch0, size_t len)
{
	uint32_t rlen, crc;
	unsigned char *pl = ch0 + 64 + 32;
	uint16_t type;

	if (len < 64 + 32 + START_MIN)
		return;
	memcpy(&type, ch0 + 64, 2);
	memcpy(&rlen, ch0 + 64 + 4, 4);
	if (type != 2 || rlen < START_MIN || rlen > len - 64 - 32)
		return;
	for (int i = 0; i < 2; i++)
		if (!memcmp(pl + START_SESSION, F.session[i], 128) &&
		    !memcmp(pl + START_PDH, F.pdh[i], 2084))
			return;
	memcpy(pl + START_SESSION, F.session[0], 128);
	memcpy(pl + START_PDH, F.pdh[0], 2084);
	crc = sevmig_crc32c(0, ch0 + 64, 28);
	crc = sevmig_crc32c(crc, pl, rlen);
	memcpy(ch0 + 64 + 28, &crc, 4);
}

static int receive(const unsigned char *c0, size_t l0, const unsigned char *c1,
		   size_t l1, uint32_t nch)
{
	struct feed f[2] = { { c0, l0, 0 }, { c1, l1, 0 } };
	struct sevmig_channel *ch[2];
	struct sevmig_receive_opts ro = {
		.size = sizeof(ro), .channels = ch, .nr_channels = nch,
		.amd_chain = F.amd, .amd_chain_len = F.amd_len,
		.record = on_record, .max_vmm_record = MAX_VMM,
	};
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	struct sevmig_receive *r = NULL;
	struct sevmig_vm *vm;
	uint32_t state = 0;
	int fd, ret;

	vm = vm_open(&F.dst, F.dst_mem, &fd);
	ch[0] = chan(F.dst.ctx, &f[0], true, sink_writev);
	if (nch > 1)
		ch[1] = chan(F.dst.ctx, &f[1], true, NULL);
	if (sevmig_receive_new(vm, &ro, &r))
		die("sevmig_receive_new");
	ret = sevmig_receive_run(r, NULL);
	if (sevmig_receive_stats(r, &st) || sevmig_vm_state(vm, &state))
		die("stats");
	if (!ret && state != SEVMIG_VM_LIVE)
		die("receive returned 0 but the VM is %s", sevmig_vm_state_name(state));
	if (ret && st.phase != SEVMIG_MIG_IN_DOUBT && state != SEVMIG_VM_DEAD)
		die("receive failed (%d) but the VM is %s", ret,
		    sevmig_vm_state_name(state));
	if (ret && st.phase == SEVMIG_MIG_IN_DOUBT && state != SEVMIG_VM_INCOMING)
		die("in doubt but the VM is %s", sevmig_vm_state_name(state));
	sevmig_receive_free(r);
	for (uint32_t i = 0; i < nch; i++)
		sevmig_channel_free(ch[i]);
	vm_close(&F.dst, vm, fd);
	return ret;
}

static void inspect(const unsigned char *p, size_t len)
{
	struct feed f = { p, len, 0 };
	struct sevmig_channel *ch = chan(F.dst.ctx, &f, true, NULL);
	struct sevmig_stream_info in = { .size = sizeof(in) };
	uint64_t sum = 0;
	int ret = sevmig_stream_inspect(F.dst.ctx, ch, &in, 0);

	sevmig_channel_free(ch);
	if (ret && ret != -EBADMSG && ret != -EPROTO && ret != -EPIPE)
		die("inspect: undocumented error %d", ret);
	if (ret != in.error)
		die("inspect: returned %d, info says %d", ret, in.error);
	for (uint32_t t = 0; t < 12; t++)
		sum += in.records_by_type[t];
	if (sum != in.records || in.bytes > len ||
	    (!ret && in.bytes != len) || (ret && in.error_offset > in.bytes))
		die("inspect: %llu records by type of %llu, %llu bytes of %zu",
		    (unsigned long long)sum, (unsigned long long)in.records,
		    (unsigned long long)in.bytes, len);
}

static void hello(const unsigned char *p, size_t len)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_guest_status gs = { .size = sizeof(gs) };
	struct buf out = { 0 };
	struct sevmig_channel *ch = chan(F.src.ctx, &out, false, sink_writev);
	struct sevmig_send *s = NULL;
	uint32_t state = 0;

	o.channels = &ch;
	o.nr_channels = 1;
	o.commit = SEVMIG_COMMIT_FLUSH;
	o.target_hello = p;
	o.target_hello_len = len;
	if (!sevmig_send_new(F.hello_vm, &o, &s, NULL)) {
		int ret = sevmig_send_begin(s, NULL, NULL);

		(void)ret;	/* refused or not, the source must run again */
		sevmig_send_free(s);
	}
	sevmig_channel_free(ch);
	if (sevmig_vm_state(F.hello_vm, &state) || state != SEVMIG_VM_LIVE ||
	    sevmig_vm_guest_status(F.hello_vm, &gs, NULL) ||
	    gs.state != SEVMIG_GUEST_RUNNING)
		die("after a HELLO the source is %s, guest state %u",
		    sevmig_vm_state_name(state), gs.state);
}

/* ---- libFuzzer ---- */

static void write_seed(const char *dir, const char *name, uint8_t mode,
		       const struct buf *a, const struct buf *b)
{
	char path[4096];
	FILE *f;
	uint32_t l;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		die("cannot write %s", path);
	fwrite(&mode, 1, 1, f);
	if (b) {
		l = (uint32_t)a->len;
		fwrite(&l, 4, 1, f);
	}
	fwrite(a->p, 1, a->len, f);
	if (b)
		fwrite(b->p, 1, b->len, f);
	if (fclose(f))
		die("cannot write %s", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	const char *dir = NULL;
	size_t n = 0;

	if (sevmig_sim_new(&so, &F.sim))
		die("no simulated world");
	host_open(&F.src);
	host_open(&F.dst);
	if (sevmig_sim_amd_chain(F.sim, F.amd, sizeof(F.amd), &F.amd_len))
		die("no AMD chain");
	/* The simulator's root is not AMD's: the source's operator adds it. */
	if (sevmig_ctx_add_ark(F.src.ctx, F.amd + F.amd_len / 2, F.amd_len / 2, 0))
		die("the simulator's ARK is refused");
	F.dst_mem = ram();
	F.hello_mem = ram();
	F.hello_vm = source_vm(F.hello_mem, &F.hello_vm_fd, 99);
	if (sevmig_hello_export(F.dst.p, F.amd, F.amd_len, NULL, 0, &n, NULL))
		die("hello size");
	F.hello.p = malloc(n);
	F.hello.len = F.hello.cap = n;
	if (sevmig_hello_export(F.dst.p, F.amd, F.amd_len, F.hello.p, n, &n, NULL))
		die("hello");

	/* Valid streams, which must migrate through this harness. */
	record(1, &F.one);
	record(2, F.two);
	memcpy(F.session[0], F.one.p + 64 + 32 + START_SESSION, 128);
	memcpy(F.pdh[0], F.one.p + 64 + 32 + START_PDH, 2084);
	memcpy(F.session[1], F.two[0].p + 64 + 32 + START_SESSION, 128);
	memcpy(F.pdh[1], F.two[0].p + 64 + 32 + START_PDH, 2084);
	if (receive(F.one.p, F.one.len, NULL, 0, 1) ||
	    receive(F.two[0].p, F.two[0].len, F.two[1].p, F.two[1].len, 2))
		die("a recorded stream does not migrate through the harness");

	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-') {
			dir = (*argv)[i];
			break;
		}
	if (dir) {
		mkdir(dir, 0755);
		write_seed(dir, "seed-receive-1ch", 0, &F.one, NULL);
		write_seed(dir, "seed-receive-2ch", 1, &F.two[0], &F.two[1]);
		write_seed(dir, "seed-inspect-ch0", 2, &F.one, NULL);
		write_seed(dir, "seed-inspect-ch1", 2, &F.two[1], NULL);
		write_seed(dir, "seed-inspect-hello", 2, &F.hello, NULL);
		write_seed(dir, "seed-hello", 3, &F.hello, NULL);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *c0;
	uint32_t l0;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		c0 = malloc(size);
		memcpy(c0, data + 1, size - 1);
		repair_start(c0, size - 1);
		receive(c0, size - 1, NULL, 0, 1);
		free(c0);
		break;
	case 1:
		if (size < 5)
			return 0;
		memcpy(&l0, data + 1, 4);
		if (l0 > size - 5)
			l0 = (uint32_t)(size - 5);
		c0 = malloc(size);
		memcpy(c0, data + 5, size - 5);
		repair_start(c0, l0);
		receive(c0, l0, c0 + l0, size - 5 - l0, 2);
		free(c0);
		break;
	case 2:
		inspect(data + 1, size - 1);
		break;
	default:
		hello(data + 1, size - 1);
		break;
	}
	return 0;
}
