/* SPDX-License-Identifier: MIT */
/*
 * SEV API certificate formats (spec 55766 appendix C, as transcribed by
 * AMD's sev-tool sevapi.h): the 2084-byte SEV certificate used for PDH, PEK,
 * OCA and CEK, and the variable-size AMD certificate used for ASK and ARK.
 * All integers little-endian. Shared by the library's certificate checks and
 * the simulator, so the layout is written down once.
 */
#ifndef UAPI_SEV_CERT_H
#define UAPI_SEV_CERT_H

#include <stddef.h>
#include <stdint.h>

/* Sizes, usages, algorithms, curves and policy bits are public constants. */
#include <sevmig/sevmig.h>

#define AMD_CERT_HDR_SIZE    64u

/* Algorithm field of an unused signature area. */
#define SEV_CERT_ALGO_INVALID 0x0000u

#define SEV_ECC_PARAM_SIZE 72u   /* qx, qy, r, s: little-endian, zero-padded */
#define SEV_RSA_MAX_BYTES  512u  /* 4096 bits */

struct sev_rsa_pubkey {
	uint32_t modulus_size_bits;
	uint8_t pub_exp[SEV_RSA_MAX_BYTES];
	uint8_t modulus[SEV_RSA_MAX_BYTES];
} __attribute__((packed));

struct sev_ecc_pubkey {
	uint32_t curve;
	uint8_t qx[SEV_ECC_PARAM_SIZE];
	uint8_t qy[SEV_ECC_PARAM_SIZE];
	uint8_t reserved[880];
} __attribute__((packed));

union sev_pubkey {
	struct sev_rsa_pubkey rsa;
	struct sev_ecc_pubkey ecc;
	uint8_t raw[1028];
};

struct sev_ecdsa_sig {
	uint8_t r[SEV_ECC_PARAM_SIZE];
	uint8_t s[SEV_ECC_PARAM_SIZE];
	uint8_t reserved[368];
} __attribute__((packed));

union sev_sig {
	uint8_t rsa[SEV_RSA_MAX_BYTES];
	struct sev_ecdsa_sig ecdsa;
	uint8_t raw[512];
};

struct sev_cert {
	uint32_t version;          /* 1 */
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t reserved0;
	uint8_t reserved1;
	uint32_t pub_key_usage;
	uint32_t pub_key_algo;
	union sev_pubkey pub_key;
	uint32_t sig1_usage;
	uint32_t sig1_algo;
	union sev_sig sig1;
	uint32_t sig2_usage;
	uint32_t sig2_algo;
	union sev_sig sig2;
} __attribute__((packed));

_Static_assert(sizeof(struct sev_rsa_pubkey) == 1028, "rsa pubkey");
_Static_assert(sizeof(struct sev_ecc_pubkey) == 1028, "ecc pubkey");
_Static_assert(sizeof(struct sev_ecdsa_sig) == 512, "ecdsa sig");
_Static_assert(sizeof(struct sev_cert) == SEVMIG_SEV_CERT_LEN, "cert");
_Static_assert(offsetof(struct sev_cert, pub_key) == 16, "pub_key");
_Static_assert(offsetof(struct sev_cert, sig1_usage) == 1044, "sig1");
_Static_assert(offsetof(struct sev_cert, sig2_usage) == 1564, "sig2");

/*
 * The signed part of an SEV certificate: everything before sig1_usage
 * (version through pub_key), 1044 bytes.
 */
#define SEV_CERT_SIGNED_SIZE 1044u

/*
 * AMD certificate (ASK, ARK): this fixed header, then pub_exp
 * (pub_exp_size_bits / 8 bytes), modulus (modulus_size_bits / 8) and the
 * signature (the signer's modulus size / 8). The signed part is the header,
 * pub_exp and modulus. key_id/certifying_id link a certificate to its signer
 * (the ARK certifies itself).
 */
struct amd_cert_hdr {
	uint32_t version;          /* 1 */
	uint64_t key_id_0;
	uint64_t key_id_1;
	uint64_t certifying_id_0;
	uint64_t certifying_id_1;
	uint32_t key_usage;        /* ARK 0x0, ASK 0x13 */
	uint64_t reserved0;
	uint64_t reserved1;
	uint32_t pub_exp_size_bits;
	uint32_t modulus_size_bits;
} __attribute__((packed));
_Static_assert(sizeof(struct amd_cert_hdr) == AMD_CERT_HDR_SIZE,
	       "amd cert header");

/* ASK|ARK chain sizes the firmware accepts (2K/4K ASK x 2K/4K ARK). */
#define AMD_CHAIN_2K_2K 1664u
#define AMD_CHAIN_4K_2K 2176u
#define AMD_CHAIN_2K_4K 2688u
#define AMD_CHAIN_4K_4K 3200u

/* Minimum firmware API version a guest policy asks for (bits 16-31). */
#define SEV_POLICY_API_MAJOR(p) (((p) >> 16) & 0xffu)
#define SEV_POLICY_API_MINOR(p) (((p) >> 24) & 0xffu)

#endif /* UAPI_SEV_CERT_H */
