// SPDX-License-Identifier: MIT
/*
 * The demo guest's work (ring 3, one loop per vCPU): rewrite pages of its
 * own region at the configured rate, keep a checksum and a version of every
 * page, keep a window of pages shared with the host and move it now and
 * then, report a heartbeat, and after every migration (the GEN port
 * changed) check every page, the count of writes and its own code.
 *
 * Why the checks catch a migration that lost or repeated anything:
 *  - a data page that arrived older than its table entry has another
 *    version word and another checksum;
 *  - a table entry that arrived older than its page likewise;
 *  - both arriving old together still lowers the sum of all versions, which
 *    must equal the write count the loop keeps in XMM15, a register that
 *    travels in the VMM's vCPU record and never in the page stream;
 *  - a guest that ran twice, or a report lost or replayed, breaks the report
 *    sequence the VMM checks;
 *  - lost time shows as the largest gap between two loop iterations, the
 *    downtime as the guest itself saw it.
 */
#include "guest.h"

struct cpu {
	uint64_t seq;		/* reports sent */
	uint64_t rng;
	uint64_t last_tsc;	/* start of the previous iteration */
	uint64_t idle_ticks;	/* idle asked for in the previous iteration */
	uint64_t budget;	/* write credit, in pages x TSC Hz */
	uint64_t max_gap;	/* since the last heartbeat, in TSC ticks */
	uint64_t last_report;
	uint64_t window;	/* first page of the shared window */
	uint64_t window_since;
	uint64_t conversions;
	uint64_t shared_now;
	uint64_t gen;		/* GEN port value last seen */
	uint64_t image_sum;
	uint64_t check_failures;
	uint64_t check_pages;
	uint64_t check_gap;
	uint32_t check_pending;
	uint32_t map_ok;	/* page-state changes allowed and working */
} __attribute__((aligned(64)));

static struct cpu cpus[DEMO_MAX_VCPUS];
static const struct demo_boot_info *bi;

static void report(uint64_t id, uint32_t kind, uint64_t b, uint64_t c,
		   uint64_t d, uint64_t e)
{
	struct cpu *pc = &cpus[id];

	pc->seq++;
	demo_report(kind, id | pc->seq << 8, b, c, d, e);
}

static uint64_t rng_next(struct cpu *pc)
{
	/* xorshift64* */
	pc->rng ^= pc->rng >> 12;
	pc->rng ^= pc->rng << 25;
	pc->rng ^= pc->rng >> 27;
	return pc->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t ticks_to_us(uint64_t t)
{
	return bi->tsc_khz ? t * 1000 / bi->tsc_khz : 0;
}

static uint64_t us_to_ticks(uint64_t us)
{
	return us * bi->tsc_khz / 1000;
}

/* Write page @p of the region with new contents and record its checksum. */
static void page_write(uint64_t id, uint64_t p)
{
	const struct demo_region *r = &bi->region[id];
	volatile struct demo_page_sum *t =
		(volatile struct demo_page_sum *)r->table_gpa;
	volatile uint64_t *w =
		(volatile uint64_t *)(r->data_gpa + p * DEMO_PAGE);
	uint64_t v = t[p].version + 1;
	uint64_t x = (r->data_gpa + p * DEMO_PAGE) ^ v * 0x9e3779b97f4a7c15ull;

	w[0] = v;
	w[1] = r->data_gpa + p * DEMO_PAGE;
	for (unsigned i = 2; i < DEMO_PAGE / 8; i++) {
		/* splitmix64 */
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		w[i] = z ^ (z >> 31);
	}
	t[p].sum = demo_hash(w, DEMO_PAGE / 8);
	t[p].version = v;
}

/*
 * Change the state of pages and tell the host. The privileged half (page
 * tables, VMMCALL) is the kernel's; with neither memory encryption nor the
 * hypercall there is nothing privileged to do and user mode rings the
 * doorbell itself.
 */
static int64_t map_gpa(uint64_t gpa, uint64_t npages, uint64_t attrs)
{
	if (bi->c_bit || bi->hc_mode == DEMO_HC_VMMCALL)
		return demo_syscall(DEMO_SVC_MAP_GPA, gpa, npages, attrs);
	return demo_doorbell(gpa, npages, attrs);
}

/* Move the shared window: back to private, then the next pages shared. */
static uint64_t window_move(uint64_t id, int first)
{
	const struct demo_region *r = &bi->region[id];
	struct cpu *pc = &cpus[id];
	uint64_t n = bi->shared_pages, writes = 0;
	int64_t ret;

	if (!pc->map_ok || !n || n >= r->npages)
		return 0;
	if (!first) {
		ret = map_gpa(r->data_gpa + pc->window * DEMO_PAGE, n,
			      DEMO_MAP_GPA_ENCRYPTED);
		if (ret) {
			report(id, DEMO_REP_ERROR, DEMO_ERR_MAP_GPA,
			       (uint64_t)ret, 0, 0);
			pc->map_ok = 0;
			return 0;
		}
		pc->conversions++;
		pc->shared_now = 0;
		/* A page that changed state has no defined contents. */
		for (uint64_t p = 0; p < n; p++)
			page_write(id, pc->window + p);
		writes += n;
		pc->window = (pc->window + n) % (r->npages - n + 1);
	}
	ret = map_gpa(r->data_gpa + pc->window * DEMO_PAGE, n, 0);
	if (ret) {
		report(id, DEMO_REP_ERROR, DEMO_ERR_MAP_GPA, (uint64_t)ret, 0,
		       0);
		pc->map_ok = 0;
		return writes;
	}
	pc->conversions++;
	pc->shared_now = n;
	for (uint64_t p = 0; p < n; p++)
		page_write(id, pc->window + p);
	return writes + n;
}

/* Check every page and the write count; returns packed failure counts. */
static uint64_t check(uint64_t id, uint64_t writes)
{
	const struct demo_region *r = &bi->region[id];
	const volatile struct demo_page_sum *t =
		(const volatile struct demo_page_sum *)r->table_gpa;
	uint64_t bad = 0, total = 0, lost, image;

	for (uint64_t p = 0; p < r->npages; p++) {
		const volatile uint64_t *w =
			(const volatile uint64_t *)(r->data_gpa + p * DEMO_PAGE);

		total += t[p].version;
		if (w[0] != t[p].version || w[1] != r->data_gpa + p * DEMO_PAGE ||
		    demo_hash(w, DEMO_PAGE / 8) != t[p].sum)
			bad++;
	}
	lost = total > writes ? total - writes : writes - total;
	image = demo_hash((const volatile uint64_t *)__image_start,
			  (uint64_t)(__ro_end - __image_start) / 8) !=
		cpus[id].image_sum;
	cpus[id].check_pages = r->npages;
	return (bad > 0xffff ? 0xffff : bad) |
	       (lost > 0xffff ? 0xffff : lost) << 16 | image << 32;
}

uint64_t work_init(uint64_t id, const struct demo_boot_info *info)
{
	struct cpu *pc = &cpus[id];
	const struct demo_region *r;
	const struct demo_cpu_boot *b = &demo_boot[id];
	uint64_t writes;

	bi = info;
	r = &bi->region[id];
	report(id, DEMO_REP_BOOT, b->features, b->kvm_base, b->flags, 0);
	pc->rng = 0x853c49e6748fea9bull ^ (id + 1) * 0x9e3779b97f4a7c15ull ^
		  rdtsc();
	pc->image_sum = demo_hash((const volatile uint64_t *)__image_start,
				  (uint64_t)(__ro_end - __image_start) / 8);
	/* Every page gets version 1 (the table starts zeroed). */
	for (uint64_t p = 0; p < r->npages; p++)
		page_write(id, p);
	writes = r->npages;
	/* Shared pages only when the host offered the hypercall (bit 16). */
	pc->map_ok = (b->flags & DEMO_BOOT_F_MAP_GPA) != 0;
	writes += window_move(id, 1);
	pc->last_tsc = pc->last_report = pc->window_since = rdtsc();
	/* The first check runs before any migration: it must pass here too. */
	pc->gen = ~0ull;
	return writes;
}

uint64_t work_tick(uint64_t id, uint64_t writes)
{
	const struct demo_region *r = &bi->region[id];
	struct cpu *pc = &cpus[id];
	uint64_t now = rdtsc(), hz = bi->tsc_khz * 1000, elapsed, gap, gen;
	uint64_t n, done = 0;

	elapsed = now - pc->last_tsc;
	gap = elapsed > pc->idle_ticks ? elapsed - pc->idle_ticks : 0;
	pc->last_tsc = now;
	if (gap > pc->max_gap)
		pc->max_gap = gap;

	/*
	 * The check runs where the guest notices the migration; its report
	 * goes one iteration later, with the larger gap of the two, so the
	 * downtime is counted wherever in the iteration the vCPU was stopped.
	 */
	if (pc->check_pending) {
		uint64_t g = gap > pc->check_gap ? gap : pc->check_gap;

		report(id, DEMO_REP_CHECK, pc->check_pages, pc->check_failures,
		       ticks_to_us(g), pc->gen);
		pc->check_pending = 0;
	}
	gen = inl(DEMO_PORT_GEN);
	if (gen != pc->gen) {
		pc->gen = gen;
		pc->check_failures = check(id, writes);
		pc->check_gap = gap;
		pc->check_pending = 1;
		/* The check's own time is not a gap. */
		pc->last_tsc = now = rdtsc();
	}

	/* Writes due at the configured rate (at most 1 s of backlog). */
	if (hz && bi->dirty_rate && r->npages) {
		pc->budget += (elapsed < hz ? elapsed : hz) * bi->dirty_rate;
		if (pc->budget > hz * (uint64_t)bi->dirty_rate)
			pc->budget = hz * (uint64_t)bi->dirty_rate;
		n = pc->budget / hz;
		pc->budget -= n * hz;
		for (uint64_t i = 0; i < n; i++)
			page_write(id, rng_next(pc) % r->npages);
		done += n;
	}

	if (now - pc->window_since >= us_to_ticks(bi->shared_ms * 1000ull)) {
		done += window_move(id, 0);
		pc->window_since = now;
	}

	if (now - pc->last_report >= us_to_ticks(bi->report_ms * 1000ull)) {
		report(id, DEMO_REP_HEARTBEAT, writes + done,
		       ticks_to_us(pc->max_gap), pc->conversions,
		       pc->shared_now);
		pc->max_gap = 0;
		pc->last_report = now;
	}

	outl(DEMO_PORT_IDLE, bi->tick_us);
	pc->idle_ticks = us_to_ticks(bi->tick_us);
	return done;
}
