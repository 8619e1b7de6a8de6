/* SPDX-License-Identifier: MIT */
/* The simulator's public header alone, as strict C99. */
#include <sevmig/sim.h>

int main(void)
{
	return 0;
}
