/* SPDX-License-Identifier: MIT */
/*
 * libsevmig: live migration of AMD SEV guests on Linux KVM, for any VMM.
 *
 * The one header a VMM includes. It includes standard headers only, never
 * <linux/...>, so consumers stay independent of their kernel headers. Each
 * topic has its own header beside this one, readable alone:
 *
 *   common.h   version, errors and reasons, syscall backend, context
 *   probe.h    what this host offers
 *   tracker.h  the page-state tracker
 *   psp.h      the SEV platform device and the raw firmware commands
 *   checks.h   certificates, guest policy, preflight
 *   vm.h       the VM handle: negotiation, exits, lifecycle
 *   move.h     intra-host moves, mirror VMs, source teardown
 *   migration.h  migration sessions, channels and their metrics
 *
 * The conventions every function follows are at the top of common.h.
 */
#ifndef SEVMIG_SEVMIG_H
#define SEVMIG_SEVMIG_H

#include <sevmig/common.h>
#include <sevmig/probe.h>
#include <sevmig/tracker.h>
#include <sevmig/psp.h>
#include <sevmig/checks.h>
#include <sevmig/vm.h>
#include <sevmig/move.h>
#include <sevmig/migration.h>

#endif /* SEVMIG_SEVMIG_H */
