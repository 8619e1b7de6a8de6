// SPDX-License-Identifier: MIT
// The public header alone, as C++ (built with -pedantic -Werror).
#include <sevmig/sevmig.h>

int main()
{
	struct sevmig_host_caps caps = {};
	caps.size = sizeof(caps);
	const char *(*fn)(int) = sevmig_strerror;
	return (caps.size == SEVMIG_HOST_CAPS_SIZE_VER0 && fn) ? 0 : 1;
}
