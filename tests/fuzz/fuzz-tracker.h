/* SPDX-License-Identifier: MIT */
/* Shared by the tracker fuzz targets and their seed generator. */
#ifndef SEVMIG_FUZZ_TRACKER_H
#define SEVMIG_FUZZ_TRACKER_H

/* Five leaves and a ragged end: crosses leaf and node boundaries. */
#define FUZZ_MAX_GFN (UINT64_C(5) * 32768 + 77)

#endif
