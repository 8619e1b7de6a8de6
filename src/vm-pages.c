// SPDX-License-Identifier: MIT
/* The VM's page-state tracker: the only place the VM layer touches it. */
#include <errno.h>

#include "vm.h"

int sevmig_vm_pages_new(struct sevmig_vm *vm)
{
	struct sevmig_tracker *t;
	int ret = sevmig_tracker_new(vm->max_gfn, 0, &t);

	if (!ret)
		vm->pages = t;
	return ret;
}

void sevmig_vm_pages_free(struct sevmig_vm *vm)
{
	sevmig_tracker_free(vm->pages);
	vm->pages = NULL;
}

int sevmig_vm_pages_set(struct sevmig_vm *vm, uint64_t gfn, uint64_t npages,
			bool shared)
{
	return shared ? sevmig_tracker_set_shared(vm->pages, gfn, npages) :
			sevmig_tracker_set_private(vm->pages, gfn, npages);
}

int sevmig_vm_pages_reset(struct sevmig_vm *vm)
{
	return sevmig_tracker_reset(vm->pages, 0);
}

uint64_t sevmig_vm_pages_shared_count(struct sevmig_vm *vm)
{
	uint64_t n = 0;

	if (sevmig_tracker_shared_pages(vm->pages, &n))
		return UINT64_MAX;
	return n;
}

SEVMIG_EXPORT struct sevmig_tracker *sevmig_vm_tracker(struct sevmig_vm *vm)
{
	return vm ? vm->pages : NULL;
}
