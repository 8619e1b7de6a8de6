// SPDX-License-Identifier: MIT
/*
 * Page bitmaps of a session: one bit per page of the RAM layout, set from
 * any thread with atomic ORs (dirty reports arrive while a pass runs).
 */
#include "mig-bitmap.h"

/*
 * The maps are written through __atomic builtins, which clang-tidy does not
 * count as writes: its "pointer to const" advice on them is suppressed.
 */

// NOLINTNEXTLINE(readability-non-const-parameter)
void mig_bits_set(uint64_t *map, uint64_t first, uint64_t n)
{
	while (n) {
		uint64_t w = first / 64, b = first % 64;
		uint64_t k = 64 - b < n ? 64 - b : n;
		uint64_t mask = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		__atomic_or_fetch(&map[w], mask, __ATOMIC_RELAXED);
		first += k;
		n -= k;
	}
}

// NOLINTNEXTLINE(readability-non-const-parameter)
void mig_bits_or(uint64_t *map, uint64_t first, const void *src, uint64_t n)
{
	const unsigned char *s = src;

	for (uint64_t i = 0; i < n;) {
		/* Gather up to 64 source bits starting at bit i. */
		uint64_t k = n - i < 64 ? n - i : 64, v = 0;

		// cppcheck-suppress knownConditionTrueFalse ; k is 64 until the tail
		if (!(i % 8) && k == 64) {
			memcpy(&v, s + i / 8, 8);
		} else {
			// cppcheck-suppress knownConditionTrueFalse ; k >= 1
			for (uint64_t j = 0; j < k; j++)
				if (s[(i + j) / 8] & (1u << ((i + j) % 8)))
					v |= 1ull << j;
		}
		if (v) {
			uint64_t pos = first + i, w = pos / 64, b = pos % 64;

			__atomic_or_fetch(&map[w], v << b, __ATOMIC_RELAXED);
			if (b && (v >> (64 - b)))
				__atomic_or_fetch(&map[w + 1], v >> (64 - b),
						  __ATOMIC_RELAXED);
		}
		i += k;
	}
}

// NOLINTNEXTLINE(readability-non-const-parameter)
uint64_t mig_bits_take(uint64_t *dst, uint64_t *src, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++) {
		dst[i] = __atomic_exchange_n(&src[i], 0, __ATOMIC_RELAXED);
		n += (uint64_t)__builtin_popcountll(dst[i]);
	}
	return n;
}

uint64_t mig_bits_count(const uint64_t *map, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(
			__atomic_load_n(&map[i], __ATOMIC_RELAXED));
	return n;
}

uint64_t mig_bits_count_range(const uint64_t *map, uint64_t first, uint64_t n)
{
	uint64_t c = 0;

	while (n) {
		uint64_t w = first / 64, b = first % 64;
		uint64_t k = 64 - b < n ? 64 - b : n;
		uint64_t mask = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		c += (uint64_t)__builtin_popcountll(
			__atomic_load_n(&map[w], __ATOMIC_RELAXED) & mask);
		first += k;
		n -= k;
	}
	return c;
}

// NOLINTNEXTLINE(readability-non-const-parameter)
bool mig_bits_test_and_set(uint64_t *map, uint64_t bit)
{
	uint64_t m = 1ull << (bit % 64);

	return __atomic_fetch_or(&map[bit / 64], m, __ATOMIC_RELAXED) & m;
}
