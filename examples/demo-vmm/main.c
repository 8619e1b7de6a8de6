// SPDX-License-Identifier: MIT
/*
 * sevmig-demo-vmm: live-migrate a running KVM guest between two processes
 * with libsevmig (docs/demo.md).
 *
 *   demo      (default) run a guest here, start a destination process,
 *             migrate the guest to it while it runs, print the verdict
 *   source    run a guest; migrate it on --migrate-to, or on "migrate"
 *             commands read from stdin (--monitor)
 *   incoming  wait for a guest on --listen, run it, report its checks
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"
#include "vmm.h"

extern char **environ;

#define EXIT_PASS	0
#define EXIT_FAIL	1	/* the guest's own checks failed */
#define EXIT_SETUP	2	/* usage, /dev/kvm, setup */
#define EXIT_MIGRATION	3	/* the migration failed or was discarded */

struct opts {
	const char *cmd;
	struct demo_config cfg;
	struct demo_mig_opts mig;
	bool json, quiet, verbose, monitor, corrupt, keep_running;
	bool die_with_parent;
	int events_fd;
	const char *listen, *ark_out, *trust_ark, *migrate_to, *amd_chain;
	uint32_t accept_timeout_ms, run_ms, warmup_ms, timeout_s;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void usage(FILE *f)
{
	fputs(
"usage: sevmig-demo-vmm [demo|source|incoming] [options]\n"
"\n"
"  demo       (default) boot a guest here, start a destination process, and\n"
"             live-migrate the running guest to it; print the verdict\n"
"  source     boot a guest; migrate it with --migrate-to, or on commands\n"
"             read from stdin with --monitor (\"migrate HOST:PORT [ARK]\",\n"
"             \"quit\")\n"
"  incoming   wait for a guest on --listen, run it, report its checks\n"
"\n"
"guest (both ends must agree):\n"
"  --mem MIB            guest RAM (64)\n"
"  --vcpus N            vCPUs, 1..8 (2)\n"
"  --dirty-rate N       pages the guest rewrites per second (4000)\n"
"  --shared-pages N     pages each vCPU keeps shared at a time (16)\n"
"  --shared-ms MS       how long before it shares others (50)\n"
"  --tick-us US         guest loop iteration (1000)\n"
"  --report-ms MS       guest heartbeat period (50)\n"
"platform:\n"
"  --sev auto|sim|real  real /dev/sev, or libsevmig-sim (auto)\n"
"  --psp-latency-us US  simulated PSP: time per firmware command (0)\n"
"  --hypercall auto|doorbell|vmmcall   how the guest reports page states\n"
"  --policy HEX         SEV guest policy (0x23: NODBG NOKS SEV)\n"
"  --host-policy allow|deny|override-ready\n"
"  --amd-chain FILE     real SEV destination: ASK||ARK of this CPU\n"
"migration:\n"
"  --max-passes N (10)  --min-passes N (1)  --downtime-ms MS (30)\n"
"  --pass-interval-ms MS  pause between passes until --min-passes (0)\n"
"  --warmup-ms MS       let the guest run before migrating (demo: 500)\n"
"  --migrate-to H:P     source: migrate there\n"
"  --trust-ark FILE     source: the destination's AMD root (ARK)\n"
"  --monitor            source: read commands from stdin\n"
"  --listen H:P         incoming: where to wait (127.0.0.1:0)\n"
"  --ark-out FILE       incoming: write this host's AMD root there\n"
"  --accept-timeout-ms MS  incoming: give up waiting (60000)\n"
"  --run-ms MS          keep the guest running this long at the end\n"
"  --keep-running       incoming: run the guest until stdin closes\n"
"output:\n"
"  --json               the final report as JSON on stdout\n"
"  --events FD          JSON lines of what happens, for scripts\n"
"  --quiet              no progress or notes\n"
"  --verbose            libsevmig's warnings and notes too\n"
"  --timeout S          give up after S seconds (120)\n", f);
}

/* ---------------------------------------------------------- options */

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

enum {
	O_MEM = 256, O_VCPUS, O_DIRTY, O_SHARED, O_SHARED_MS, O_TICK,
	O_REPORT, O_SEV, O_LAT, O_HC, O_POLICY, O_HOST_POLICY, O_AMD,
	O_MAXP, O_MINP, O_DOWN, O_INTERVAL, O_WARMUP, O_TO, O_TRUST,
	O_MONITOR, O_LISTEN, O_ARK_OUT, O_ACCEPT, O_RUN, O_KEEP, O_JSON,
	O_EVENTS, O_QUIET, O_TIMEOUT, O_CORRUPT, O_PARENT, O_HELP, O_VERBOSE,
};

static const struct option long_opts[] = {
	{ "mem", 1, NULL, O_MEM }, { "vcpus", 1, NULL, O_VCPUS },
	{ "dirty-rate", 1, NULL, O_DIRTY },
	{ "shared-pages", 1, NULL, O_SHARED },
	{ "shared-ms", 1, NULL, O_SHARED_MS }, { "tick-us", 1, NULL, O_TICK },
	{ "report-ms", 1, NULL, O_REPORT }, { "sev", 1, NULL, O_SEV },
	{ "psp-latency-us", 1, NULL, O_LAT }, { "hypercall", 1, NULL, O_HC },
	{ "policy", 1, NULL, O_POLICY },
	{ "host-policy", 1, NULL, O_HOST_POLICY },
	{ "amd-chain", 1, NULL, O_AMD }, { "max-passes", 1, NULL, O_MAXP },
	{ "min-passes", 1, NULL, O_MINP }, { "downtime-ms", 1, NULL, O_DOWN },
	{ "pass-interval-ms", 1, NULL, O_INTERVAL },
	{ "warmup-ms", 1, NULL, O_WARMUP }, { "migrate-to", 1, NULL, O_TO },
	{ "trust-ark", 1, NULL, O_TRUST }, { "monitor", 0, NULL, O_MONITOR },
	{ "listen", 1, NULL, O_LISTEN }, { "ark-out", 1, NULL, O_ARK_OUT },
	{ "accept-timeout-ms", 1, NULL, O_ACCEPT },
	{ "run-ms", 1, NULL, O_RUN }, { "keep-running", 0, NULL, O_KEEP },
	{ "json", 0, NULL, O_JSON }, { "events", 1, NULL, O_EVENTS },
	{ "quiet", 0, NULL, O_QUIET }, { "timeout", 1, NULL, O_TIMEOUT },
	{ "debug-corrupt", 0, NULL, O_CORRUPT },
	{ "die-with-parent", 0, NULL, O_PARENT },
	{ "help", 0, NULL, O_HELP }, { "verbose", 0, NULL, O_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int val)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == val)
			return p->name;
	return "?";
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->cmd = "demo";
	o->cfg = (struct demo_config){
		.mem_mib = 64, .vcpus = 2, .dirty_rate = 4000,
		.tick_us = 1000, .report_ms = 50, .shared_pages = 16,
		.shared_ms = 50, .policy = 0x23,
		.host_policy = SEVMIG_HOST_POLICY_ALLOW,
	};
	o->mig = (struct demo_mig_opts){ .max_passes = 10, .min_passes = 1,
					 .downtime_ms = 30 };
	o->events_fd = -1;
	o->listen = "127.0.0.1:0";
	o->accept_timeout_ms = 60000;
	o->warmup_ms = 500;
	o->timeout_s = 120;
	if (argc > 1 && argv[1][0] != '-') {
		o->cmd = argv[1];
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		uint32_t *u = NULL;
		bool ok = true;

		switch (c) {
		case O_MEM: u = &o->cfg.mem_mib; break;
		case O_VCPUS: u = &o->cfg.vcpus; break;
		case O_DIRTY: u = &o->cfg.dirty_rate; break;
		case O_SHARED: u = &o->cfg.shared_pages; break;
		case O_SHARED_MS: u = &o->cfg.shared_ms; break;
		case O_TICK: u = &o->cfg.tick_us; break;
		case O_REPORT: u = &o->cfg.report_ms; break;
		case O_LAT: u = &o->cfg.psp_latency_us; break;
		case O_POLICY: u = &o->cfg.policy; break;
		case O_MAXP: u = &o->mig.max_passes; break;
		case O_MINP: u = &o->mig.min_passes; break;
		case O_DOWN: u = &o->mig.downtime_ms; break;
		case O_INTERVAL: u = &o->mig.pass_interval_ms; break;
		case O_WARMUP: u = &o->warmup_ms; break;
		case O_ACCEPT: u = &o->accept_timeout_ms; break;
		case O_RUN: u = &o->run_ms; break;
		case O_TIMEOUT: u = &o->timeout_s; break;
		case O_SEV:
			if (!strcmp(optarg, "auto"))
				o->cfg.sev = DEMO_SEV_AUTO;
			else if (!strcmp(optarg, "sim"))
				o->cfg.sev = DEMO_SEV_SIM;
			else if (!strcmp(optarg, "real"))
				o->cfg.sev = DEMO_SEV_REAL;
			else
				ok = false;
			break;
		case O_HC:
			if (!strcmp(optarg, "auto"))
				o->cfg.hypercall = DEMO_HYPERCALL_AUTO;
			else if (!strcmp(optarg, "doorbell"))
				o->cfg.hypercall = DEMO_HC_DOORBELL;
			else if (!strcmp(optarg, "vmmcall"))
				o->cfg.hypercall = DEMO_HC_VMMCALL;
			else
				ok = false;
			break;
		case O_HOST_POLICY:
			if (!strcmp(optarg, "allow"))
				o->cfg.host_policy = SEVMIG_HOST_POLICY_ALLOW;
			else if (!strcmp(optarg, "deny"))
				o->cfg.host_policy = SEVMIG_HOST_POLICY_DENY;
			else if (!strcmp(optarg, "override-ready"))
				o->cfg.host_policy =
					SEVMIG_HOST_POLICY_OVERRIDE_READY;
			else
				ok = false;
			break;
		case O_AMD: o->amd_chain = optarg; break;
		case O_TO: o->migrate_to = optarg; break;
		case O_TRUST: o->trust_ark = optarg; break;
		case O_MONITOR: o->monitor = true; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_ARK_OUT: o->ark_out = optarg; break;
		case O_KEEP: o->keep_running = true; break;
		case O_JSON: o->json = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_VERBOSE: o->verbose = true; break;
		case O_CORRUPT: o->corrupt = true; break;
		case O_PARENT: o->die_with_parent = true; break;
		case O_EVENTS: {
			uint32_t fd;

			ok = parse_u32(optarg, &fd) && fd < 1024 &&
			     fcntl((int)fd, F_GETFD) >= 0;
			o->events_fd = (int)fd;
			break;
		}
		case O_HELP:
		case 'h':
			usage(stdout);
			exit(EXIT_PASS);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (u)
			ok = parse_u32(optarg, u);
		if (!ok) {
			fprintf(stderr, "sevmig-demo-vmm: bad value for --%s: "
				"%s\n", opt_name(c), optarg);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sevmig-demo-vmm: unexpected argument \"%s\"\n",
			argv[optind]);
		return -EINVAL;
	}
	if (strcmp(o->cmd, "demo") && strcmp(o->cmd, "source") &&
	    strcmp(o->cmd, "incoming")) {
		fprintf(stderr, "sevmig-demo-vmm: unknown command \"%s\"\n",
			o->cmd);
		usage(stderr);
		return -EINVAL;
	}
	if (!o->cfg.tick_us || o->cfg.tick_us > 100000 || !o->cfg.report_ms ||
	    !o->mig.max_passes || o->mig.min_passes > o->mig.max_passes) {
		fprintf(stderr, "sevmig-demo-vmm: --tick-us must be 1..100000, "
			"--report-ms and --max-passes non-zero, and "
			"--min-passes at most --max-passes\n");
		return -EINVAL;
	}
	return 0;
}

/* --------------------------------------------------- /dev/kvm errors */

/* Say clearly what is wrong with /dev/kvm and what to do about it. */
static int check_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		fprintf(stderr,
"error: /dev/kvm does not exist: this machine offers no KVM.\n"
"  The demo runs a real guest and needs hardware virtualization:\n"
"  - on bare metal, enable SVM (AMD) or VT-x (Intel) in the firmware setup\n"
"    and load the module: modprobe kvm_amd (or kvm_intel);\n"
"  - in a cloud or nested VM, pick an instance type with nested\n"
"    virtualization, or enable it for the VM.\n");
	else if (errno == EACCES || errno == EPERM) {
		int e = errno;
		struct stat st;
		struct group *g;

		fprintf(stderr,
"error: /dev/kvm exists but this user may not open it (%s).\n"
"  Run as root, or give your user access: where the kvm group owns\n"
"  /dev/kvm (Debian's default), join it and log in again:\n"
"    sudo usermod -aG kvm $USER\n", strerror(e));
		if (!stat("/dev/kvm", &st)) {
			g = getgrgid(st.st_gid);
			fprintf(stderr, "  Here /dev/kvm belongs to group %s with "
				"mode %03o.\n", g ? g->gr_name : "?",
				(unsigned)(st.st_mode & 0777));
		}
		errno = e;
	}
	else
		fprintf(stderr, "error: opening /dev/kvm: %s\n",
			strerror(errno));
	return -errno;
}

/* ------------------------------------------------------ guest status */

static bool baseline_done(struct vmm *v, void *arg)
{
	bool ok = true;

	(void)arg;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct guest_view *g = &v->vcpus[i].gv;

		if (g->crashed)
			continue;
		if (!g->booted || !g->have_check || g->check_gen != 0)
			ok = false;
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

/* Boot and the first self-check (before any migration) went well? */
static bool baseline_ok(struct vmm *v, struct ui *u)
{
	struct guest_view g[DEMO_MAX_VCPUS];

	vmm_snapshot_views(v, g);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		if (g[i].crashed) {
			ui_say(u, "[%s] the guest crashed on vCPU %u: %s",
			       u->role, i, g[i].crash);
			return false;
		}
		if (!g[i].have_check) {
			ui_say(u, "[%s] the guest did not report on vCPU %u",
			       u->role, i);
			return false;
		}
		if (g[i].check_failures) {
			ui_say(u, "[%s] the guest's first self-check failed on "
			       "vCPU %u", u->role, i);
			return false;
		}
	}
	if (!(g[0].boot_flags & DEMO_BOOT_F_READY))
		ui_say(u, "[%s] the guest did not write READY: CPUID bits "
		       "16/17 %s offered (features 0x%x)", u->role,
		       v->offered ? "were" : "were not", g[0].features);
	return true;
}

static const char *hc_name(uint32_t m)
{
	return m == DEMO_HC_VMMCALL ? "VMMCALL (KVM_HC_MAP_GPA_RANGE)" :
	       "the fallback doorbell (I/O port 0xe0): without SEV hardware "
	       "the kernel may answer VMMCALL itself instead of forwarding it";
}

/*
 * The guest reaches KVM_HC_MAP_GPA_RANGE with VMMCALL where the kernel
 * forwards it to userspace: on a real SEV host. The software KVM of the
 * machines without SEV answers VMMCALL itself, so there the guest uses the
 * doorbell, which ends in the same library call.
 */
static void choose_hypercall(struct vmm *v, const struct demo_config *cfg)
{
	if (cfg->hypercall)
		v->hc_mode = cfg->hypercall;
	else
		v->hc_mode = v->sev == DEMO_SEV_REAL ? DEMO_HC_VMMCALL :
						       DEMO_HC_DOORBELL;
}

static int start_guest(struct vmm *v, const struct opts *o, struct ui *u)
{
	struct vmm_events ev = ui_vmm_events(u);
	int r;

	v->amd_chain_path = o->amd_chain;
	r = vmm_create(v, &o->cfg, false, &ev);
	if (r)
		return r;
	choose_hypercall(v, &o->cfg);
	r = vmm_boot(v);
	if (!r)
		r = vmm_start(v);
	if (r)
		return r;
	ui_say(u, "[%s] SEV: %s", u->role, platform_describe(v));
	ui_say(u, "[%s] guest: %u MiB, %u vCPUs, %u pages/s dirtied, %u "
	       "pages per vCPU shared at a time; page states reach the VMM "
	       "through %s", u->role, o->cfg.mem_mib, o->cfg.vcpus,
	       o->cfg.dirty_rate, o->cfg.shared_pages, hc_name(v->hc_mode));
	ui_event(u, "started", "\"sev\":\"%s\",\"hypercall\":\"%s\"",
		 v->sev == DEMO_SEV_REAL ? "real" : "sim",
		 v->hc_mode == DEMO_HC_VMMCALL ? "vmmcall" : "doorbell");
	if (!vmm_wait(v, baseline_done, NULL, 20000) || !baseline_ok(v, u))
		return -EIO;
	ui_event(u, "ready", NULL);
	return 0;
}

/* -------------------------------------------------------- migration */

struct progress_mark {
	uint64_t writes;
	uint64_t heartbeats;
};

static bool moved_on(struct vmm *v, void *arg)
{
	const struct progress_mark *m = arg;
	bool yes;

	pthread_mutex_lock(&v->lock);
	yes = v->vcpus[0].gv.heartbeats >= m->heartbeats + 2 &&
	      v->vcpus[0].gv.writes > m->writes;
	pthread_mutex_unlock(&v->lock);
	return yes;
}

/* After a cancelled migration: show that the guest still works here. */
static void show_still_running(struct vmm *v, struct ui *u)
{
	struct progress_mark m;
	uint64_t w;

	pthread_mutex_lock(&v->lock);
	m.writes = v->vcpus[0].gv.writes;
	m.heartbeats = v->vcpus[0].gv.heartbeats;
	pthread_mutex_unlock(&v->lock);
	if (!vmm_wait(v, moved_on, &m, 5000)) {
		ui_say(u, "[%s] but the guest has not reported since", u->role);
		return;
	}
	pthread_mutex_lock(&v->lock);
	w = v->vcpus[0].gv.writes;
	pthread_mutex_unlock(&v->lock);
	ui_say(u, "[%s] the guest works on: vCPU 0 wrote %llu more pages since",
	       u->role, (unsigned long long)(w - m.writes));
}

static int do_migrate(struct vmm *v, struct opts *o, struct ui *u,
		      const char *target, struct demo_mig_result *res)
{
	int r;

	o->mig.target = target;
	u->ram_pages = v->lay.ram_size / DEMO_PAGE;
	o->mig.progress = ui_progress;
	o->mig.opaque = u;
	ui_event(u, "migration-start", "\"target\":\"%s\"", target);
	ui_say(u, "[%s] migrating the running guest to %s", u->role, target);
	r = migrate_send(v, &o->mig, res);
	ui_progress_end(u);
	if (r) {
		char esc[300];
		size_t k = 0;

		for (const char *p = res->message; *p && k + 2 < sizeof(esc);
		     p++) {
			if (*p == '"' || *p == '\\')
				esc[k++] = '\\';
			esc[k++] = *p;
		}
		esc[k] = 0;
		ui_event(u, "migration-failed", "\"error\":%d,\"message\":\"%s\","
			 "\"vm_state\":\"%s\"", r, esc,
			 sevmig_vm_state_name((uint32_t)res->vm_state_after));
		ui_say(u, "[%s] migration failed: %s", u->role, res->message);
		ui_say(u, "[%s] the session was cancelled; the VM is %s and the "
		       "guest keeps running here", u->role,
		       sevmig_vm_state_name((uint32_t)res->vm_state_after));
		show_still_running(v, u);
		return r;
	}
	ui_event(u, "migrated", "\"passes\":%llu,\"private\":%llu,"
		 "\"shared\":%llu,\"bytes\":%llu,\"ms\":%.3f,"
		 "\"stop_ms\":%.3f,\"resume_after\":%d",
		 (unsigned long long)res->stats.passes,
		 (unsigned long long)res->stats.pages_private,
		 (unsigned long long)res->stats.pages_shared,
		 (unsigned long long)res->stats.bytes_total,
		 res->stats.elapsed_ns / 1e6, res->stop_ns / 1e6,
		 res->resume_after);
	return 0;
}

/* ------------------------------------------------------- destination */

struct verdict {
	bool pass;
	bool complete;
	char why[256];
	uint64_t pages, bad, lost, image, gap_us, seq_errors;
	uint64_t heartbeats_after, src_seq[DEMO_MAX_VCPUS],
		 dst_seq[DEMO_MAX_VCPUS];
	uint64_t downtime_vmm_us;
};

static bool verdict_ready(struct vmm *v, void *arg)
{
	bool ok = true;

	(void)arg;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct guest_view *g = &v->vcpus[i].gv;

		if (g->crashed)
			continue;
		if (!g->have_check || g->check_gen != v->gen ||
		    g->heartbeats_after_check < 2)
			ok = false;
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

/*
 * The guest decides: every vCPU checked its pages, its write count and its
 * code after the resume, its report sequence continued exactly where the
 * source's stopped, and it kept running (heartbeats after the check).
 */
static void verdict_compute(struct vmm *v, const struct demo_incoming_state *s,
			    bool complete, struct verdict *vd)
{
	struct guest_view g[DEMO_MAX_VCPUS];

	vmm_snapshot_views(v, g);
	vd->complete = complete;
	vd->pass = complete;
	vd->heartbeats_after = UINT64_MAX;
	if (!complete)
		snprintf(vd->why, sizeof(vd->why), "the guest did not report "
			 "its checks in time");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		uint64_t f = g[i].check_failures;

		vd->src_seq[i] = state_last_seq(s, i);
		vd->dst_seq[i] = g[i].seq_first;
		vd->pages += g[i].check_pages;
		vd->bad += DEMO_CHECK_BAD_PAGES(f);
		vd->lost += DEMO_CHECK_LOST(f);
		vd->image += DEMO_CHECK_IMAGE(f);
		vd->seq_errors += g[i].seq_errors;
		if (g[i].check_gap_us > vd->gap_us)
			vd->gap_us = g[i].check_gap_us;
		if (g[i].heartbeats_after_check < vd->heartbeats_after)
			vd->heartbeats_after = g[i].heartbeats_after_check;
		if (g[i].crashed && vd->pass) {
			vd->pass = false;
			snprintf(vd->why, sizeof(vd->why), "vCPU %u crashed: %s",
				 i, g[i].crash);
		} else if (f && vd->pass) {
			vd->pass = false;
			snprintf(vd->why, sizeof(vd->why), "vCPU %u: %llu pages "
				 "corrupt, %llu writes lost, code %s", i,
				 (unsigned long long)DEMO_CHECK_BAD_PAGES(f),
				 (unsigned long long)DEMO_CHECK_LOST(f),
				 DEMO_CHECK_IMAGE(f) ? "changed" : "intact");
		} else if (g[i].seq_errors && vd->pass) {
			vd->pass = false;
			snprintf(vd->why, sizeof(vd->why), "vCPU %u: reports out "
				 "of sequence (the guest lost state or ran "
				 "twice)", i);
		} else if (g[i].errors && vd->pass) {
			vd->pass = false;
			snprintf(vd->why, sizeof(vd->why), "vCPU %u: a page-state "
				 "change failed", i);
		}
	}
	if (vd->heartbeats_after == UINT64_MAX)
		vd->heartbeats_after = 0;
	if (vd->pass)
		snprintf(vd->why, sizeof(vd->why), "the guest continued with "
			 "every checksum intact");
}

static void seq_list(char *buf, size_t len, const uint64_t *seq, unsigned n)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < n && o + 24 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%llu", i ? "," : "",
				      (unsigned long long)seq[i]);
}

static int role_incoming(struct opts *o)
{
	struct vmm *v = calloc(1, sizeof(*v));
	struct ui u;
	struct vmm_events ev;
	struct demo_mig_result res;
	struct demo_incoming_state *st = NULL;
	struct verdict vd;
	char why[256], src[160], dst[160];
	int lfd = -1, port = 0, r, rc = EXIT_SETUP;
	bool complete;

	if (!v)
		return EXIT_SETUP;
	ui_init(&u, "destination", o->json, o->quiet, o->events_fd);
	u.verbose = o->verbose;
	if (o->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	ev = ui_vmm_events(&u);
	v->amd_chain_path = o->amd_chain;
	r = vmm_create(v, &o->cfg, true, &ev);
	if (r)
		goto out;
	if (o->ark_out) {
		r = platform_export_ark(v, o->ark_out);
		if (r)
			goto out;
	}
	lfd = net_listen(o->listen, &port, why, sizeof(why));
	if (lfd < 0) {
		ui_say(&u, "[destination] error: %s", why);
		goto out;
	}
	ui_say(&u, "[destination] SEV: %s", platform_describe(v));
	ui_say(&u, "[destination] waiting for the guest on port %d", port);
	ui_event(&u, "listening", "\"port\":%d", port);

	r = migrate_receive(v, lfd, (int)o->accept_timeout_ms, NULL, &res,
			    &st);
	close(lfd);
	lfd = -1;
	if (r == -ETIMEDOUT && !res.stats.bytes_total) {
		ui_event(&u, "discarded", "\"error\":%d,\"pages\":0", r);
		ui_say(&u, "[destination] no source connected within %u ms",
		       o->accept_timeout_ms);
		rc = EXIT_MIGRATION;
		goto out;
	}
	if (r) {
		/* Nothing of the guest runs here: the VM is discarded. */
		ui_event(&u, "discarded", "\"error\":%d,\"pages\":%llu", r,
			 (unsigned long long)(res.stats.pages_private +
					      res.stats.pages_shared));
		ui_say(&u, "[destination] the migration did not complete (%s); "
		       "discarding the VM and the %llu pages received",
		       res.message,
		       (unsigned long long)(res.stats.pages_private +
					    res.stats.pages_shared));
		rc = EXIT_MIGRATION;
		goto out;
	}
	if (o->corrupt) {
		/* Debug: prove the guest's checks decide. One bit of one
		 * data page changes behind the guest's back. */
		v->ram[v->lay.region[0].data_gpa + 2048] ^= 1;
		ui_say(&u, "[destination] --debug-corrupt: flipped one bit of "
		       "guest memory before the resume");
	}
	r = vmm_resume(v);
	if (!r)
		r = vmm_start(v);
	if (r) {
		ui_say(&u, "[destination] cannot run the guest: %s",
		       sevmig_strerror(r));
		goto out;
	}
	memset(&vd, 0, sizeof(vd));
	{
		uint64_t now = realtime_ns(), stop = state_stop_ns(st);

		vd.downtime_vmm_us = now > stop ? (now - stop) / 1000 : 0;
	}
	ui_event(&u, "resumed", "\"gen\":%llu,\"stop_to_resume_us\":%llu",
		 (unsigned long long)v->gen,
		 (unsigned long long)vd.downtime_vmm_us);
	ui_say(&u, "[destination] the guest runs here now (generation %llu); "
	       "waiting for its own checks", (unsigned long long)v->gen);

	complete = vmm_wait(v, verdict_ready, NULL,
			    (int)(20000 + 20 * o->cfg.report_ms));
	verdict_compute(v, st, complete, &vd);
	seq_list(src, sizeof(src), vd.src_seq, v->nr_vcpus);
	seq_list(dst, sizeof(dst), vd.dst_seq, v->nr_vcpus);
	ui_event(&u, "verdict", "\"pass\":%s,\"why\":\"%s\",\"pages\":%llu,"
		 "\"bad\":%llu,\"lost\":%llu,\"image\":%llu,\"gap_us\":%llu,"
		 "\"seq_errors\":%llu,\"heartbeats_after\":%llu,"
		 "\"src_seq\":\"%s\",\"dst_seq\":\"%s\","
		 "\"stop_to_resume_us\":%llu",
		 vd.pass ? "true" : "false", vd.why,
		 (unsigned long long)vd.pages, (unsigned long long)vd.bad,
		 (unsigned long long)vd.lost, (unsigned long long)vd.image,
		 (unsigned long long)vd.gap_us,
		 (unsigned long long)vd.seq_errors,
		 (unsigned long long)vd.heartbeats_after, src, dst,
		 (unsigned long long)vd.downtime_vmm_us);
	ui_say(&u, "[destination] guest check: %llu pages checked, %llu "
	       "corrupt, %llu writes lost; reports continued %s -> %s; the "
	       "guest saw a %.1f ms gap", (unsigned long long)vd.pages,
	       (unsigned long long)vd.bad, (unsigned long long)vd.lost, src,
	       dst, vd.gap_us / 1e3);
	ui_say(&u, "[destination] %s: %s", vd.pass ? "PASS" : "FAIL", vd.why);
	rc = vd.pass ? EXIT_PASS : EXIT_FAIL;
	if (o->run_ms)
		sleep_ms(o->run_ms);
	if (o->keep_running) {
		char buf[256];

		ui_say(&u, "[destination] the guest keeps running; close stdin "
		       "to stop it");
		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
	}
out:
	if (lfd >= 0)
		close(lfd);
	vmm_destroy(v);
	state_incoming_free(st);
	ui_event(&u, "exit", "\"code\":%d", rc);
	ui_fini(&u);
	free(v);
	return rc;
}

/* ------------------------------------------------------------ source */

static void source_summary(struct ui *u, const struct demo_mig_result *res)
{
	const struct sevmig_mig_stats *s = &res->stats;

	ui_say(u, "[source] migrated in %.0f ms: %llu passes, %llu private "
	       "and %llu shared pages, %.1f MB sent; vCPUs stopped for "
	       "%.1f ms", s->elapsed_ns / 1e6, (unsigned long long)s->passes,
	       (unsigned long long)s->pages_private,
	       (unsigned long long)s->pages_shared, s->bytes_total / 1e6,
	       res->stop_ns / 1e6);
	ui_say(u, "[source] the VM is %s; the library refuses to run it "
	       "again here (%s)",
	       sevmig_vm_state_name((uint32_t)res->vm_state_after),
	       res->resume_after ? sevmig_strerror(res->resume_after) :
				   "it did not!");
}

static int role_source(struct opts *o)
{
	struct vmm *v = calloc(1, sizeof(*v));
	struct demo_mig_result res;
	struct ui u;
	int rc = EXIT_SETUP, r;
	bool migrated = false;

	if (!v)
		return EXIT_SETUP;
	ui_init(&u, "source", o->json, o->quiet, o->events_fd);
	u.verbose = o->verbose;
	r = start_guest(v, o, &u);
	if (r)
		goto out;
	rc = EXIT_PASS;
	if (o->trust_ark && migrate_trust_ark(v, o->trust_ark)) {
		rc = EXIT_SETUP;
		goto out;
	}
	if (o->migrate_to) {
		r = do_migrate(v, o, &u, o->migrate_to, &res);
		if (r) {
			rc = EXIT_MIGRATION;
		} else {
			migrated = true;
			source_summary(&u, &res);
		}
	}
	while (o->monitor && !migrated) {
		char line[512], target[256], ark[256];
		int n;

		if (!fgets(line, sizeof(line), stdin))
			break;
		n = sscanf(line, "migrate %255s %255s", target, ark);
		if (n >= 1) {
			if (n == 2 && migrate_trust_ark(v, ark)) {
				ui_event(&u, "migration-failed",
					 "\"error\":%d,\"message\":\"cannot "
					 "trust the ARK\"", -EINVAL);
				continue;
			}
			r = do_migrate(v, o, &u, target, &res);
			if (!r) {
				migrated = true;
				rc = EXIT_PASS;
				source_summary(&u, &res);
			} else {
				rc = EXIT_MIGRATION;
			}
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			ui_say(&u, "[source] commands: migrate HOST:PORT [ARK], "
			       "quit");
		}
	}
	if (!migrated && o->run_ms)
		sleep_ms(o->run_ms);
out:
	/* The normal shutdown sequence, whatever the VM's state (vm.c). */
	vmm_destroy(v);
	ui_event(&u, "exit", "\"code\":%d,\"migrated\":%s", rc,
		 migrated ? "true" : "false");
	ui_fini(&u);
	free(v);
	return rc;
}

/* -------------------------------------------------------------- demo */

struct child {
	pid_t pid;
	int fd;			/* its event lines */
	char buf[16384];
	size_t n;
};

/* One event line from the child, waiting up to @timeout_ms. */
static int child_line(struct child *c, char *line, size_t len, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->n);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int64_t left;
		ssize_t got;

		if (nl) {
			size_t k = (size_t)(nl - c->buf);

			if (k >= len)
				k = len - 1;
			memcpy(line, c->buf, k);
			line[k] = 0;
			c->n -= (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->n);
			return 1;
		}
		if (c->n == sizeof(c->buf))
			c->n = 0;	/* an absurd line: drop it */
		left = (int64_t)(end - now_ns()) / 1000000;
		if ((int64_t)(end - now_ns()) <= 0)
			return 0;
		if (poll(&p, 1, (int)(left > 0 ? left : 1)) <= 0)
			continue;
		got = read(c->fd, c->buf + c->n, sizeof(c->buf) - c->n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		c->n += (size_t)got;
	}
}

static int spawn_destination(struct child *c, const struct opts *o,
			     const char *ark)
{
	char exe[PATH_MAX], a[16][32];
	const char *argv[48];
	posix_spawn_file_actions_t fa;
	int p[2], n = 0, k = 0, r;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len <= 0)
		return -errno;
	exe[len] = 0;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
#define NUM(opt, val)							\
	do {								\
		snprintf(a[k], sizeof(a[k]), "%u", (unsigned)(val));	\
		argv[n++] = opt;					\
		argv[n++] = a[k++];					\
	} while (0)
	argv[n++] = exe;
	argv[n++] = "incoming";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--ark-out";
	argv[n++] = ark;
	argv[n++] = "--events";
	argv[n++] = "3";
	argv[n++] = "--die-with-parent";
	NUM("--mem", o->cfg.mem_mib);
	NUM("--vcpus", o->cfg.vcpus);
	NUM("--psp-latency-us", o->cfg.psp_latency_us);
	NUM("--report-ms", o->cfg.report_ms);
	NUM("--accept-timeout-ms", 60000);
	NUM("--timeout", o->timeout_s);
	argv[n++] = "--host-policy";
	argv[n++] = o->cfg.host_policy == SEVMIG_HOST_POLICY_DENY ? "deny" :
		    o->cfg.host_policy == SEVMIG_HOST_POLICY_OVERRIDE_READY ?
		    "override-ready" : "allow";
	argv[n++] = "--sev";
	argv[n++] = o->cfg.sev == DEMO_SEV_REAL ? "real" :
		    o->cfg.sev == DEMO_SEV_SIM ? "sim" : "auto";
	if (o->amd_chain) {
		argv[n++] = "--amd-chain";
		argv[n++] = o->amd_chain;
	}
	if (o->json || o->quiet)
		argv[n++] = "--quiet";
	if (o->verbose)
		argv[n++] = "--verbose";
	if (o->corrupt)
		argv[n++] = "--debug-corrupt";
	argv[n] = NULL;
#undef NUM
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	r = posix_spawn(&c->pid, exe, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r) {
		close(p[0]);
		return -r;
	}
	c->fd = p[0];
	c->n = 0;
	return 0;
}

static int reap(struct child *c, int timeout_ms)
{
	int status = 0;

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t w = waitpid(c->pid, &status, WNOHANG);

		if (w == c->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		sleep_ms(10);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &status, 0);
	return -1;
}

static void demo_report(const struct vmm *v,
			const struct opts *o, const struct demo_mig_result *res,
			const char *verdict_line, bool pass)
{
	const struct sevmig_mig_stats *s = &res->stats;
	char why[256] = "no verdict from the destination", src[160] = "",
	     dst[160] = "";
	uint64_t pages = 0, bad = 0, lost = 0, gap = 0, hb = 0, s2r = 0;
	double secs = s->elapsed_ns / 1e9;
	double mbs = secs > 0 ? s->bytes_total / 1e6 / secs : 0;

	if (verdict_line) {
		json_get_str(verdict_line, "why", why, sizeof(why));
		json_get_str(verdict_line, "src_seq", src, sizeof(src));
		json_get_str(verdict_line, "dst_seq", dst, sizeof(dst));
		json_get_u64(verdict_line, "pages", &pages);
		json_get_u64(verdict_line, "bad", &bad);
		json_get_u64(verdict_line, "lost", &lost);
		json_get_u64(verdict_line, "gap_us", &gap);
		json_get_u64(verdict_line, "heartbeats_after", &hb);
		json_get_u64(verdict_line, "stop_to_resume_us", &s2r);
	}
	if (o->json) {
		struct jbuf j, g, m, gv, src_j;

		jb_open(&g);
		jb_u64(&g, "mem_mib", o->cfg.mem_mib);
		jb_u64(&g, "vcpus", o->cfg.vcpus);
		jb_u64(&g, "dirty_rate", o->cfg.dirty_rate);
		jb_u64(&g, "shared_pages_per_vcpu", o->cfg.shared_pages);
		jb_str(&g, "hypercall", v->hc_mode == DEMO_HC_VMMCALL ?
		       "vmmcall" : "doorbell");
		jb_open(&m);
		jb_u64(&m, "passes", s->passes);
		jb_u64(&m, "pages_private", s->pages_private);
		jb_u64(&m, "pages_shared", s->pages_shared);
		jb_u64(&m, "bytes", s->bytes_total);
		jb_f(&m, "total_ms", s->elapsed_ns / 1e6);
		jb_f(&m, "throughput_mb_s", mbs);
		jb_f(&m, "vcpus_stopped_ms", res->stop_ns / 1e6);
		jb_f(&m, "stop_to_resume_ms", s2r / 1e3);
		jb_u64(&m, "psp_commands", s->psp_commands);
		jb_f(&m, "psp_mean_us", s->psp_ns_mean / 1e3);
		jb_u64(&m, "psp_latency_us", o->cfg.psp_latency_us);
		jb_open(&gv);
		jb_f(&gv, "downtime_ms", gap / 1e3);
		jb_u64(&gv, "pages_checked", pages);
		jb_u64(&gv, "pages_corrupt", bad);
		jb_u64(&gv, "writes_lost", lost);
		jb_u64(&gv, "heartbeats_after_check", hb);
		jb_str(&gv, "source_last_report", src);
		jb_str(&gv, "destination_first_report", dst);
		jb_open(&src_j);
		jb_str(&src_j, "vm_state",
		       sevmig_vm_state_name((uint32_t)res->vm_state_after));
		jb_bool(&src_j, "resume_refused", res->resume_after != 0);
		jb_open(&j);
		jb_str(&j, "platform", platform_describe(v));
		jb_raw(&j, "guest", jb_close(&g));
		jb_raw(&j, "migration", jb_close(&m));
		jb_raw(&j, "guest_view", jb_close(&gv));
		jb_raw(&j, "source", jb_close(&src_j));
		jb_bool(&j, "pass", pass);
		jb_str(&j, "verdict", why);
		if (res->error)
			jb_str(&j, "error", res->message);
		printf("%s\n", jb_close(&j));
		fflush(stdout);
		jb_free(&g);
		jb_free(&m);
		jb_free(&gv);
		jb_free(&src_j);
		jb_free(&j);
		return;
	}
	if (o->quiet)
		return;
	if (res->error) {
		fprintf(stderr, "\nFAIL: the migration did not complete: %s\n",
			res->message);
		return;
	}
	fprintf(stderr,
"\nSummary (%s)\n"
"  guest        %u MiB, %u vCPUs, %u pages/s dirtied while it moved\n"
"  passes       %llu (%llu while the guest ran, 1 with it stopped)\n"
"  pages        %llu private (through the PSP), %llu shared (plaintext)\n"
"  sent         %.1f MB in %.0f ms: %.1f MB/s\n"
"  downtime     %.1f ms as the guest saw it (its largest gap between two\n"
"               loop iterations); the VMM stopped the vCPUs %.1f ms before\n"
"               the destination resumed them\n"
"  source       VM %s; the library refuses to run it again\n"
"  continuity   reports %s on the source, %s next on the destination\n"
"  checks       %llu pages checked by the guest after the resume: %llu\n"
"               corrupt, %llu writes lost; %llu heartbeats since\n"
"%s: %s\n",
		platform_describe(v), o->cfg.mem_mib, o->cfg.vcpus,
		o->cfg.dirty_rate, (unsigned long long)s->passes,
		(unsigned long long)(s->passes ? s->passes - 1 : 0),
		(unsigned long long)s->pages_private,
		(unsigned long long)s->pages_shared, s->bytes_total / 1e6,
		s->elapsed_ns / 1e6, mbs, gap / 1e3, s2r / 1e3,
		sevmig_vm_state_name((uint32_t)res->vm_state_after), src, dst,
		(unsigned long long)pages, (unsigned long long)bad,
		(unsigned long long)lost, (unsigned long long)hb,
		pass ? "VERDICT: PASS" : "VERDICT: FAIL", why);
}

static int role_demo(struct opts *o)
{
	struct vmm *v = calloc(1, sizeof(*v));
	struct demo_mig_result res;
	struct child c = { .pid = -1, .fd = -1 };
	char dir[] = "/tmp/sevmig-demo-XXXXXX", ark[64], line[4096];
	char *verdict = NULL;
	struct ui u;
	uint64_t port = 0;
	int rc = EXIT_SETUP, r;
	bool pass = false;

	if (!v)
		return EXIT_SETUP;
	memset(&res, 0, sizeof(res));
	ui_init(&u, "source", o->json, o->quiet, o->events_fd);
	u.verbose = o->verbose;
	if (!mkdtemp(dir)) {
		fprintf(stderr, "error: mkdtemp: %s\n", strerror(errno));
		goto out;
	}
	snprintf(ark, sizeof(ark), "%s/ark", dir);
	r = start_guest(v, o, &u);
	if (r)
		goto out;

	/* The destination: a second process of this program. */
	r = spawn_destination(&c, o, ark);
	if (r) {
		fprintf(stderr, "error: starting the destination: %s\n",
			strerror(-r));
		goto out;
	}
	while ((r = child_line(&c, line, sizeof(line), 30000)) > 0)
		if (json_is_event(line, "listening") &&
		    json_get_u64(line, "port", &port))
			break;
	if (r <= 0) {
		fprintf(stderr, "error: the destination did not start (see "
			"its messages above)\n");
		goto out;
	}
	{
		char target[64];

		sleep_ms(o->warmup_ms);	/* let the guest work a while */
		if (migrate_trust_ark(v, ark))
			goto out;
		snprintf(target, sizeof(target), "127.0.0.1:%llu",
			 (unsigned long long)port);
		r = do_migrate(v, o, &u, target, &res);
	}
	if (r) {
		rc = EXIT_MIGRATION;
		demo_report(v, o, &res, NULL, false);
		goto out;
	}
	while ((r = child_line(&c, line, sizeof(line), 60000)) > 0) {
		if (json_is_event(line, "verdict")) {
			verdict = strdup(line);
			break;
		}
	}
	if (verdict)
		json_get_bool(verdict, "pass", &pass);
	rc = pass ? EXIT_PASS : EXIT_FAIL;
	/* The source is done: its normal shutdown sequence (vm.c). */
	vmm_destroy(v);
	demo_report(v, o, &res, verdict, pass);
	free(verdict);
	if (c.pid > 0 && reap(&c, 30000) != (pass ? 0 : 1) && pass)
		rc = EXIT_FAIL;
	c.pid = -1;
	unlink(ark);
	rmdir(dir);
	if (c.fd >= 0)
		close(c.fd);
	ui_fini(&u);
	free(v);
	return rc;
out:
	if (c.pid > 0) {
		kill(c.pid, SIGTERM);
		reap(&c, 10000);
	}
	if (c.fd >= 0)
		close(c.fd);
	vmm_destroy(v);
	unlink(ark);
	rmdir(dir);
	ui_fini(&u);
	free(v);
	return rc;
}

static void on_timeout(int sig)
{
	static const char m[] = "sevmig-demo-vmm: timed out (--timeout)\n";

	(void)sig;
	if (write(STDERR_FILENO, m, sizeof(m) - 1) < 0)
		_exit(124);
	_exit(124);
}

int main(int argc, char **argv)
{
	struct opts o;

	if (parse_opts(argc, argv, &o))
		return EXIT_SETUP;
	/* A peer that goes away is an error code, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (o.timeout_s) {
		signal(SIGALRM, on_timeout);
		alarm(o.timeout_s);
	}
	if (check_kvm())
		return EXIT_SETUP;
	if (!strcmp(o.cmd, "incoming"))
		return role_incoming(&o);
	if (!strcmp(o.cmd, "source"))
		return role_source(&o);
	return role_demo(&o);
}
