// SPDX-License-Identifier: MIT
// The simulator's public header alone, as C++.
#include <sevmig/sim.h>

int main()
{
	return 0;
}
