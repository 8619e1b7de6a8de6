// SPDX-License-Identifier: MIT
/*
 * CRC32C (Castagnoli), the checksum of every migration stream record: the
 * SSE4.2 instruction where the CPU has it (several GB/s, so checksumming a
 * shared page costs less than copying it), a slice-by-8 table otherwise.
 */
#include <stdbool.h>
#include <string.h>

#include "internal.h"

#define POLY 0x82f63b78u	/* reflected 0x1edc6f41 */

static uint32_t table[8][256];

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^
				      table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
/*
 * The crc32 instruction has a latency of three cycles but a throughput of
 * one: three independent streams over adjacent blocks run three times as
 * fast, and their CRCs are joined by shifting the first over the length of
 * the others (a GF(2) matrix applied through tables). The method is Mark
 * Adler's (crc32c.c, zlib license); the code here is written anew.
 */
#define LONG_BLOCK 8192u
#define SHORT_BLOCK 256u

static uint32_t long_shift[4][256], short_shift[4][256];

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;

	for (; vec; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
	for (int n = 0; n < 32; n++)
		square[n] = gf2_times(mat, mat[n]);
}

/* The operator that appends @len zero bytes (a power of two) to a CRC. */
static void zeros_op(uint32_t *even, size_t len)
{
	uint32_t odd[32], row = 1;

	odd[0] = POLY;		/* one zero bit */
	for (int n = 1; n < 32; n++, row <<= 1)
		odd[n] = row;
	gf2_square(even, odd);	/* two bits */
	gf2_square(odd, even);	/* four bits */
	for (;;) {
		gf2_square(even, odd);	/* one byte, then 4, 16, ... */
		len >>= 1;
		if (!len)
			return;
		gf2_square(odd, even);
		len >>= 1;
		if (!len)
			break;
	}
	memcpy(even, odd, sizeof(odd));
}

static void shift_table(uint32_t tab[4][256], size_t len)
{
	uint32_t op[32];

	zeros_op(op, len);
	for (uint32_t n = 0; n < 256; n++) {
		tab[0][n] = gf2_times(op, n);
		tab[1][n] = gf2_times(op, n << 8);
		tab[2][n] = gf2_times(op, n << 16);
		tab[3][n] = gf2_times(op, n << 24);
	}
}

static uint32_t shift(uint32_t tab[4][256], uint32_t crc)
{
	return tab[0][crc & 0xff] ^ tab[1][(crc >> 8) & 0xff] ^
	       tab[2][(crc >> 16) & 0xff] ^ tab[3][crc >> 24];
}

__attribute__((target("sse4.2")))
static uint64_t lanes3(uint64_t c0, const unsigned char **pp, size_t block,
		       uint32_t tab[4][256])
{
	const unsigned char *p = *pp, *end = p + block;
	uint64_t c1 = 0, c2 = 0;

	do {
		uint64_t a, b, c;

		memcpy(&a, p, 8);
		memcpy(&b, p + block, 8);
		memcpy(&c, p + 2 * block, 8);
		c0 = __builtin_ia32_crc32di(c0, a);
		c1 = __builtin_ia32_crc32di(c1, b);
		c2 = __builtin_ia32_crc32di(c2, c);
		p += 8;
	} while (p < end);
	c0 = shift(tab, (uint32_t)c0) ^ (uint32_t)c1;
	c0 = shift(tab, (uint32_t)c0) ^ (uint32_t)c2;
	*pp = p + 2 * block;
	return c0;
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 3 * LONG_BLOCK) {
		c = lanes3(c, &p, LONG_BLOCK, long_shift);
		len -= 3 * LONG_BLOCK;
	}
	while (len >= 3 * SHORT_BLOCK) {
		c = lanes3(c, &p, SHORT_BLOCK, short_shift);
		len -= 3 * SHORT_BLOCK;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

static uint32_t (*crc_fn)(uint32_t, const unsigned char *, size_t);
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_pick(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2")) {
		shift_table(long_shift, LONG_BLOCK);
		shift_table(short_shift, SHORT_BLOCK);
		crc_fn = crc_hw;
		return;
	}
#endif
	table_init();
	crc_fn = crc_soft;
}

uint32_t sevmig_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_pick);
	return ~crc_fn(~crc, buf, len);
}

uint32_t sevmig_crc32c_soft(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, table_init);
	return ~crc_soft(~crc, buf, len);
}
