/* SPDX-License-Identifier: MIT */
/* Private: page bitmaps of migration sessions (mig-bitmap.c). */
#ifndef SEVMIG_MIG_BITMAP_H
#define SEVMIG_MIG_BITMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t mig_bits_words(uint64_t bits)
{
	return (bits + 63) / 64;
}

/* Set bits [first, first + n). */
void mig_bits_set(uint64_t *map, uint64_t first, uint64_t n);
/* OR @n bits of a byte-wise little-endian bitmap @src in at bit @first. */
void mig_bits_or(uint64_t *map, uint64_t first, const void *src, uint64_t n);
/* Move @src into @dst word by word (src cleared atomically); set bits. */
uint64_t mig_bits_take(uint64_t *dst, uint64_t *src, uint64_t words);
uint64_t mig_bits_count(const uint64_t *map, uint64_t words);
/* Set bits among [first, first + n). */
uint64_t mig_bits_count_range(const uint64_t *map, uint64_t first, uint64_t n);
/* Set one bit; true when it was set already. */
bool mig_bits_test_and_set(uint64_t *map, uint64_t bit);

#endif /* SEVMIG_MIG_BITMAP_H */
