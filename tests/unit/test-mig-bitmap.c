// SPDX-License-Identifier: MIT
/*
 * The session page bitmaps (src/mig-bitmap.c) against a one-byte-per-bit
 * model: every operation at every offset and length across word edges,
 * and random sequences of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mig-bitmap.h"

#define BITS 300u		/* five words, the last one partial */
#define WORDS ((BITS + 63) / 64)

struct pair {
	uint64_t map[WORDS + 1];	/* +1: a bit past the end stays clear */
	bool model[BITS];
};

static void check(const struct pair *p)
{
	for (uint64_t i = 0; i < BITS; i++)
		assert_int_equal((p->map[i / 64] >> (i % 64)) & 1, p->model[i]);
	assert_int_equal(p->map[WORDS], 0);
}

static uint64_t model_count(const struct pair *p, uint64_t first, uint64_t n)
{
	uint64_t c = 0;

	for (uint64_t i = first; i < first + n; i++)
		c += p->model[i];
	return c;
}

static void test_set_and_count_every_range(void **state)
{
	static const uint64_t lens[] = { 1, 2, 63, 64, 65, 127, 128, 129, 200 };

	(void)state;
	for (uint64_t first = 0; first < 100; first++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct pair p;
			uint64_t n = lens[l];

			if (first + n > BITS)
				continue;
			memset(&p, 0, sizeof(p));
			mig_bits_set(p.map, first, n);
			for (uint64_t i = first; i < first + n; i++)
				p.model[i] = true;
			check(&p);
			assert_int_equal(mig_bits_count(p.map, WORDS), n);
			for (uint64_t a = 0; a < BITS; a += 37)
				for (uint64_t b = a; b <= BITS; b += 29)
					assert_int_equal(mig_bits_count_range(p.map, a, b - a),
							 model_count(&p, a, b - a));
		}
	}
}

static void test_or_every_alignment(void **state)
{
	unsigned char src[40];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 0x9d + 0x31);
	for (uint64_t first = 0; first < 70; first++) {
		for (uint64_t n = 1; first + n <= BITS && n <= 8 * sizeof(src);
		     n += 13) {
			struct pair p;

			memset(&p, 0, sizeof(p));
			p.map[0] = 1;	/* ORed, not overwritten */
			p.model[0] = true;
			mig_bits_or(p.map, first, src, n);
			for (uint64_t i = 0; i < n; i++)
				if (src[i / 8] & (1u << (i % 8)))
					p.model[first + i] = true;
			check(&p);
		}
	}
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_sequences(void **state)
{
	struct pair p, taken;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (int step = 0; step < 20000; step++) {
		uint64_t first = rng() % BITS, n = 1 + rng() % (BITS - first);

		switch (rng() % 4) {
		case 0:
			mig_bits_set(p.map, first, n);
			for (uint64_t i = first; i < first + n; i++)
				p.model[i] = true;
			break;
		case 1: {
			bool was = p.model[first];

			assert_int_equal(mig_bits_test_and_set(p.map, first), was);
			p.model[first] = true;
			break;
		}
		case 2:
			assert_int_equal(mig_bits_count_range(p.map, first, n),
					 model_count(&p, first, n));
			break;
		default:
			memset(&taken, 0xee, sizeof(taken));
			taken.map[WORDS] = 0;
			assert_int_equal(mig_bits_take(taken.map, p.map, WORDS),
					 model_count(&p, 0, BITS));
			memcpy(taken.model, p.model, sizeof(p.model));
			check(&taken);
			memset(p.model, 0, sizeof(p.model));
			break;
		}
		check(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_count_every_range),
		cmocka_unit_test(test_or_every_alignment),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests_name("session page bitmaps", tests, NULL,
					   NULL);
}
