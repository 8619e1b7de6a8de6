/* SPDX-License-Identifier: MIT */
/* What bindgen reads: the one public header a VMM includes. */
#include <sevmig/sevmig.h>
