/* SPDX-License-Identifier: MIT */
#include <sevmig/sim.h>
