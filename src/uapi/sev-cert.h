/* SPDX-License-Identifier: MIT */
/*
 * SEV API certificate formats (spec 55766 appendix C, as transcribed by
 * AMD's sev-tool sevapi.h): the 2084-byte SEV certificate used for PDH, PEK,
 * OCA and CEK, and the variable-size AMD certificate used for ASK and ARK.
 * All integers little-endian. Shared by the library's certificate checks and
 * the simulator, so the layout is written down once.
 */
#ifndef SEVMIG_UAPI_SEV_CERT_H
#define SEVMIG_UAPI_SEV_CERT_H

#include <stddef.h>
#include <stdint.h>

#define SEVMIG_SEV_CERT_SIZE        2084u
#define SEVMIG_SEV_PLAT_CHAIN_SIZE  (3u * SEVMIG_SEV_CERT_SIZE) /* PEK|OCA|CEK */
#define SEVMIG_SEV_SESSION_SIZE     128u
#define SEVMIG_SEV_PACKET_HDR_SIZE  52u
#define SEVMIG_AMD_CERT_HDR_SIZE    64u

/* Key usages. */
#define SEVMIG_USAGE_ARK     0x0000u
#define SEVMIG_USAGE_ASK     0x0013u
#define SEVMIG_USAGE_INVALID 0x1000u
#define SEVMIG_USAGE_OCA     0x1001u
#define SEVMIG_USAGE_PEK     0x1002u
#define SEVMIG_USAGE_PDH     0x1003u
#define SEVMIG_USAGE_CEK     0x1004u

/* Algorithms. */
#define SEVMIG_ALGO_INVALID      0x0000u
#define SEVMIG_ALGO_RSA_SHA256   0x0001u
#define SEVMIG_ALGO_ECDSA_SHA256 0x0002u
#define SEVMIG_ALGO_ECDH_SHA256  0x0003u
#define SEVMIG_ALGO_RSA_SHA384   0x0101u
#define SEVMIG_ALGO_ECDSA_SHA384 0x0102u
#define SEVMIG_ALGO_ECDH_SHA384  0x0103u

/* Curves in the ECDSA/ECDH key area. */
#define SEVMIG_CURVE_P256 1u
#define SEVMIG_CURVE_P384 2u

#define SEVMIG_ECC_PARAM_SIZE 72u   /* qx, qy, r, s: little-endian, zero-padded */
#define SEVMIG_RSA_MAX_BYTES  512u  /* 4096 bits */

struct sevmig_sev_rsa_pubkey {
	uint32_t modulus_size_bits;
	uint8_t pub_exp[SEVMIG_RSA_MAX_BYTES];
	uint8_t modulus[SEVMIG_RSA_MAX_BYTES];
} __attribute__((packed));

struct sevmig_sev_ecc_pubkey {
	uint32_t curve;
	uint8_t qx[SEVMIG_ECC_PARAM_SIZE];
	uint8_t qy[SEVMIG_ECC_PARAM_SIZE];
	uint8_t reserved[880];
} __attribute__((packed));

union sevmig_sev_pubkey {
	struct sevmig_sev_rsa_pubkey rsa;
	struct sevmig_sev_ecc_pubkey ecc;
	uint8_t raw[1028];
};

struct sevmig_sev_ecdsa_sig {
	uint8_t r[SEVMIG_ECC_PARAM_SIZE];
	uint8_t s[SEVMIG_ECC_PARAM_SIZE];
	uint8_t reserved[368];
} __attribute__((packed));

union sevmig_sev_sig {
	uint8_t rsa[SEVMIG_RSA_MAX_BYTES];
	struct sevmig_sev_ecdsa_sig ecdsa;
	uint8_t raw[512];
};

struct sevmig_sev_cert {
	uint32_t version;          /* 1 */
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t reserved0;
	uint8_t reserved1;
	uint32_t pub_key_usage;
	uint32_t pub_key_algo;
	union sevmig_sev_pubkey pub_key;
	uint32_t sig1_usage;
	uint32_t sig1_algo;
	union sevmig_sev_sig sig1;
	uint32_t sig2_usage;
	uint32_t sig2_algo;
	union sevmig_sev_sig sig2;
} __attribute__((packed));

_Static_assert(sizeof(struct sevmig_sev_rsa_pubkey) == 1028, "rsa pubkey");
_Static_assert(sizeof(struct sevmig_sev_ecc_pubkey) == 1028, "ecc pubkey");
_Static_assert(sizeof(struct sevmig_sev_ecdsa_sig) == 512, "ecdsa sig");
_Static_assert(sizeof(struct sevmig_sev_cert) == SEVMIG_SEV_CERT_SIZE, "cert");
_Static_assert(offsetof(struct sevmig_sev_cert, pub_key) == 16, "pub_key");
_Static_assert(offsetof(struct sevmig_sev_cert, sig1_usage) == 1044, "sig1");
_Static_assert(offsetof(struct sevmig_sev_cert, sig2_usage) == 1564, "sig2");

/*
 * The signed part of an SEV certificate: everything before sig1_usage
 * (version through pub_key), 1044 bytes.
 */
#define SEVMIG_SEV_CERT_SIGNED_SIZE 1044u

/*
 * AMD certificate (ASK, ARK): this fixed header, then pub_exp
 * (pub_exp_size_bits / 8 bytes), modulus (modulus_size_bits / 8) and the
 * signature (the signer's modulus size / 8). The signed part is the header,
 * pub_exp and modulus. key_id/certifying_id link a certificate to its signer
 * (the ARK certifies itself).
 */
struct sevmig_amd_cert_hdr {
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
_Static_assert(sizeof(struct sevmig_amd_cert_hdr) == SEVMIG_AMD_CERT_HDR_SIZE,
	       "amd cert header");

/* ASK|ARK chain sizes the firmware accepts (2K/4K ASK x 2K/4K ARK). */
#define SEVMIG_AMD_CHAIN_2K_2K 1664u
#define SEVMIG_AMD_CHAIN_4K_2K 2176u
#define SEVMIG_AMD_CHAIN_2K_4K 2688u
#define SEVMIG_AMD_CHAIN_4K_4K 3200u

/* Guest policy bits (spec 55766 section 3). */
#define SEVMIG_POLICY_NODBG   (1u << 0)
#define SEVMIG_POLICY_NOKS    (1u << 1)
#define SEVMIG_POLICY_ES      (1u << 2)
#define SEVMIG_POLICY_NOSEND  (1u << 3)
#define SEVMIG_POLICY_DOMAIN  (1u << 4)
#define SEVMIG_POLICY_SEV     (1u << 5)
#define SEVMIG_POLICY_RESERVED 0x0000ffc0u   /* bits 6-15 must be zero */
#define SEVMIG_POLICY_API_MAJOR(p) (((p) >> 16) & 0xffu)
#define SEVMIG_POLICY_API_MINOR(p) (((p) >> 24) & 0xffu)

#endif /* SEVMIG_UAPI_SEV_CERT_H */
