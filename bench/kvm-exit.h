/* SPDX-License-Identifier: MIT */
/* The cost of one real exit to userspace and back (bench/kvm-exit.c). */
#ifndef SEVMIG_BENCH_KVM_EXIT_H
#define SEVMIG_BENCH_KVM_EXIT_H

/*
 * Run a tiny guest doing port I/O in a loop for @exits round trips (the
 * best of 40 batches) and store the nanoseconds per exit. Returns 0, or -1
 * with *why saying what is missing (no /dev/kvm, ...).
 */
int bench_kvm_exit_ns(unsigned int exits, double *ret_ns, const char **why);

#endif
