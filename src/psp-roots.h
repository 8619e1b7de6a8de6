/* SPDX-License-Identifier: MIT */
/*
 * Private: what anchors trust in a target's certificates (psp-roots.c):
 * the AMD root keys and the context's signature verifier, used by the
 * target checks in psp-preflight.c.
 */
#ifndef SEVMIG_PSP_ROOTS_H
#define SEVMIG_PSP_ROOTS_H

#include "internal.h"

/*
 * Is the ARK at @ark (parsed as @info, length info->length) a genuine AMD
 * root or one added to @ctx? 0 with *origin = SEVMIG_ARK_*, or -ENOKEY
 * logged at ERR ("@what: ..." with the key id).
 */
int sevmig_ark_identify(const struct sevmig_ctx *ctx, const char *what,
			const uint8_t *ark, const struct sevmig_cert_info *info,
			uint32_t *origin);

/*
 * A target chain for signature checks: each piece points into the caller's
 * buffers, or is NULL when absent or malformed (its links are then skipped:
 * the structural checks already gave their reason).
 */
struct sevmig_chain_view {
	const uint8_t *pdh, *pek, *oca, *cek;	/* 2084 bytes each */
	const uint8_t *ask, *ark;
	size_t ask_len, ark_len;
};

/*
 * Verify ARK -> ASK, ASK -> CEK, CEK -> PEK, OCA -> PEK, PEK -> PDH with the
 * context's verifier. Returns SEVMIG_REASON_TARGET_SIGNATURE when a link
 * failed (each failure logged at ERR, naming the link), else 0. Without a
 * verifier returns 0 and says at INFO that the firmware will check them.
 */
uint64_t sevmig_chain_verify(const struct sevmig_ctx *ctx,
			     const struct sevmig_chain_view *v);

#endif /* SEVMIG_PSP_ROOTS_H */
