// SPDX-License-Identifier: MIT
/*
 * RAM as the sessions see it: the layout of a VM's registered RAM (what the
 * source sends and where the destination writes), and the RAM a stream's
 * START names as its readers track it (the receiver and the inspector):
 * which region a frame lies in, and that the page-state map tiles every
 * region in order, once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig-session.h"

/* ---- a VM's RAM layout ---- */

int mig_layout_from_vm(struct sevmig_vm *vm, struct mig_layout *l)
{
	uint32_t n = 0;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	pthread_rwlock_rdlock(&vm->lock);
	for (uint32_t i = 0; i < vm->nram; i++)
		n += vm->ram[i].hva != NULL;
	if (n) {
		l->r = calloc(n, sizeof(*l->r));
		if (!l->r)
			ret = -ENOMEM;
	}
	for (uint32_t i = 0; !ret && i < vm->nram; i++) {
		struct mig_region *r;

		if (!vm->ram[i].hva)
			continue;
		r = &l->r[l->n++];
		r->gfn = vm->ram[i].gfn;
		r->npages = vm->ram[i].npages;
		r->hva = vm->ram[i].hva;
		r->first_bit = l->pages;
		l->pages += r->npages;
	}
	pthread_rwlock_unlock(&vm->lock);
	return ret;
}

void mig_layout_free(struct mig_layout *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

const struct mig_region *mig_layout_find(const struct mig_layout *l,
					 uint64_t gfn)
{
	uint32_t lo = 0, hi = l->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct mig_region *r = &l->r[mid];

		if (gfn < r->gfn)
			hi = mid;
		else if (gfn - r->gfn >= r->npages)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* ---- the RAM a START names ---- */

int mig_ram_from_start(struct mig_ram *m, const struct mig_start *st)
{
	memset(m, 0, sizeof(*m));
	m->l.r = calloc(st->nr_regions, sizeof(*m->l.r));
	m->state_next = calloc(st->nr_regions, sizeof(*m->state_next));
	if (!m->l.r || !m->state_next) {
		mig_ram_free(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < st->nr_regions; i++) {
		struct mig_region *r = &m->l.r[i];

		r->gfn = mig_get64(st->regions + 16u * i) >> GUEST_PAGE_SHIFT;
		r->npages = mig_get64(st->regions + 16u * i + 8) >> GUEST_PAGE_SHIFT;
		r->first_bit = m->l.pages;
		m->state_next[i] = r->gfn;
		m->l.pages += r->npages;
	}
	m->l.n = st->nr_regions;
	return 0;
}

void mig_ram_free(struct mig_ram *m)
{
	mig_layout_free(&m->l);
	free(m->state_next);
	m->state_next = NULL;
}

int mig_ram_state_window(const struct sevmig_ctx *ctx, const char *who,
			 const struct mig_ram *m, uint64_t start, uint64_t end,
			 uint32_t *ret_k)
{
	const struct mig_region *r = mig_layout_find(&m->l, start);

	/* Windows tile each region in order, so all RAM is covered once. */
	if (!r || start != m->state_next[r - m->l.r] || end <= start ||
	    end - r->gfn > r->npages)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: PAGE_STATE window [0x%llx, 0x%llx) does not continue the map of a RAM region",
				  who, (unsigned long long)start,
				  (unsigned long long)end);
	*ret_k = (uint32_t)(r - m->l.r);
	return 0;
}

int mig_shared_frames_in(struct sevmig_tracker *t, uint64_t gfn,
			 uint64_t end, uint64_t *ret_n)
{
	uint64_t n = 0;

	while (gfn < end) {
		uint64_t run_end;
		uint32_t st;
		int ret = sevmig_tracker_run_end(t, gfn, &run_end, &st);

		if (ret)
			return ret;
		if (run_end > end)
			run_end = end;
		if (st == SEVMIG_PAGE_SHARED)
			n += run_end - gfn;
		gfn = run_end;
	}
	*ret_n = n;
	return 0;
}

int mig_ram_shared_frames(const struct sevmig_ctx *ctx, const char *who,
			  const struct mig_ram *m, struct sevmig_tracker *map,
			  uint64_t *ret_shared)
{
	uint64_t shared = 0;

	for (uint32_t k = 0; k < m->l.n; k++) {
		const struct mig_region *r = &m->l.r[k];
		uint64_t gfn = r->gfn, end = r->gfn + r->npages, n;
		int ret;

		if (m->state_next[k] != end)
			return sevmig_err(ctx, -EBADMSG,
					  "%s: END, but the page-state map stops at frame 0x%llx of region [0x%llx, 0x%llx)",
					  who, (unsigned long long)m->state_next[k],
					  (unsigned long long)r->gfn,
					  (unsigned long long)end);
		ret = mig_shared_frames_in(map, gfn, end, &n);
		if (ret)
			return ret;
		shared += n;
	}
	*ret_shared = shared;
	return 0;
}
