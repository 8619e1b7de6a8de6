/* SPDX-License-Identifier: MIT */
/* One table row per uapi-list.h entry: its name and value. */
#ifndef UAPI_TABLE_H
#define UAPI_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct uapi_entry {
	const char *name;
	uint64_t value;
};

extern const struct uapi_entry uapi_system[];
extern const size_t uapi_system_len;

#endif /* UAPI_TABLE_H */
