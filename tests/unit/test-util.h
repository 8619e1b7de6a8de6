/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the test programs. */
#ifndef SEVMIG_TEST_UTIL_H
#define SEVMIG_TEST_UTIL_H

#include <stddef.h>

#define TEST_SKIP 77
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Path of the real SEV certificate folder, or NULL when absent. */
const char *test_sev_certs_dir(void);
/* Read a whole file into a malloc'd buffer; NULL on failure. */
void *test_read_file(const char *path, size_t *ret_len);

#endif /* SEVMIG_TEST_UTIL_H */
