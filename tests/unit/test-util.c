// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "test-util.h"

const char *test_sev_certs_dir(void)
{
	const char *dir = getenv("SEVMIG_SEV_CERTS");
	struct stat st;

	if (!dir || !*dir)
		dir = "../shared/fixtures/sev-certs";
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}

void *test_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	*ret_len = len;
	return buf;
}
