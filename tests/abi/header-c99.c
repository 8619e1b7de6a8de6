/* SPDX-License-Identifier: MIT */
/* The public header alone, as strict C99 (built with -std=c99 -pedantic -Werror). */
#include <string.h>

#include <sevmig/sevmig.h>

int main(void)
{
	struct sevmig_host_caps caps;

	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	return caps.size == SEVMIG_HOST_CAPS_SIZE_VER0 ? 0 : 1;
}
