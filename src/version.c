// SPDX-License-Identifier: MIT
#include "internal.h"

SEVMIG_EXPORT uint32_t sevmig_version(void)
{
	return SEVMIG_VERSION_NUMBER;
}

SEVMIG_EXPORT const char *sevmig_version_string(void)
{
	return SEVMIG_VERSION_STRING;
}
