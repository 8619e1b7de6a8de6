// SPDX-License-Identifier: MIT
/*
 * Known answers for the simulator's SEV transport, so a session or packet
 * made against the simulator is byte-exact with AMD's firmware. The KDF,
 * HMAC and session vectors are virtee/sev's (src/session/key.rs tests
 * derive() and mac(), src/session/mod.rs test initialized::session()),
 * which match sev-tool and AMD-ASPFW's nist_kdf.c; docs/simulator.md,
 * "Transport", lists each rule with its source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim-internal.h"

/* virtee/sev key.rs derive(): KDF(16 zero bytes, "sev-master-secret",
 * context = 16 zero bytes) with counter and length little-endian. (With
 * them big-endian the answer would be f59381edcaa1a33dee5d2aa45cce3fee.) */
static void kdf_counter_and_length_little_endian(void **state)
{
	static const uint8_t want[16] = {
		0xab, 0x4d, 0x26, 0x9f, 0xcc, 0x62, 0xbe, 0xdb,
		0x45, 0x11, 0xd5, 0x6c, 0x38, 0x6c, 0xe7, 0x06,
	};
	uint8_t key[16] = { 0 }, ctx[16] = { 0 }, out[16];

	(void)state;
	assert_int_equal(simc_kdf(key, sizeof(key), "sev-master-secret", ctx,
				  sizeof(ctx), out), 0);
	assert_memory_equal(out, want, sizeof(want));
}

/* virtee/sev key.rs mac(): HMAC-SHA256(16 zero bytes, 4 zero bytes), which
 * is also POLICY_MAC for policy 0 under a zero TIK. */
static const uint8_t zero_policy_mac[32] = {
	0xaa, 0x78, 0x55, 0xe1, 0x38, 0x39, 0xdd, 0x76,
	0x7c, 0xd5, 0xda, 0x7c, 0x1f, 0xf5, 0x03, 0x65,
	0x40, 0xc9, 0x26, 0x4b, 0x7a, 0x80, 0x30, 0x29,
	0x31, 0x5e, 0x55, 0x37, 0x52, 0x87, 0xb4, 0xaf,
};

static void hmac_sha256_known_answer(void **state)
{
	uint8_t key[16] = { 0 }, msg[4] = { 0 }, out[32];

	(void)state;
	assert_int_equal(simc_hmac(key, sizeof(key), msg, sizeof(msg), NULL, 0,
				   out), 0);
	assert_memory_equal(out, zero_policy_mac, sizeof(out));
}

/* virtee/sev mod.rs initialized::session(): Z = 16 zero bytes, zero NONCE,
 * WRAP_IV, TEK, TIK and policy: master, KEK and KIK through the KDF,
 * WRAP_TK = AES-128-CTR(KEK, WRAP_IV, TEK || TIK), WRAP_MAC =
 * HMAC(KIK, WRAP_TK), POLICY_MAC = HMAC(TIK, policy). */
static void session_wrap_known_answer(void **state)
{
	static const uint8_t want_tk[32] = {
		0x21, 0x37, 0xbc, 0x7f, 0x9b, 0xb8, 0xbd, 0x7c,
		0x3e, 0x55, 0xa5, 0x76, 0xa1, 0x5d, 0x34, 0x54,
		0xb3, 0x85, 0x6b, 0x8b, 0xa2, 0x7a, 0xfa, 0xdf,
		0x46, 0xdc, 0xfe, 0xe9, 0xf0, 0x2c, 0x02, 0xc4,
	};
	static const uint8_t want_mac[32] = {
		0x31, 0x76, 0xc0, 0x75, 0x27, 0x38, 0xbd, 0x9d,
		0x5e, 0x86, 0x68, 0x95, 0x34, 0x02, 0x0f, 0x52,
		0x8c, 0x08, 0x8f, 0x16, 0x23, 0x88, 0x26, 0xb0,
		0x00, 0xb3, 0x27, 0xde, 0xe6, 0xae, 0xed, 0x7d,
	};
	uint8_t z[16] = { 0 }, zero[16] = { 0 };
	struct sim_session s;

	(void)state;
	memset(&s, 0xee, sizeof(s));
	assert_int_equal(sim_session_wrap(z, sizeof(z), zero, zero, zero, zero,
					  0, &s), 0);
	assert_memory_equal(s.nonce, zero, sizeof(s.nonce));
	assert_memory_equal(s.wrap_iv, zero, sizeof(s.wrap_iv));
	assert_memory_equal(s.wrap_tk, want_tk, sizeof(want_tk));
	assert_memory_equal(s.wrap_mac, want_mac, sizeof(want_mac));
	assert_memory_equal(s.policy_mac, zero_policy_mac,
			    sizeof(zero_policy_mac));
}

/*
 * The packet MAC's input as AMD-ASPFW's sev_channel_hmac() builds it:
 * ctx 0x02 (data) || FLAGS (4, LE) || IV (16) || uncompressed length (4,
 * LE) || transport length (4, LE) || ciphertext. No published vector
 * exists; this one was computed with Python's hmac from that layout, TIK =
 * 00..0f, IV = 10..1f, ciphertext = 20..2f, FLAGS 0.
 */
static void packet_mac_layout(void **state)
{
	static const uint8_t want[32] = {
		0x58, 0x66, 0x26, 0x70, 0x6e, 0x2f, 0x7d, 0x23,
		0xca, 0x35, 0x92, 0xdf, 0x25, 0xf2, 0x5c, 0x34,
		0x0d, 0x95, 0x4f, 0xb6, 0x27, 0xad, 0x85, 0xf0,
		0x2f, 0x42, 0xcc, 0xa8, 0xe0, 0x0d, 0xbc, 0x9e,
	};
	uint8_t tik[16], iv[16], ct[16], mac[32];

	(void)state;
	for (int i = 0; i < 16; i++) {
		tik[i] = (uint8_t)i;
		iv[i] = (uint8_t)(16 + i);
		ct[i] = (uint8_t)(32 + i);
	}
	assert_int_equal(sim_packet_mac(tik, 0, iv, sizeof(ct), ct, mac), 0);
	assert_memory_equal(mac, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kdf_counter_and_length_little_endian),
		cmocka_unit_test(hmac_sha256_known_answer),
		cmocka_unit_test(session_wrap_known_answer),
		cmocka_unit_test(packet_mac_layout),
	};

	return cmocka_run_group_tests_name("sim-kat", tests, NULL, NULL);
}
