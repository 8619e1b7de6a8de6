/* SPDX-License-Identifier: MIT */
/* Private: certificate parsing shared by cert.c and preflight.c. */
#ifndef SEVMIG_CERT_H
#define SEVMIG_CERT_H

#include "internal.h"

/* Parse one 2084-byte SEV certificate; -EBADMSG (logged with @what). */
int sevmig_cert_parse_sev(struct sevmig_ctx *ctx, const char *what,
			  const void *buf, size_t len,
			  struct sevmig_cert_info *info);
/*
 * Parse one AMD certificate at the start of @buf (@avail bytes). With
 * @sig_len 0 the signature size is inferred (ARK: its own modulus; ASK: the
 * rest of @avail, 256 or 512). Fills info->length.
 */
int sevmig_cert_parse_amd(struct sevmig_ctx *ctx, const char *what,
			  const void *buf, size_t avail, size_t sig_len,
			  struct sevmig_cert_info *info);
/* Parse ASK || ARK; -EBADMSG (sizes, usages) or -ENOLINK (ids do not link). */
int sevmig_amd_chain_parse(struct sevmig_ctx *ctx, const void *buf, size_t len,
			   struct sevmig_cert_info *ask,
			   struct sevmig_cert_info *ark);
/* Policy API minimum vs a version: true when (major, minor) is too old. */
bool sevmig_api_older(uint32_t major, uint32_t minor, uint32_t policy);

#endif /* SEVMIG_CERT_H */
