// SPDX-License-Identifier: MIT
/*
 * Migration session benchmark on libsevmig-sim (memory mode). Prints
 * figures and ratios against baselines measured in the same run; it is not
 * a timed test (docs/migration-perf.md has the figures and how to read them).
 *
 *  1. private pages: pages/s over a socketpair with the simulated PSP taking
 *     L us per command on both hosts, against 1/L (target >= 90 %), for
 *     L = 20, 50, 200, with 1, 2 and 4 channels;
 *  2. shared pages: bytes/s framed, checksummed and written (to a channel
 *     that discards them) against memcpy bandwidth (target >= 50 %);
 *  3. library overhead per private page apart from the firmware command
 *     (the simulator's own AES and HMAC): pass time minus time inside the
 *     command, per page (target < 1 us);
 *  4. downtime of the final pass for a guest dirtying pages at a set rate.
 *
 * Usage: bench-mig [smoke]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sevmig/sevmig.h>
#include <sevmig/sim.h>

#include "uapi/kvm-abi.h"

#define DIE(...) do { fprintf(stderr, "bench-mig: " __VA_ARGS__); \
		      fputc('\n', stderr); exit(1); } while (0)
#define CHECK(x) do { int _r = (x); if (_r) DIE("%s: %d (%s)", #x, _r, \
		      sevmig_strerror(_r)); } while (0)

static bool smoke;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * For the overhead figure: the simulator, except that SEND_UPDATE_DATA
 * answers at once without its cryptography, so what remains of a pass is
 * the library's own work per page.
 */
static const struct sevmig_sys_ops *stub_inner;

static int stub_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	if (req == KVM_MEMORY_ENCRYPT_OP && arg &&
	    ((struct kvm_sev_cmd *)arg)->id == KVM_SEV_SEND_UPDATE_DATA)
		return 0;
	return stub_inner->ioctl(opaque, fd, req, arg);
}

/* ---- one simulated host with a VM ---- */

struct side {
	struct sevmig_sim_host *host;
	struct sevmig_sys_ops ops;
	struct sevmig_ctx *ctx;
	struct sevmig_platform *p;
	int kvm, sev, vm_fd;
	struct sevmig_vm *vm;
	unsigned char *mem;
	size_t pages;
};

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

static int op(struct side *s, uint32_t id, void *data)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uint64_t)(uintptr_t)data,
				 .sev_fd = (uint32_t)s->sev };

	return s->ops.ioctl(s->ops.opaque, s->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);
}

static void side_new(struct sevmig_sim *sim, struct side *s, size_t pages,
		     uint32_t latency_us, bool launch, bool stub_update)
{
	static struct sevmig_sys_ops stub_ops;
	struct sevmig_sim_host_opts ho = { .size = sizeof(ho),
					   .latency_us = latency_us };
	struct sevmig_ctx_opts co = { .size = sizeof(co) };
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .phys_bits = 40 };
	struct cpuid_table c;

	memset(s, 0, sizeof(*s));
	CHECK(sevmig_sim_host_new(sim, &ho, &s->host));
	s->ops.size = sizeof(s->ops);
	CHECK(sevmig_sim_host_sys_ops(s->host, &s->ops));
	s->kvm = s->ops.open(s->ops.opaque, "/dev/kvm", O_RDWR);
	s->sev = s->ops.open(s->ops.opaque, "/dev/sev", O_RDWR);
	if (s->kvm < 0 || s->sev < 0)
		DIE("cannot open the simulated devices");
	s->vm_fd = s->ops.ioctl(s->ops.opaque, s->kvm, KVM_CREATE_VM, 0);
	if (s->vm_fd < 0)
		DIE("KVM_CREATE_VM: %d", s->vm_fd);
	co.sys = &s->ops;
	if (stub_update) {
		stub_ops = s->ops;
		stub_inner = &s->ops;
		stub_ops.ioctl = stub_ioctl;
		co.sys = &stub_ops;
	}
	CHECK(sevmig_ctx_new(&co, &s->ctx));
	CHECK(sevmig_platform_from_fd(s->ctx, s->sev, 0, &s->p));
	s->pages = pages;
	s->mem = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->mem == MAP_FAILED)
		DIE("mmap %zu pages", pages);
	memset(s->mem, 0x5a, pages * 4096);
	vo.vm_fd = s->vm_fd;
	vo.platform = s->p;
	CHECK(sevmig_vm_new(s->ctx, &vo, &s->vm));
	CHECK(sevmig_vm_ram_add(s->vm, 0, pages * 4096, s->mem, 0));
	CHECK(sevmig_vm_enable_exits(s->vm, 0, 0, 0));
	CHECK(sevmig_vm_set_msr_filter(s->vm, NULL, 0));
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	if (sevmig_vm_cpuid_apply(s->vm, &c, 0) != 1)
		DIE("CPUID offer refused");
	if (launch) {
		struct kvm_sev_launch_start ls = { .policy = 0 };
		struct { uint64_t uaddr; uint32_t len, pad; } m;
		uint8_t meas[48];

		m.uaddr = (uint64_t)(uintptr_t)meas;
		m.len = sizeof(meas);
		m.pad = 0;
		if (op(s, KVM_SEV_INIT, NULL) || op(s, KVM_SEV_LAUNCH_START, &ls) ||
		    op(s, KVM_SEV_LAUNCH_MEASURE, &m) ||
		    op(s, KVM_SEV_LAUNCH_FINISH, NULL))
			DIE("launching the guest failed");
		CHECK(sevmig_vm_set_migration_control(s->vm, 1, 0));
	}
}

static void side_free(struct side *s)
{
	sevmig_vm_free(s->vm);
	munmap(s->mem, s->pages * 4096);
	s->ops.close(s->ops.opaque, s->vm_fd);
	sevmig_platform_free(s->p);
	sevmig_ctx_free(s->ctx);
	s->ops.close(s->ops.opaque, s->sev);
	s->ops.close(s->ops.opaque, s->kvm);
	sevmig_sim_host_free(s->host);
}

static void share_all(struct side *s)
{
	uint64_t hc = 0;

	CHECK(sevmig_vm_map_gpa_range(s->vm, 0, s->pages, 0,
				      SEVMIG_MAP_GPA_F_LONG_MODE, &hc));
	if (hc)
		DIE("sharing RAM: guest answer 0x%llx", (unsigned long long)hc);
}

/* ---- a full two-host migration over socketpairs ---- */

struct pair {
	struct sevmig_sim *sim;
	struct side src, dst;
	uint32_t nch;
	int fds[8][2];
	struct sevmig_channel *sch[8], *dch[8];
	unsigned char amd[3200];
	size_t amd_len;
	struct sevmig_receive *recv;
	pthread_t th;
	bool joined;
	int recv_ret;
};

static void *recv_main(void *arg)
{
	struct pair *p = arg;

	p->recv_ret = sevmig_receive_run(p->recv, NULL);
	return NULL;
}

static void pair_new(struct pair *p, size_t pages, uint32_t l_us, uint32_t nch)
{
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	struct sevmig_receive_opts ro = { .size = sizeof(ro) };

	memset(p, 0, sizeof(*p));
	CHECK(sevmig_sim_new(&so, &p->sim));
	side_new(p->sim, &p->src, pages, l_us, true, false);
	side_new(p->sim, &p->dst, pages, l_us, false, false);
	CHECK(sevmig_sim_amd_chain(p->sim, p->amd, sizeof(p->amd), &p->amd_len));
	/* The simulator's root (ASK || ARK, 832 B each) is not AMD's. */
	CHECK(sevmig_ctx_add_ark(p->src.ctx, p->amd + p->amd_len / 2,
				 p->amd_len / 2, 0));
	p->nch = nch;
	for (uint32_t i = 0; i < nch; i++) {
		int bufsz = 4 << 20;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds[i]))
			DIE("socketpair");
		setsockopt(p->fds[i][0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		setsockopt(p->fds[i][1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
		CHECK(sevmig_channel_from_fds(p->src.ctx, p->fds[i][0],
					      p->fds[i][0], 0, &p->sch[i]));
		CHECK(sevmig_channel_from_fds(p->dst.ctx, p->fds[i][1],
					      p->fds[i][1], 0, &p->dch[i]));
	}
	ro.channels = p->dch;
	ro.nr_channels = nch;
	ro.amd_chain = p->amd;
	ro.amd_chain_len = p->amd_len;
	CHECK(sevmig_receive_new(p->dst.vm, &ro, &p->recv));
	if (pthread_create(&p->th, NULL, recv_main, p))
		DIE("pthread_create");
}

static void pair_join(struct pair *p)
{
	if (!p->joined)
		pthread_join(p->th, NULL);
	p->joined = true;
}

static void pair_free(struct pair *p)
{
	pair_join(p);
	sevmig_receive_free(p->recv);
	for (uint32_t i = 0; i < p->nch; i++) {
		sevmig_channel_free(p->sch[i]);
		sevmig_channel_free(p->dch[i]);
		close(p->fds[i][0]);
		close(p->fds[i][1]);
	}
	side_free(&p->src);
	side_free(&p->dst);
	sevmig_sim_free(p->sim);
}

static struct sevmig_send *send_open(struct pair *p)
{
	struct sevmig_send_opts o = { .size = sizeof(o), .channels = p->sch,
				      .nr_channels = p->nch };
	struct sevmig_send *s = NULL;

	CHECK(sevmig_send_new(p->src.vm, &o, &s, NULL));
	CHECK(sevmig_send_begin(s, NULL, NULL));
	return s;
}

static void send_close(struct pair *p, struct sevmig_send *s)
{
	CHECK(sevmig_vm_pause(p->src.vm, 0));
	CHECK(sevmig_send_commit(s, NULL));
	sevmig_send_free(s);
	pair_join(p);
	if (p->recv_ret)
		DIE("the destination failed: %s", sevmig_strerror(p->recv_ret));
}

/* ---- 1. private pages against 1/L ---- */

/* CPU time of the whole process (both simulated hosts run in it). */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * What one simulated PSP wait costs this machine: the simulator sleeps
 * until a command's finish with a 1 ns timer slack (src/sim/objects.c).
 * Returns the CPU time per 20 us sleep, and its wall time in *wall_us.
 */
static double sleep_cost_us(double *wall_us)
{
	int n = smoke ? 500 : 20000, slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	double c0, t0;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	c0 = cpu_seconds();
	t0 = now();
	for (int i = 0; i < n; i++) {
		struct timespec ts = { 0, 20000 };

		nanosleep(&ts, NULL);
	}
	*wall_us = (now() - t0) / n * 1e6;
	c0 = (cpu_seconds() - c0) / n * 1e6;
	prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	return c0;
}

static void bench_private(void)
{
	static const uint32_t lat[] = { 0, 20, 50, 200 };
	static const uint32_t chans[] = { 1, 2, 4 };

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
	printf("\n1. private pages over a socketpair, PSP latency L on both hosts\n"
	       "   (cpu: this process's CPU time over the pass, share of %ld CPUs;\n"
	       "   near 1.00 the machine, not the firmware model, is the limit)\n",
	       ncpu);
	{
		double wall, c = sleep_cost_us(&wall);

		printf("   (context: one 20 us timer sleep, as the simulated PSP waits, costs\n"
		       "   %.1f us of CPU here and lasts %.1f us; each page waits on both hosts)\n",
		       c, wall);
	}
	printf("   %5s %4s %8s %12s %10s %7s %5s  %s\n", "L us", "ch", "pages",
	       "pages/s", "1/L", "ratio", "cpu", "target >= 0.90");
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++) {
		for (size_t c = 0; c < sizeof(chans) / sizeof(chans[0]); c++) {
			size_t pages = (size_t)((smoke ? 0.05 : 0.6) * 1e6 /
						(lat[i] ? lat[i] : 10));
			struct sevmig_pass_info pi = { .size = sizeof(pi) };
			struct sevmig_send *s;
			struct pair p;
			double rate, ideal = lat[i] ? 1e6 / lat[i] : 0;

			double cpu0, cpu;

			pair_new(&p, pages, lat[i], chans[c]);
			s = send_open(&p);
			cpu0 = cpu_seconds();
			CHECK(sevmig_send_pass(s, &pi, 0));
			cpu = (cpu_seconds() - cpu0) /
			      ((double)pi.duration_ns / 1e9 * (double)ncpu);
			rate = (double)pages / ((double)pi.duration_ns / 1e9);
			send_close(&p, s);
			pair_free(&p);
			if (!lat[i]) {
				/* No firmware latency: what the CPU allows. */
				printf("   %5u %4u %8zu %12.0f %10s %7s %5.2f  (context: CPU bound)\n",
				       0u, chans[c], pages, rate, "-", "-", cpu);
				continue;
			}
			printf("   %5u %4u %8zu %12.0f %10.0f %7.3f %5.2f  %s\n", lat[i],
			       chans[c], pages, rate, ideal, rate / ideal, cpu,
			       chans[c] == 1 ? "(serial: context)" :
			       rate / ideal >= 0.9 ? "PASS" :
			       cpu >= 0.9 ? "MISS (CPU-bound here)" : "MISS");
		}
	}
}

/* ---- 2 and 3: the sender alone, writing to a channel that discards ---- */

struct sink {
	uint64_t bytes;
};

static int sink_writev(void *opaque, const struct sevmig_iovec *iov,
		       uint32_t n)
{
	struct sink *k = opaque;

	for (uint32_t i = 0; i < n; i++)
		k->bytes += iov[i].len;
	return 0;
}

struct solo {
	struct sevmig_sim *sim;
	struct side src, dst;
	struct sink sink;
	struct sevmig_channel *ch;
	struct sevmig_send *s;
	unsigned char *hello;
};

/* A send session to a file-like sink (FLUSH mode: nothing comes back). */
static void solo_new(struct solo *o, size_t pages, bool shared, bool stub)
{
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	struct sevmig_channel_ops co = { .size = sizeof(co),
					 .writev = sink_writev };
	struct sevmig_send_opts sopt = { .size = sizeof(sopt),
					 .commit = SEVMIG_COMMIT_FLUSH };
	unsigned char amd[3200];
	size_t amd_len = 0, hello_len = 0;

	memset(o, 0, sizeof(*o));
	CHECK(sevmig_sim_new(&so, &o->sim));
	side_new(o->sim, &o->src, pages, 0, true, stub);
	side_new(o->sim, &o->dst, 1, 0, false, false);
	if (shared)
		share_all(&o->src);
	CHECK(sevmig_sim_amd_chain(o->sim, amd, sizeof(amd), &amd_len));
	CHECK(sevmig_ctx_add_ark(o->src.ctx, amd + amd_len / 2, amd_len / 2, 0));
	CHECK(sevmig_hello_export(o->dst.p, amd, amd_len, NULL, 0, &hello_len,
				  NULL));
	o->hello = malloc(hello_len);
	CHECK(sevmig_hello_export(o->dst.p, amd, amd_len, o->hello, hello_len,
				  &hello_len, NULL));
	co.opaque = &o->sink;
	CHECK(sevmig_channel_new(o->src.ctx, &co, 0, &o->ch));
	sopt.channels = &o->ch;
	sopt.nr_channels = 1;
	sopt.target_hello = o->hello;
	sopt.target_hello_len = hello_len;
	CHECK(sevmig_send_new(o->src.vm, &sopt, &o->s, NULL));
	CHECK(sevmig_send_begin(o->s, NULL, NULL));
}

static void solo_free(struct solo *o)
{
	sevmig_send_free(o->s);
	sevmig_channel_free(o->ch);
	side_free(&o->src);
	side_free(&o->dst);
	sevmig_sim_free(o->sim);
	free(o->hello);
}

static double memcpy_bandwidth(size_t bytes)
{
	unsigned char *a = malloc(bytes), *b = malloc(bytes);
	double best = 0;

	if (!a || !b)
		DIE("malloc");
	memset(a, 1, bytes);
	memset(b, 2, bytes);
	for (int r = 0; r < 5; r++) {
		double t0 = now();

		/* Page-sized copies, as the sender makes them. */
		for (size_t off = 0; off < bytes; off += 4096)
			memcpy(b + off, a + off, 4096);
		t0 = now() - t0;
		if (bytes / t0 > best)
			best = (double)bytes / t0;
	}
	/* Keep the copies observable. */
	if (b[bytes / 2] != 1)
		DIE("memcpy");
	free(a);
	free(b);
	return best;
}

static void bench_shared(void)
{
	size_t pages = smoke ? 4096 : 65536;
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	double bw, mc, best = 0;

	printf("\n2. shared pages: framed, checksummed, written to a discarding channel\n");
	mc = memcpy_bandwidth(pages * 4096);
	for (int r = 0; r < 3; r++) {
		struct solo o;

		solo_new(&o, pages, true, false);
		CHECK(sevmig_send_pass(o.s, &pi, 0));
		bw = (double)pages * 4096 / ((double)pi.duration_ns / 1e9);
		if (bw > best)
			best = bw;
		solo_free(&o);
	}
	printf("   %zu pages: %.2f GB/s; memcpy (4 KiB copies, same run) %.2f GB/s; ratio %.2f  target >= 0.50 %s\n",
	       pages, best / 1e9, mc / 1e9, best / mc,
	       best / mc >= 0.5 ? "PASS" : "MISS");
}

static void bench_overhead(void)
{
	size_t pages = smoke ? 2048 : 32768;
	double best = 1e9;

	printf("\n3. library overhead per private page, apart from the firmware command\n");
	for (int r = 0; r < 5; r++) {
		struct sevmig_pass_info pi = { .size = sizeof(pi) };
		struct solo o;
		double per;

		solo_new(&o, pages, false, true);
		CHECK(sevmig_send_pass(o.s, &pi, 0));
		per = (double)pi.duration_ns / 1e3 / (double)pi.pages_private;
		if (per < best)
			best = per;
		solo_free(&o);
	}
	printf("   %zu pages: %.3f us per page with the command answered at once (framing, checksum, page walk, write)  target < 1 us %s\n",
	       pages, best, best < 1.0 ? "PASS" : "MISS");
}

/* ---- 4. downtime with a guest dirtying pages ---- */

struct dirtier {
	struct pair *p;
	struct sevmig_send *s;
	uint32_t rate;		/* pages per second */
	volatile int stop;
};

static void *dirtier_main(void *arg)
{
	struct dirtier *d = arg;
	uint64_t x = 7;
	double t0 = now(), done = 0;

	while (!d->stop) {
		double due = (now() - t0) * d->rate;

		while (done < due) {
			uint64_t page;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			page = (x >> 33) % d->p->src.pages;
			d->p->src.mem[page * 4096 + 64] ^= 1;
			if (sevmig_send_mark_dirty(d->s, page * 4096, 4096, NULL, 0))
				return NULL;
			done++;
		}
		usleep(200);
	}
	return NULL;
}

static void bench_downtime(void)
{
	static const uint32_t rates[] = { 0, 1000, 10000, 50000 };
	const uint32_t lat = 20;
	size_t pages = smoke ? 2048 : 16384;

	printf("\n4. downtime of the final pass (L = %u us, 2 channels, %zu pages = %zu MiB)\n",
	       lat, pages, pages * 4096 >> 20);
	printf("   %10s %7s %10s %12s %12s\n", "dirty/s", "passes",
	       "last pass", "downtime ms", "total ms");
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct sevmig_pass_info pi = { .size = sizeof(pi) };
		struct sevmig_mig_stats st = { .size = sizeof(st) };
		struct dirtier d = { .rate = rates[i] };
		struct sevmig_send *s;
		unsigned char *zero;
		pthread_t th;
		struct pair p;
		double t0 = now();

		pair_new(&p, pages, lat, 2);
		s = send_open(&p);
		d.p = &p;
		d.s = s;
		/* This VMM tracks the RAM it dirties: nothing written yet. */
		zero = calloc(1, (pages + 7) / 8);
		if (!zero)
			DIE("out of memory");
		CHECK(sevmig_send_mark_dirty(s, 0, pages * 4096, zero, 0));
		free(zero);
		if (pthread_create(&th, NULL, dirtier_main, &d))
			DIE("pthread_create");
		/* Pre-copy until the remaining work fits ~50 ms, at most 10. */
		do {
			CHECK(sevmig_send_pass(s, &pi, 0));
		} while (pi.remaining_pages * lat > 50000 && pi.pass < 10);
		d.stop = 1;
		pthread_join(th, NULL);
		CHECK(sevmig_vm_pause(p.src.vm, 0));
		CHECK(sevmig_send_commit(s, NULL));
		CHECK(sevmig_send_stats(s, &st));
		sevmig_send_free(s);
		pair_join(&p);
		printf("   %10u %7llu %10llu %12.1f %12.1f\n", rates[i],
		       (unsigned long long)st.passes,
		       (unsigned long long)pi.remaining_pages,
		       (double)st.downtime_ns / 1e6, (now() - t0) * 1e3);
		pair_free(&p);
	}
}

int main(int argc, char **argv)
{
	smoke = argc > 1 && !strcmp(argv[1], "smoke");
	printf("libsevmig migration benchmark (libsevmig-sim, memory mode)%s\n",
	       smoke ? " - smoke sizes" : "");
	bench_private();
	bench_shared();
	bench_overhead();
	bench_downtime();
	return 0;
}
